import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { RemoteCacheError } from "./errors";
import { Evictor, type Health, lowWaterBytes } from "./evictor";
import { ensureNginx, type TextSink } from "./nginx-binary";
import { renderNginxConfig } from "./nginx-config";
import { childPids, commandLine, isAlive, processIdentity, signal, waitUntilGone } from "./processes";
import { type CachePaths, type CacheSettings, localUrl, pathsFor } from "./settings";
import { formatSize } from "./size";

export interface RunningServer {
  /** The nginx master process. */
  pid: number;
  settings: CacheSettings;
  readWriteUrl: string;
  readOnlyUrl: string;
}

export interface StartOptions {
  /** nginx binary to use (default: found on PATH, installed with apt-get when missing and root). */
  nginx?: string;
  runningAsRoot?: boolean;
  /** Where install progress goes (default: stderr). */
  output?: TextSink;
  /** How long both ports may take to answer after nginx daemonized (default 10 s). */
  readyTimeoutMs?: number;
  /** How long the evictor's first measure of the cache may take (default 10 min: a large cache is many files). */
  evictorTimeoutMs?: number;
}

export interface StartResult extends RunningServer {
  alreadyRunning: boolean;
  evictorPid: number;
  /** The server ran but its evictor did not, and this start started one. */
  evictorRestarted: boolean;
}

/** Answers without touching the cache: the cheapest request that proves a port serves HTTP. */
const HEALTH_PATH = "/healthz";

/** The compiled CLI, beside this module in every layout: the evictor runs as its `evictor` command. */
const CLI_FILE = path.join(__dirname, "cli.js");

/**
 * Starts nginx and its evictor for `settings`, and resolves once both ports answer /healthz with
 * the evictor's first measure of the cache. Idempotent: a server already running from the same
 * directory with the same settings is left as it is (its evictor restarted if it died).
 */
