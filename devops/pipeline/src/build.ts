import fs from "node:fs";
import path from "node:path";
import { topologicalOrder, type Workspace, WorkspaceError, type WorkspacePackage } from "@monorepo/workspace";
import type * as TypeScript from "typescript";
import { withDependencies } from "./graph";
import { plural } from "./output";
import { runPackageScript } from "./process";
import type { Task } from "./scheduler";
import { slug } from "./targets";

/**
 * The build script of every package: the pipeline runs those packages with tsc's own solution
 * builder instead, after removing the outputs no source produces. A package built on its own
 * (`pnpm -F <pkg> build`) starts from an empty dist/ for the same reason: tsc --build never deletes
 * the compiled copy of a deleted source, which jest would still run.
 */
export const TSC_BUILD_SCRIPT = "rm -rf dist && tsc --build";

/** The id of the task that runs the solution builder. */
export const SOLUTION_TASK = "tsc --build";

export function buildTaskId(name: string): string {
  return `build ${name}`;
}

export interface BuildStep {
  pkg: WorkspacePackage;
  /** tsc found its outputs up to date: nothing was compiled. */
  upToDate: boolean;
  durationMs: number;
  /** The script's exit status; for a tsc project, the one `tsc --build` would have (2: errors, 1: unusable tsconfig); null when interrupted. */
  exitCode: number | null;
  /** Relative to the artifacts folder; none for a project that was up to date. */
  log?: string;
}

/** What the solution builder did with its projects. */
export interface SolutionSummary {
  built: number;
  upToDate: number;
  failed: number;
}

export interface BuildPlan {
  /** The packages built by the solution builder, dependencies first. */
  solution: WorkspacePackage[];
  /** The packages whose build script is something else, run through sh, dependencies first. */
  scripted: WorkspacePackage[];
}

/** The wanted packages and their workspace deps, split by how they build. */
export function planBuild(workspace: Workspace, wanted: Iterable<string>): BuildPlan {
  const closure = withDependencies(workspace, wanted);
  const packages = topologicalOrder(workspace).filter((p) => closure.has(p.name));
  const solution = packages.filter((p) => p.scripts.build === TSC_BUILD_SCRIPT);
  const inSolution = new Set(solution.map((p) => p.name));
  for (const pkg of solution) {
    const outside = pkg.workspaceDeps.filter((dep) => !inSolution.has(dep));
    if (outside.length > 0) {
      throw new WorkspaceError(
        `${pkg.dir}: its build is \`${TSC_BUILD_SCRIPT}\`, which builds the packages it references with tsc, but ${outside.join(", ")} build${outside.length > 1 ? "" : "s"} with another script; make every build script \`${TSC_BUILD_SCRIPT}\``,
      );
    }
  }
  return { solution, scripted: packages.filter((p) => !inSolution.has(p.name)) };
}

export interface BuildOptions {
  root: string;
  artifacts: string;
  env?: NodeJS.ProcessEnv;
  /** Called for each package whose output folder held files no source produces any more, once they are removed. */
  onStaleOutputs?: (pkg: WorkspacePackage, files: number) => void;
}

function logPath(artifacts: string, pkg: WorkspacePackage): string {
  return path.join(artifacts, "logs", `${slug(pkg.dir)}.build.log`);
}

/** One task per package whose build is another script: it runs through sh once its workspace deps are built. */
export function scriptedBuildTasks(plan: BuildPlan, options: BuildOptions): Task<BuildStep>[] {
  return plan.scripted.map((pkg) => ({
    id: buildTaskId(pkg.name),
    deps: pkg.workspaceDeps.map(buildTaskId),
    run: async (signal: AbortSignal | undefined) => {
      const log = logPath(options.artifacts, pkg);
      const script = pkg.scripts.build;
      if (!script) throw new Error(`${pkg.dir}/package.json has no "build" script`);
      const result = await runPackageScript(options.root, path.join(options.root, pkg.dir), script, [], {
        env: options.env,
        logFile: log,
        signal,
      });
      return {
        ok: result.exitCode === 0 && !result.aborted,
        value: {
          pkg,
          upToDate: false,
          durationMs: result.durationMs,
          exitCode: result.exitCode,
          log: path.relative(options.artifacts, log),
        },
      };
    },
  }));
}

type Settled = { ok: boolean; value: BuildStep };

/** Every file under `dir`, absolute. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Empty folders under `dir`, deepest first. */
function removeEmptyFolders(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = path.join(dir, entry.name);
    removeEmptyFolders(sub);
    if (fs.readdirSync(sub).length === 0) fs.rmdirSync(sub);
  }
}

/**
 * Removes from a project's output folders every file tsc would not write from its current sources
 * (tsc's own mapping of each input to its outputs, plus its .tsbuildinfo): the compiled copy of a
 * deleted test would otherwise still run. Only output folders inside the package and apart from its
 * sources are touched. Returns how many files went.
 */
