import fs from "node:fs";
import path from "node:path";
import { loadWorkspace } from "@monorepo/workspace";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import type { Finding } from "./deps";

const LOCKFILE = "pnpm-lock.yaml";
const WORKSPACE_FILE = "pnpm-workspace.yaml";
/** rules_js 3.x reads exactly this lockfile format (pnpm 9, 10 and 11 write it). */
export const SUPPORTED_LOCKFILE_VERSION = "9.0";
const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

type Importer = Partial<Record<(typeof DEPENDENCY_FIELDS)[number], Record<string, { specifier?: string }>>>;

interface Lockfile {
  lockfileVersion?: unknown;
  settings?: Record<string, unknown>;
  importers?: Record<string, Importer>;
}

function readLockfile(text: string): Lockfile {
  // pnpm 11 may prepend a document for config dependencies; the lockfile proper has "importers".
  const documents = parseAllDocuments(text).map((d) => d.toJS() as Lockfile | null);
  return documents.find((d) => d && (d.importers || d.lockfileVersion)) ?? {};
}

/**
 * (e) pnpm-lock.yaml is what Bazel reads (never package.json): it must be the version rules_js 3
 * accepts, come with a lifecycle-script allow-list, and agree with every package.json - the same
 * comparison `pnpm install --frozen-lockfile` makes for its importers.
 */
export function checkLockfile(root: string): Finding[] {
  const findings: Finding[] = [];
  const finding = (file: string, message: string) => findings.push({ check: "lockfile", file, message });
  const lockPath = path.join(root, LOCKFILE);
  if (!fs.existsSync(lockPath)) {
    finding(LOCKFILE, "missing: run `pnpm install` and commit it");
    return findings;
  }
  const lock = readLockfile(fs.readFileSync(lockPath, "utf8"));
  if (String(lock.lockfileVersion) !== SUPPORTED_LOCKFILE_VERSION) {
    finding(
      LOCKFILE,
      `lockfileVersion is ${String(lock.lockfileVersion)}; rules_js 3 accepts only '${SUPPORTED_LOCKFILE_VERSION}' (pnpm 9-11)`,
    );
  }
  if (lock.settings?.excludeLinksFromLockfile === true)
    finding(LOCKFILE, "excludeLinksFromLockfile is on; rules_js needs the link: entries of workspace packages");
  if (lock.settings?.injectWorkspacePackages === true)
    finding(LOCKFILE, "injectWorkspacePackages is on; keep workspace packages as link: dependencies");

  const workspaceConfig = (parseYaml(fs.readFileSync(path.join(root, WORKSPACE_FILE), "utf8")) ?? {}) as Record<string, unknown>;
  const rootManifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, unknown>;
  const rootPnpm = (rootManifest.pnpm ?? {}) as Record<string, unknown>;
  const allowBuilds = workspaceConfig.allowBuilds;
  const allowList =
    Array.isArray(workspaceConfig.onlyBuiltDependencies) ||
    (typeof allowBuilds === "object" && allowBuilds !== null) ||
    Array.isArray(rootPnpm.onlyBuiltDependencies);
  if (!allowList) {
    finding(
      WORKSPACE_FILE,
      "no lifecycle-script allow-list (allowBuilds with every value false, or onlyBuiltDependencies: []); rules_js refuses to translate the lockfile without one",
    );
  }
  // rules_js runs the install scripts of the names allowBuilds maps to true; none of ours needs one.
  if (typeof allowBuilds === "object" && allowBuilds !== null) {
    for (const [name, allowed] of Object.entries(allowBuilds as Record<string, unknown>)) {
      if (allowed !== false)
        finding(
          WORKSPACE_FILE,
          `allowBuilds lets ${name} run its install script (${String(allowed)}); map it to false: no dependency may run one`,
        );
    }
  }
  if (workspaceConfig.hoist !== false) {
    finding(
      WORKSPACE_FILE,
      "hoist must be false: rules_js never hoists, so pnpm must not either, or code can import what Bazel will not link",
    );
  }

  const workspace = loadWorkspace(root);
  const importers = lock.importers ?? {};
  const expected = new Map<string, string>([
    [".", "package.json"],
    ...workspace.packages.map((p) => [p.dir, `${p.dir}/package.json`] as [string, string]),
  ]);
  for (const dir of Object.keys(importers).filter((d) => !expected.has(d))) {
    finding(LOCKFILE, `importer ${dir} is no workspace package; run \`pnpm install\``);
  }
  for (const [dir, manifestPath] of expected) {
    const importer = importers[dir];
    if (!importer) {
      finding(LOCKFILE, `has no importer for ${dir}; run \`pnpm install\``);
      continue;
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(root, manifestPath), "utf8")) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const field of DEPENDENCY_FIELDS) {
      const wanted = manifest[field] ?? {};
      const locked = importer[field] ?? {};
      for (const [name, specifier] of Object.entries(wanted)) {
        const entry = locked[name];
        if (!entry) finding(LOCKFILE, `${dir}: ${field}.${name} (${specifier}) from ${manifestPath} is not locked; run \`pnpm install\``);
        else if (entry.specifier !== specifier) {
          finding(
            LOCKFILE,
            `${dir}: ${field}.${name} is ${specifier} in ${manifestPath} but ${String(entry.specifier)} in the lockfile; run \`pnpm install\``,
          );
        }
      }
      for (const name of Object.keys(locked).filter((n) => !(n in wanted))) {
        finding(LOCKFILE, `${dir}: ${field}.${name} is locked but ${manifestPath} no longer lists it; run \`pnpm install\``);
      }
    }
  }
  return findings;
}
