/**
 * The documented way to run the service, `pnpm start:user` (and the package's own `start`), as a
 * user runs it: a real pnpm, real signals. It needs the checkout (root package.json, pnpm), hence
 * a repo test.
 */
import { promises as fsp, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findWorkspaceRoot } from "@monorepo/files";
import { isRunning, logMessage, logRecords, type NodeProcess, pnpmRuns } from "@monorepo/testing";

const pnpm = pnpmRuns(findWorkspaceRoot(__dirname)!);
let caller: string;
beforeEach(() => {
  // Real path: pnpm reports its working directory resolved (on macOS /tmp is a symlink).
  caller = realpathSync(mkdtempSync(path.join(tmpdir(), "user-pnpm-")));
});
afterEach(async () => {
  pnpm.killAll();
  await fsp.rm(caller, { recursive: true, force: true });
});

/** pnpm from the caller's folder, as a user runs it. */
const startPnpm = (args: string[], env: Record<string, string> = {}): NodeProcess =>
  pnpm.start(args, { cwd: caller, env: { PORT: "0", HOST: "127.0.0.1", ...env } });

const records = (run: NodeProcess) => logRecords(run.lines());

/** Waits for the service to listen; returns its URL and pid (the service's, not pnpm's). */
async function listening(run: NodeProcess): Promise<{ url: string; pid: number }> {
  const record = JSON.parse(await run.waitForLine(logMessage("Listening")));
  return { url: record.data.url, pid: record.pid };
}

describe("pnpm start:user", () => {
  it("stops the service with its drain when the pnpm process gets SIGTERM, and leaves nothing running", async () => {
    const run = startPnpm(["start:user"]);
    const service = await listening(run);
    expect(service.pid).not.toBe(run.child.pid);
    expect((await fetch(`${service.url}/readiness`)).status).toBe(200);

    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(records(run).map((r) => r.message)).toEqual(expect.arrayContaining(["Shutting down", "Draining", "Stopped"]));
    expect(records(run).find((r) => r.message === "Stopped")?.data).toEqual({ outcome: "graceful" });
    // pnpm waited for the service: it is gone, not orphaned.
    expect(isRunning(service.pid)).toBe(false);
  }, 60_000);

  it("stops with its drain on Ctrl-C (SIGINT to the whole process group), and pnpm ends with it", async () => {
    const run = startPnpm(["start:user"]);
    const service = await listening(run);
    process.kill(-run.child.pid!, "SIGINT");
    // pnpm forwards the SIGINT to the service it also got from the terminal. When the service has
    // already drained and is exiting as that copy lands (a busy machine delays pnpm), the exiting
    // node dies of it and pnpm re-raises it on itself: a terminal shows the same in both cases.
    expect([
      { code: 0, signal: null },
      { code: null, signal: "SIGINT" },
    ]).toContainEqual(await run.exited);
    expect(
      records(run)
        .filter((r) => r.message === "Stopped")
        .map((r) => r.data),
    ).toEqual([{ outcome: "graceful" }]);
    expect(isRunning(service.pid)).toBe(false);
  }, 60_000);

  it("refuses a bad start with one line and the service's exit code", async () => {
    const run = startPnpm(["start:user"], { PORT: "http" });
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(records(run)).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: 'Refusing to start: PORT="http" is invalid: expected an integer from 0 to 65535',
      }),
    ]);
    expect(run.lines().join("\n")).not.toContain("    at ");
  }, 60_000);
});

describe("pnpm -F @monorepo/user-service start", () => {
  it("takes a relative USER_DATA_FILE from the folder pnpm was started in, and stops on SIGTERM", async () => {
    mkdirSync(path.join(caller, "data"));
    writeFileSync(
      path.join(caller, "data", "user.json"),
      JSON.stringify({ "9": { id: "9", name: "Nine", email: "nine@example.com", role: "viewer" } }),
    );
    const run = startPnpm(["-F", "@monorepo/user-service", "start"], { USER_DATA_FILE: path.join("data", "user.json") });
    const service = await listening(run);
    expect(records(run).find((r) => r.message === "Loaded users")?.data.file).toBe(path.join(caller, "data", "user.json"));
    expect(Object.keys((await (await fetch(`${service.url}/users`)).json()) as object)).toEqual(["9"]);
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(service.pid)).toBe(false);
  }, 60_000);
});
