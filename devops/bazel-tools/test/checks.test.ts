import { checkAttrs } from "../src/check-attrs";
import { checkBazelrc } from "../src/check-bazelrc";
import { checkFormat } from "../src/check-format";
import { checkGenerated } from "../src/check-generated";
import { checkJest } from "../src/check-jest";
import { checkLockfile } from "../src/check-lockfile";
import { checkModule } from "../src/check-module";
import { checkTsconfig } from "../src/check-tsconfig";
import { type CheckName, runChecks } from "../src/checks";
import type { Finding } from "../src/deps";
import { generate, writeFiles } from "../src/generate";
import { bazelWorkspace, edit, FIXTURE_MANIFESTS, lockfileFor, replaceIn } from "./fixtures";

/** A fixture with its BUILD files generated: every check starts from zero findings. */
function ready(): string {
  const root = bazelWorkspace();
  writeFiles(root, generate(root).files);
  return root;
}

function messages(findings: Finding[]): string[] {
  return findings.map((f) => `${f.file}: ${f.message}`);
}

const USER_BUILD = "services/user/BUILD.bazel";

// Each test generates a fixture's BUILD files through buildifier and reads them with buildozer.
jest.setTimeout(30_000);

describe("every check on a consistent workspace", () => {
  it("reports nothing", () => {
    expect(runChecks(ready())).toEqual([]);
  });
});

describe("(a) format: buildifier -mode=check -lint=warn", () => {
  it("catches an unformatted file, a lint warning and a syntax error", () => {
    const root = ready();
    replaceIn(root, USER_BUILD, 'name = "pkg",', 'name="pkg",');
    replaceIn(
      root,
      "common/logger/BUILD.bazel",
      'load("@npm//:defs.bzl", "npm_link_all_packages")',
      'load("@npm//:defs.bzl", "npm_link_all_packages")\nload("@aspect_rules_js//js:defs.bzl", "js_test")',
    );
    edit(root, { "tools/broken.bzl": '"""Broken."""\n\ndef f(:\n' });
    expect(messages(checkFormat(root))).toEqual(
      expect.arrayContaining([
        `${USER_BUILD}: not formatted; run \`buildifier\` on it (or \`pnpm bazel:generate\` for BUILD files)`,
        expect.stringMatching(/^common\/logger\/BUILD.bazel: line \d+: load: Loaded symbol "js_test" is unused/),
        expect.stringMatching(/^tools\/broken.bzl: syntax error/),
      ]),
    );
  });
});

describe("(b) attrs: only parameters the pinned rules accept", () => {
  it("catches a misspelled parameter, one the macro sets itself, a missing mandatory one and a wrong load", () => {
    const root = ready();
    replaceIn(root, USER_BUILD, "    flaky = True,\n", "    flaky = True,\n    shardcount = 2,\n    testonly = True,\n");
    replaceIn(root, USER_BUILD, '    entry_point = "dist/src/main.js",\n', "");
    replaceIn(
      root,
      USER_BUILD,
      'load("@aspect_rules_ts//ts:defs.bzl", "ts_config", "ts_project")',
      'load("@aspect_rules_js//js:defs.bzl", "ts_project")\nload("@aspect_rules_ts//ts:defs.bzl", "ts_config")',
    );
    expect(messages(checkAttrs(root))).toEqual(
      expect.arrayContaining([
        `${USER_BUILD}: //services/user:test: jest_test has no parameter "shardcount"`,
        `${USER_BUILD}: //services/user:test: jest_test must not set "testonly": the macro sets it itself (duplicate keyword argument)`,
        `${USER_BUILD}: //services/user:user: js_binary needs "entry_point"`,
        `${USER_BUILD}: //services/user:tsc: ts_project must be loaded from "@aspect_rules_ts//ts:defs.bzl"`,
      ]),
    );
  });

  it("checks MODULE.bazel extension tags too", () => {
    const root = ready();
    replaceIn(root, "MODULE.bazel", 'pnpm_lock = "//:pnpm-lock.yaml"', 'pnpm_lock = "//:pnpm-lock.yaml",\n    root_package = ""');
    replaceIn(
      root,
      "MODULE.bazel",
      'node.toolchain(node_version = "22.22.2")',
      'node.toolchain(node_version = "22.22.2")\nnode.toolchains(name = "x")',
    );
    expect(messages(checkAttrs(root))).toEqual([
      'MODULE.bazel: node.toolchains: @rules_nodejs//nodejs:extensions.bzl%node has no tag "toolchains"',
      'MODULE.bazel: npm.npm_translate_lock has no parameter "root_package"',
    ]);
  });

  it("catches a rule no pinned rule set defines, a renamed node_modules link and module calls Bazel would reject", () => {
    const root = ready();
    replaceIn(
      root,
      "common/logger/BUILD.bazel",
      'npm_link_all_packages(name = "node_modules")',
      'npm_link_all_packages(name = "deps")\n\nnodejs_binary(name = "old")',
    );
    replaceIn(
      root,
      "MODULE.bazel",
      'bazel_dep(name = "platforms", version = "1.1.0")',
      'bazel_dep(name = "platforms", version = "1.1.0", dev = True)',
    );
    replaceIn(
      root,
      "MODULE.bazel",
      'use_repo(npm, "npm")',
      'use_repo(npm, "npm")\n\npnpm.pnpm(name = "pnpm")\n\ncustom = use_extension("//tools:ext.bzl", "custom")\n\ncustom.tag()',
    );
    expect(messages(checkAttrs(root))).toEqual(
      expect.arrayContaining([
        "common/logger/BUILD.bazel: //common/logger:old: nodejs_binary is not a rule of the pinned rule sets (api.json)",
        'common/logger/BUILD.bazel: //common/logger:deps: npm_link_all_packages only accepts name = "node_modules"',
        'MODULE.bazel: bazel_dep has no parameter "dev"',
        "MODULE.bazel: pnpm.pnpm is neither a MODULE.bazel function nor a tag of an extension from use_extension()",
        "MODULE.bazel: custom.tag: extension //tools:ext.bzl%custom is not one of the pinned rule sets' (api.json)",
      ]),
    );
  });
});

