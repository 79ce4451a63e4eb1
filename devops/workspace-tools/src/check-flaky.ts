import fs from "node:fs";
import path from "node:path";
import { type BuildFile, boolAttr, readBuildFiles } from "./build-files";
import type { Finding } from "./deps";
import { FLAKY_POLICY_FILE, loadFlakyPolicy } from "./flaky";
import { BAZELRC, flakyAttemptsFlag } from "./generate";

/** rc lines that set --flaky_test_attempts, without comments: "test --flaky_test_attempts=...". */
export function flakyAttemptLines(bazelrc: string): string[] {
  return bazelrc
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => !line.startsWith("#") && line.includes("--flaky_test_attempts"));
}

/**
 * (f) flaky-tests.json is the one declaration of flaky targets: .bazelrc gives exactly those
 * targets their attempts (per-target regex, never a blanket number that would retry every test),
 * and exactly those jest_tests say `flaky = True`.
 */
export function checkFlaky(root: string, buildFiles: BuildFile[] = readBuildFiles(root)): Finding[] {
  const findings: Finding[] = [];
  const policy = loadFlakyPolicy(root);
  const rcPath = path.join(root, BAZELRC);
  const rcLines = fs.existsSync(rcPath) ? flakyAttemptLines(fs.readFileSync(rcPath, "utf8")) : [];
  const expected = policy.targets.map((t) => `test ${flakyAttemptsFlag(t.label, t.attempts)}`);
  for (const line of expected.filter((l) => !rcLines.includes(l))) {
    findings.push({ check: "flaky", file: BAZELRC, message: `lacks "${line}" (from ${FLAKY_POLICY_FILE}); run \`pnpm bazel:generate\`` });
  }
  for (const line of rcLines.filter((l) => !expected.includes(l))) {
    findings.push({
      check: "flaky",
      file: BAZELRC,
      message: `"${line}" is not declared in ${FLAKY_POLICY_FILE}; only declared targets are retried, each by its own regex`,
    });
  }
  const tests = buildFiles.flatMap((b) => b.rules.filter((r) => r.kind === "jest_test").map((r) => ({ rule: r, file: b.file })));
  for (const { label } of policy.targets) {
    const test = tests.find((t) => t.rule.label === label);
    if (!test) findings.push({ check: "flaky", file: FLAKY_POLICY_FILE, message: `${label} is not a jest_test in any BUILD file` });
    else if (!boolAttr(test.rule, "flaky"))
      findings.push({
        check: "flaky",
        file: test.file,
        message: `${label} is declared flaky in ${FLAKY_POLICY_FILE} but lacks flaky = True`,
      });
  }
  for (const { rule, file } of tests) {
    if (boolAttr(rule, "flaky") && !policy.isFlaky(rule.label)) {
      findings.push({
        check: "flaky",
        file,
        message: `${rule.label} has flaky = True but ${FLAKY_POLICY_FILE} does not declare it (a flake must be declared, with why)`,
      });
    }
  }
  return findings;
}
