import { logMessage, logRecords, memoryLogger } from "../src";

describe("logRecords", () => {
  it("parses the JSON lines and skips the others", () => {
    expect(logRecords(["", "> acme@1.0.0 start:user", '{"message":"Listening"}', " ELIFECYCLE  Command failed."])).toEqual([
      { message: "Listening" },
    ]);
  });
});

describe("logMessage", () => {
  it("matches a JSON log line by its message and nothing else", () => {
    const listening = logMessage("Listening");
    expect(listening('{"level":"INFO","message":"Listening","data":{"port":1}}')).toBe(true);
    expect(listening('{"level":"INFO","message":"Listening soon"}')).toBe(false);
    expect(listening("Listening")).toBe(false);
    expect(listening("")).toBe(false);
  });
});

describe("memoryLogger", () => {
  it("keeps every record, with its context, apart from every other memoryLogger", () => {
    const { logger, records } = memoryLogger("orders");
    logger.info("placed", { id: 7 });
    logger.error("failed");
    expect(records()).toEqual([
      expect.objectContaining({ context: "orders", level: "INFO", message: "placed", data: { id: 7 } }),
      expect.objectContaining({ context: "orders", level: "ERROR", message: "failed" }),
    ]);
    expect(memoryLogger().records()).toEqual([]);
  });

  it("forgets the records so far on clear() and keeps logging after it", () => {
    const { logger, records, clear } = memoryLogger("orders");
    logger.info("before");
    clear();
    expect(records()).toEqual([]);
    logger.info("after");
    expect(records().map((record) => record.message)).toEqual(["after"]);
  });

  it('names records with the context "test" unless told otherwise', () => {
    const { logger, records } = memoryLogger();
    logger.warn("careful");
    expect(records()).toEqual([expect.objectContaining({ context: "test", level: "WARN", message: "careful" })]);
  });
});
