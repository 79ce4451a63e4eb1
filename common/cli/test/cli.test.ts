import { Writable } from "node:stream";
import { Command, Option } from "clipanion";
import * as t from "typanion";
import { BaseCommand, type CliSpec, runCli } from "../src";
import { FIXTURE } from "./fixture-cli";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written; `isTTY` makes it look like a terminal. */
function capture(isTTY: boolean): Writable & { text: string } {
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        stream.text += String(chunk);
        done();
      },
    }),
    { text: "", isTTY },
  );
  return stream;
}

async function run(
  argv: string[],
  options: { tty?: boolean; env?: Record<string, string>; signal?: AbortSignal; spec?: CliSpec } = {},
): Promise<Run> {
  const stdout = capture(options.tty ?? false);
  const stderr = capture(options.tty ?? false);
  const code = await runCli(options.spec ?? FIXTURE, argv, { stdout, stderr, env: options.env ?? {}, signal: options.signal });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const ESCAPE = "\x1b[";

describe("exit codes and error lines", () => {
  it("returns what execute() returns", async () => {
    expect(await run(["greet", "--names", "ann,bob", "--times", "2"])).toEqual({
      code: 0,
      stdout: "hello ann\nhello bob\nhello ann\nhello bob\n",
      stderr: "",
    });
    expect(await run(["fail", "exit-4"])).toEqual({ code: 4, stdout: "", stderr: "" });
  });

  it.each([
    [[], 'fixture: no command given: the commands are greet, fail, wait, flood, sleep (see "fixture --help")'],
    [["deploy"], 'fixture: unknown command "deploy": the commands are greet, fail, wait, flood, sleep (see "fixture --help")'],
    [["greet", "--name", "ann"], 'fixture: Unsupported option name ("--name") (see "fixture greet --help")'],
    [["greet", "extra"], 'fixture: Extraneous positional argument ("extra") (see "fixture greet --help")'],
    [["greet", "--times"], 'fixture: Not enough arguments to option --times (see "fixture greet --help")'],
    [["greet", "--times", "two"], 'fixture: Invalid value for --times: expected a number (got "two") (see "fixture greet --help")'],
    [["greet", "--times", "0"], 'fixture: Invalid value for --times: expected to be at least 1 (got 0) (see "fixture greet --help")'],
    [["greet", "--loud", "--quiet"], 'fixture: mutually exclusive options --loud and --quiet (see "fixture greet --help")'],
    [["fail", "usage"], 'fixture: --when must be a date (see "fixture fail --help")'],
    [
      ["fail", "nothing"],
      'fixture: Invalid value for how: expected one of "usage", "operational", "operational-3", "bug", or "exit-4" (got "nothing") (see "fixture fail --help")',
    ],
  ])("a usage error %j: exit 2, one line on stderr with the help to read", async (argv, line) => {
    expect(await run(argv)).toEqual({ code: 2, stdout: "", stderr: `${line}\n` });
  });

  it("an OperationalError: its message without a stack, exit 1 or its own code", async () => {
    expect(await run(["fail", "operational"])).toEqual({ code: 1, stdout: "", stderr: "fixture: the journal file is gone\n" });
    expect(await run(["fail", "operational-3"])).toEqual({ code: 3, stdout: "", stderr: "fixture: the port is busy\n" });
  });

  it("any other error: the stack, exit 1", async () => {
    const result = await run(["fail", "bug"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fixture: Error: undefined is not a function\n/);
    expect(result.stderr).toMatch(/^ +at FailCommand.execute /m);
  });

  it("an error once the signal has fired: exit 130 and no stack (the interrupt was already announced)", async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await run(["fail", "bug"], { signal: controller.signal })).toEqual({ code: 130, stdout: "", stderr: "" });
  });
});

