import fs from "node:fs";
import path from "node:path";
import { loadWorkspace } from "@monorepo/workspace";
import { type BuildFile, type BuildRule, boolAttr, listAttr, stringAttr } from "../build-files";
import { NpmStore } from "./npm-store";

/**
 * What Bazel would put in a jest_test's runfiles, derived from the BUILD files the way rules_js,
 * rules_ts and rules_jest derive it: the files of every target in `data` and `config`, transitively
 * through `deps` and `data`, the `node_modules` links those targets name, and the store packages
 * behind them. Nothing else: a file no target declares is not there.
 */

/** A file copied into the output tree from the checkout: a source, or what the pnpm build compiled. */
export interface RunfileCopy {
  kind: "copy";
  source: string;
}

/** A relative symlink, as rules_js declares its node_modules links, resolved inside whichever tree it sits in. */
export interface RunfileLink {
  kind: "link";
  target: string;
}

/** `node_modules/.aspect_rules_js/<key>`: a third-party package and the links to its dependencies, pnpm's virtual store folder `source`. */
export interface RunfileStore {
  kind: "store";
  key: string;
  source: string;
}

export type Runfile = RunfileCopy | RunfileLink | RunfileStore;

export interface JestTestTarget {
  label: string;
  pkg: string;
  name: string;
  flaky: boolean;
  /** Bazel's size and the timeout it implies (TEST_SIZE, TEST_TIMEOUT). */
  size: string;
  timeoutSeconds: number;
  /** By path relative to the workspace's runfiles folder (Bazel's short path). */
  runfiles: Map<string, Runfile>;
  /** Files of the targets listed directly in `data`: the only files rules_jest's haste map lets jest see. */
  dataFiles: string[];
  /** The user's jest config (short path), if `config` is set. */
  userConfig?: string;
  /** Where rules_jest anchors rootDir: the config's package when it is the target's own, else the target's package. */
  rootDir: string;
  /** The jest-cli package folder (short path) whose bin/jest.js the test runs. */
  jestCli: string;
}

export class RunfilesModelError extends Error {
  override name = "RunfilesModelError";
}

/** Where rules_js's virtual store sits in the output tree, as rules_js names it. */
export const STORE_ROOT = "node_modules/.aspect_rules_js";

const TIMEOUT_SECONDS: Record<string, number> = { short: 60, moderate: 300, long: 900, eternal: 3600 };
const TIMEOUT_OF_SIZE: Record<string, string> = { small: "short", medium: "moderate", large: "long", enormous: "eternal" };
const COMPILED_EXTENSIONS: Record<string, string> = { ".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs" };

const joinShort = (...parts: string[]) => path.posix.join(...parts.filter((p) => p !== ""));

function parseLabel(label: string, pkg: string): { pkg: string; name: string } {
  if (label.startsWith("@")) throw new RunfilesModelError(`${label}: labels of other repositories are not emulated`);
  if (label.startsWith("//")) {
    const [labelPkg = "", name] = label.slice(2).split(":");
    return { pkg: labelPkg, name: name ?? path.posix.basename(labelPkg) };
  }
  return { pkg, name: label.startsWith(":") ? label.slice(1) : label };
}

/** Everything a package.json declares, as npm_link_all_packages links it. */
function manifestDeps(root: string, pkg: string): Set<string> {
  const file = path.join(root, pkg, "package.json");
  if (!fs.existsSync(file)) return new Set();
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, string> | undefined>;
  return new Set([
    ...Object.keys(json.dependencies ?? {}),
    ...Object.keys(json.devDependencies ?? {}),
    ...Object.keys(json.optionalDependencies ?? {}),
  ]);
}

/** The workspace's BUILD files and pnpm install, read once for every target. */
export class WorkspaceModel {
  readonly rules = new Map<string, BuildRule>();
  readonly store: NpmStore;
  private readonly linkingPackages = new Set<string>();

