import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OperationalError } from "@monorepo/cli";
import { type BuildRule, listAttr, readBuildFiles } from "../build-files";
import { type JestTestTarget, RunfilesModelError, WorkspaceModel } from "./model";
import { NpmLayoutError } from "./npm-store";
import { attemptsFor, readTestSettings, type TestSettings, testEnvironment } from "./test-settings";
import { BINDIR, layOutTarget, removeTree, snapshot, snapshotChanges, type TargetTree, WORKSPACE_NAME } from "./tree";

/** Bazel's status names (build_event_stream.proto), as the pipeline's reports use them. */
export type AttemptStatus = "PASSED" | "FAILED" | "TIMEOUT" | "INCOMPLETE";
export type TargetStatus = AttemptStatus | "FLAKY" | "FAILED_TO_BUILD";

export interface RunfilesAttempt {
  attempt: number;
  status: AttemptStatus;
  exitCode: number | null;
  durationMs: number;
  /** Entries of the read-only output and runfiles trees the attempt added, changed or removed. */
  writes: string[];
  /** Relative to the output folder. */
  log: string;
  junit?: string;
}

export interface RunfilesTargetReport {
  label: string;
  status: TargetStatus;
  attemptsAllowed: number;
  attempts: RunfilesAttempt[];
  /** Why a target never ran (its runfiles could not be laid out, as a Bazel build would have failed). */
  note?: string;
}

export interface RunfilesReport {
  testFilter?: string;
  targets: RunfilesTargetReport[];
  /** Targets that passed (PASSED or FLAKY) and that did not. */
  passed: number;
  failed: number;
  /** Where the trees were laid out, when kept. */
  workDir?: string;
}

export interface RunfilesTestOptions {
  root: string;
  /** Receives report.json and testlogs/<package>/<name>/ (test.log, test.xml, test_attempts/). */
  outputDir: string;
  /** Bazel target patterns: //pkg:name, //pkg, //pkg/..., //... (default). A pattern with "..." skips manual tests, as Bazel does. */
  patterns?: string[];
  /** Bazel's --test_filter: a regex that replaces the jest config's test file pattern. */
  testFilter?: string;
  /** Tests run at once (default: one per core, as Bazel's local test jobs). */
  jobs?: number;
  /** The environment `--test_env=NAME` and USER are taken from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the trees are laid out (default: a new folder in the system temp folder, removed afterwards). */
  workDir?: string;
  /** Leave the laid-out trees in place for inspection. */
  keep?: boolean;
  signal?: AbortSignal;
  /** Called once the targets are chosen, before any runs. */
  onStart?: (labels: string[], jobs: number) => void;
  onAttempt?: (label: string, attempt: RunfilesAttempt, allowed: number) => void;
  onTarget?: (report: RunfilesTargetReport) => void;
}

/** A pattern that names no jest_test, or a work folder that cannot be used: the user can act on the message. */
export class RunfilesTestError extends OperationalError {}

/** Time between SIGTERM and SIGKILL for a test past its timeout, as Bazel allows. */
const KILL_GRACE_MS = 10_000;
/** PATH of every action under --incompatible_strict_action_env; test-setup.sh puts "." before it. */
const STRICT_PATH = ".:/bin:/usr/bin:/usr/local/bin";

export function isGreen(status: TargetStatus): boolean {
  return status === "PASSED" || status === "FLAKY";
}

