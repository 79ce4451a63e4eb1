import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pnpmCommand } from "../src";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "testing-workspace-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("pnpmCommand", () => {
  it("prefers the pnpm running this test, then pnpm on PATH, then the pinned pnpm through npx", () => {
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ packageManager: "pnpm@10.34.5" }));
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    expect(pnpmCommand(dir, { npm_execpath: "/opt/pnpm/bin/pnpm.cjs", PATH: bin })).toEqual([process.execPath, "/opt/pnpm/bin/pnpm.cjs"]);
    expect(pnpmCommand(dir, { npm_execpath: "/usr/lib/node_modules/npm/bin/npm-cli.js", PATH: bin })).toEqual([
      "npx",
      "-y",
      "pnpm@10.34.5",
    ]);
    writeFileSync(path.join(bin, "pnpm"), "#!/bin/sh\n");
    chmodSync(path.join(bin, "pnpm"), 0o755);
    expect(pnpmCommand(dir, { PATH: bin })).toEqual(["pnpm"]);
  });
});
