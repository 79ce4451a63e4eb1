import {
  ConfigError,
  callerDirectory,
  DEFAULT_HOST,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  filePathFromEnv,
  hostFromEnv,
  integerFromEnv,
  portFromEnv,
  serviceConfigFromEnv,
} from "../src";

describe("serviceConfigFromEnv", () => {
  it("defaults to the service's port, loopback and a 10 s drain", () => {
    expect(serviceConfigFromEnv({}, 3000)).toEqual({ port: 3000, host: "127.0.0.1", shutdownTimeoutMs: 10_000 });
    expect([DEFAULT_HOST, DEFAULT_SHUTDOWN_TIMEOUT_MS]).toEqual(["127.0.0.1", 10_000]);
    expect(serviceConfigFromEnv({ PORT: "", HOST: " ", SHUTDOWN_TIMEOUT_MS: "" }, 3001)).toEqual({
      port: 3001,
      host: "127.0.0.1",
      shutdownTimeoutMs: 10_000,
    });
    expect(serviceConfigFromEnv({ PORT: "8080", HOST: "0.0.0.0", SHUTDOWN_TIMEOUT_MS: "0" }, 3000)).toEqual({
      port: 8080,
      host: "0.0.0.0",
      shutdownTimeoutMs: 0,
    });
  });
});

describe("portFromEnv / integerFromEnv", () => {
  it("reads PORT, defaults when unset and rejects bad values by name", () => {
    expect(portFromEnv({}, 3000)).toBe(3000);
    expect(portFromEnv({ PORT: "" }, 3000)).toBe(3000);
    expect(portFromEnv({ PORT: "0" }, 3000)).toBe(0);
    expect(portFromEnv({ PORT: " 8080 " }, 3000)).toBe(8080);
    for (const bad of ["abc", "-1", "65536", "80.5", "1e3"]) {
      expect(() => portFromEnv({ PORT: bad }, 3000)).toThrow(ConfigError);
      expect(() => portFromEnv({ PORT: bad }, 3000)).toThrow(/^PORT=.* is invalid: expected an integer from 0 to 65535$/);
    }
    expect(integerFromEnv({ N: "7" }, "N", 1, 0, 10)).toBe(7);
  });
});

describe("hostFromEnv", () => {
  it.each(["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "api.internal", "10.1.2.3"])("accepts %s", (host) => {
    expect(hostFromEnv({ HOST: host })).toBe(host);
  });

  it.each(["not a host", "http://localhost", "host:3000", "-bad", "a..b", "x".repeat(254)])("refuses %s, naming HOST", (host) => {
    expect(() => hostFromEnv({ HOST: host })).toThrow(ConfigError);
    expect(() => hostFromEnv({ HOST: host })).toThrow(/^HOST=.* is invalid: expected an IP address/);
  });
});

describe("filePathFromEnv", () => {
  it("keeps an absolute path and falls back when the variable is unset or empty", () => {
    expect(filePathFromEnv({ DATA: "/srv/data.json" }, "DATA", "/pkg/data.json", "/cwd")).toBe("/srv/data.json");
    expect(filePathFromEnv({}, "DATA", "/pkg/data.json", "/cwd")).toBe("/pkg/data.json");
    expect(filePathFromEnv({ DATA: "" }, "DATA", "/pkg/data.json", "/cwd")).toBe("/pkg/data.json");
  });

  it("takes a relative path from the folder the user started the service from", () => {
    const relative = (env: Record<string, string>) =>
      filePathFromEnv({ DATA: "data/users.json", ...env }, "DATA", "/unused", "/repo/services/user");
    // Started with node directly.
    expect(relative({})).toBe("/repo/services/user/data/users.json");
    // pnpm start / pnpm start:user: the package folder is the working directory, INIT_CWD the caller's.
    expect(relative({ npm_lifecycle_event: "start", INIT_CWD: "/home/op" })).toBe("/home/op/data/users.json");
    expect(relative({ npm_lifecycle_event: "start:user", INIT_CWD: "/home/op" })).toBe("/home/op/data/users.json");
    // Any other script's INIT_CWD is inherited, not the caller of this process.
    expect(relative({ npm_lifecycle_event: "test", INIT_CWD: "/home/op" })).toBe("/repo/services/user/data/users.json");
    // bazel run: the runfiles tree is the working directory, BUILD_WORKING_DIRECTORY the caller's.
    expect(relative({ BUILD_WORKING_DIRECTORY: "/ws/sub", npm_lifecycle_event: "start", INIT_CWD: "/x" })).toBe("/ws/sub/data/users.json");
    expect(callerDirectory({}, "/cwd")).toBe("/cwd");
  });
});