/** The jest_test rules `patterns` select, in label order. */
function selectTests(model: WorkspaceModel, patterns: string[]): BuildRule[] {
  const tests = model.jestTests();
  const selected = new Map<string, BuildRule>();
  for (const pattern of patterns) {
    if (!pattern.startsWith("//"))
      throw new RunfilesTestError(`${pattern}: a target pattern starts with // (//pkg:name, //pkg, //pkg/..., //...)`);
    let matched: BuildRule[];
    if (pattern === "//..." || pattern.endsWith("/...")) {
      const prefix = pattern.slice(2, -3).replace(/\/$/, "");
      matched = tests.filter(
        (t) => (prefix === "" || t.pkg === prefix || t.pkg.startsWith(`${prefix}/`)) && !listAttr(t, "tags").includes("manual"),
      );
    } else {
      const label = pattern.includes(":") ? pattern : `${pattern}:${path.posix.basename(pattern.slice(2))}`;
      matched = tests.filter((t) => t.label === label);
      if (matched.length === 0) throw new RunfilesTestError(`${pattern}: no jest_test with this label`);
    }
    for (const test of matched) selected.set(test.label, test);
  }
  return [...selected.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** Refuses a work folder below a node_modules folder, whose packages every test could then resolve. */
function checkWorkDir(dir: string): void {
  for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
    if (fs.existsSync(path.join(parent, "node_modules"))) {
      throw new RunfilesTestError(
        `${parent} has a node_modules folder, which tests laid out in ${dir} could resolve packages from; choose another work folder`,
      );
    }
    if (path.dirname(parent) === parent) return;
  }
}

interface RunContext {
  options: RunfilesTestOptions;
  settings: TestSettings;
  env: NodeJS.ProcessEnv;
  workDir: string;
}

/**
 * Runs the selected jest_test targets the way `bazel test` would run them with rules_js and
 * rules_jest, each in its own runfiles tree (see docs/bazel.md, "Runfiles-layout test mode"), and
 * reports each target with its attempts. Needs the compiled outputs (pnpm build) and pnpm's install.
 */
export async function runRunfilesTests(options: RunfilesTestOptions): Promise<RunfilesReport> {
  const env = options.env ?? process.env;
  const model = new WorkspaceModel(options.root, readBuildFiles(options.root));
  const rules = selectTests(model, options.patterns ?? ["//..."]);
  const settings = readTestSettings(options.root);

  const targets: Array<{ rule: BuildRule; target?: JestTestTarget; note?: string }> = rules.map((rule) => {
    try {
      return { rule, target: model.target(rule) };
    } catch (error) {
      if (error instanceof RunfilesModelError || error instanceof NpmLayoutError) return { rule, note: error.message };
      throw error;
    }
  });

  const workDir = options.workDir ?? fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "runfiles-test-"));
  fs.mkdirSync(workDir, { recursive: true });
  try {
    checkWorkDir(workDir);
    const context: RunContext = { options, settings, env, workDir };

    const jobs = Math.min(Math.max(1, options.jobs ?? os.availableParallelism()), Math.max(1, targets.length));
    options.onStart?.(
      targets.map(({ rule }) => rule.label),
      jobs,
    );
    const reports = new Map<string, RunfilesTargetReport>();
    const queue = [...targets];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const report = next.target
          ? await runTarget(next.target, context)
          : { label: next.rule.label, status: "FAILED_TO_BUILD" as const, attemptsAllowed: 0, attempts: [], note: next.note };
        reports.set(report.label, report);
        options.onTarget?.(report);
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));

    const ordered = targets.map(({ rule }) => reports.get(rule.label)!);
    const passed = ordered.filter((r) => isGreen(r.status)).length;
    const report: RunfilesReport = {
      ...(options.testFilter ? { testFilter: options.testFilter } : {}),
      targets: ordered,
      passed,
      failed: ordered.length - passed,
      ...(options.keep ? { workDir } : {}),
    };
    fs.mkdirSync(options.outputDir, { recursive: true });
    fs.writeFileSync(path.join(options.outputDir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    if (!options.keep) removeTree(workDir);
  }
}

async function runTarget(target: JestTestTarget, context: RunContext): Promise<RunfilesTargetReport> {
  const { options } = context;
  const allowed = attemptsFor(context.settings, target.label, target.flaky);
  const logs = path.join(options.outputDir, "testlogs", target.pkg, target.name);
  fs.rmSync(logs, { recursive: true, force: true });
  fs.mkdirSync(path.join(logs, "test_attempts"), { recursive: true });
  const attempts: RunfilesAttempt[] = [];
  for (let n = 1; n <= allowed && !options.signal?.aborted; n++) {
    const attempt = await runAttempt(target, n, path.join(logs, "test_attempts", `attempt_${n}`), context);
    attempts.push(attempt);
    options.onAttempt?.(target.label, attempt, allowed);
    if (attempt.status === "PASSED" || attempt.status === "INCOMPLETE") break;
  }
  promoteLastAttempt(attempts, logs, options.outputDir);
  const last = attempts.at(-1);
  const status: TargetStatus = !last ? "INCOMPLETE" : last.status === "PASSED" && attempts.length > 1 ? "FLAKY" : last.status;
  return { label: target.label, status, attemptsAllowed: allowed, attempts };
}