describe("(c) generated: the checkout against a fresh generation (Gazelle's check mode)", () => {
  it("shows a hand edit of a BUILD file as a unified diff from the file on disk to the generated one", () => {
    const root = ready();
    replaceIn(root, USER_BUILD, '        ":node_modules/express",\n', '        ":node_modules/yaml",\n');
    const [finding, ...rest] = checkGenerated(root);
    expect(rest).toEqual([]);
    expect(finding!.file).toBe(USER_BUILD);
    const lines = finding!.message.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "differs from a fresh generation; run `pnpm bazel:generate`",
      `--- ${USER_BUILD} (on disk)`,
      `+++ ${USER_BUILD} (generated)`,
    ]);
    expect(lines[3]).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/);
    expect(lines.filter((line) => /^[-+] /.test(line))).toEqual(['-        ":node_modules/yaml",', '+        ":node_modules/express",']);
  });

  it("reports a missing BUILD file, a stale tsconfig reference, a stale flaky block and what the generator finds", () => {
    const root = ready();
    edit(root, {
      "services/user/BUILD.bazel": undefined,
      "common/logger/src/extra.ts": 'import "left-pad";\n',
      "test-targets.json": { "//services/user:test": { attempts: 5, why: "fails one run in four by design" } },
    });
    replaceIn(root, "services/user/tsconfig.json", /,\s*"references": \[[^\]]*\]/, "");
    expect(messages(checkGenerated(root))).toEqual([
      expect.stringMatching(/^common\/logger\/src\/extra.ts: imports "left-pad", which common\/logger\/package.json does not declare/),
      expect.stringMatching(/^common\/logger\/BUILD.bazel: differs from a fresh generation.*\n[\s\S]*\+ {8}"src\/extra.ts",/),
      `${USER_BUILD}: missing; run \`pnpm bazel:generate\``,
      expect.stringMatching(
        /^services\/user\/tsconfig.json: differs from a fresh generation.*\n[\s\S]*\+ {6}"path": "..\/..\/common\/logger"/,
      ),
      expect.stringMatching(
        /^.bazelrc: differs from a fresh generation.*\n[\s\S]*-test --flaky_test_attempts=\/\/services\/user:test\$@4\n\+test --flaky_test_attempts=\/\/services\/user:test\$@5/,
      ),
    ]);
  });

  it("reports a declared test target that is not generated", () => {
    const root = ready();
    edit(root, {
      "test-targets.json": {
        "//services/user:test": { attempts: 4, why: "fails one run in four by design" },
        "//services/user:gone": { tags: ["manual"], why: "was a host test" },
      },
    });
    expect(messages(checkGenerated(root))).toEqual(["test-targets.json: //services/user:gone is not a test target of this repository"]);
  });
});

