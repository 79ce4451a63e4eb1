/** The shared Bazel settings file at the repository root. */
export const BAZELRC = ".bazelrc";

export interface RcFlag {
  /** "common", "test", ... */
  command: string;
  /** "ci" for `common:ci`, "" without a config. */
  config: string;
  flag: string;
}

/** The flags of a bazelrc, one entry per flag (a line may carry several). */
export function parseBazelrc(text: string): { flags: RcFlag[]; imports: string[]; lastLine: string } {
  const flags: RcFlag[] = [];
  const imports: string[] = [];
  let lastLine = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    lastLine = line;
    const [head, ...rest] = line.split(/\s+/);
    if (head === "import" || head === "try-import") {
      imports.push(line);
      continue;
    }
    const [command, config = ""] = head!.split(":");
    for (const flag of rest) flags.push({ command: command!, config, flag });
  }
  return { flags, imports, lastLine };
}
