#!/usr/bin/env node
// Pipeline benchmark: the original-style pipeline against the new one, in throwaway clones of this
// repository's HEAD (committed work only), installed offline from the local pnpm store.
//
//   node bench/pipeline.mjs [--rounds N] [--keep] [--startup]   (build first: pnpm build; --help explains)
//
// Environment: SIMULATION_TIME_SCALE (default 1: the original 5 s wait of the flaky user test and
// every other simulated wait at full length, for both pipelines), PERF_STOCK_COUNT (the perf suite's
// data set; the suite's own default is 1,000,000 stocks).
//
// The original-style pipeline (the one this repository replaced, without its bug of also looping over
// the root package): build every package one by one, build them all again, test every package one by
// one, then the trading perf suite. Its builds are `tsc -p tsconfig.json` in each package, in
// dependency order, as the original's build scripts were: a full compile of the one project every
// time (a `tsc --build`, the build script now, would skip the second round as up to date). Its work does not depend on the change, so it runs once and
// that time stands for every case. It keeps going after a red test, as the numbers are what matter.
//
// The new pipeline runs `./pipeline.sh ci` (engine auto: it probes Bazel, falls back to pnpm):
//   cold        fresh clone, no build output, `ci --all`
// then, in the first round's clone, case after case, like a CI runner that keeps its workspace:
//   no change   a branch with no commit on top of main: the diff against the merge-base is empty
//   user only   that branch with one commit changing services/user
//   logger      the branch reset to main plus one commit changing common/logger
// Wall times are measured around the whole command, bootstrap included.
//
// Start-up cases (all that --startup runs): in a fresh clone, with a PATH holding every command but
// pnpm, after a first `./pipeline.sh ci` (which installs through npx): usage errors and --help against
// 1 s, a no-change `ci` against 2 s, each the median of three runs. A failure to clone or install
// ends the bench with one line, and the clones are removed all the same.
//
// The machines are shared: another job's load can land on one side only. So the full original and
// the cold run are measured in --rounds rounds (default 2), in alternate order, each in fresh clones;
// every round's ratio is printed and a target counts as met only when it holds in every round. The
// other cases are compared with the mean of the original runs. Beside each wall time is the CPU time
// of the whole process tree (user + system, from /proc), which the load of other jobs barely moves.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// The command line follows the convention of every CLI here (@monorepo/cli, with its own clipanion).
const require = createRequire(import.meta.url);
const { BaseCommand, runCli } = require("../common/cli");
const cliRequire = createRequire(require.resolve("../common/cli/package.json"));
const { Command, Option } = cliRequire("clipanion");
const t = cliRequire("typanion");

let options;
class PipelineBench extends BaseCommand {
  static paths = [Command.Default];

  static usage = Command.Usage({
    description: "Time the original-style pipeline against ./pipeline.sh ci, side by side, in throwaway clones of HEAD",
    details: `
      Each of --rounds rounds clones HEAD twice and times, in alternating order, the original-style pipeline (build every package twice, test each one serially, then the perf suite) and a cold \`./pipeline.sh ci --all\`. Round 1's clone then times \`ci\` with no change, a user-only change and a logger change.

      Then the start-up cases, in a fresh clone with pnpm off PATH after a first \`./pipeline.sh ci\` (which installs through npx): usage errors and --help (target 1 s each) and a no-change \`ci\` (target 2 s), each the median of three runs; --startup runs only these.

      Prints each time with its CPU time and its ratio to the original; exits 1 if a target is missed in any round or a run fails. SIMULATION_TIME_SCALE (default 1) and PERF_STOCK_COUNT apply to both pipelines. Only committed work is measured; pnpm installs offline from the local store.
    `,
    examples: [
      ["Two rounds, clones removed afterwards", "$0"],
      ["Only the start-up cases", "$0 --startup"],
      ["Three rounds, keeping the clones and logs", "$0 --rounds 3 --keep"],
    ],
  });