it("names the flags, not the class fields, when a schema rule is broken", async () => {
  class Publish extends BaseCommand {
    static paths = [["publish"]];
    static usage = Command.Usage({
      description: "Publish",
      details: "--dry-run publishes nothing, so not with --read-only-token.",
      examples: [["Try", "$0 publish --dry-run"]],
    });
    static schema = [t.hasKeyRelationship("dryRun", t.KeyRelationship.Forbids, ["readOnlyToken"], { missingIf: "falsy" })];
    dryRun = Option.Boolean("--dry-run", false);
    readOnlyToken = Option.String("--read-only-token");
    async execute() {}
  }
  const result = await run(["publish", "--dry-run", "--read-only-token", "abc"], { spec: { ...FIXTURE, commands: [Publish] } });
  expect(result).toEqual({
    code: 2,
    stdout: "",
    stderr: 'fixture: option --dry-run forbids using option --read-only-token (see "fixture publish --help")\n',
  });
});

describe("list options", () => {
  it("split on commas, in the order given", async () => {
    expect((await run(["greet", "--names", "cy,ann"])).stdout).toBe("hello cy\nhello ann\n");
  });

  it.each([
    [["--names", "ann,dan"], 'Invalid value for --names[1]: expected one of "ann", "bob", or "cy" (got "dan")'],
    [["--names", ""], 'Invalid value for --names[0]: expected one of "ann", "bob", or "cy" (got an empty string)'],
    [["--names", "ann,ann"], 'Invalid value for --names: "ann" is listed twice'],
    [
      ["--names", "ann", "--names", "bob"],
      "Invalid value for --names: given 2 times; list the values once, comma-separated: --names ann,bob",
    ],
  ])("refuse %j", async (args, message) => {
    expect(await run(["greet", ...args])).toEqual({ code: 2, stdout: "", stderr: `fixture: ${message} (see "fixture greet --help")\n` });
  });
});

describe("--help", () => {
  it("at the top lists every command with its description, exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const result = await run([flag]);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      for (const usage of [
        "fixture greet [--names #0] [--times #0] [--loud] [--quiet]",
        "fixture fail <how>",
        "fixture wait [--stubborn]",
        "fixture flood",
        "fixture sleep",
      ]) {
        expect(result.stdout).toContain(usage);
      }
      expect(result.stdout).toContain("Greet people");
    }
  });

  it("of a command shows its options, details and examples, exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const result = await run(["greet", flag]);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).toContain("--names #0    Who to greet (comma-separated: ann, bob, cy)");
      expect(result.stdout).toContain("Writes one line per name.");
      expect(result.stdout).toContain("$ fixture greet --names ann,bob --times 2");
    }
  });

  it("is required of every command: description, details and examples", async () => {
    class Terse extends BaseCommand {
      static paths = [["terse"]];
      static usage = Command.Usage({ description: "Does things" });
      async execute() {}
    }
    await expect(run(["terse"], { spec: { ...FIXTURE, commands: [Terse] } })).rejects.toThrow(
      "Terse: its Command.Usage needs a description, details and examples",
    );
  });

  it("every command extends BaseCommand, so that its errors are mapped", async () => {
    class Plain extends Command {
      static paths = [["plain"]];
      static usage = BaseCommand.Usage({ description: "d", details: "d", examples: [["e", "$0 plain"]] });
      async execute() {}
    }
    await expect(run(["plain"], { spec: { ...FIXTURE, commands: [Plain as never] } })).rejects.toThrow("Plain must extend BaseCommand");
  });
});

describe("colour", () => {
  const env = { TERM: "xterm-256color" };

  it("on a terminal (stdout and stderr)", async () => {
    expect((await run(["--help"], { tty: true, env })).stdout).toContain(ESCAPE);
  });

  it("never when the output is not a terminal, whatever TERM or FORCE_COLOR say", async () => {
    expect((await run(["--help"], { env: { ...env, FORCE_COLOR: "3" } })).stdout).not.toContain(ESCAPE);
  });

  it("not on a terminal with NO_COLOR", async () => {
    expect((await run(["--help"], { tty: true, env: { ...env, NO_COLOR: "1" } })).stdout).not.toContain(ESCAPE);
  });

  it("not when only stdout is a terminal (stderr redirected to a log)", async () => {
    const stdout = capture(true);
    await runCli(FIXTURE, ["--help"], { stdout, stderr: capture(false), env });
    expect(stdout.text).toContain("Greet people");
    expect(stdout.text).not.toContain(ESCAPE);
  });
});
