import type { Workspace, WorkspacePackage } from "@monorepo/workspace";

export interface DependencyOptions {
  /**
   * Follow only "dependencies", what a package needs when it runs (what ships with a service, what
   * the pipeline itself is made of); by default devDependencies too, what it needs to build and test.
   */
  runtimeOnly?: boolean;
}

/**
 * The given packages plus every workspace package they depend on, directly or not, in depth-first
 * order: each package before its dependencies, those by name.
 */
export function withDependencies(workspace: Workspace, names: Iterable<string>, options: DependencyOptions = {}): Set<string> {
  const depsOf = (pkg: WorkspacePackage) => (options.runtimeOnly ? Object.keys(pkg.dependencies).sort() : pkg.workspaceDeps);
  const result = new Set<string>();
  const visit = (name: string) => {
    const pkg = workspace.byName.get(name);
    if (!pkg || result.has(name)) return;
    result.add(name);
    depsOf(pkg).forEach(visit);
  };
  for (const name of names) visit(name);
  return result;
}