describe("(d) tsconfig: compiler options the generator copies but does not judge", () => {
  it("catches ESM output, preserveSymlinks, a build info file, types without deps and a library without declarations", () => {
    const root = ready();
    edit(root, {
      "tsconfig.base.json": {
        compilerOptions: {
          module: "esnext",
          sourceMap: true,
          preserveSymlinks: true,
          tsBuildInfoFile: "x.tsbuildinfo",
          types: ["node", "jest"],
        },
      },
    });
    expect(messages(checkTsconfig(root))).toEqual(
      expect.arrayContaining([
        "common/logger/tsconfig.json: compilerOptions.tsBuildInfoFile must not be set: rules_ts declares that output itself",
        "common/logger/tsconfig.json: compilerOptions.preserveSymlinks cannot work with rules_js's symlinked node_modules",
        "common/logger/tsconfig.json: compilerOptions.module is esnext; tests and binaries expect CommonJS output",
        'common/logger/tsconfig.json: compilerOptions.types names "jest", so //common/logger:tsc needs :node_modules/@types/jest in deps (TS2688 otherwise): declare it in package.json and import it',
      ]),
    );
    // composite implies declarations; without either, importers get no types.
    edit(root, {
      "tsconfig.base.json": { compilerOptions: { module: "commonjs", sourceMap: true } },
      "common/logger/tsconfig.json": { extends: "../../tsconfig.base.json", compilerOptions: { outDir: "dist" }, include: ["src", "test"] },
    });
    expect(messages(checkTsconfig(root))).toEqual([
      "common/logger/tsconfig.json: compilerOptions.declaration must be true so packages that import this one get its types",
    ]);
  });

  it("accepts the fixture's options, and a types entry whose package the project imports", () => {
    const root = ready();
    expect(checkTsconfig(root)).toEqual([]);
    edit(root, { "tsconfig.base.json": { compilerOptions: { module: "commonjs", declaration: true, sourceMap: true, types: ["node"] } } });
    expect(checkTsconfig(root)).toEqual([]);
  });

  it("catches a package.json main that is not compiled output", () => {
    const root = ready();
    edit(root, { "common/logger/package.json": { ...FIXTURE_MANIFESTS["common/logger"], main: "dist/index.js" } });
    expect(messages(checkTsconfig(root))).toEqual([
      'common/logger/package.json: "main" is dist/index.js, which is not the output of a source the tsc target compiles (src/x.ts -> dist/src/x.js)',
    ]);
  });

  it("reports a tsconfig it cannot resolve", () => {
    const root = ready();
    edit(root, { "common/logger/tsconfig.json": '{ "extends": "../../missing.json" }' });
    expect(messages(checkTsconfig(root))).toEqual([expect.stringMatching(/^common\/logger\/tsconfig.json: .*missing.json/)]);
  });
});

describe("(e) jest: what rules_jest needs that the generator does not decide", () => {
  it("catches jest-junit missing at the root, a config that sets projects and one that does not load", () => {
    const root = ready();
    expect(checkJest(root)).toEqual([]);
    const { "jest-junit": _junit, ...rootDevDependencies } = FIXTURE_MANIFESTS["."]!.devDependencies!;
    edit(root, { "package.json": { ...FIXTURE_MANIFESTS["."], devDependencies: rootDevDependencies } });
    replaceIn(root, "jest.config.js", "testRegex:", 'projects: ["<rootDir>/common/*"], testRegex:');
    edit(root, { "jest.perf.config.js": "module.exports = {\n" });
    expect(messages(checkJest(root))).toEqual([
      "package.json: must list jest-junit: jest_test runs it from //:node_modules",
      'jest.config.js: sets "projects", which rules_jest does not support (each jest_test is one project)',
      expect.stringMatching(/^jest\.perf\.config\.js: cannot be loaded as jest would load it: SyntaxError/),
    ]);
  });
});

