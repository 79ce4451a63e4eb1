import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { SharedCompiler } from "../src";
import { tempDir, writeFiles } from "./helpers";

// Real compiles with the pinned TypeScript: a few seconds each on a loaded machine.
jest.setTimeout(60_000);

// No DOM library and no @types: each compile reads a few thousand lines, not sixty thousand.
const COMPILER_OPTIONS = { target: "ES2022", lib: ["ES2022"], types: [], module: "commonjs", strict: true, declaration: true, sourceMap: true };

/** A package folder: tsconfig.json and src/ files. */
function pkg(files: Record<string, string>, types: string[] = []): string {
  const dir = tempDir("compile-test-");
  writeFiles(dir, { "tsconfig.json": { compilerOptions: { ...COMPILER_OPTIONS, types }, include: ["src"] }, ...files });
  return dir;
}

/** Every file tsc wrote, by path relative to the package, with its content. */
function outputs(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of fs.readdirSync(path.join(dir, "src"), { recursive: true, encoding: "utf8" }).sort()) {
    if (/\.(js|js\.map|d\.ts)$/.test(file)) out[file] = fs.readFileSync(path.join(dir, "src", file), "utf8");
  }
  return out;
}

function tsc(dir: string): { code: number; output: string } {
  try {
    return { code: 0, output: execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8" }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { code: failed.status, output: failed.stdout };
  }
}

const SOURCES = {
  "src/index.ts": 'import { greet } from "./greet";\nexport const message: string = greet("ACME");\n',
  "src/greet.ts": "/** Says hello. */\nexport function greet(name: string): string {\n  return `hello ${name}`;\n}\n",
};

describe("SharedCompiler", () => {
  it("writes the very files `tsc -p tsconfig.json` writes", () => {
    const byTsc = pkg(SOURCES);
    const shared = pkg(SOURCES);
    expect(tsc(byTsc).code).toBe(0);
    const result = new SharedCompiler().compile(shared);
    expect(result).toMatchObject({ ok: true, diagnostics: "" });
    expect(Object.keys(outputs(shared))).toEqual(["greet.d.ts", "greet.js", "greet.js.map", "index.d.ts", "index.js", "index.js.map"]);
    expect(outputs(shared)).toEqual(outputs(byTsc));
  });

  it("fails on a type error with tsc's message, and still emits as tsc does", () => {
    const files = { ...SOURCES, "src/index.ts": 'import { greet } from "./greet";\nexport const count: number = greet("ACME");\n' };
    const byTsc = pkg(files);
    const shared = pkg(files);
    const reference = tsc(byTsc);
    expect(reference.code).toBe(2);
    const result = new SharedCompiler().compile(shared);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toBe(reference.output);
    expect(result.diagnostics).toBe("src/index.ts(2,14): error TS2322: Type 'string' is not assignable to type 'number'.\n");
    expect(outputs(shared)).toEqual(outputs(byTsc));
  });

  it("reports only the syntax errors when there are any, like tsc", () => {
    const files = { "src/index.ts": "export const a: number = 'x';\nexport const b = (;\n" };
    const reference = tsc(pkg(files));
    const result = new SharedCompiler().compile(pkg(files));
    expect(result.diagnostics).toBe(reference.output);
    expect(result.diagnostics).toMatch(/^src\/index\.ts\(2,19\): error TS1109/);
    expect(result.diagnostics).not.toContain("TS2322");
  });

  it("explains a missing or broken tsconfig.json", () => {
    const compiler = new SharedCompiler();
    expect(compiler.compile(tempDir())).toMatchObject({ ok: false, diagnostics: expect.stringMatching(/error TS5083: Cannot read file '.*tsconfig\.json'/) });
    const broken = pkg({ "src/index.ts": "export {};\n" });
    fs.writeFileSync(path.join(broken, "tsconfig.json"), '{ "compilerOptions": { "target": "ES1999" } }');
    expect(compiler.compile(broken)).toMatchObject({ ok: false, diagnostics: expect.stringContaining("error TS6046") });
  });

  it("parses what lives under node_modules once per run, and a package's own files every time", () => {
    const declarations = "node_modules/@types/ext/index.d.ts";
    const dir = pkg(
      {
        "src/index.ts": "export const fromLocal: number = localValue;\nexport const fromModules: number = installedValue;\n",
        "src/local.d.ts": "declare const localValue: number;\n",
        [declarations]: "declare const installedValue: number;\n",
      },
      ["ext"],
    );
    const compiler = new SharedCompiler();
    expect(compiler.compile(dir)).toMatchObject({ ok: true, diagnostics: "" });
    const afterFirst = compiler.reused;

    // A package's own declarations change between builds (a dependency was rebuilt): seen.
    fs.writeFileSync(path.join(dir, "src/local.d.ts"), "declare const localValue: string;\n");
    const second = compiler.compile(dir);
    expect(second.diagnostics).toContain("src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.");
    // Libraries and installed declarations came from the first parse; nothing rebuilds them mid-run.
    expect(compiler.reused).toBeGreaterThan(afterFirst);
    fs.writeFileSync(path.join(dir, declarations), "declare const installedValue: string;\n");
    fs.writeFileSync(path.join(dir, "src/local.d.ts"), "declare const localValue: number;\n");
    expect(compiler.compile(dir)).toMatchObject({ ok: true, diagnostics: "" });
    // A new compiler (the next run) reads them afresh.
    expect(new SharedCompiler().compile(dir).diagnostics).toContain("src/index.ts(2,14): error TS2322");
  });
});
