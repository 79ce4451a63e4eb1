import fs from "node:fs";
import path from "node:path";
import { type BuildFile, listAttr, readBuildFiles, stringAttr } from "./build-files";
import type { Finding } from "./deps";
import { compiledPath } from "./generate";
import { typesPackageFor } from "./imports";
import { type ResolvedTsconfig, resolveTsconfig, TsconfigError } from "./tsconfig";

/** Problems of a package's compiler options that rules_ts, tsc in the sandbox or jest would meet, and the generator copies without judging. */
function optionProblems(resolved: ResolvedTsconfig, hasLibrary: boolean): string[] {
  const options = resolved.compilerOptions;
  const problems: string[] = [];
  if (options.tsBuildInfoFile !== undefined)
    problems.push("compilerOptions.tsBuildInfoFile must not be set: rules_ts declares that output itself");
  if (options.preserveSymlinks === true)
    problems.push("compilerOptions.preserveSymlinks cannot work with rules_js's symlinked node_modules");
  // jest runs the compiled files as CommonJS; ES modules would need jest's experimental VM modules.
  if (String(options.module).toLowerCase() !== "commonjs")
    problems.push(`compilerOptions.module is ${String(options.module)}; tests and binaries expect CommonJS output`);
  if (hasLibrary && options.declaration !== true && options.composite !== true)
    problems.push("compilerOptions.declaration must be true so packages that import this one get its types");
  return problems;
}

/** package.json "main" must be the compiled output of a source the library compiles, or importers get nothing. */
function mainProblem(root: string, build: BuildFile): Finding | undefined {
  const library = build.rules.find((r) => r.kind === "ts_project" && r.name === "tsc");
  const file = path.posix.join(build.pkg, "package.json");
  if (!library || !fs.existsSync(path.join(root, file))) return undefined;
  const manifest = JSON.parse(fs.readFileSync(path.join(root, file), "utf8")) as { main?: unknown };
  const main = typeof manifest.main === "string" ? path.posix.normalize(manifest.main) : "index.js";
  const outDir = stringAttr(library, "out_dir") ?? ".";
  if (listAttr(library, "srcs").some((src) => compiledPath(outDir, src) === main)) return undefined;
  return {
    check: "tsconfig",
    file,
    message: `"main" is ${main}, which is not the output of a source the tsc target compiles (src/x.ts -> ${compiledPath(outDir, "src/x.ts")})`,
  };
}

/**
 * (d) tsconfig: what the generator does not decide about compiling a package. It mirrors each
 * tsconfig.json into the ts_project attributes rules_ts's validator compares, but does not judge the
 * options themselves: CommonJS output, no preserveSymlinks or tsBuildInfoFile, declarations for a
 * library, the @types package of every `types` entry in deps, and a package.json "main" that is
 * compiled output.
 */
export function checkTsconfig(root: string, buildFiles: BuildFile[] = readBuildFiles(root)): Finding[] {
  const findings: Finding[] = [];
  for (const build of buildFiles) {
    const projects = build.rules.filter((r) => r.kind === "ts_project");
    if (projects.length === 0) continue;
    const file = path.posix.join(build.pkg, "tsconfig.json");
    let resolved: ResolvedTsconfig;
    try {
      resolved = resolveTsconfig(path.join(root, file));
    } catch (error) {
      if (!(error instanceof TsconfigError)) throw error;
      findings.push({ check: "tsconfig", file, message: error.message });
      continue;
    }
    const hasLibrary = projects.some((p) => p.name === "tsc");
    for (const message of optionProblems(resolved, hasLibrary)) findings.push({ check: "tsconfig", file, message });
    const types = (resolved.compilerOptions.types as string[] | undefined) ?? [];
    for (const project of projects) {
      const deps = new Set(listAttr(project, "deps"));
      for (const type of types) {
        const needed = `:node_modules/${typesPackageFor(type)}`;
        if (!deps.has(needed))
          findings.push({
            check: "tsconfig",
            file,
            message: `compilerOptions.types names "${type}", so ${project.label} needs ${needed} in deps (TS2688 otherwise): declare it in package.json and import it`,
          });
      }
    }
    const main = mainProblem(root, build);
    if (main) findings.push(main);
  }
  return findings;
}
