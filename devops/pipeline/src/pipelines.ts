import fs from "node:fs";
import path from "node:path";
import { loadTestTargets, loadWorkspace, type Workspace, type WorkspacePackage } from "@monorepo/workspace";
import { type Affected, affectedPackages, everything } from "./affected";
import { BAZEL_PROBE_TIMEOUT_MS, probeBazel, runBazelTests } from "./bazel";
import { type BuildStep, buildTaskId, planBuild, SOLUTION_TASK, SolutionBuild, type SolutionSummary, scriptedBuildTasks } from "./build";
import {
  type Cluster,
  checkReadiness,
  type DeployFacts,
  DeployState,
  deployFacts,
  outputDigest,
  type Registry,
  SimulatedCluster,
  SimulatedRegistry,
  selectDeploys,
  services,
} from "./deploy";
import { changedFiles, GitError, git, resolveBase, shortSha, sourceFiles } from "./git";
import { withDependencies } from "./graph";
import { runJestTarget } from "./jest-target";
import { runLint } from "./lint";
import { type Output, plural, Stopwatch, seconds } from "./output";
import { runCommand, tailOfFile } from "./process";
import {
  buildReport,
  countsLine,
  type FlakeReport,
  headline,
  isGreen,
  isNotRun,
  isRed,
  renderMarkdown,
  type TargetReport,
  targetName,
  writeReport,
} from "./report";
import { RUNFILES_DIR, runRunfilesStage } from "./runfiles";
import { byCriticalPath, type Outcome, runTasks, type Task } from "./scheduler";
import { defaultTarget, PERF_TARGET_LABEL, perfTarget, slug, type TestTarget, testlogsDir } from "./targets";

export type EngineChoice = "auto" | "bazel" | "pnpm";

export interface PipelineContext {
  root: string;
  /** Absolute path of the artifacts folder. */
  artifacts: string;
  concurrency: number;
  engine: EngineChoice;
  out: Output;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  bazelProbeTimeoutMs?: number;
}

/** A failure a person must act on: what failed, in which step, and where its log is. */
interface Failure {
  what: string;
  step: string;
  log?: string;
}

function describeFailure(ctx: PipelineContext, failure: Failure): string {
  const log = failure.log ? `, log: ${path.relative(process.cwd(), path.join(ctx.artifacts, failure.log)) || failure.log}` : "";
  return `FAILED: ${failure.what} (step: ${failure.step}${log})`;
}

async function chooseEngine(ctx: PipelineContext): Promise<"bazel" | "pnpm"> {
  const watch = new Stopwatch();
  if (ctx.engine !== "auto") {
    ctx.out.stage("engine", watch.ms(), "ok", `${ctx.engine} (chosen with --engine)`);
    return ctx.engine;
  }
  const probe = await probeBazel(ctx.root, ctx.bazelProbeTimeoutMs ?? BAZEL_PROBE_TIMEOUT_MS, ctx.signal, ctx.env);
  ctx.out.stage("engine", watch.ms(), "ok", probe.usable ? `bazel (${probe.detail})` : `pnpm (Bazel unusable: ${probe.detail})`);
  return probe.usable ? "bazel" : "pnpm";
}

/**
 * Prints the report, writes its files, closes with the verdict (with `scope`, what the run covered)
 * and the counts line; returns the exit code.
 */
function finish(ctx: PipelineContext, command: string, report: FlakeReport, failures: Failure[], total: Stopwatch, scope?: string): number {
  const watch = new Stopwatch();
  const written = writeReport(report, ctx.artifacts, ctx.env);
  const markdown = path.relative(process.cwd(), written.markdown);
  ctx.out.stage("report", watch.ms(), "ok", `${path.relative(process.cwd(), written.json)}, ${markdown}`);
  ctx.out.line();
  const { summary } = report;
  // The whole table when a person has something to look at; a green run says so in one line.
  if (summary.failed > 0 || summary.flaky > 0 || summary.notRun > 0 || report.caveat) ctx.out.line(renderMarkdown(report).trimEnd());
  else ctx.out.line(`${headline(summary)} (table: ${markdown})`);
  ctx.out.line();
  for (const failure of failures) ctx.out.line(describeFailure(ctx, failure));
  const red = failures.length > 0 || summary.failed > 0;
  const interrupted = ctx.signal?.aborted === true;
  const verdict = red ? "FAILED" : interrupted ? "interrupted" : "passed";
  const ran = interrupted
    ? `${summary.targets - summary.notRun} of ${plural(summary.targets, "target")} ran, ${summary.notRun} not run`
    : scope;
  ctx.out.line(`${command} ${verdict} in ${seconds(total.ms())}${ran ? `: ${ran}` : ""}`);
  ctx.out.line(countsLine(report));
  return red ? 1 : 0;
}

