// The trading performance suite (SPEC: a generated 1,000,000-stock data set) is its
// own target, outside the default run: it matches *.perf.js, which jest.config.js
// does not, so `pnpm test` never pays for it. Run it with `pnpm -F <pkg> test:perf`.
// Tests are compiled by tsc first, so jest only ever sees JavaScript.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // A regex, not testMatch: rules_jest turns `bazel test --test_filter=X` into testRegex X, and jest
  // refuses a config that sets both.
  testRegex: "/test/.+\\.perf\\.js$",
  // Already JavaScript: babel-jest, the default transform, would only re-parse every file (about a
  // third of a small suite's time). Nothing here relies on its jest.mock hoisting.
  transform: {},
  // A million stocks take minutes on a small CI machine; the suite asserts results, not speed.
  testTimeout: 30 * 60 * 1000,
};
