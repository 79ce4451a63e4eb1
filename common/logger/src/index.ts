/**
 * Structured logging shared by every service: one JSON object per line, so log
 * collectors can parse each line on its own.
 */

export type LogLevel = "INFO" | "WARN" | "ERROR" | "DEBUG";

/** Where log lines go: anything with a write(string) method (process.stdout by default). */
export interface LogStream {
  write(chunk: string): unknown;
}

export interface LoggerOptions {
  /** Destination of the lines; tests pass a collecting stream. Defaults to process.stdout. */
  stream?: LogStream;
}

export interface LogRecord {
  timestamp: string;
  pid: number;
  level: LogLevel;
  context: string;
  message: string;
  data?: unknown;
}

export class Logger {
  private readonly stream: LogStream;

  constructor(
    readonly context: string = "app",
    options: LoggerOptions = {},
  ) {
    this.stream = options.stream ?? process.stdout;
  }

  info(message: string, data?: unknown): void {
    this.write("INFO", message, data);
  }

  warn(message: string, data?: unknown): void {
    this.write("WARN", message, data);
  }

  error(message: string, data?: unknown): void {
    this.write("ERROR", message, data);
  }

  debug(message: string, data?: unknown): void {
    this.write("DEBUG", message, data);
  }

  private write(level: LogLevel, message: string, data: unknown): void {
    const record: LogRecord = {
      timestamp: new Date().toISOString(),
      pid: process.pid,
      level,
      context: this.context,
      message,
    };
    // `data` is omitted only when not given, so an explicit null or 0 still shows up.
    if (data !== undefined) record.data = toLoggable(data);
    this.stream.write(`${JSON.stringify(record)}\n`);
  }
}

/**
 * Turns any value into something JSON.stringify renders faithfully: Errors keep
 * name, message, stack (and cause and own fields such as `code`), wherever they are
 * nested; circular references become "[Circular]"; bigints become strings.
 */
export function toLoggable(value: unknown): unknown {
  return convert(value, []);
}

function convert(value: unknown, ancestors: object[]): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return String(value);
  if (value === null || typeof value !== "object") return value;
  if (ancestors.includes(value)) return "[Circular]";

  // Only the current path counts as circular: the same object shared by two
  // branches is logged twice, not flagged.
  const path = [...ancestors, value];
  if (value instanceof Error) return convertError(value, path);
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return convert((value as { toJSON(): unknown }).toJSON(), path);
  }
  if (Array.isArray(value)) return value.map((item) => convert(item, path));

  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) result[key] = convert(item, path);
  return result;
}

function convertError(error: Error, path: object[]): Record<string, unknown> {
  const result: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined) result.cause = convert(error.cause, path);
  for (const [key, item] of Object.entries(error)) {
    if (!(key in result)) result[key] = convert(item, path);
  }
  return result;
}