/** JUnit consumers glob testlogs/**: results of targets this run did not run must not linger there (nor under runfiles/). */
function clearTestlogs(ctx: PipelineContext): void {
  fs.rmSync(path.join(ctx.artifacts, "testlogs"), { recursive: true, force: true });
  fs.rmSync(path.join(ctx.artifacts, RUNFILES_DIR), { recursive: true, force: true });
}

/** The Bazel path: one `bazel test`, then the report from its build events. */
async function bazelTests(
  ctx: PipelineContext,
  command: string,
  patterns: string[],
  total: Stopwatch,
  failures: Failure[] = [],
): Promise<number> {
  clearTestlogs(ctx);
  const watch = new Stopwatch();
  const result = await runBazelTests({ root: ctx.root, artifacts: ctx.artifacts, patterns, signal: ctx.signal, env: ctx.env });
  const ok = result.exitCode === 0;
  ctx.out.stage(
    "bazel test",
    watch.ms(),
    ok ? "ok" : "FAILED",
    `bazel test --config=ci -- ${patterns.join(" ")} (exit ${result.exitCode})`,
  );
  if (!ok) failures.push({ what: `bazel test (exit ${result.exitCode})`, step: "bazel test", log: result.log });
  if (!ok) ctx.out.step(tailOfFile(path.join(ctx.artifacts, result.log)));
  return finish(ctx, command, buildReport("bazel", command, result.targets, result.caveat), failures, total);
}

interface PnpmTestRequest {
  /** Packages to build (with their deps) and test. */
  packages: WorkspacePackage[];
  targetOf: (pkg: WorkspacePackage) => TestTarget;
  /** What the run covers, for the verdict line. */
  scope?: string;
  /** After the pnpm-path targets, run every non-manual jest_test again in the runfiles layout. */
  runfiles?: boolean;
}

/**
 * The pnpm path: build what the targets need (each package once, dependencies first; tsc's own
 * up-to-date check skips what is current) and run the targets with their attempts, in one schedule:
 * a target starts as soon as the builds it needs are done, not after the last build, and the
 * longest chains start first.
 */
