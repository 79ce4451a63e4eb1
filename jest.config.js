// One jest config for every package, on both paths: pnpm runs it with
// `--rootDir <package>`, rules_jest sets rootDir to the target's package.
// Tests are compiled by tsc first, so jest only ever sees JavaScript.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // A regex, not testMatch: rules_jest turns `bazel test --test_filter=X` into testRegex X, and jest
  // refuses a config that sets both.
  testRegex: "/test/.+\\.test\\.js$",
  // Already JavaScript: babel-jest, the default transform, would only re-parse every file (about a
  // third of a small suite's time). Nothing here relies on its jest.mock hoisting.
  transform: {},
};
