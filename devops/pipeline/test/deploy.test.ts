import fs from "node:fs";
import path from "node:path";
import { READINESS_PATH } from "@monorepo/health";
import { waitFor } from "@monorepo/testing";
import { loadWorkspace } from "@monorepo/workspace";
import {
  checkReadiness,
  DeployState,
  deployFacts,
  outputDigest,
  SimulatedRegistry,
  selectDeploys,
  shippedFiles,
  sourceFiles,
} from "../src";
import { isRunning, makeRepo, tempDir, writeFiles } from "./helpers";

// The readiness gate starts real node processes: far above jest's 5 s default, for a busy 2-core CI machine.
jest.setTimeout(60_000);

function serviceRepo() {
  return makeRepo({
    "pnpm-workspace.yaml": "packages:\n  - common/*\n  - services/*\n",
    ".gitignore": "dist/\n*.tsbuildinfo\n",
    "common/logger/package.json": { name: "@monorepo/logger" },
    "common/logger/src/index.ts": "export const log = 1;\n",
    "common/testkit/package.json": { name: "@monorepo/testkit" },
    "common/testkit/src/index.ts": "export const kit = 1;\n",
    "services/user/package.json": {
      name: "@monorepo/user-service",
      dependencies: { "@monorepo/logger": "workspace:*", express: "5.3.0" },
      devDependencies: { "@monorepo/testkit": "workspace:*" },
    },
    "services/user/src/main.ts": "import './app';\n",
    "services/user/user.json": { "1": { id: "1", name: "Ada" } },
    "services/user/tsconfig.json": { extends: "../../tsconfig.base.json" },
    "services/user/BUILD.bazel": "# generated\n",
    "services/user/test/app.test.ts": "test('x', () => {});\n",
  });
}

/** Stands in for tsc: the compiled files a build leaves in dist/ (gitignored). */
function compile(root: string, extra: Record<string, string> = {}) {
  writeFiles(root, {
    "common/logger/dist/src/index.js": "exports.log = 1;\n",
    "common/logger/dist/src/index.d.ts": "export declare const log = 1;\n",
    "common/testkit/dist/src/index.js": "exports.kit = 1;\n",
    "services/user/dist/src/main.js": "require('./app');\n",
    "services/user/dist/src/main.js.map": "{}",
    "services/user/dist/test/app.test.js": "test('x', () => {});\n",
    "services/user/dist/tsconfig.tsbuildinfo": "{}",
    ...extra,
  });
}

describe("build output digests", () => {
  it("ship package.json, compiled JavaScript and data files, not sources, tests, maps, build state or build config", () => {
    const root = serviceRepo();
    compile(root);
    const ws = loadWorkspace(root);
    expect(shippedFiles(root, ws.byName.get("@monorepo/user-service")!, sourceFiles(root))).toEqual([
      "services/user/dist/src/main.js",
      "services/user/package.json",
      "services/user/user.json",
    ]);
  });

  it("change with the service's own output, its data, and its runtime deps' output, and only then", () => {
    const root = serviceRepo();
    compile(root);
    const digest = () => outputDigest(loadWorkspace(root), "@monorepo/user-service");
    const first = digest();
    expect(digest()).toBe(first);

    // Not shipped: a comment in a source (before compiling), a test, a map, a dev-only dependency.
    writeFiles(root, {
      "services/user/src/main.ts": "// comment\nimport './app';\n",
      "services/user/test/app.test.ts": "test('y', () => {});\n",
      "services/user/dist/test/app.test.js": "test('y', () => {});\n",
      "services/user/dist/src/main.js.map": '{"version":3}',
      "common/testkit/dist/src/index.js": "exports.kit = 2;\n",
    });
    expect(digest()).toBe(first);

    compile(root, { "common/logger/dist/src/index.js": "exports.log = 2;\n" });
    const afterDep = digest();
    expect(afterDep).not.toBe(first);

    writeFiles(root, { "services/user/user.json": { "1": { id: "1", name: "Grace" } } });
    expect(digest()).not.toBe(afterDep);
  });
});

describe("deploy selection", () => {
  it("deploys a service never deployed or whose digest changed, and records only what it is told", () => {
    const root = tempDir();
    const state = new DeployState(root);
    const digests = new Map([
      ["@monorepo/user-service", "u1"],
      ["@monorepo/trading-service", "t1"],
    ]);
    expect(selectDeploys(digests, state).map((s) => [s.service, s.deploy, s.reason])).toEqual([
      ["@monorepo/user-service", true, "never deployed from here"],
      ["@monorepo/trading-service", true, "never deployed from here"],
    ]);
    state.record("@monorepo/user-service", { digest: "u1", version: "1.0.0", deployedAt: "2026-01-01T00:00:00.000Z" });
    state.record("@monorepo/trading-service", { digest: "t1", version: "1.0.0", deployedAt: "2026-01-01T00:00:00.000Z" });
    const reread = new DeployState(root);
    digests.set("@monorepo/trading-service", "t2");
    expect(selectDeploys(digests, reread).map((s) => [s.service, s.deploy, s.reason])).toEqual([
      ["@monorepo/user-service", false, "build output unchanged since 1.0.0 (2026-01-01T00:00:00.000Z)"],
      ["@monorepo/trading-service", true, "build output changed since 1.0.0"],
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(root, ".pipeline", "deployed.json"), "utf8"))).toHaveProperty(
      ["@monorepo/user-service", "digest"],
      "u1",
    );
  });
});

/** A service that answers 503 on /readiness for its first few polls, then 200 (as a starting service would). */
const SERVER = `const http = require("http");
let polls = 0;
http.createServer((req, res) => {
  if (req.url !== "/readiness") { res.statusCode = 404; return res.end(); }
  polls++;
  res.statusCode = polls > 2 ? 200 : 503;
  res.end(JSON.stringify({ status: polls > 2 ? "ready" : "starting" }));
}).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening on " + process.env.PORT));
process.on("SIGTERM", () => { console.log("draining"); process.exit(0); });
`;

