/**
 * The files the Bazel rules generate around a jest_test, written from what the pinned rules do
 * (rules_js 3.4.1's launcher and node wrapper, rules_jest 0.26.0's config wrapper and haste map):
 * the behaviour a test can tell apart from a plain `jest` run, not a copy of their code.
 */

/**
 * `process.execPath` inside a rules_js test: a bash script that starts the real node only with the
 * launcher's variables. Under `set -o nounset`, a child started with a cleared environment stops
 * with "JS_BINARY__NODE_BINARY: unbound variable", as it does under Bazel.
 */
export function nodeWrapperScript(): string {
  return `#!/usr/bin/env bash
set -o pipefail -o errexit -o nounset
exec "$JS_BINARY__NODE_BINARY" --require "$JS_BINARY__NODE_PATCHES" "$@"
`;
}

/** Required into every node the launcher or the wrapper starts: it makes the wrapper process.execPath. */
export function bootstrapScript(): string {
  return `"use strict";
process.env.JS_BINARY__NODE_PATCHES_DEPTH = (process.env.JS_BINARY__NODE_PATCHES_DEPTH || "") + ".";
process.argv[0] = process.execPath = process.env.JS_BINARY__NODE_WRAPPER;
`;
}

/**
 * A jest haste map that knows only the files of the targets in the test's `data` (read from a JSON
 * list of runfiles paths) instead of walking the folders, as rules_jest's does. It extends the
 * jest-haste-map that jest-cli's own @jest/core uses.
 */
export function hasteMapModule(fileListShortPath: string): string {
  return `"use strict";
const fs = require("node:fs");
const path = require("node:path");

const jestCli = path.dirname(require.resolve("jest-cli/package.json"));
const jestCore = path.dirname(require.resolve("@jest/core/package.json", { paths: [jestCli] }));
const HasteMap = require(require.resolve("jest-haste-map", { paths: [jestCore] })).default;

const runfiles = path.join(process.env.TEST_SRCDIR, process.env.TEST_WORKSPACE);
const declared = JSON.parse(fs.readFileSync(path.join(runfiles, ${JSON.stringify(fileListShortPath)}), "utf8"));

module.exports = class DeclaredFilesHasteMap extends HasteMap {
  constructor(options) {
    // No cache: each test run starts from its declared files.
    super({ ...options, resetCache: true, computeDependencies: false, dependencyExtractor: null });
  }

  _persist() {}

  async _crawl(hasteMap) {
    const { extensions, rootDir } = this._options;
    const files = new Map();
    for (const shortPath of declared) {
      const file = path.join(runfiles, shortPath);
      if (!extensions.includes(path.extname(file).slice(1)) || this._ignore(file)) continue;
      files.set(path.relative(rootDir, file), ["", 0, 0, 0, "", null]);
    }
    hasteMap.files = files;
    return { hasteMap, removedFiles: new Map() };
  }
};
`;
}

export interface JestConfigPaths {
  /** Runfiles paths (relative to the workspace's runfiles folder). */
  userConfig?: string;
  rootDir: string;
  pkg: string;
  hasteMap: string;
}

/**
 * The config jest is started with, shaped like the wrapper rules_jest generates: the user's config,
 * then rootDir and roots in the runfiles tree, the declared-files haste map with symlinks followed,
 * no watch and no cache, the default and jest-junit reporters (JUnit to XML_OUTPUT_FILE), and
 * Bazel's --test_filter (TESTBRIDGE_TEST_ONLY) as testRegex.
 */
export function jestConfigModule(paths: JestConfigPaths): string {
  return `import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const runfiles = path.join(process.env.TEST_SRCDIR, process.env.TEST_WORKSPACE);
const inRunfiles = (shortPath) => path.join(runfiles, shortPath);
const userConfig = ${JSON.stringify(paths.userConfig ?? "")};

async function loadUserConfig() {
  if (!userConfig) return {};
  const file = inRunfiles(userConfig);
  if (file.endsWith(".json")) return JSON.parse(fs.readFileSync(file, "utf8"));
  const exported = (await import(pathToFileURL(file).href)).default;
  return typeof exported === "function" ? await exported() : exported;
}

function withReporter(reporters, reporter) {
  const name = Array.isArray(reporter) ? reporter[0] : reporter;
  const present = reporters.some((entry) => (Array.isArray(entry) ? entry[0] : entry) === name);
  return present ? reporters : [...reporters, reporter];
}

export default async function config() {
  const config = { ...(await loadUserConfig()) };
  if (config.projects && config.projects.length > 0) {
    console.error(\`WARNING: jest_test \${process.env.TEST_TARGET}: "projects" bypasses the reporters, haste map and test filter set here\`);
  }
  const rootDir = inRunfiles(${JSON.stringify(paths.rootDir)});
  config.rootDir = config.rootDir ? path.resolve(rootDir, config.rootDir) : rootDir;
  config.roots ||= [inRunfiles(${JSON.stringify(paths.pkg)})];
  config.cacheDirectory ||= path.join(process.env.TEST_TMPDIR, "jest_cache");
  config.haste = {
    enableSymlinks: true,
    forceNodeFilesystemAPI: true,
    hasteMapModulePath: inRunfiles(${JSON.stringify(paths.hasteMap)}),
    computeSha1: false,
    ...config.haste,
  };
  config.watchman = false;
  config.watch = config.watchAll = false;
  config.cache = false;
  config.onlyChanged = false;
  config.reporters = withReporter(withReporter(config.reporters || [], "default"), ["jest-junit", { outputFile: process.env.XML_OUTPUT_FILE }]);
  if (process.env.TESTBRIDGE_TEST_ONLY) config.testRegex = process.env.TESTBRIDGE_TEST_ONLY;
  return config;
}
`;
}
