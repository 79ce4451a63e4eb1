import type { ChildProcess } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isRunning, runNode, startCommand, startNode, waitFor } from "../src";
import { killStartedProcesses } from "../src/processes";

const SCRIPT = path.join(__dirname, "fixtures", "script.js");

describe("startNode", () => {
  it("follows stdout line by line: waits for a future line, finds a past one", async () => {
    const node = startNode(SCRIPT, ["out:first", "out:second", "out:last"]);
    expect(await node.waitForLine((line) => line.startsWith("la"))).toBe("last");
    expect(await node.waitForLine((line) => line.startsWith("f"))).toBe("first");
    expect(node.lines()).toEqual(["first", "second", "last"]);
    expect(await node.exited).toEqual({ code: 0, signal: null });
  });

  it("joins a line that arrives in two pieces", async () => {
    // The child writes "sec", then waits for SIGUSR2 before writing "ond\n": two reads, one line.
    const node = startNode(SCRIPT, ["partial:sec", "await:SIGUSR2", "out:ond", "out:last"]);
    node.child.stdout!.once("data", () => node.child.kill("SIGUSR2"));
    await node.waitForLine((line) => line === "last");
    expect(node.lines()).toEqual(["second", "last"]);
  });

  it("adds env to this process's environment and runs in cwd", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "testing-cwd-")));
    try {
      const node = startNode(SCRIPT, ["env:TESTING_EXTRA", "env:PATH", "cwd"], { TESTING_EXTRA: "given" }, dir);
      await node.exited;
      expect(node.lines()).toEqual(["TESTING_EXTRA=given", `PATH=${process.env.PATH}`, dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a wait for a line that never comes once the process exits, showing stdout and stderr", async () => {
    const node = startNode(SCRIPT, ["out:started", "err:it broke", "exit:3"]);
    await expect(node.waitForLine((line) => line === "Listening")).rejects.toThrow(
      "process exited (3) before the line came; stdout:\nstarted\nstderr:\nit broke\n",
    );
    expect(await node.exited).toEqual({ code: 3, signal: null });
  });

  it("reports the signal that ended the process", async () => {
    const node = startNode(SCRIPT, ["out:hanging", "hang"]);
    await node.waitForLine((line) => line === "hanging");
    node.child.kill("SIGTERM");
    expect(await node.exited).toEqual({ code: null, signal: "SIGTERM" });
  });
});