/** The environment Bazel gives the test, plus what rules_js's launcher exports before it starts node. */
function testEnv(
  target: JestTestTarget,
  tree: TargetTree,
  files: { xml: string; outputs: string; tmp: string },
  context: RunContext,
): Record<string, string> {
  const { env, options } = context;
  const launcherEnv: Record<string, string> = {
    JS_BINARY__BINDIR: BINDIR,
    JS_BINARY__BUILD_FILE_PATH: path.posix.join(target.pkg, "BUILD.bazel"),
    JS_BINARY__COMPILATION_MODE: "fastbuild",
    JS_BINARY__COPY_DATA_TO_BIN: "1",
    JS_BINARY__EXECROOT: tree.execroot,
    JS_BINARY__FS_PATCH_ROOTS: `${tree.execroot}:${tree.runfiles}`,
    JS_BINARY__LOG_ERROR: "1",
    JS_BINARY__LOG_FATAL: "1",
    JS_BINARY__LOG_PREFIX: "aspect_rules_jest[jest_test]",
    JS_BINARY__NODE_BINARY: tree.nodeBinary,
    JS_BINARY__NODE_PATCHES: tree.bootstrap,
    JS_BINARY__NODE_WRAPPER: tree.nodeWrapper,
    JS_BINARY__PACKAGE: target.pkg,
    JS_BINARY__PATCH_NODE_FS: "1",
    JS_BINARY__RUNFILES: tree.runfiles,
    JS_BINARY__TARGET: target.label,
    JS_BINARY__TARGET_CPU: "k8",
    JS_BINARY__TARGET_NAME: target.name,
    JS_BINARY__WORKSPACE: WORKSPACE_NAME,
    JEST_JUNIT_OUTPUT_FILE: files.xml,
    NODE_DISABLE_COMPILE_CACHE: "1",
  };
  return {
    ...testEnvironment(context.settings, env),
    BAZEL_TEST: "1",
    HOME: files.tmp,
    PATH: `${path.dirname(tree.nodeWrapper)}:${STRICT_PATH}`,
    RUNFILES_DIR: tree.runfiles,
    TEST_BINARY: path.posix.join(target.pkg, `${target.name}_`, target.name),
    TEST_SIZE: target.size,
    TEST_SRCDIR: tree.runfiles,
    TEST_TARGET: target.label,
    TEST_TIMEOUT: String(target.timeoutSeconds),
    TEST_TMPDIR: files.tmp,
    TEST_UNDECLARED_OUTPUTS_DIR: files.outputs,
    TEST_WORKSPACE: WORKSPACE_NAME,
    TZ: "UTC",
    USER: env.USER ?? os.userInfo().username,
    XML_OUTPUT_FILE: files.xml,
    ...(options.testFilter ? { TESTBRIDGE_TEST_ONLY: options.testFilter } : {}),
    ...launcherEnv,
  };
}

