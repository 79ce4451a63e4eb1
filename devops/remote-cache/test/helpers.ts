import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { type NodeRun, runNode } from "@monorepo/testing";
import type { Health } from "../src";

/**
 * The package folder: the nearest folder above this compiled test that holds cache.sh, which ships
 * beside the compiled code in every layout (pnpm's and Bazel's runfiles).
 */
export const PACKAGE_DIR = (function findPackageDir(dir: string): string {
  if (fs.existsSync(path.join(dir, "cache.sh"))) return dir;
  if (path.dirname(dir) === dir) throw new Error(`no cache.sh above ${__dirname}`);
  return findPackageDir(path.dirname(dir));
})(__dirname);

/** The compiled CLI: compiled tests sit beside the compiled sources (test/ and src/ of one output tree). */
export const CLI = path.resolve(__dirname, "..", "src", "cli.js");

/** Runs the compiled CLI as a user would (a separate node process); never rejects on a non-zero exit. */
export function runCli(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<NodeRun> {
  return runNode(CLI, args, { timeoutMs: options.timeoutMs ?? 30_000, env: options.env });
}

export interface CommandRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs any program to its end; a non-zero exit resolves too (it is what a test asserts on). */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number" && !error.signal) return reject(error);
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, signal: (error?.signal as NodeJS.Signals | undefined) ?? null, stdout, stderr });
      },
    );
  });
}

/**
 * Polls an asynchronous check (an HTTP answer, say) until it returns something, and resolves with it;
 * rejects after `timeoutMs` with the last value seen, so a wait that never ends fails its test.
 */
export async function waitForAnswer<T>(find: () => Promise<T | undefined>, timeoutMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Distinct ports the kernel just reported free (held together so the two differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on its own connection (as Bazel's parallel uploads are), body sent with a Content-Length. */
export function request(
  method: string,
  url: string,
  options: { body?: Buffer; headers?: http.OutgoingHttpHeaders } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers, ...(options.body ? { "content-length": options.body.length } : {}) };
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** GET /healthz, which must answer 200 with JSON. */
export async function health(baseUrl: string): Promise<Health> {
  const answer = await request("GET", `${baseUrl}/healthz`);
  if (answer.status !== 200 || answer.headers["content-type"] !== "application/json") {
    throw new Error(
      `GET ${baseUrl}/healthz answered ${answer.status} (${answer.headers["content-type"]}): ${answer.body.toString("utf8")}`,
    );
  }
  return JSON.parse(answer.body.toString("utf8")) as Health;
}

/** The blobs' total size on disk under `<dir>/cache`, as the evictor should report it. */
export function cacheBytes(dir: string): number {
  return ["ac", "cas"]
    .map((namespace) => path.join(dir, "cache", namespace))
    .flatMap((folder) => fs.readdirSync(folder).map((name) => fs.statSync(path.join(folder, name)).size))
    .reduce((sum, size) => sum + size, 0);
}

/** The evictor's pid, from its pid file ("<pid> <start time>"). */
export function evictorPid(dir: string): number {
  return Number(fs.readFileSync(path.join(dir, "run", "evictor.pid"), "utf8").split(" ")[0]);
}

/** Resolves true if nothing accepts TCP connections on the port any more. */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

export function sha256(bytes: Buffer): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** Deterministic pseudo-random bytes: a SHA-256 chain from a seed. */
export function seededBytes(seed: string, size: number): Buffer {
  const blocks: Buffer[] = [];
  let block = crypto.createHash("sha256").update(seed).digest();
  for (let length = 0; length < size; length += block.length) {
    blocks.push(block);
    block = crypto.createHash("sha256").update(block).digest();
  }
  return Buffer.concat(blocks).subarray(0, size);
}

/**
 * Live processes (zombies excluded: this machine's init does not reap them, and a zombie holds
 * no port or file) whose command line mentions `needle`, or whose parent is one of `parents`.
 */
export function liveProcesses(needle: string, parents: number[] = []): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    let cmdline: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      cmdline = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      continue;
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state === "Z" || state === "X") continue;
    if (cmdline.includes(needle) || parents.includes(Number(ppid))) found.push(Number(name));
  }
  return found;
}