describe("(f) lockfile: version, allow-list, importers", () => {
  it("catches an old lockfile version, a missing allow-list and a package.json the lockfile does not match", () => {
    const root = ready();
    edit(root, {
      "pnpm-lock.yaml": lockfileFor(FIXTURE_MANIFESTS, "'6.0'"),
      "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\nhoist: false\n",
      "common/logger/package.json": { ...FIXTURE_MANIFESTS["common/logger"], dependencies: { yaml: "2.9.1" } },
    });
    expect(messages(checkLockfile(root))).toEqual([
      "pnpm-lock.yaml: lockfileVersion is 6.0; rules_js 3 accepts only '9.0' (pnpm 9-11)",
      "pnpm-workspace.yaml: no lifecycle-script allow-list (allowBuilds with every value false, or onlyBuiltDependencies: []); rules_js refuses to translate the lockfile without one",
      "pnpm-lock.yaml: common/logger: dependencies.yaml (2.9.1) from common/logger/package.json is not locked; run `pnpm install`",
    ]);
  });

  it("accepts allowBuilds that maps every name to false, and refuses a name mapped to true", () => {
    const root = ready();
    edit(root, {
      "pnpm-workspace.yaml":
        'packages:\n  - common/*\n  - services/*\nallowBuilds:\n  "@parcel/watcher": false\n  esbuild: false\nhoist: false\n',
    });
    expect(messages(checkLockfile(root))).toEqual([]);
    edit(root, {
      "pnpm-workspace.yaml":
        'packages:\n  - common/*\n  - services/*\nallowBuilds:\n  "@parcel/watcher": false\n  esbuild: true\nhoist: false\n',
    });
    expect(messages(checkLockfile(root))).toEqual([
      "pnpm-workspace.yaml: allowBuilds lets esbuild run its install script (true); map it to false: no dependency may run one",
    ]);
  });

  it("catches a changed specifier, a removed dependency and a missing importer", () => {
    const root = ready();
    const manifests = {
      ...FIXTURE_MANIFESTS,
      "services/user": { ...FIXTURE_MANIFESTS["services/user"]!, dependencies: { express: "5.2.0" } },
    };
    delete (manifests as Record<string, unknown>)["common/logger"];
    edit(root, { "pnpm-lock.yaml": lockfileFor(manifests) });
    expect(messages(checkLockfile(root))).toEqual([
      "pnpm-lock.yaml: has no importer for common/logger; run `pnpm install`",
      "pnpm-lock.yaml: services/user: dependencies.@monorepo/logger (workspace:*) from services/user/package.json is not locked; run `pnpm install`",
      "pnpm-lock.yaml: services/user: dependencies.@types/express (5.0.6) from services/user/package.json is not locked; run `pnpm install`",
      "pnpm-lock.yaml: services/user: dependencies.express is 5.3.0 in services/user/package.json but 5.2.0 in the lockfile; run `pnpm install`",
    ]);
  });

  it("catches pnpm hoisting, workspace packages not linked, a stale importer and a dependency locked but no longer listed", () => {
    const root = ready();
    edit(root, {
      "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\nonlyBuiltDependencies: []\n",
      "pnpm-lock.yaml": lockfileFor({ ...FIXTURE_MANIFESTS, "common/gone": { name: "@monorepo/gone" } }),
      "common/logger/package.json": { ...FIXTURE_MANIFESTS["common/logger"], devDependencies: { "@types/node": "20.19.43" } },
    });
    replaceIn(root, "pnpm-lock.yaml", "excludeLinksFromLockfile: false", "excludeLinksFromLockfile: true\n  injectWorkspacePackages: true");
    expect(messages(checkLockfile(root))).toEqual([
      "pnpm-lock.yaml: excludeLinksFromLockfile is on; rules_js needs the link: entries of workspace packages",
      "pnpm-lock.yaml: injectWorkspacePackages is on; keep workspace packages as link: dependencies",
      "pnpm-workspace.yaml: hoist must be false: rules_js never hoists, so pnpm must not either, or code can import what Bazel will not link",
      "pnpm-lock.yaml: importer common/gone is no workspace package; run `pnpm install`",
      "pnpm-lock.yaml: common/logger: devDependencies.@types/jest is locked but common/logger/package.json no longer lists it; run `pnpm install`",
    ]);
  });
});

