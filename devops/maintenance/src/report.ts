import type { BackendChoice } from "@monorepo/integrations";
import type { StepResult } from "./engine";
import type { MaintenanceReport, PlanDescription } from "./maintenance";

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(2)}s`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function stepRow(step: StepResult, prefix = ""): string[] {
  return [prefix + step.id, step.status, String(step.attempts), seconds(step.durationMs)];
}

/** The final summary: one row per step (cleanups under their subsystem), then the verdict. */
export function formatSummary(report: MaintenanceReport): string {
  const rows = [["STEP", "STATUS", "ATTEMPTS", "DURATION"]];
  for (const step of report.steps) rows.push(stepRow(step));
  for (const [subsystem, result] of Object.entries(report.results)) {
    if (!result.cleanup) continue;
    for (const step of result.cleanup.steps) rows.push(stepRow(step, `(${subsystem} cleanup) `));
  }
  const verdicts = Object.entries(report.results).map(([subsystem, result]) => {
    const failure = result.failedStep
      ? `: ${result.failedStep} - ${report.steps.find((step) => step.id === result.failedStep)?.errors.at(-1) ?? "failed"}`
      : "";
    const cleanup = result.cleanup ? ` (cleanup ${result.cleanup.status})` : "";
    return `  ${subsystem}: ${result.status}${failure}${cleanup}`;
  });
  const cleanupSteps = Object.values(report.results).flatMap((result) => result.cleanup?.steps ?? []);
  const recoveries = [...report.steps, ...cleanupSteps].reduce((sum, step) => sum + step.recoveries, 0);
  const scale = report.timeScale === 1 ? "" : ` at SIMULATION_TIME_SCALE=${report.timeScale}`;
  const estimate = `critical path estimate ${report.plan.criticalPath.seconds}s${scale ? ` simulated` : ""}`;
  return `${[
    table(rows),
    "",
    `${report.mode === "cleanup" ? "Cleanup" : "Maintenance"} ${report.status} in ${seconds(report.durationMs)}${scale} (${estimate}); recoveries: ${recoveries}.`,
    ...verdicts,
    ...(report.backends ? [formatBackends(report.backends)] : []),
    ...(report.journal ? [journalLine(report.journal)] : []),
    `Exit code ${report.exitCode}.`,
  ].join("\n")}\n`;
}

/** One line: which subsystems are real and what they talk to, which are simulated and why. */
export function formatBackends(backends: Partial<Record<string, BackendChoice>>): string {
  const parts = Object.entries(backends).map(
    ([subsystem, choice]) => `${subsystem} ${choice!.real ? "real" : "simulated"} (${choice!.description})`,
  );
  return `Backends: ${parts.join("; ")}.`;
}

function journalLine(journal: NonNullable<MaintenanceReport["journal"]>): string {
  if (journal.error) return `Journal out of date: ${journal.error}.`;
  if (journal.closed) return `Journal closed (every step done): the next run starts fresh.`;
  return `Journal saved: ${journal.path} (the next run resumes from it).`;
}

/** --dry-run: the graph, its waves, the critical path and the estimates. */
export function formatPlan(plan: PlanDescription, header: string): string {
  const graph = table([
    ["STEP", "ESTIMATE", "NEEDS"],
    ...plan.steps.map((step) => [step.id, `${step.estimateSeconds}s`, step.needs.join(", ") || "-"]),
  ]);
  const lines = [
    header,
    "",
    graph,
    "",
    "Waves (each wave can start once the steps it needs are done):",
    ...plan.waves.map((wave, index) => `  ${index + 1}. ${wave.join(", ")}`),
    "",
    `Critical path: ${plan.criticalPath.steps.join(" -> ") || "(nothing to run)"} = ${plan.criticalPath.seconds}s`,
    `Estimated wall time: ${plan.estimatedWallSeconds}s (one after another: ${plan.serialSeconds}s)`,
  ];
  if (plan.resumed.length > 0) lines.push(`Already done according to the journal (skipped): ${plan.resumed.join(", ")}`);
  const cleanups = Object.entries(plan.cleanup);
  if (cleanups.length > 0) {
    lines.push("Cleanup of a subsystem that still fails or is interrupted:");
    for (const [subsystem, steps] of cleanups) lines.push(`  ${subsystem}: ${steps.join(", ")}`);
  }
  lines.push("", "Dry run: nothing was run.");
  return `${lines.join("\n")}\n`;
}
