import fs from "node:fs";
import path from "node:path";
import { importsOf, typesPackageFor } from "./imports";
import { type PackageLayout, resolveRelativeImport } from "./layout";

/** Something a check or the generator found wrong, pointing at the file to fix. */
export interface Finding {
  check: string;
  file: string;
  message: string;
}

export interface ProjectDeps {
  /** Labels for the ts_project's `deps`, e.g. ":node_modules/express", ":tsc". */
  deps: Set<string>;
  findings: Finding[];
}

/** Type packages every file of a kind sees without importing them (globals such as `process` or `describe`). */
export const AMBIENT_TYPES = {
  library: ["@types/node"],
  test: ["@types/jest", "@types/node"],
} as const;

function declared(layout: PackageLayout): Map<string, "dependencies" | "devDependencies"> {
  const map = new Map<string, "dependencies" | "devDependencies">();
  for (const name of Object.keys(layout.pkg.devDependencies)) map.set(name, "devDependencies");
  for (const name of Object.keys(layout.pkg.dependencies)) map.set(name, "dependencies");
  return map;
}

/**
 * The `deps` a ts_project needs, derived Gazelle-style from what its files import:
 * a package import needs `:node_modules/<pkg>` (and its `@types/` package when package.json has one),
 * a relative import into another ts_project of the package needs that project (`ownerOf` says
 * which project compiles a package-relative file). The project named "tsc" is the library.
 * Also reports imports that cannot work under Bazel (undeclared packages, library code importing
 * devDependencies, relative imports leaving the package).
 */
export function projectDeps(
  root: string,
  layout: PackageLayout,
  project: string,
  files: string[],
  ownerOf: (file: string) => string | undefined,
): ProjectDeps {
  const pkgJson = `${layout.pkg.dir}/package.json`;
  const declaredDeps = declared(layout);
  const isLibrary = project === "tsc";
  const deps = new Set<string>();
  const findings: Finding[] = [];
  const finding = (file: string, message: string) => findings.push({ check: "generate", file: `${layout.pkg.dir}/${file}`, message });
  const needPackage = (file: string, name: string) => {
    const where = declaredDeps.get(name);
    if (!where) {
      finding(file, `imports "${name}", which ${pkgJson} does not declare, so :node_modules/${name} does not exist`);
      return;
    }
    if (isLibrary && where === "devDependencies") {
      finding(
        file,
        `library code imports "${name}" from devDependencies; rules_js links only "dependencies" into packages that depend on this one - move it in ${pkgJson}`,
      );
    }
    deps.add(`:node_modules/${name}`);
  };
  for (const ambient of isLibrary ? AMBIENT_TYPES.library : AMBIENT_TYPES.test) {
    if (declaredDeps.has(ambient)) deps.add(`:node_modules/${ambient}`);
  }
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, layout.pkg.dir, file), "utf8");
    for (const target of importsOf(text)) {
      if (target.kind === "builtin") {
        if (!declaredDeps.has("@types/node")) finding(file, `imports "${target.specifier}" but ${pkgJson} does not declare @types/node`);
        continue;
      }
      if (target.kind === "package") {
        needPackage(file, target.packageName);
        const types = typesPackageFor(target.packageName);
        if (declaredDeps.has(types)) needPackage(file, types);
        continue;
      }
      const resolved = resolveRelativeImport(file, target.specifier, (candidate) => ownerOf(candidate) !== undefined);
      if (!resolved) {
        const leaves = path.posix.normalize(path.posix.join(path.posix.dirname(file), target.specifier)).startsWith("../");
        finding(
          file,
          leaves
            ? `imports "${target.specifier}", outside its package; import other packages by name (e.g. "@monorepo/logger")`
            : `imports "${target.specifier}", which is no TypeScript source of this package`,
        );
        continue;
      }
      const owner = ownerOf(resolved)!;
      if (owner === project) continue;
      if (isLibrary) {
        finding(file, `library code imports test file "${resolved}"`);
        continue;
      }
      deps.add(`:${owner}`);
    }
  }
  return { deps, findings };
}
