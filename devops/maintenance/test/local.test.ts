import { existsSync } from "node:fs";
import { join } from "node:path";
import { findMotoServer } from "@monorepo/local-servers";
import { type NodeRun, runNode } from "@monorepo/testing";

/** Two real servers, seeding, and a run whose recoveries wait out the hung-query age. */
jest.setTimeout(240_000);

const LOCAL_CLI = join(__dirname, "..", "src", "local-cli.js");

function motoFound(): boolean {
  try {
    findMotoServer();
    return true;
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** The pids and folders the run says it started, which must all be gone once it has exited. */
function started(run: NodeRun): { pids: number[]; dirs: string[] } {
  const pids = [...run.stdout.matchAll(/\(pid (\d+)/g)].map((match) => Number(match[1]));
  const dirs = [...run.stdout.matchAll(/(?:Journal in|files in) (\/[^\s,)]+)/g)].map((match) => match[1]);
  return { pids, dirs };
}

function expectNothingLeft(run: NodeRun, servers: number): void {
  const { pids, dirs } = started(run);
  expect(pids).toHaveLength(servers);
  expect(dirs).toHaveLength(2);
  expect(pids.filter(isRunning)).toEqual([]);
  expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
}

describe("pnpm maintenance:local", () => {
  it("seeds both servers, runs maintenance against them, shows what changed on them, and leaves nothing behind", async () => {
    const run = await runNode(LOCAL_CLI, []);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const withS3 = motoFound();
    expectNothingLeft(run, withS3 ? 2 : 1);

    expect(run.stdout).toContain("Running maintenance --only db,s3");
    expect(run.stdout).toContain("Running maintenance --cleanup --only db,s3");
    const dead = /dead tuples in local_orders +(\d+) -> (\d+)/.exec(run.stdout)!;
    expect(Number(dead[1])).toBeGreaterThan(0);
    expect(dead[2]).toBe("0");
    const indexes = [...run.stdout.matchAll(/index (\S+) +([\d.]+) (\w+) -> ([\d.]+) (\w+)/g)];
    expect(indexes.map((match) => match[1]).sort()).toEqual(["local_orders_email", "local_orders_pkey"]);
    const toBytes = (amount: string, unit: string) => Number(amount) * 1024 ** ["B", "KB", "MB", "GB"].indexOf(unit);
    for (const [, , amount, unit, afterAmount, afterUnit] of indexes) {
      expect(toBytes(afterAmount, afterUnit)).toBeLessThan(toBytes(amount, unit) / 4);
    }
    expect(run.stdout).toMatch(/session holding a row lock +idle in transaction -> gone/);
    expect(run.stdout).toMatch(/session waiting for that lock +active, waiting for a lock -> (idle|gone)/);
    expect(run.stdout).toMatch(/query running pg_sleep\(3600\) +active -> (idle|gone)/);

    if (withS3) {
      expect(run.stdout).toMatch(/Backends: db real \(PostgreSQL at 127\.0\.0\.1:\d+\/postgres\); s3 real \(S3 bucket acme-local at http/);
      expect(run.stdout).toMatch(/objects in acme-local +11 -> 6/);
      expect(run.stdout).toMatch(
        /deleted +old\/invoice-1\.pdf, old\/invoice-2\.pdf, old\/invoice-3\.pdf, old\/invoice-4\.pdf, old\/invoice-5\.pdf\n/,
      );
      expect(run.stdout).toMatch(/new\/report-archive\.bin +STANDARD -> GLACIER/);
      expect(run.stdout).toMatch(/multipart uploads in progress +1 -> 0/);
    } else {
      expect(run.stdout).toContain("S3 stays simulated:");
    }
  });

  it("without moto_server keeps S3 simulated and says why; on Ctrl-C stops, exits 130 and leaves nothing behind", async () => {
    let output = "";
    const run = await runNode(LOCAL_CLI, [], {
      env: { MOTO_SERVER: "/nonexistent/moto_server" },
      whileRunning: (child) => {
        child.stdout!.on("data", (chunk: Buffer) => {
          const before = output;
          output += chunk.toString();
          if (!before.includes("Running maintenance") && output.includes("Running maintenance")) child.kill("SIGINT");
        });
      },
    });
    expect(run.code).toBe(130);
    expect(run.stdout).toContain("S3 stays simulated: MOTO_SERVER=/nonexistent/moto_server is not an executable file; install it with");
    expect(run.stderr).toContain("SIGINT received, stopping");
    expect(run.stdout).not.toContain("What changed");
    expect(run.stdout).toContain("Stopped every server this run started and removed their files.");
    expectNothingLeft(run, 1);
  });
});
