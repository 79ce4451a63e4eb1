import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const tempDirs: string[] = [];

// Registered when a test file imports these fixtures, so it runs after that file's tests.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a throwaway workspace, removed after the test file: `files` maps relative paths to contents (objects become JSON). */
export function makeWorkspace(files: Record<string, string | object>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "workspace-"));
  tempDirs.push(root);
  for (const [file, content] of Object.entries(files)) {
    const abs = path.join(root, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

/** A small workspace shaped like the real one: logger <- service <- user, trading; tools standalone. */
export function sampleWorkspace(extra: Record<string, string | object> = {}): string {
  return makeWorkspace({
    "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\n  - devops/*\nonlyBuiltDependencies: []\n",
    "common/logger/package.json": { name: "@monorepo/logger" },
    "common/service/package.json": { name: "@monorepo/service", dependencies: { "@monorepo/logger": "workspace:*", express: "5.3.0" } },
    "services/user/package.json": { name: "@monorepo/user-service", dependencies: { "@monorepo/service": "workspace:*" } },
    "services/trading/package.json": {
      name: "@monorepo/trading-service",
      dependencies: { "@monorepo/service": "workspace:*" },
      devDependencies: { "@monorepo/logger": "workspace:*" },
    },
    "devops/tools/package.json": { name: "@monorepo/tools" },
    "devops/not-a-package/README.md": "no package.json here",
    ...extra,
  });
}
