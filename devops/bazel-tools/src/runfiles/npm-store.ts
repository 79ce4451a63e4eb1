import fs from "node:fs";
import path from "node:path";

/**
 * Third-party packages as rules_js lays them out: one folder per package version in a virtual store,
 * `<key>/node_modules/<name>` holding the package and, beside it, links to exactly the packages it
 * depends on. The lockfile rules_js reads is the one `pnpm install --frozen-lockfile` installed from,
 * and pnpm's virtual store (node_modules/.pnpm) has the same shape, so its folders serve as the store.
 */

/** What a `node_modules/<name>` link that pnpm made points at. */
export type LinkTarget = { kind: "npm"; key: string; name: string } | { kind: "workspace"; dir: string };

export class NpmLayoutError extends Error {
  override name = "NpmLayoutError";
}

interface StorePackage {
  /** The virtual store folder name, e.g. "jest-cli@30.5.2_@types+node@20.19.43". */
  key: string;
  name: string;
  /** Absolute path of `<virtual store>/<key>`. */
  source: string;
  /** Links beside the package: alias -> the store package it points at. */
  deps: Map<string, { key: string; name: string }>;
}

const STORE_ENTRY = /^(.*\/node_modules\/\.pnpm)\/([^/]+)\/node_modules\/((?:@[^/]+\/)?[^/]+)$/;

/** Names in a node_modules folder, scoped ones as "@scope/name"; dot entries (.bin) are pnpm's own. */
function linkNames(dir: string): string[] {
  const names: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    if (entry.name.startsWith("@") && entry.isDirectory()) {
      for (const scoped of fs.readdirSync(path.join(dir, entry.name))) names.push(`${entry.name}/${scoped}`);
    } else {
      names.push(entry.name);
    }
  }
  return names.sort();
}

export class NpmStore {
  private readonly packages = new Map<string, StorePackage>();

  /** `workspaceDirs`: absolute, real paths of the workspace packages, which pnpm links as `link:`. */
  constructor(private readonly workspaceDirs: Map<string, string>) {}

  /** Where `<importer>/node_modules/<name>` points, as pnpm installed it. */
  link(importerDir: string, name: string): LinkTarget {
    const link = path.join(importerDir, "node_modules", name);
    let real: string;
    try {
      real = fs.realpathSync(link);
    } catch {
      throw new NpmLayoutError(`${link} is not installed; run pnpm install`);
    }
    const workspaceDir = this.workspaceDirs.get(real);
    if (workspaceDir !== undefined) return { kind: "workspace", dir: workspaceDir };
    const entry = this.entryAt(real);
    if (!entry) throw new NpmLayoutError(`${link} points at ${real}, which is neither a workspace package nor in pnpm's virtual store`);
    return { kind: "npm", key: entry.key, name: entry.name };
  }

  /** `key` and every store package it depends on, directly or not. */
  closure(key: string): string[] {
    const seen = new Set<string>();
    const visit = (k: string) => {
      if (seen.has(k)) return;
      seen.add(k);
      for (const dep of this.packages.get(k)!.deps.values()) visit(dep.key);
    };
    visit(key);
    return [...seen].sort();
  }

  /** The virtual store folder of `key` (`<store>/<key>`, with node_modules/ inside). */
  sourceOf(key: string): string {
    return this.packages.get(key)!.source;
  }

  /** Reads the store package that `real` (a resolved path) is the folder of, with its dependency links. */
  private entryAt(real: string): StorePackage | undefined {
    const match = STORE_ENTRY.exec(real);
    if (!match) return undefined;
    const [, store, key, name] = match as unknown as [string, string, string, string];
    const known = this.packages.get(key);
    if (known) return known;
    const source = path.join(store, key);
    const pkg: StorePackage = { key, name, source, deps: new Map() };
    this.packages.set(key, pkg);
    const modules = path.join(source, "node_modules");
    for (const alias of linkNames(modules)) {
      if (alias === name) continue;
      const target = fs.realpathSync(path.join(modules, alias));
      const dep = this.entryAt(target);
      if (!dep) throw new NpmLayoutError(`${path.join(modules, alias)} points at ${target}, outside pnpm's virtual store`);
      pkg.deps.set(alias, { key: dep.key, name: dep.name });
    }
    return pkg;
  }
}
