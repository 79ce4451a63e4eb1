import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { type BuildFile, type BuildRule, boolAttr, listAttr, readBuildFiles, stringAttr } from "./build-files";
import { parseLabel } from "./check-sync";
import type { Finding } from "./deps";
import { typesPackageFor } from "./imports";
import {
  MIRRORED_BOOLEANS,
  MIRRORED_DIRECTORIES,
  packageRelativeDir,
  type ResolvedTsconfig,
  resolveTsconfig,
  TsconfigError,
} from "./tsconfig";

interface TsconfigTarget {
  /** Repository-relative tsconfig file. */
  file: string;
  /** Repository-relative files the ts_config chain hands to tsc (the file itself and its deps). */
  provided: Set<string>;
}

/** The tsconfig a ts_project uses: its `tsconfig` attribute (a file or a ts_config), else tsconfig.json beside it. */
function tsconfigOf(project: BuildRule, builds: Map<string, BuildFile>): TsconfigTarget | string {
  const label = stringAttr(project, "tsconfig") ?? "tsconfig.json";
  const { pkg, name } = parseLabel(label, project.pkg);
  const rule = builds.get(pkg)?.rules.find((r) => r.name === name);
  if (!rule) {
    const file = path.posix.join(pkg, name);
    return { file, provided: new Set([file]) };
  }
  if (rule.kind !== "ts_config") return `tsconfig ${label} is a ${rule.kind}, not a ts_config or a file`;
  const src = stringAttr(rule, "src");
  if (!src) return `${rule.label} has no src`;
  const file = path.posix.join(pkg, src);
  const provided = new Set([file]);
  for (const dep of listAttr(rule, "deps")) {
    const target = parseLabel(dep, pkg);
    const depRule = builds.get(target.pkg)?.rules.find((r) => r.name === target.name);
    if (depRule && target.pkg !== pkg && !isVisibleTo(depRule, pkg))
      return `${rule.label} deps has ${depRule.label}, which is not visible to //${pkg} (make it public)`;
    const inner = tsconfigOf({ ...rule, attrs: new Map([["tsconfig", { type: "string", value: dep }]]) }, builds);
    if (typeof inner === "string") return inner;
    inner.provided.forEach((f) => provided.add(f));
  }
  return { file, provided };
}

/** A rule's visibility lets another package use it (a rule is private to its package by default). */
function isVisibleTo(rule: BuildRule, pkg: string): boolean {
  return listAttr(rule, "visibility").some(
    (v) => v === "//visibility:public" || v === `//${pkg}:__pkg__` || v === `//${pkg}:__subpackages__`,
  );
}

function attrValue(project: BuildRule, attr: string): boolean | string {
  const value = project.attrs.get(attr);
  if (!value) return false;
  if (value.type === "string") return value.value;
  return boolAttr(project, attr);
}

/**
 * The comparison rules_ts 3.10's validation action makes (ts_project_options_validator.cjs):
 * an unset option equals a False/"" attribute, and options implied by others
 * (composite -> declaration/incremental, checkJs -> allowJs, module node16+/bundler -> resolveJsonModule)
 * may be left unset on the rule.
 */
