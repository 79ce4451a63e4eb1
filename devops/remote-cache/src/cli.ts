#!/usr/bin/env node
import { BaseCommand, runMain, type CliSpec } from "@monorepo/cli";
import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { RemoteCacheError } from "./errors";
import { serverStatus, startServer, stopServer } from "./server";
import {
  CacheSettings,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_READ_ONLY_PORT,
  defaultDir,
  pathsFor,
  resolveSettings,
} from "./settings";

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

      nginx never evicts: the cache grows until you delete it (stop, remove <dir>/cache, start). For a size-bounded LRU cache
      use bazel-remote (see README.md).

      Exit codes: 0 started or already running; 1 nginx could not be installed or started, or it runs with other
      settings; 2 usage error (a bad flag or setting).
    `,
    examples: [
      ["Start on the default ports, this machine only", "$0 start"],
      ["Team server: all interfaces, writes need a password", "$0 start --host 0.0.0.0 --htpasswd /etc/bazel-cache/htpasswd"],
      ["Throwaway server in a temp directory", "$0 start --dir /tmp/cache --port 19090 --read-only-port 19091"],
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

  async execute(): Promise<number> {
    const settings = settingsOrUsageError(() =>
      resolveSettings({
        dir: this.dir,
        host: this.host,
        port: this.port,
        readOnlyPort: this.readOnlyPort,
        htpasswd: this.htpasswd,
      }),
    );
    const server = await startServer(settings, { output: this.context.stderr });
    const paths = pathsFor(settings.dir);
    this.context.stdout.write(
      `${server.alreadyRunning ? "already running" : "started"}: nginx pid ${server.pid} (${exposure(settings)})\n` +
        `  read-write: ${server.readWriteUrl}  (CI: --remote_cache=${server.readWriteUrl} --remote_upload_local_results)\n` +
        `  read-only:  ${server.readOnlyUrl}  (developers: --remote_cache=${server.readOnlyUrl})\n` +
        `  cache: ${paths.cacheDir}  logs: ${paths.logDir}\n`,
    );
    return 0;
  }
}

class StopCommand extends BaseCommand {
  static paths = [["stop"]];
  static usage = Command.Usage({
    description: "Stop the cache server of --dir and its workers",
    details: `
      Sends nginx SIGQUIT (uploads in flight finish, at most 10 s), then SIGKILL if it is still there.
      Stopping a server that is not running succeeds and says so. The cached blobs stay on disk.

      Exit codes: 0 stopped or not running; 1 nginx did not stop; 2 usage error.
    `,
    examples: [["Stop the default server", "$0 stop"]],
  });

  dir = dirOption();

  async execute(): Promise<number> {
    const dir = resolveDir(this.dir);
    const result = await stopServer(dir);
    this.context.stdout.write(result.wasRunning ? `stopped: nginx pid ${result.pid}\n` : `not running (${dir})\n`);
    return 0;
  }
}

class StatusCommand extends BaseCommand {
  static paths = [["status"]];
  static usage = Command.Usage({
    description: "Show whether the cache server of --dir runs and answers",
    details: `
      Exit codes: 0 running and both ports answer; 1 running but a port does not answer; 2 usage error; 3 not running.
    `,
    examples: [["Check the default server", "$0 status"]],
  });

  dir = dirOption();

  async execute(): Promise<number> {
    const status = await serverStatus(resolveDir(this.dir));
    if (!status.running) {
      this.context.stdout.write(`not running (${status.dir})\n`);
      return 3;
    }
    const answer = (ok: boolean) => (ok ? "answers" : "DOES NOT ANSWER");
    this.context.stdout.write(
      `running: nginx pid ${status.pid} (${exposure(status.settings)})\n` +
        `  read-write: ${status.readWriteUrl}  ${answer(status.readWriteAnswers)}` +
        `${status.settings.htpasswd ? ` (basic auth: ${status.settings.htpasswd})` : ""}\n` +
        `  read-only:  ${status.readOnlyUrl}  ${answer(status.readOnlyAnswers)}\n` +
        `  cache: ${pathsFor(status.settings.dir).cacheDir}\n`,
    );
    return status.readWriteAnswers && status.readOnlyAnswers ? 0 : 1;
  }
}

export const REMOTE_CACHE: CliSpec = {
  binaryLabel: "Bazel remote cache (nginx)",
  binaryName: "devops/remote-cache/cache.sh",
  binaryVersion: "1.0.0",
  commands: [StartCommand, StopCommand, StatusCommand],
};

if (require.main === module) runMain(REMOTE_CACHE);
