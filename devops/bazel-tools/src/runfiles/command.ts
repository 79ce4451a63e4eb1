import path from "node:path";
import { BaseCommand } from "@monorepo/cli";
import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { findRoot, rootOption } from "../root";
import { isGreen, type RunfilesAttempt, type RunfilesReport, type RunfilesTargetReport, runRunfilesTests } from "./run";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** `bazel-tools runfiles-test`; the root script `pnpm bazel:runfiles-test` runs it. */
export class RunfilesTestCommand extends BaseCommand {
  static paths = [["runfiles-test"]];
  /** A signal stops the running tests (their process groups), reports what ran, and exits 130. */
  static interruptible = true;
  static usage = Command.Usage({
    description: "Run jest_test targets in the runfiles layout Bazel gives them, without Bazel",
    details: `
      For each selected jest_test, lays out what Bazel would: the compiled files (from \`pnpm build\`) copied into
      a read-only output tree, a runfiles tree of symlinks into it, node_modules links and a package store as
      rules_js makes them, and only the files the target declares. Then runs jest as rules_jest starts it: Bazel's
      test environment, rules_js's launcher variables, \`process.execPath\` a wrapper script that needs them, and a
      generated config with rootDir and roots in the runfiles tree and symlinks resolved. Each target gets the
      attempts .bazelrc gives it; an attempt that writes into the read-only trees fails.

      Target patterns are Bazel's: //pkg:name, //pkg, //pkg/... and //... (the default), which skips manual tests.
      Logs and JUnit XML go to <artifacts>/runfiles/testlogs/<package>/<name>/ (test.log, test.xml, earlier attempts
      in test_attempts/), the summary to <artifacts>/runfiles/report.json.

      With --json, stdout carries one JSON object a line instead, for a program to follow the run:
      {"event":"start","labels":[...],"jobs":n}, {"event":"attempt","label":...,"allowed":n,"attempt":{...}} after
      each attempt, {"event":"target","target":{...}} after each target, and {"event":"done","report":{...}} (what
      report.json holds) last.

      Exit codes: 0 every target passed (or was flaky); 1 a target failed or could not be laid out, or a workspace it
      cannot read; 2 usage error; 130 interrupted (the running tests are stopped).
    `,
    examples: [
      ["Every non-manual jest_test, as `bazel test //...`", "$0 runfiles-test"],
      ["One target", "$0 runfiles-test //common/testing:test"],
      ["One test file, as `bazel test --test_filter=...`", "$0 runfiles-test //common/testing:test --test_filter 'processes\\.test'"],
      ["Keep the laid-out trees to look at", "$0 runfiles-test //services/user:test --keep"],
      ["Events as JSON lines, for a program (the pipeline runs it so)", "$0 runfiles-test --json"],
    ],
  });

  root = rootOption();
  artifacts = Option.String("--artifacts", "artifacts", {
    description: "Artifacts folder; results go to its runfiles/ subfolder (default ./artifacts)",
  });
  testFilter = Option.String("--test_filter,--test-filter", {
    description: "Regex selecting test files, as Bazel's --test_filter reaches rules_jest (it becomes jest's testRegex)",
  });
  jobs = Option.String("--jobs", {
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
    description: "Tests run at once (default: one per core)",
  });
  keep = Option.Boolean("--keep", false, { description: "Leave the laid-out trees in place and print where" });
  json = Option.Boolean("--json", false, { description: "Print one JSON event a line (start, attempt, target, done) instead of text" });
  patterns = Option.Rest({ name: "target patterns" });

  async execute(): Promise<number> {
    const root = findRoot(this.root);
    const outputDir = path.join(path.resolve(this.artifacts), "runfiles");
    const out = this.context.stdout;
    const malformed = this.patterns.find((pattern) => !pattern.startsWith("//"));
    if (malformed !== undefined)
      throw new UsageError(`${malformed}: a target pattern starts with // (//pkg:name, //pkg, //pkg/..., //...)`);
    const report = await this.run(root, outputDir);
    if (this.json) {
      out.write(`${JSON.stringify({ event: "done", report })}\n`);
      return report.targets.every((target) => isGreen(target.status)) ? 0 : 1;
    }
    if (report.workDir) out.write(`laid-out trees kept in ${report.workDir}\n`);
    out.write(`logs and JUnit XML in ${path.join(outputDir, "testlogs")}\n`);
    out.write(`runfiles-test: ${report.passed} passed, ${report.failed} failed\n`);
    return report.targets.every((target) => isGreen(target.status)) ? 0 : 1;
  }

  private run(root: string, outputDir: string): Promise<RunfilesReport> {
    const out = this.context.stdout;
    const options = {
      root,
      outputDir,
      patterns: this.patterns.length > 0 ? this.patterns : undefined,
      testFilter: this.testFilter,
      jobs: this.jobs,
      keep: this.keep,
      signal: this.context.signal,
    };
    if (this.json) {
      const event = (fields: object) => out.write(`${JSON.stringify(fields)}\n`);
      return runRunfilesTests({
        ...options,
        onStart: (labels, jobs) => event({ event: "start", labels, jobs }),
        onAttempt: (label, attempt, allowed) => event({ event: "attempt", label, allowed, attempt }),
        onTarget: (target) => event({ event: "target", target }),
      });
    }
    return runRunfilesTests({
      ...options,
      onStart: (labels: string[], jobs: number) => out.write(`runfiles-test: ${labels.length} target(s), ${jobs} at a time\n`),
      onAttempt: (label: string, attempt: RunfilesAttempt, allowed: number) => {
        if (attempt.status === "PASSED") return;
        out.write(`${attempt.status.padEnd(8)} ${label} attempt ${attempt.attempt} of ${allowed} (${seconds(attempt.durationMs)})\n`);
        for (const write of attempt.writes) out.write(`         wrote into a read-only tree: ${write}\n`);
      },
      onTarget: (target: RunfilesTargetReport) => {
        const total = target.attempts.reduce((sum, a) => sum + a.durationMs, 0);
        const log = target.attempts.at(-1)?.log;
        const where = isGreen(target.status) || !log ? "" : `: ${path.join(outputDir, log)}`;
        const detail = target.note ?? `${seconds(total)}, ${target.attempts.length} of ${target.attemptsAllowed} attempt(s)${where}`;
        out.write(`${target.status.padEnd(8)} ${target.label} ${detail}\n`);
      },
    });
  }
}
