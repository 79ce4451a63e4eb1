import { loadWorkspace, topologicalOrder, WorkspaceError } from "../src";
import { makeWorkspace, sampleWorkspace } from "./fixtures";

describe("loadWorkspace", () => {
  it("finds every package the workspace globs name, sorted by folder", () => {
    const ws = loadWorkspace(sampleWorkspace());
    expect(ws.packages.map((p) => p.dir)).toEqual(["common/logger", "common/service", "devops/tools", "services/trading", "services/user"]);
    expect(ws.byName.get("@monorepo/trading-service")?.workspaceDeps).toEqual(["@monorepo/logger", "@monorepo/service"]);
    expect(ws.byName.get("@monorepo/service")?.dependencies.express).toBe("5.3.0");
  });

  it("explains a missing workspace manifest and a nameless package", () => {
    expect(() => loadWorkspace(makeWorkspace({}))).toThrow(/pnpm-workspace.yaml not found/);
    const root = makeWorkspace({ "pnpm-workspace.yaml": "packages:\n  - libs/*\n", "libs/a/package.json": {} });
    expect(() => loadWorkspace(root)).toThrow(WorkspaceError);
    expect(() => loadWorkspace(root)).toThrow(/libs\/a\/package.json has no "name"/);
  });

  it("refuses globs it would silently misread", () => {
    const root = makeWorkspace({ "pnpm-workspace.yaml": "packages:\n  - libs/**\n" });
    expect(() => loadWorkspace(root)).toThrow(/unsupported workspace glob/);
  });
});

describe("graph queries", () => {
  const ws = loadWorkspace(sampleWorkspace());

  it("orders dependencies before dependents and reports cycles", () => {
    const order = topologicalOrder(ws).map((p) => p.name);
    expect(order.indexOf("@monorepo/logger")).toBeLessThan(order.indexOf("@monorepo/service"));
    expect(order.indexOf("@monorepo/service")).toBeLessThan(order.indexOf("@monorepo/user-service"));
    const cyclic = loadWorkspace(
      makeWorkspace({
        "pnpm-workspace.yaml": "packages:\n  - libs/*\n",
        "libs/a/package.json": { name: "a", dependencies: { b: "workspace:*" } },
        "libs/b/package.json": { name: "b", dependencies: { a: "workspace:*" } },
      }),
    );
    expect(() => topologicalOrder(cyclic)).toThrow(/dependency cycle: a -> b -> a/);
  });
});
