import { type BaseContext, Command, UsageError } from "clipanion";

/** What every CLI here exits with. */
export const EXIT_CODES = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export interface CliContext extends BaseContext {
  /**
   * Aborted by runMain on the first SIGINT or SIGTERM, or when stdout is closed (`cli | head`), if
   * the running command is `interruptible`: it then stops its work, reports, and the CLI exits 130.
   */
  signal?: AbortSignal;
}

/**
 * An error the user can act on (a missing file, a failing git, a busy port): the CLI prints its
 * message without a stack and exits with its code (default 1). Packages subclass it for their own.
 */
export class OperationalError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? EXIT_CODES.failed;
  }
}

/** clipanion's Cli.run turns whatever catch() does into exit 0, so catch() leaves the code here for runCli. */
const caughtExitCodes = new WeakMap<object, number>();

export function caughtExitCode(command: object): number | undefined {
  return caughtExitCodes.get(command);
}

/**
 * The base of every command: its catch() turns whatever the command throws into an exit code and a
 * message on stderr (reportError, which runCli also applies to the parse errors raised before any
 * command exists). Subclasses set `static interruptible = true` when execute() stops on `context.signal`.
 */
export abstract class BaseCommand<Context extends CliContext = CliContext> extends Command<Context> {
  /** false: SIGINT, SIGTERM or a closed stdout ends the process at once (exit 130), as without a handler. */
  static interruptible = false;

  override async catch(error: unknown): Promise<void> {
    caughtExitCodes.set(this, reportError(withFlagNames(error), this.context, this.cli.binaryName, this.path));
  }
}

/**
 * A usage error's one line: the message, then where the help is. Longer messages (typanion lists
 * several problems on lines of their own) are joined, so that the line stays one line.
 */
function usageLine(message: string, binaryName: string, commandPath: string[]): string {
  const [first, ...rest] = message
    .split("\n")
    .map((line) => line.trim().replace(/^-\s+(:\s+)?/, ""))
    .filter((line) => line !== "");
  const text = rest.length === 0 ? first : `${first} ${rest.join("; ")}`;
  return `${binaryName}: ${text} (see "${[binaryName, ...commandPath, "--help"].join(" ")}")`;
}

/** Whether clipanion or typanion raised it about the command line: UsageError, unknown syntax. */
function isUsageError(error: unknown): error is Error {
  return error instanceof UsageError || (error instanceof Error && "clipanion" in error);
}

/**
 * Writes what the user needs to stderr and returns the exit code: interrupted 130 (the interrupt was
 * already announced); usage errors 2 with one line; OperationalError its message and code; anything
 * else its stack and 1.
 */
export function reportError(error: unknown, context: CliContext, binaryName: string, commandPath: string[]): number {
  if (context.signal?.aborted) return EXIT_CODES.interrupted;
  if (isUsageError(error)) {
    context.stderr.write(`${usageLine(error.message, binaryName, commandPath)}\n`);
    return EXIT_CODES.usage;
  }
  if (error instanceof OperationalError) {
    context.stderr.write(`${binaryName}: ${error.message}\n`);
    return error.exitCode;
  }
  context.stderr.write(`${binaryName}: ${error instanceof Error ? error.stack : String(error)}\n`);
  return EXIT_CODES.failed;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * A `static schema` violation names the class fields ("all", "readOnlyPort"); the user typed flags,
 * so they are named as flags (the field of `--read-only-port` is `readOnlyPort`, by convention).
 */
function withFlagNames(error: unknown): unknown {
  if (!(error instanceof UsageError) || !error.message.startsWith("Invalid option schema")) return error;
  const message = error.message
    .replace(/^Invalid option schema:?\s*/, "")
    .replace(/\bproperty\b/gi, "option")
    .replace(/\bproperties\b/gi, "options")
    .replace(/"([A-Za-z][A-Za-z0-9]*)"/g, (_, field: string) => `--${kebab(field)}`);
  return new UsageError(message);
}
