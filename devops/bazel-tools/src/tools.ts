import { spawnSync } from "node:child_process";
import { OperationalError } from "@monorepo/cli";

/**
 * buildifier and buildozer come from their npm packages, which ship native binaries for every
 * platform and pick one in `getNativeBinary()`. The packages have no type declarations, hence
 * the typed require.
 */
interface NativeToolPackage {
  getNativeBinary(): unknown;
}

/** buildifier or buildozer cannot run or refuses a file: the user can act on the message. */
export class ToolError extends OperationalError {}

function nativeBinary(pkg: NativeToolPackage, tool: string): string {
  const binary = pkg.getNativeBinary();
  if (typeof binary !== "string") throw new ToolError(`${tool} has no native binary for ${process.platform}/${process.arch}`);
  return binary;
}

export function buildifierBinary(): string {
  return nativeBinary(require("@bazel/buildifier/buildifier.js") as NativeToolPackage, "buildifier");
}

export function buildozerBinary(): string {
  return nativeBinary(require("@bazel/buildozer/buildozer.js") as NativeToolPackage, "buildozer");
}

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

function run(binary: string, args: string[], input?: string): ToolResult {
  const result = spawnSync(binary, args, { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new ToolError(`${binary}: ${result.error.message}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

export function runBuildifier(args: string[], input?: string): ToolResult {
  return run(buildifierBinary(), args, input);
}

export function runBuildozer(args: string[]): ToolResult {
  return run(buildozerBinary(), args);
}

/** Formats Starlark text the way `buildifier` would rewrite the file at `path` (its name picks BUILD/MODULE/bzl rules). */
export function formatStarlark(text: string, path: string): string {
  const result = runBuildifier([`-path=${path}`], text);
  if (result.status !== 0) throw new ToolError(`buildifier could not format ${path}: ${result.stderr.trim()}`);
  return result.stdout;
}
