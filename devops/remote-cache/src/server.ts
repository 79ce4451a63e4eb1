import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { RemoteCacheError } from "./errors";
import { ensureNginx, TextSink } from "./nginx-binary";
import { renderNginxConfig } from "./nginx-config";
import { childPids, commandLine, isAlive, signal, waitUntilGone } from "./processes";
import { CachePaths, CacheSettings, localUrl, pathsFor } from "./settings";

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
}

export interface StartResult extends RunningServer {
  alreadyRunning: boolean;
}

/** A cache miss for any hash: the cheapest request that proves a port answers HTTP. */
const PROBE_PATH = `/cas/${"0".repeat(64)}`;

/**
 * Starts nginx for `settings` and resolves once both ports answer. Idempotent: a server
 * already running from the same directory with the same settings is left as it is.
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
    return { ...running, alreadyRunning: true };
  }

  const runningAsRoot = options.runningAsRoot ?? process.geteuid?.() === 0;
  const nginx = options.nginx ?? (await ensureNginx({ runningAsRoot, output: options.output }));
  if (settings.htpasswd) checkReadable(settings.htpasswd);

  for (const dir of [`${paths.cacheDir}/ac`, `${paths.cacheDir}/cas`, paths.logDir, paths.tmpDir]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  fs.rmSync(paths.pidFile, { force: true });
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
  return { ...started, alreadyRunning: false };
}

export interface StopResult {
  wasRunning: boolean;
  pid?: number;
}

/** Stops the server of `dir` and its workers; a no-op when none runs. */
export async function stopServer(dir: string, options: { timeoutMs?: number } = {}): Promise<StopResult> {
  const paths = pathsFor(dir);
  const running = findRunning(paths);
  if (!running) {
    fs.rmSync(paths.pidFile, { force: true });
    return { wasRunning: false };
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
  return { wasRunning: true, pid: running.pid };
}

export type ServerStatus =
  | ({ running: true; readWriteAnswers: boolean; readOnlyAnswers: boolean } & RunningServer)
  | { running: false; dir: string };

export async function serverStatus(dir: string): Promise<ServerStatus> {
  const running = findRunning(pathsFor(dir));
  if (!running) return { running: false, dir };
  const [readWrite, readOnly] = await Promise.all([probe(running.readWriteUrl), probe(running.readOnlyUrl)]);
  return { running: true, ...running, readWriteAnswers: readWrite !== undefined, readOnlyAnswers: readOnly !== undefined };
}

/** The live nginx master started from this directory's config, if any (a reused pid does not count). */
export function findRunning(paths: CachePaths): RunningServer | undefined {
  let pid: number;
  let settings: CacheSettings;
  try {
    pid = Number(fs.readFileSync(paths.pidFile, "utf8").trim());
    settings = JSON.parse(fs.readFileSync(paths.settingsFile, "utf8")) as CacheSettings;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (!commandLine(pid).includes(`-c ${paths.configFile}`)) return undefined;
  return {
    pid,
    settings,
    readWriteUrl: localUrl(settings.host, settings.port),
    readOnlyUrl: localUrl(settings.host, settings.readOnlyPort),
  };
}

export function describeSettings(settings: CacheSettings): string {
  return `host ${settings.host}, read-write port ${settings.port}, read-only port ${settings.readOnlyPort}` +
    (settings.htpasswd ? `, htpasswd ${settings.htpasswd}` : "");
}

function sameSettings(a: CacheSettings, b: CacheSettings): boolean {
  return a.dir === b.dir && a.host === b.host && a.port === b.port && a.readOnlyPort === b.readOnlyPort &&
    (a.htpasswd ?? "") === (b.htpasswd ?? "");
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

/** The HTTP status a probe got (401 counts: the write port may want a password), or undefined. */
function probe(baseUrl: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`${baseUrl}${PROBE_PATH}`, { agent: false, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
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
