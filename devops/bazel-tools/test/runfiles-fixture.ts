import fs from "node:fs";
import path from "node:path";
import { makeWorkspace } from "./fixtures";

/**
 * A small pnpm workspace with one jest_test per way a test passes from the source tree and fails
 * under Bazel's runfiles layout, plus one that passes in both and one that is flaky. The compiled
 * JavaScript is written directly (what `pnpm build` would emit); jest-cli and jest-junit are the
 * checkout's own packages, linked as pnpm links them.
 */
export function runfilesWorkspace(): string {
  const root = makeWorkspace({
    "MODULE.bazel": 'module(name = "fixture")\n',
    "pnpm-workspace.yaml": "packages:\n  - common/*\n",
    "package.json": { name: "fixture", private: true, devDependencies: { "jest-cli": "30.5.2", "jest-junit": "17.0.0" } },
    "BUILD.bazel": `npm_link_all_packages(name = "node_modules")

js_library(name = "jest_config", srcs = ["jest.config.js"], visibility = ["//visibility:public"])
`,
    "jest.config.js": 'module.exports = { testEnvironment: "node", testRegex: "/test/.+\\\\.test\\\\.js$", transform: {} };\n',
    ".bazelrc": "test --flaky_test_attempts=//common/flaky:test$@3\ntest --test_env=FLAKY_COUNTER\n",

    // A library with a data file that it finds from its own compiled file, compiled into dist/.
    "common/lib/package.json": { name: "@fx/lib", main: "dist/src/index.js" },
    "common/lib/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "tsc", srcs = ["src/index.ts"], data = ["data.json"], out_dir = "dist")

js_library(name = "pkg", srcs = ["package.json"], deps = [":tsc"], visibility = ["//visibility:public"])
`,
    "common/lib/dist/src/index.js":
      'const path = require("node:path");\nexports.DATA_FILE = path.join(__dirname, "..", "..", "data.json");\nexports.greeting = () => "hello";\n',
    "common/lib/data.json": { greeting: "hello" },

    // Passes in both layouts; a manual target beside it that names a file nobody built.
    "common/good/package.json": { name: "@fx/good", dependencies: { "@fx/lib": "workspace:*" } },
    "common/good/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "test_ts", srcs = ["test/first.test.ts", "test/second.test.ts"], deps = [":node_modules/@fx/lib"])

jest_test(name = "test", config = "//:jest_config", data = [":test_ts"], node_modules = "//:node_modules")

jest_test(name = "manual_test", config = "//:jest_config", data = [":test_ts", "never-built.js"], node_modules = "//:node_modules", tags = ["manual"])
`,
    "common/good/test/first.test.js": `const fs = require("node:fs");
const { DATA_FILE, greeting } = require("@fx/lib");
test("reads the library's data file through the path the library gives", () => {
  expect(JSON.parse(fs.readFileSync(DATA_FILE, "utf8")).greeting).toBe(greeting());
});
`,
    "common/good/test/second.test.js": `const path = require("node:path");
test("sees Bazel's test environment and rules_js's node wrapper", () => {
  expect(process.env.HOME).toBe(process.env.TEST_TMPDIR);
  expect(process.cwd()).toBe(path.join(process.env.TEST_SRCDIR, process.env.TEST_WORKSPACE));
  expect(process.env.TEST_TARGET).toBe("//common/good:test");
  expect(process.env.PATH.split(":")[0]).toBe(path.dirname(process.execPath));
  expect(process.execPath).not.toBe(process.env.JS_BINARY__NODE_BINARY);
});
`,

    // Compares a path its code derived from __dirname with one the test derived from its own.
    "common/dirname/package.json": { name: "@fx/dirname" },
    "common/dirname/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "tsc", srcs = ["src/paths.ts"], data = ["data.json"])

ts_project(name = "test_ts", srcs = ["test/paths.test.ts"], deps = [":tsc"])

jest_test(name = "test", config = "//:jest_config", data = [":test_ts", ":tsc"], node_modules = "//:node_modules")
`,
    "common/dirname/src/paths.js": 'exports.DATA_FILE = require("node:path").join(__dirname, "..", "data.json");\n',
    "common/dirname/data.json": {},
    "common/dirname/test/paths.test.js": `const path = require("node:path");
const { DATA_FILE } = require("../src/paths");
test("finds the data file beside src/", () => {
  expect(DATA_FILE).toBe(path.resolve(__dirname, "..", "data.json"));
});
`,

    // Starts node with an environment of its own.
    "common/bare-env/package.json": { name: "@fx/bare-env" },
    "common/bare-env/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "test_ts", srcs = ["test/child.test.ts"])

jest_test(name = "test", config = "//:jest_config", data = [":test_ts"], node_modules = "//:node_modules")
`,
    "common/bare-env/test/child.test.js": `const { spawnSync } = require("node:child_process");
test("runs node with only the variables it names", () => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write('ran')"], { env: { GIVEN: "1" }, encoding: "utf8" });
  expect(child.stderr).toBe("");
  expect(child.stdout).toBe("ran");
});
`,

    // Writes a result next to itself.
    "common/writes/package.json": { name: "@fx/writes" },
    "common/writes/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "test_ts", srcs = ["test/writes.test.ts"])

jest_test(name = "test", config = "//:jest_config", data = [":test_ts"], node_modules = "//:node_modules")
`,
    "common/writes/test/writes.test.js": `const fs = require("node:fs");
const path = require("node:path");
test("keeps its result beside the test", () => {
  fs.writeFileSync(path.join(__dirname, "result.txt"), "done");
});
`,

    // Imports a package its package.json lists (so pnpm linked it) but its BUILD file does not.
    "common/undeclared/package.json": { name: "@fx/undeclared", dependencies: { "@fx/lib": "workspace:*" } },
    "common/undeclared/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "test_ts", srcs = ["test/uses-lib.test.ts"])

jest_test(name = "test", config = "//:jest_config", data = [":test_ts"], node_modules = "//:node_modules")
`,
    "common/undeclared/test/uses-lib.test.js": `const { greeting } = require("@fx/lib");
test("greets", () => {
  expect(greeting()).toBe("hello");
});
`,

    // Fails twice, then passes: a counter outside the runfiles tree, named by --test_env.
    "common/flaky/package.json": { name: "@fx/flaky" },
    "common/flaky/BUILD.bazel": `npm_link_all_packages(name = "node_modules")

ts_project(name = "test_ts", srcs = ["test/flaky.test.ts"])

jest_test(name = "test", config = "//:jest_config", data = [":test_ts"], flaky = True, node_modules = "//:node_modules")
`,
    "common/flaky/test/flaky.test.js": `const fs = require("node:fs");
test("passes from the third attempt on", () => {
  const file = process.env.FLAKY_COUNTER;
  const attempt = (fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8")) : 0) + 1;
  fs.writeFileSync(file, String(attempt));
  expect(attempt).toBeGreaterThanOrEqual(3);
});
`,
  });
  const link = (at: string, target: string) => {
    fs.mkdirSync(path.dirname(path.join(root, at)), { recursive: true });
    fs.symlinkSync(target, path.join(root, at));
  };
  // As `pnpm install` links them: the root's tools into its virtual store, workspace packages to their folders.
  link("node_modules/jest-cli", path.dirname(require.resolve("jest-cli/package.json")));
  link("node_modules/jest-junit", path.dirname(require.resolve("jest-junit/package.json")));
  link("common/good/node_modules/@fx/lib", "../../../lib");
  link("common/undeclared/node_modules/@fx/lib", "../../../lib");
  return root;
}
