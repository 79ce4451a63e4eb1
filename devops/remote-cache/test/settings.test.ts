import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultDir, ensureNginx, formatSize, parseSize, renderNginxConfig, renderTemplate, resolveSettings } from "../src";

describe("settings", () => {
  it("defaults to loopback, ports 9090/9091, the XDG state directory and a 10 GiB bound", () => {
    const settings = resolveSettings({}, { XDG_STATE_HOME: "/var/state" });
    expect(settings).toEqual({
      dir: "/var/state/acme-remote-cache",
      host: "127.0.0.1",
      port: 9090,
      readOnlyPort: 9091,
      maxBytes: 10 * 2 ** 30,
    });
  });

  it.each([
    ["20G", 20 * 2 ** 30],
    ["512M", 512 * 2 ** 20],
    ["1.5T", 1.5 * 2 ** 40],
    ["2GiB", 2 * 2 ** 30],
    ["2048kb", 2048 * 2 ** 10],
    ["1048576", 2 ** 20],
  ])("reads --max-size %s in binary units", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
    expect(resolveSettings({ maxSize: text }, {}).maxBytes).toBe(bytes);
  });

  it("falls back to ~/.local/state when XDG_STATE_HOME is unset or relative", () => {
    expect(defaultDir({}, "/home/dev")).toBe("/home/dev/.local/state/acme-remote-cache");
    expect(defaultDir({ XDG_STATE_HOME: "state" }, "/home/dev")).toBe("/home/dev/.local/state/acme-remote-cache");
  });

  it.each([
    ["one port for both servers", { port: 9090, readOnlyPort: 9090 }, /need two ports/],
    ["a port out of range", { port: 70000 }, /not a TCP port/],
    ["a host with spaces", { host: "my host" }, /not an IP address or host name/],
    ["a directory nginx would read as a variable", { dir: "/tmp/$cache" }, /cannot take in a path/],
    ["an htpasswd path with a quote", { htpasswd: '/etc/pass"wd' }, /cannot take in a path/],
    ["a size that is not one", { maxSize: "ten gigs" }, /--max-size "ten gigs" is not a size: give one like 500M/],
    ["a size without a unit", { maxSize: "20" }, /--max-size 20 is 20 B: give at least 1M/],
    ["a negative size", { maxSize: "-5G" }, /is not a size/],
  ])("rejects %s", (_case, input, message) => {
    expect(() => resolveSettings(input, {})).toThrow(message);
  });
});

describe("sizes", () => {
  it("prints sizes as du -h would, in binary units", () => {
    expect([900, 1536, 10 * 2 ** 20, 1.5 * 2 ** 30, 220 * 2 ** 10].map(formatSize)).toEqual([
      "900 B",
      "1.5 KiB",
      "10 MiB",
      "1.5 GiB",
      "220 KiB",
    ]);
  });
});

describe("nginx config rendering", () => {
  const settings = resolveSettings({ dir: "/srv/cache", host: "::", port: 8080, readOnlyPort: 8081 }, {});

  it("fails on a placeholder without a value and on a value without a placeholder", () => {
    expect(() => renderTemplate("listen {{port}};", {})).toThrow(/no value for \{\{port\}\}/);
    expect(() => renderTemplate("daemon on;", { port: "1" })).toThrow(/no placeholder for \{\{port\}\}/);
  });

  it("keeps every path inside the directory and brackets IPv6 listen addresses", () => {
    const config = renderNginxConfig(settings, { runningAsRoot: false });
    expect(config).not.toMatch(/\{\{/);
    expect(config).toContain('pid "/srv/cache/run/nginx.pid";');
    expect(config).toContain('client_body_temp_path "/srv/cache/run/tmp/body";');
    expect(config).toContain('root "/srv/cache/cache";');
    expect(config).toContain("listen [::]:8080;");
    expect(config).toContain("listen [::]:8081;");
    expect(config).not.toMatch(/^\s*user /m);
    expect(config).not.toContain("auth_basic_user_file");
  });

  it("runs the workers as root when started as root, so they can write the cache", () => {
    expect(renderNginxConfig(settings, { runningAsRoot: true })).toMatch(/^user root;$/m);
  });

  it("guards only the read-write server with basic auth when given an htpasswd file", () => {
    const withAuth = resolveSettings({ ...settings, htpasswd: "/etc/bazel-cache/htpasswd" }, {});
    const config = renderNginxConfig(withAuth, { runningAsRoot: false });
    const [readWriteServer, readOnlyServer] = config.split("server {").slice(1);
    expect(readWriteServer).toContain('auth_basic_user_file "/etc/bazel-cache/htpasswd";');
    expect(readOnlyServer).not.toContain("auth_basic");
  });

  it("serves /healthz from the state directory on both ports, without a password", () => {
    const withAuth = resolveSettings({ ...settings, htpasswd: "/etc/bazel-cache/htpasswd" }, {});
    const servers = renderNginxConfig(withAuth, { runningAsRoot: false }).split("server {").slice(1);
    for (const server of servers) {
      const health = server.slice(server.indexOf("location = /healthz {"));
      expect(health).toMatch(/^location = \/healthz \{[^}]*alias "\/srv\/cache\/run\/health.json";/);
    }
    expect(servers[0]).toMatch(/location = \/healthz \{\s*auth_basic off;/);
  });

  it("logs each successful read and write of an entry to the evictor's use log, on both ports", () => {
    const config = renderNginxConfig(settings, { runningAsRoot: false });
    expect(config).toContain("log_format cache_use '$msec $status $uri';");
    const useLog = 'access_log "/srv/cache/run/logs/use.log" cache_use if=$cache_use;';
    expect(config.split(useLog)).toHaveLength(3);
  });
});

describe("finding nginx", () => {
  let empty: string;
  beforeAll(() => {
    empty = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-nopath-"));
  });
  afterAll(() => fs.rmSync(empty, { recursive: true, force: true }));

  it("tells a non-root user how to install nginx instead of trying", async () => {
    await expect(ensureNginx({ searchPath: empty, runningAsRoot: false })).rejects.toThrow(
      /nginx is not installed.*sudo apt-get install -y nginx/,
    );
  });

  it("says so when root has no apt-get to install with", async () => {
    await expect(ensureNginx({ searchPath: empty, runningAsRoot: true })).rejects.toThrow(/apt-get was not found/);
  });

  it("shows apt-get's output and fails with the install command when apt-get cannot install it", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "remote-cache-apt-"));
    try {
      fs.writeFileSync(path.join(bin, "apt-get"), '#!/bin/sh\necho "E: Unable to locate package nginx" >&2\nexit 100\n', {
        mode: 0o755,
      });
      const output: string[] = [];
      await expect(
        ensureNginx({ searchPath: bin, runningAsRoot: true, output: { write: (text: string) => output.push(text) } }),
      ).rejects.toThrow(/apt-get -o DPkg::Lock::Timeout=120 update failed \(exit 100\).*apt-get install -y nginx/);
      expect(output.join("")).toContain("E: Unable to locate package nginx");
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