export async function startServer(settings: CacheSettings, options: StartOptions = {}): Promise<StartResult> {
  const paths = pathsFor(settings.dir);
  const running = findRunning(paths);
  if (running) {
    if (!sameSettings(running.settings, settings)) {
      throw new RemoteCacheError(
        `a cache server from ${settings.dir} is already running (pid ${running.pid}) with other settings ` +
          `(${describeSettings(running.settings)}); stop it first to change them`,
      );
    }
    const evictorPid = findEvictor(paths);
    if (evictorPid !== undefined) return { ...running, alreadyRunning: true, evictorPid, evictorRestarted: false };
    const restarted = await startEvictor(paths, running, options);
    return { ...running, alreadyRunning: true, evictorPid: restarted, evictorRestarted: true };
  }

  const runningAsRoot = options.runningAsRoot ?? process.geteuid?.() === 0;
  const nginx = options.nginx ?? (await ensureNginx({ runningAsRoot, output: options.output }));
  if (settings.htpasswd) checkReadable(settings.htpasswd);

  // Left behind by an nginx that died: it would follow logs nobody writes.
  await stopEvictor(paths);
  for (const dir of [`${paths.cacheDir}/ac`, `${paths.cacheDir}/cas`, paths.logDir, paths.tmpDir]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  fs.rmSync(paths.pidFile, { force: true });
  fs.rmSync(paths.healthFile, { force: true });
  fs.writeFileSync(paths.configFile, renderNginxConfig(settings, { runningAsRoot }));
  fs.writeFileSync(paths.settingsFile, `${JSON.stringify(settings, null, 2)}\n`);

  await launch(nginx, paths);
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const started = await waitUntilAnswering(paths, readyTimeoutMs);
  if (!started) {
    await stopServer(settings.dir);
    throw new RemoteCacheError(
      `nginx started but did not answer on ${describeSettings(settings)} within ${readyTimeoutMs} ms; ` +
        `last lines of ${paths.errorLog}:\n${tail(paths.errorLog)}`,
    );
  }
  try {
    const evictorPid = await startEvictor(paths, started, options);
    return { ...started, alreadyRunning: false, evictorPid, evictorRestarted: false };
  } catch (error) {
    await stopServer(settings.dir);
    throw error;
  }
}

export interface StopResult {
  wasRunning: boolean;
  pid?: number;
  /** The evictor stopped with it (or left over from a server that died). */
  evictorPid?: number;
}

/** Stops the server of `dir`, its workers and its evictor; a no-op when none runs. */
export async function stopServer(dir: string, options: { timeoutMs?: number } = {}): Promise<StopResult> {
  const paths = pathsFor(dir);
  const evictorPid = await stopEvictor(paths);
  const running = findRunning(paths);
  if (!running) {
    fs.rmSync(paths.pidFile, { force: true });
    return { wasRunning: false, evictorPid };
  }
  const processes = [running.pid, ...childPids(running.pid)];
  // SIGQUIT lets uploads in flight finish (bounded by worker_shutdown_timeout in the config).
  signal(running.pid, "SIGQUIT");
  if (!(await waitUntilGone(processes, options.timeoutMs ?? 15_000))) {
    for (const pid of [...processes, ...childPids(running.pid)]) signal(pid, "SIGKILL");
    if (!(await waitUntilGone(processes, 5_000))) {
      throw new RemoteCacheError(`nginx (pid ${running.pid}) did not stop, even after SIGKILL`);
    }
  }
  fs.rmSync(paths.pidFile, { force: true });
  return { wasRunning: true, pid: running.pid, evictorPid };
}

export type ServerStatus =
  | ({
      running: true;
      readWriteAnswers: boolean;
      readOnlyAnswers: boolean;
      /** What GET /healthz answered (the read-only port's, else the read-write port's). */
      health?: Health;
      evictorPid?: number;
    } & RunningServer)
  | { running: false; dir: string; evictorPid?: number };

export async function serverStatus(dir: string): Promise<ServerStatus> {
  const paths = pathsFor(dir);
  const running = findRunning(paths);
  const evictorPid = findEvictor(paths);
  if (!running) return { running: false, dir, evictorPid };
  const [readWrite, readOnly] = await Promise.all([probe(running.readWriteUrl), probe(running.readOnlyUrl)]);
  return {
    running: true,
    ...running,
    readWriteAnswers: readWrite !== undefined,
    readOnlyAnswers: readOnly !== undefined,
    health: readOnly?.health ?? readWrite?.health,
    evictorPid,
  };
}

/** Runs the evictor of `dir` in this process until it is killed (the CLI's `evictor` command). */
export async function runEvictor(dir: string, log: (line: string) => void): Promise<never> {
  const paths = pathsFor(dir);
  const settings = readSettings(paths);
  if (!settings?.maxBytes) {
    throw new RemoteCacheError(
      `${paths.settingsFile} is missing or names no size bound: start the server with cache.sh start --dir ${dir}`,
    );
  }
  const other = findEvictor(paths);
  if (other !== undefined && other !== process.pid) {
    throw new RemoteCacheError(`an evictor for ${dir} already runs (pid ${other})`);
  }
  const identity = processIdentity(process.pid);
  if (identity === undefined) throw new RemoteCacheError("the evictor needs Linux's /proc to name itself in its pid file");
  fs.writeFileSync(paths.evictorPidFile, `${identity}\n`);
  const evictor = new Evictor({
    paths,
    maxBytes: settings.maxBytes,
    reopenLogs: () => {
      const running = findRunning(paths);
      if (running) signal(running.pid, "SIGUSR1");
    },
    log,
  });
  log(
    `evictor pid ${process.pid}: keeps ${paths.cacheDir} under ${formatSize(settings.maxBytes)} ` +
      `(down to ${formatSize(lowWaterBytes(settings.maxBytes))} when over), following ${paths.useLog}`,
  );
  await evictor.start();
  log(`measured: ${evictor.health().used}, ${evictor.health().entries} entries`);
  return evictor.run();
}

/** The live evictor of this directory, if any: its pid file names it with its start time, so a reused pid does not count. */
export function findEvictor(paths: CachePaths): number | undefined {
  let identity: string;
  try {
    identity = fs.readFileSync(paths.evictorPidFile, "utf8").trim();
  } catch {
    return undefined;
  }
  const pid = Number(identity.split(" ")[0]);
  return Number.isInteger(pid) && pid > 0 && processIdentity(pid) === identity ? pid : undefined;
}

/**
 * Starts the evictor in the background (its own session, its output in evictor.log) and resolves
 * with its pid once both ports' /healthz show its first measure of the cache.
 */
async function startEvictor(paths: CachePaths, server: RunningServer, options: StartOptions): Promise<number> {
  const child = spawnEvictor(paths);
  let ended: string | undefined;
  child.once("exit", (code, name) => (ended = name ?? `exit ${code}`));
  const timeoutMs = options.evictorTimeoutMs ?? 10 * 60_000;
  const started = Date.now();
  let told = false;
  for (;;) {
    if (ended) {
      throw new RemoteCacheError(
        `the evictor stopped (${ended}) before it was ready; last lines of ${paths.evictorLog}:\n${tail(paths.evictorLog)}`,
      );
    }
    const pid = findEvictor(paths);
    if (pid !== undefined) {
      const probes = await Promise.all([probe(server.readWriteUrl), probe(server.readOnlyUrl)]);
      if (probes.every((answer) => answer?.health?.evictorPid === pid)) return pid;
    }
    if (Date.now() - started > timeoutMs) {
      if (child.pid !== undefined) signal(child.pid, "SIGKILL");
      throw new RemoteCacheError(`the evictor did not measure ${paths.cacheDir} within ${timeoutMs} ms; see ${paths.evictorLog}`);
    }
    if (!told && Date.now() - started > 2_000) {
      (options.output ?? process.stderr).write(`measuring ${paths.cacheDir} (the evictor's first scan)...\n`);
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function spawnEvictor(paths: CachePaths): ChildProcess {
  const output = fs.openSync(paths.evictorLog, "a");
  try {
    // The environment goes along: under Bazel, process.execPath is a launcher that needs its variables.
    const child = spawn(process.execPath, [CLI_FILE, "evictor", "--dir", paths.dir], {
      detached: true,
      stdio: ["ignore", output, output],
      env: process.env,
    });
    child.unref();
    return child;
  } finally {
    fs.closeSync(output);
  }
}

/** Stops the evictor of this directory, if one runs; resolves with its pid. */
async function stopEvictor(paths: CachePaths): Promise<number | undefined> {
  const pid = findEvictor(paths);
  if (pid !== undefined) {
    signal(pid, "SIGTERM");
    if (!(await waitUntilGone([pid], 5_000))) {
      signal(pid, "SIGKILL");
      if (!(await waitUntilGone([pid], 5_000))) throw new RemoteCacheError(`the evictor (pid ${pid}) did not stop, even after SIGKILL`);
    }
  }
  fs.rmSync(paths.evictorPidFile, { force: true });
  return pid;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readSettings(paths: CachePaths): CacheSettings | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.settingsFile, "utf8")) as CacheSettings;
  } catch {
    return undefined;
  }
}

/** The live nginx master started from this directory's config, if any (a reused pid does not count). */
export function findRunning(paths: CachePaths): RunningServer | undefined {
  const pid = readPid(paths.pidFile);
  const settings = readSettings(paths);
  if (pid === undefined || settings === undefined || !isAlive(pid)) return undefined;
  if (!commandLine(pid).includes(`-c ${paths.configFile}`)) return undefined;
  return {
    pid,
    settings,
    readWriteUrl: localUrl(settings.host, settings.port),
    readOnlyUrl: localUrl(settings.host, settings.readOnlyPort),
  };
}

export function describeSettings(settings: CacheSettings): string {
  return (
    `host ${settings.host}, read-write port ${settings.port}, read-only port ${settings.readOnlyPort}` +
    (settings.htpasswd ? `, htpasswd ${settings.htpasswd}` : "") +
    (settings.maxBytes ? `, max size ${formatSize(settings.maxBytes)}` : ", no size bound")
  );
}

function sameSettings(a: CacheSettings, b: CacheSettings): boolean {
  return (
    a.dir === b.dir &&
    a.host === b.host &&
    a.port === b.port &&
    a.readOnlyPort === b.readOnlyPort &&
    (a.htpasswd ?? "") === (b.htpasswd ?? "") &&
    a.maxBytes === b.maxBytes
  );
}

function checkReadable(file: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new RemoteCacheError(`--htpasswd ${file} is not a readable file (create it with: htpasswd -c ${file} ci)`);
  }
}

