import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startNode, waitFor } from "@monorepo/testing";
import { Client } from "pg";
import { findPostgresBinaries, LocalServerError, type PostgresServer, startPostgres } from "../src";

/** initdb writes a whole cluster: seconds on a busy machine. */
const START_TIMEOUT_MS = 120_000;

/** A process that still runs; a zombie (ended, not yet reaped by whoever adopted it) does not count. */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

async function query<Row>(url: string, sql: string): Promise<Row[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Row[];
  } finally {
    await client.end();
  }
}

describe("startPostgres (the host's PostgreSQL in a temp dir)", () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  }, START_TIMEOUT_MS);

  afterAll(() => server?.stop());

  it("serves SQL on 127.0.0.1 at the port in its URL, with no unix socket and fsync off", async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const [settings] = await query<{ sockets: string; fsync: string; listen: string; superuser: boolean }>(
      server.url,
      "SELECT current_setting('unix_socket_directories') AS sockets, current_setting('fsync') AS fsync, current_setting('listen_addresses') AS listen, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser",
    );
    expect(settings).toEqual({ sockets: "", fsync: "off", listen: "127.0.0.1", superuser: true });
  });

  it("keeps its cluster in its own temp dir, owned by the postgres user when started as root", () => {
    const data = fs.statSync(path.join(server.dir, "data"));
    expect(fs.existsSync(path.join(server.dir, "data", "PG_VERSION"))).toBe(true);
    if (process.geteuid?.() === 0) expect(data.uid).not.toBe(0);
    else expect(data.uid).toBe(process.geteuid?.());
  });

  it(
    "starts a second server beside the first on another port",
    async () => {
      const second = await startPostgres();
      try {
        expect(second.port).not.toBe(server.port);
        const [row] = await query<{ one: number }>(second.url, "SELECT 1 AS one");
        expect(row.one).toBe(1);
      } finally {
        await second.stop();
      }
      expect(isAlive(second.pid)).toBe(false);
      expect(fs.existsSync(second.dir)).toBe(false);
      expect(isAlive(server.pid)).toBe(true);
    },
    START_TIMEOUT_MS,
  );
});

describe("stopping", () => {
  it(
    "ends open sessions, the server and removes its files; a second stop does nothing",
    async () => {
      const server = await startPostgres();
      const session = new Client({ connectionString: server.url });
      session.on("error", () => undefined);
      await session.connect();
      await server.stop();
      expect(isAlive(server.pid)).toBe(false);
      expect(fs.existsSync(server.dir)).toBe(false);
      await expect(session.query("SELECT 1")).rejects.toThrow();
      await server.stop();
    },
    START_TIMEOUT_MS,
  );

  it(
    "does not outlive a parent that dies without stopping it",
    async () => {
      const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-servers-test-"));
      let started: { pid: number; dir: string } | undefined;
      try {
        const script = path.join(scriptDir, "parent.js");
        fs.writeFileSync(
          script,
          `require(${JSON.stringify(path.join(__dirname, "..", "src", "index.js"))}).startPostgres().then((server) => {
          console.log(JSON.stringify({ pid: server.pid, dir: server.dir }));
          setInterval(() => undefined, 60_000);
        });`,
        );
        const parent = startNode(script);
        const line = await parent.waitForLine((text) => text.startsWith("{"));
        started = JSON.parse(line) as { pid: number; dir: string };
        expect(isAlive(started.pid)).toBe(true);
        parent.child.kill("SIGKILL");
        await parent.exited;
        await waitFor(() => !isAlive(started!.pid), 30_000);
      } finally {
        if (started) fs.rmSync(started.dir, { recursive: true, force: true });
        fs.rmSync(scriptDir, { recursive: true, force: true });
      }
    },
    START_TIMEOUT_MS,
  );
});

describe("findPostgresBinaries", () => {
  it("says how to install PostgreSQL when neither Debian's folder nor PATH has it", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "local-servers-test-"));
    try {
      expect(() => findPostgresBinaries({ debianRoot: empty, searchPath: empty })).toThrow(LocalServerError);
      expect(() => findPostgresBinaries({ debianRoot: empty, searchPath: empty })).toThrow(/apt-get install -y postgresql/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("picks the newest major version under the Debian root", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-servers-test-"));
    try {
      for (const version of ["9.6", "15", "16"]) {
        const bin = path.join(root, version, "bin");
        fs.mkdirSync(bin, { recursive: true });
        for (const name of ["initdb", "postgres"]) fs.writeFileSync(path.join(bin, name), "#!/bin/sh\n", { mode: 0o755 });
      }
      expect(findPostgresBinaries({ debianRoot: root, searchPath: "" }).postgres).toBe(path.join(root, "16", "bin", "postgres"));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