describe("startCommand", () => {
  it("runs any command with extra env, follows its stdout and keeps its stderr", async () => {
    const run = startCommand(process.execPath, [SCRIPT, "env:TESTING_EXTRA", "err:warned"], { env: { TESTING_EXTRA: "given" } });
    expect(await run.waitForLine((line) => line.startsWith("TESTING_EXTRA"))).toBe("TESTING_EXTRA=given");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    await new Promise((resolve) => (run.child.stderr!.readableEnded ? resolve(undefined) : run.child.stderr!.once("end", resolve)));
    expect(run.stderr()).toBe("warned\n");
  });

  it("puts a detached command in a process group of its own, which a signal to the group reaches", async () => {
    const run = startCommand(process.execPath, [SCRIPT, "out:hanging", "hang"], { detached: true });
    await run.waitForLine((line) => line === "hanging");
    expect(isRunning(run.child.pid!)).toBe(true);
    process.kill(-run.child.pid!, "SIGTERM");
    expect(await run.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(isRunning(run.child.pid!)).toBe(false);
  });
});

describe("killStartedProcesses (run after every test file that loads these helpers)", () => {
  it("kills what a test left running, the whole group of a detached command included, and leaves what exited alone", async () => {
    const done = startNode(SCRIPT, ["out:done"]);
    await done.exited;
    const service = startNode(SCRIPT, ["out:hanging", "hang"]);
    await service.waitForLine((line) => line === "hanging");
    // A shell that leads its group and starts a grandchild: killing the shell alone would orphan it.
    const group = startCommand("sh", ["-c", `"${process.execPath}" "${SCRIPT}" out:hanging hang & echo "$!"; wait`], { detached: true });
    const grandchild = Number(await group.waitForLine((line) => /^\d+$/.test(line)));
    expect(isRunning(grandchild)).toBe(true);

    killStartedProcesses();
    expect(await service.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(await group.exited).toEqual({ code: null, signal: "SIGKILL" });
    await waitFor(() => !isRunning(grandchild));
  });
});

describe("runNode", () => {
  it("resolves with the exit code and the whole output, also for a failure", async () => {
    const run = await runNode(SCRIPT, ["out:one", "partial:no newline", "err:warning", "exit:2"]);
    expect(run).toEqual({ code: 2, signal: null, stdout: "one\nno newline", stderr: "warning\n" });
  });

  it("keeps the output still in the pipe when the process exits", async () => {
    const run = await runNode(SCRIPT, ["bulk:2000", "out:end"]);
    expect(run.stdout).toHaveLength(2000 * 1000 + "end\n".length);
    expect(run.stdout.endsWith("x\nend\n")).toBe(true);
  });

  it("adds env to this process's environment, or uses env alone when inheritEnv is false, in cwd", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "testing-cwd-")));
    try {
      const steps = ["env:TESTING_EXTRA", "env:PATH", "cwd"];
      const inherited = await runNode(SCRIPT, steps, { env: { TESTING_EXTRA: "given" }, cwd: dir });
      expect(inherited.stdout).toBe(`TESTING_EXTRA=given\nPATH=${process.env.PATH}\n${dir}\n`);
      const alone = await runNode(SCRIPT, steps, { env: { TESTING_EXTRA: "given" }, inheritEnv: false, cwd: dir });
      expect(alone.stdout).toBe(`TESTING_EXTRA=given\nPATH unset\n${dir}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the launcher's JS_BINARY__ variables when the environment is otherwise cleared, and lets env override them", async () => {
    process.env.JS_BINARY__TESTING_PROBE = "from the launcher";
    process.env.JS_BINARY__TESTING_OVERRIDDEN = "from the launcher";
    process.env.TESTING_NOT_LAUNCHER = "from the caller";
    try {
      const steps = ["env:JS_BINARY__TESTING_PROBE", "env:JS_BINARY__TESTING_OVERRIDDEN", "env:TESTING_NOT_LAUNCHER"];
      const run = await runNode(SCRIPT, steps, { env: { JS_BINARY__TESTING_OVERRIDDEN: "given" }, inheritEnv: false });
      expect(run.stdout).toBe(
        "JS_BINARY__TESTING_PROBE=from the launcher\nJS_BINARY__TESTING_OVERRIDDEN=given\nTESTING_NOT_LAUNCHER unset\n",
      );
    } finally {
      delete process.env.JS_BINARY__TESTING_PROBE;
      delete process.env.JS_BINARY__TESTING_OVERRIDDEN;
      delete process.env.TESTING_NOT_LAUNCHER;
    }
  });

  it("lets whileRunning signal the process and reports the signal", async () => {
    const run = await runNode(SCRIPT, ["out:hanging", "hang"], {
      whileRunning: (child) => child.stdout!.once("data", () => child.kill("SIGINT")),
    });
    expect(run).toEqual({ code: null, signal: "SIGINT", stdout: "hanging\n", stderr: "" });
  });

  it("kills a process that outlives timeoutMs and rejects, showing the output so far", async () => {
    let child: ChildProcess | undefined;
    // Short: the child hangs for good, so any timeout shows the kill; its output so far may be empty.
    const run = runNode(SCRIPT, ["out:hanging", "hang"], {
      timeoutMs: 200,
      whileRunning: (started) => (child = started),
    });
    await expect(run).rejects.toThrow(/did not finish within 200 ms; stdout:\n/);
    expect(child!.signalCode).toBe("SIGKILL");
  });

  it("rejects when the script cannot be started at all", async () => {
    await expect(runNode(SCRIPT, [], { cwd: path.join(tmpdir(), "testing-no-such-dir") })).rejects.toThrow(/ENOENT/);
  });
});
