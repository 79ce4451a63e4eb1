import { mkdtempSync, promises as fsp, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { logMessage, startNode } from "@monorepo/testing";

const main = path.join(__dirname, "..", "src", "main.js");
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "user-main-"));
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

describe("dist/src/main.js", () => {
  it("serves USER_DATA_FILE on PORT and exits 0 on SIGTERM", async () => {
    const file = path.join(dir, "user.json");
    writeFileSync(file, JSON.stringify({ "9": { id: "9", name: "Nine", email: "nine@example.com", role: "viewer" } }));
    const service = startNode(main, [], { PORT: "0", USER_DATA_FILE: file });
    const { url } = JSON.parse(await service.waitForLine(logMessage("Listening"))).data;

    expect(await (await fetch(`${url}/users/9`)).json()).toMatchObject({ id: "9", name: "Nine" });
    expect((await fetch(`${url}/readiness`)).status).toBe(200);

    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }, 15_000);

  it("serves the package's user.json when USER_DATA_FILE is unset, from any working directory", async () => {
    const service = startNode(main, [], { PORT: "0", USER_DATA_FILE: "" }, dir);
    const { url } = JSON.parse(await service.waitForLine(logMessage("Listening"))).data;
    const users = (await (await fetch(`${url}/users`)).json()) as Record<string, unknown>;
    expect(Object.keys(users)).toEqual(["1", "2", "3", "4", "5"]);
    service.child.kill("SIGTERM");
    expect((await service.exited).code).toBe(0);
  }, 15_000);

  it("uses port 3000 when PORT is unset", async () => {
    const service = startNode(main, [], { PORT: "" });
    // Either it listens on 3000 or 3000 is taken on this machine; both show the default in use.
    const line = await service.waitForLine((l) => /"message":"(Listening|Refusing to start[^"]*)"/.test(l));
    const record = JSON.parse(line);
    if (record.message === "Listening") {
      expect(record.data.port).toBe(3000);
      service.child.kill("SIGTERM");
    } else {
      expect(record.message).toMatch(/EADDRINUSE.*:3000/);
    }
    await service.exited;
  }, 15_000);

  it.each([
    ["a missing", undefined, "does not exist"],
    ["an empty", "", "is empty"],
    ["a corrupt", '{"1": {', "is not valid JSON"],
  ])("refuses to start on %s data file: clear error, exit code 1", async (_case, content, reason) => {
    const file = path.join(dir, "user.json");
    if (content !== undefined) writeFileSync(file, content);
    const service = startNode(main, [], { PORT: "0", USER_DATA_FILE: file });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    const records = service.lines().map((line) => JSON.parse(line));
    expect(records.some((r) => r.message === "Listening")).toBe(false);
    expect(records.at(-1)).toMatchObject({ level: "ERROR", context: "user-service" });
    expect(records.at(-1).message.startsWith(`Refusing to start: Data file ${file} ${reason}`)).toBe(true);
  }, 15_000);
});
