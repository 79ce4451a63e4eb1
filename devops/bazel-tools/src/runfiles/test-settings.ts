import fs from "node:fs";
import path from "node:path";
import { BAZELRC, parseBazelrc } from "../bazelrc";

/**
 * What `bazel test` takes from .bazelrc for each test: its attempts (--flaky_test_attempts) and
 * extra environment (--test_env). Lines for a --config (e.g. `test:ci`) apply only with that config,
 * which the emulation never passes.
 */
export interface TestSettings {
  /** In rc order: Bazel gives a test the attempts of the first entry whose filter matches its label. */
  attempts: Array<{ filter: string; attempts: number | "default" }>;
  /** NAME=value, or NAME alone to take the value from the environment the command runs in. */
  testEnv: string[];
}

export function readTestSettings(root: string): TestSettings {
  const file = path.join(root, BAZELRC);
  const settings: TestSettings = { attempts: [], testEnv: [] };
  if (!fs.existsSync(file)) return settings;
  for (const { command, config, flag } of parseBazelrc(fs.readFileSync(file, "utf8")).flags) {
    if (config !== "" || (command !== "test" && command !== "common")) continue;
    const [name, ...rest] = flag.split("=");
    const value = rest.join("=");
    if (name === "--flaky_test_attempts") {
      const at = value.lastIndexOf("@");
      const count = at === -1 ? value : value.slice(at + 1);
      settings.attempts.push({ filter: at === -1 ? "" : value.slice(0, at), attempts: count === "default" ? "default" : Number(count) });
    } else if (name === "--test_env") {
      settings.testEnv.push(value);
    }
  }
  return settings;
}

/** Bazel's regex filter: comma-separated patterns, "-" before one excludes; a pattern matches anywhere in the label. */
function filterMatches(filter: string, label: string): boolean {
  if (filter === "") return true;
  const patterns = filter.split(",");
  const included = patterns.filter((p) => !p.startsWith("-")).map((p) => p.replace(/^\+/, ""));
  const excluded = patterns.filter((p) => p.startsWith("-")).map((p) => p.slice(1));
  return (included.length === 0 || included.some((p) => new RegExp(p).test(label))) && !excluded.some((p) => new RegExp(p).test(label));
}

/** Attempts `bazel test` gives a target: the first matching rc entry, else 3 for `flaky = True` and 1 otherwise. */
export function attemptsFor(settings: TestSettings, label: string, flaky: boolean): number {
  const entry = settings.attempts.find((a) => filterMatches(a.filter, label));
  if (entry && entry.attempts !== "default") return entry.attempts;
  return flaky ? 3 : 1;
}

/** The --test_env entries as variables; a bare NAME takes its value from `env` and is left out when unset there. */
export function testEnvironment(settings: TestSettings, env: NodeJS.ProcessEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of settings.testEnv) {
    const at = entry.indexOf("=");
    if (at !== -1) vars[entry.slice(0, at)] = entry.slice(at + 1);
    else if (env[entry] !== undefined) vars[entry] = env[entry]!;
  }
  return vars;
}
