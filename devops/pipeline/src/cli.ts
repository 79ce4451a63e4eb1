#!/usr/bin/env node
import os from "node:os";
import path from "node:path";
import { BaseCommand, type CliSpec, runMain } from "@monorepo/cli";
import { findWorkspaceRoot } from "@monorepo/files";
import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { commitOf } from "./git";
import { Output } from "./output";
import type { EngineChoice, PipelineContext } from "./pipelines";

/** The pipelines and all they load, required only once a command runs: --help and usage errors answer without them. */
const pipelines = () => import("./pipelines");

/** Every pipeline command stops its running steps on an interrupt and still writes its reports. */
abstract class PipelineCommand extends BaseCommand {
  static interruptible = true;

  artifacts = Option.String("--artifacts", "artifacts", { description: "Folder for reports, JUnit XML and logs (default ./artifacts)" });

  // One more than the CPUs: test targets spend part of their time waiting on the processes and
  // servers they start, and the extra slot keeps every core busy meanwhile.
  jobs = Option.String("--jobs", String(os.availableParallelism() + 1), {
    description: "How many builds or test targets run at once (default: the number of CPUs plus one)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  engine = Option.String("--engine", "auto", {
    description: "auto: Bazel when it can start here, else pnpm; or force bazel / pnpm",
    validator: t.isEnum(["auto", "bazel", "pnpm"] as const),
  });

  protected pipelineContext(): PipelineContext {
    const root = findWorkspaceRoot(process.cwd());
    if (root === undefined)
      throw new UsageError(`no pnpm-workspace.yaml in ${process.cwd()} or above: run the pipeline inside the repository`);
    return {
      root,
      artifacts: path.resolve(this.artifacts),
      concurrency: this.jobs,
      engine: this.engine as EngineChoice,
      out: new Output(this.context.stdout),
      env: process.env,
      signal: this.context.signal,
    };
  }
}

const EXIT_CODES_HELP =
  "Exit codes: 0 done, every target green; 1 a target red or a step failed; 2 usage error (nothing ran); 130 interrupted by SIGINT or SIGTERM, or the output closed (`| head`): the running steps are stopped and the reports written.";

class CiCommand extends PipelineCommand {
  static paths = [["ci"]];

  static usage = Command.Usage({
    description: "Build and test what the change affects",
    details: `
      With Bazel usable here (bazelisk has downloaded a Bazel, and \`bazel --version\` answers within 2 s), runs \`bazel test //... --config=ci\` without the perf suite and lets Bazel's cache decide what runs.

      Otherwise the pnpm path: the packages with changed files since the base, plus every package depending on them, as pnpm's change filter (\`--filter "...[<base>]"\`) selects them; a change to a root file every package reads (lockfile, package.json, tsconfig, jest configs, pnpm-workspace.yaml, test-targets.json, .gitignore) or to the pipeline itself (pipeline.sh, .ci/, devops/pipeline and the workspace packages it runs on) affects everything. Committed, staged, unstaged and untracked changes all count.

      The base is \`--base\` when given; on a branch, its merge-base with main; on main, HEAD^ (the last commit's change). Without a base, or with \`--all\`, everything is affected.

      Each affected package is built once (with any dependency whose build is stale), in parallel where the graph allows, then its \`//<dir>:test\` target runs; flaky targets (test-targets.json) get their attempts. The perf suite is skipped: \`pipeline.sh perf\` runs it.

      Writes flake-report.json/.md, per-attempt JUnit XML (testlogs/) and per-step logs (logs/) to the artifacts folder, and the markdown report to $GITHUB_STEP_SUMMARY when set. Ends with \`N passed, N failed\`; exits 1 if any target is red.

      ${EXIT_CODES_HELP}
    `,
    examples: [
      ["Test what this branch changed", "$0 ci"],
      ["Compare with a given commit", "$0 ci --base origin/main~3"],
      ["Build and test everything", "$0 ci --all"],
    ],
  });

  static schema = [t.hasMutuallyExclusiveKeys(["all", "base"], { missingIf: "falsy" })];

  base = Option.String("--base", {
    description: "Revision to diff against (default: merge-base with main; HEAD^ on main); not with --all",
  });

  all = Option.Boolean("--all", false, { description: "Build and test every package, whatever changed; not with --base" });

  async execute(): Promise<number> {
    const ctx = this.pipelineContext();
    // A mistyped base is a usage error: said at once, before the engine probe or any build.
    if (this.base !== undefined && !commitOf(ctx.root, this.base))
      throw new UsageError(`--base ${this.base}: not a commit in this repository`);
    return (await pipelines()).ci(ctx, { base: this.base, all: this.all });
  }
}

class TestCommand extends PipelineCommand {
  static paths = [["test"]];

