import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startNode, waitFor } from "@monorepo/testing";
import { LocalServerError, type S3Server, startS3Server } from "../src";

/** Gone, or a zombie its new parent has not reaped yet: either way it serves nothing. */
function isGone(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].startsWith("Z");
  } catch {
    return true;
  }
}

async function refusesConnections(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint);
    return false;
  } catch {
    return true;
  }
}

/** moto is a Python program: on a busy machine it takes seconds to start. */
jest.setTimeout(60_000);

let tempDir: string;

beforeEach(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-s3-"));
});

afterEach(() => {
  fs.rmSync(tempDir, { recursive: true, force: true });
});

describe("startS3Server", () => {
  let server: S3Server | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("serves the S3 API on a free port of 127.0.0.1, and stop() ends it and everything it held", async () => {
    server = await startS3Server();
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.env).toMatchObject({ AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: expect.any(String) });

    expect((await fetch(`${server.endpoint}/made-by-test`, { method: "PUT" })).status).toBe(200);
    const listing = await (await fetch(`${server.endpoint}/`)).text();
    expect(listing).toContain("<Name>made-by-test</Name>");

    const { pid, endpoint } = server;
    await server.stop();
    await server.stop();
    expect(isGone(pid)).toBe(true);
    expect(await refusesConnections(endpoint)).toBe(true);
  });

  it("two servers are independent: each has its own port and its own buckets", async () => {
    server = await startS3Server();
    const other = await startS3Server();
    try {
      expect(other.endpoint).not.toBe(server.endpoint);
      await fetch(`${server.endpoint}/only-in-first`, { method: "PUT" });
      expect(await (await fetch(`${other.endpoint}/`)).text()).not.toContain("only-in-first");
    } finally {
      await other.stop();
    }
  });

  it("does not outlive a parent that is killed", async () => {
    const script = path.join(tempDir, "parent.js");
    const modulePath = require.resolve("../src");
    fs.writeFileSync(
      script,
      `require(${JSON.stringify(modulePath)}).startS3Server().then((server) => console.log(JSON.stringify(server)), (error) => { console.error(error); process.exit(1); });
setInterval(() => {}, 1000);
`,
    );
    const parent = startNode(script);
    const line = await parent.waitForLine((text) => text.startsWith("{"));
    const { pid, endpoint } = JSON.parse(line) as S3Server;
    expect((await fetch(`${endpoint}/`)).status).toBe(200);

    parent.child.kill("SIGKILL");
    await parent.exited;
    await waitFor(() => isGone(pid));
    expect(await refusesConnections(endpoint)).toBe(true);
  });
});

describe("startS3Server without a usable moto_server", () => {
  const savedMotoServer = process.env.MOTO_SERVER;

  afterEach(() => {
    if (savedMotoServer === undefined) delete process.env.MOTO_SERVER;
    else process.env.MOTO_SERVER = savedMotoServer;
  });

  it("says how to install it when MOTO_SERVER names no program", async () => {
    process.env.MOTO_SERVER = path.join(tempDir, "missing");
    const start = startS3Server();
    await expect(start).rejects.toThrow(LocalServerError);
    await expect(start).rejects.toThrow(/is not an executable file; install it with pip install "moto\[server\]/);
  });

  it("quotes the program's output when it exits before listening", async () => {
    const broken = path.join(tempDir, "moto_server");
    fs.writeFileSync(broken, "#!/bin/sh\necho 'No module named moto' >&2\nexit 1\n", { mode: 0o755 });
    process.env.MOTO_SERVER = broken;
    await expect(startS3Server()).rejects.toThrow(/moto_server exited \(code 1\) before it listened:\nNo module named moto/);
  });
});
