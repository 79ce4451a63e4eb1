import { builtinModules } from "node:module";
import ts from "typescript";

/** What one import specifier in a TypeScript file refers to. */
export type ImportTarget =
  | { kind: "relative"; specifier: string }
  | { kind: "builtin"; specifier: string }
  | { kind: "package"; specifier: string; packageName: string };

const BUILTINS = new Set(builtinModules);

/** "@scope/name/sub/path" -> "@scope/name"; "name/sub" -> "name". */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

export function classifyImport(specifier: string): ImportTarget {
  if (specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..") {
    return { kind: "relative", specifier };
  }
  if (specifier.startsWith("node:") || BUILTINS.has(packageNameOf(specifier))) return { kind: "builtin", specifier };
  return { kind: "package", specifier, packageName: packageNameOf(specifier) };
}

/**
 * Every module a TypeScript file refers to: static imports and re-exports (type-only ones too,
 * since tsc still needs their declarations), `import x = require()`, `require()` and `import()`.
 * Uses the compiler's own pre-processor, so strings and comments that look like imports are ignored.
 */
export function importsOf(sourceText: string): ImportTarget[] {
  const { importedFiles } = ts.preProcessFile(sourceText, true, true);
  const seen = new Set<string>();
  const targets: ImportTarget[] = [];
  for (const { fileName } of importedFiles) {
    if (seen.has(fileName)) continue;
    seen.add(fileName);
    targets.push(classifyImport(fileName));
  }
  return targets;
}

/** The name under which DefinitelyTyped publishes types for a package: "@scope/x" -> "@types/scope__x". */
export function typesPackageFor(packageName: string): string {
  return packageName.startsWith("@") ? `@types/${packageName.slice(1).replace("/", "__")}` : `@types/${packageName}`;
}
