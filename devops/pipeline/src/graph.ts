import type { Workspace } from "@monorepo/workspace-tools";

/** The given packages plus every workspace package they depend on, directly or not (the mirror of withDependents). */
export function withDependencies(workspace: Workspace, names: Iterable<string>): Set<string> {
  const result = new Set<string>();
  const visit = (name: string) => {
    const pkg = workspace.byName.get(name);
    if (!pkg || result.has(name)) return;
    result.add(name);
    pkg.workspaceDeps.forEach(visit);
  };
  for (const name of names) visit(name);
  return result;
}
