import { execFileSync } from "node:child_process";
import { Writable } from "node:stream";
import { clock, Output, plural } from "../src";

/** A stream that says it is a terminal of `columns` columns and keeps what is written to it. */
class FakeTerminal extends Writable {
  readonly isTTY = true;
  text = "";

  constructor(readonly columns = 80) {
    super();
  }

  _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

class Pipe extends FakeTerminal {
  readonly isTTY = false as true;
}

describe("plurals and times", () => {
  it("say 1 target and 2 targets, and minutes past a minute", () => {
    expect([plural(0, "target"), plural(1, "target"), plural(2, "target")]).toEqual(["0 targets", "1 target", "2 targets"]);
    expect([clock(999), clock(62_000), clock(139_500)]).toEqual(["0s", "1m02s", "2m19s"]);
  });
});

describe("stage lines", () => {
  it("keep their columns for every stage name and time, as pipeline.sh's stage lines do", () => {
    const stream = new Pipe();
    const out = new Output(stream);
    out.stage("bazel test", 139_400, "FAILED", "exit 3");
    out.stage("maintenance", 800, "ok", "report");
    expect(stream.text).toBe("bazel test      139.4s  FAILED  exit 3\nmaintenance       0.8s  ok      report\n");
    // pipeline.sh: printf '%-12s %6d.%01ds  %-7s %s\n'
    const bash = execFileSync("bash", ["-c", `printf '%-12s %6d.%01ds  %-7s %s\\n' maintenance 0 8 ok report`], { encoding: "utf8" });
    expect(bash).toBe("maintenance       0.8s  ok      report\n");
  });
});

describe("the live line", () => {
  it("shows done/total, the time and what runs, erased before each line printed and redrawn after, and gone once stopped", () => {
    const terminal = new FakeTerminal();
    const out = new Output(terminal);
    const progress = out.progress(13, "target");
    progress.start("//common/logger:test");
    progress.start("//services/user:test");
    expect(terminal.text.split("\r\x1b[2K").at(-1)).toBe("0/13 targets done, 0s | running: //common/logger:test, //services/user:test");
    out.step(`//common/logger:test attempt 1/1: PASSED; ${progress.finish("//common/logger:test")}`);
    const screen = terminal.text.split("\r\x1b[2K");
    expect(screen.at(-2)).toBe("    //common/logger:test attempt 1/1: PASSED; 1 of 13 targets done\n");
    expect(screen.at(-1)).toBe("1/13 targets done, 0s | running: //services/user:test");
    progress.stop();
    out.line("report");
    expect(terminal.text.endsWith("running: //services/user:test\r\x1b[2Kreport\n")).toBe(true);
  });

  it("is cut to the terminal's width, so that it never wraps", () => {
    const terminal = new FakeTerminal(40);
    const progress = new Output(terminal).progress(2, "target");
    progress.start("//services/trading:test");
    expect(progress.text()).toBe("0/2 targets done, 0s | running: //se...");
    expect(progress.text()).toHaveLength(39);
    progress.stop();
  });

  it("is never drawn off a terminal: no escape code, only the lines", () => {
    const pipe = new Pipe();
    const out = new Output(pipe);
    const progress = out.progress(2, "target");
    progress.start("//a:test");
    out.step(`//a:test attempt 1/1: PASSED; ${progress.finish("//a:test")}`);
    progress.stop();
    expect(pipe.text).toBe("    //a:test attempt 1/1: PASSED; 1 of 2 targets done\n");
  });
});
