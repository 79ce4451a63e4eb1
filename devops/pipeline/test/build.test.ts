import fs from "node:fs";
import path from "node:path";
import { loadWorkspace } from "@monorepo/workspace";
import {
  type BuildStep,
  buildTaskId,
  type Outcome,
  planBuild,
  runPackageScript,
  runTasks,
  SOLUTION_TASK,
  SolutionBuild,
  type SolutionSummary,
  scriptedBuildTasks,
} from "../src";
import { fixtureWorkspace, TSC_BASE, tscPackage, writeFiles } from "./helpers";

// Real compiles with the pinned TypeScript (no @types): seconds on a loaded 2-core machine, far
// above jest's 5 s default.
jest.setTimeout(60_000);

/** logger <- user, and tools on its own; user finds logger through a node_modules link, as pnpm links it. */
function repo(): string {
  const root = fixtureWorkspace(
    [
      tscPackage("common/logger", "@monorepo/logger", {
        "src/index.ts": "export function greet(name: string): string {\n  return `hello ${name}`;\n}\n",
        "test/greet.test.ts": 'import { greet } from "../src";\nexport const greeting: string = greet("test");\n',
      }),
      tscPackage(
        "services/user",
        "@monorepo/user-service",
        {
          "src/index.ts": 'import { greet } from "@monorepo/logger";\nexport const message: string = greet("user");\n',
          "src/extra.ts": "export const extra = 1;\n",
          "test/app.test.ts": 'import { message } from "../src";\nexport const checked: string = message;\n',
        },
        { "@monorepo/logger": "common/logger" },
      ),
      tscPackage("common/tools", "@monorepo/tools", { "src/index.ts": "export const tool = 1;\n" }),
    ],
    TSC_BASE,
  );
  fs.mkdirSync(path.join(root, "services/user/node_modules/@monorepo"), { recursive: true });
  fs.symlinkSync(path.join(root, "common/logger"), path.join(root, "services/user/node_modules/@monorepo/logger"));
  return root;
}

interface BuildRun {
  outcomes: Map<string, Outcome<BuildStep | SolutionSummary>>;
  /** Task ids in the order they settled. */
  order: string[];
  stale: string[];
}

async function build(root: string, wanted: string[]): Promise<BuildRun> {
  const plan = planBuild(loadWorkspace(root), wanted);
  const stale: string[] = [];
  const options = {
    root,
    artifacts: path.join(root, "artifacts"),
    onStaleOutputs: (pkg: { name: string }, files: number) => stale.push(`${pkg.name}: ${files}`),
  };
  const solution = new SolutionBuild(plan, options);
  const { solution: task, projects } = solution.tasks();
  const order: string[] = [];
  const outcomes = await runTasks<BuildStep | SolutionSummary>([task, ...projects, ...scriptedBuildTasks(plan, options)], {
    concurrency: 2,
    onSettled: (o) => order.push(o.id),
  });
  return { outcomes, order, stale };
}

const step = (run: BuildRun, name: string) => run.outcomes.get(buildTaskId(name)) as Outcome<BuildStep> & { status: "ok" | "failed" };
const compiled = (run: BuildRun) =>
  [...run.outcomes.values()]
    .filter(
      (o): o is Outcome<BuildStep> & { status: "ok" } => o.status === "ok" && o.id !== SOLUTION_TASK && !(o.value as BuildStep).upToDate,
    )
    .map((o) => o.value.pkg.name);
const exists = (root: string, file: string) => fs.existsSync(path.join(root, file));

