import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalServerError } from "./errors";

/**
 * A local S3 API for tests: moto's server (moto_server), in memory, on a free port of 127.0.0.1.
 * moto answers every call maintenance makes (paginated ListObjectsV2, DeleteObjects, CopyObject with
 * a StorageClass, ListMultipartUploads, AbortMultipartUpload); s3rver, the npm alternative, has no
 * ListMultipartUploads and ignores storage classes. moto is a Python program, so it is found on the
 * machine, not installed from the npm registry.
 */

export interface S3Server {
  /** http://127.0.0.1:<port>, for the SDK's endpoint. */
  endpoint: string;
  /** The AWS SDK's own variables that point a client at this server, with credentials it accepts. */
  env: Record<string, string>;
  /** The server's process id, in a process group of its own. */
  pid: number;
  /** Stops the server; its buckets and objects, held only in its memory, go with it. Idempotent. */
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  /** Where moto_server and setpriv are looked for (default: this process's PATH). */
  searchPath?: string;
  /** Longest wait for the server to listen. */
  startTimeoutMs?: number;
}

const PROGRAM = "moto_server";

const INSTALL_HINT = `install it with pip install "moto[server]==5.2.1", or set MOTO_SERVER to its path`;

/** The region moto serves when none is asked for; any region works, one is needed to sign requests. */
const REGION = "us-east-1";

/** What moto's HTTP server prints once it listens. */
const LISTENING = /Running on (http:\/\/127\.0\.0\.1:\d+)/;

/** How much of the server's output an error quotes: moto logs every request. */
const OUTPUT_TAIL_CHARS = 4000;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(program: string, searchPath: string): string | undefined {
  return searchPath
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, program))
    .find(isExecutable);
}

/**
 * MOTO_SERVER, then PATH, then pyenv's shims, where `pip install` under pyenv puts it: a test
 * runner (Bazel's among them) often starts tests with a PATH that leaves the shims out.
 */
export function findMotoServer(env: Record<string, string | undefined> = process.env, searchPath = env.PATH ?? ""): string {
  const explicit = env.MOTO_SERVER;
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new LocalServerError(`MOTO_SERVER=${explicit} is not an executable file; ${INSTALL_HINT}`);
  }
  const pyenvRoots = [env.PYENV_ROOT, path.join(os.userInfo().homedir, ".pyenv")].filter((root): root is string => Boolean(root));
  const found = findOnPath(PROGRAM, [searchPath, ...pyenvRoots.map((root) => path.join(root, "shims"))].join(path.delimiter));
  if (!found) {
    throw new LocalServerError(`${PROGRAM} (moto's S3 server) was not found on PATH or in pyenv's shims: ${INSTALL_HINT}`);
  }
  return found;
}

/**
 * The command that starts the server. On Linux it runs under setpriv --pdeathsig, so the kernel
 * kills the server when this process dies, however it dies (SIGKILL included).
 */
function serverCommand(program: string, searchPath: string): [string, string[]] {
  const args = ["-H", "127.0.0.1", "-p", "0"];
  const setpriv = process.platform === "linux" ? findOnPath("setpriv", `${searchPath}${path.delimiter}/usr/bin:/bin`) : undefined;
  return setpriv ? [setpriv, ["--pdeathsig", "SIGKILL", "--", program, ...args]] : [program, args];
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Starts moto's S3 server on a free port of 127.0.0.1 and resolves once it answers. */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3Server> {
  const searchPath = options.searchPath ?? process.env.PATH ?? "";
  const program = findMotoServer(process.env, searchPath);
  const [command, args] = serverCommand(program, searchPath);
  const child = spawn(command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Read every line, or the pipe fills with moto's request log and the server blocks.
  let output = "";
  const onOutput = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on("data", onOutput);
  child.stderr!.on("data", onOutput);
  // A parent that exits normally takes the server with it even where setpriv is missing.
  const killOnExit = () => killGroup(child, "SIGKILL");
  process.once("exit", killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    })();
    return stopping;
  };

  try {
    const endpoint = await waitForEndpoint(child, () => output, options.startTimeoutMs ?? 30_000);
    return {
      endpoint,
      env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
      pid: child.pid!,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForEndpoint(child: ChildProcess, output: () => string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = LISTENING.exec(output());
      if (match) finish(() => resolve(match[1]));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(() => reject(new LocalServerError(`${PROGRAM} exited (${signal ?? `code ${code}`}) before it listened:\n${output()}`)));
    const onError = (error: Error) => finish(() => reject(new LocalServerError(`cannot start ${PROGRAM}: ${error.message}`)));
    const timer = setTimeout(
      () => finish(() => reject(new LocalServerError(`${PROGRAM} did not listen within ${timeoutMs} ms:\n${output()}`))),
      timeoutMs,
    );
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout!.off("data", check);
      child.stderr!.off("data", check);
      child.off("exit", onExit);
      child.off("error", onError);
      settle();
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", onExit);
    child.once("error", onError);
    check();
  });
}
