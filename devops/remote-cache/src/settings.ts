import net from "node:net";
import os from "node:os";
import path from "node:path";
import { RemoteCacheError } from "./errors";
import { formatSize, parseSize } from "./size";

export const DEFAULT_PORT = 9090;
export const DEFAULT_READ_ONLY_PORT = 9091;
export const DEFAULT_HOST = "127.0.0.1";
/** Fits beside a workstation's other data; a team server sizes it to its disk. */
export const DEFAULT_MAX_SIZE = "10G";
/** Below this a bound is a typo (a count without its unit), not a cache. */
export const MIN_MAX_BYTES = 2 ** 20;
export const STATE_DIR_NAME = "acme-remote-cache";

type Env = Record<string, string | undefined>;

/** Everything a start needs; also written to the state directory so stop/status know what runs. */
export interface CacheSettings {
  /** Absolute directory holding the cache (cache/) and the server's state (run/). */
  dir: string;
  host: string;
  /** Read-write port (CI runners). */
  port: number;
  /** Read-only port (developers). */
  readOnlyPort: number;
  /** Absolute htpasswd file guarding the read-write port, if any. */
  htpasswd?: string;
  /** The bound on the blobs' total size; least recently used entries are evicted above it. */
  maxBytes: number;
}

export interface CachePaths {
  dir: string;
  /** nginx root: holds ac/ and cas/. */
  cacheDir: string;
  /** Rendered config, pid file, settings, logs and temp files. */
  runDir: string;
  logDir: string;
  tmpDir: string;
  configFile: string;
  pidFile: string;
  settingsFile: string;
  errorLog: string;
  accessLog: string;
  /** nginx's record of every successful read and write of an entry, which the evictor follows. */
  useLog: string;
  /** What /healthz serves: the evictor's view of the cache, rewritten as it changes. */
  healthFile: string;
  evictorPidFile: string;
  evictorLog: string;
}

/** $XDG_STATE_HOME/acme-remote-cache, else ~/.local/state/acme-remote-cache (XDG: a relative value is ignored). */
export function defaultDir(env: Env = process.env, home: string = os.homedir()): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".local", "state");
  return path.join(base, STATE_DIR_NAME);
}

export function pathsFor(dir: string): CachePaths {
  const runDir = path.join(dir, "run");
  const logDir = path.join(runDir, "logs");
  return {
    dir,
    cacheDir: path.join(dir, "cache"),
    runDir,
    logDir,
    tmpDir: path.join(runDir, "tmp"),
    configFile: path.join(runDir, "nginx.conf"),
    pidFile: path.join(runDir, "nginx.pid"),
    settingsFile: path.join(runDir, "settings.json"),
    errorLog: path.join(logDir, "error.log"),
    accessLog: path.join(logDir, "access.log"),
    useLog: path.join(logDir, "use.log"),
    healthFile: path.join(runDir, "health.json"),
    evictorPidFile: path.join(runDir, "evictor.pid"),
    evictorLog: path.join(logDir, "evictor.log"),
  };
}

export interface SettingsInput {
  dir?: string;
  host?: string;
  port?: number;
  readOnlyPort?: number;
  htpasswd?: string;
  /** "20G", "512M", a byte count... (see parseSize). */
  maxSize?: string;
}

/** Fills in defaults and rejects what would render a broken or surprising nginx config. */
export function resolveSettings(input: SettingsInput, env: Env = process.env): CacheSettings {
  const dir = path.resolve(input.dir ?? defaultDir(env));
  const host = input.host ?? DEFAULT_HOST;
  const port = input.port ?? DEFAULT_PORT;
  const readOnlyPort = input.readOnlyPort ?? DEFAULT_READ_ONLY_PORT;
  checkConfigPath("--dir", dir);
  checkHost(host);
  checkPort("--port", port);
  checkPort("--read-only-port", readOnlyPort);
  if (port === readOnlyPort) {
    throw new RemoteCacheError(`--port and --read-only-port are both ${port}: the two servers need two ports`);
  }
  const maxBytes = parseMaxSize(input.maxSize ?? DEFAULT_MAX_SIZE);
  const settings: CacheSettings = { dir, host, port, readOnlyPort, maxBytes };
  if (input.htpasswd !== undefined && input.htpasswd !== "") {
    settings.htpasswd = path.resolve(input.htpasswd);
    checkConfigPath("--htpasswd", settings.htpasswd);
  }
  return settings;
}

function parseMaxSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) {
    throw new RemoteCacheError(`--max-size ${JSON.stringify(text)} is not a size: give one like 500M, 20G or 1T (1G = 1024^3 bytes)`);
  }
  if (bytes < MIN_MAX_BYTES) {
    throw new RemoteCacheError(`--max-size ${text} is ${formatSize(bytes)}: give at least 1M (a unit: M, G or T)`);
  }
  return bytes;
}

function checkPort(flag: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RemoteCacheError(`${flag} ${port} is not a TCP port (1-65535)`);
  }
}

function checkHost(host: string): void {
  if (net.isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    throw new RemoteCacheError(`--host ${JSON.stringify(host)} is not an IP address or host name`);
  }
}

/** Paths go into double-quoted nginx strings, where `$` starts a variable and `"`/`\` end or escape. */
function checkConfigPath(flag: string, value: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what the path must not contain
  if (/["\\$\x00-\x1f]/.test(value)) {
    throw new RemoteCacheError(
      `${flag} ${JSON.stringify(value)} contains a character nginx cannot take in a path (", \\, $ or a control character)`,
    );
  }
}

/** host:port for nginx's listen directive (IPv6 literals in brackets). */
export function listenAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where a client on this machine reaches a server bound to `host` (a wildcard bind answers on loopback). */
export function localUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${listenAddress(reachable, port)}`;
}
