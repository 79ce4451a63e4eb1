import fs from "node:fs";
import path from "node:path";
import { loadWorkspace, type Workspace } from "@monorepo/workspace";
import { type ModuleFile, readModuleFile, stringAttr } from "./build-files";
import type { Finding } from "./deps";
import { BAZELIGNORE } from "./generate";
import { ToolError } from "./tools";

/**
 * The consistent set researched for this repository from the rules' own sources: rules_jest 0.26 requires
 * rules_js >= 3.0.1, rules_js 3.4.1 needs Bazel >= 7.6, rules_nodejs 6.7.5 knows Node 22.22.2 and
 * rules_ts 3.10.1 mirrors TypeScript 5.9.3. Change them together, after reading the rules' release notes.
 */
export const PINNED_MODULES: Readonly<Record<string, string>> = {
  aspect_rules_jest: "0.26.0",
  aspect_rules_js: "3.4.1",
  aspect_rules_ts: "3.10.1",
  bazel_skylib: "1.9.2",
  platforms: "1.1.0",
  rules_nodejs: "6.7.5",
};
export const PINNED_BAZEL = "8.7.0";
export const PINNED_NODE = "22.22.2";

const NPM_EXTENSION = "@aspect_rules_js//npm:extensions.bzl%npm";
const NODE_EXTENSION = "@rules_nodejs//nodejs:extensions.bzl%node";
const TS_EXTENSION = "@aspect_rules_ts//ts:extensions.bzl%typescript";

/**
 * (g) MODULE.bazel pins the researched versions and wires the extensions the way the BUILD files
 * rely on; .bazelversion pins Bazel; node_modules folders are kept out of Bazel's package tree.
 */