export function compareWithTsconfig(project: BuildRule, resolved: ResolvedTsconfig): string[] {
  const options = resolved.compilerOptions;
  const problems: string[] = [];
  const module = String(options.module).toLowerCase();
  const implied: Record<string, () => boolean> = {
    allowJs: () => options.checkJs === true,
    resolveJsonModule: () =>
      ["node16", "node18", "node20", "nodenext", "preserve"].includes(module) ||
      String(options.moduleResolution).toLowerCase() === "bundler",
    declaration: () => options.composite === true && attrValue(project, "composite") === true,
    incremental: () => options.composite === true && attrValue(project, "composite") === true,
  };
  for (const { attr, option } of MIRRORED_BOOLEANS) {
    const optionValue = options[option];
    const setting = attrValue(project, attr);
    const match =
      optionValue === setting ||
      (optionValue === undefined && setting === false) ||
      (optionValue === true && setting === false && (implied[option]?.() ?? false));
    if (!match) {
      const shown = setting === true ? "True" : setting === false ? "False" : setting;
      problems.push(`attribute ${attr}=${shown} does not match compilerOptions.${option}=${String(optionValue)}`);
    }
  }
  let outDir: string | undefined;
  for (const { attr, option } of MIRRORED_DIRECTORIES) {
    let optionDir: string | undefined;
    try {
      optionDir = packageRelativeDir(resolved, option);
    } catch (error) {
      if (!(error instanceof TsconfigError)) throw error;
      problems.push(error.message);
      continue;
    }
    const attrDir = stringAttr(project, attr)
      ?.replace(/^\.\/(?=.)/, "")
      .replace(/\/+$/, "");
    if ((optionDir ?? "") !== (attrDir ?? ""))
      problems.push(`attribute ${attr}=${attrDir ?? "None"} does not match compilerOptions.${option}=${optionDir ?? "undefined"}`);
    if (option === "outDir") outDir = optionDir ?? "";
  }
  if (outDir === "" || outDir === ".")
    problems.push("compilerOptions.outDir must name the package's output folder (e.g. dist): outputs never go beside the sources");
  const jsxPreserve = options.jsx === "preserve";
  if (jsxPreserve !== (attrValue(project, "preserve_jsx") === true))
    problems.push(`attribute preserve_jsx does not match compilerOptions.jsx=${String(options.jsx)}`);
  if (project.attrs.has("ts_build_info_file") || options.tsBuildInfoFile !== undefined)
    problems.push("tsBuildInfoFile / ts_build_info_file must not be set");
  if (attrValue(project, "isolated_typecheck") === true && options.isolatedDeclarations !== true) {
    problems.push("isolated_typecheck=True requires compilerOptions.isolatedDeclarations=true");
  }
  if (options.preserveSymlinks === true)
    problems.push("compilerOptions.preserveSymlinks cannot work with rules_js's symlinked node_modules");
  // jest runs the compiled files as CommonJS; ES modules would need jest's experimental VM modules.
  if (module !== "commonjs")
    problems.push(`compilerOptions.module is ${String(options.module)}; tests and binaries expect CommonJS output`);
  const deps = new Set(listAttr(project, "deps"));
  for (const type of (options.types as string[] | undefined) ?? []) {
    const needed = `:node_modules/${typesPackageFor(type)}`;
    if (!deps.has(needed)) problems.push(`compilerOptions.types names "${type}", so deps needs ${needed} (TS2688 otherwise)`);
  }
  return problems;
}

/** Output and root directories a shared (extended) tsconfig sets itself. */
function sharedDirectoryOptions(file: string): string[] {
  const { config } = ts.readConfigFile(file, ts.sys.readFile);
  const options = (config as { compilerOptions?: Record<string, unknown> } | undefined)?.compilerOptions ?? {};
  return MIRRORED_DIRECTORIES.map((d) => d.option).filter((option) => options[option] !== undefined);
}

/** (d) tsconfig parity: what rules_ts's validator would reject, found without running Bazel. */
export function checkTsconfig(root: string, buildFiles: BuildFile[] = readBuildFiles(root)): Finding[] {
  const builds = new Map(buildFiles.map((b) => [b.pkg, b]));
  const findings: Finding[] = [];
  for (const build of buildFiles) {
    for (const project of build.rules.filter((r) => r.kind === "ts_project")) {
      const finding = (message: string) => findings.push({ check: "tsconfig", file: build.file, message: `${project.label}: ${message}` });
      const target = tsconfigOf(project, builds);
      if (typeof target === "string") {
        finding(target);
        continue;
      }
      const extendsLabel = stringAttr(project, "extends");
      if (extendsLabel) {
        const extra = tsconfigOf({ ...project, attrs: new Map([["tsconfig", { type: "string", value: extendsLabel }]]) }, builds);
        if (typeof extra === "string") {
          finding(extra);
          continue;
        }
        extra.provided.forEach((f) => target.provided.add(f));
      }
      if (!fs.existsSync(path.join(root, target.file))) {
        finding(`${target.file} does not exist`);
        continue;
      }
      let resolved: ResolvedTsconfig;
      try {
        resolved = resolveTsconfig(path.join(root, target.file));
      } catch (error) {
        if (!(error instanceof TsconfigError)) throw error;
        finding(error.message);
        continue;
      }
      // tsc runs in the output tree, where only declared inputs exist: each extended file must come
      // through the ts_config chain.
      for (const parent of resolved.chain.slice(1)) {
        const rel = path.relative(root, parent).split(path.sep).join("/");
        if (!target.provided.has(rel)) finding(`${target.file} extends ${rel}, which its ts_config deps do not provide`);
        for (const option of sharedDirectoryOptions(parent)) {
          finding(
            `${rel} sets compilerOptions.${option}, which resolves against its own folder, outside the package: set it in each package's tsconfig.json`,
          );
        }
      }
      // tsc reads every referenced tsconfig (TS6053 when it is missing from the sandbox); rules_ts
      // adds them only from deps that carry a TsConfigInfo, which :node_modules links do not.
      for (const reference of resolved.references) {
        const rel = path.relative(root, reference).split(path.sep).join("/");
        // A referenced package whose BUILD file is missing or unreadable is reported by sync and format.
        const readable = (builds.get(path.posix.dirname(rel))?.rules.length ?? 0) > 0;
        if (readable && !target.provided.has(rel)) finding(`${target.file} references ${rel}, which its ts_config deps do not provide`);
      }
      compareWithTsconfig(project, resolved).forEach(finding);
    }
  }
  return findings;
}
