// One jest config for every package, on both paths: pnpm runs it with
// `--rootDir <package>`, rules_jest sets rootDir to the target's package.
// Tests are compiled by tsc first (test/x.test.ts -> dist/test/x.test.js), so jest only ever sees
// JavaScript. testRegex, not testMatch: rules_jest turns `--test_filter` into a testRegex, and jest
// refuses a config with both.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  testRegex: "/dist/test/.+\\.test\\.js$",
  // Already JavaScript: babel-jest, the default transform, would only re-parse every file (about a
  // third of a small suite's time). Nothing here relies on its jest.mock hoisting.
  transform: {},
  // Many tests start real processes (node CLIs, servers, pnpm); on a busy shared runner a start alone
  // can pass jest's 5 s default, so a test fails on time only when it is truly stuck.
  testTimeout: 30_000,
};
