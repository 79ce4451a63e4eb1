import fs from "node:fs";
import path from "node:path";
import { runBuildozer, ToolError } from "./tools";

/** An attribute value as written in a BUILD file. */
export type AttrValue =
  | { type: "string"; value: string }
  | { type: "list"; value: string[] }
  /** Anything else (True, 42, glob(...), select(...)), as source text. */
  | { type: "expr"; value: string };

export interface BuildRule {
  /** "//services/user:test" */
  label: string;
  /** Bazel package, "" for the root. */
  pkg: string;
  name: string;
  kind: string;
  attrs: Map<string, AttrValue>;
}

export interface BuildFile {
  pkg: string;
  /** Repository-relative path. */
  file: string;
  /** Loaded symbol (as used in the file) -> { from: .bzl label, symbol: exported name }. */
  loads: Map<string, { from: string; symbol: string }>;
  rules: BuildRule[];
}

const SKIPPED = new Set(["node_modules", ".git"]);

/** Repository-relative paths of every file `accept`s, skipping dependency folders and Bazel's output links (bazel-* at the root only). */
export function findFiles(root: string, accept: (name: string) => boolean, dir = ""): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || (dir === "" && entry.name.startsWith("bazel-"))) continue;
    const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...findFiles(root, accept, rel));
    else if (entry.isFile() && accept(entry.name)) found.push(rel);
  }
  return found.sort();
}

export function isBuildFileName(name: string): boolean {
  return name === "BUILD.bazel" || name === "BUILD";
}

/** Every Starlark file Bazel reads in this repository: BUILD files, .bzl files, MODULE.bazel, REPO.bazel. */
export function starlarkFiles(root: string): string[] {
  return findFiles(root, (name) => isBuildFileName(name) || name.endsWith(".bzl") || name === "MODULE.bazel" || name === "REPO.bazel");
}

/** load() statements of a Starlark file (buildifier keeps them one per statement, at the top). */
export function parseLoads(text: string): Map<string, { from: string; symbol: string }> {
  const loads = new Map<string, { from: string; symbol: string }>();
  for (const match of text.matchAll(/^load\(([^)]*)\)/gm)) {
    const args = [...match[1]!.matchAll(/(?:(\w+)\s*=\s*)?"([^"]*)"/g)];
    const from = args[0]?.[2];
    if (from === undefined) continue;
    for (const arg of args.slice(1)) loads.set(arg[1] ?? arg[2]!, { from, symbol: arg[2]! });
  }
  return loads;
}

interface BuildozerField {
  text?: string;
  quoteWhenPrinting?: boolean;
  list?: { strings?: string[] };
  error?: string;
}

/**
 * Exit 3 means "no changes", normal for print. Exit 2 (a file it cannot parse) still prints the
 * other files' records: unless `strict`, keep them (the format check reports the syntax error).
 */
function buildozerJson(root: string, command: string, targets: string[], strict = false): BuildozerField[][] {
  const result = runBuildozer([`-root_dir=${root}`, "-output_json", command, ...targets]);
  const failed = result.status !== 0 && result.status !== 3;
  if (failed && (strict || result.stdout.trim() === "")) throw new ToolError(`buildozer ${command}: ${result.stderr.trim()}`);
  const json = JSON.parse(result.stdout || '{"records":[]}') as { records?: Array<{ fields: BuildozerField[] }> };
  return (json.records ?? []).map((r) => r.fields);
}

function toValue(field: BuildozerField, attr: string): AttrValue | undefined {
  if (field.error) return undefined;
  // buildozer prints `name` (always a string literal) without its quote marker.
  if (attr === "name") return { type: "string", value: field.text ?? "" };
  if (field.list) return { type: "list", value: field.list.strings ?? [] };
  if (field.quoteWhenPrinting) return { type: "string", value: field.text ?? "" };
  return { type: "expr", value: field.text ?? "" };
}

/** buildozer prints a target named after its folder as "//devops/maintenance"; spell it in full. */
function fullLabel(label: string): string {
  if (label.includes(":")) return label;
  return `${label}:${path.posix.basename(label.slice(2))}`;
}

