import path from "node:path";
import { starlarkFiles } from "./build-files";
import type { Finding } from "./deps";
import { runBuildifier } from "./tools";

interface BuildifierReport {
  files?: Array<{
    filename: string;
    formatted: boolean;
    valid: boolean;
    warnings: Array<{ start: { line: number }; category: string; message: string }>;
  }>;
}

/**
 * (a) `buildifier -mode=check -lint=warn` on every Starlark file: formatting, syntax and lint
 * warnings. Uses the JSON report because buildifier exits 0 in that mode even when files fail.
 */
export function checkFormat(root: string): Finding[] {
  const files = starlarkFiles(root);
  if (files.length === 0) return [];
  const result = runBuildifier(["-mode=check", "-lint=warn", "-format=json", ...files.map((f) => path.join(root, f))]);
  const report = JSON.parse(result.stdout || "{}") as BuildifierReport;
  const findings: Finding[] = [];
  for (const entry of report.files ?? []) {
    const file = path.relative(root, entry.filename).split(path.sep).join("/");
    if (!entry.valid) {
      findings.push({ check: "format", file, message: `syntax error: ${result.stderr.trim()}` });
      continue;
    }
    if (!entry.formatted)
      findings.push({ check: "format", file, message: "not formatted; run `buildifier` on it (or `pnpm bazel:generate` for BUILD files)" });
    for (const warning of entry.warnings) {
      findings.push({
        check: "format",
        file,
        message: `line ${warning.start.line}: ${warning.category}: ${warning.message.split("\n")[0]}`,
      });
    }
  }
  return findings;
}