/**
 * nginx daemonizes itself: it binds both ports before forking, so a busy port or a bad config
 * fails here with nginx's own message, and the parent exits as soon as the master is forked.
 */
function launch(nginx: string, paths: CachePaths): Promise<void> {
  const args = ["-p", `${paths.runDir}/`, "-c", paths.configFile, "-e", paths.errorLog];
  return new Promise((resolve, reject) => {
    execFile(nginx, args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      // nginx retries a busy port five times, printing the same line each time.
      const message = [...new Set(stderr.trim().split("\n"))].join("\n") || error.message;
      reject(new RemoteCacheError(`nginx did not start (${nginx} ${args.join(" ")}):\n${message}`));
    });
  });
}

async function waitUntilAnswering(paths: CachePaths, timeoutMs: number): Promise<RunningServer | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = findRunning(paths);
    if (running) {
      const [readWrite, readOnly] = await Promise.all([probe(running.readWriteUrl), probe(running.readOnlyUrl)]);
      if (readWrite !== undefined && readOnly !== undefined) return running;
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ProbeAnswer {
  status: number;
  /** The evictor's health, when /healthz answered 200 with it (404 until the evictor has measured the cache). */
  health?: Health;
}

/** What GET /healthz answered, or undefined when nothing answered HTTP. */
function probe(baseUrl: string): Promise<ProbeAnswer | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`${baseUrl}${HEALTH_PATH}`, { agent: false, timeout: 2_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", () => resolve(undefined));
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        try {
          resolve(status === 200 ? { status, health: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Health } : { status });
        } catch {
          resolve({ status });
        }
      });
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(undefined));
  });
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