async function pnpmTests(
  ctx: PipelineContext,
  command: string,
  workspace: Workspace,
  request: PnpmTestRequest,
  total: Stopwatch,
  failures: Failure[] = [],
) {
  clearTestlogs(ctx);
  const watch = new Stopwatch();
  const build = buildStageTasks(
    ctx,
    workspace,
    request.packages.map((p) => p.name),
  );
  const policy = loadTestTargets(ctx.root);
  const targets = request.packages.map(request.targetOf);
  // A target needs the builds of its package and of every package it depends on, directly or not.
  const needs = (target: TestTarget) => [...withDependencies(workspace, [target.packageName])].map(buildTaskId);
  const progress = ctx.out.progress(targets.length, "target");
  const tests: Task<TargetReport>[] = targets.map((target) => ({
    id: target.label,
    deps: needs(target),
    run: async (signal: AbortSignal | undefined) => {
      progress.start(target.label);
      const report = await runJestTarget(target, {
        root: ctx.root,
        artifacts: ctx.artifacts,
        attempts: policy.attemptsFor(target.label),
        env: ctx.env,
        signal,
        onAttempt: (t, attempt, allowed) => {
          const counts = attempt.tests
            ? ` (${attempt.tests.passed} passed, ${attempt.tests.failed} failed)`
            : attempt.error
              ? ` (${attempt.error})`
              : "";
          // The target's last attempt: say how far the run is, for a reader without the live line.
          const last = attempt.status === "PASSED" || attempt.status === "INCOMPLETE" || attempt.attempt >= allowed;
          const done = last ? `; ${progress.finish(t.label)}` : "";
          ctx.out.step(
            `${t.label} attempt ${attempt.attempt}/${allowed}: ${attempt.status} in ${seconds(attempt.durationMs ?? 0)}${counts}${done}`,
          );
        },
      });
      return { ok: isGreen(report.status), value: report };
    },
  }));
  const testBytes = new Map(targets.map((t) => [t.label, testSourceBytes(ctx.root, t.dir)]));
  const isTest = (task: { id: string }) => testBytes.has(task.id);
  // Builds before tests whenever both are ready: they unlock targets. Among each, the longest chain
  // first; the solution builder takes its projects in that order too.
  const ranked = byCriticalPath<BuildStep | TargetReport>([...build.packages, ...tests], (task) => testBytes.get(task.id) ?? 0);
  const rankedBuilds = ranked.filter((task) => !isTest(task));
  build.solution.prioritize(rankedBuilds.map((task) => build.packageOf.get(task.id)!));
  const builds = new BuildProgress(ctx, watch, build.packages.length, failures);
  const outcomes = await runTasks<BuildStep | TargetReport | SolutionSummary>([...build.first, ...rankedBuilds, ...ranked.filter(isTest)], {
    concurrency: ctx.concurrency,
    signal: ctx.signal,
    onSettled: (outcome) => {
      if (!isTest(outcome) && outcome.id !== SOLUTION_TASK) builds.settled(outcome as Outcome<BuildStep>);
    },
  }).finally(() => progress.stop());

  const reports = new Map<string, TargetReport>();
  for (const target of targets) {
    const outcome = outcomes.get(target.label) as Outcome<TargetReport>;
    if (outcome.status === "skipped") {
      const blocker = needs(target)
        .map((id) => outcomes.get(id))
        .find((o) => o && o.status !== "ok");
      reports.set(
        target.label,
        blocker
          ? {
              label: target.label,
              status: "FAILED_TO_BUILD",
              attemptsAllowed: policy.attemptsFor(target.label),
              attempts: [],
              note: `not run: ${blocker.id} ${blocker.status}`,
            }
          : { label: target.label, status: "INCOMPLETE", attempts: [], note: `not run: ${outcome.reason}` },
      );
      continue;
    }
    const report = outcome.value;
    reports.set(target.label, report);
    if (isRed(report.status)) {
      const tries = report.attempts.length > 1 ? ` after ${report.attempts.length} attempts` : "";
      failures.push({
        what: `${target.label} of ${target.packageName} ${report.status}${tries}${report.note ? `: ${report.note}` : ""}`,
        step: "test",
        log: report.attempts.at(-1)?.log,
      });
    }
  }
  const all = [...reports.values()];
  ctx.out.stage("test", watch.ms(), stageStatus(all), stageCounts(all));
  const buildFailed = [...outcomes.entries()].some(([id, outcome]) => !testBytes.has(id) && outcome.status !== "ok");
  if (request.runfiles) all.push(...(await runfilesStage(ctx, buildFailed, failures)));
  return finish(ctx, command, buildReport("pnpm", command, all), failures, total, request.scope);
}

function stageStatus(reports: TargetReport[]): "ok" | "FAILED" | "stopped" {
  const green = reports.filter((r) => isGreen(r.status)).length;
  const notRun = reports.filter((r) => isNotRun(r.status)).length;
  return reports.length - green - notRun > 0 ? "FAILED" : notRun > 0 ? "stopped" : "ok";
}

function stageCounts(reports: TargetReport[]): string {
  const green = reports.filter((r) => isGreen(r.status)).length;
  const flaky = reports.filter((r) => r.status === "FLAKY").length;
  const notRun = reports.filter((r) => isNotRun(r.status)).length;
  const red = reports.length - green - notRun;
  return `${plural(reports.length, "target")}: ${green} green${flaky ? ` (${flaky} flaky)` : ""}, ${red} red${notRun ? `, ${notRun} not run` : ""}`;
}

/**
 * The runfiles-layout run after the pnpm-path targets: it reads the compiled outputs the build stage
 * has just written, so it runs only when every build succeeded (the run is red already otherwise).
 */
