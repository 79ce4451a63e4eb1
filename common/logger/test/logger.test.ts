import { Logger, type LogStream } from "../src";

/** A stream that keeps every line written to it, parsed. */
function collectingStream(): LogStream & { lines: string[]; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    lines,
    write(chunk: string) {
      lines.push(chunk);
      return true;
    },
    records: () => lines.map((line) => JSON.parse(line)),
  };
}

describe("Logger", () => {
  it("writes one JSON object per line with the documented fields, in order", () => {
    const stream = collectingStream();
    const before = Date.now();
    new Logger("orders", { stream }).info("order placed", { id: 7 });

    expect(stream.lines).toHaveLength(1);
    expect(stream.lines[0].endsWith("\n")).toBe(true);
    expect(stream.lines[0].trimEnd()).not.toContain("\n");
    const record = JSON.parse(stream.lines[0]);
    expect(Object.keys(record)).toEqual(["timestamp", "pid", "level", "context", "message", "data"]);
    expect(record).toMatchObject({ pid: process.pid, level: "INFO", context: "orders", message: "order placed", data: { id: 7 } });
    expect(record.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(record.timestamp)).toBeGreaterThanOrEqual(before - 1);
  });

  it("maps each method to its level", () => {
    const stream = collectingStream();
    const logger = new Logger("levels", { stream });
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.debug("d");
    expect(stream.records().map((r) => r.level)).toEqual(["INFO", "WARN", "ERROR", "DEBUG"]);
  });

  it('uses the context "app" by default and omits data when none is given', () => {
    const stream = collectingStream();
    new Logger(undefined, { stream }).warn("no data");
    const [record] = stream.records();
    expect(record.context).toBe("app");
    expect("data" in record).toBe(false);
  });

  it("keeps falsy data that was given", () => {
    const stream = collectingStream();
    const logger = new Logger("falsy", { stream });
    logger.info("zero", 0);
    logger.info("null", null);
    expect(stream.records().map((r) => r.data)).toEqual([0, null]);
  });

  it("writes to stdout by default", () => {
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    let written: unknown[][];
    try {
      new Logger("default-stream").info("to stdout");
    } finally {
      written = [...write.mock.calls];
      write.mockRestore();
    }
    expect(written).toHaveLength(1);
    expect(JSON.parse(String(written[0][0])).message).toBe("to stdout");
  });

  it("keeps name, message and stack of an Error passed as data", () => {
    const stream = collectingStream();
    const error = new TypeError("bad input");
    new Logger("errors", { stream }).error("failed", error);
    const [record] = stream.records();
    expect(record.data).toEqual({ name: "TypeError", message: "bad input", stack: error.stack });
    expect(String((record.data as { stack: string }).stack)).toContain("logger.test");
  });

  it("keeps Errors nested inside data, with their cause and own fields", () => {
    const stream = collectingStream();
    const cause = new Error("disk full");
    const error = Object.assign(new Error("write failed", { cause }), { code: "EWRITE" });
    new Logger("errors", { stream }).error("failed", { attempt: 2, errors: [error] });
    const [record] = stream.records();
    expect(record.data).toEqual({
      attempt: 2,
      errors: [
        {
          name: "Error",
          message: "write failed",
          stack: error.stack,
          code: "EWRITE",
          cause: { name: "Error", message: "disk full", stack: cause.stack },
        },
      ],
    });
  });

  it("marks circular references instead of throwing", () => {
    const stream = collectingStream();
    const node: Record<string, unknown> = { name: "root" };
    node.self = node;
    node.children = [{ parent: node }];
    const error: Error & { self?: unknown } = new Error("loop");
    error.self = error;

    const logger = new Logger("cycles", { stream });
    expect(() => logger.info("circular", node)).not.toThrow();
    expect(() => logger.info("circular error", error)).not.toThrow();
    const [first, second] = stream.records();
    expect(first.data).toEqual({ name: "root", self: "[Circular]", children: [{ parent: "[Circular]" }] });
    expect((second.data as { self: unknown }).self).toBe("[Circular]");
  });

  it("logs an object shared by two branches twice rather than as circular", () => {
    const stream = collectingStream();
    const shared = { value: 1 };
    new Logger("shared", { stream }).info("shared", { a: shared, b: shared });
    expect(stream.records()[0].data).toEqual({ a: { value: 1 }, b: { value: 1 } });
  });

  it("renders values JSON.stringify cannot: bigint, Date via toJSON", () => {
    const stream = collectingStream();
    new Logger("values", { stream }).info("values", { big: 10n ** 20n, at: new Date(0) });
    expect(stream.records()[0].data).toEqual({ big: "100000000000000000000", at: "1970-01-01T00:00:00.000Z" });
  });
});