  rounds = Option.String("--rounds", "2", {
    description: "Rounds of original and cold runs, each in fresh clones (default 2)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  keep = Option.Boolean("--keep", false, { description: "Keep the clones (the logs are kept anyway)" });

  startup = Option.Boolean("--startup", false, {
    description: "Only the start-up cases: usage errors, --help and a no-change ci, with pnpm off PATH",
  });

  async execute() {
    options = { rounds: this.rounds, keep: this.keep, startupOnly: this.startup };
  }
}
const exitCode = await runCli(
  { binaryName: "node bench/pipeline.mjs", binaryLabel: "Pipeline benchmark", commands: [PipelineBench] },
  process.argv.slice(2),
  {},
);
// --help, or a usage error: said, and nothing to run.
if (options === undefined) process.exit(exitCode);
const { rounds: ROUNDS, keep: KEEP, startupOnly: STARTUP_ONLY } = options;
const TARGETS = { cold: 0.5, "no change": 0.05, "user only": 0.25 };

const env = { ...process.env, SIMULATION_TIME_SCALE: process.env.SIMULATION_TIME_SCALE ?? "1", GITHUB_STEP_SUMMARY: "" };
const work = fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-bench-"));

function sh(cwd, command, args) {
  return execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));

/** CPU seconds (user + system) of this process's reaped descendants, the whole tree below it. */
function childrenCpuSeconds() {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** Runs a command with its output in a log file; resolves with its wall time, CPU time and exit code. */
function timed(cwd, command, args, log, runEnv = env) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(log, "a");
    fs.writeSync(out, `$ ${command} ${args.join(" ")}\n`);
    const started = performance.now();
    const cpuBefore = childrenCpuSeconds();
    const child = spawn(command, args, { cwd, env: runEnv, stdio: ["ignore", out, out] });
    child.on("error", reject);
    child.on("close", (code) => {
      fs.closeSync(out);
      resolve({ seconds: (performance.now() - started) / 1000, cpu: childrenCpuSeconds() - cpuBefore, code });
    });
  });
}

/** Any pnpm on PATH, else the pinned one through npx, as pipeline.sh does. */
const PNPM = (() => {
  try {
    execFileSync("pnpm", ["--version"], { stdio: "ignore" });
    return ["pnpm"];
  } catch {
    const pinned = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).packageManager;
    return ["npx", "-y", pinned];
  }
})();

const clones = [];

function clone(name, { install = true } = {}) {
  const dir = path.join(work, name);
  clones.push(dir);
  sh(REPO, "git", ["clone", "--quiet", REPO, dir]);
  // The measured commit is main in the clone, whatever branch the bench runs from: the cases branch off it.
  sh(dir, "git", ["checkout", "--quiet", "-B", "main"]);
  sh(dir, "git", ["config", "user.email", "bench@example.com"]);
  sh(dir, "git", ["config", "user.name", "bench"]);
  if (install) sh(dir, PNPM[0], [...PNPM.slice(1), "install", "--frozen-lockfile", "--offline", "--reporter=silent"]);
  return dir;
}

const fmt = (s) => `${s.toFixed(1)}s`;
const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;

async function original(dir) {
  const log = path.join(work, "original.log");
  const pnpmRun = (args) => timed(dir, PNPM[0], [...PNPM.slice(1), ...args], log);
  const build = ["-r", "--workspace-concurrency=1", "exec", "tsc", "-p", "tsconfig.json"];
  const build1 = await pnpmRun(build);
  const build2 = await pnpmRun(build);
  const tests = await pnpmRun(["-r", "--workspace-concurrency=1", "--no-bail", "run", "test"]);
  const perf = await pnpmRun(["--filter", "@monorepo/trading-service", "run", "test:perf"]);
  const steps = [build1, build2, tests, perf];
  const sum = (key, list = steps) => list.reduce((total, step) => total + step[key], 0);
  return { build1, build2, tests, perf, full: sum("seconds"), fullCpu: sum("cpu"), withoutPerf: sum("seconds", steps.slice(0, 3)), log };
}

function commitChange(dir, file, message) {
  fs.appendFileSync(path.join(dir, file), `// bench: ${message}\n`);
  sh(dir, "git", ["commit", "--quiet", "-am", message]);
}

const newLog = path.join(work, "new.log");