async function runfilesStage(ctx: PipelineContext, buildFailed: boolean, failures: Failure[]): Promise<TargetReport[]> {
  const watch = new Stopwatch();
  if (buildFailed || ctx.signal?.aborted) {
    ctx.out.stage(
      "runfiles",
      0,
      "skipped",
      buildFailed ? "a build failed: the runfiles layout needs every compiled output" : "interrupted",
    );
    return [];
  }
  ctx.out.step(`every non-manual jest_test again in the runfiles layout \`bazel test\` gives it, ${ctx.concurrency} at a time`);
  let reports: TargetReport[];
  try {
    reports = await runRunfilesStage({
      root: ctx.root,
      artifacts: ctx.artifacts,
      jobs: ctx.concurrency,
      env: ctx.env,
      signal: ctx.signal,
      onAttempt: (label, attempt, allowed) => {
        const counts = attempt.tests ? ` (${attempt.tests.passed} passed, ${attempt.tests.failed} failed)` : "";
        const error = attempt.error ? `: ${attempt.error}` : "";
        ctx.out.step(
          `${targetName({ label, layout: "runfiles" })} attempt ${attempt.attempt}/${allowed}: ${attempt.status} in ${seconds(attempt.durationMs ?? 0)}${counts}${error}`,
        );
      },
    });
  } catch (error) {
    // The BUILD files or .bazelrc could not be read: the pnpm-path results still get their report.
    const message = (error as Error).message;
    ctx.out.stage("runfiles", watch.ms(), "FAILED", message);
    failures.push({ what: `the runfiles layout could not run: ${message}`, step: "runfiles test" });
    return [];
  }
  for (const report of reports.filter((r) => !isGreen(r.status))) {
    const tries = report.attempts.length > 1 ? ` after ${report.attempts.length} attempts` : "";
    // A write into the read-only trees fails only here, with every test passed: say so on the line.
    const why = report.note ?? report.attempts.at(-1)?.error;
    failures.push({
      what: `${targetName(report)} ${report.status}${tries}${why ? `: ${why}` : ""}`,
      step: "runfiles test",
      log: report.attempts.at(-1)?.log,
    });
  }
  ctx.out.stage(
    "runfiles",
    watch.ms(),
    stageStatus(reports),
    `${stageCounts(reports)} (results: ${path.relative(process.cwd(), path.join(ctx.artifacts, RUNFILES_DIR))})`,
  );
  return reports;
}

/** The size of a package's test sources: it stands for their run time when ordering targets (it ranks this repo's suites as their timings do). */
function testSourceBytes(root: string, dir: string): number {
  const tests = path.join(root, dir, "test");
  if (!fs.existsSync(tests)) return 0;
  return fs
    .readdirSync(tests, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .reduce((sum, f) => sum + fs.statSync(path.join(tests, f)).size, 0);
}

interface BuildStageTasks {
  /** The solution builder's task, when any package builds with tsc: it goes first. */
  first: Task<SolutionSummary>[];
  /** One task per package to build. */
  packages: Task<BuildStep>[];
  /** Package name by build task id. */
  packageOf: Map<string, string>;
  solution: SolutionBuild;
}

/** The build tasks of the wanted packages and their deps: one solution build of the tsc packages, a script run for any other. */
function buildStageTasks(ctx: PipelineContext, workspace: Workspace, wanted: string[]): BuildStageTasks {
  const plan = planBuild(workspace, wanted);
  const options = {
    root: ctx.root,
    artifacts: ctx.artifacts,
    env: ctx.env,
    onStaleOutputs: (pkg: WorkspacePackage, files: number) =>
      ctx.out.step(`${pkg.name}: removed ${plural(files, "compiled file")} that no source produces any more`),
  };
  const solution = new SolutionBuild(plan, options);
  const { solution: solutionTask, projects } = solution.tasks();
  const packages = [...projects, ...scriptedBuildTasks(plan, options)];
  const packageOf = new Map([...plan.solution, ...plan.scripted].map((pkg) => [buildTaskId(pkg.name), pkg.name]));
  return { first: plan.solution.length > 0 ? [solutionTask] : [], packages, packageOf, solution };
}

/** Prints each settled package build, records failures, and closes with the build stage line once all are settled. */
class BuildProgress {
  private built = 0;
  private upToDate = 0;
  private failed = 0;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly watch: Stopwatch,
    private left: number,
    private readonly failures: Failure[],
  ) {
    if (left === 0) this.stageLine();
  }

  settled(outcome: Outcome<BuildStep>): void {
    const { ctx } = this;
    if (outcome.status === "skipped") {
      ctx.out.step(`${outcome.id}: skipped (${outcome.reason})`);
      this.failed++;
    } else if (outcome.status === "ok") {
      if (outcome.value.upToDate) this.upToDate++;
      else {
        this.built++;
        ctx.out.step(`${outcome.id}: ok in ${seconds(outcome.value.durationMs)}`);
      }
    } else {
      const { pkg, durationMs, exitCode, log } = outcome.value;
      this.failed++;
      ctx.out.step(`${outcome.id}: FAILED (${exitCode === null ? "interrupted" : `exit ${exitCode}`}) in ${seconds(durationMs)}`);
      if (log) ctx.out.step(tailOfFile(path.join(ctx.artifacts, log)).replace(/^/gm, "  "));
      this.failures.push({ what: pkg.name, step: "build", log });
    }
    if (--this.left === 0) this.stageLine();
  }

  private stageLine(): void {
    const upToDate = this.upToDate ? `, ${this.upToDate} up to date (tsc's own up-to-date check)` : "";
    const failed = this.failed ? `, ${this.failed} failed or skipped` : "";
    this.ctx.out.stage("build", this.watch.ms(), this.failed ? "FAILED" : "ok", `${this.built} built${failed}${upToDate}`);
  }
}

