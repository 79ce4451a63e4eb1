/**
 * Just enough Starlark to write BUILD files: calls with keyword arguments whose values are
 * strings, booleans and lists of strings. Layout (argument order, list sorting, wrapping) is left
 * to buildifier, which every generated file goes through.
 */
export type StarlarkValue = string | boolean | string[];

export interface RuleCall {
  kind: string;
  /** Keyword arguments; `undefined` values are left out so callers can spread optional ones. */
  args: Record<string, StarlarkValue | undefined>;
  /** Comments written above the call, one paragraph each, e.g. why a test is tagged manual. */
  comments?: string[];
}

export interface StarlarkFile {
  /** Comment lines at the top of the file (without "# "). */
  header: string[];
  /** load label -> symbols loaded from it. */
  loads: Map<string, Set<string>>;
  calls: RuleCall[];
}

const COMMENT_WIDTH = 100;

/** Splits a comment into "# "-prefixed lines of at most COMMENT_WIDTH characters (long words stay whole). */
export function commentLines(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "#" && line.length + 1 + word.length > COMMENT_WIDTH) {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  if (line !== "#") lines.push(line);
  return lines;
}

function literal(value: StarlarkValue): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return JSON.stringify(value);
  return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
}

export function renderCall(call: RuleCall): string {
  const args = Object.entries(call.args)
    .filter((entry): entry is [string, StarlarkValue] => entry[1] !== undefined)
    .map(([key, value]) => `    ${key} = ${literal(value)},`);
  const comments = (call.comments ?? [])
    .flatMap(commentLines)
    .map((line) => `${line}\n`)
    .join("");
  if (args.length === 1) return `${comments}${call.kind}(${args[0]!.trim().replace(/,$/, "")})\n`;
  return `${comments}${call.kind}(\n${args.join("\n")}\n)\n`;
}

export function renderFile(file: StarlarkFile): string {
  const header = file.header.map((line) => `# ${line}\n`).join("");
  const loads = [...file.loads.entries()]
    .map(([label, symbols]) => `load(${[label, ...[...symbols].sort()].map((s) => JSON.stringify(s)).join(", ")})\n`)
    .join("");
  return [header, loads, ...file.calls.map(renderCall)].filter((part) => part !== "").join("\n");
}