async function ci(dir, name, args) {
  fs.appendFileSync(newLog, `\n===== ${name}\n`);
  const result = await timed(dir, "./pipeline.sh", ["ci", ...args], newLog);
  const text = fs.readFileSync(newLog, "utf8");
  const tail = text
    .slice(text.lastIndexOf(`===== ${name}`))
    .trimEnd()
    .split("\n");
  return { name, ...result, verdict: tail.at(-2) ?? "", counts: tail.at(-1) ?? "" };
}

/** The incremental cases, in the clone the cold run left behind. */
async function incrementalCases(dir) {
  const cases = [];
  sh(dir, "git", ["checkout", "--quiet", "-b", "bench"]);
  cases.push(await ci(dir, "no change", []));
  commitChange(dir, "services/user/src/app.ts", "user-only change");
  cases.push(await ci(dir, "user only", []));
  sh(dir, "git", ["checkout", "--quiet", "-B", "bench", "main"]);
  commitChange(dir, "common/logger/src/index.ts", "logger change");
  cases.push(await ci(dir, "logger", []));
  return cases;
}

/** The original against the new pipeline, round by round, then the incremental cases; returns the misses. */
async function comparison() {
  const rounds = [];
  const cases = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const originalDir = clone(`original-${round}`);
    const newDir = clone(`new-${round}`);
    // Odd rounds measure the original first, even rounds the new pipeline first.
    let orig;
    let cold;
    if (round % 2 === 1) {
      orig = await original(originalDir);
      cold = await ci(newDir, `cold (round ${round})`, ["--all"]);
    } else {
      cold = await ci(newDir, `cold (round ${round})`, ["--all"]);
      orig = await original(originalDir);
    }
    rounds.push({ round, orig, cold });
    if (round === 1) cases.push(...(await incrementalCases(newDir)));
  }

  const row = (name, step) => `  ${name.padEnd(12)} ${fmt(step.seconds).padStart(8)}  ${fmt(step.cpu).padStart(8)} cpu  exit ${step.code}`;
  let missed = 0;
  for (const { round, orig } of rounds) {
    console.log(`\nround ${round}, original-style pipeline (serial build, serial build again, serial tests, perf suite):`);
    for (const [name, step] of [
      ["build", orig.build1],
      ["build again", orig.build2],
      ["tests", orig.tests],
      ["perf suite", orig.perf],
    ])
      console.log(row(name, step));
    console.log(`  ${"full".padEnd(12)} ${fmt(orig.full).padStart(8)}  ${fmt(orig.fullCpu).padStart(8)} cpu`);
    console.log(`  ${"w/o perf".padEnd(12)} ${fmt(orig.withoutPerf).padStart(8)}`);
  }

  const header = `  ${"case".padEnd(18)} ${"wall".padStart(8)}  ${"vs full".padStart(8)}  ${"vs w/o perf".padStart(11)}  ${"cpu".padStart(7)}  ${"cpu vs full".padStart(11)}  ${"target".padEnd(16)} result`;
  function report(c, orig) {
    const ratio = c.seconds / orig.full;
    const target = TARGETS[c.name.replace(/ \(round \d+\)$/, "")];
    const verdict = target === undefined ? "" : ratio <= target ? `<= ${target * 100}% met` : `<= ${target * 100}% MISSED`;
    if (target !== undefined && ratio > target) missed++;
    if (c.code !== 0) missed++;
    console.log(
      `  ${c.name.padEnd(18)} ${fmt(c.seconds).padStart(8)}  ${pct(c.seconds, orig.full).padStart(8)}  ${pct(c.seconds, orig.withoutPerf).padStart(11)}  ${fmt(c.cpu).padStart(7)}  ${pct(c.cpu, orig.fullCpu).padStart(11)}  ${verdict.padEnd(16)} exit ${c.code}: ${c.verdict} | ${c.counts}`,
    );
  }
  console.log("\nnew pipeline (./pipeline.sh ci), cold, against the original of the same round:");
  console.log(header);
  for (const { orig, cold } of rounds) report(cold, orig);
  const mean = (key) => rounds.reduce((total, r) => total + r.orig[key], 0) / rounds.length;
  const meanOriginal = { full: mean("full"), fullCpu: mean("fullCpu"), withoutPerf: mean("withoutPerf") };
  console.log(`\nnew pipeline, incremental cases in round 1's clone, against the mean original (${fmt(meanOriginal.full)}):`);
  console.log(header);
  for (const c of cases) report(c, meanOriginal);

  return missed;
}