/** Builds the packages and their deps; returns the outcome per build task id. */
async function buildStage(ctx: PipelineContext, workspace: Workspace, wanted: string[], failures: Failure[]) {
  const watch = new Stopwatch();
  const build = buildStageTasks(ctx, workspace, wanted);
  const progress = new BuildProgress(ctx, watch, build.packages.length, failures);
  const outcomes = await runTasks<BuildStep | SolutionSummary>([...build.first, ...build.packages], {
    concurrency: ctx.concurrency,
    signal: ctx.signal,
    onSettled: (outcome) => {
      if (outcome.id !== SOLUTION_TASK) progress.settled(outcome as Outcome<BuildStep>);
    },
  });
  outcomes.delete(SOLUTION_TASK);
  return outcomes;
}

function describeAffected(affected: Affected, total: number): string {
  if (affected.everything) return `${total === 1 ? "the only package" : `all ${total} packages`}: ${affected.everything}`;
  const changed = affected.packages.filter((p) => p.why.kind === "changed").length;
  return `${affected.packages.length} of ${plural(total, "package")} (${changed} changed, ${affected.packages.length - changed} dependent)`;
}

export interface CiOptions {
  base?: string;
  all?: boolean;
}

/**
 * The formatter and linter (Biome) over the whole tree, or over the changed files for `ci`; a finding
 * fails the run but does not stop the tests, so one run reports both.
 */
async function lintStage(ctx: PipelineContext, files: "all" | string[]): Promise<Failure[]> {
  const watch = new Stopwatch();
  const outcome = await runLint({ root: ctx.root, artifacts: ctx.artifacts, files, env: ctx.env, signal: ctx.signal });
  if (outcome.status === "skipped") {
    ctx.out.stage("lint", watch.ms(), "skipped", outcome.reason);
    return [];
  }
  const scope = outcome.files === "all" ? "every file" : plural(outcome.files, "changed file");
  if (outcome.status === "ok") {
    ctx.out.stage("lint", watch.ms(), "ok", `format and lint clean: ${scope}`);
    return [];
  }
  ctx.out.stage("lint", watch.ms(), "FAILED", `${scope}: ${outcome.detail}`);
  return [{ what: `format and lint (${outcome.detail})`, step: "lint", log: outcome.log }];
}

/** Labels the default test patterns: every target but the perf suite. */
const DEFAULT_PATTERNS = ["//...", `-${PERF_TARGET_LABEL}`];

export async function ci(ctx: PipelineContext, options: CiOptions): Promise<number> {
  const total = new Stopwatch();
  ctx.out.line(`pipeline ci: build and test what the change affects (artifacts: ${path.relative(process.cwd(), ctx.artifacts) || "."})`);
  if ((await chooseEngine(ctx)) === "bazel") return bazelTests(ctx, "ci", DEFAULT_PATTERNS, total, await lintStage(ctx, "all"));

  const watch = new Stopwatch();
  const workspace = loadWorkspace(ctx.root);
  const count = workspace.packages.length;
  let affected: Affected;
  let detail: string;
  let lintFiles: "all" | string[] = "all";
  const base = options.all ? undefined : resolveBase(ctx.root, { base: options.base });
  if (base === undefined) {
    affected = everything(workspace, "--all, whatever changed");
    detail = describeAffected(affected, count);
  } else if (base.kind === "none") {
    affected = everything(workspace, `no base to diff against (${base.reason})`);
    detail = describeAffected(affected, count);
  } else {
    const files = changedFiles(ctx.root, base.sha);
    lintFiles = files;
    affected = await affectedPackages(workspace, base.sha, files, { env: ctx.env, signal: ctx.signal });
    const since = `since ${shortSha(base.sha)}, ${base.description}`;
    if (files.length === 0) detail = `no package: no file changed ${since}`;
    else detail = `${describeAffected(affected, count)}; ${plural(files.length, "changed file")} ${since}`;
  }
  ctx.out.stage("affected", watch.ms(), "ok", detail);
  for (const p of affected.packages) {
    if (p.why.kind === "changed")
      ctx.out.step(`${p.name}: changed (${p.why.files.slice(0, 3).join(", ")}${p.why.files.length > 3 ? ", ..." : ""})`);
    if (p.why.kind === "dependent") ctx.out.step(`${p.name}: depends on ${p.why.on.join(", ")}`);
  }
  if (affected.ignoredFiles.length) ctx.out.step(`changed files no package reads: ${affected.ignoredFiles.join(", ")}`);
  const names = new Set(affected.packages.map((p) => p.name));
  const skipped = workspace.packages.filter((p) => !names.has(p.name)).map((p) => p.name);
  if (skipped.length === count)
    ctx.out.step(`skipped: ${count === 1 ? "the only package" : `all ${count} packages`}, as the change affects none of them`);
  else if (skipped.length) ctx.out.step(`skipped, not affected by the change: ${skipped.join(", ")}`);
  ctx.out.step(`skipped: ${PERF_TARGET_LABEL} (the perf suite runs in \`pipeline.sh perf\`)`);

  const packages = affected.packages.map((p) => workspace.byName.get(p.name)!);
  const scope =
    packages.length === 0
      ? "nothing to build or test"
      : `tested ${packages.length} of ${plural(count, "package")}${skipped.length ? ` (${skipped.length} not affected)` : ""}`;
  const failures = await lintStage(ctx, lintFiles);
  return pnpmTests(ctx, "ci", workspace, { packages, targetOf: defaultTarget, scope }, total, failures);
}

