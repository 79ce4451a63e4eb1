/**
 * The documented way to run the service, `pnpm start:trading`, as a user runs it: a real pnpm,
 * real signals. It needs the checkout (root package.json, pnpm), hence a repo test.
 */
import { promises as fsp, mkdtempSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findWorkspaceRoot } from "@monorepo/files";
import { isRunning, logMessage, logRecords, pnpmRuns, waitFor } from "@monorepo/testing";
import { generatedStock, writeGeneratedStocks } from "./stock-data";

const pnpm = pnpmRuns(findWorkspaceRoot(__dirname)!);
let caller: string;
beforeEach(() => {
  // Real path: pnpm reports its working directory resolved (on macOS /tmp is a symlink).
  caller = realpathSync(mkdtempSync(path.join(tmpdir(), "trading-pnpm-")));
});
afterEach(async () => {
  pnpm.killAll();
  await fsp.rm(caller, { recursive: true, force: true });
});

describe("pnpm start:trading", () => {
  it("finishes and answers the swap in flight when the pnpm process gets SIGTERM, then exits 0 with nothing left running", async () => {
    // Big enough that the swap's write is still running when the signal comes; relative, so it is looked up from here.
    await writeGeneratedStocks(path.join(caller, "stocks.json"), 30_000);
    const run = pnpm.start(["start:trading"], { cwd: caller, env: { PORT: "0", HOST: "127.0.0.1", STOCKS_DATA_FILE: "stocks.json" } });
    const listening = JSON.parse(await run.waitForLine(logMessage("Listening")));
    expect(logRecords(run.lines()).find((r) => r.message === "Loaded stocks")?.data.file).toBe(path.join(caller, "stocks.json"));

    const stock = generatedStock(7);
    const swap = fetch(`${listening.data.url}/swap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ stockId: stock.id, fromUserId: stock.owned, toUserId: "buyer" }),
    });
    await waitFor(() => readdirSync(caller).some((name) => name.endsWith(".tmp")));
    run.child.kill("SIGTERM");

    const answer = await swap;
    expect(answer.status).toBe(200);
    expect(JSON.parse(readFileSync(path.join(caller, "stocks.json"), "utf8"))[stock.id].owned).toBe("buyer");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(logRecords(run.lines()).find((r) => r.message === "Stopped")?.data).toEqual({ outcome: "graceful" });
    expect(isRunning(listening.pid)).toBe(false);
  }, 60_000);
});
