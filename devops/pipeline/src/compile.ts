import path from "node:path";
import type * as TypeScript from "typescript";

/** The build script every package has; the pipeline runs it in-process (see SharedCompiler). */
export const TSC_BUILD_SCRIPT = "tsc -p tsconfig.json";

export interface CompileResult {
  ok: boolean;
  /** tsc's own non-pretty format ("src/a.ts(3,1): error TS2304: ..."), file names relative to the package. */
  diagnostics: string;
  durationMs: number;
}

/** A declaration file or library that no package build writes: safe to parse once for the whole run. */
function isShareable(fileName: string): boolean {
  return fileName.split(/[\\/]/).includes("node_modules");
}

/**
 * Does what `tsc -p tsconfig.json` does in a package folder (same compiler, same tsconfig, same
 * outputs and diagnostics, the same exit status as ok or not), for many packages in one process.
 * A separate tsc spends most of its ~2 s per package parsing and binding the same ~60,000 lines
 * of declarations (the ES libraries, @types/node, jest's types); here every program shares those
 * SourceFiles, as an editor's language service does across program versions. Only files under
 * node_modules are shared: a package's own sources and its workspace deps' freshly emitted .d.ts
 * are read anew by each program.
 */
export class SharedCompiler {
  private readonly sourceFiles = new Map<string, TypeScript.SourceFile>();
  // Loaded on the first compile: the compiler is 9 MB of JavaScript, and most runs (a usage error,
  // no change, cd with everything built) never compile; it doubled the CLI's start-up.
  private ts?: typeof TypeScript;

  /** How many shared SourceFiles the compiled programs reused (reported by the tests). */
  reused = 0;

  compile(packageDir: string): CompileResult {
    const started = Date.now();
    const ts = (this.ts ??= require("typescript") as typeof TypeScript);
    const configErrors: TypeScript.Diagnostic[] = [];
    const config = ts.getParsedCommandLineOfConfigFile(path.join(packageDir, "tsconfig.json"), undefined, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => configErrors.push(diagnostic),
    });
    const formatHost: TypeScript.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => packageDir,
      getNewLine: () => "\n",
    };
    // tsc exits 0 only without errors, and without any diagnostic when it emitted nothing.
    const finish = (diagnostics: readonly TypeScript.Diagnostic[], emitSkipped: boolean): CompileResult => ({
      ok: !diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error) && !(emitSkipped && diagnostics.length > 0),
      diagnostics: ts.formatDiagnostics(diagnostics, formatHost),
      durationMs: Date.now() - started,
    });
    if (!config) return finish(configErrors, true);

    const host = ts.createCompilerHost(config.options);
    const readSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, onError, shouldCreateNewSourceFile) => {
      if (!isShareable(fileName)) return readSourceFile(fileName, languageVersion, onError, shouldCreateNewSourceFile);
      const settings = typeof languageVersion === "object" ? languageVersion : { languageVersion };
      const key = `${fileName}\0${settings.languageVersion}\0${settings.impliedNodeFormat}\0${settings.jsDocParsingMode}`;
      const cached = this.sourceFiles.get(key);
      if (cached) {
        this.reused++;
        return cached;
      }
      const file = readSourceFile(fileName, languageVersion, onError, shouldCreateNewSourceFile);
      if (file) this.sourceFiles.set(key, file);
      return file;
    };
    const program = ts.createProgram({
      rootNames: config.fileNames,
      options: config.options,
      projectReferences: config.projectReferences,
      configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config),
      host,
    });
    // The order and the short-circuits of tsc's own emitFilesAndReportErrors: syntax errors alone
    // when there are any, semantic ones only without global ones; then emit, whatever the errors.
    const diagnostics = [...program.getConfigFileParsingDiagnostics()];
    const clean = () => diagnostics.length === program.getConfigFileParsingDiagnostics().length;
    diagnostics.push(...program.getSyntacticDiagnostics());
    if (clean()) {
      diagnostics.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
      if (clean()) diagnostics.push(...program.getSemanticDiagnostics());
    }
    const emitted = program.emit();
    diagnostics.push(...emitted.diagnostics);
    return finish(ts.sortAndDeduplicateDiagnostics(diagnostics), emitted.emitSkipped);
  }
}
