#!/usr/bin/env node
// Pipeline benchmark: the original-style pipeline against the new one, in throwaway clones of this
// repository's HEAD (committed work only), installed offline from the local pnpm store.
//
//   node bench/pipeline.mjs [--keep]
//
// Environment: SIMULATION_TIME_SCALE (default 1: the original 5 s wait of the flaky user test and
// every other simulated wait at full length, for both pipelines), PERF_STOCK_COUNT (the perf suite's
// data set; the suite's own default is 1,000,000 stocks).
//
// The original-style pipeline (SPEC "The original pipeline", without its bug of also looping over the
// root package): build every package one by one, build them all again, test every package one by
// one, then the trading perf suite. Its work does not depend on the change, so it runs once and
// that time stands for every case. It keeps going after a red test, as the numbers are what matter.
//
// The new pipeline runs `./pipeline.sh ci` (engine auto: it probes Bazel, falls back to pnpm) in
// one clone, case after case, like a CI runner that keeps its workspace:
//   cold        fresh clone, no build output, `ci --all`
//   no change   a branch with no commit on top of main: the diff against the merge-base is empty
//   user only   that branch with one commit changing services/user
//   logger      the branch reset to main plus one commit changing common/logger
// Wall times are measured around the whole command, bootstrap included.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const KEEP = process.argv.includes("--keep");
const TARGETS = { cold: 0.5, "no change": 0.05, "user only": 0.25 };

const env = { ...process.env, SIMULATION_TIME_SCALE: process.env.SIMULATION_TIME_SCALE ?? "1", GITHUB_STEP_SUMMARY: "" };
const work = fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-bench-"));

function sh(cwd, command, args) {
  return execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Runs a command with its output in a log file; resolves with its wall time and exit code. */
function timed(cwd, command, args, log) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(log, "a");
    fs.writeSync(out, `$ ${command} ${args.join(" ")}\n`);
    const started = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", out, out] });
    child.on("error", reject);
    child.on("close", (code) => {
      fs.closeSync(out);
      resolve({ seconds: (performance.now() - started) / 1000, code });
    });
  });
}

function clone(name) {
  const dir = path.join(work, name);
  sh(REPO, "git", ["clone", "--quiet", REPO, dir]);
  sh(dir, "git", ["config", "user.email", "bench@example.com"]);
  sh(dir, "git", ["config", "user.name", "bench"]);
  sh(dir, "pnpm", ["install", "--frozen-lockfile", "--offline", "--reporter=silent"]);
  return dir;
}

const fmt = (s) => `${s.toFixed(1)}s`;
const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;

async function original(dir) {
  const log = path.join(work, "original.log");
  const pnpmRun = (args) => timed(dir, "pnpm", args, log);
  const build1 = await pnpmRun(["-r", "--workspace-concurrency=1", "run", "build"]);
  const build2 = await pnpmRun(["-r", "--workspace-concurrency=1", "run", "build"]);
  const tests = await pnpmRun(["-r", "--workspace-concurrency=1", "--no-bail", "run", "test"]);
  const perf = await pnpmRun(["--filter", "@monorepo/trading-service", "run", "test:perf"]);
  const full = build1.seconds + build2.seconds + tests.seconds + perf.seconds;
  return { build1, build2, tests, perf, full, withoutPerf: full - perf.seconds, log };
}

function commitChange(dir, file, message) {
  fs.appendFileSync(path.join(dir, file), `// bench: ${message}\n`);
  sh(dir, "git", ["commit", "--quiet", "-am", message]);
}

async function newPipeline(dir) {
  const log = path.join(work, "new.log");
  const ci = async (name, args) => {
    fs.appendFileSync(log, `\n===== ${name}\n`);
    const result = await timed(dir, "./pipeline.sh", ["ci", ...args], log);
    const text = fs.readFileSync(log, "utf8");
    const tail = text.slice(text.lastIndexOf(`===== ${name}`)).trimEnd().split("\n");
    return { name, ...result, verdict: tail.at(-2) ?? "", counts: tail.at(-1) ?? "" };
  };
  const cases = [];
  cases.push(await ci("cold", ["--all"]));
  sh(dir, "git", ["checkout", "--quiet", "-b", "bench"]);
  cases.push(await ci("no change", []));
  commitChange(dir, "services/user/src/app.ts", "user-only change");
  cases.push(await ci("user only", []));
  sh(dir, "git", ["checkout", "--quiet", "-B", "bench", "main"]);
  commitChange(dir, "common/logger/src/index.ts", "logger change");
  cases.push(await ci("logger", []));
  return { cases, log };
}

const head = sh(REPO, "git", ["rev-parse", "--short", "HEAD"]);
console.log(`bench: clones of ${REPO} at ${head} in ${work}`);
console.log(`bench: SIMULATION_TIME_SCALE=${env.SIMULATION_TIME_SCALE}, PERF_STOCK_COUNT=${env.PERF_STOCK_COUNT ?? "(suite default: 1,000,000)"}, ${os.availableParallelism()} CPUs`);

const originalDir = clone("original");
const newDir = clone("new");

const orig = await original(originalDir);
console.log("\noriginal-style pipeline (serial build, serial build again, serial tests, perf suite):");
for (const [name, step] of [["build", orig.build1], ["build again", orig.build2], ["tests", orig.tests], ["perf suite", orig.perf]]) {
  console.log(`  ${name.padEnd(12)} ${fmt(step.seconds).padStart(8)}  exit ${step.code}`);
}
console.log(`  ${"full".padEnd(12)} ${fmt(orig.full).padStart(8)}`);
console.log(`  ${"w/o perf".padEnd(12)} ${fmt(orig.withoutPerf).padStart(8)}`);

const fresh = await newPipeline(newDir);
console.log("\nnew pipeline (./pipeline.sh ci) per case:");
console.log(`  ${"case".padEnd(10)} ${"wall".padStart(8)}  ${"vs full".padStart(8)}  ${"vs w/o perf".padStart(11)}  ${"target".padEnd(16)} result`);
let missed = 0;
for (const c of fresh.cases) {
  const ratio = c.seconds / orig.full;
  const target = TARGETS[c.name];
  const verdict = target === undefined ? "" : ratio <= target ? `<= ${target * 100}% met` : `<= ${target * 100}% MISSED`;
  if (target !== undefined && ratio > target) missed++;
  if (c.code !== 0) missed++;
  console.log(
    `  ${c.name.padEnd(10)} ${fmt(c.seconds).padStart(8)}  ${pct(c.seconds, orig.full).padStart(8)}  ${pct(c.seconds, orig.withoutPerf).padStart(11)}  ${verdict.padEnd(16)} exit ${c.code}: ${c.verdict} | ${c.counts}`,
  );
}
console.log(`\nlogs: ${orig.log}, ${fresh.log}`);
if (KEEP) console.log(`clones kept in ${work}`);
else for (const dir of [originalDir, newDir]) fs.rmSync(dir, { recursive: true, force: true });
process.exit(missed ? 1 : 0);
