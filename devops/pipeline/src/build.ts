import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeJsonFileAtomicSync } from "@monorepo/files";
import { packageOfFile, topologicalOrder, type Workspace, type WorkspacePackage } from "@monorepo/workspace-tools";
import { SharedCompiler, TSC_BUILD_SCRIPT } from "./compile";
import { sourceFiles } from "./git";
import { withDependencies } from "./graph";
import { runPackageScript } from "./process";
import { runTasks, type Outcome, type Task } from "./scheduler";
import { slug } from "./targets";

/** Root files every package's compilation reads. */
const GLOBAL_BUILD_INPUTS = ["tsconfig.base.json", "pnpm-lock.yaml"];
export const STATE_DIR = ".pipeline";
const STAMPS_FILE = "build-stamps.json";

function sha256(data: string | Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

function fileDigest(root: string, file: string): string {
  const abs = path.join(root, file);
  return fs.existsSync(abs) ? sha256(fs.readFileSync(abs)) : "deleted";
}

/**
 * A digest of everything a package's build reads: its source files (tracked and untracked, not
 * ignored, so never its own outputs), the shared compiler inputs, and its workspace deps' digests.
 * Equal digests mean a rebuild would produce the same outputs.
 */
export function inputDigests(workspace: Workspace, files: string[] = sourceFiles(workspace.root)): Map<string, string> {
  const byPackage = new Map<string, string[]>(workspace.packages.map((p) => [p.name, []]));
  for (const file of files) {
    const owner = packageOfFile(workspace, file);
    if (owner) byPackage.get(owner.name)!.push(file);
  }
  const global = GLOBAL_BUILD_INPUTS.map((f) => `${f}\0${fileDigest(workspace.root, f)}`).join("\n");
  const digests = new Map<string, string>();
  for (const pkg of topologicalOrder(workspace)) {
    const own = byPackage
      .get(pkg.name)!
      .sort()
      .map((f) => `${f}\0${fileDigest(workspace.root, f)}`);
    const deps = pkg.workspaceDeps.map((d) => `${d}\0${digests.get(d)}`);
    digests.set(pkg.name, sha256([global, ...own, ...deps].join("\n")));
  }
  return digests;
}

/** True when every TypeScript source in src/ and test/ has its compiled .js beside it. */
export function outputsPresent(root: string, pkg: WorkspacePackage): boolean {
  for (const folder of ["src", "test"]) {
    const dir = path.join(root, pkg.dir, folder);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { recursive: true, encoding: "utf8" })) {
      if (entry.endsWith(".ts") && !entry.endsWith(".d.ts") && !fs.existsSync(path.join(dir, entry.slice(0, -3) + ".js"))) {
        return false;
      }
    }
  }
  return true;
}

/** The digests of the last successful build of each package, kept in .pipeline/ (gitignored). */
export class BuildStamps {
  private readonly file: string;
  private readonly stamps: Record<string, string>;

  constructor(root: string) {
    this.file = path.join(root, STATE_DIR, STAMPS_FILE);
    let stamps: Record<string, string> = {};
    try {
      stamps = JSON.parse(fs.readFileSync(this.file, "utf8")) as Record<string, string>;
    } catch {
      // No stamps yet (or unreadable): everything counts as unbuilt.
    }
    this.stamps = stamps;
  }

  get(name: string): string | undefined {
    return this.stamps[name];
  }

  set(name: string, digest: string | undefined): void {
    if (digest === undefined) delete this.stamps[name];
    else this.stamps[name] = digest;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeJsonFileAtomicSync(this.file, this.stamps);
  }
}

/**
 * pipeline.sh builds the pipeline and the workspace packages it is made of before the CLI can start,
 * and says so in this variable; the CLI then records those builds so that they are not redone.
 */
export const BOOTSTRAP_ENV = "PIPELINE_BOOTSTRAP_BUILT";

export function adoptBootstrapBuild(workspace: Workspace, stamps: BuildStamps, digests: Map<string, string>, pipelinePackage: string): string[] {
  const adopted = [...withDependencies(workspace, [pipelinePackage])]
    .map((name) => workspace.byName.get(name)!)
    .filter((pkg) => outputsPresent(workspace.root, pkg));
  for (const pkg of adopted) stamps.set(pkg.name, digests.get(pkg.name));
  return adopted.map((pkg) => pkg.name).sort();
}