describe("the build stage: tsc's solution builder", () => {
  it("builds the wanted packages and their deps into dist/, then nothing until an input changes, then what the change reaches", async () => {
    const root = repo();
    const first = await build(root, ["@monorepo/user-service"]);
    expect(compiled(first).sort()).toEqual(["@monorepo/logger", "@monorepo/user-service"]);
    expect(first.outcomes.has(buildTaskId("@monorepo/tools"))).toBe(false);
    for (const file of [
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/index.js.map",
      "dist/test/app.test.js",
      "dist/tsconfig.tsbuildinfo",
    ]) {
      expect(exists(root, `services/user/${file}`)).toBe(true);
    }
    expect(exists(root, "services/user/src/index.js")).toBe(false);
    // Each project settles as soon as tsc is done with it, not when the whole build is.
    expect(first.order.indexOf(buildTaskId("@monorepo/logger"))).toBeLessThan(first.order.indexOf(SOLUTION_TASK));
    expect(first.outcomes.get(SOLUTION_TASK)).toMatchObject({ status: "ok", value: { built: 2, upToDate: 0, failed: 0 } });

    const again = await build(root, ["@monorepo/user-service"]);
    expect(compiled(again)).toEqual([]);
    expect(step(again, "@monorepo/user-service")).toMatchObject({ status: "ok", value: { upToDate: true } });

    // A change to the dependency's declarations reaches its dependent.
    writeFiles(root, {
      "common/logger/src/index.ts": 'export function greet(name: string, greeting = "hi"): string {\n  return `${greeting} ${name}`;\n}\n',
    });
    expect(compiled(await build(root, ["@monorepo/user-service"])).sort()).toEqual(["@monorepo/logger", "@monorepo/user-service"]);
  });

  it("removes before building every compiled file no current source produces, a deleted test's first", async () => {
    const root = repo();
    await build(root, ["@monorepo/user-service"]);
    fs.rmSync(path.join(root, "services/user/test/app.test.ts"));
    fs.rmSync(path.join(root, "services/user/src/extra.ts"));
    writeFiles(root, { "services/user/dist/leftover/notes.txt": "not tsc's\n" });
    const run = await build(root, ["@monorepo/user-service"]);
    expect(run.stale).toEqual(["@monorepo/user-service: 7"]);
    for (const gone of [
      "dist/test/app.test.js",
      "dist/test/app.test.d.ts",
      "dist/test/app.test.js.map",
      "dist/src/extra.js",
      "dist/leftover",
      "dist/test",
    ]) {
      expect(exists(root, `services/user/${gone}`)).toBe(false);
    }
    expect(exists(root, "services/user/dist/src/index.js")).toBe(true);
    expect(exists(root, "services/user/dist/tsconfig.tsbuildinfo")).toBe(true);
    expect(step(run, "@monorepo/user-service").status).toBe("ok");
  });

  it("a package built on its own, through its build script, keeps no output of a deleted test either", async () => {
    const root = repo();
    const userDir = path.join(root, "services/user");
    const script = loadWorkspace(root).packages.find((p) => p.name === "@monorepo/user-service")!.scripts.build!;
    // The pipeline's own TypeScript as the script's tsc: a runfiles tree has no node_modules/.bin.
    const bin = path.join(root, "bin");
    writeFiles(root, { "bin/tsc": `#!/bin/sh\nexec "${process.execPath}" "${require.resolve("typescript/bin/tsc")}" "$@"\n` });
    fs.chmodSync(path.join(bin, "tsc"), 0o755);
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
    const first = await runPackageScript(root, userDir, script, [], { env });
    expect(first.exitCode).toBe(0);
    expect(exists(root, "services/user/dist/test/app.test.js")).toBe(true);
    fs.rmSync(path.join(userDir, "test/app.test.ts"));

    const second = await runPackageScript(root, userDir, script, [], { env });
    expect(second.exitCode).toBe(0);
    expect(exists(root, "services/user/dist/test/app.test.js")).toBe(false);
    expect(exists(root, "services/user/dist/src/index.js")).toBe(true);
  });

  it("fails a project with tsc's messages in its log, and leaves its dependents to the scheduler to skip", async () => {
    const root = repo();
    writeFiles(root, {
      "common/logger/src/index.ts":
        "export function greet(name: string): string {\n  const count: number = name;\n  return `${name} ${count}`;\n}\n",
    });
    const run = await build(root, ["@monorepo/user-service", "@monorepo/tools"]);
    const logger = step(run, "@monorepo/logger");
    expect(logger).toMatchObject({ status: "failed", value: { exitCode: 2 } });
    expect(fs.readFileSync(path.join(root, "artifacts", logger.value.log!), "utf8")).toBe(
      "tsc --build (in the pipeline's process: one solution builder for 3 packages)\n" +
        "src/index.ts(2,9): error TS2322: Type 'string' is not assignable to type 'number'.\n",
    );
    expect(run.outcomes.get(buildTaskId("@monorepo/user-service"))).toMatchObject({
      status: "skipped",
      reason: "needs build @monorepo/logger failed",
    });
    expect(step(run, "@monorepo/tools").status).toBe("ok");
    expect(run.outcomes.get(SOLUTION_TASK)).toMatchObject({ status: "failed", value: { failed: 1 } });
  });

  it("refuses a tsconfig that does not parse or whose references are not the package's workspace deps", async () => {
    const root = repo();
    writeFiles(root, {
      "services/user/tsconfig.json": {
        extends: "../../tsconfig.base.json",
        compilerOptions: { outDir: "dist", composite: true },
        include: ["src", "test"],
      },
      "common/tools/tsconfig.json": "{ not json",
    });
    const run = await build(root, ["@monorepo/user-service", "@monorepo/tools"]);
    const user = step(run, "@monorepo/user-service");
    expect(user).toMatchObject({ status: "failed", value: { exitCode: 1 } });
    expect(fs.readFileSync(path.join(root, "artifacts", user.value.log!), "utf8")).toContain(
      "tsconfig.json references none, but the package depends on common/logger: run `pnpm bazel:generate`",
    );
    const tools = step(run, "@monorepo/tools");
    expect(tools).toMatchObject({ status: "failed", value: { exitCode: 1 } });
    expect(fs.readFileSync(path.join(root, "artifacts", tools.value.log!), "utf8")).toMatch(/tsconfig\.json\(1,3\): error TS/);
    expect(step(run, "@monorepo/logger").status).toBe("ok");
  });

  it("runs any other build script through sh, and refuses a tsc package that depends on one", async () => {
    const root = repo();
    const manifest = path.join(root, "common/tools/package.json");
    writeFiles(root, {
      "common/tools/package.json": {
        ...JSON.parse(fs.readFileSync(manifest, "utf8")),
        scripts: { build: "echo 'src/index.ts(1,1): error TS1005' >&2; exit 2" },
      },
    });
    const run = await build(root, ["@monorepo/tools"]);
    const tools = step(run, "@monorepo/tools");
    expect(tools).toMatchObject({ status: "failed", value: { exitCode: 2 } });
    expect(fs.readFileSync(path.join(root, "artifacts", tools.value.log!), "utf8")).toContain("error TS1005");

    const user = path.join(root, "services/user/package.json");
    writeFiles(root, {
      "services/user/package.json": {
        ...JSON.parse(fs.readFileSync(user, "utf8")),
        dependencies: { "@monorepo/logger": "workspace:*", "@monorepo/tools": "workspace:*" },
      },
    });
    expect(() => planBuild(loadWorkspace(root), ["@monorepo/user-service"])).toThrow(
      "services/user: its build is `rm -rf dist && tsc --build`, which builds the packages it references with tsc, but @monorepo/tools builds with another script; make every build script `rm -rf dist && tsc --build`",
    );
  });
});
