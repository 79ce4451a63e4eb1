import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadWorkspace, type Workspace, type WorkspacePackage } from "@monorepo/workspace";
import { type BuildFile, type BuildRule, boolAttr, listAttr, readBuildFiles, stringAttr } from "./build-files";
import { type Finding, projectDeps } from "./deps";
import { compiledPath, describeStale, generate, staleFiles } from "./generate";
import { binaryName, listFiles, type PackageLayout, scanPackage } from "./layout";

const JEST_CONFIG_EXTENSIONS = [".js", ".cjs", ".mjs", ".json"];

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

function declaredNames(packageJson: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
    Object.keys((packageJson[field] as Record<string, string> | undefined) ?? {}).forEach((n) => names.add(n));
  }
  return names;
}

/** "//pkg:name", ":name" or "name" (in `pkg`) -> { pkg, name }. */
export function parseLabel(label: string, pkg: string): { pkg: string; name: string } {
  if (label.startsWith("//")) {
    const [target, name] = label.slice(2).split(":");
    return { pkg: target!, name: name ?? path.posix.basename(target!) };
  }
  return { pkg, name: label.startsWith(":") ? label.slice(1) : label };
}

interface SyncContext {
  root: string;
  workspace: Workspace;
  builds: Map<string, BuildFile>;
  findings: Finding[];
  /** Jest config files already loaded (many jest_tests share one). */
  jestConfigs: Set<string>;
}

function ruleAt(ctx: SyncContext, label: string, fromPkg: string): BuildRule | undefined {
  const { pkg, name } = parseLabel(label, fromPkg);
  return ctx.builds.get(pkg)?.rules.find((r) => r.name === name);
}

/** Every `<pkg>:node_modules/<name>` label must name a dependency of that package's package.json (rules_js links nothing else). */
function checkNodeModulesLabels(ctx: SyncContext, build: BuildFile): void {
  for (const rule of build.rules) {
    for (const [attr, value] of rule.attrs) {
      const labels = value.type === "list" ? value.value : value.type === "string" ? [value.value] : [];
      for (const label of labels) {
        const match = /^(?:\/\/([^:]*))?:node_modules\/(.+)$/.exec(label);
        if (!match) continue;
        const pkg = match[1] ?? build.pkg;
        const name = match[2]!;
        const manifest = path.join(ctx.root, pkg, "package.json");
        if (!fs.existsSync(manifest)) {
          ctx.findings.push({
            check: "sync",
            file: build.file,
            message: `${rule.label} ${attr}: ${label}: //${pkg} has no package.json, so it links no node_modules`,
          });
        } else if (!declaredNames(readJson(manifest)).has(name)) {
          ctx.findings.push({
            check: "sync",
            file: build.file,
            message: `${rule.label} ${attr}: ${label} does not exist: ${pkg === "" ? "" : `${pkg}/`}package.json does not list ${name}`,
          });
        }
      }
    }
  }
}