export function checkModule(root: string): Finding[] {
  const findings: Finding[] = [];
  const finding = (file: string, message: string) => findings.push({ check: "module", file, message });
  const versionFile = path.join(root, ".bazelversion");
  const bazelVersion = fs.existsSync(versionFile) ? fs.readFileSync(versionFile, "utf8").trim() : undefined;
  if (bazelVersion !== PINNED_BAZEL)
    finding(".bazelversion", `must be ${PINNED_BAZEL} (bazelisk downloads that Bazel), found ${bazelVersion ?? "no file"}`);
  if (!fs.existsSync(path.join(root, "MODULE.bazel"))) {
    finding("MODULE.bazel", "missing");
    return findings;
  }
  let module: ModuleFile;
  try {
    module = readModuleFile(root);
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    finding("MODULE.bazel", `cannot be read: ${error.message}`);
    return findings;
  }
  const variableOf = (extension: string) => [...module.extensions].find(([, id]) => id === extension)?.[0];
  const deps = new Map(
    module.calls.filter((c) => c.kind === "bazel_dep").map((c) => [stringAttr(c, "name") ?? "", stringAttr(c, "version")]),
  );
  for (const [name, version] of Object.entries(PINNED_MODULES)) {
    if (!deps.has(name)) finding("MODULE.bazel", `bazel_dep ${name} ${version} is missing`);
    else if (deps.get(name) !== version)
      finding("MODULE.bazel", `bazel_dep ${name} is ${String(deps.get(name))}; the researched consistent set pins ${version}`);
  }

  const tags = (extension: string, tag: string) => {
    const variable = variableOf(extension);
    return variable ? module.calls.filter((c) => c.kind === `${variable}.${tag}`) : [];
  };

  const toolchains = tags(NODE_EXTENSION, "toolchain");
  if (toolchains.length !== 1 || stringAttr(toolchains[0]!, "node_version") !== PINNED_NODE) {
    finding("MODULE.bazel", `needs one node.toolchain(node_version = "${PINNED_NODE}") from ${NODE_EXTENSION}`);
  }

  const locks = tags(NPM_EXTENSION, "npm_translate_lock");
  const lock = locks[0];
  if (locks.length !== 1 || !lock) {
    finding("MODULE.bazel", `needs one npm.npm_translate_lock from ${NPM_EXTENSION}`);
  } else {
    if (stringAttr(lock, "name") !== "npm")
      finding("MODULE.bazel", `npm_translate_lock must be named "npm" (BUILD files load @npm//:defs.bzl)`);
    if (stringAttr(lock, "pnpm_lock") !== "//:pnpm-lock.yaml")
      finding("MODULE.bazel", `npm_translate_lock must read pnpm_lock = "//:pnpm-lock.yaml"`);
    if (lock.attrs.has("update_pnpm_lock")) {
      finding(
        "MODULE.bazel",
        "update_pnpm_lock runs pnpm inside Bazel and fails the first build; update the lockfile with `pnpm install` instead",
      );
    }
    const hasNpmrc = fs.existsSync(path.join(root, ".npmrc"));
    if (hasNpmrc && stringAttr(lock, "npmrc") !== "//:.npmrc")
      finding(
        "MODULE.bazel",
        `.npmrc exists, so npm_translate_lock must declare npmrc = "//:.npmrc" (rules_js 3 refuses an undeclared one)`,
      );
    if (!hasNpmrc && lock.attrs.has("npmrc")) finding("MODULE.bazel", "npm_translate_lock declares an npmrc, but there is no .npmrc");
  }
  if (!(module.useRepo.get(variableOf(NPM_EXTENSION) ?? "") ?? []).includes("npm")) finding("MODULE.bazel", `needs use_repo(npm, "npm")`);

  const ts = tags(TS_EXTENSION, "deps");
  if (ts.length !== 1 || stringAttr(ts[0]!, "version_from") !== "//:package.json") {
    finding("MODULE.bazel", `needs one typescript.deps(version_from = "//:package.json") from ${TS_EXTENSION}`);
  }
  if (!(module.useRepo.get(variableOf(TS_EXTENSION) ?? "") ?? []).includes("npm_typescript")) {
    finding("MODULE.bazel", `needs use_repo(typescript, "npm_typescript"): ts_project's defaults name @npm_typescript`);
  }
  const rootManifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
  const typescript = rootManifest.devDependencies?.typescript;
  if (!typescript || !/^\d+\.\d+\.\d+$/.test(typescript)) {
    finding(
      "package.json",
      `devDependencies.typescript must be an exact version for typescript.deps(version_from), found ${typescript ?? "none"}`,
    );
  }
  // The pipeline compiles packages in-process with its own typescript dependency, ts_project with the
  // root's: one compiler for both, or the two paths could disagree about the same code.
  const workspace = loadWorkspace(root);
  for (const pkg of workspace.packages) {
    const own = pkg.dependencies.typescript ?? pkg.devDependencies.typescript;
    if (own !== undefined && own !== typescript) {
      finding(
        `${pkg.dir}/package.json`,
        `typescript is ${own}, the root pins ${typescript ?? "none"}: every package that compiles with TypeScript must use the root's`,
      );
    }
  }

  findings.push(...checkIgnored(workspace));
  return findings;
}

/** pnpm's node_modules folders must not become Bazel packages: REPO.bazel (Bazel 8) and .bazelignore (Bazel 7, buildozer). */
function checkIgnored({ root, packages }: Workspace): Finding[] {
  const findings: Finding[] = [];
  const repoFile = path.join(root, "REPO.bazel");
  const repoText = fs.existsSync(repoFile) ? fs.readFileSync(repoFile, "utf8") : "";
  if (!/ignore_directories\(\s*\[[^\]]*"\*\*\/node_modules"/.test(repoText)) {
    findings.push({ check: "module", file: "REPO.bazel", message: `needs ignore_directories(["**/node_modules"])` });
  }
  const ignoreFile = path.join(root, BAZELIGNORE);
  const lines = fs.existsSync(ignoreFile)
    ? fs
        .readFileSync(ignoreFile, "utf8")
        .split("\n")
        .map((l) => l.trim().replace(/\/$/, ""))
    : [];
  for (const line of lines.filter((l) => l.includes("*"))) {
    findings.push({ check: "module", file: BAZELIGNORE, message: `"${line}": .bazelignore takes literal paths, not globs` });
  }
  const needed = ["node_modules", ...packages.map((p) => `${p.dir}/node_modules`)];
  for (const dir of needed.filter((d) => !lines.includes(d))) {
    findings.push({ check: "module", file: BAZELIGNORE, message: `lacks ${dir}; run \`pnpm bazel:generate\`` });
  }
  return findings;
}
