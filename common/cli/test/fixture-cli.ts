import { setTimeout } from "node:timers/promises";
import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { BaseCommand, type CliSpec, listOption, OperationalError, runMain } from "../src";

/** A CLI built on the convention, as the tests' subject: in-process through FIXTURE, and run as a real process. */

class GreetCommand extends BaseCommand {
  static paths = [["greet"]];

  static usage = Command.Usage({
    description: "Greet people",
    details: "Writes one line per name. --loud and --quiet exclude each other.",
    examples: [["Greet Ann and Bob twice", "$0 greet --names ann,bob --times 2"]],
  });

  static schema = [t.hasMutuallyExclusiveKeys(["loud", "quiet"], { missingIf: "falsy" })];

  names = listOption("--names", ["ann", "bob", "cy"], { description: "Who to greet" });

  times = Option.String("--times", "1", { description: "How often", validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]) });

  loud = Option.Boolean("--loud", false, { description: "Shout" });

  quiet = Option.Boolean("--quiet", false, { description: "Whisper" });

  async execute(): Promise<number> {
    const names = this.names ?? ["everyone"];
    for (let i = 0; i < this.times; i++) {
      for (const name of names) this.context.stdout.write(`${this.loud ? "HELLO" : this.quiet ? "hello..." : "hello"} ${name}\n`);
    }
    return 0;
  }
}

const FAILURES = ["usage", "operational", "operational-3", "bug", "exit-4"] as const;

class FailCommand extends BaseCommand {
  static paths = [["fail"]];

  static usage = Command.Usage({
    description: "Fail in the way asked",
    details:
      "usage: a UsageError; operational: an OperationalError; operational-3: one with exit code 3; bug: a plain Error; exit-4: execute() returns 4.",
    examples: [["Throw a plain Error", "$0 fail bug"]],
  });

  how = Option.String({ name: "how", validator: t.isEnum(FAILURES) });

  async execute(): Promise<number> {
    switch (this.how) {
      case "usage":
        throw new UsageError("--when must be a date");
      case "operational":
        throw new OperationalError("the journal file is gone");
      case "operational-3":
        throw new OperationalError("the port is busy", { exitCode: 3 });
      case "bug":
        throw new Error("undefined is not a function");
      case "exit-4":
        return 4;
    }
  }
}

class WaitCommand extends BaseCommand {
  static paths = [["wait"]];

  static interruptible = true;

  static usage = Command.Usage({
    description: "Wait until interrupted",
    details:
      "Writes `waiting` and waits a minute; on the interrupt it says it cleaned up and fails, as aborted work does. With --stubborn it first waits another minute.",
    examples: [["Wait", "$0 wait"]],
  });

  stubborn = Option.Boolean("--stubborn", false, { description: "Keep waiting after the interrupt" });

  async execute(): Promise<number> {
    this.context.stdout.write("waiting\n");
    try {
      await setTimeout(60_000, undefined, { signal: this.context.signal });
    } catch (error) {
      if (this.stubborn) await setTimeout(60_000);
      this.context.stderr.write("cleaned up\n");
      throw error;
    }
    return 0;
  }
}

class FloodCommand extends BaseCommand {
  static paths = [["flood"]];

  static interruptible = true;

  static usage = Command.Usage({
    description: "Write lines until stopped",
    details: "Writes a line per event-loop turn until the interrupt (a closed stdout included), then says it cleaned up.",
    examples: [["Write until the reader leaves", "$0 flood | head -1"]],
  });

  async execute(): Promise<number> {
    const signal = this.context.signal!;
    for (let line = 0; !signal.aborted; line++) {
      this.context.stdout.write(`line ${line}\n`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.context.stderr.write("cleaned up\n");
    return 0;
  }
}

class SleepCommand extends BaseCommand {
  static paths = [["sleep"]];

  static usage = Command.Usage({
    description: "Sleep a minute, not interruptible",
    details: "Writes `sleeping` and waits 60 s; it never looks at the interrupt signal.",
    examples: [["Sleep", "$0 sleep"]],
  });

  async execute(): Promise<number> {
    this.context.stdout.write("sleeping\n");
    await setTimeout(60_000);
    return 0;
  }
}

export const FIXTURE: CliSpec = {
  binaryName: "fixture",
  binaryLabel: "Fixture CLI",
  commands: [GreetCommand, FailCommand, WaitCommand, FloodCommand, SleepCommand],
};

if (require.main === module) runMain(FIXTURE);