export function removeStaleOutputs(ts: typeof TypeScript, config: TypeScript.ParsedCommandLine, packageDir: string): number {
  const folders = [config.options.outDir, config.options.declarationDir]
    .filter((dir): dir is string => dir !== undefined)
    .map((dir) => path.resolve(dir))
    .filter((dir) => {
      const rel = path.relative(packageDir, dir);
      return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
    });
  if (folders.length === 0) return 0;
  const ignoreCase = !ts.sys.useCaseSensitiveFileNames;
  const expected = new Set<string>();
  for (const file of config.fileNames)
    for (const output of ts.getOutputFileNames(config, file, ignoreCase)) expected.add(path.resolve(output));
  const buildInfo = ts.getTsBuildInfoEmitOutputFilePath(config.options);
  if (buildInfo) expected.add(path.resolve(buildInfo));
  let removed = 0;
  for (const folder of new Set(folders)) {
    for (const file of filesUnder(folder)) {
      if (expected.has(file)) continue;
      fs.rmSync(file);
      removed++;
    }
    if (fs.existsSync(folder)) removeEmptyFolders(folder);
  }
  return removed;
}

/**
 * Builds the plan's tsc packages in one process with TypeScript's own solution builder, the engine
 * of `tsc --build`: its .tsbuildinfo files decide what is up to date, declarations under
 * node_modules are parsed once for all projects. One task runs the builder and holds one slot (it
 * uses one CPU); each package gets a task that holds none and settles when the builder is done with
 * that project, so what needs the package (its tests) can start while the builder goes on.
 */
export class SolutionBuild {
  private readonly settlers = new Map<string, (settled: Settled) => void>();
  private readonly settled = new Map<string, Promise<Settled>>();
  private readonly results = new Map<string, Settled>();
  private priority: string[] = [];

  constructor(
    private readonly plan: BuildPlan,
    private readonly options: BuildOptions,
  ) {
    for (const pkg of plan.solution) {
      this.settled.set(pkg.name, new Promise((resolve) => this.settlers.set(pkg.name, resolve)));
    }
  }

  /** Package names, most urgent first (the scheduler's longest chains): the builder takes them in that order where the graph allows. */
  prioritize(names: string[]): void {
    this.priority = names;
  }

  /** The task running the builder, then one per package. */
  tasks(): { solution: Task<SolutionSummary>; projects: Task<BuildStep>[] } {
    const projects = this.plan.solution.map((pkg) => ({
      id: buildTaskId(pkg.name),
      deps: pkg.workspaceDeps.map(buildTaskId),
      usesSlot: false,
      run: () => this.settled.get(pkg.name)!,
    }));
    const solution = {
      id: SOLUTION_TASK,
      deps: [],
      run: async (signal: AbortSignal | undefined) => {
        const summary = await this.run(signal);
        return { ok: summary.failed === 0, value: summary };
      },
    };
    return { solution, projects };
  }

  private settle(pkg: WorkspacePackage, settled: Settled): void {
    if (this.results.has(pkg.name)) return;
    this.results.set(pkg.name, settled);
    this.settlers.get(pkg.name)!(settled);
  }

  /** Dependencies first; among the packages ready at each step, the earliest in the priority list. */
  private buildOrder(): WorkspacePackage[] {
    const rank = new Map(this.priority.map((name, index) => [name, index]));
    const left = [...this.plan.solution];
    const placed = new Set<string>();
    const order: WorkspacePackage[] = [];
    while (left.length > 0) {
      const ready = left.filter((pkg) => pkg.workspaceDeps.every((dep) => placed.has(dep)));
      ready.sort((a, b) => (rank.get(a.name) ?? Infinity) - (rank.get(b.name) ?? Infinity));
      const next = ready[0]!;
      left.splice(left.indexOf(next), 1);
      placed.add(next.name);
      order.push(next);
    }
    return order;
  }

  private writeLog(pkg: WorkspacePackage, body: string): string {
    const log = logPath(this.options.artifacts, pkg);
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(
      log,
      `${SOLUTION_TASK} (in the pipeline's process: one solution builder for ${plural(this.plan.solution.length, "package")})\n${body}`,
    );
    return path.relative(this.options.artifacts, log);
  }

