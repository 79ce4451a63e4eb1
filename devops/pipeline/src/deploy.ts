import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { writeJsonFileAtomicSync } from "@monorepo/files";
import { READINESS_PATH } from "@monorepo/health";
import { simulatedDelay } from "@monorepo/simulation";
import type { Workspace, WorkspacePackage } from "@monorepo/workspace";
import { sourceFiles } from "./git";
import { withDependencies } from "./graph";
import { runPackageScript } from "./process";

/** The pipeline's own state (gitignored). */
export const STATE_DIR = ".pipeline";

/** What is published and deployed: one service at one version, identified by the digest of its build output. */
export interface Image {
  service: string;
  version: string;
  digest: string;
}

/**
 * An image registry. It is the authority on what a version holds: a version, once published, keeps
 * its content, so the registry answers from its own index (the simulated one below keeps its index
 * in a file, as a real registry keeps its tags) rather than from this machine's deploy record, which
 * knows only the last deploy made from here.
 */
export interface Registry {
  /** The build-output digest `service` was published with at `version`, if that version was published. */
  publishedDigest(service: string, version: string, signal?: AbortSignal): Promise<string | undefined>;
  publish(image: Image, signal?: AbortSignal): Promise<void>;
}

/** A deployment target. The simulated one stands in for a rollout; a real one replaces it. */
export interface Cluster {
  deploy(image: Image, signal?: AbortSignal): Promise<void>;
}

/** What the pipeline needs to know to deploy a service: the `"acme": {"deploy": {...}}` block of its package.json. */
export interface DeployFacts {
  /** Simulated duration of the image push, in seconds. */
  pushSeconds: number;
  /** Simulated duration of the rollout, in seconds. */
  deploySeconds: number;
  /** Where the service answers 200 once it should get traffic; the health package's path unless the service says otherwise. */
  readinessPath: string;
}

/** Reads a service's deploy facts from its package.json, so that a new service needs no pipeline edit. */
export function deployFacts(root: string, pkg: WorkspacePackage): DeployFacts {
  const manifestFile = `${pkg.dir}/package.json`;
  const manifest = JSON.parse(fs.readFileSync(path.join(root, manifestFile), "utf8")) as { acme?: { deploy?: Partial<DeployFacts> } };
  const facts = manifest.acme?.deploy;
  const seconds = (key: "pushSeconds" | "deploySeconds") => {
    const value = facts?.[key];
    if (typeof value !== "number" || !(value >= 0)) {
      throw new Error(`${manifestFile}: "acme": {"deploy": {"${key}": <seconds>}} is missing or not a number >= 0`);
    }
    return value;
  };
  const readinessPath = facts?.readinessPath ?? READINESS_PATH;
  if (typeof readinessPath !== "string" || !readinessPath.startsWith("/"))
    throw new Error(`${manifestFile}: "acme.deploy.readinessPath" must be a path starting with /`);
  return { pushSeconds: seconds("pushSeconds"), deploySeconds: seconds("deploySeconds"), readinessPath };
}

/** The published versions per service, with the digest each was published with. */
type RegistryIndex = Record<string, Record<string, { digest: string; publishedAt: string }>>;

/**
 * Waits the service's push duration, scaled by SIMULATION_TIME_SCALE, and remembers what it published
 * in its index file (.pipeline/registry.json by default), as a real registry would.
 */
export class SimulatedRegistry implements Registry {
  readonly index: string;

  constructor(
    root: string,
    private readonly facts: (service: string) => DeployFacts,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.index = path.join(root, STATE_DIR, "registry.json");
  }

  private read(): RegistryIndex {
    try {
      return JSON.parse(fs.readFileSync(this.index, "utf8")) as RegistryIndex;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new Error(`the simulated registry's index ${this.index} is unreadable: ${(error as Error).message}`);
    }
  }

  async publishedDigest(service: string, version: string): Promise<string | undefined> {
    return this.read()[service]?.[version]?.digest;
  }

  async publish(image: Image, signal?: AbortSignal): Promise<void> {
    await simulatedDelay(this.facts(image.service).pushSeconds, { signal, env: this.env });
    const index = this.read();
    index[image.service] = { ...index[image.service], [image.version]: { digest: image.digest, publishedAt: new Date().toISOString() } };
    fs.mkdirSync(path.dirname(this.index), { recursive: true });
    writeJsonFileAtomicSync(this.index, index);
  }
}