describe("(g) module: pinned versions and wiring", () => {
  it("catches a drifted version, update_pnpm_lock, an undeclared .npmrc, a missing use_repo and the Bazel version", () => {
    const root = ready();
    replaceIn(root, "MODULE.bazel", 'version = "3.4.1"', 'version = "2.9.3"');
    replaceIn(root, "MODULE.bazel", 'pnpm_lock = "//:pnpm-lock.yaml",', 'pnpm_lock = "//:pnpm-lock.yaml",\n    update_pnpm_lock = True,');
    replaceIn(root, "MODULE.bazel", 'use_repo(typescript, "npm_typescript")\n', "");
    edit(root, { ".npmrc": "hoist=false\n", ".bazelversion": "9.0.1\n" });
    expect(messages(checkModule(root))).toEqual([
      ".bazelversion: must be 8.7.0 (bazelisk downloads that Bazel), found 9.0.1",
      "MODULE.bazel: bazel_dep aspect_rules_js is 2.9.3; the researched consistent set pins 3.4.1",
      "MODULE.bazel: update_pnpm_lock runs pnpm inside Bazel and fails the first build; update the lockfile with `pnpm install` instead",
      'MODULE.bazel: .npmrc exists, so npm_translate_lock must declare npmrc = "//:.npmrc" (rules_js 3 refuses an undeclared one)',
      'MODULE.bazel: needs use_repo(typescript, "npm_typescript"): ts_project\'s defaults name @npm_typescript',
    ]);
  });

  it("catches node_modules folders Bazel would read as packages", () => {
    const root = ready();
    edit(root, { "REPO.bazel": '"""Fixture."""\n', ".bazelignore": "node_modules\n**/node_modules\n" });
    expect(messages(checkModule(root))).toEqual([
      'REPO.bazel: needs ignore_directories(["**/node_modules"])',
      '.bazelignore: "**/node_modules": .bazelignore takes literal paths, not globs',
      ".bazelignore: lacks common/logger/node_modules; run `pnpm bazel:generate`",
      ".bazelignore: lacks services/user/node_modules; run `pnpm bazel:generate`",
    ]);
  });

  it("catches a TypeScript range, another Node, a missing rule set and extension wiring the BUILD files rely on", () => {
    const root = ready();
    edit(root, {
      "package.json": { ...FIXTURE_MANIFESTS["."], devDependencies: { ...FIXTURE_MANIFESTS["."]!.devDependencies, typescript: "^5.9.3" } },
    });
    edit(root, {
      "services/user/package.json": {
        ...FIXTURE_MANIFESTS["services/user"],
        dependencies: { ...FIXTURE_MANIFESTS["services/user"]!.dependencies, typescript: "5.9.3" },
      },
    });
    replaceIn(root, "MODULE.bazel", 'bazel_dep(name = "platforms", version = "1.1.0")\n', "");
    replaceIn(root, "MODULE.bazel", 'node_version = "22.22.2"', 'node_version = "20.20.2"');
    replaceIn(
      root,
      "MODULE.bazel",
      '    name = "npm",\n    pnpm_lock = "//:pnpm-lock.yaml",',
      '    name = "npm_deps",\n    pnpm_lock = "//pkg:pnpm-lock.yaml",\n    npmrc = "//:.npmrc",',
    );
    replaceIn(root, "MODULE.bazel", 'use_repo(npm, "npm")\n', "");
    replaceIn(root, "MODULE.bazel", 'typescript.deps(version_from = "//:package.json")', 'typescript.deps(version = "5.9.3")');
    expect(messages(checkModule(root))).toEqual([
      "MODULE.bazel: bazel_dep platforms 1.1.0 is missing",
      'MODULE.bazel: needs one node.toolchain(node_version = "22.22.2") from @rules_nodejs//nodejs:extensions.bzl%node',
      'MODULE.bazel: npm_translate_lock must be named "npm" (BUILD files load @npm//:defs.bzl)',
      'MODULE.bazel: npm_translate_lock must read pnpm_lock = "//:pnpm-lock.yaml"',
      "MODULE.bazel: npm_translate_lock declares an npmrc, but there is no .npmrc",
      'MODULE.bazel: needs use_repo(npm, "npm")',
      'MODULE.bazel: needs one typescript.deps(version_from = "//:package.json") from @aspect_rules_ts//ts:extensions.bzl%typescript',
      "package.json: devDependencies.typescript must be an exact version for typescript.deps(version_from), found ^5.9.3",
      "services/user/package.json: typescript is 5.9.3, the root pins ^5.9.3: every package that compiles with TypeScript must use the root's",
    ]);
  });
});

