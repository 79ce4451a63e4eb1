import fs from "node:fs";
import path from "node:path";
import { OperationalError } from "@monorepo/cli";
import ts from "typescript";

/** A tsconfig after following `extends`, in the shape `tsc --showConfig` prints (what rules_ts validates). */
export interface ResolvedTsconfig {
  file: string;
  compilerOptions: Record<string, unknown>;
  /** The file itself, then each file it extends, nearest first (absolute paths). */
  chain: string[];
}

/** A tsconfig this layout cannot use: the user can act on the message. */
export class TsconfigError extends OperationalError {}

function extendsOf(file: string): string[] {
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new TsconfigError(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  const value = (config as { extends?: string | string[] }).extends;
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((entry) => {
    if (!entry.startsWith("."))
      throw new TsconfigError(`${file}: extends "${entry}" from a package; only relative files are supported here`);
    const target = path.resolve(path.dirname(file), entry);
    return target.endsWith(".json") ? target : `${target}.json`;
  });
}

/** Not in typescript.d.ts, but exported at run time; rules_ts's validator calls it too (it is what --showConfig prints). */
interface TsInternals {
  convertToTSConfig(parsed: ts.ParsedCommandLine, configFileName: string, host: ts.System): { compilerOptions?: Record<string, unknown> };
}

/** Resolves the same way rules_ts's validator does: the compiler API, then convertToTSConfig. */
export function resolveTsconfig(file: string): ResolvedTsconfig {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new TsconfigError(`${abs} not found`);
  const chain: string[] = [];
  const walk = (current: string) => {
    if (chain.includes(current)) throw new TsconfigError(`${current}: extends cycle`);
    chain.push(current);
    for (const parent of extendsOf(current)) walk(parent);
  };
  walk(abs);
  const parsed = ts.getParsedCommandLineOfConfigFile(abs, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new TsconfigError(`${abs}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    },
  });
  // rules_ts ignores "no inputs" (18002/18003): the validation action does not see the sources.
  const fatal = parsed?.errors.filter((e) => e.code !== 18002 && e.code !== 18003) ?? [];
  if (!parsed || fatal.length > 0) {
    throw new TsconfigError(`${abs}: ${fatal.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")).join("; ")}`);
  }
  const shown = (ts as unknown as TsInternals).convertToTSConfig(parsed, abs, ts.sys);
  return { file: abs, compilerOptions: shown.compilerOptions ?? {}, chain };
}

/** ts_project attribute <-> compilerOptions pairs that rules_ts 3.10's validator compares. */
export const MIRRORED_BOOLEANS: ReadonlyArray<{ attr: string; option: string }> = [
  { attr: "allow_js", option: "allowJs" },
  { attr: "declaration_map", option: "declarationMap" },
  { attr: "no_emit", option: "noEmit" },
  { attr: "emit_declaration_only", option: "emitDeclarationOnly" },
  { attr: "resolve_json_module", option: "resolveJsonModule" },
  { attr: "source_map", option: "sourceMap" },
  { attr: "composite", option: "composite" },
  { attr: "declaration", option: "declaration" },
  { attr: "incremental", option: "incremental" },
];

export const MIRRORED_DIRECTORIES: ReadonlyArray<{ attr: string; option: string }> = [
  { attr: "out_dir", option: "outDir" },
  { attr: "declaration_dir", option: "declarationDir" },
  { attr: "root_dir", option: "rootDir" },
];

/**
 * A directory option as the ts_project attribute spells it: relative to the package, without "./".
 * Throws for one outside the package, which rules_ts cannot declare outputs in.
 */
export function packageRelativeDir(resolved: ResolvedTsconfig, option: string): string | undefined {
  const value = resolved.compilerOptions[option];
  if (typeof value !== "string") return undefined;
  const rel = path
    .relative(path.dirname(resolved.file), path.resolve(path.dirname(resolved.file), value))
    .split(path.sep)
    .join("/");
  if (rel === ".." || rel.startsWith("../") || path.isAbsolute(rel)) {
    throw new TsconfigError(
      `${resolved.file}: compilerOptions.${option} is ${value}, outside the package; ts_project writes only inside its package`,
    );
  }
  return rel === "" ? "." : rel;
}

/**
 * The ts_project attributes this layout derives from a tsconfig: every mirrored boolean that is on,
 * but `incremental` when composite turns it on (the validator accepts it unmirrored; `declaration`
 * stays, as the macro declares no .d.ts outputs without it), and the output directories. An outDir is required: outputs go to
 * their own folder (dist/), never next to the sources.
 */
export function mirroredAttributes(resolved: ResolvedTsconfig): Record<string, boolean | string> {
  const options = resolved.compilerOptions;
  const outDir = packageRelativeDir(resolved, "outDir");
  if (outDir === undefined || outDir === ".") {
    throw new TsconfigError(
      `${resolved.file}: compilerOptions.outDir must name the package's output folder (e.g. "dist"), so that no output lands beside its source`,
    );
  }
  const attrs: Record<string, boolean | string> = {};
  for (const { attr, option } of MIRRORED_BOOLEANS) {
    if (options[option] === true && !(option === "incremental" && options.composite === true)) attrs[attr] = true;
  }
  if (options.jsx === "preserve") attrs.preserve_jsx = true;
  for (const { attr, option } of MIRRORED_DIRECTORIES) {
    const dir = packageRelativeDir(resolved, option);
    if (dir !== undefined) attrs[attr] = dir;
  }
  return attrs;
}