  constructor(
    readonly root: string,
    buildFiles: BuildFile[],
  ) {
    for (const file of buildFiles) {
      for (const rule of file.rules) {
        if (rule.kind === "npm_link_all_packages") this.linkingPackages.add(file.pkg);
        else this.rules.set(rule.label, rule);
      }
    }
    const workspaceDirs = new Map<string, string>([[fs.realpathSync(root), ""]]);
    for (const pkg of loadWorkspace(root).packages) workspaceDirs.set(fs.realpathSync(path.join(root, pkg.dir)), pkg.dir);
    this.store = new NpmStore(workspaceDirs);
  }

  /** Every jest_test, manual ones included (a label names them; `//...` leaves them out). */
  jestTests(): BuildRule[] {
    return [...this.rules.values()].filter((rule) => rule.kind === "jest_test").sort((a, b) => a.label.localeCompare(b.label));
  }

  target(rule: BuildRule): JestTestTarget {
    const collector = new Collector(this, rule.label);
    const nodeModules = stringAttr(rule, "node_modules");
    if (!nodeModules) throw new RunfilesModelError(`${rule.label}: jest_test needs node_modules`);
    const modules = parseLabel(nodeModules, rule.pkg);
    const modulesLabel = (name: string) => `//${modules.pkg}:${modules.name}/${name}`;
    // The jest_test macro adds these to data itself.
    const implicit = [modulesLabel("jest-cli")];
    if (rule.attrs.get("auto_configure_reporters")?.value !== "False") implicit.push(modulesLabel("jest-junit"));
    const dataFiles = [...listAttr(rule, "data"), ...implicit].flatMap((label) => collector.collect(label, rule.pkg));

    const configLabel = stringAttr(rule, "config");
    let userConfig: string | undefined;
    let rootDir = rule.pkg;
    if (configLabel !== undefined) {
      const files = collector.collect(configLabel, rule.pkg);
      if (files.length !== 1 || !/\.(c|m)?js$|\.json$/.test(files[0]!))
        throw new RunfilesModelError(`${rule.label}: config ${configLabel} must be one .js, .cjs, .mjs or .json file`);
      userConfig = files[0]!;
      if (parseLabel(configLabel, rule.pkg).pkg === rule.pkg) rootDir = path.posix.dirname(userConfig);
    }

    const cliLink = joinShort(modules.pkg, "node_modules", "jest-cli");
    const cli = collector.runfiles.get(cliLink);
    if (cli?.kind !== "link") throw new RunfilesModelError(`${rule.label}: ${modulesLabel("jest-cli")} is not a link to jest-cli`);
    const size = stringAttr(rule, "size") ?? "medium";
    const timeout = stringAttr(rule, "timeout") ?? (rule.attrs.has("size") ? TIMEOUT_OF_SIZE[size] : "short");
    return {
      label: rule.label,
      pkg: rule.pkg,
      name: rule.name,
      flaky: boolAttr(rule, "flaky"),
      size,
      timeoutSeconds: TIMEOUT_SECONDS[timeout ?? "short"] ?? TIMEOUT_SECONDS.short!,
      runfiles: collector.runfiles,
      dataFiles: [...new Set(dataFiles)].sort(),
      userConfig,
      rootDir: rootDir === "." ? "" : rootDir,
      jestCli: path.posix.join(path.posix.dirname(cliLink), cli.target),
    };
  }

  isLinkingPackage(pkg: string): boolean {
    return this.linkingPackages.has(pkg);
  }
}

/** Gathers one test's runfiles; `collect` returns a target's default outputs (what `data` hands rules_jest). */
class Collector {
  readonly runfiles = new Map<string, Runfile>();
  private readonly outputs = new Map<string, string[]>();

  constructor(
    private readonly model: WorkspaceModel,
    private readonly testLabel: string,
  ) {}

  collect(label: string, fromPkg: string): string[] {
    const { pkg, name } = parseLabel(label, fromPkg);
    const key = `//${pkg}:${name}`;
    const known = this.outputs.get(key);
    if (known) return known;
    this.outputs.set(key, []);
    const outputs = this.collectTarget(pkg, name, key);
    this.outputs.set(key, outputs);
    return outputs;
  }

  private fail(message: string): never {
    throw new RunfilesModelError(`${this.testLabel}: ${message}`);
  }