/** The whole default test suite: every package's //<dir>:test, with the flaky attempts. */
export interface TestOptions {
  /** Run every non-manual jest_test again in the runfiles layout after the pnpm-path targets (default true). */
  runfiles?: boolean;
}

export async function test(ctx: PipelineContext, options: TestOptions = {}): Promise<number> {
  const total = new Stopwatch();
  ctx.out.line(`pipeline test: every package's test target (artifacts: ${path.relative(process.cwd(), ctx.artifacts) || "."})`);
  if ((await chooseEngine(ctx)) === "bazel") return bazelTests(ctx, "test", DEFAULT_PATTERNS, total, await lintStage(ctx, "all"));
  const workspace = loadWorkspace(ctx.root);
  const runfiles = options.runfiles ?? true;
  if (!runfiles) ctx.out.step("skipped: the runfiles-layout run (--no-runfiles)");
  const failures = await lintStage(ctx, "all");
  return pnpmTests(ctx, "test", workspace, { packages: workspace.packages, targetOf: defaultTarget, runfiles }, total, failures);
}

/** Every package's build (the build stage alone): what `pnpm build` runs. */
export async function build(ctx: PipelineContext): Promise<number> {
  const workspace = loadWorkspace(ctx.root);
  const failures: Failure[] = [];
  await buildStage(
    ctx,
    workspace,
    workspace.packages.map((p) => p.name),
    failures,
  );
  for (const failure of failures) ctx.out.line(describeFailure(ctx, failure));
  if (ctx.signal?.aborted) return 130;
  return failures.length > 0 ? 1 : 0;
}

/** The trading performance suite alone. */
export async function perf(ctx: PipelineContext): Promise<number> {
  const total = new Stopwatch();
  ctx.out.line(`pipeline perf: ${PERF_TARGET_LABEL} (artifacts: ${path.relative(process.cwd(), ctx.artifacts) || "."})`);
  if ((await chooseEngine(ctx)) === "bazel") return bazelTests(ctx, "perf", [PERF_TARGET_LABEL], total);
  const workspace = loadWorkspace(ctx.root);
  const trading = workspace.packages.find((p) => `//${p.dir}:perf_test` === PERF_TARGET_LABEL);
  if (!trading) throw new Error(`no package at ${PERF_TARGET_LABEL.split(":")[0].slice(2)} for ${PERF_TARGET_LABEL}`);
  const log = path.join(testlogsDir(ctx.artifacts, PERF_TARGET_LABEL), "test.log");
  ctx.out.step(`the time of each step ("Timing" JSON lines) goes to ${path.relative(process.cwd(), log)}`);
  return pnpmTests(ctx, "perf", workspace, { packages: [trading], targetOf: perfTarget }, total);
}

export interface CdOptions {
  version: string;
  registry?: Registry;
  cluster?: Cluster;
  readinessTimeoutMs?: number;
}

const MAINTENANCE_PACKAGE = "@monorepo/maintenance";

/** The compiled CLI a package's "bin" names (its only one, or the one named after the package folder). */
function binOf(root: string, pkg: WorkspacePackage): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, pkg.dir, "package.json"), "utf8")) as {
    bin?: string | Record<string, string>;
  };
  const bins = typeof manifest.bin === "string" ? [manifest.bin] : Object.values(manifest.bin ?? {});
  const bin = bins.length === 1 ? bins[0] : (manifest.bin as Record<string, string> | undefined)?.[path.posix.basename(pkg.dir)];
  if (!bin) throw new Error(`${pkg.dir}/package.json names no "bin" to run`);
  return path.join(root, pkg.dir, bin);
}
const MAINTENANCE_EXIT: Record<number, string> = {
  1: "a subsystem failed",
  2: "usage error",
  3: "another maintenance run holds the lock",
  4: "the maintenance journal ended out of date",
  130: "interrupted",
};

