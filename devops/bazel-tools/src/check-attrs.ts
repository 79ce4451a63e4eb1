import { type BuildFile, type ModuleFile, readBuildFiles, readModuleFile, stringAttr } from "./build-files";
import type { Finding } from "./deps";
import { loadRuleApi, type RuleApiTable } from "./rule-api";
import { ToolError } from "./tools";

/** Bazel's own BUILD functions; they need no load() and api.json does not describe them. */
const NATIVE_KINDS = new Set([
  "alias",
  "config_setting",
  "exports_files",
  "filegroup",
  "genrule",
  "licenses",
  "package",
  "package_group",
  "test_suite",
]);

/** Keyword arguments of MODULE.bazel's built-in functions (Bazel 8). */
const MODULE_BUILTINS: Record<string, string[]> = {
  module: ["name", "version", "compatibility_level", "repo_name", "bazel_compatibility"],
  bazel_dep: ["name", "version", "max_compatibility_level", "repo_name", "dev_dependency"],
  use_extension: ["dev_dependency", "isolate"],
  use_repo: [],
  register_toolchains: ["dev_dependency"],
  register_execution_platforms: ["dev_dependency"],
};

/**
 * (b) Every rule call passes only parameters its pinned rule accepts, none that its macro already
 * sets (a "got multiple values" error), and every mandatory one; every symbol is loaded from the
 * .bzl file that defines it. MODULE.bazel extension tags are checked the same way.
 * The accepted names come from api.json (the port of check_attrs.py).
 */
export function checkAttrs(root: string, buildFiles: BuildFile[] = readBuildFiles(root), api: RuleApiTable = loadRuleApi()): Finding[] {
  const findings: Finding[] = [];
  for (const build of buildFiles) {
    const finding = (message: string) => findings.push({ check: "attrs", file: build.file, message });
    for (const rule of build.rules) {
      if (NATIVE_KINDS.has(rule.kind)) continue;
      const spec = api.rules.get(rule.kind);
      if (!spec) {
        finding(`${rule.label}: ${rule.kind} is not a rule of the pinned rule sets (api.json)`);
        continue;
      }
      const loaded = build.loads.get(rule.kind);
      if (!loaded || loaded.from !== spec.loadFrom || loaded.symbol !== rule.kind) {
        finding(`${rule.label}: ${rule.kind} must be loaded from "${spec.loadFrom}"`);
      }
      const names = [...rule.attrs.keys()];
      for (const name of names.filter((n) => spec.setByMacro.has(n))) {
        finding(`${rule.label}: ${rule.kind} must not set "${name}": the macro sets it itself (duplicate keyword argument)`);
      }
      for (const name of names.filter((n) => !spec.accepted.has(n) && !spec.setByMacro.has(n))) {
        finding(`${rule.label}: ${rule.kind} has no parameter "${name}"`);
      }
      for (const name of [...spec.mandatory].filter((n) => !rule.attrs.has(n))) {
        finding(`${rule.label}: ${rule.kind} needs "${name}"`);
      }
      if (rule.kind === "npm_link_all_packages" && stringAttr(rule, "name") !== "node_modules") {
        finding(`${rule.label}: npm_link_all_packages only accepts name = "node_modules"`);
      }
    }
  }
  findings.push(...checkModuleAttrs(root, api));
  return findings;
}

function checkModuleAttrs(root: string, api: RuleApiTable): Finding[] {
  const findings: Finding[] = [];
  const finding = (message: string) => findings.push({ check: "attrs", file: "MODULE.bazel", message });
  let module: ModuleFile;
  try {
    module = readModuleFile(root);
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    finding(`cannot be read: ${error.message}`);
    return findings;
  }
  for (const call of module.calls) {
    const names = [...call.attrs.keys()];
    const builtin = MODULE_BUILTINS[call.kind];
    if (builtin) {
      for (const name of names.filter((n) => !builtin.includes(n))) finding(`${call.kind} has no parameter "${name}"`);
      continue;
    }
    const [variable, tag] = call.kind.split(".");
    const extension = variable && module.extensions.get(variable);
    if (!extension || !tag) {
      finding(`${call.kind} is neither a MODULE.bazel function nor a tag of an extension from use_extension()`);
      continue;
    }
    const tags = api.extensionTags.get(extension);
    const accepted = tags?.get(tag);
    if (!tags) finding(`${call.kind}: extension ${extension} is not one of the pinned rule sets' (api.json)`);
    else if (!accepted) finding(`${call.kind}: ${extension} has no tag "${tag}"`);
    else for (const name of names.filter((n) => !accepted.has(n))) finding(`${call.kind} has no parameter "${name}"`);
  }
  return findings;
}
