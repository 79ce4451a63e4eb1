import fs from "node:fs";
import path from "node:path";
import { parseBazelrc } from "./bazelrc";
import type { Finding } from "./deps";
import { BAZELRC, FLAKY_BLOCK_BEGIN, FLAKY_BLOCK_END } from "./generate";

const ALL_COMMANDS = ["common", "build", "test"];

/**
 * The .bazelrc settings this repository depends on (each a pitfall of a first Bazel setup):
 * strict action env, read-only cache for developers and writes from CI, the rules_ts transpiler
 * and skipLibCheck flags, telemetry really off, test time scale, the CI build event file, the
 * git-ignored user.bazelrc for addresses and secrets, nothing that breaks a fresh checkout, and
 * flaky attempts only in the block generated from test-targets.json.
 */
export function checkBazelrc(root: string): Finding[] {
  const findings: Finding[] = [];
  const finding = (message: string) => findings.push({ check: "bazelrc", file: BAZELRC, message });
  const file = path.join(root, BAZELRC);
  if (!fs.existsSync(file)) {
    finding("missing");
    return findings;
  }
  const text = fs.readFileSync(file, "utf8");
  const { flags, lastLine } = parseBazelrc(text);
  const has = (config: string, test: (flag: string) => boolean, commands = ALL_COMMANDS) =>
    flags.some((f) => f.config === config && commands.includes(f.command) && test(f.flag));
  const expectFlag = (config: string, test: (flag: string) => boolean, message: string, commands = ALL_COMMANDS) => {
    if (!has(config, test, commands)) finding(message);
  };

  expectFlag(
    "",
    (f) => f === "--incompatible_strict_action_env",
    "needs `common --incompatible_strict_action_env` (one PATH for every action, so cache keys match across machines)",
  );
  expectFlag(
    "",
    (f) => f === "--noremote_upload_local_results",
    "needs `common --noremote_upload_local_results`: developers only read the remote cache",
  );
  expectFlag(
    "ci",
    (f) => f === "--remote_upload_local_results",
    "needs `common:ci --remote_upload_local_results`: CI fills the remote cache",
  );
  expectFlag(
    "ci",
    (f) => f.startsWith("--build_event_json_file="),
    "needs `common:ci --build_event_json_file=<file>` (the pipeline reads and uploads it)",
  );
  expectFlag("", (f) => f === "--test_output=errors", "needs `common --test_output=errors`");
  expectFlag(
    "",
    (f) => f === "--@aspect_rules_ts//ts:default_to_tsc_transpiler",
    'needs `common --@aspect_rules_ts//ts:default_to_tsc_transpiler` (else analysis fails with "Required Transpiler Selection")',
  );
  expectFlag(
    "",
    (f) => /^--@aspect_rules_ts\/\/ts:skipLibCheck=(always|honor_tsconfig)$/.test(f),
    "needs `common --@aspect_rules_ts//ts:skipLibCheck=honor_tsconfig` (or =always)",
  );
  expectFlag(
    "",
    (f) => f === "--test_env=SIMULATION_TIME_SCALE=0.01",
    "needs `test --test_env=SIMULATION_TIME_SCALE=0.01`, as the pnpm test run sets",
    ["common", "test"],
  );
  expectFlag("remote-cache", (f) => f.startsWith("--remote_cache="), "needs `common:remote-cache --remote_cache=<read-only address>`");

  const telemetry = flags
    .filter((f) => f.flag.startsWith("--repo_env=ASPECT_TOOLS_TELEMETRY="))
    .map((f) => f.flag.split("=").slice(2).join("="));
  for (const value of telemetry.filter((v) => v !== "-all")) {
    finding(`ASPECT_TOOLS_TELEMETRY=${value} does not turn telemetry off (it is a feature set: use -all, or DO_NOT_TRACK=1)`);
  }
  if (!telemetry.includes("-all") && !flags.some((f) => /^--repo_env=DO_NOT_TRACK=.+/.test(f.flag))) {
    finding(
      "needs `common --repo_env=ASPECT_TOOLS_TELEMETRY=-all` or `common --repo_env=DO_NOT_TRACK=1` (the Aspect rules report usage otherwise)",
    );
  }

  for (const f of flags) {
    if (f.flag === "--remote_upload_local_results" && f.config !== "ci")
      finding(`\`${f.command}${f.config ? `:${f.config}` : ""} ${f.flag}\`: only CI may write to the remote cache`);
    if (
      f.flag.startsWith("--remote_header") ||
      /^--remote_cache=[a-z]+:\/\/[^/]*@/.test(f.flag) ||
      f.flag.startsWith("--google_credentials")
    ) {
      finding(`${f.flag.split("=")[0]}: credentials belong in the git-ignored user.bazelrc, never in .bazelrc`);
    }
    if (/^--(spawn_strategy|strategy(=\w+)?)=(\w+,)*(local|standalone)\b/.test(f.flag))
      finding(`${f.flag}: unsandboxed actions let ts_project see files it did not declare`);
    if (f.flag === "--lockfile_mode=error" && !fs.existsSync(path.join(root, "MODULE.bazel.lock"))) {
      finding("--lockfile_mode=error needs a committed, current MODULE.bazel.lock, which this repository does not have");
    }
  }
  // The generator owns the block; a line elsewhere would retry tests test-targets.json does not declare.
  const lines = text.split("\n");
  const begin = lines.indexOf(FLAKY_BLOCK_BEGIN);
  const end = lines.indexOf(FLAKY_BLOCK_END);
  const outsideBlock = begin >= 0 && end > begin ? [...lines.slice(0, begin), ...lines.slice(end + 1)] : lines;
  for (const f of parseBazelrc(outsideBlock.join("\n")).flags.filter((f) => f.flag.startsWith("--flaky_test_attempts"))) {
    finding(
      `\`${f.command}${f.config ? `:${f.config}` : ""} ${f.flag}\` is outside the block generated from test-targets.json: declare each flaky target there, with why`,
    );
  }
  if (lastLine !== "try-import %workspace%/user.bazelrc") {
    finding(
      "must end with `try-import %workspace%/user.bazelrc` (personal settings and CI secrets, git-ignored, override everything above)",
    );
  }
  return findings;
}
