// The trading performance suite (a generated 1,000,000-stock data set) is its
// own target, outside the default run: it matches dist/test/*.perf.js, which jest.config.js
// does not, so `pnpm test` never pays for it. Run it with `pnpm -F <pkg> test:perf`.
// Tests are compiled by tsc first (test/x.perf.ts -> dist/test/x.perf.js), so jest only ever sees
// JavaScript. testRegex, not testMatch: see jest.config.js.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  testRegex: "/dist/test/.+\\.perf\\.js$",
  // Already JavaScript: babel-jest, the default transform, would only re-parse every file (about a
  // third of a small suite's time). Nothing here relies on its jest.mock hoisting.
  transform: {},
  // A million stocks take minutes on a small CI machine; the suite asserts results, not speed.
  testTimeout: 30 * 60 * 1000,
};
