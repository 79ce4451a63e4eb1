import fs from "node:fs";
import path from "node:path";
import { loadWorkspace } from "@monorepo/workspace-tools";
import { adoptBootstrapBuild, BuildStamps, inputDigests, planBuild, runBuild, type BuildStep, type Outcome } from "../src";
import { makeRepo, writeFiles } from "./helpers";

// Each build is a real shell and node process; the first case runs eight of them in turn, about 2 s
// with the other core busy. Far above jest's 5 s default, for a loaded 2-core CI machine.
jest.setTimeout(60_000);

/** Packages whose build copies src/index.ts to src/index.js and counts its runs in a file. */
function repo() {
  const build = `node -e "const fs=require('fs');fs.copyFileSync('src/index.ts','src/index.js');fs.appendFileSync('../../builds.txt', require('./package.json').name + '\\\\n')"`;
  const pkg = (name: string, deps: string[] = []) => ({
    name,
    dependencies: Object.fromEntries(deps.map((d) => [d, "workspace:*"])),
    scripts: { build },
  });
  return makeRepo({
    "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\n",
    ".gitignore": "**/src/**/*.js\nbuilds.txt\n.pipeline/\n",
    "tsconfig.base.json": "{}\n",
    "common/logger/package.json": pkg("@monorepo/logger"),
    "common/logger/src/index.ts": "export const a = 1;\n",
    "services/user/package.json": pkg("@monorepo/user-service", ["@monorepo/logger"]),
    "services/user/src/index.ts": "export const b = 1;\n",
    "services/trading/package.json": pkg("@monorepo/trading-service", ["@monorepo/logger"]),
    "services/trading/src/index.ts": "export const c = 1;\n",
  });
}

const builds = (root: string) => (fs.existsSync(path.join(root, "builds.txt")) ? fs.readFileSync(path.join(root, "builds.txt"), "utf8").split("\n").filter(Boolean) : []);

async function build(root: string, wanted: string[]) {
  const ws = loadWorkspace(root);
  const stamps = new BuildStamps(root);
  const plan = planBuild(ws, wanted, stamps);
  const outcomes = await runBuild(ws, plan, stamps, { artifacts: path.join(root, "artifacts"), concurrency: 2 });
  return { plan, outcomes };
}

describe("build once, and only what is stale", () => {
  it("builds the wanted packages with their deps, dependencies first, then nothing until an input changes", async () => {
    const root = repo();
    const first = await build(root, ["@monorepo/user-service"]);
    expect(first.plan.toBuild.map((p) => p.name)).toEqual(["@monorepo/logger", "@monorepo/user-service"]);
    expect(builds(root)).toEqual(["@monorepo/logger", "@monorepo/user-service"]);

    const again = await build(root, ["@monorepo/user-service"]);
    expect(again.plan.toBuild).toEqual([]);
    expect(again.plan.upToDate.map((p) => p.name)).toEqual(["@monorepo/logger", "@monorepo/user-service"]);

    writeFiles(root, { "services/user/src/index.ts": "export const b = 2;\n" });
    expect((await build(root, ["@monorepo/user-service", "@monorepo/trading-service"])).plan.toBuild.map((p) => p.name)).toEqual([
      "@monorepo/trading-service",
      "@monorepo/user-service",
    ]);

    // A dependency's change reaches its dependents through their digests.
    writeFiles(root, { "common/logger/src/index.ts": "export const a = 2;\n" });
    expect((await build(root, ["@monorepo/user-service"])).plan.toBuild.map((p) => p.name)).toEqual(["@monorepo/logger", "@monorepo/user-service"]);
  });

  it("rebuilds when outputs vanished or a shared compiler input changed, even with a matching stamp", async () => {
    const root = repo();
    await build(root, ["@monorepo/logger"]);
    fs.rmSync(path.join(root, "common/logger/src/index.js"));
    expect((await build(root, ["@monorepo/logger"])).plan.toBuild.map((p) => p.name)).toEqual(["@monorepo/logger"]);
    const before = inputDigests(loadWorkspace(root)).get("@monorepo/logger");
    writeFiles(root, { "tsconfig.base.json": '{"compilerOptions":{}}\n' });
    expect(inputDigests(loadWorkspace(root)).get("@monorepo/logger")).not.toBe(before);
  });

  it("adopts the builds pipeline.sh made of the pipeline's own packages, and only those", () => {
    const root = repo();
    writeFiles(root, { "common/logger/src/index.js": "exports.a = 1;\n", "services/user/src/index.js": "exports.b = 1;\n" });
    const ws = loadWorkspace(root);
    const stamps = new BuildStamps(root);
    const digests = inputDigests(ws);
    expect(adoptBootstrapBuild(ws, stamps, digests, "@monorepo/user-service")).toEqual(["@monorepo/logger", "@monorepo/user-service"]);
    const plan = planBuild(ws, ["@monorepo/user-service", "@monorepo/trading-service"], stamps, digests);
    expect(plan.toBuild.map((p) => p.name)).toEqual(["@monorepo/trading-service"]);
  });

  it("skips dependents of a failed build and keeps no stamp for the failure", async () => {
    const root = repo();
    const manifest = path.join(root, "common/logger/package.json");
    const json = JSON.parse(fs.readFileSync(manifest, "utf8"));
    fs.writeFileSync(manifest, JSON.stringify({ ...json, scripts: { build: "echo 'src/index.ts(1,1): error TS1005' >&2; exit 2" } }));
    const { outcomes } = await build(root, ["@monorepo/user-service"]);
    const logger = outcomes.get("build @monorepo/logger") as Outcome<BuildStep> & { status: "failed" };
    expect(logger.status).toBe("failed");
    expect(logger.value.exitCode).toBe(2);
    expect(fs.readFileSync(path.join(root, "artifacts", logger.value.log), "utf8")).toContain("error TS1005");
    expect(outcomes.get("build @monorepo/user-service")).toMatchObject({ status: "skipped", reason: "needs build @monorepo/logger failed" });
    expect(new BuildStamps(root).get("@monorepo/logger")).toBeUndefined();
  });

  it("compiles a package whose build is `tsc -p tsconfig.json` in the pipeline's own process, with tsc's exit status and messages", async () => {
    const root = repo();
    const options = { target: "ES2022", lib: ["ES2022"], types: [], module: "commonjs", strict: true };
    for (const dir of ["common/logger", "services/user"]) {
      const manifest = path.join(root, dir, "package.json");
      const json = JSON.parse(fs.readFileSync(manifest, "utf8"));
      fs.writeFileSync(manifest, JSON.stringify({ ...json, scripts: { build: "tsc -p tsconfig.json" } }));
      writeFiles(root, { [`${dir}/tsconfig.json`]: { compilerOptions: options, include: ["src"] } });
    }
    writeFiles(root, { "services/user/src/index.ts": "export const b: number = 'one';\n" });
    const { outcomes } = await build(root, ["@monorepo/user-service"]);
    expect(outcomes.get("build @monorepo/logger")?.status).toBe("ok");
    expect(fs.readFileSync(path.join(root, "common/logger/src/index.js"), "utf8")).toContain("exports.a = 1;");
    const user = outcomes.get("build @monorepo/user-service") as Outcome<BuildStep> & { status: "failed" };
    expect(user).toMatchObject({ status: "failed", value: { exitCode: 2 } });
    expect(fs.readFileSync(path.join(root, "artifacts", user.value.log), "utf8")).toBe(
      "tsc -p tsconfig.json (in the pipeline's process, declarations shared across packages)\n" +
        "src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.\n",
    );
    expect(builds(root)).toEqual([]);
  });
});