function checkPackage(ctx: SyncContext, pkg: WorkspacePackage): void {
  const buildPath = `${pkg.dir}/BUILD.bazel`;
  const finding = (message: string) => ctx.findings.push({ check: "sync", file: buildPath, message });
  const build = ctx.builds.get(pkg.dir);
  if (!build) {
    finding("missing: every workspace package is a Bazel package; run `pnpm bazel:generate`");
    return;
  }
  const rules = build.rules;
  const byName = new Map(rules.map((r) => [r.name, r]));
  const layout = scanPackage(ctx.root, pkg);
  if (!rules.some((r) => r.kind === "npm_link_all_packages"))
    finding(`no npm_link_all_packages(name = "node_modules"): :node_modules/... labels would not exist`);

  const projects = rules.filter((r) => r.kind === "ts_project");
  const owner = new Map<string, string>();
  for (const project of projects) {
    if (!project.attrs.has("srcs")) finding(`${project.label}: no srcs; the default glob takes every .ts file, tests included`);
    for (const src of listAttr(project, "srcs")) {
      if (!fs.existsSync(path.join(ctx.root, pkg.dir, src))) finding(`${project.label}: srcs lists ${src}, which does not exist`);
      const previous = owner.get(src);
      if (previous) finding(`${src} is compiled by both :${previous} and :${project.name} (duplicate outputs)`);
      owner.set(src, project.name);
    }
  }
  const sources = [...listFiles(path.join(ctx.root, pkg.dir), "src"), ...listFiles(path.join(ctx.root, pkg.dir), "test")].filter(
    (f) => (f.endsWith(".ts") || f.endsWith(".tsx")) && !f.endsWith(".d.ts"),
  );
  for (const file of sources.filter((f) => !owner.has(f))) finding(`${file} is in no ts_project's srcs`);

  // Dependencies, Gazelle-style: what each project's files import, nothing missing, nothing unused.
  for (const project of projects) {
    // A listed source that is gone was reported above; its imports cannot be read.
    const present = listAttr(project, "srcs").filter((src) => fs.existsSync(path.join(ctx.root, pkg.dir, src)));
    const expected = projectDeps(ctx.root, layout, project.name, present, (file) => owner.get(file));
    ctx.findings.push(...expected.findings);
    const actual = new Set(listAttr(project, "deps"));
    for (const dep of [...expected.deps].filter((d) => !actual.has(d)))
      finding(`${project.label}: deps lacks ${dep}, which its sources import`);
    for (const dep of [...actual].filter((d) => !expected.deps.has(d))) {
      finding(`${project.label}: deps has ${dep}, which none of its sources import`);
    }
    for (const dep of actual) {
      if (!dep.startsWith(":node_modules/") && !dep.includes("node_modules/") && !ruleAt(ctx, dep, pkg.dir)) {
        finding(`${project.label}: deps has ${dep}, which is no target (deps must be ts_project/js_library targets, not files)`);
      }
    }
  }

  // Tests: every test file is compiled by a ts_project that a jest_test lists directly in data
  // (rules_jest discovers tests only among the files of its direct data targets).
  const jestTests = rules.filter((r) => r.kind === "jest_test");
  const testedProjects = new Set(
    jestTests
      .flatMap((t) => listAttr(t, "data"))
      .filter((d) => d.startsWith(":"))
      .map((d) => d.slice(1)),
  );
  for (const group of layout.testGroups) {
    for (const file of group.files) {
      const project = owner.get(file);
      if (project && !testedProjects.has(project))
        finding(`${file} is compiled by :${project}, which no jest_test has in data, so no test runs it`);
    }
  }
  for (const test of jestTests) checkJestTest(ctx, build, test);

  const library = byName.get("tsc");
  if (layout.srcFiles.length > 0) {
    if (!library) finding(`no ts_project "tsc" for src/`);
    const pkgTarget = byName.get("pkg");
    if (pkgTarget?.kind !== "js_library") {
      finding(`no js_library "pkg": rules_js links workspace packages through //${pkg.dir}:pkg`);
    } else {
      if (listAttr(pkgTarget, "srcs").join() !== "package.json") finding(`${pkgTarget.label}: srcs must be ["package.json"]`);
      if (!listAttr(pkgTarget, "deps").includes(":tsc")) finding(`${pkgTarget.label}: deps must include ":tsc" (the compiled code)`);
      if (!listAttr(pkgTarget, "visibility").includes("//visibility:public"))
        finding(`${pkgTarget.label}: must be public, the root package links it`);
    }
    checkMain(ctx, pkg, layout, library);
  }
  checkBinary(ctx, pkg, layout, build);
}

/** The folder a ts_project writes to, relative to its package ("." without out_dir). */
function outDirOf(project: BuildRule | undefined): string {
  return (project && stringAttr(project, "out_dir")) || ".";
}

