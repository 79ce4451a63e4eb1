import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Finding } from "./deps";
import { ROOT_JEST_CONFIG, ROOT_JEST_PERF_CONFIG } from "./generate";

/** What jest_test needs at the root, where its node_modules attribute points (//:node_modules). */
const ROOT_JEST_PACKAGES = ["jest-cli", "jest-junit"];

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** Top-level option names of a jest config file, loaded the way jest loads it (JSON, CommonJS or ESM); an error message if it does not load. */
function jestConfigKeys(file: string): string[] | string {
  if (file.endsWith(".json")) return Object.keys(readJson(file));
  const script = "import(process.argv[1]).then((m) => console.log(JSON.stringify(Object.keys(m.default ?? m))))";
  const result = spawnSync(process.execPath, ["-e", script, pathToFileURL(file).href], { encoding: "utf8" });
  if (result.status !== 0)
    return (
      result.stderr
        .split("\n")
        .find((line) => /Error/.test(line))
        ?.trim() ?? `node exited ${result.status}`
    );
  return JSON.parse(result.stdout) as string[];
}

/**
 * (e) jest: what rules_jest needs that the generator does not decide. The root package.json lists
 * jest-cli and jest-junit, and each jest config the jest_tests use loads as jest would load it
 * without "projects" (rules_jest wraps the config in one of its own, which several projects bypass).
 */
export function checkJest(root: string): Finding[] {
  const findings: Finding[] = [];
  const manifest = readJson(path.join(root, "package.json"));
  const declared = new Set(
    ["dependencies", "devDependencies"].flatMap((field) => Object.keys((manifest[field] as Record<string, string> | undefined) ?? {})),
  );
  for (const needed of ROOT_JEST_PACKAGES.filter((name) => !declared.has(name)))
    findings.push({ check: "jest", file: "package.json", message: `must list ${needed}: jest_test runs it from //:node_modules` });
  // A missing config is the generator's finding.
  for (const file of [ROOT_JEST_CONFIG, ROOT_JEST_PERF_CONFIG].filter((f) => fs.existsSync(path.join(root, f)))) {
    const options = jestConfigKeys(path.join(root, file));
    if (typeof options === "string") findings.push({ check: "jest", file, message: `cannot be loaded as jest would load it: ${options}` });
    else if (options.includes("projects"))
      findings.push({ check: "jest", file, message: `sets "projects", which rules_jest does not support (each jest_test is one project)` });
  }
  return findings;
}
