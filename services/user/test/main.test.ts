import { promises as fsp, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { logMessage, startNode } from "@monorepo/testing";

const main = require.resolve("../src/main");
const NINE = { "9": { id: "9", name: "Nine", email: "nine@example.com", role: "viewer" } };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "user-main-"));
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

async function startMain(env: Record<string, string>, cwd?: string) {
  const service = startNode(main, [], { PORT: "0", ...env }, cwd);
  const listening = JSON.parse(await service.waitForLine(logMessage("Listening"))).data;
  return { service, url: listening.url as string, host: listening.host as string };
}

describe("dist/src/main.js", () => {
  it("serves USER_DATA_FILE on PORT, on 127.0.0.1 when HOST is unset, and exits 0 on SIGTERM", async () => {
    const file = path.join(dir, "user.json");
    writeFileSync(file, JSON.stringify(NINE));
    const { service, url, host } = await startMain({ USER_DATA_FILE: file, HOST: "" });
    expect(host).toBe("127.0.0.1");

    expect(await (await fetch(`${url}/users/9`)).json()).toMatchObject({ id: "9", name: "Nine" });
    expect((await fetch(`${url}/readiness`)).status).toBe(200);

    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }, 15_000);

  it("serves the package's user.json when USER_DATA_FILE is unset, from any working directory", async () => {
    const { service, url } = await startMain({ USER_DATA_FILE: "" }, dir);
    const users = (await (await fetch(`${url}/users`)).json()) as Record<string, unknown>;
    expect(Object.keys(users)).toEqual(["1", "2", "3", "4", "5"]);
    service.child.kill("SIGTERM");
    expect((await service.exited).code).toBe(0);
  }, 15_000);

  it("takes a relative USER_DATA_FILE from the caller's folder: the working directory, or INIT_CWD under pnpm start", async () => {
    const caller = path.join(dir, "caller");
    mkdirSync(path.join(caller, "data"), { recursive: true });
    writeFileSync(path.join(caller, "data", "user.json"), JSON.stringify(NINE));
    const packageDir = path.join(dir, "package");
    mkdirSync(packageDir);

    for (const [env, cwd] of [
      [{ INIT_CWD: "", npm_lifecycle_event: "" }, caller],
      // What pnpm start does: the package folder as working directory, the caller's in INIT_CWD.
      [{ INIT_CWD: caller, npm_lifecycle_event: "start" }, packageDir],
    ] as const) {
      const { service, url } = await startMain({ USER_DATA_FILE: path.join("data", "user.json"), ...env }, cwd);
      expect(Object.keys((await (await fetch(`${url}/users`)).json()) as object)).toEqual(["9"]);
      service.child.kill("SIGTERM");
      expect((await service.exited).code).toBe(0);
    }
  }, 15_000);

  it.each([
    ["a missing", undefined, "does not exist"],
    ["an empty", "", "is empty"],
    ["a corrupt", '{"1": {', "is not valid JSON"],
  ])(
    "refuses to start on %s data file: one clear line, exit code 1",
    async (_case, content, reason) => {
      const file = path.join(dir, "user.json");
      if (content !== undefined) writeFileSync(file, content);
      const service = startNode(main, [], { PORT: "0", USER_DATA_FILE: file });
      await new Promise((resolve) => service.child.once("close", resolve));
      expect(await service.exited).toEqual({ code: 1, signal: null });
      const records = service.lines().map((line) => JSON.parse(line));
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ level: "ERROR", context: "user-service", data: { error: "DataFileError" } });
      expect(records[0].message.startsWith(`Refusing to start: Data file ${file} ${reason}`)).toBe(true);
      expect(service.stderr()).toBe("");
    },
    15_000,
  );
});
