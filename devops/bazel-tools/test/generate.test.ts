import fs from "node:fs";
import path from "node:path";
import { type BuildRule, boolAttr, listAttr, readBuildFiles, stringAttr } from "../src/build-files";
import { checkFormat } from "../src/check-format";
import { describeStale, generate, staleFiles, writeFiles } from "../src/generate";
import { bazelWorkspace, edit, replaceIn } from "./fixtures";

function generated(extra: Record<string, string | object> = {}): string {
  const root = bazelWorkspace(extra);
  const { files, findings } = generate(root);
  expect(findings).toEqual([]);
  writeFiles(root, files);
  return root;
}

function rulesOf(root: string, pkg: string): Map<string, BuildRule> {
  const build = readBuildFiles(root).find((b) => b.pkg === pkg);
  return new Map((build?.rules ?? []).map((r) => [r.name, r]));
}

// Each test generates a fixture's BUILD files through buildifier and reads them with buildozer.
jest.setTimeout(30_000);

describe("generate", () => {
  it("derives each package's targets from package.json, imports and test files", () => {
    // Outputs in dist/ and tsc's incremental state are no sources and no runtime data.
    const root = generated({ "services/user/dist/src/index.js": "exports.x = 1;\n", "services/user/tsconfig.tsbuildinfo": "{}\n" });
    const user = rulesOf(root, "services/user");
    expect([...user.keys()]).toEqual(["node_modules", "tsconfig", "tsc", "pkg", "user", "test_ts", "test", "perf_test_ts", "perf_test"]);
    const tsc = user.get("tsc")!;
    expect(listAttr(tsc, "srcs")).toEqual(["src/index.ts", "src/main.ts"]);
    // express and its types, the workspace library, and Node's types for the ambient globals.
    expect(listAttr(tsc, "deps")).toEqual([
      ":node_modules/@monorepo/logger",
      ":node_modules/@types/express",
      ":node_modules/@types/node",
      ":node_modules/express",
    ]);
    expect(listAttr(tsc, "data")).toEqual(["user.json"]);
    expect(boolAttr(tsc, "declaration") && boolAttr(tsc, "source_map") && boolAttr(tsc, "composite")).toBe(true);
    expect(stringAttr(tsc, "out_dir")).toBe("dist");
    expect(stringAttr(user.get("user")!, "entry_point")).toBe("dist/src/main.js");
    // The referenced package's tsconfig comes with the ts_config, which that package makes public.
    expect(listAttr(user.get("tsconfig")!, "deps")).toEqual(["//:tsconfig", "//common/logger:tsconfig"]);
    expect(listAttr(rulesOf(root, "common/logger").get("tsconfig")!, "visibility")).toEqual(["//visibility:public"]);
    expect(listAttr(user.get("pkg")!, "visibility")).toEqual(["//visibility:public"]);
    // The helper belongs to the test project; the test only imports the helper.
    expect(listAttr(user.get("test_ts")!, "srcs")).toEqual(["test/app.test.ts", "test/helpers.ts"]);
    expect(listAttr(user.get("test_ts")!, "deps")).toEqual([":node_modules/@types/jest", ":node_modules/@types/node", ":tsc"]);
    expect(boolAttr(user.get("test")!, "flaky")).toBe(true);
    expect(listAttr(user.get("test")!, "data")).toEqual([":test_ts", ":tsc"]);
    expect(listAttr(user.get("perf_test_ts")!, "deps")).toContain(":test_ts");
    expect(listAttr(user.get("perf_test")!, "tags")).toEqual(["manual"]);
    expect(stringAttr(user.get("perf_test")!, "config")).toBe("//:jest_perf_config");
    expect(stringAttr(user.get("perf_test")!, "timeout")).toBe("eternal");

    const logger = rulesOf(root, "common/logger");
    expect(logger.has("logger")).toBe(false); // a library without src/main.ts or src/cli.ts gets no binary
    expect(boolAttr(logger.get("test")!, "flaky")).toBe(false);

    const top = rulesOf(root, "");
    expect(stringAttr(top.get("tsconfig")!, "src")).toBe("tsconfig.base.json");
    expect(listAttr(top.get("jest_config")!, "srcs")).toEqual(["jest.config.js"]);
    expect(listAttr(top.get("jest_perf_config")!, "srcs")).toEqual(["jest.perf.config.js"]);
  });

  it("writes buildifier-formatted, lint-clean files, the flaky block and one .bazelignore line per package", () => {
    const root = generated();
    expect(checkFormat(root)).toEqual([]);
    expect(fs.readFileSync(path.join(root, ".bazelrc"), "utf8")).toContain("\ntest --flaky_test_attempts=//services/user:test$@4\n");
    expect(fs.readFileSync(path.join(root, ".bazelignore"), "utf8")).toBe(
      "node_modules\ncommon/logger/node_modules\nservices/user/node_modules\n",
    );
  });

  it("is idempotent, and its check mode names the stale file and the changed lines", () => {
    const root = generated();
    expect(writeFiles(root, generate(root).files)).toEqual([]);
    edit(root, {
      "common/logger/package.json": {
        name: "@monorepo/logger",
        main: "dist/src/index.js",
        dependencies: { yaml: "2.9.1" },
        devDependencies: { "@types/node": "20.19.43", "@types/jest": "30.0.0" },
      },
    });
    replaceIn(root, "common/logger/src/index.ts", "import fs", 'import { parse } from "yaml";\nexport const read = parse;\nimport fs');
    const stale = staleFiles(root, generate(root).files);
    expect(stale.map((s) => s.path)).toEqual(["common/logger/BUILD.bazel"]);
    const diff = describeStale(stale[0]!);
    expect(diff).toMatch(
      /^common\/logger\/BUILD.bazel: stale\n--- common\/logger\/BUILD.bazel \(on disk\)\n\+\+\+ common\/logger\/BUILD.bazel \(generated\)\n@@ /,
    );
    expect(diff).toContain('\n+        ":node_modules/yaml",\n');
  });

  it("reports imports that cannot work under Bazel", () => {
    const root = bazelWorkspace({
      "common/logger/src/extra.ts": 'import "left-pad";\nimport "../../../services/user/src/index";\nimport "./missing";\n',
      "services/user/src/dev.ts": 'import "@types/jest";\n',
    });
    const messages = generate(root).findings.map((f) => `${f.file}: ${f.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/common\/logger\/src\/extra.ts: imports "left-pad", which common\/logger\/package.json does not declare/),
        expect.stringMatching(/extra.ts: imports "..\/..\/..\/services\/user\/src\/index", outside its package/),
        expect.stringMatching(/extra.ts: imports ".\/missing", which is no TypeScript source/),
        expect.stringMatching(/services\/user\/src\/dev.ts: library code imports "@types\/jest" from devDependencies/),
      ]),
    );
  });

  it("moves test files a test-targets.json entry names into a tagged jest_test of their own, saying why", () => {
    const root = generated({
      "services/user/test/nginx.test.ts": 'it("needs the host", () => expect(1).toBe(1));\n',
      "test-targets.json": {
        "//services/user:host_test": {
          files: ["test/nginx.test.ts"],
          tags: ["manual", "local"],
          size: "large",
          why: "runs a real server on the host",
        },
      },
    });
    const user = rulesOf(root, "services/user");
    expect(listAttr(user.get("host_test_ts")!, "srcs")).toEqual(["test/nginx.test.ts"]);
    expect(listAttr(user.get("host_test")!, "tags")).toEqual(["local", "manual"]);
    expect(stringAttr(user.get("host_test")!, "size")).toBe("large");
    expect(listAttr(user.get("test_ts")!, "srcs")).not.toContain("test/nginx.test.ts");
    expect(fs.readFileSync(path.join(root, "services/user/BUILD.bazel"), "utf8")).toContain(
      "# local, manual (test-targets.json): runs a real server on the host\n",
    );
  });

  it("says when a declaration names a test that does not exist", () => {
    const root = bazelWorkspace({
      "test-targets.json": {
        "//services/user:gone": { attempts: 3, why: "was flaky" },
        "//common/logger:host_test": { files: ["test/nope.test.ts"], tags: ["manual"], why: "x" },
      },
    });
    const messages = generate(root).findings.map((f) => `${f.file}: ${f.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "test-targets.json: //services/user:gone is not a test target of this repository",
        "test-targets.json: //common/logger:host_test lists test/nope.test.ts, which does not exist",
      ]),
    );
  });

  it("refuses a tsconfig that writes outputs beside the sources or outside the package", () => {
    expect(() =>
      generate(bazelWorkspace({ "common/logger/tsconfig.json": { extends: "../../tsconfig.base.json", include: ["src"] } })),
    ).toThrow(/compilerOptions.outDir must name the package's output folder/);
    const shared = bazelWorkspace({ "tsconfig.base.json": { compilerOptions: { module: "commonjs", outDir: "dist" } } });
    edit(shared, {
      "common/logger/tsconfig.json": { extends: "../../tsconfig.base.json", compilerOptions: { composite: true }, include: ["src"] },
    });
    expect(() => generate(shared)).toThrow(/compilerOptions.outDir is .*dist, outside the package/);
  });

  it("writes each package's tsconfig references from the workspace graph, and the root solution tsconfig", () => {
    const root = generated();
    const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));
    expect(read("services/user/tsconfig.json").references).toEqual([{ path: "../../common/logger" }]);
    expect(read("common/logger/tsconfig.json").references).toBeUndefined();
    expect(read("tsconfig.json")).toEqual({ files: [], references: [{ path: "common/logger" }, { path: "services/user" }] });

    // A new workspace dependency (a devDependency too: tests compile in the same project) makes the referencing tsconfig stale.
    edit(root, {
      "services/user/package.json": {
        ...read("services/user/package.json"),
        devDependencies: { ...read("services/user/package.json").devDependencies, "@monorepo/tools": "workspace:*" },
      },
      "common/tools/package.json": { name: "@monorepo/tools", main: "dist/src/index.js" },
      "common/tools/tsconfig.json": {
        extends: "../../tsconfig.base.json",
        compilerOptions: { outDir: "dist", composite: true },
        include: ["src"],
      },
      "common/tools/src/index.ts": "export const tool = 1;\n",
    });
    const stale = staleFiles(root, generate(root).files);
    expect(stale.map((s) => s.path)).toEqual(
      expect.arrayContaining(["tsconfig.json", "services/user/tsconfig.json", "services/user/BUILD.bazel"]),
    );
    expect(describeStale(stale.find((s) => s.path === "services/user/tsconfig.json")!)).toContain('\n+      "path": "../../common/tools"');
  });
});
