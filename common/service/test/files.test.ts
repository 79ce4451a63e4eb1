import { promises as fsp, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DataFileError, loadJsonDataFile } from "../src";

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