  static usage = Command.Usage({
    description: "Run the whole test suite: every package's test target",
    details: `
      Runs every \`//<dir>:test\` target (not the perf suite), flaky targets with their declared attempts, after building every package that is not up to date. On Bazel, \`bazel test //... --config=ci\` minus the perf suite.

      On the pnpm path, every non-manual jest_test then runs again in the runfiles layout \`bazel test\` would give it (\`bazel-tools runfiles-test\`, run as a process from the workspace's root node_modules, on the outputs just built, \`--jobs\` at a time): read-only runfiles tree, rules_js's node_modules links and launcher environment, Bazel's test environment and .bazelrc's flaky attempts. These results are marked "runfiles layout" in the report, their logs and JUnit XML are under <artifacts>/runfiles/testlogs/, and a red one fails the run. \`--no-runfiles\` skips them for a quicker local run; CI never uses it.

      The last line is \`N passed, N failed\` (test counts summed over targets); the exit code is 1 if any target is red.

      ${EXIT_CODES_HELP}
    `,
    examples: [
      ["Run all tests", "$0 test"],
      ["Run all tests, without the runfiles-layout run", "$0 test --no-runfiles"],
    ],
  });

  runfiles = Option.Boolean("--runfiles", true, {
    description:
      "Also run every jest_test in the runfiles layout after the pnpm-path targets (default; --no-runfiles skips it, never in CI)",
  });

  async execute(): Promise<number> {
    return (await pipelines()).test(this.pipelineContext(), { runfiles: this.runfiles });
  }
}

class BuildCommand extends PipelineCommand {
  static paths = [["build"]];

  static usage = Command.Usage({
    description: "Build every package, removing first the outputs no source produces any more",
    details: `
      The pipeline's own build stage alone: outputs whose source is gone (the compiled copy of a deleted test, say) are removed from each package's \`dist/\`, then TypeScript's solution builder compiles what is out of date, dependencies first. \`pnpm build\` runs this, so a deleted source never leaves an output that still runs.

      Exit codes: 0 built; 1 a package failed to build; 2 usage error; 130 interrupted.
    `,
    examples: [["Build the workspace", "$0 build"]],
  });

  async execute(): Promise<number> {
    return (await pipelines()).build(this.pipelineContext());
  }
}

class PerfCommand extends PipelineCommand {
  static paths = [["perf"]];

  static usage = Command.Usage({
    description: "Run the trading performance suite (//services/trading:perf_test)",
    details: `
      Builds the trading service and its dependencies if needed and runs its \`test:perf\` script (on Bazel, the perf_test target). \`ci\` and \`test\` never run it. PERF_STOCK_COUNT sizes the data set.

      ${EXIT_CODES_HELP}
    `,
    examples: [["Run the perf suite on a smaller data set", "PERF_STOCK_COUNT=100000 $0 perf"]],
  });

  async execute(): Promise<number> {
    return (await pipelines()).perf(this.pipelineContext());
  }
}

class CdCommand extends PipelineCommand {
  static paths = [["cd"]];

  static usage = Command.Usage({
    description: "Run maintenance, then publish and deploy the services whose build output changed",
    details: `
      Builds the services and the maintenance CLI if needed, then runs maintenance; if it fails, cd stops with exit 1 and nothing is published or deployed.

      Each service whose build-output digest (compiled files, package.json, data files, and the same for its workspace runtime deps) differs from the last deploy recorded in .pipeline/deployed.json is published and, concurrently, started on a free 127.0.0.1 port until its readiness path (\`/readiness\`, from @monorepo/health) answers 200; it is then deployed and the deploy recorded. Services go concurrently. Publish and deploy are simulated with each service's durations, from the \`"acme": {"deploy": {"pushSeconds": 10, "deploySeconds": 10}}\` block of its package.json (\`"readinessPath"\` there overrides the path), scaled by SIMULATION_TIME_SCALE.

      VERSION labels what is published (default: the short commit, with -dirty for uncommitted changes). A published version never changes: if a service was already published at VERSION with other content, cd stops with exit 1 before publishing or deploying anything; the same content again is not published twice. The simulated registry keeps what it published in .pipeline/registry.json. cd runs no tests: CI runs \`ci\` on the same commit first.

      ${EXIT_CODES_HELP}
    `,
    examples: [["Deploy as version 1.4.0", "VERSION=1.4.0 $0 cd"]],
  });

  async execute(): Promise<number> {
    const ctx = this.pipelineContext();
    const { cd, defaultVersion } = await pipelines();
    const version = process.env.VERSION?.trim() || defaultVersion(ctx.root);
    return cd(ctx, { version });
  }
}

export const PIPELINE: CliSpec = {
  binaryName: "pipeline.sh",
  binaryLabel: "ACME delivery pipeline",
  commands: [CiCommand, CdCommand, TestCommand, PerfCommand, BuildCommand],
};

if (require.main === module) runMain(PIPELINE);
