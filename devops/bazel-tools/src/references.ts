import fs from "node:fs";
import path from "node:path";
import type { Workspace, WorkspacePackage } from "@monorepo/workspace";
import ts from "typescript";
import { TsconfigError } from "./tsconfig";

/** The root solution file: `tsc --build` there builds every package, dependencies first. */
export const SOLUTION_TSCONFIG = "tsconfig.json";

function hasTsconfig(root: string, pkg: WorkspacePackage): boolean {
  return fs.existsSync(path.join(root, pkg.dir, "tsconfig.json"));
}

/**
 * The packages a package's tsconfig references: the workspace packages it depends on (dependencies
 * and devDependencies, as its tests compile in the same project) that have a tsconfig.json, by folder.
 */
export function referencedPackages(workspace: Workspace, pkg: WorkspacePackage): WorkspacePackage[] {
  return pkg.workspaceDeps
    .map((name) => workspace.byName.get(name)!)
    .filter((dep) => hasTsconfig(workspace.root, dep))
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

function render(config: Record<string, unknown>): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The package's tsconfig.json with its `references` set from the workspace graph; every other field
 * is kept as written (comments are not: the file is rewritten as plain JSON).
 */
export function packageTsconfigText(workspace: Workspace, pkg: WorkspacePackage): string {
  const file = path.join(workspace.root, pkg.dir, "tsconfig.json");
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new TsconfigError(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  const references = referencedPackages(workspace, pkg).map((dep) => ({ path: path.posix.relative(pkg.dir, dep.dir) }));
  const rest: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  delete rest.references;
  return render(references.length > 0 ? { ...rest, references } : rest);
}

/** The root solution tsconfig.json: no files of its own, a reference to every package. */
export function solutionTsconfigText(workspace: Workspace): string {
  const references = workspace.packages.filter((pkg) => hasTsconfig(workspace.root, pkg)).map((pkg) => ({ path: pkg.dir }));
  return render({ files: [], references });
}
