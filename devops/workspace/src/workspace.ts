import fs from "node:fs";
import path from "node:path";
import { OperationalError } from "@monorepo/cli";
import { parse as parseYaml } from "yaml";

/** One pnpm workspace project, which is also one Bazel package. */
export interface WorkspacePackage {
  /** Folder relative to the workspace root, with forward slashes: "services/user". */
  dir: string;
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
  /** Names of the workspace packages this one depends on (dependencies and devDependencies). */
  workspaceDeps: string[];
}

export interface Workspace {
  root: string;
  /** Sorted by dir, so every listing is stable. */
  packages: WorkspacePackage[];
  byName: Map<string, WorkspacePackage>;
}

/** A workspace the model cannot read: the user can act on the message. */
export class WorkspaceError extends OperationalError {}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new WorkspaceError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function stringRecord(value: unknown): Record<string, string> {
  return value && typeof value === "object" ? (value as Record<string, string>) : {};
}

/** Expands pnpm-workspace.yaml's `packages` globs; only the `dir/*` and plain `dir` forms are used here. */
function expandPackageGlobs(root: string, globs: string[]): string[] {
  const dirs: string[] = [];
  for (const glob of globs) {
    if (glob.startsWith("!")) throw new WorkspaceError(`unsupported negated workspace glob "${glob}"`);
    if (glob.endsWith("/*")) {
      const parent = glob.slice(0, -2);
      const abs = path.join(root, parent);
      if (!fs.existsSync(abs)) continue;
      for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
        if (entry.isDirectory() && fs.existsSync(path.join(abs, entry.name, "package.json"))) dirs.push(`${parent}/${entry.name}`);
      }
    } else if (glob.includes("*")) {
      throw new WorkspaceError(`unsupported workspace glob "${glob}": use "dir/*" or a plain folder`);
    } else if (fs.existsSync(path.join(root, glob, "package.json"))) {
      dirs.push(glob.replace(/\/$/, ""));
    }
  }
  return [...new Set(dirs)].sort();
}

/** Reads the workspace the way pnpm does: pnpm-workspace.yaml's globs, then each package.json. */
export function loadWorkspace(root: string): Workspace {
  const manifest = path.join(root, "pnpm-workspace.yaml");
  if (!fs.existsSync(manifest)) throw new WorkspaceError(`${manifest} not found: is ${root} the workspace root?`);
  const config = parseYaml(fs.readFileSync(manifest, "utf8")) as { packages?: string[] } | null;
  const globs = config?.packages ?? [];
  const raw = expandPackageGlobs(root, globs).map((dir) => {
    const json = readJson(path.join(root, dir, "package.json"));
    if (typeof json.name !== "string") throw new WorkspaceError(`${dir}/package.json has no "name"`);
    return {
      dir,
      name: json.name,
      dependencies: stringRecord(json.dependencies),
      devDependencies: stringRecord(json.devDependencies),
      scripts: stringRecord(json.scripts),
    };
  });
  const names = new Set(raw.map((p) => p.name));
  const packages = raw.map((p) => ({
    ...p,
    workspaceDeps: Object.keys({ ...p.dependencies, ...p.devDependencies })
      .filter((dep) => names.has(dep))
      .sort(),
  }));
  return { root, packages, byName: new Map(packages.map((p) => [p.name, p])) };
}

/** Packages in dependency order (dependencies first); throws on a cycle. */
export function topologicalOrder(workspace: Workspace): WorkspacePackage[] {
  const order: WorkspacePackage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (p: WorkspacePackage, trail: string[]) => {
    if (state.get(p.name) === "done") return;
    if (state.get(p.name) === "visiting") throw new WorkspaceError(`dependency cycle: ${[...trail, p.name].join(" -> ")}`);
    state.set(p.name, "visiting");
    for (const dep of p.workspaceDeps) visit(workspace.byName.get(dep)!, [...trail, p.name]);
    state.set(p.name, "done");
    order.push(p);
  };
  for (const p of workspace.packages) visit(p, []);
  return order;
}