  /** tsc's own format, file names relative to the package ("src/a.ts(3,1): error TS2304: ..."). */
  private format(ts: typeof TypeScript, pkg: WorkspacePackage, diagnostics: readonly TypeScript.Diagnostic[]): string {
    const packageDir = path.join(this.options.root, pkg.dir);
    return ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => packageDir,
      getNewLine: () => "\n",
    });
  }

  /**
   * The package's parsed tsconfig, and why it cannot go to the builder: it does not parse, or its
   * references are not the workspace packages it depends on (tsc would build in another order than
   * the one the schedule was made for).
   */
  private parse(
    ts: typeof TypeScript,
    pkg: WorkspacePackage,
  ): { configFile: string; config?: TypeScript.ParsedCommandLine; problem?: string } {
    const configFile = path.join(this.options.root, pkg.dir, "tsconfig.json");
    const errors: TypeScript.Diagnostic[] = [];
    const config = ts.getParsedCommandLineOfConfigFile(configFile, undefined, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => errors.push(d),
    });
    errors.push(...(config?.errors ?? []));
    if (!config || errors.length > 0) return { configFile, config, problem: this.format(ts, pkg, errors) };
    const tsconfigOf = (dir: string) => path.join(this.options.root, dir, "tsconfig.json");
    const expected = pkg.workspaceDeps.map((dep) => tsconfigOf(this.byName(dep).dir)).filter((file) => fs.existsSync(file));
    const actual = (config.projectReferences ?? []).map((ref) =>
      path.resolve(ref.path.endsWith(".json") ? ref.path : path.join(ref.path, "tsconfig.json")),
    );
    const show = (files: string[]) =>
      files
        .map((f) => path.relative(this.options.root, path.dirname(f)))
        .sort()
        .join(", ") || "none";
    if (show(expected) !== show(actual)) {
      return {
        configFile,
        config,
        problem: `tsconfig.json references ${show(actual)}, but the package depends on ${show(expected)}: run \`pnpm bazel:generate\`\n`,
      };
    }
    return { configFile, config };
  }

  private byName(name: string): WorkspacePackage {
    return this.plan.solution.find((p) => p.name === name)!;
  }

  private async run(signal: AbortSignal | undefined): Promise<SolutionSummary> {
    const summary: SolutionSummary = { built: 0, upToDate: 0, failed: 0 };
    const order = this.buildOrder();
    const finish = (pkg: WorkspacePackage, settled: Settled) => {
      if (!settled.ok) summary.failed++;
      else if (settled.value.upToDate) summary.upToDate++;
      else summary.built++;
      this.settle(pkg, settled);
    };
    try {
      // Loaded here, not at start-up: the compiler is 9 MB of JavaScript, and most runs never build.
      const ts = require("typescript") as typeof TypeScript;
      const projects: Array<{ pkg: WorkspacePackage; configFile: string }> = [];
      for (const pkg of order) {
        const { configFile, config, problem } = this.parse(ts, pkg);
        const removed = config ? removeStaleOutputs(ts, config, path.join(this.options.root, pkg.dir)) : 0;
        if (removed > 0) this.options.onStaleOutputs?.(pkg, removed);
        const step = { pkg, upToDate: false, durationMs: 0 };
        if (problem !== undefined) finish(pkg, { ok: false, value: { ...step, exitCode: 1, log: this.writeLog(pkg, problem) } });
        else if (pkg.workspaceDeps.some((dep) => this.results.has(dep)))
          this.settle(pkg, { ok: false, value: { ...step, exitCode: null } });
        else projects.push({ pkg, configFile });
      }
      let current: TypeScript.Diagnostic[] | undefined;
      // Outside a project's build tsc reports only tsconfig problems, which parse() found already.
      const host = ts.createSolutionBuilderHost(
        ts.sys,
        undefined,
        (diagnostic) => current?.push(diagnostic),
        () => undefined,
      );
      // Given in dependency order, with references that are the dependencies, the roots are the
      // order tsc builds in (its own order is the references' depth-first order).
      const builder = ts.createSolutionBuilder(
        host,
        projects.map((p) => p.configFile),
        { stopBuildOnErrors: true },
      );
      const index = new Map(projects.map((p, i) => [path.resolve(p.configFile), i]));
      let next = 0;
      const passOver = (until: number) => {
        // tsc passed over these: up to date, or blocked by a dependency that failed.
        for (; next < until; next++) {
          const { pkg } = projects[next]!;
          if (pkg.workspaceDeps.some((dep) => this.results.get(dep)?.ok === false))
            this.settle(pkg, { ok: false, value: { pkg, upToDate: false, durationMs: 0, exitCode: null } });
          else finish(pkg, { ok: true, value: { pkg, upToDate: true, durationMs: 0, exitCode: 0 } });
        }
      };
      for (;;) {
        // Let the tests started since the last project run their I/O before the next compile holds the thread.
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) break;
        const project = builder.getNextInvalidatedProject();
        const at = project ? (index.get(path.resolve(project.project)) ?? -1) : projects.length;
        passOver(at < 0 ? next : at);
        if (!project) break;
        const diagnostics: TypeScript.Diagnostic[] = [];
        current = diagnostics;
        const projectStarted = Date.now();
        project.done();
        current = undefined;
        if (at < 0) continue;
        next = at + 1;
        const { pkg } = projects[at]!;
        const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
        const compiled = project.kind === ts.InvalidatedProjectKind.Build;
        const value: BuildStep = { pkg, upToDate: !compiled, durationMs: Date.now() - projectStarted, exitCode: errors > 0 ? 2 : 0 };
        finish(pkg, {
          ok: errors === 0,
          value: compiled || errors > 0 ? { ...value, log: this.writeLog(pkg, this.format(ts, pkg, diagnostics)) } : value,
        });
      }
    } finally {
      // Interrupted (or the compiler threw): nothing waits forever for a project.
      for (const pkg of this.plan.solution) this.settle(pkg, { ok: false, value: { pkg, upToDate: false, durationMs: 0, exitCode: null } });
    }
    return summary;
  }
}