/** Waits the service's deploy duration, scaled by SIMULATION_TIME_SCALE. */
export class SimulatedCluster implements Cluster {
  constructor(
    private readonly facts: (service: string) => DeployFacts,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async deploy(image: Image, signal?: AbortSignal): Promise<void> {
    await simulatedDelay(this.facts(image.service).deploySeconds, { signal, env: this.env });
  }
}

/** The deployable services: the workspace packages under services/. */
export function services(workspace: Workspace): WorkspacePackage[] {
  return workspace.packages.filter((p) => p.dir.startsWith("services/"));
}

/** Where tsc writes what it compiles from src/ (the packages' outDir is dist/). */
export const SHIPPED_OUTPUT_DIR = "dist/src";

/**
 * The files a package ships: package.json, the compiled JavaScript in dist/src/, and tracked data
 * files at the package top (e.g. the service's JSON data); not sources, tests, maps, declarations,
 * tsc's build state or build configuration.
 */
export function shippedFiles(root: string, pkg: WorkspacePackage, tracked: string[]): string[] {
  const files = new Set<string>([`${pkg.dir}/package.json`]);
  const outputDir = path.join(root, pkg.dir, SHIPPED_OUTPUT_DIR);
  if (fs.existsSync(outputDir)) {
    for (const entry of fs.readdirSync(outputDir, { recursive: true, encoding: "utf8" })) {
      const rel = `${pkg.dir}/${SHIPPED_OUTPUT_DIR}/${entry.split(path.sep).join("/")}`;
      if (fs.statSync(path.join(root, rel)).isFile() && !/\.(ts|map)$/.test(entry)) files.add(rel);
    }
  }
  for (const file of tracked) {
    if (!file.startsWith(`${pkg.dir}/`)) continue;
    const inner = file.slice(pkg.dir.length + 1);
    if (/^(src|test|dist|node_modules)\//.test(inner)) continue;
    if (/^(tsconfig.*\.json|BUILD\.bazel|.*\.md|jest.*\.config\.[cm]?js)$/.test(inner)) continue;
    files.add(file);
  }
  return [...files].sort();
}

/**
 * A digest of a service's build output: its shipped files and those of every workspace package it
 * depends on at run time ("dependencies", transitively). Equal digests: nothing to deploy.
 */
export function outputDigest(workspace: Workspace, service: string, tracked: string[] = sourceFiles(workspace.root)): string {
  const hash = crypto.createHash("sha256");
  for (const name of withDependencies(workspace, [service], { runtimeOnly: true })) {
    for (const file of shippedFiles(workspace.root, workspace.byName.get(name)!, tracked)) {
      const abs = path.join(workspace.root, file);
      if (!fs.existsSync(abs)) continue;
      hash.update(`${file}\0`).update(fs.readFileSync(abs)).update("\0");
    }
  }
  return hash.digest("hex");
}

export interface DeployedRecord {
  digest: string;
  version: string;
  deployedAt: string;
}

/** What was last deployed per service: .pipeline/deployed.json (gitignored), written only after a deploy succeeded. */
export class DeployState {
  readonly file: string;
  private records: Record<string, DeployedRecord>;

  constructor(root: string) {
    this.file = path.join(root, STATE_DIR, "deployed.json");
    try {
      this.records = JSON.parse(fs.readFileSync(this.file, "utf8")) as Record<string, DeployedRecord>;
    } catch {
      this.records = {};
    }
  }

  get(service: string): DeployedRecord | undefined {
    return this.records[service];
  }

  record(service: string, record: DeployedRecord): void {
    this.records = { ...this.records, [service]: record };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeJsonFileAtomicSync(this.file, this.records);
  }
}

export interface DeploySelection {
  service: string;
  digest: string;
  deploy: boolean;
  /** Why it is (or is not) deployed. */
  reason: string;
}

export function selectDeploys(digests: Map<string, string>, state: DeployState): DeploySelection[] {
  return [...digests].map(([service, digest]) => {
    const last = state.get(service);
    if (!last) return { service, digest, deploy: true, reason: "never deployed from here" };
    if (last.digest !== digest) return { service, digest, deploy: true, reason: `build output changed since ${last.version}` };
    return { service, digest, deploy: false, reason: `build output unchanged since ${last.version} (${last.deployedAt})` };
  });
}

/** A free TCP port on 127.0.0.1 (the OS picks it; the tiny race before the service binds it is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function getStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

export interface ReadinessOptions {
  root: string;
  /** The path that answers 200 once the service is ready (default: the health package's). */
  path?: string;
  logFile: string;
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * The deploy gate: starts the built service (its "start" script) on a free port on 127.0.0.1, polls
 * its readiness path until it answers 200, then stops it and everything it started (the script's shell
 * may exit before the service does), so its log is complete and its port free on return. Fails if
 * the service exits or never gets ready.
 */
export async function checkReadiness(pkg: WorkspacePackage, options: ReadinessOptions): Promise<{ port: number; ms: number }> {
  const started = Date.now();
  const script = pkg.scripts.start;
  if (!script) throw new Error(`${pkg.dir}/package.json has no "start" script`);
  const port = await freePort();
  const stopping = new AbortController();
  const stopWithCaller = () => stopping.abort();
  options.signal?.addEventListener("abort", stopWithCaller, { once: true });
  /** Why the service is gone, once it is. */
  let gone: string | undefined;
  const service = runPackageScript(options.root, path.join(options.root, pkg.dir), script, [], {
    env: { ...(options.env ?? process.env), PORT: String(port), HOST: "127.0.0.1" },
    logFile: options.logFile,
    signal: stopping.signal,
  }).then(
    (result) => {
      gone = `${pkg.name} ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`} before it was ready`;
    },
    (error: Error) => {
      gone = `${pkg.name} could not be started: ${error.message}`;
    },
  );
  const timeoutMs = options.timeoutMs ?? 30_000;
  const readinessPath = options.path ?? READINESS_PATH;
  const url = `http://127.0.0.1:${port}${readinessPath}`;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new Error("interrupted");
      if (gone !== undefined) throw new Error(gone);
      if ((await getStatus(url, 1000)) === 200) return { port, ms: Date.now() - started };
      if (Date.now() - started > timeoutMs)
        throw new Error(`${pkg.name} did not answer 200 on GET ${readinessPath} within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  } finally {
    stopping.abort();
    await service;
    options.signal?.removeEventListener("abort", stopWithCaller);
  }
}