export interface BuildPlan {
  /** In dependency order. */
  toBuild: WorkspacePackage[];
  upToDate: WorkspacePackage[];
  digests: Map<string, string>;
}

/** The wanted packages and their workspace deps, split into those needing a build and those up to date. */
export function planBuild(workspace: Workspace, wanted: Iterable<string>, stamps: BuildStamps, digests = inputDigests(workspace)): BuildPlan {
  const closure = withDependencies(workspace, wanted);
  const toBuild: WorkspacePackage[] = [];
  const upToDate: WorkspacePackage[] = [];
  for (const pkg of topologicalOrder(workspace).filter((p) => closure.has(p.name))) {
    const fresh = stamps.get(pkg.name) === digests.get(pkg.name) && outputsPresent(workspace.root, pkg);
    (fresh ? upToDate : toBuild).push(pkg);
  }
  return { toBuild, upToDate, digests };
}

export interface BuildStep {
  pkg: WorkspacePackage;
  durationMs: number;
  exitCode: number | null;
  /** Relative to the artifacts folder. */
  log: string;
}

export interface BuildOptions {
  artifacts: string;
  concurrency: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  onSettled?: (outcome: Outcome<BuildStep>) => void;
}

export function buildTaskId(name: string): string {
  return `build ${name}`;
}

/** The lane of the in-process compiles: they take turns on the pipeline's thread. */
export const IN_PROCESS_LANE = "in-process compile";

/**
 * One task per planned package, each needing its workspace deps' tasks: its "build" script, run
 * in-process with a compiler shared by the whole run when it is plain `tsc -p tsconfig.json` (every
 * package's), through sh otherwise.
 */
export function buildTasks(workspace: Workspace, plan: BuildPlan, stamps: BuildStamps, options: Pick<BuildOptions, "artifacts" | "env">): Task<BuildStep>[] {
  const compiler = new SharedCompiler();
  return plan.toBuild.map((pkg) => ({
    id: buildTaskId(pkg.name),
    deps: pkg.workspaceDeps.map(buildTaskId),
    lane: pkg.scripts.build === TSC_BUILD_SCRIPT ? IN_PROCESS_LANE : undefined,
    run: async (signal: AbortSignal | undefined) => {
      const log = path.join(options.artifacts, "logs", `${slug(pkg.dir)}.build.log`);
      const script = pkg.scripts.build;
      if (!script) throw new Error(`${pkg.dir}/package.json has no "build" script`);
      stamps.set(pkg.name, undefined);
      const packageDir = path.join(workspace.root, pkg.dir);
      const result =
        script === TSC_BUILD_SCRIPT
          ? await compileInProcess(compiler, packageDir, log, signal)
          : await runPackageScript(workspace.root, packageDir, script, [], { env: options.env, logFile: log, signal });
      const ok = result.exitCode === 0 && !result.aborted;
      if (ok) stamps.set(pkg.name, plan.digests.get(pkg.name));
      return {
        ok,
        value: { pkg, durationMs: result.durationMs, exitCode: result.exitCode, log: path.relative(options.artifacts, log) },
      };
    },
  }));
}

/** The compile as the script would run it, with tsc's exit status (2: errors, outputs written) and its output in the log. */
async function compileInProcess(compiler: SharedCompiler, packageDir: string, log: string, signal: AbortSignal | undefined) {
  // Yield first: the compile holds this thread, so the scheduler starts the other ready tasks before.
  await new Promise((resolve) => setImmediate(resolve));
  if (signal?.aborted) return { exitCode: null, aborted: true, durationMs: 0 };
  const result = compiler.compile(packageDir);
  fs.mkdirSync(path.dirname(log), { recursive: true });
  fs.writeFileSync(log, `${TSC_BUILD_SCRIPT} (in the pipeline's process, declarations shared across packages)\n${result.diagnostics}`);
  return { exitCode: result.ok ? 0 : 2, aborted: false, durationMs: result.durationMs };
}

/** Builds each planned package once, dependencies first, in parallel where the graph allows. */
export async function runBuild(workspace: Workspace, plan: BuildPlan, stamps: BuildStamps, options: BuildOptions) {
  return runTasks(buildTasks(workspace, plan, stamps, options), { concurrency: options.concurrency, signal: options.signal, onSettled: options.onSettled });
}