/** package.json "main" must be the compiled output of a file the library compiles, with its declarations. */
function checkMain(ctx: SyncContext, pkg: WorkspacePackage, layout: PackageLayout, library: BuildRule | undefined): void {
  const manifest = readJson(path.join(ctx.root, pkg.dir, "package.json"));
  const main = typeof manifest.main === "string" ? path.posix.normalize(manifest.main) : "index.js";
  const outDir = outDirOf(library);
  const source = layout.srcFiles.find((src) => compiledPath(outDir, src) === main);
  const file = `${pkg.dir}/package.json`;
  if (!source || (library && !listAttr(library, "srcs").includes(source))) {
    ctx.findings.push({
      check: "sync",
      file,
      message: `"main" is ${main}, which is not the output of a source the tsc target compiles (src/x.ts -> ${compiledPath(outDir, "src/x.ts")})`,
    });
  }
  if (library && !boolAttr(library, "declaration") && !boolAttr(library, "composite")) {
    ctx.findings.push({
      check: "sync",
      file: `${pkg.dir}/BUILD.bazel`,
      message: `${library.label}: declaration must be True so packages that import this one get its types`,
    });
  }
}

function checkBinary(ctx: SyncContext, pkg: WorkspacePackage, layout: PackageLayout, build: BuildFile): void {
  const finding = (message: string) => ctx.findings.push({ check: "sync", file: build.file, message });
  const outDir = outDirOf(build.rules.find((r) => r.name === "tsc"));
  for (const binary of build.rules.filter((r) => r.kind === "js_binary")) {
    const entry = stringAttr(binary, "entry_point") ?? "";
    if (!layout.srcFiles.some((src) => compiledPath(outDir, src) === entry))
      finding(`${binary.label}: entry_point ${entry} is not the output of a source in src/`);
    if (!listAttr(binary, "data").includes(":tsc"))
      finding(`${binary.label}: data must include ":tsc", or its imports are missing at run time`);
  }
  if (layout.entryPoint) {
    const name = binaryName(layout);
    const binary = build.rules.find((r) => r.name === name);
    const expected = compiledPath(outDir, layout.entryPoint);
    if (binary?.kind !== "js_binary") {
      finding(`${layout.entryPoint} is an executable, but there is no js_binary "${name}" (\`bazel run //${pkg.dir}\`)`);
    } else if (stringAttr(binary, "entry_point") !== expected) {
      finding(`${binary.label}: entry_point must be ${expected}`);
    }
  }
}

function checkJestTest(ctx: SyncContext, build: BuildFile, test: BuildRule): void {
  const finding = (message: string) => ctx.findings.push({ check: "sync", file: build.file, message });
  if (stringAttr(test, "node_modules") !== "//:node_modules")
    finding(`${test.label}: node_modules must be "//:node_modules" (where jest-cli and jest-junit are linked)`);
  const config = stringAttr(test, "config");
  if (!config) return;
  const { pkg } = parseLabel(config, build.pkg);
  const target = ruleAt(ctx, config, build.pkg);
  if (pkg !== build.pkg && !target) {
    finding(
      `${test.label}: config ${config} is a file of another package; jest_test copies it into the output tree, which only works from its own package - use a js_library there`,
    );
    return;
  }
  const file = target ? listAttr(target, "srcs") : [parseLabel(config, build.pkg).name];
  const wellFormed =
    (!target || (target.kind === "js_library" && file.length === 1)) && JEST_CONFIG_EXTENSIONS.some((ext) => file[0]!.endsWith(ext));
  if (!wellFormed) {
    finding(
      `${test.label}: config ${config} must be a js_library of one ${JEST_CONFIG_EXTENSIONS.join("/")} file (jest_test cannot read TypeScript configs)`,
    );
    return;
  }
  checkJestConfigOptions(ctx, path.posix.join(pkg, file[0]!));
}

/**
 * rules_jest wraps the config in one of its own (reporters, sharding, coverage, snapshots) and only
 * warns when the config runs several `projects`, which bypass that wrapper.
 */
function checkJestConfigOptions(ctx: SyncContext, file: string): void {
  if (ctx.jestConfigs.has(file)) return;
  ctx.jestConfigs.add(file);
  const abs = path.join(ctx.root, file);
  // A missing config is the generator's finding.
  if (!fs.existsSync(abs)) return;
  const options = jestConfigKeys(abs);
  if (typeof options === "string")
    ctx.findings.push({ check: "sync", file, message: `cannot be loaded as jest would load it: ${options}` });
  else if (options.includes("projects"))
    ctx.findings.push({
      check: "sync",
      file,
      message: `sets "projects", which rules_jest does not support (each jest_test is one project)`,
    });
}

