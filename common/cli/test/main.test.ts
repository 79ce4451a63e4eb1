import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { type RunNodeOptions, runNode } from "@monorepo/testing";

// The fixture CLI as a real process (runMain): exit codes, signals, a closed stdout, piped output.
const FIXTURE_CLI = path.join(__dirname, "fixture-cli.js");
/** Only a guard: a process that ignored the interrupt would otherwise sleep its minute. */
const GUARD = { timeoutMs: 30_000 };

const run = (args: string[], options: RunNodeOptions = {}) => runNode(FIXTURE_CLI, args, { ...GUARD, ...options });

/** Calls `then` once the stream has written text containing `text`. */
function onceWritten(stream: NodeJS.ReadableStream, text: string, then: () => void): void {
  let seen = "";
  const listener = (chunk: Buffer) => {
    seen += chunk.toString();
    if (!seen.includes(text)) return;
    stream.off("data", listener);
    then();
  };
  stream.on("data", listener);
}

const interruptOnce = (line: string) => (child: ChildProcess) => onceWritten(child.stdout!, line, () => child.kill("SIGINT"));

describe("runMain", () => {
  it("exits with the command's code; a usage error exits 2 with one line", async () => {
    expect(await run(["greet", "--names", "bob"])).toMatchObject({ code: 0, stdout: "hello bob\n", stderr: "" });
    expect(await run(["greet", "--names", "bob", "--loud", "--quiet"])).toMatchObject({
      code: 2,
      stdout: "",
      stderr: 'fixture: mutually exclusive options --loud and --quiet (see "fixture greet --help")\n',
    });
    expect(await run([])).toMatchObject({ code: 2, stdout: "", stderr: expect.stringMatching(/^fixture: no command given: [^\n]*\n$/) });
  });

  it("writes no colour into a pipe, even with FORCE_COLOR and a colour TERM", async () => {
    const help = await run(["greet", "--help"], { env: { FORCE_COLOR: "3", TERM: "xterm-256color" } });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("$ fixture greet --names ann,bob --times 2");
    expect(help.stdout).not.toContain("\x1b[");
  });

  it("an interruptible command stops on SIGINT, cleans up, and exits 130 without a stack", async () => {
    const result = await run(["wait"], { whileRunning: interruptOnce("waiting") });
    expect(result).toMatchObject({
      code: 130,
      signal: null,
      stdout: "waiting\n",
      stderr: "fixture: SIGINT received, stopping; SIGINT again exits at once\ncleaned up\n",
    });
  });

  it("a second SIGINT exits at once, without waiting for the cleanup", async () => {
    const result = await run(["wait", "--stubborn"], {
      whileRunning: (child) => {
        interruptOnce("waiting")(child);
        onceWritten(child.stderr!, "stopping", () => child.kill("SIGINT"));
      },
    });
    expect(result).toMatchObject({ code: 130, signal: null, stderr: "fixture: SIGINT received, stopping; SIGINT again exits at once\n" });
  });

  it("SIGTERM interrupts too", async () => {
    const result = await run(["wait"], { whileRunning: (child) => onceWritten(child.stdout!, "waiting", () => child.kill("SIGTERM")) });
    expect(result).toMatchObject({ code: 130, stderr: "fixture: SIGTERM received, stopping; SIGTERM again exits at once\ncleaned up\n" });
  });

  it("a command that is not interruptible ends at once on SIGINT, exit 130", async () => {
    const result = await run(["sleep"], { whileRunning: interruptOnce("sleeping") });
    expect(result).toMatchObject({ code: 130, signal: null, stdout: "sleeping\n", stderr: "" });
  });

  it("a closed stdout (`fixture flood | head -1`) interrupts: cleanup, exit 130, no crash", async () => {
    const result = await run(["flood"], { whileRunning: (child) => child.stdout!.once("data", () => child.stdout!.destroy()) });
    expect(result).toMatchObject({ code: 130, stderr: "fixture: standard output closed (EPIPE), stopping\ncleaned up\n" });
  });
});
