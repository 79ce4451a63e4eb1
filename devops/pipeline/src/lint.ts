import fs from "node:fs";
import path from "node:path";
import { runCommand } from "./process";

/** The formatter and linter's configuration at the workspace root: where there is none, nothing is checked. */
export const LINT_CONFIG = "biome.json";

export const LINT_LOG = "lint.log";

export type LintOutcome =
  | { status: "skipped"; reason: string }
  | { status: "ok"; files: "all" | number }
  /** `log` is relative to the artifacts folder. */
  | { status: "FAILED"; files: "all" | number; detail: string; log: string };

export interface LintOptions {
  root: string;
  artifacts: string;
  /** "all" checks the whole tree; a list checks those repository-relative files (deleted ones are left out). */
  files: "all" | string[];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs `biome ci` (format and lint, no writes) from the workspace's own node_modules; the log is written to artifacts/lint.log. */
export async function runLint(options: LintOptions): Promise<LintOutcome> {
  if (!fs.existsSync(path.join(options.root, LINT_CONFIG))) return { status: "skipped", reason: `no ${LINT_CONFIG}` };
  const files = options.files === "all" ? "all" : options.files.filter((file) => fs.existsSync(path.join(options.root, file)));
  if (files !== "all" && files.length === 0) return { status: "skipped", reason: "no changed file to check" };
  const biome = path.join(options.root, "node_modules", ".bin", "biome");
  const count = files === "all" ? "all" : files.length;
  if (!fs.existsSync(biome))
    return { status: "FAILED", files: count, detail: `${LINT_CONFIG} is here but biome is not installed`, log: LINT_LOG };
  const args = ["ci", "--colors=off", "--files-ignore-unknown=true", "--no-errors-on-unmatched", ...(files === "all" ? ["."] : files)];
  const logFile = path.join(options.artifacts, LINT_LOG);
  const result = await runCommand(biome, args, { cwd: options.root, env: options.env, logFile, signal: options.signal });
  if (result.exitCode === 0) return { status: "ok", files: count };
  const detail = result.aborted
    ? "interrupted"
    : `biome ci exited ${result.exitCode ?? result.signal}: run \`pnpm format\` for the formatting, the log names the rest`;
  return { status: "FAILED", files: count, detail, log: LINT_LOG };
}
