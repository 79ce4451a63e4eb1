import * as path from "node:path";
import { DEFAULT_PORT, DEFAULT_USER_DATA_FILE, userServiceConfig } from "../src";

describe("userServiceConfig", () => {
  it("defaults to port 3000 on 127.0.0.1 with the package's user.json and a 10 s drain", () => {
    expect(DEFAULT_PORT).toBe(3000);
    expect(userServiceConfig({}, "/anywhere")).toEqual({
      port: 3000,
      host: "127.0.0.1",
      shutdownTimeoutMs: 10_000,
      dataFile: DEFAULT_USER_DATA_FILE,
    });
  });

  it("reads PORT, HOST, SHUTDOWN_TIMEOUT_MS and USER_DATA_FILE", () => {
    expect(
      userServiceConfig({ PORT: "8080", HOST: "0.0.0.0", SHUTDOWN_TIMEOUT_MS: "500", USER_DATA_FILE: "/srv/users.json" }, "/cwd"),
    ).toEqual({
      port: 8080,
      host: "0.0.0.0",
      shutdownTimeoutMs: 500,
      dataFile: "/srv/users.json",
    });
  });

  it("takes a relative USER_DATA_FILE from the caller's folder, which under pnpm start is INIT_CWD", () => {
    expect(userServiceConfig({ USER_DATA_FILE: "users.json" }, "/work").dataFile).toBe(path.join("/work", "users.json"));
    const underPnpm = { USER_DATA_FILE: "users.json", npm_lifecycle_event: "start:user", INIT_CWD: "/home/op" };
    expect(userServiceConfig(underPnpm, "/repo/services/user").dataFile).toBe(path.join("/home/op", "users.json"));
  });
});
