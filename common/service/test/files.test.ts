import { mkdtempSync, promises as fsp, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DataFileError, loadJsonDataFile, writeFileAtomic, writeJsonFileAtomic } from "../src";
import { startNode } from "@monorepo/testing";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "service-files-"));
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

const asObject = (value: unknown): Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("expected an object");
  return value as Record<string, unknown>;
};

describe("loadJsonDataFile", () => {
  it("returns the validated content", () => {
    const file = path.join(dir, "data.json");
    writeFileSync(file, '{"a": 1}');
    expect(loadJsonDataFile(file, asObject)).toEqual({ a: 1 });
  });

  it.each([
    ["missing", undefined, /does not exist/],
    ["empty", "  \n", /is empty/],
    ["torn JSON", '{"a": {"b": ', /is not valid JSON/],
    ["the wrong shape", "[1, 2]", /has unexpected content: expected an object/],
  ])("refuses the file with a DataFileError naming it when it is %s", (_case, content, reason) => {
    const file = path.join(dir, "data.json");
    if (content !== undefined) writeFileSync(file, content);
    let thrown: unknown;
    try {
      loadJsonDataFile(file, asObject);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DataFileError);
    expect((thrown as DataFileError).file).toBe(file);
    expect((thrown as Error).message).toContain(file);
    expect((thrown as Error).message).toMatch(reason);
  });
});

describe("writeFileAtomic", () => {
  it("writes a string, chunks or async chunks and leaves no temp file", async () => {
    const file = path.join(dir, "out.json");
    await writeJsonFileAtomic(file, { n: 1 });
    expect(readFileSync(file, "utf8")).toBe('{\n  "n": 1\n}\n');
    await writeFileAtomic(file, ["[", "1,", "2", "]"]);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual([1, 2]);
    async function* chunks() {
      yield '{"async":';
      yield "true}";
    }
    await writeFileAtomic(file, chunks());
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ async: true });
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });

  it("keeps the permissions of the file it replaces", async () => {
    const file = path.join(dir, "private.json");
    writeFileSync(file, "{}");
    chmodSync(file, 0o600);
    await writeJsonFileAtomic(file, { secret: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("leaves the old content and no temp file when producing the content fails midway", async () => {
    const file = path.join(dir, "data.json");
    writeFileSync(file, '{"old": true}');
    function* failing() {
      yield '{"new": ';
      throw new Error("producer broke");
    }
    await expect(writeFileAtomic(file, failing())).rejects.toThrow("producer broke");
    expect(readFileSync(file, "utf8")).toBe('{"old": true}');
    expect(readdirSync(dir)).toEqual(["data.json"]);
  });

  it("fails (and writes nothing) when the directory is gone", async () => {
    const file = path.join(dir, "gone", "data.json");
    await expect(writeJsonFileAtomic(file, {})).rejects.toThrow(/ENOENT/);
  });

  it("never leaves a torn file when the writing process is SIGKILLed mid-write", async () => {
    const file = path.join(dir, "big.json");
    writeFileSync(file, JSON.stringify({ generation: 0, items: [], count: 0 }));
    for (const killAt of [1, 2, 3]) {
      const writer = startNode(path.join(__dirname, "fixtures", "atomic-write-loop.js"), [file, String(killAt)]);
      await writer.waitForLine((line) => line === `halfway ${killAt}`);
      writer.child.kill("SIGKILL");
      expect((await writer.exited).signal).toBe("SIGKILL");

      // The half-written generation is only in the temp file; the target still holds the previous one, whole.
      const content = JSON.parse(readFileSync(file, "utf8"));
      expect(content.generation).toBe(killAt - 1);
      expect(content.items).toHaveLength(content.count);
      const temps = readdirSync(dir).filter((name) => name.endsWith(".tmp"));
      expect(temps).toHaveLength(1);
      await fsp.rm(path.join(dir, temps[0]));
    }
}, 30_000);
});
