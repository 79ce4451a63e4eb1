import { loadWorkspace } from "@monorepo/workspace";
import { TSC_BUILD_SCRIPT } from "../src";
import { REPO_ROOT } from "./helpers";

// Reads every package.json of the checkout: a repo test (a Bazel sandbox holds no checkout).
describe("this repository's packages", () => {
  it("all build with the pipeline's tsc build script, which starts each package from an empty dist/", () => {
    const scripts = loadWorkspace(REPO_ROOT).packages.map((p) => [p.name, p.scripts.build]);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts).toEqual(scripts.map(([name]) => [name, TSC_BUILD_SCRIPT]));
  });
});
