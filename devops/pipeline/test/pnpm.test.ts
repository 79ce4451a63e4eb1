import fs from "node:fs";
import path from "node:path";
import { pnpmCommand } from "../src/pnpm";
import { tempDir, writeFiles } from "./helpers";

describe("pnpmCommand", () => {
  it("runs pnpm from PATH, else the version package.json pins through npx, else any pnpm 10 through npx", () => {
    const root = tempDir();
    const bin = path.join(root, "bin");
    writeFiles(root, { "package.json": { packageManager: "pnpm@10.34.5" } });
    fs.mkdirSync(bin);
    expect(pnpmCommand(root, { PATH: bin })).toEqual(["npx", "-y", "pnpm@10.34.5"]);
    writeFiles(root, { "bin/pnpm": "#!/bin/sh\n" });
    fs.chmodSync(path.join(bin, "pnpm"), 0o755);
    expect(pnpmCommand(root, { PATH: `/nonexistent${path.delimiter}${bin}` })).toEqual(["pnpm"]);
    writeFiles(root, { "package.json": { name: "unpinned" } });
    expect(pnpmCommand(root, { PATH: "" })).toEqual(["npx", "-y", "pnpm@10"]);
  });
});