/** The start of a digest, enough to tell two apart in a message. */
function short(digest: string): string {
  return digest.slice(0, 12);
}

/** The version label when VERSION is not set: the commit, marked when the work tree has changes. */
export function defaultVersion(root: string): string {
  try {
    const sha = shortSha(git(root, ["rev-parse", "HEAD"]).trim());
    const dirty = git(root, ["status", "--porcelain"]).trim() !== "";
    return dirty ? `${sha}-dirty` : sha;
  } catch (error) {
    if (error instanceof GitError) return "unversioned";
    throw error;
  }
}

/**
 * Maintenance first (a failure stops everything: nothing is deployed); then, for each service whose
 * build output changed since its last deploy, publish and readiness-check concurrently, deploy once
 * both succeeded, and record the deploy. Services go concurrently. cd runs no tests: CI runs `ci`
 * on the same commit before `cd`.
 */
export async function cd(ctx: PipelineContext, options: CdOptions): Promise<number> {
  const total = new Stopwatch();
  ctx.out.line(`pipeline cd: maintenance, then publish and deploy changed services as version ${options.version}`);
  const workspace = loadWorkspace(ctx.root);
  const serviceList = services(workspace);
  const failures: Failure[] = [];
  const close = (ok: boolean, summary: string) => {
    for (const failure of failures) ctx.out.line(describeFailure(ctx, failure));
    ctx.out.line(`cd ${ok ? "passed" : "FAILED"} in ${seconds(total.ms())}: ${summary}`);
    return ok ? 0 : 1;
  };

  const wanted = [...serviceList.map((s) => s.name), ...(workspace.byName.has(MAINTENANCE_PACKAGE) ? [MAINTENANCE_PACKAGE] : [])];
  const built = await buildStage(ctx, workspace, wanted, failures);
  if ([...built.values()].some((o) => o.status !== "ok")) return close(false, "the build failed; nothing deployed");

  let watch = new Stopwatch();
  const maintenance = workspace.byName.get(MAINTENANCE_PACKAGE);
  if (!maintenance) return close(false, `${MAINTENANCE_PACKAGE} is not in the workspace; nothing deployed`);
  const maintenanceLog = path.join(ctx.artifacts, "logs", "maintenance.log");
  const result = await runCommand(
    process.execPath,
    [binOf(ctx.root, maintenance), "--json", path.join(ctx.artifacts, "maintenance.json")],
    { cwd: ctx.root, env: ctx.env, logFile: maintenanceLog, signal: ctx.signal },
  );
  if (result.exitCode !== 0) {
    const why = result.aborted ? "interrupted" : (MAINTENANCE_EXIT[result.exitCode ?? -1] ?? `exit ${result.exitCode}`);
    ctx.out.stage("maintenance", watch.ms(), "FAILED", `${why}; stopping before any publish or deploy`);
    ctx.out.step(tailOfFile(maintenanceLog));
    failures.push({ what: `${MAINTENANCE_PACKAGE} (${why})`, step: "maintenance", log: path.relative(ctx.artifacts, maintenanceLog) });
    return close(false, "maintenance failed; nothing published or deployed");
  }
  ctx.out.stage("maintenance", watch.ms(), "ok", `report: ${path.relative(process.cwd(), path.join(ctx.artifacts, "maintenance.json"))}`);

  watch = new Stopwatch();
  const tracked = sourceFiles(ctx.root);
  const digests = new Map(serviceList.map((s) => [s.name, outputDigest(workspace, s.name, tracked)]));
  const state = new DeployState(ctx.root);
  const selection = selectDeploys(digests, state);
  const chosen = selection.filter((s) => s.deploy);
  ctx.out.stage(
    "select",
    watch.ms(),
    "ok",
    `${chosen.length} of ${plural(selection.length, "service")} to deploy (build output digests vs ${path.relative(ctx.root, state.file)})`,
  );
  for (const s of selection) ctx.out.step(`${s.service}: ${s.deploy ? "deploy" : "skip"}, ${s.reason}`);

  const skipped = selection.filter((s) => !s.deploy).map((s) => s.service);
  const unchanged = skipped.length ? `; unchanged, not deployed: ${skipped.join(", ")}` : "";
  if (chosen.length === 0) {
    ctx.out.stage("deploy", 0, "skipped", "no service's build output changed since its last deploy");
    return close(true, `deployed nothing${unchanged}`);
  }

  let facts: Map<string, DeployFacts>;
  try {
    facts = new Map(chosen.map(({ service }) => [service, deployFacts(ctx.root, workspace.byName.get(service)!)]));
  } catch (error) {
    failures.push({ what: (error as Error).message, step: "deploy facts" });
    return close(false, "a service's deploy facts are missing; nothing published or deployed");
  }
  const factsOf = (service: string) => facts.get(service)!;

  // A release is immutable: a version already published with other content is refused before
  // anything is published or deployed; the same content again is not published twice.
  watch = new Stopwatch();
  const registry = options.registry ?? new SimulatedRegistry(ctx.root, factsOf, ctx.env);
  const known = await Promise.all(
    chosen.map(async (s) => ({ ...s, published: await registry.publishedDigest(s.service, options.version, ctx.signal) })),
  );
  const conflicts = known.filter((s) => s.published !== undefined && s.published !== s.digest);
  if (conflicts.length > 0) {
    ctx.out.stage("release", watch.ms(), "FAILED", `version ${options.version} is already published with other content`);
    for (const s of conflicts) {
      failures.push({
        what: `${s.service}@${options.version} was already published with other content (build output ${short(s.published!)}, this build ${short(s.digest)}); a published version never changes: set another VERSION`,
        step: "release",
      });
    }
    return close(false, "nothing published or deployed");
  }
  const republished = new Set(known.filter((s) => s.published === s.digest).map((s) => s.service));
  const again = republished.size ? `, ${plural(republished.size, "service")} already published with this content` : "";
  ctx.out.stage("release", watch.ms(), "ok", `version ${options.version}: ${chosen.length - republished.size} to publish${again}`);

  watch = new Stopwatch();
  const cluster = options.cluster ?? new SimulatedCluster(factsOf, ctx.env);
  const deployed: string[] = [];
  const progress = ctx.out.progress(chosen.length, "service");
  await Promise.all(
    chosen.map(async ({ service, digest }) => {
      progress.start(service);
      const pkg = workspace.byName.get(service)!;
      const image = { service, version: options.version, digest };
      const { readinessPath } = factsOf(service);
      const readinessLog = path.join(ctx.artifacts, "logs", `${slug(pkg.dir)}.readiness.log`);
      let step = "publish";
      try {
        const started = new Stopwatch();
        const publish = republished.has(service)
          ? Promise.resolve(
              ctx.out.step(`${service}: ${service}:${image.version} already published with this content, not published again`),
            )
          : registry
              .publish(image, ctx.signal)
              .then(() => ctx.out.step(`${service}: published ${service}:${image.version} in ${seconds(started.ms())}`));
        const [, ready] = await Promise.all([
          publish,
          checkReadiness(pkg, {
            root: ctx.root,
            path: readinessPath,
            logFile: readinessLog,
            signal: ctx.signal,
            env: ctx.env,
            timeoutMs: options.readinessTimeoutMs,
          }).catch((error: Error) => {
            step = "readiness";
            throw error;
          }),
        ]);
        ctx.out.step(`${service}: ready on 127.0.0.1:${ready.port} (GET ${readinessPath} 200) after ${seconds(ready.ms)}`);
        step = "deploy";
        const deployWatch = new Stopwatch();
        await cluster.deploy(image, ctx.signal);
        state.record(service, { digest, version: options.version, deployedAt: new Date().toISOString() });
        ctx.out.step(`${service}: deployed ${service}:${image.version} in ${seconds(deployWatch.ms())}; ${progress.finish(service)}`);
        deployed.push(service);
      } catch (error) {
        ctx.out.step(`${service}: ${step} FAILED: ${(error as Error).message}; ${progress.finish(service)}`);
        failures.push({
          what: `${service}: ${(error as Error).message}`,
          step,
          log: step === "readiness" ? path.relative(ctx.artifacts, readinessLog) : undefined,
        });
      }
    }),
  ).finally(() => progress.stop());
  deployed.sort((a, b) => chosen.findIndex((c) => c.service === a) - chosen.findIndex((c) => c.service === b));
  const ok = deployed.length === chosen.length;
  ctx.out.stage("deploy", watch.ms(), ok ? "ok" : "FAILED", `${deployed.length} of ${chosen.length} deployed`);
  return close(ok, `deployed ${deployed.length ? deployed.map((s) => `${s}@${options.version}`).join(", ") : "nothing"}${unchanged}`);
}
