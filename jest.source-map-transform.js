// Leaves the compiled JavaScript as it is and returns the source map tsc wrote beside it, with the
// TypeScript text inlined, so jest's v8 coverage maps the code it actually ran (shebang stripped)
// to TypeScript lines. Hand-written: jest's own transforms compile sources, none passes compiled
// files through with their existing maps.
const { readFileSync } = require("node:fs");
const { dirname, resolve } = require("node:path");

function sourceMapOf(file) {
  let map;
  try {
    map = JSON.parse(readFileSync(`${file}.map`, "utf8"));
  } catch (error) {
    if (error.code === "ENOENT") return undefined;
    throw error;
  }
  const root = resolve(dirname(file), map.sourceRoot ?? "");
  map.sourcesContent ??= map.sources.map((source) => readFileSync(resolve(root, source), "utf8"));
  return map;
}

module.exports = {
  process(code, file) {
    const map = sourceMapOf(file);
    return map === undefined ? { code } : { code, map };
  },
};
