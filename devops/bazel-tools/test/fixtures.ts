import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const tempDirs: string[] = [];

/** A new empty directory, removed once the test file that asked for it is done. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// Registered when a test file imports these fixtures, so it runs after that file's tests.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a throwaway workspace: `files` maps relative paths to contents (objects become JSON). */
export function makeWorkspace(files: Record<string, string | object>): string {
  const root = tempDir("bazel-tools-");
  for (const [file, content] of Object.entries(files)) {
    const abs = path.join(root, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

type Manifest = { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; [key: string]: unknown };

/** A pnpm 10 lockfile whose importers match the given manifests (what `pnpm install` would record). */
export function lockfileFor(manifests: Record<string, Manifest>, lockfileVersion = "'9.0'"): string {
  const lines = [
    `lockfileVersion: ${lockfileVersion}`,
    "",
    "settings:",
    "  autoInstallPeers: true",
    "  excludeLinksFromLockfile: false",
    "",
    "importers:",
  ];
  for (const [dir, manifest] of Object.entries(manifests)) {
    lines.push("", `  ${dir}:`);
    for (const field of ["dependencies", "devDependencies"] as const) {
      const deps = Object.entries(manifest[field] ?? {});
      if (deps.length === 0) continue;
      lines.push(`    ${field}:`);
      for (const [name, specifier] of deps) {
        const version = specifier.startsWith("workspace:")
          ? `link:${path.posix.relative(dir, Object.entries(manifests).find(([, m]) => m.name === name)![0])}`
          : specifier;
        lines.push(`      '${name}':`, `        specifier: ${specifier}`, `        version: ${version}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

export const FIXTURE_MODULE = `"""Fixture module."""

module(name = "fixture")

bazel_dep(name = "aspect_rules_jest", version = "0.26.0")
bazel_dep(name = "aspect_rules_js", version = "3.4.1")
bazel_dep(name = "aspect_rules_ts", version = "3.10.1")
bazel_dep(name = "bazel_skylib", version = "1.9.2")
bazel_dep(name = "platforms", version = "1.1.0")
bazel_dep(name = "rules_nodejs", version = "6.7.5")

node = use_extension("@rules_nodejs//nodejs:extensions.bzl", "node")
node.toolchain(node_version = "22.22.2")

npm = use_extension("@aspect_rules_js//npm:extensions.bzl", "npm")
npm.npm_translate_lock(
    name = "npm",
    pnpm_lock = "//:pnpm-lock.yaml",
)
use_repo(npm, "npm")

typescript = use_extension("@aspect_rules_ts//ts:extensions.bzl", "typescript")
typescript.deps(version_from = "//:package.json")
use_repo(typescript, "npm_typescript")
`;

export const FIXTURE_BAZELRC = `common --incompatible_strict_action_env
common --noremote_upload_local_results
common --test_output=errors
common --@aspect_rules_ts//ts:default_to_tsc_transpiler
common --@aspect_rules_ts//ts:skipLibCheck=honor_tsconfig
common --repo_env=ASPECT_TOOLS_TELEMETRY=-all
test --test_env=SIMULATION_TIME_SCALE=0.01
# >>> generated from test-targets.json by \`pnpm bazel:generate\`; edit test-targets.json, not these lines
# <<< generated from test-targets.json
common:remote-cache --remote_cache=http://127.0.0.1:9091
common:ci --remote_upload_local_results
common:ci --build_event_json_file=bazel-bep.json
try-import %workspace%/user.bazelrc
`;

const TYPES = { "@types/jest": "30.0.0", "@types/node": "20.19.43" };

export const FIXTURE_MANIFESTS: Record<string, Manifest> = {
  ".": {
    name: "fixture",
    private: true,
    devDependencies: { "jest-cli": "30.5.2", "jest-junit": "17.0.0", typescript: "5.9.3", ...TYPES },
  },
  "common/logger": { name: "@monorepo/logger", main: "dist/src/index.js", devDependencies: TYPES },
  "services/user": {
    name: "@monorepo/user-service",
    main: "dist/src/index.js",
    dependencies: { "@monorepo/logger": "workspace:*", "@types/express": "5.0.6", express: "5.3.0" },
    devDependencies: TYPES,
  },
};

/** A package's tsconfig.json as the repository has it: outputs in dist/, a composite project. */
export const PACKAGE_TSCONFIG = {
  extends: "../../tsconfig.base.json",
  compilerOptions: { outDir: "dist", composite: true, rootDirs: [".", "dist"] },
  include: ["src", "test"],
};

/**
 * A small repository shaped like the real one and ready for Bazel: a library (logger) and a
 * service (user) that uses it and express, with tests, a helper, a flaky test, a perf suite and a
 * data file; root MODULE.bazel, .bazelrc, lockfile and configs. `bazelReady` also generates its
 * BUILD files, so every check starts from zero findings and a test breaks one thing.
 */
export function bazelWorkspace(extra: Record<string, string | object> = {}): string {
  const manifests = Object.fromEntries(
    Object.entries(FIXTURE_MANIFESTS).map(([dir, m]) => [dir === "." ? "package.json" : `${dir}/package.json`, m]),
  );
  return makeWorkspace({
    "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\nonlyBuiltDependencies: []\nhoist: false\n",
    "pnpm-lock.yaml": lockfileFor(FIXTURE_MANIFESTS),
    ...manifests,
    "tsconfig.base.json": { compilerOptions: { module: "commonjs", strict: true, declaration: true, sourceMap: true } },
    "jest.config.js": 'module.exports = { testRegex: "/dist/test/.+\\\\.test\\\\.js$" };\n',
    "jest.perf.config.js": 'module.exports = { testRegex: "/dist/test/.+\\\\.perf\\\\.js$" };\n',
    "test-targets.json": { "//services/user:test": { attempts: 4, why: "fails one run in four by design" } },
    "MODULE.bazel": FIXTURE_MODULE,
    ".bazelversion": "8.7.0\n",
    "REPO.bazel": '"""Fixture."""\n\nignore_directories(["**/node_modules"])\n',
    ".bazelrc": FIXTURE_BAZELRC,
    "common/logger/tsconfig.json": PACKAGE_TSCONFIG,
    "common/logger/src/index.ts": 'import fs from "node:fs";\nexport const exists = (p: string) => fs.existsSync(p);\n',
    "common/logger/test/logger.test.ts": 'import { exists } from "../src";\nit("works", () => expect(exists(".")).toBe(true));\n',
    "services/user/tsconfig.json": { ...PACKAGE_TSCONFIG, references: [{ path: "../../common/logger" }] },
    "services/user/user.json": { "1": { id: 1 } },
    "services/user/src/index.ts":
      'import express from "express";\nimport { exists } from "@monorepo/logger";\nexport const createApp = () => (exists(".") ? express() : undefined);\n',
    "services/user/src/main.ts": 'import { createApp } from "./index";\ncreateApp()?.listen(3000);\n',
    "services/user/test/helpers.ts": 'export { createApp } from "../src/index";\n',
    "services/user/test/app.test.ts": 'import { createApp } from "./helpers";\nit("builds", () => expect(createApp()).toBeDefined());\n',
    "services/user/test/load.perf.ts": 'import { createApp } from "./helpers";\nit("is fast", () => expect(createApp()).toBeDefined());\n',
    ...extra,
  });
}

/** Overwrites (or, with undefined, deletes) files of a fixture. */
export function edit(root: string, files: Record<string, string | object | undefined>): void {
  for (const [file, content] of Object.entries(files)) {
    const abs = path.join(root, file);
    if (content === undefined) {
      fs.rmSync(abs, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
}

/** Replaces `from` with `to` in a fixture file, failing loudly if `from` is not there (so a test cannot silently break nothing). */
export function replaceIn(root: string, file: string, from: string | RegExp, to: string): void {
  const abs = path.join(root, file);
  const text = fs.readFileSync(abs, "utf8");
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file} does not contain ${String(from)}`);
  fs.writeFileSync(abs, next);
}
