import { chmodSync, promises as fsp, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startNode } from "@monorepo/testing";
import {
  removeStaleTempFiles,
  type SyncFileContent,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonFileAtomic,
  writeJsonFileAtomicSync,
} from "../src";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "files-atomic-"));
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

/** Both writers behind one awaitable signature, so every guarantee is shown for each. */
const WRITERS = [
  { name: "writeFileAtomic", mode: "async", write: writeFileAtomic, writeJson: writeJsonFileAtomic },
  {
    name: "writeFileAtomicSync",
    mode: "sync",
    write: async (file: string, content: SyncFileContent) => writeFileAtomicSync(file, content),
    writeJson: async (file: string, value: unknown) => writeJsonFileAtomicSync(file, value),
  },
];

describe.each(WRITERS)("$name", ({ mode, write, writeJson }) => {
  it("writes a string, chunks or indented JSON and leaves no temp file", async () => {
    const file = path.join(dir, "out.json");
    await writeJson(file, { n: 1 });
    expect(readFileSync(file, "utf8")).toBe('{\n  "n": 1\n}\n');
    await write(file, ["[", "1,", "2", "]"]);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual([1, 2]);
    await write(file, "plain");
    expect(readFileSync(file, "utf8")).toBe("plain");
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });

  it("keeps the permissions of the file it replaces", async () => {
    const file = path.join(dir, "private.json");
    writeFileSync(file, "{}");
    chmodSync(file, 0o600);
    await writeJson(file, { secret: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("leaves the old content and no temp file when producing the content fails midway", async () => {
    const file = path.join(dir, "data.json");
    writeFileSync(file, '{"old": true}');
    function* failing() {
      yield '{"new": ';
      throw new Error("producer broke");
    }
    await expect(write(file, failing())).rejects.toThrow("producer broke");
    expect(readFileSync(file, "utf8")).toBe('{"old": true}');
    expect(readdirSync(dir)).toEqual(["data.json"]);
  });

  it("leaves the old content and no temp file when the rename fails", async () => {
    const file = path.join(dir, "report.json");
    await write(file, "one");
    await write(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    // A non-empty directory cannot be renamed over.
    const taken = path.join(dir, "taken");
    mkdirSync(path.join(taken, "child"), { recursive: true });
    await expect(write(taken, "x")).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(["report.json", "taken"]);
    expect(readdirSync(taken)).toEqual(["child"]);
  });

  it("fails (and writes nothing) when the directory is gone", async () => {
    const file = path.join(dir, "gone", "data.json");
    await expect(writeJson(file, {})).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("never leaves a torn file when the writing process is SIGKILLed mid-write", async () => {
    const file = path.join(dir, "big.json");
    writeFileSync(file, JSON.stringify({ generation: 0, items: [], count: 0 }));
    for (const killAt of [1, 2, 3]) {
      const writer = startNode(path.join(__dirname, "fixtures", "atomic-write-loop.js"), [file, String(killAt), mode]);
      await writer.waitForLine((line) => line === `halfway ${killAt}`);
      writer.child.kill("SIGKILL");
      expect((await writer.exited).signal).toBe("SIGKILL");

      // The half-written generation is only in the temp file; the target still holds the previous one, whole.
      const content = JSON.parse(readFileSync(file, "utf8"));
      expect(content.generation).toBe(killAt - 1);
      expect(content.items).toHaveLength(content.count);
      const temps = readdirSync(dir).filter((name) => name.endsWith(".tmp"));
      expect(temps).toHaveLength(1);
      // What a restart does: the dead writer's partial copy goes, the file stays.
      expect(removeStaleTempFiles(file)).toEqual([path.join(dir, temps[0])]);
      expect(readdirSync(dir)).toEqual(["big.json"]);
    }
  }, 30_000);
});

describe("writeFileAtomic", () => {
  it("writes async chunks as they come", async () => {
    const file = path.join(dir, "out.json");
    async function* chunks() {
      yield '{"async":';
      yield "true}";
    }
    await writeFileAtomic(file, chunks());
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ async: true });
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });
});

describe("writeFileAtomic with a signal", () => {
  it("refuses to start once the signal is aborted, with the signal's reason", async () => {
    const file = path.join(dir, "data.json");
    writeFileSync(file, "old");
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    await expect(writeFileAtomic(file, "new", { signal: controller.signal })).rejects.toThrow("shutting down");
    expect(readFileSync(file, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["data.json"]);
  });

  it("abandons a write aborted midway: the old content stays and the temp file goes", async () => {
    const file = path.join(dir, "data.json");
    writeFileSync(file, "old");
    const controller = new AbortController();
    async function* chunks() {
      yield "partly ";
      controller.abort(new Error("deadline"));
      yield "written";
    }
    await expect(writeFileAtomic(file, chunks(), { signal: controller.signal })).rejects.toThrow("deadline");
    expect(readFileSync(file, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["data.json"]);
  });
});

describe("removeStaleTempFiles", () => {
  it("keeps the temp files of a running writer and every other file", async () => {
    const file = path.join(dir, "data.json");
    const names = [
      "data.json",
      `.data.json.${process.pid}.0123456789ab.tmp`,
      ".other.json.1.0123456789ab.tmp",
      "data.json.1.0123456789ab.tmp",
      ".data.json.backup",
    ];
    for (const name of names) writeFileSync(path.join(dir, name), "x");
    expect(removeStaleTempFiles(file)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
  });
});

describe("writeFileAtomicSync", () => {
  it("has replaced the file by the time it returns", () => {
    const file = path.join(dir, "state.json");
    writeFileSync(file, "old");
    writeFileAtomicSync(file, "new");
    expect(readFileSync(file, "utf8")).toBe("new");
  });
});
