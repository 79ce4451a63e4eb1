#!/usr/bin/env node
import { BaseCommand, type CliSpec, runMain } from "@monorepo/cli";
import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { RemoteCacheError } from "./errors";
import { type Health, LOW_WATER_FRACTION } from "./evictor";
import { runEvictor, serverStatus, startServer, stopServer } from "./server";
import {
  type CacheSettings,
  DEFAULT_HOST,
  DEFAULT_MAX_SIZE,
  DEFAULT_PORT,
  DEFAULT_READ_ONLY_PORT,
  defaultDir,
  pathsFor,
  resolveSettings,
} from "./settings";
import { formatSize } from "./size";

const isPort = t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 65535)]);

const DIR_DESCRIPTION = `Cache and server state (default ${defaultDir()}; env REMOTE_CACHE_DIR)`;

function dirOption() {
  return Option.String("--dir", { env: "REMOTE_CACHE_DIR", description: DIR_DESCRIPTION });
}

/** The directory stop/status act on: the same default and validation as start. */
function resolveDir(dir: string | undefined): string {
  return settingsOrUsageError(() => resolveSettings({ dir })).dir;
}

function settingsOrUsageError(resolve: () => CacheSettings): CacheSettings {
  try {
    return resolve();
  } catch (error) {
    if (error instanceof RemoteCacheError) throw new UsageError(error.message);
    throw error;
  }
}

function exposure(settings: CacheSettings): string {
  return settings.host === "127.0.0.1" || settings.host === "::1" || settings.host === "localhost"
    ? "this machine only"
    : `bound to ${settings.host}: reachable by whoever can reach this machine`;
}

class StartCommand extends BaseCommand {
  static paths = [["start"]];
  static usage = Command.Usage({
    description: "Start the Bazel HTTP remote cache (nginx): a read-write port for CI and a read-only port for developers",
    details: `
      Renders nginx.conf.template into <dir>/run and starts nginx from there (pid file, logs and temp files stay in
      <dir>/run; blobs go to <dir>/cache/ac and <dir>/cache/cas). Returns once both ports answer.

      If nginx is missing and this runs as root, Debian's nginx is installed with apt-get; otherwise it says how to install it.

      Starting again with the same settings is a no-op; with other settings it asks you to stop first.

      The default --host 127.0.0.1 serves this machine only. A team server binds 0.0.0.0 behind a firewall or a TLS proxy,
      and guards the read-write port with --htpasswd (the file stays outside git).

      The blobs stay under --max-size: an evictor process beside nginx records every read and write of an entry and,
      when the bound is passed, deletes the least recently used entries until ${LOW_WATER_FRACTION * 100}% of the bound is used.
      GET /healthz on either port answers with the size used against the bound.

      Exit codes: 0 started or already running; 1 nginx could not be installed or started, or it runs with other
      settings; 2 usage error (a bad flag or setting).
    `,
    examples: [
      ["Start on the default ports, this machine only", "$0 start"],
      ["Team server: all interfaces, writes need a password", "$0 start --host 0.0.0.0 --htpasswd /etc/bazel-cache/htpasswd"],
      ["Throwaway server in a temp directory", "$0 start --dir /tmp/cache --port 19090 --read-only-port 19091"],
      ["Team server with a 200 GiB cache", "$0 start --host 0.0.0.0 --max-size 200G --htpasswd /etc/bazel-cache/htpasswd"],
    ],
  });

  dir = dirOption();
  port = Option.String("--port", String(DEFAULT_PORT), { validator: isPort, description: "Read-write port (CI runners)" });
  readOnlyPort = Option.String("--read-only-port", String(DEFAULT_READ_ONLY_PORT), {
    validator: isPort,
    description: "Read-only port (developers); PUT is refused with 403",
  });
  host = Option.String("--host", DEFAULT_HOST, {
    description: "Address both ports bind to; 0.0.0.0 for a team server behind a firewall or TLS proxy",
  });
  htpasswd = Option.String("--htpasswd", {
    env: "REMOTE_CACHE_HTPASSWD",
    description: "htpasswd file; when set, the read-write port requires HTTP basic auth (env REMOTE_CACHE_HTPASSWD)",
  });
  maxSize = Option.String("--max-size", DEFAULT_MAX_SIZE, {
    description: `Bound on the blobs' total size, like 500M, 20G or 1T (binary units); least recently used entries are evicted above it (default ${DEFAULT_MAX_SIZE})`,
  });

  async execute(): Promise<number> {
    const settings = settingsOrUsageError(() =>
      resolveSettings({
        dir: this.dir,
        host: this.host,
        port: this.port,
        readOnlyPort: this.readOnlyPort,
        htpasswd: this.htpasswd,
        maxSize: this.maxSize,
      }),
    );
    const server = await startServer(settings, { output: this.context.stderr });
    const paths = pathsFor(settings.dir);
    this.context.stdout.write(
      `${server.alreadyRunning ? "already running" : "started"}: nginx pid ${server.pid} (${exposure(settings)})\n` +
        `  read-write: ${server.readWriteUrl}  (CI: --remote_cache=${server.readWriteUrl} --remote_upload_local_results)\n` +
        `  read-only:  ${server.readOnlyUrl}  (developers: --remote_cache=${server.readOnlyUrl})\n` +
        `  evictor: pid ${server.evictorPid}${server.evictorRestarted ? " (restarted: it was not running)" : ""}, ` +
        `bound ${formatSize(settings.maxBytes)}  health: ${server.readOnlyUrl}/healthz\n` +
        `  cache: ${paths.cacheDir}  logs: ${paths.logDir}\n`,
    );
    return 0;
  }
}

