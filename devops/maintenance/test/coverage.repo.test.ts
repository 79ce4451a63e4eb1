import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { runNode } from "@monorepo/testing";
import { tempDir } from "./helpers";

/**
 * `pnpm -F @monorepo/maintenance coverage` reports TypeScript files and lines. Checked on a small
 * package compiled by the checkout's tsc and measured by its jest with the root coverage config, as
 * the script runs them. Bazel runs it only on request (repo_test is manual: a sandbox holds no checkout).
 */
const ROOT = process.env.BUILD_WORKSPACE_DIRECTORY ?? resolve(__dirname, "../../../..");
/** Loading tsc and jest takes seconds on a busy machine. */
const TIMEOUT_MS = 120_000;

// A CLI entry point: jest strips the shebang before it runs a file. Type-only lines vanish from the
// JavaScript and tsc adds its own at the top, so JavaScript line numbers differ from these.
const ENTRY = `#!/usr/bin/env node
export interface Shape {
  sides: number;
}

export type Unit = "cm" | "in";

export function perimeter(shape: Shape, side: number): number {
  return shape.sides * side;
}

export function label(shape: Shape, unit: Unit): string {
  const sides = shape.sides === 1 ? "side" : "sides";
  return \`\${shape.sides} \${sides} in \${unit}\`;
}
`;

const TEST = `const { perimeter } = require("../src/entry.js");

test("measures one function of two", () => {
  expect(perimeter({ sides: 4 }, 2)).toBe(8);
});
`;

/** 1-based lines of ENTRY from the line containing `first` to the next line that is exactly `}`. */
function linesOf(first: string): number[] {
  const lines = ENTRY.split("\n");
  const start = lines.findIndex((line) => line.includes(first));
  const end = lines.indexOf("}", start);
  return Array.from({ length: end - start + 1 }, (_, i) => start + 1 + i);
}

interface FileCoverage {
  fnMap: Record<string, { name: string; line: number }>;
  f: Record<string, number>;
  statementMap: Record<string, { start: { line: number } }>;
  s: Record<string, number>;
}

describe("the coverage script", () => {
  it(
    "reports TypeScript files and TypeScript line numbers, a shebang file included",
    async () => {
      const pkg = tempDir();
      mkdirSync(join(pkg, "src"));
      mkdirSync(join(pkg, "dist", "test"), { recursive: true });
      writeFileSync(join(pkg, "src", "entry.ts"), ENTRY);
      // Laid out as every package is: sources in src/, compiled into dist/, where jest looks for tests.
      writeFileSync(join(pkg, "dist", "test", "entry.test.js"), TEST);
      writeFileSync(
        join(pkg, "tsconfig.json"),
        JSON.stringify({ extends: join(ROOT, "tsconfig.base.json"), compilerOptions: { outDir: "dist", rootDir: "." }, include: ["src"] }),
      );
      writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "coverage-fixture", private: true }));

      const tsc = await runNode(join(ROOT, "node_modules", "typescript", "bin", "tsc"), ["-p", pkg], { timeoutMs: TIMEOUT_MS });
      expect(tsc.stdout + tsc.stderr).toBe("");
      const jest = await runNode(
        join(ROOT, "node_modules", "jest", "bin", "jest.js"),
        [
          ...[
            "--config",
            join(ROOT, "jest.coverage.config.js"),
            "--rootDir",
            pkg,
            "--coverage",
            `--coverageDirectory=${join(pkg, "coverage")}`,
          ],
          ...["--coverageReporters=json", "--coverageReporters=text"],
        ],
        { cwd: pkg, timeoutMs: TIMEOUT_MS },
      );
      expect(jest.code === 0 ? "" : jest.stderr).toBe("");

      const report: Record<string, FileCoverage> = JSON.parse(readFileSync(join(pkg, "coverage", "coverage-final.json"), "utf8"));
      expect(Object.keys(report).map((file) => basename(file))).toEqual(["entry.ts"]);
      const entry = Object.values(report)[0];
      const calls = Object.fromEntries(Object.entries(entry.fnMap).map(([id, fn]) => [fn.name, { line: fn.line, count: entry.f[id] }]));
      expect(calls).toEqual({
        perimeter: { line: linesOf("function perimeter")[0], count: 1 },
        label: { line: linesOf("function label")[0], count: 0 },
      });
      const uncovered = Object.entries(entry.s)
        .filter(([, count]) => count === 0)
        .map(([id]) => entry.statementMap[id].start.line);
      expect(uncovered).toEqual(linesOf("function label"));
      const range = linesOf("function label");
      expect(jest.stdout).toMatch(new RegExp(`^ entry\\.ts .*\\| ${range[0]}-${range.at(-1)} +$`, "m"));
    },
    TIMEOUT_MS,
  );
});