describe("bazelrc: the settings the setup depends on", () => {
  it("catches telemetry left on, a missing transpiler flag, a secret in git and flags after the user import", () => {
    const root = ready();
    replaceIn(root, ".bazelrc", "ASPECT_TOOLS_TELEMETRY=-all", "ASPECT_TOOLS_TELEMETRY=off");
    replaceIn(root, ".bazelrc", "common --@aspect_rules_ts//ts:default_to_tsc_transpiler\n", "");
    replaceIn(
      root,
      ".bazelrc",
      "try-import %workspace%/user.bazelrc\n",
      "try-import %workspace%/user.bazelrc\ncommon:ci --remote_header=Authorization=Basic c2VjcmV0\n",
    );
    expect(messages(checkBazelrc(root))).toEqual([
      '.bazelrc: needs `common --@aspect_rules_ts//ts:default_to_tsc_transpiler` (else analysis fails with "Required Transpiler Selection")',
      ".bazelrc: ASPECT_TOOLS_TELEMETRY=off does not turn telemetry off (it is a feature set: use -all, or DO_NOT_TRACK=1)",
      ".bazelrc: needs `common --repo_env=ASPECT_TOOLS_TELEMETRY=-all` or `common --repo_env=DO_NOT_TRACK=1` (the Aspect rules report usage otherwise)",
      ".bazelrc: --remote_header: credentials belong in the git-ignored user.bazelrc, never in .bazelrc",
      ".bazelrc: must end with `try-import %workspace%/user.bazelrc` (personal settings and CI secrets, git-ignored, override everything above)",
    ]);
  });

  it("catches flaky attempts set outside the block generated from test-targets.json", () => {
    const root = ready();
    replaceIn(root, ".bazelrc", "common --test_output=errors\n", "common --test_output=errors\ntest --flaky_test_attempts=3\n");
    expect(messages(checkBazelrc(root))).toEqual([
      ".bazelrc: `test --flaky_test_attempts=3` is outside the block generated from test-targets.json: declare each flaky target there, with why",
    ]);
  });

  it("catches developers writing to the cache and settings that break a fresh checkout", () => {
    const root = ready();
    replaceIn(
      root,
      ".bazelrc",
      "common --noremote_upload_local_results\n",
      "common --remote_upload_local_results\ncommon:ci --lockfile_mode=error\nbuild --spawn_strategy=local\n",
    );
    expect(messages(checkBazelrc(root))).toEqual([
      ".bazelrc: needs `common --noremote_upload_local_results`: developers only read the remote cache",
      ".bazelrc: `common --remote_upload_local_results`: only CI may write to the remote cache",
      ".bazelrc: --lockfile_mode=error needs a committed, current MODULE.bazel.lock, which this repository does not have",
      ".bazelrc: --spawn_strategy=local: unsandboxed actions let ts_project see files it did not declare",
    ]);
  });
});

describe("runChecks", () => {
  it("keeps checking the other files when one BUILD file does not parse", () => {
    const root = ready();
    edit(root, { "common/logger/BUILD.bazel": "ts_project(\n" });
    const found = messages(runChecks(root));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^common\/logger\/BUILD.bazel: syntax error/),
        expect.stringMatching(/^common\/logger\/BUILD.bazel: differs from a fresh generation/),
      ]),
    );
    expect(found.filter((f) => f.startsWith(USER_BUILD))).toEqual([]);
  });

  it("reports a MODULE.bazel it cannot parse instead of stopping", () => {
    const root = ready();
    edit(root, { "MODULE.bazel": "bazel_dep(\n" });
    expect(messages(runChecks(root, ["module", "attrs"]))).toEqual([
      expect.stringMatching(/^MODULE.bazel: cannot be read: buildozer/),
      expect.stringMatching(/^MODULE.bazel: cannot be read: buildozer/),
    ]);
  });

  it("runs only the checks asked for", () => {
    const root = ready();
    edit(root, { ".bazelversion": "7.0.0\n" });
    replaceIn(root, ".bazelrc", "common --test_output=errors\n", "");
    const only: CheckName[] = ["bazelrc"];
    expect(runChecks(root, only).map((f) => f.check)).toEqual(["bazelrc"]);
    expect(
      runChecks(root)
        .map((f) => f.check)
        .sort(),
    ).toEqual(["bazelrc", "module"]);
  });
});
