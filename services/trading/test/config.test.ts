import * as path from "node:path";
import { DEFAULT_PORT, DEFAULT_STOCKS_DATA_FILE, tradingServiceConfig } from "../src";

describe("tradingServiceConfig", () => {
  it("defaults to port 3001 on 127.0.0.1 with the package's stocks.json and a 10 s drain", () => {
    expect(DEFAULT_PORT).toBe(3001);
    expect(tradingServiceConfig({}, "/anywhere")).toEqual({
      port: 3001,
      host: "127.0.0.1",
      shutdownTimeoutMs: 10_000,
      dataFile: DEFAULT_STOCKS_DATA_FILE,
    });
  });

  it("is the package's own stocks.json, as the module resolver finds it", () => {
    // Not a path built from this test's __dirname: under Bazel the test runs from the runfiles tree, the module from the output tree.
    expect(DEFAULT_STOCKS_DATA_FILE).toBe(require.resolve("../../stocks.json"));
  });

  it("reads PORT, HOST, SHUTDOWN_TIMEOUT_MS and STOCKS_DATA_FILE, a relative one from the caller's folder", () => {
    expect(
      tradingServiceConfig({ PORT: "0", HOST: "::", SHUTDOWN_TIMEOUT_MS: "2500", STOCKS_DATA_FILE: "/srv/stocks.json" }, "/cwd"),
    ).toEqual({
      port: 0,
      host: "::",
      shutdownTimeoutMs: 2500,
      dataFile: "/srv/stocks.json",
    });
    const underPnpm = { STOCKS_DATA_FILE: "data/stocks.json", npm_lifecycle_event: "start:trading", INIT_CWD: "/home/op" };
    expect(tradingServiceConfig(underPnpm, "/repo/services/trading").dataFile).toBe(path.join("/home/op", "data", "stocks.json"));
  });
});