/** Top-level option names of a jest config file, loaded the way jest loads it (JSON, CommonJS or ESM); an error message if it does not load. */
function jestConfigKeys(file: string): string[] | string {
  if (file.endsWith(".json")) return Object.keys(readJson(file));
  const script = "import(process.argv[1]).then((m) => console.log(JSON.stringify(Object.keys(m.default ?? m))))";
  const result = spawnSync(process.execPath, ["-e", script, pathToFileURL(file).href], { encoding: "utf8" });
  if (result.status !== 0)
    return (
      result.stderr
        .split("\n")
        .find((line) => /Error/.test(line))
        ?.trim() ?? `node exited ${result.status}`
    );
  return JSON.parse(result.stdout) as string[];
}

/** The root package: where jest_test finds jest, and the only non-importer allowed to link node_modules. */
function checkRoot(ctx: SyncContext): void {
  const manifest = readJson(path.join(ctx.root, "package.json"));
  const declared = declaredNames(manifest);
  for (const needed of ["jest-cli", "jest-junit"]) {
    if (!declared.has(needed))
      ctx.findings.push({ check: "sync", file: "package.json", message: `must list ${needed}: jest_test runs it from //:node_modules` });
  }
  const importers = new Set(["", ...ctx.workspace.packages.map((p) => p.dir)]);
  for (const build of ctx.builds.values()) {
    if (build.rules.some((r) => r.kind === "npm_link_all_packages") && !importers.has(build.pkg)) {
      ctx.findings.push({
        check: "sync",
        file: build.file,
        message: "npm_link_all_packages is only allowed in the root package and in pnpm workspace packages",
      });
    }
  }
  if (!ctx.builds.get("")?.rules.some((r) => r.kind === "npm_link_all_packages")) {
    ctx.findings.push({
      check: "sync",
      file: "BUILD.bazel",
      message: `the root package must call npm_link_all_packages(name = "node_modules")`,
    });
  }
  // Every workspace package another one depends on must be linkable: rules_js maps "link:" to //<dir>:pkg.
  for (const pkg of ctx.workspace.packages) {
    for (const dep of pkg.workspaceDeps) {
      const target = ctx.workspace.byName.get(dep)!;
      const pkgRule = ctx.builds.get(target.dir)?.rules.find((r) => r.name === "pkg");
      if (!pkgRule) {
        ctx.findings.push({
          check: "sync",
          file: `${target.dir}/BUILD.bazel`,
          message: `${pkg.name} depends on ${dep}, so //${target.dir}:pkg must exist`,
        });
      }
    }
  }
}

/**
 * (c) BUILD files agree with the workspace, like Gazelle's check mode: generated files are up to
 * date, and independently of the generator, every package has its targets, deps match package.json
 * and the imports of each file, every test file runs in a jest_test, every :node_modules label
 * exists, and every linked workspace package has a :pkg target.
 */
export function checkSync(root: string, buildFiles: BuildFile[] = readBuildFiles(root)): Finding[] {
  const generation = generate(root);
  const findings: Finding[] = [...generation.findings];
  for (const stale of staleFiles(root, generation.files)) {
    findings.push({ check: "sync", file: stale.path, message: `${describeStale(stale)}\n  run \`pnpm bazel:generate\`` });
  }
  const ctx: SyncContext = {
    root,
    workspace: loadWorkspace(root),
    builds: new Map(buildFiles.map((b) => [b.pkg, b])),
    findings: [],
    jestConfigs: new Set(),
  };
  checkRoot(ctx);
  for (const pkg of ctx.workspace.packages) checkPackage(ctx, pkg);
  for (const build of buildFiles) checkNodeModulesLabels(ctx, build);
  // The generator and the BUILD reading report the same import problems; say each once.
  const seen = new Set(findings.map((f) => `${f.file}\n${f.message}`));
  for (const f of ctx.findings) {
    const key = `${f.file}\n${f.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(f);
    }
  }
  return findings;
}
