import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultJournalPath, Journal, JournalError, resolveUserPath } from "../src/index";
import { tempDir } from "./helpers";

describe("Journal", () => {
  it("starts empty, saves each completed step at once, and reads it back in the next process", () => {
    const dir = tempDir();
    const path = join(dir, "state", "journal.json");
    const journal = Journal.open(path);
    expect(journal.completed.size).toBe(0);
    journal.record("db.initClient", 1);
    journal.record("db.modifyIndexTriggers", 2);
    const saved = JSON.parse(readFileSync(path, "utf8"));
    expect(saved).toMatchObject({ version: 1, lastRun: "running", completed: { "db.modifyIndexTriggers": { attempts: 2 } } });
    expect([...Journal.open(path).completed]).toEqual(["db.initClient", "db.modifyIndexTriggers"]);
    expect(readdirSync(join(dir, "state"))).toEqual(["journal.json"]);
  });

  it("ignores saved progress when fresh, and is removed when closed", () => {
    const path = join(tempDir(), "journal.json");
    Journal.open(path).record("db.initClient", 1);
    expect(Journal.open(path, { fresh: true }).completed.size).toBe(0);
    Journal.open(path).close();
    expect(readdirSync(join(path, ".."))).toEqual([]);
  });

  it.each([
    ["{ torn", /cannot read the journal .* pass --fresh/],
    ['{"hello": "world"}', /is not a maintenance journal; pass --fresh/],
  ])("refuses an unusable journal (%s) with a message saying what to do", (content, message) => {
    const path = join(tempDir(), "journal.json");
    writeFileSync(path, content);
    expect(() => Journal.open(path)).toThrow(JournalError);
    expect(() => Journal.open(path)).toThrow(message);
  });
});

describe("paths", () => {
  it("puts the journal under an absolute XDG_STATE_HOME, else ~/.local/state", () => {
    expect(defaultJournalPath({ XDG_STATE_HOME: "/var/state" }, "/home/op")).toBe("/var/state/acme-maintenance/journal.json");
    expect(defaultJournalPath({ XDG_STATE_HOME: "relative" }, "/home/op")).toBe("/home/op/.local/state/acme-maintenance/journal.json");
    expect(defaultJournalPath({}, "/home/op")).toBe("/home/op/.local/state/acme-maintenance/journal.json");
  });

  it("resolves the user's relative paths where the user was: bazel run, then pnpm's script, then cwd", () => {
    expect(resolveUserPath("r.json", { BUILD_WORKING_DIRECTORY: "/ws", INIT_CWD: "/x" }, "/runfiles")).toBe("/ws/r.json");
    expect(resolveUserPath("r.json", { npm_lifecycle_event: "maintenance", INIT_CWD: "/home/op" }, "/repo/devops/maintenance")).toBe(
      "/home/op/r.json",
    );
    expect(resolveUserPath("r.json", { npm_lifecycle_event: "test", INIT_CWD: "/home/op" }, "/cwd")).toBe("/cwd/r.json");
    expect(resolveUserPath("/abs/r.json", { BUILD_WORKING_DIRECTORY: "/ws" }, "/cwd")).toBe("/abs/r.json");
  });
});
