import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createSimulatedIntegrations, type Integrations } from "@monorepo/integrations";
import { type NodeRun, runNode } from "@monorepo/testing";
import { type MaintenanceContext, runCli } from "../src/index";

export const CLI = join(__dirname, "..", "src", "cli.js");

const tempDirs: string[] = [];

/** A new empty directory, removed once the test file that asked for it is done. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "maintenance-test-"));
  tempDirs.push(dir);
  return dir;
}

// Registered when a test file imports these helpers, so it runs after that file's tests.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A stream that keeps what is written to it. */
export class Capture extends Writable {
  text = "";
  isTTY = false;

  _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Every client operation as a jest mock that records its call order. */
export function mockIntegrations(): { clients: Integrations; calls: string[] } {
  const calls: string[] = [];
  const op = (name: string) =>
    jest.fn(async (...args: unknown[]) => {
      calls.push(typeof args[0] === "string" ? `${name}(${args[0]})` : name);
    });
  return {
    calls,
    clients: {
      db: {
        initClient: op("db.initClient"),
        modifyIndexTriggers: op("db.modifyIndexTriggers"),
        updateIndexes: op("db.updateIndexes"),
        vacuumDatabase: op("db.vacuumDatabase"),
        checkForDeadlocks: op("db.checkForDeadlocks"),
        stopHungQueries: op("db.stopHungQueries"),
      },
      kafka: {
        initClient: op("kafka.initClient"),
        cleanTopic: op("kafka.cleanTopic"),
        validateCleaned: op("kafka.validateCleaned"),
        cleanupTopics: op("kafka.cleanupTopics"),
        stopConsumers: op("kafka.stopConsumers"),
      },
      s3: {
        initClient: op("s3.initClient"),
        moveLargeBlobsToGlacier: op("s3.moveLargeBlobsToGlacier"),
        cleanUpOldBlobs: op("s3.cleanUpOldBlobs"),
        stopHungUploads: op("s3.stopHungUploads"),
      },
    },
  };
}

/** Runs the CLI in this process, as a user would call it, with captured output. */
export async function runInProcess(
  argv: string[],
  env: Record<string, string | undefined>,
  overrides: Partial<MaintenanceContext> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, {
    env,
    stdin: process.stdin,
    stdout,
    stderr,
    colorDepth: 1,
    cwd: process.cwd(),
    createClients: createSimulatedIntegrations,
    ...overrides,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Runs the compiled CLI (`node dist/src/cli.js`) as a real child process, with PATH and `env` only; `whileRunning` may signal it. */
export function spawnCli(args: string[], env: Record<string, string>, whileRunning?: (child: ChildProcess) => void): Promise<NodeRun> {
  return runNode(CLI, args, { env: { PATH: process.env.PATH ?? "", ...env }, inheritEnv: false, whileRunning });
}
