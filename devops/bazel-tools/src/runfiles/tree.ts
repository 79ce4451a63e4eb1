import fs from "node:fs";
import path from "node:path";
import { bootstrapScript, hasteMapModule, jestConfigModule, nodeWrapperScript } from "./generated-files";
import type { JestTestTarget, Runfile } from "./model";

/**
 * One test's execution root, laid out as Bazel lays out a test on Linux:
 *
 *   execroot/_main/bazel-out/k8-fastbuild/bin/   the output tree: copies of this test's files only
 *     <pkg>/<name>_/<name>.runfiles/_main/...    its runfiles: symlinks into the output tree
 *   execroot/_main/external/...                  the launcher's node wrapper and the node binary
 *
 * Both trees are read-only, as in Bazel's sandbox (file modes; root ignores them, so writes are also
 * found afterwards by comparing snapshots). The test's writable folder, TEST_TMPDIR, is outside.
 */

export const WORKSPACE_NAME = "_main";
export const BINDIR = "bazel-out/k8-fastbuild/bin";
const LAUNCHER_REPO = "emulated_launcher";
const NODE_REPO = "nodejs";

export interface TargetTree {
  execroot: string;
  bin: string;
  /** TEST_SRCDIR / RUNFILES_DIR. */
  runfiles: string;
  /** Absolute paths inside the runfiles tree. */
  nodeBinary: string;
  nodeWrapper: string;
  bootstrap: string;
  entryPoint: string;
  /** The generated jest config, relative to the workspace's runfiles folder (the test's working directory). */
  config: string;
}

type Entry = Runfile | { kind: "write"; content: string; mode: number } | { kind: "absolute"; target: string };

function writeEntry(file: string, entry: Entry): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (entry.kind === "copy") fs.copyFileSync(entry.source, file);
  else if (entry.kind === "link") fs.symlinkSync(entry.target, file);
  else if (entry.kind === "store") fs.symlinkSync(entry.source, file);
  else if (entry.kind === "absolute") fs.symlinkSync(entry.target, file);
  else fs.writeFileSync(file, entry.content, { mode: entry.mode });
}

/** Takes the write bits off every file and folder under `dir` (symlinks have none of their own). */
function makeReadOnly(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) makeReadOnly(file);
    else if (entry.isFile()) fs.chmodSync(file, fs.statSync(file).mode & 0o555);
  }
  fs.chmodSync(dir, 0o555);
}

/** Removes a tree made read-only by makeReadOnly (a folder needs its write bit back before its entries can go). */
export function removeTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const restore = (folder: string) => {
    fs.chmodSync(folder, 0o755);
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) if (entry.isDirectory()) restore(path.join(folder, entry.name));
  };
  restore(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Every entry under `dir` with what identifies its content: type, size, modification time, link target. */
export function snapshot(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const abs = path.join(dir, child);
      const stat = fs.lstatSync(abs);
      if (entry.isSymbolicLink()) entries.set(child, `link ${fs.readlinkSync(abs)}`);
      else if (entry.isDirectory()) {
        entries.set(child, "dir");
        walk(child);
      } else entries.set(child, `file ${stat.size} ${stat.mtimeMs} ${stat.mode}`);
    }
  };
  walk("");
  return entries;
}

/** What changed between two snapshots: "added x", "changed y", "removed z". */
export function snapshotChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [file, signature] of after) {
    const was = before.get(file);
    if (was === undefined) changes.push(`added ${file}`);
    else if (was !== signature && signature !== "dir") changes.push(`changed ${file}`);
  }
  for (const file of before.keys()) if (!after.has(file)) changes.push(`removed ${file}`);
  return changes.sort();
}

/**
 * Lays out `target` under `dir`: the output tree, the runfiles tree and what the jest_test rule
 * and the node launcher generate. Third-party packages are links to pnpm's virtual store folders.
 */
export function layOutTarget(dir: string, target: JestTestTarget, nodeBinary: string): TargetTree {
  const execroot = path.join(dir, "execroot", WORKSPACE_NAME);
  const bin = path.join(execroot, BINDIR);
  const runfiles = path.join(bin, target.pkg, `${target.name}_`, `${target.name}.runfiles`);
  const inPackage = (file: string) => path.posix.join(target.pkg, file);
  const fileList = inPackage(`${target.name}__jest.files.json`);
  const hasteMap = inPackage(`_${target.name}_haste_map.cjs`);
  const config = inPackage(`${target.name}__jest.config.mjs`);

  const entries = new Map<string, Entry>(target.runfiles);
  entries.set(fileList, { kind: "write", content: `${JSON.stringify(target.dataFiles, null, 2)}\n`, mode: 0o644 });
  entries.set(hasteMap, { kind: "write", content: hasteMapModule(fileList), mode: 0o644 });
  entries.set(config, {
    kind: "write",
    content: jestConfigModule({ userConfig: target.userConfig, rootDir: target.rootDir, pkg: target.pkg, hasteMap }),
    mode: 0o644,
  });
  for (const [short, entry] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
    const inBin = path.join(bin, short);
    writeEntry(inBin, entry);
    // A relative link resolves within the runfiles tree; everything else in it points into the output tree.
    writeEntry(path.join(runfiles, WORKSPACE_NAME, short), entry.kind === "link" ? entry : { kind: "absolute", target: inBin });
  }

  const external: Array<[string, Entry]> = [
    [`${LAUNCHER_REPO}/node_bin/node`, { kind: "write", content: nodeWrapperScript(), mode: 0o755 }],
    [`${LAUNCHER_REPO}/bootstrap.cjs`, { kind: "write", content: bootstrapScript(), mode: 0o644 }],
    [`${NODE_REPO}/bin/node`, { kind: "absolute", target: nodeBinary }],
  ];
  for (const [short, entry] of external) {
    const inExecroot = path.join(execroot, "external", short);
    writeEntry(inExecroot, entry);
    writeEntry(path.join(runfiles, short), { kind: "absolute", target: inExecroot });
  }
  makeReadOnly(path.join(execroot, "bazel-out"));
  makeReadOnly(path.join(execroot, "external"));

  return {
    execroot,
    bin,
    runfiles,
    nodeBinary: path.join(runfiles, NODE_REPO, "bin", "node"),
    nodeWrapper: path.join(runfiles, LAUNCHER_REPO, "node_bin", "node"),
    bootstrap: path.join(runfiles, LAUNCHER_REPO, "bootstrap.cjs"),
    entryPoint: path.join(runfiles, WORKSPACE_NAME, target.jestCli, "bin", "jest.js"),
    config,
  };
}