/** Reads every BUILD file's rule calls with buildozer (a real Starlark parser) and its loads. */
export function readBuildFiles(root: string): BuildFile[] {
  const files = findFiles(root, isBuildFileName);
  if (files.length === 0) return [];
  const packages = files.map((f) => path.posix.dirname(f)).map((d) => (d === "." ? "" : d));
  const targets = packages.map((pkg) => `//${pkg}:*`);
  const listed = buildozerJson(root, "print label kind attrs", targets).map(([label, kind, attrs]) => ({
    label: fullLabel(label!.text!),
    kind: kind!.text!,
    names: attrs?.list?.strings ?? [],
  }));
  const attrNames = [...new Set(listed.flatMap((r) => r.names))].sort();
  const values = new Map<string, BuildozerField[]>();
  if (attrNames.length > 0) {
    for (const [label, ...fields] of buildozerJson(root, `print label ${attrNames.join(" ")}`, targets)) {
      values.set(fullLabel(label!.text!), fields);
    }
  }
  return files.map((file, index) => {
    const pkg = packages[index]!;
    const rules = listed
      .filter((r) => r.label.startsWith(`//${pkg}:`))
      .map((r) => {
        const fields = values.get(r.label) ?? [];
        const attrs = new Map<string, AttrValue>();
        attrNames.forEach((name, i) => {
          const value = fields[i] && toValue(fields[i], name);
          if (value && r.names.includes(name)) attrs.set(name, value);
        });
        const name = r.label.slice(r.label.indexOf(":") + 1);
        return { label: r.label, pkg, name, kind: r.kind, attrs };
      });
    return { pkg, file, loads: parseLoads(fs.readFileSync(path.join(root, file), "utf8")), rules };
  });
}

/** A BUILD rule or a MODULE.bazel call. */
export interface HasAttrs {
  attrs: Map<string, AttrValue>;
}

export function stringAttr(rule: HasAttrs, name: string): string | undefined {
  const value = rule.attrs.get(name);
  return value?.type === "string" ? value.value : undefined;
}

export function listAttr(rule: HasAttrs, name: string): string[] {
  const value = rule.attrs.get(name);
  if (value?.type === "list") return value.value;
  if (value?.type === "string") return [value.value];
  return [];
}

/** True for `attr = True`; Starlark also accepts 1. */
export function boolAttr(rule: HasAttrs, name: string): boolean {
  const value = rule.attrs.get(name);
  return value?.type === "expr" && (value.value === "True" || value.value === "1");
}

export interface ModuleCall {
  /** "bazel_dep", "npm.npm_translate_lock", ... */
  kind: string;
  attrs: Map<string, AttrValue>;
}

export interface ModuleFile {
  calls: ModuleCall[];
  /** Variable -> "<extension .bzl label>%<extension name>", from `x = use_extension("...", "...")`. */
  extensions: Map<string, string>;
  /** Repositories each extension variable brings into scope with use_repo(). */
  useRepo: Map<string, string[]>;
}

/** MODULE.bazel's calls with their keyword arguments (buildozer), plus use_extension/use_repo (positional, so read from the text). */
export function readModuleFile(root: string): ModuleFile {
  const text = fs.readFileSync(path.join(root, "MODULE.bazel"), "utf8");
  const listed = buildozerJson(root, "print kind attrs", ["//MODULE.bazel:*"], true).map(([kind, attrs]) => ({
    kind: kind!.text!,
    names: attrs?.list?.strings ?? [],
  }));
  const attrNames = [...new Set(listed.flatMap((c) => c.names))].sort();
  const values = attrNames.length > 0 ? buildozerJson(root, `print ${attrNames.join(" ")}`, ["//MODULE.bazel:*"], true) : [];
  const calls = listed.map((call, index) => {
    const attrs = new Map<string, AttrValue>();
    attrNames.forEach((name, i) => {
      const field = values[index]?.[i];
      const value = field && toValue(field, name);
      if (value && call.names.includes(name)) attrs.set(name, value);
    });
    return { kind: call.kind, attrs };
  });
  const extensions = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+)\s*=\s*use_extension\(\s*"([^"]+)",\s*"([^"]+)"/gm)) extensions.set(m[1]!, `${m[2]}%${m[3]}`);
  const useRepo = new Map<string, string[]>();
  for (const m of text.matchAll(/^use_repo\(\s*(\w+)\s*,([^)]*)\)/gm)) {
    const repos = [...m[2]!.matchAll(/"([^"]+)"/g)].map((r) => r[1]!);
    useRepo.set(m[1]!, [...(useRepo.get(m[1]!) ?? []), ...repos]);
  }
  return { calls, extensions, useRepo };
}
