import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI, type CommandRun, PACKAGE_DIR, runCommand } from "./helpers";

/** A pnpm 10 that is not the pinned one: left alone, it would switch itself to the pinned version. */
const OTHER_PNPM = "10.34.9";
/** Installing the workspace and building the package, on a shared machine. */
const BUILD_TIMEOUT_MS = 8 * 60_000;

function expectExit(run: CommandRun, code: number): void {
  if (run.code !== code) {
    throw new Error(`cache.sh exited ${run.code ?? run.signal}, expected ${code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`);
  }
}

/** A copy of the working tree as git sees it (tracked and new files, nothing ignored): a fresh checkout. */
function copyCheckout(target: string): { root: string; packageDir: string } {
  // Under Bazel the package folder is a runfiles tree; its cache.sh links to the checkout's.
  const sourceDir = path.dirname(fs.realpathSync(path.join(PACKAGE_DIR, "cache.sh")));
  const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: sourceDir, encoding: "utf8" }).trim();
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  })
    .split("\0")
    .filter((file) => file !== "" && fs.existsSync(path.join(root, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    fs.cpSync(path.join(root, file), path.join(target, file), { verbatimSymlinks: true });
  }
  return { root: target, packageDir: path.join(target, path.relative(root, sourceDir)) };
}

/** A directory of links to every program on PATH except pnpm: PATH as on a machine without pnpm. */
function pathWithoutPnpm(dir: string): string {
  fs.mkdirSync(dir);
  for (const entry of (process.env.PATH ?? "").split(path.delimiter)) {
    if (entry === "" || !fs.existsSync(entry) || !fs.statSync(entry).isDirectory()) continue;
    for (const name of fs.readdirSync(entry)) {
      if (name === "pnpm" || name === "pnpx" || fs.existsSync(path.join(dir, name))) continue;
      fs.symlinkSync(path.join(entry, name), path.join(dir, name));
    }
  }
  return dir;
}

describe("cache.sh on a fresh checkout (real pnpm, npm and npx)", () => {
  let work: string;
  let checkoutRoot: string;
  let packageDir: string;
  let compiledCli: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-checkout-"));
    ({ root: checkoutRoot, packageDir } = copyCheckout(path.join(work, "checkout")));
    compiledCli = path.join(packageDir, path.relative(PACKAGE_DIR, CLI));
  });

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it(
    "installs and builds with whatever pnpm is first on PATH, not only the pinned one",
    async () => {
      const pinned = JSON.parse(fs.readFileSync(path.join(checkoutRoot, "package.json"), "utf8")).packageManager;
      expect(pinned).not.toBe(`pnpm@${OTHER_PNPM}`);
      const prefix = path.join(work, "pnpm-other");
      const installed = await runCommand("npm", ["install", "--prefix", prefix, `pnpm@${OTHER_PNPM}`], { timeoutMs: BUILD_TIMEOUT_MS });
      expect(installed.code).toBe(0);
      expect(fs.existsSync(compiledCli)).toBe(false);

      const env = { ...process.env, PATH: `${path.join(prefix, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` };
      const status = await runCommand("bash", [path.join(packageDir, "cache.sh"), "status", "--dir", path.join(work, "state")], {
        env,
        timeoutMs: BUILD_TIMEOUT_MS,
      });

      expectExit(status, 3);
      expect(status.stdout).toContain("not running");
      expect(status.stderr).toContain(`using pnpm v${OTHER_PNPM}`);
      expect(fs.existsSync(compiledCli)).toBe(true);
    },
    BUILD_TIMEOUT_MS * 2,
  );

  it(
    "builds through npx with the pinned pnpm when no pnpm is on PATH",
    async () => {
      // As on a fresh checkout: no build output (tsc --build keeps its state in dist/ too).
      fs.rmSync(path.join(packageDir, "dist"), { recursive: true, force: true });
      const bin = pathWithoutPnpm(path.join(work, "bin"));
      expect(fs.existsSync(path.join(bin, "npx"))).toBe(true);
      expect(fs.existsSync(path.join(bin, "pnpm"))).toBe(false);

      const status = await runCommand("bash", [path.join(packageDir, "cache.sh"), "status", "--dir", path.join(work, "state")], {
        env: { ...process.env, PATH: bin },
        timeoutMs: BUILD_TIMEOUT_MS,
      });

      expectExit(status, 3);
      expect(status.stdout).toContain("not running");
      expect(status.stderr).toContain("building @monorepo/remote-cache");
      expect(fs.existsSync(compiledCli)).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );
});