async function runAttempt(target: JestTestTarget, n: number, stem: string, context: RunContext): Promise<RunfilesAttempt> {
  const { options } = context;
  const dir = path.join(context.workDir, target.label.replace(/[^\w.-]+/g, "_"));
  removeTree(dir);
  const tree = layOutTarget(dir, target, hostNode());
  const before = snapshot(tree.execroot);
  const files = { log: `${stem}.log`, xml: `${stem}.xml`, outputs: `${stem}.outputs`, tmp: path.join(dir, "_tmp") };
  fs.mkdirSync(files.tmp, { recursive: true });
  fs.mkdirSync(files.outputs, { recursive: true });

  const args = [
    "--require",
    tree.bootstrap,
    "--preserve-symlinks-main",
    "--",
    tree.entryPoint,
    "--no-cache",
    "--ci",
    "--config",
    tree.config,
    "--runInBand",
  ];
  const started = Date.now();
  const log = fs.openSync(files.log, "w");
  const { exitCode, ending } = await new Promise<{ exitCode: number | null; ending?: "timeout" | "aborted" }>((resolve, reject) => {
    // Its own process group, so a timeout or the end of the run stops whatever the test left running, as Bazel's sandbox does.
    const child = spawn(tree.nodeBinary, args, {
      cwd: path.join(tree.runfiles, WORKSPACE_NAME),
      env: testEnv(target, tree, files, context),
      stdio: ["ignore", log, log],
      detached: true,
    });
    let ending: "timeout" | "aborted" | undefined;
    const stop = (why: "timeout" | "aborted") => {
      ending ??= why;
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => stop("timeout"), target.timeoutSeconds * 1000);
    const onAbort = () => stop("aborted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      killGroup(child.pid, "SIGKILL");
      resolve({ exitCode: code, ending });
    });
  });
  fs.closeSync(log);
  const durationMs = Date.now() - started;

  const writes = snapshotChanges(before, snapshot(tree.execroot)).map((change) => `${change} (in the execution root ${tree.execroot})`);
  if (writes.length > 0) {
    fs.appendFileSync(
      files.log,
      `\nrunfiles-test: the test wrote into its read-only trees, which fails under Bazel's sandbox:\n${writes.map((w) => `  ${w}\n`).join("")}`,
    );
  }
  let status: AttemptStatus;
  if (ending === "aborted") status = "INCOMPLETE";
  else if (ending === "timeout") status = "TIMEOUT";
  else status = exitCode === 0 && writes.length === 0 ? "PASSED" : "FAILED";
  if (!fs.existsSync(files.xml)) writeFallbackJunit(files.xml, target.label, status, exitCode);
  if (fs.readdirSync(files.outputs).length === 0) fs.rmdirSync(files.outputs);
  if (!options.keep) removeTree(dir);
  const rel = (file: string) => path.relative(options.outputDir, file);
  return { attempt: n, status, exitCode, durationMs, writes, log: rel(files.log), junit: rel(files.xml) };
}

/** The node binary itself: when this runs under rules_js, process.execPath is the launcher's wrapper script. */
function hostNode(): string {
  return process.env.JS_BINARY__NODE_BINARY || process.execPath;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** What Bazel's test-setup.sh writes when the runner left no XML: one test case with the outcome. */
function writeFallbackJunit(file: string, label: string, status: AttemptStatus, exitCode: number | null): void {
  const error =
    status === "PASSED"
      ? ""
      : `<error message="${xmlEscape(status === "TIMEOUT" ? "Timed out" : `exited with error code ${exitCode}`)}"></error>`;
  const name = xmlEscape(label);
  fs.writeFileSync(
    file,
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${name}" tests="1" failures="0" errors="${error ? 1 : 0}">\n    <testcase name="${name}">${error}</testcase>\n  </testsuite>\n</testsuites>\n`,
  );
}

/** The deciding attempt's log and XML become test.log and test.xml; earlier ones stay in test_attempts/, as in bazel-testlogs. */
function promoteLastAttempt(attempts: RunfilesAttempt[], logs: string, outputDir: string): void {
  const last = attempts.at(-1);
  if (last) {
    for (const [key, ext] of [
      ["log", "log"],
      ["junit", "xml"],
    ] as const) {
      const from = last[key];
      if (!from) continue;
      const to = path.join(logs, `test.${ext}`);
      fs.renameSync(path.join(outputDir, from), to);
      last[key] = path.relative(outputDir, to);
    }
    const outputs = path.join(logs, "test_attempts", `attempt_${last.attempt}.outputs`);
    if (fs.existsSync(outputs)) fs.renameSync(outputs, path.join(logs, "test.outputs"));
  }
  if (attempts.length <= 1) fs.rmSync(path.join(logs, "test_attempts"), { recursive: true, force: true });
}