describe("readiness gate", () => {
  const pkg = (start: string) => ({
    dir: "services/user",
    name: "@monorepo/user-service",
    dependencies: {},
    devDependencies: {},
    workspaceDeps: [],
    scripts: { start },
  });

  it("starts the built service on a free port, waits for GET /readiness 200, then stops it", async () => {
    const root = tempDir();
    writeFiles(root, { "services/user/server.js": SERVER });
    const logFile = path.join(root, "readiness.log");
    const { port } = await checkReadiness(pkg("node server.js"), { root, logFile, pollMs: 20 });
    expect(port).toBeGreaterThan(0);
    expect(fs.readFileSync(logFile, "utf8")).toBe(`listening on ${port}\ndraining\n`);
  });

  it("fails when the service exits before it is ready", async () => {
    const root = tempDir();
    writeFiles(root, { "services/user/crash.js": "console.error('stocks.json is torn'); process.exit(3);\n" });
    await expect(checkReadiness(pkg("node crash.js"), { root, logFile: path.join(root, "r.log"), pollMs: 20 })).rejects.toThrow(
      "@monorepo/user-service exited with code 3 before it was ready",
    );
    expect(fs.readFileSync(path.join(root, "r.log"), "utf8")).toContain("stocks.json is torn");
  });

  it("fails when the service cannot even be started", async () => {
    const root = tempDir();
    await expect(checkReadiness(pkg("node server.js"), { root, logFile: path.join(root, "r.log"), pollMs: 20 })).rejects.toThrow(
      /^@monorepo\/user-service could not be started: cannot start \/bin\/sh: .*ENOENT/,
    );
  });

  it("gives up on a service that never gets ready", async () => {
    const root = tempDir();
    writeFiles(root, { "services/user/idle.js": "setInterval(() => {}, 1000);\n" });
    await expect(
      checkReadiness(pkg("node idle.js"), { root, logFile: path.join(root, "r.log"), pollMs: 20, timeoutMs: 300 }),
    ).rejects.toThrow(/did not answer 200 on GET \/readiness within 0.3s/);
  });

  it("stops the service, and what its script started, when the pipeline is interrupted", async () => {
    const root = tempDir();
    writeFiles(root, {
      "services/user/idle.js": "require('fs').writeFileSync('idle.pid', String(process.pid));\nsetInterval(() => {}, 1000);\n",
    });
    const pidFile = path.join(root, "services/user/idle.pid");
    const controller = new AbortController();
    const gate = checkReadiness(pkg("node idle.js"), { root, logFile: path.join(root, "r.log"), pollMs: 20, signal: controller.signal });
    await waitFor(() => fs.existsSync(pidFile), 20_000);
    controller.abort();
    await expect(gate).rejects.toThrow("interrupted");
    expect(isRunning(Number(fs.readFileSync(pidFile, "utf8")))).toBe(false);
  });
});

describe("deploy facts", () => {
  const pkg = { dir: "services/quotes", name: "@fixture/quotes", dependencies: {}, devDependencies: {}, workspaceDeps: [], scripts: {} };

  it("come from the service's package.json, with the health package's readiness path unless it names its own", () => {
    const root = tempDir();
    writeFiles(root, {
      "services/quotes/package.json": { name: "@fixture/quotes", acme: { deploy: { pushSeconds: 3, deploySeconds: 1 } } },
    });
    expect(deployFacts(root, pkg)).toEqual({ pushSeconds: 3, deploySeconds: 1, readinessPath: READINESS_PATH });
    writeFiles(root, {
      "services/quotes/package.json": {
        name: "@fixture/quotes",
        acme: { deploy: { pushSeconds: 3, deploySeconds: 1, readinessPath: "/ready" } },
      },
    });
    expect(deployFacts(root, pkg).readinessPath).toBe("/ready");
  });

  it("name the missing field and the file to add it to", () => {
    const root = tempDir();
    writeFiles(root, { "services/quotes/package.json": { name: "@fixture/quotes", acme: { deploy: { pushSeconds: 3 } } } });
    expect(() => deployFacts(root, pkg)).toThrow(
      'services/quotes/package.json: "acme": {"deploy": {"deploySeconds": <seconds>}} is missing or not a number >= 0',
    );
  });
});

describe("simulated registry", () => {
  const facts = () => ({ pushSeconds: 100, deploySeconds: 10, readinessPath: READINESS_PATH });

  it("remembers the digest of each version it published, across instances, and stops waiting when aborted", async () => {
    const root = tempDir();
    const registry = new SimulatedRegistry(root, facts, { SIMULATION_TIME_SCALE: "0.0001" });
    expect(await registry.publishedDigest("@monorepo/trading-service", "1.0.0")).toBeUndefined();
    await registry.publish({ service: "@monorepo/trading-service", version: "1.0.0", digest: "d1" });
    const reopened = new SimulatedRegistry(root, facts, { SIMULATION_TIME_SCALE: "1" });
    expect(await reopened.publishedDigest("@monorepo/trading-service", "1.0.0")).toBe("d1");
    expect(await reopened.publishedDigest("@monorepo/trading-service", "1.0.1")).toBeUndefined();
    const controller = new AbortController();
    const push = reopened.publish({ service: "@monorepo/trading-service", version: "1.0.1", digest: "d2" }, controller.signal);
    controller.abort(new Error("stop"));
    await expect(push).rejects.toThrow("stop");
    expect(await reopened.publishedDigest("@monorepo/trading-service", "1.0.1")).toBeUndefined();
  });
});
