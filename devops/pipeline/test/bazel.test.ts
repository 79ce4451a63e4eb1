import fs from "node:fs";
import path from "node:path";
import { bazeliskHome, probeBazel } from "../src/bazel";
import { tempDir, writeFiles } from "./helpers";

// The engine probe against a stand-in bazelisk (a script that logs its calls) and a bazelisk cache
// folder with or without a downloaded Bazel.

function workspace(): { root: string; calls: string } {
  const root = tempDir();
  const calls = path.join(root, "calls.log");
  writeFiles(root, { "MODULE.bazel": "", "node_modules/.bin/bazel": `#!/bin/sh\necho "$*" >> ${calls}\necho bazel 8.7.0\n` });
  fs.chmodSync(path.join(root, "node_modules/.bin/bazel"), 0o755);
  return { root, calls };
}

describe("probeBazel", () => {
  it("does not start bazelisk when it has downloaded no Bazel", async () => {
    const { root, calls } = workspace();
    const home = tempDir();
    writeFiles(home, { "downloads/metadata/bazelbuild/bazel-8.7.0-linux-x86_64": "" });
    expect(await probeBazel(root, 5000, undefined, { BAZELISK_HOME: home })).toEqual({
      usable: false,
      detail: `bazelisk has downloaded no Bazel into ${home} (--engine bazel lets it download)`,
    });
    expect(fs.existsSync(calls)).toBe(false);
  });

  it.each([["downloads/bazelbuild/bazel-8.7.0-linux-x86_64/bin/bazel"], ["downloads/sha256/0a1b2c/bin/bazel"]])(
    "asks `bazel --version` once bazelisk holds %s",
    async (download) => {
      const { root, calls } = workspace();
      const home = tempDir();
      writeFiles(home, { [download]: "" });
      expect(await probeBazel(root, 5000, undefined, { ...process.env, BAZELISK_HOME: home })).toEqual({
        usable: true,
        detail: "bazel 8.7.0",
      });
      expect(fs.readFileSync(calls, "utf8")).toBe("--version\n");
    },
  );
});

describe("bazeliskHome", () => {
  it("is BAZELISK_HOME when set, else bazelisk in the user cache folder", () => {
    expect(bazeliskHome({ BAZELISK_HOME: "/opt/bazelisk", HOME: "/home/u" })).toBe("/opt/bazelisk");
    if (process.platform === "linux") {
      expect(bazeliskHome({ HOME: "/home/u" })).toBe("/home/u/.cache/bazelisk");
      expect(bazeliskHome({ HOME: "/home/u", XDG_CACHE_HOME: "/var/cache/u" })).toBe("/var/cache/u/bazelisk");
    }
  });
});
