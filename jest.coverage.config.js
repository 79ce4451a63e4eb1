// Coverage for `pnpm -F <pkg> coverage`, reported in TypeScript files and lines. V8 records what
// ran, and v8-to-istanbul maps it back through the source maps tsc writes beside each .js file.
// The transform hands jest those maps: read from disk instead, a file that starts with a shebang
// (a CLI entry point) would be mapped off by the shebang's length, since jest strips the shebang
// before it runs the file. Only `collectCoverageFrom` says where the compiled files are.
/** @type {import('jest').Config} */
module.exports = {
  ...require("./jest.config.js"),
  coverageProvider: "v8",
  collectCoverageFrom: ["dist/src/**/*.js"],
  transform: { "\\.js$": require.resolve("./jest.source-map-transform.js") },
  // The transform's output depends on the .map and .ts files beside each .js, which jest's cache
  // key does not cover: a type-only edit changes them and not the .js.
  cache: false,
};