/**
 * A PATH that has every command of this one but pnpm: a folder of links to them, so that pipeline.sh
 * meets a machine where pnpm is not installed.
 */
function pathWithoutPnpm() {
  const bin = path.join(work, "bin-without-pnpm");
  fs.mkdirSync(bin);
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    let names;
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (/^pnpm|^pnpx$/.test(name) || fs.existsSync(path.join(bin, name))) continue;
      fs.symlinkSync(path.join(dir, name), path.join(bin, name));
    }
  }
  return bin;
}

const STARTUP_CASES = [
  ["no command", [], 2, 1],
  ["unknown command", ["bogus"], 2, 1],
  ["unknown option", ["ci", "--bogus"], 2, 1],
  ["bad --base", ["ci", "--base", "no-such-rev"], 2, 1],
  ["--help", ["--help"], 0, 1],
  ["ci --help", ["ci", "--help"], 0, 1],
  ["no-change ci", ["ci"], 0, 2],
];
const STARTUP_RUNS = 3;

/** The start-up cases in a fresh clone with pnpm off PATH, after a first run; returns the misses. */
async function startup() {
  const dir = clone("startup", { install: false });
  sh(dir, "git", ["checkout", "--quiet", "-b", "bench"]);
  const startupEnv = { ...env, PATH: pathWithoutPnpm() };
  const log = path.join(work, "startup.log");
  const first = await timed(dir, "./pipeline.sh", ["ci"], log, startupEnv);
  console.log(
    `\nstart-up cases, pnpm off PATH (log: ${log}); first run \`./pipeline.sh ci\` (install through npx, bootstrap): ${fmt(first.seconds)}, exit ${first.code}`,
  );
  let missed = first.code === 0 ? 0 : 1;
  console.log(`  ${"case".padEnd(16)} ${"median".padStart(7)}  ${"runs".padEnd(20)} ${"cpu".padStart(6)}  target`);
  for (const [name, args, code, target] of STARTUP_CASES) {
    const runs = [];
    for (let i = 0; i < STARTUP_RUNS; i++) runs.push(await timed(dir, "./pipeline.sh", args, log, startupEnv));
    const median = runs.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(STARTUP_RUNS / 2)];
    const exitsOk = runs.every((r) => r.code === code);
    const met = median <= target && exitsOk;
    if (!met) missed++;
    const cpu = runs.reduce((total, r) => total + r.cpu, 0) / runs.length;
    const verdict = `<= ${target}s ${median <= target ? "met" : "MISSED"}${exitsOk ? "" : `, exit ${runs.map((r) => r.code).join("/")} (expected ${code})`}`;
    console.log(
      `  ${name.padEnd(16)} ${`${median.toFixed(2)}s`.padStart(7)}  ${runs
        .map((r) => r.seconds.toFixed(2))
        .join(" ")
        .padEnd(20)} ${`${cpu.toFixed(2)}s`.padStart(6)}  ${verdict}`,
    );
  }
  return missed;
}

let missed = 0;
try {
  if (!STARTUP_ONLY) {
    const head = sh(REPO, "git", ["rev-parse", "--short", "HEAD"]);
    console.log(`bench: clones of ${REPO} at ${head} in ${work}`);
    console.log(
      `bench: SIMULATION_TIME_SCALE=${env.SIMULATION_TIME_SCALE}, PERF_STOCK_COUNT=${env.PERF_STOCK_COUNT ?? "(suite default: 1,000,000)"}, ${os.availableParallelism()} CPUs`,
    );
    missed += await comparison();
  }
  missed += await startup();
} catch (error) {
  // A clone, an install or a run that could not start: said in one line, the clones still removed.
  console.error(
    `bench: ${String(error.stderr || error.message)
      .trim()
      .split("\n")
      .at(-1)}`,
  );
  missed++;
} finally {
  console.log(`\nlogs in ${work}`);
  if (KEEP) console.log(`clones kept in ${work}`);
  else for (const dir of [...clones, path.join(work, "bin-without-pnpm")]) fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(missed ? 1 : 0);
