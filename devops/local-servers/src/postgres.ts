import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { LocalServerError } from "./errors";

/**
 * A throwaway PostgreSQL server for tests and local runs: a fresh cluster in a temp dir, TCP on
 * 127.0.0.1 only (no unix socket), fsync off, superuser `postgres` with trust authentication.
 * Written by hand because no npm package starts the host's own PostgreSQL binaries; the ones that
 * exist download a server build, which is not reachable everywhere.
 */

const INSTALL_HINT = "Install it with: apt-get install -y postgresql  (Debian/Ubuntu; any PostgreSQL 12 or newer works)";

/** Debian installs each major version's server binaries under /usr/lib/postgresql/<major>/bin. */
const DEBIAN_ROOT = "/usr/lib/postgresql";

/** initdb and postmaster refuse to run as root; Debian's package creates this user. */
const POSTGRES_USER = "postgres";

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function binariesIn(dir: string): PostgresBinaries | undefined {
  const initdb = path.join(dir, "initdb");
  const postgres = path.join(dir, "postgres");
  return isExecutable(initdb) && isExecutable(postgres) ? { initdb, postgres } : undefined;
}

/**
 * initdb and postgres from the newest major version under /usr/lib/postgresql (Debian), else from
 * PATH (other systems put them there); a LocalServerError saying how to install them otherwise.
 */
export function findPostgresBinaries(options: { debianRoot?: string; searchPath?: string } = {}): PostgresBinaries {
  const root = options.debianRoot ?? DEBIAN_ROOT;
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(root).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {}
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const found = binariesIn(path.join(root, version, "bin"));
    if (found) return found;
  }
  for (const dir of (options.searchPath ?? process.env.PATH ?? "").split(path.delimiter)) {
    const found = dir === "" ? undefined : binariesIn(dir);
    if (found) return found;
  }
  throw new LocalServerError(`PostgreSQL's initdb and postgres were found neither in ${root}/<version>/bin nor on PATH. ${INSTALL_HINT}`);
}

interface Account {
  uid: number;
  gid: number;
}

function postgresAccount(): Account {
  const line = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${POSTGRES_USER}:`));
  if (!line) {
    throw new LocalServerError(`PostgreSQL refuses to run as root and there is no "${POSTGRES_USER}" user to run it as. ${INSTALL_HINT}`);
  }
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Whether `account` can reach `dir`: every folder above it must let others (or that account) through. */
function reachableBy(dir: string, account: Account): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const stat = fs.statSync(current);
    if (!(stat.uid === account.uid ? stat.mode & 0o100 : stat.mode & 0o001)) return false;
    if (path.dirname(current) === current) return true;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], account: Account | undefined, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], ...account });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", (error) => reject(new LocalServerError(`${command} could not run: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new LocalServerError(`${path.basename(command)} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** The postmaster's pid. */
  pid: number;
  /** The temp dir holding the cluster; stop() removes it. */
  dir: string;
  /** Shuts the server down (fast shutdown: sessions are ended) and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  binaries?: PostgresBinaries;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

const READY = "database system is ready to accept connections";
const PORT_TAKEN = /could not bind|Address already in use/i;
/** Another process may take the free port between our probe and the server's bind: try a new one. */
const PORT_ATTEMPTS = 3;

/**
 * Starts a fresh PostgreSQL cluster. As root it runs as the `postgres` user (PostgreSQL refuses
 * root), with the cluster's folder owned by it. The server receives SIGQUIT if this process dies
 * without calling stop() (Linux's parent-death signal, through util-linux's setpriv), so a crashed
 * test leaves no server running.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binaries = options.binaries ?? findPostgresBinaries();
  const account = process.geteuid?.() === 0 ? postgresAccount() : undefined;
  const base = account && !reachableBy(os.tmpdir(), account) ? "/tmp" : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, "local-postgres-"));
  try {
    if (account) fs.chownSync(dir, account.uid, account.gid);
    const dataDir = path.join(dir, "data");
    await run(
      binaries.initdb,
      ["-D", dataDir, "-U", POSTGRES_USER, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
      account,
      dir,
    );
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        return await launch(binaries, dataDir, dir, port, account, options.startTimeoutMs ?? 60_000);
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

class PortTakenError extends LocalServerError {}

function launch(
  binaries: PostgresBinaries,
  dataDir: string,
  dir: string,
  port: number,
  account: Account | undefined,
  startTimeoutMs: number,
): Promise<PostgresServer> {
  const settings = [
    "listen_addresses=127.0.0.1",
    `port=${port}`,
    "unix_socket_directories=",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
  ].flatMap((setting) => ["-c", setting]);
  const postgresArgs = ["-D", dataDir, ...settings];
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find(isExecutable);
  const [command, args] = setpriv
    ? [setpriv, ["--pdeathsig", "QUIT", "--", binaries.postgres, ...postgresArgs]]
    : [binaries.postgres, postgresArgs];
  const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], ...account });
  let log = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise<PostgresServer>((resolve, reject) => {
    const fail = (error: LocalServerError) => {
      clearTimeout(timer);
      child.kill("SIGQUIT");
      exited.then(() => reject(error));
    };
    const timer = setTimeout(
      () => fail(new LocalServerError(`PostgreSQL did not accept connections within ${startTimeoutMs} ms:\n${log.trim()}`)),
      startTimeoutMs,
    );
    child.on("error", (error) => fail(new LocalServerError(`${command} could not run: ${error.message}`)));
    let ready = false;
    child.once("exit", (code, signal) => {
      if (ready) return;
      const message = `PostgreSQL exited while starting (${signal ?? `exit ${code}`}):\n${log.trim()}`;
      fail(PORT_TAKEN.test(log) ? new PortTakenError(message) : new LocalServerError(message));
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk;
      if (ready || !log.includes(READY)) return;
      ready = true;
      clearTimeout(timer);
      resolve(server(child, exited, dir, port));
    });
  });
}

function server(child: ChildProcess, exited: Promise<void>, dir: string, port: number): PostgresServer {
  // Keep draining the log: a full pipe would block the server.
  child.stderr!.resume();
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${POSTGRES_USER}@127.0.0.1:${port}/postgres`,
    host: "127.0.0.1",
    port,
    user: POSTGRES_USER,
    database: "postgres",
    pid: child.pid!,
    dir,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          // SIGINT is PostgreSQL's fast shutdown; SIGQUIT (immediate) if that does not end it.
          child.kill("SIGINT");
          let timer: NodeJS.Timeout | undefined;
          const fast = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(r, 10_000, false)))]);
          clearTimeout(timer);
          if (!fast) {
            child.kill("SIGQUIT");
            await exited;
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
