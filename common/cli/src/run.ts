import type { Writable } from "node:stream";
import tty from "node:tty";
import { Builtins, Cli, type Command, type CommandClass, UsageError } from "clipanion";
import { BaseCommand, type CliContext, caughtExitCode, EXIT_CODES, reportError } from "./command";

export interface CliSpec<Context extends CliContext = CliContext> {
  /** How the user calls it ("pipeline.sh"): starts every error line and replaces `$0` in examples. */
  binaryName: string;
  /** The title of the top-level --help. */
  binaryLabel: string;
  /** When set, `--version` prints it. */
  binaryVersion?: string;
  /** BaseCommand subclasses, each with a Command.Usage that has a description, details and examples. */
  commands: Array<CommandClass<Context>>;
}

/** What a caller passes: the CLI's own context fields; stdio, env and colorDepth default to the process's. */
export type ContextInput<Context extends CliContext> = Omit<Context, keyof CliContext> & Partial<CliContext>;

const isTerminal = (stream: Writable) => (stream as { isTTY?: boolean }).isTTY === true;

/**
 * Colour only when both stdout and stderr are terminals, as NO_COLOR, FORCE_COLOR and TERM then
 * allow: redirected output (CI logs, files, a pipe) would carry the escape codes. clipanion alone
 * colours whenever TERM says the terminal could, piped or not.
 */
function colorDepthOf(context: CliContext): number {
  if (!isTerminal(context.stdout) || !isTerminal(context.stderr)) return 1;
  return tty.WriteStream.prototype.getColorDepth.call(context.stdout, context.env);
}

function createCli<Context extends CliContext>(spec: CliSpec<Context>, enableColors: boolean): Cli<Context> {
  const { binaryName, binaryLabel, binaryVersion } = spec;
  const cli = new Cli<Context>({ binaryName, binaryLabel, binaryVersion, enableColors });
  for (const command of spec.commands) {
    if (!(command.prototype instanceof BaseCommand)) throw new Error(`${command.name} must extend BaseCommand`);
    const usage = command.usage;
    if (!usage?.description || !usage.details || !usage.examples?.length) {
      throw new Error(`${command.name}: its Command.Usage needs a description, details and examples`);
    }
    cli.register(command);
  }
  cli.register(Builtins.HelpCommand);
  if (binaryVersion !== undefined) cli.register(Builtins.VersionCommand);
  return cli;
}

/** What the parse helpers need of a command class. */
type Paths = ReadonlyArray<{ paths?: string[][] }>;

function commandList(commands: Paths): string {
  const names = commands.flatMap((command) => command.paths ?? []).filter((path) => path.length > 0);
  return `the commands are ${names.map((path) => path.join(" ")).join(", ")}`;
}

/** The registered command path argv starts with, for the `--help` hint of an error line. */
function commandPathOf(commands: Paths, argv: string[]): string[] {
  const matching = commands.flatMap((command) => command.paths ?? []).filter((path) => path.every((segment, i) => argv[i] === segment));
  return matching.sort((a, b) => b.length - a.length)[0] ?? [];
}

/**
 * clipanion's unknown-syntax error lists every candidate's usage over several lines. The user gets
 * its one reason when all candidates agree on it ("Unsupported option name"), else that the command
 * is unknown, with the list of commands.
 */
function explainParseError(error: unknown, commands: Paths, argv: string[]): unknown {
  if (!(error instanceof Error) || !("candidates" in error) || !Array.isArray(error.candidates)) return error;
  const reasons = new Set((error.candidates as Array<{ reason: string | null }>).map((candidate) => candidate.reason));
  const [reason] = reasons;
  if (reasons.size === 1 && reason) return new UsageError(reason.replace(/\.$/, ""));
  const name = argv.find((arg) => !arg.startsWith("-")) ?? argv.join(" ");
  return new UsageError(`unknown command ${JSON.stringify(name)}: ${commandList(commands)}`);
}

async function run<Context extends CliContext>(
  spec: CliSpec<Context>,
  argv: string[],
  input: ContextInput<Context>,
  onCommand: (command: Command<Context>) => void,
): Promise<number> {
  const context = { ...Cli.defaultContext, ...input } as unknown as Context;
  context.colorDepth = colorDepthOf(context);
  const cli = createCli(spec, context.colorDepth > 1);
  let command: Command<Context>;
  try {
    command = cli.process(argv, context);
    // Without a default command, clipanion answers no command at all with the help and exit 0: a
    // script calling the CLI wrongly would pass.
    if (argv.length === 0 && !(command instanceof BaseCommand)) throw new UsageError(`no command given: ${commandList(spec.commands)}`);
  } catch (error) {
    // Before any command exists, so BaseCommand.catch() cannot see it; the same reportError decides.
    return reportError(explainParseError(error, spec.commands, argv), context, spec.binaryName, commandPathOf(spec.commands, argv));
  }
  onCommand(command);
  const exitCode = await cli.run(command, context);
  if (context.signal?.aborted) return EXIT_CODES.interrupted;
  return caughtExitCode(command) ?? exitCode;
}

/**
 * Parses argv, runs the command and resolves with the exit code: what execute() returned, else what
 * BaseCommand.catch() decided (1, 2, an OperationalError's code), 130 once `context.signal` fired.
 * Never rejects for a command's error; writes nothing but what the command and the error line write.
 */
export function runCli<Context extends CliContext>(
  spec: CliSpec<Context>,
  argv: string[],
  context: ContextInput<Context>,
): Promise<number> {
  return run(spec, argv, context, () => undefined);
}

/**
 * The entry of a CLI's main module: runs process.argv and exits with the code. While an
 * `interruptible` command runs, the first SIGINT or SIGTERM, or stdout closing, aborts
 * `context.signal` so that it can stop its work and report (exit 130); a second signal exits at once.
 * Any other command, or the parse before it, ends at once with 130, as a process without handlers.
 */
export function runMain<Context extends CliContext>(spec: CliSpec<Context>, context = {} as ContextInput<Context>): void {
  const controller = new AbortController();
  let interruptible = false;
  const interrupt = (why: string, hint = "") => {
    if (!interruptible || controller.signal.aborted) process.exit(EXIT_CODES.interrupted);
    process.stderr.write(`${isTerminal(process.stderr) ? "\n" : ""}${spec.binaryName}: ${why}, stopping${hint}\n`);
    controller.abort(new Error(why));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => interrupt(`${signal} received`, `; ${signal} again exits at once`));
  // Every later write fails the same way: only the first EPIPE interrupts.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (!controller.signal.aborted) interrupt("standard output closed (EPIPE)");
  });
  const onCommand = (command: Command<Context>) => {
    interruptible = (command.constructor as typeof BaseCommand).interruptible === true;
  };
  run(spec, process.argv.slice(2), { ...context, signal: controller.signal }, onCommand).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${spec.binaryName}: ${error.stack}\n`);
      process.exit(EXIT_CODES.failed);
    },
  );
}