  private collectTarget(pkg: string, name: string, label: string): string[] {
    if (name.startsWith("node_modules/") && this.model.isLinkingPackage(pkg))
      return this.collectLink(pkg, name.slice("node_modules/".length), label);
    const rule = this.model.rules.get(label);
    if (rule?.kind === "ts_project") return this.collectTsProject(rule);
    if (rule?.kind === "js_library") return this.collectJsLibrary(rule);
    if (rule) this.fail(`${label} is a ${rule.kind}, which the emulation does not lay out`);
    return [this.copySource(pkg, name, label)];
  }

  private copySource(pkg: string, name: string, label: string): string {
    const short = joinShort(pkg, name);
    const source = path.join(this.model.root, short);
    if (!fs.existsSync(source) || !fs.statSync(source).isFile()) this.fail(`${label}: no such target or file`);
    this.runfiles.set(short, { kind: "copy", source });
    return short;
  }

  private collectAll(labels: string[], pkg: string): void {
    for (const label of labels) this.collect(label, pkg);
  }

  private collectTsProject(rule: BuildRule): string[] {
    const outDir = stringAttr(rule, "out_dir") ?? "";
    const outputs: string[] = [];
    for (const src of listAttr(rule, "srcs")) {
      if (src.startsWith(":") || src.startsWith("//")) this.fail(`${rule.label}: srcs entry ${src} is a label; only files are emulated`);
      const extension = Object.keys(COMPILED_EXTENSIONS).find((ext) => src.endsWith(ext) && !src.endsWith(`.d${ext}`));
      if (!extension) continue;
      const js = joinShort(rule.pkg, outDir, src.slice(0, -extension.length) + COMPILED_EXTENSIONS[extension]);
      outputs.push(js);
      if (boolAttr(rule, "source_map")) outputs.push(`${js}.map`);
    }
    for (const short of outputs) {
      const source = path.join(this.model.root, short);
      if (!fs.existsSync(source)) this.fail(`${rule.label} compiles to ${short}, which is missing: build first (pnpm build)`);
      this.runfiles.set(short, { kind: "copy", source });
    }
    this.collectAll(listAttr(rule, "data"), rule.pkg);
    this.collectAll(listAttr(rule, "deps"), rule.pkg);
    return outputs;
  }

  private collectJsLibrary(rule: BuildRule): string[] {
    const outputs = listAttr(rule, "srcs").flatMap((src) => this.collect(src, rule.pkg));
    this.collectAll(listAttr(rule, "data"), rule.pkg);
    this.collectAll(listAttr(rule, "deps"), rule.pkg);
    return outputs;
  }

  /** `//pkg:node_modules/name`: the link rules_js makes for a dependency pkg's package.json lists, and what it points at. */
  private collectLink(pkg: string, name: string, label: string): string[] {
    if (!manifestDeps(this.model.root, pkg).has(name))
      this.fail(`${label} does not exist: ${joinShort(pkg, "package.json")} does not list ${name}`);
    const linkPath = joinShort(pkg, "node_modules", name);
    const target = this.model.store.link(path.join(this.model.root, pkg), name);
    let storePackage: string;
    if (target.kind === "workspace") {
      // A workspace package's store entry is a link to its folder in the output tree; its :pkg target brings the files.
      storePackage = joinShort(STORE_ROOT, `${name.replace("/", "+")}@0.0.0`, "node_modules", name);
      this.runfiles.set(storePackage, { kind: "link", target: path.posix.relative(path.posix.dirname(storePackage), target.dir || ".") });
      this.collect(`//${target.dir}:pkg`, pkg);
    } else {
      storePackage = joinShort(STORE_ROOT, target.key, "node_modules", target.name);
      for (const key of this.model.store.closure(target.key))
        this.runfiles.set(joinShort(STORE_ROOT, key), { kind: "store", key, source: this.model.store.sourceOf(key) });
    }
    this.runfiles.set(linkPath, { kind: "link", target: path.posix.relative(path.posix.dirname(linkPath), storePackage) });
    return [linkPath];
  }
}
