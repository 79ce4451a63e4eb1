import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT, tempDir, writeFiles } from "./helpers";

// pipeline.sh as a user runs it, in a folder holding a copy of it and stand-ins for what it calls:
// pnpm and npx on PATH, tsc in node_modules/.bin and the CLI in dist/ are scripts that log their
// calls, so each case shows what ran.

const ENTRY = path.join(REPO_ROOT, "pipeline.sh");
const CALLS = "calls.log";

/** An executable script that logs its name and arguments, then runs `body`. */
function tool(file: string, name: string, body = "exit 0"): [string, string] {
  return [file, `#!/bin/sh\necho "${name} $*" >> "$CALLS_LOG"\n${body}\n`];
}

function workspace(files: Record<string, string> = {}): string {
  const root = tempDir("pipeline-entry-");
  fs.copyFileSync(ENTRY, path.join(root, "pipeline.sh"));
  writeFiles(root, {
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "package.json": JSON.stringify({ name: "fixture", private: true, packageManager: "pnpm@10.34.5" }),
    "devops/pipeline/dist/src/cli.js":
      'require("node:fs").appendFileSync(process.env.CALLS_LOG, `cli ${process.argv.slice(2).join(" ")}\\n`);\nprocess.exitCode = Number(process.env.CLI_EXIT ?? 0);\n',
    "common/lib/src/index.ts": "export {};\n",
    ...Object.fromEntries([
      tool(
        "bin/pnpm",
        "pnpm",
        'case "$1" in --version) echo "${FAKE_PNPM_VERSION:-10.34.9}";; install) mkdir -p node_modules/.pnpm && cp pnpm-lock.yaml node_modules/.pnpm/lock.yaml;; esac',
      ),
      tool("bin/npx", "npx", "mkdir -p node_modules/.pnpm && cp pnpm-lock.yaml node_modules/.pnpm/lock.yaml"),
      tool("node_modules/.bin/tsc", "tsc"),
    ]),
    ...files,
  });
  for (const file of ["bin/pnpm", "bin/npx", "node_modules/.bin/tsc"]) fs.chmodSync(path.join(root, file), 0o755);
  return root;
}

function run(root: string, args: string[], env: Record<string, string> = {}) {
  const PATH = [path.join(root, "bin"), path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);
  const result = spawnSync("bash", [path.join(root, "pipeline.sh"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH, CALLS_LOG: path.join(root, CALLS), ...env },
  });
  const calls = fs.existsSync(path.join(root, CALLS)) ? fs.readFileSync(path.join(root, CALLS), "utf8").trim().split("\n") : [];
  fs.rmSync(path.join(root, CALLS), { force: true });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

describe("pipeline.sh arguments", () => {
  it("hands every argument to the CLI as given, after the build, and exits with the CLI's code (usage errors are the CLI's)", () => {
    const root = workspace({ "node_modules/.pnpm/lock.yaml": "lockfileVersion: '9.0'\n" });
    for (const args of [[], ["bogus"], ["--bogus"], ["ci", "--base", "no-such-rev", "--jobs=2"]]) {
      const result = run(root, args, { CLI_EXIT: "2" });
      expect(result).toMatchObject({ code: 2, calls: ["tsc --build --verbose devops/pipeline", `cli ${args.join(" ")}`.trimEnd()] });
    }
  });
});

describe("pipeline.sh start-up", () => {
  it("installs with any pnpm 10 on PATH, then runs no pnpm while the lockfile is installed, and tsc --build each time", () => {
    const root = workspace();
    const first = run(root, ["test", "--jobs", "1"]);
    expect(first).toMatchObject({
      code: 0,
      calls: ["pnpm --version", "pnpm install --frozen-lockfile", "tsc --build --verbose devops/pipeline", "cli test --jobs 1"],
    });
    expect(first.stdout).toMatch(/^install .* pnpm 10\.34\.9 from PATH: install --frozen-lockfile/m);

    const second = run(root, ["ci", "--help"]);
    expect(second).toMatchObject({ code: 0, calls: ["tsc --build --verbose devops/pipeline", "cli ci --help"] });
    expect(second.stdout).toMatch(/^install .* node_modules installed from this lockfile$/m);
    expect(second.stdout).toMatch(/^bootstrap .* pipeline up to date \(tsc --build devops\/pipeline\)$/m);
  });

  it("installs through npx with the pinned version when the pnpm on PATH is no pnpm 10", () => {
    const root = workspace();
    const result = run(root, ["test"], { FAKE_PNPM_VERSION: "9.15.0" });
    expect(result).toMatchObject({
      code: 0,
      calls: ["pnpm --version", "npx -y pnpm@10.34.5 install --frozen-lockfile", "tsc --build --verbose devops/pipeline", "cli test"],
    });
    expect(result.stdout).toMatch(/^install .* pnpm@10\.34\.5 through npx \(no pnpm 10 on PATH\): install --frozen-lockfile/m);
  });
});