class StopCommand extends BaseCommand {
  static paths = [["stop"]];
  static usage = Command.Usage({
    description: "Stop the cache server of --dir, its workers and its evictor",
    details: `
      Stops the evictor, then sends nginx SIGQUIT (uploads in flight finish, at most 10 s), then SIGKILL if it is still there.
      Stopping a server that is not running succeeds and says so. The cached blobs stay on disk.

      Exit codes: 0 stopped or not running; 1 nginx did not stop; 2 usage error.
    `,
    examples: [["Stop the default server", "$0 stop"]],
  });

  dir = dirOption();

  async execute(): Promise<number> {
    const dir = resolveDir(this.dir);
    const result = await stopServer(dir);
    const evictor = result.evictorPid;
    this.context.stdout.write(
      result.wasRunning
        ? `stopped: nginx pid ${result.pid}${evictor === undefined ? "" : `, evictor pid ${evictor}`}\n`
        : `not running (${dir})${evictor === undefined ? "" : `; stopped its leftover evictor (pid ${evictor})`}\n`,
    );
    return 0;
  }
}

class StatusCommand extends BaseCommand {
  static paths = [["status"]];
  static usage = Command.Usage({
    description: "Show whether the cache server of --dir runs and answers",
    details: `
      Prints what GET /healthz answers: the blobs' size against the bound, the entries, and what the evictor evicted.

      Exit codes: 0 running, both ports answer and the evictor runs; 1 running but a port does not answer or the
      evictor does not run (then the cache is not bounded; start again to restart it); 2 usage error; 3 not running.
    `,
    examples: [["Check the default server", "$0 status"]],
  });

  dir = dirOption();

  async execute(): Promise<number> {
    const status = await serverStatus(resolveDir(this.dir));
    if (!status.running) {
      const leftover = status.evictorPid === undefined ? "" : `; its evictor still runs (pid ${status.evictorPid}): stop ends it`;
      this.context.stdout.write(`not running (${status.dir})${leftover}\n`);
      return 3;
    }
    const answer = (ok: boolean) => (ok ? "answers" : "DOES NOT ANSWER");
    this.context.stdout.write(
      `running: nginx pid ${status.pid} (${exposure(status.settings)})\n` +
        `  read-write: ${status.readWriteUrl}  ${answer(status.readWriteAnswers)}` +
        `${status.settings.htpasswd ? ` (basic auth: ${status.settings.htpasswd})` : ""}\n` +
        `  read-only:  ${status.readOnlyUrl}  ${answer(status.readOnlyAnswers)}\n` +
        `${describeHealth(status.health)}` +
        `  evictor: ${status.evictorPid === undefined ? "NOT RUNNING: nothing bounds the cache; start again to restart it" : `pid ${status.evictorPid}`}\n` +
        `  cache: ${pathsFor(status.settings.dir).cacheDir}\n`,
    );
    return status.readWriteAnswers && status.readOnlyAnswers && status.evictorPid !== undefined ? 0 : 1;
  }
}

function describeHealth(health: Health | undefined): string {
  if (!health) return "  size: unknown (/healthz gave no answer)\n";
  const lastEviction = health.lastEviction ? `, last at ${health.lastEviction}` : "";
  return (
    `  size: ${health.used}, ${health.entries} entries; evicts down to ${formatSize(health.lowWaterBytes)} past the bound\n` +
    `  evicted: ${health.evictedEntries} entries (${formatSize(health.evictedBytes)}) since the evictor started${lastEviction}\n` +
    `  health: /healthz on both ports, updated ${health.updated}\n`
  );
}

class EvictorCommand extends BaseCommand {
  static paths = [["evictor"]];
  static usage = Command.Usage({
    description: "Keep the cache of --dir under its --max-size (start runs this in the background)",
    details: `
      Follows <dir>/run/logs/use.log, where nginx records every successful read and write of an entry, and moves each
      used entry's mtime up to the time of its use. When the blobs pass the bound it deletes the oldest first, down to
      ${LOW_WATER_FRACTION * 100}% of the bound. It also writes what /healthz answers and rotates the logs.

      start runs it in the background (output in <dir>/run/logs/evictor.log) and stop ends it; run it yourself only to
      watch it, after stopping the background one. It runs until it is killed, and refuses to run beside another
      evictor of the same directory.
    `,
    examples: [["Watch the evictor of the default server", "$0 evictor"]],
  });

  dir = dirOption();

  async execute(): Promise<number> {
    const dir = resolveDir(this.dir);
    return runEvictor(dir, (line) => this.context.stdout.write(`${new Date().toISOString()} ${line}\n`));
  }
}

export const REMOTE_CACHE: CliSpec = {
  binaryLabel: "Bazel remote cache (nginx)",
  binaryName: "devops/remote-cache/cache.sh",
  binaryVersion: "1.0.0",
  commands: [StartCommand, StopCommand, StatusCommand, EvictorCommand],
};

if (require.main === module) runMain(REMOTE_CACHE);
