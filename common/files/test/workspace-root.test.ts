import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findWorkspaceRoot } from "../src";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "files-workspace-root-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("findWorkspaceRoot", () => {
  it("finds the nearest folder with a pnpm-workspace.yaml, the folder itself included", () => {
    writeFileSync(path.join(dir, "pnpm-workspace.yaml"), "packages:\n  - services/*\n");
    const deep = path.join(dir, "services", "user", "test");
    mkdirSync(deep, { recursive: true });
    expect(findWorkspaceRoot(deep)).toBe(dir);
    expect(findWorkspaceRoot(dir)).toBe(dir);
    expect(findWorkspaceRoot(path.relative(process.cwd(), deep))).toBe(dir);
  });

  it("takes the innermost workspace when workspaces nest", () => {
    writeFileSync(path.join(dir, "pnpm-workspace.yaml"), "packages: []\n");
    const inner = path.join(dir, "vendor", "tool");
    mkdirSync(path.join(inner, "src"), { recursive: true });
    writeFileSync(path.join(inner, "pnpm-workspace.yaml"), "packages: []\n");
    expect(findWorkspaceRoot(path.join(inner, "src"))).toBe(inner);
  });

  it("is undefined outside every workspace", () => {
    expect(findWorkspaceRoot(dir)).toBeUndefined();
  });
});
