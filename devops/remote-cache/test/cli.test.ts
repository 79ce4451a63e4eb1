import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "./helpers";

// The command-line convention on the real CLI, without nginx: every case ends before a server starts.

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-cli-"));
  dirs.push(dir);
  return dir;
}

const BINARY = "devops/remote-cache/cache.sh";

describe("usage errors: exit 2, one line on stderr, nothing started", () => {
  it.each([
    [[], `no command given: the commands are start, stop, status, evictor (see "${BINARY} --help")`],
    [["restart"], `unknown command "restart": the commands are start, stop, status, evictor (see "${BINARY} --help")`],
    [
      ["start", "--port", "70000"],
      `Invalid value for --port: expected to be in the [1; 65535] range (got 70000) (see "${BINARY} start --help")`,
    ],
    [
      ["start", "--port", "9100", "--read-only-port", "9100"],
      `--port and --read-only-port are both 9100: the two servers need two ports (see "${BINARY} start --help")`,
    ],
    [["status", "--verbose"], `Unsupported option name ("--verbose") (see "${BINARY} status --help")`],
  ])("%j", async (args, line) => {
    expect(await runCli(args)).toMatchObject({ code: 2, stdout: "", stderr: `${BINARY}: ${line}\n` });
  });
});

describe("a server that is not running", () => {
  it("status exits 3 and says so; stop succeeds and says so", async () => {
    const dir = tempDir();
    expect(await runCli(["status", "--dir", dir])).toMatchObject({ code: 3, stdout: `not running (${dir})\n`, stderr: "" });
    expect(await runCli(["stop", "--dir", dir])).toMatchObject({ code: 0, stdout: `not running (${dir})\n`, stderr: "" });
  });
});

describe("--help", () => {
  it("lists the commands, and explains each with its exit codes and examples, without colour into a pipe", async () => {
    const env = { FORCE_COLOR: "3", TERM: "xterm-256color" };
    const top = await runCli(["--help"], { env });
    expect(top).toMatchObject({ code: 0, stderr: "" });
    for (const command of ["start", "stop", "status"]) expect(top.stdout).toContain(`${BINARY} ${command}`);
    for (const command of ["start", "stop", "status"]) {
      for (const flag of ["--help", "-h"]) {
        const help = await runCli([command, flag], { env });
        expect(help).toMatchObject({ code: 0, stderr: "" });
        expect(help.stdout).toContain("Exit codes: 0");
        expect(help.stdout).toContain(`$ ${BINARY} ${command}`);
        expect(help.stdout).not.toContain("\x1b[");
      }
    }
  });
});
