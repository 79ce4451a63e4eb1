import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { RemoteCacheError } from "./errors";

/** Debian installs nginx in /usr/sbin, which is not on a normal user's PATH. */
const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

const INSTALL_HINT =
  "Install it with: sudo apt-get update && sudo apt-get install -y nginx  (Debian/Ubuntu; any nginx built with the DAV module works)";

export function findExecutable(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return undefined;
}

/** Where install progress goes: any writable stream (kept structural so .d.ts consumers need no Node types). */
export interface TextSink {
  write(text: string): unknown;
}

export interface EnsureNginxOptions {
  /** Directories to look in (default: $PATH plus the sbin directories). */
  searchPath?: string;
  /** Whether we may install with apt-get (default: effective uid is 0). */
  runningAsRoot?: boolean;
  /** Where apt-get's output goes (default: this process's stderr). */
  output?: TextSink;
}

/** Path of the nginx binary; installs Debian's nginx with apt-get when it is missing and we are root. */
export async function ensureNginx(options: EnsureNginxOptions = {}): Promise<string> {
  const searchPath = options.searchPath ?? [process.env.PATH ?? "", ...SBIN_DIRS].join(path.delimiter);
  const found = findExecutable("nginx", searchPath);
  if (found) return found;

  const runningAsRoot = options.runningAsRoot ?? process.geteuid?.() === 0;
  if (!runningAsRoot) {
    throw new RemoteCacheError(`nginx is not installed and only root can install it. ${INSTALL_HINT}`);
  }
  const aptGet = findExecutable("apt-get", searchPath);
  if (!aptGet) {
    throw new RemoteCacheError(`nginx is not installed and apt-get was not found (not Debian?). ${INSTALL_HINT}`);
  }
  const output = options.output ?? process.stderr;
  output.write("nginx not found: installing Debian's nginx with apt-get (running as root)\n");
  // Another apt run (a teammate's test, unattended-upgrades) may hold the lock: wait for it instead of failing.
  const lockWait = ["-o", "DPkg::Lock::Timeout=120"];
  await run(aptGet, [...lockWait, "update"], output);
  await run(aptGet, [...lockWait, "install", "-y", "--no-install-recommends", "nginx"], output);

  const installed = findExecutable("nginx", searchPath);
  if (!installed) {
    throw new RemoteCacheError(`apt-get installed nginx but no nginx binary is on ${searchPath}. ${INSTALL_HINT}`);
  }
  return installed;
}

function run(command: string, args: string[], output: TextSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    child.stdout.on("data", (chunk: Buffer) => output.write(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.write(chunk.toString()));
    child.on("error", (error) => reject(new RemoteCacheError(`${command} could not run: ${error.message}. ${INSTALL_HINT}`)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      reject(new RemoteCacheError(`${[command, ...args].join(" ")} failed (${signal ?? `exit ${code}`}). ${INSTALL_HINT}`));
    });
  });
}
