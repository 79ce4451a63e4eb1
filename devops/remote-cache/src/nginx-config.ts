import fs from "node:fs";
import path from "node:path";
import { RemoteCacheError } from "./errors";
import { type CacheSettings, listenAddress, pathsFor } from "./settings";

/**
 * The template lives at the package's top (not in src/) so it is one reviewable file, shipped as
 * data; this module runs from dist/src/.
 */
export const TEMPLATE_FILE = path.resolve(__dirname, "..", "..", "nginx.conf.template");

/**
 * Replaces every {{name}} with values[name]. A placeholder without a value, or a value no
 * placeholder uses, is an error: a half-rendered nginx config would fail far from the cause.
 */
export function renderTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const rendered = template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    if (!Object.hasOwn(values, name)) {
      throw new RemoteCacheError(`nginx template: no value for {{${name}}}`);
    }
    used.add(name);
    return values[name];
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) {
    throw new RemoteCacheError(`nginx template: no placeholder for ${unused.map((n) => `{{${n}}}`).join(", ")}`);
  }
  return rendered;
}

export interface RenderOptions {
  /** nginx started as root drops its workers to `nobody`, who cannot write the cache (nor enter /root). */
  runningAsRoot: boolean;
  template?: string;
}

export function renderNginxConfig(settings: CacheSettings, options: RenderOptions): string {
  const paths = pathsFor(settings.dir);
  const template = options.template ?? fs.readFileSync(TEMPLATE_FILE, "utf8");
  return renderTemplate(template, {
    worker_user: options.runningAsRoot ? "user root;" : "# Not started as root: the workers run as the user who started the server.",
    run_dir: paths.runDir,
    log_dir: paths.logDir,
    tmp_dir: paths.tmpDir,
    cache_dir: paths.cacheDir,
    read_write_listen: listenAddress(settings.host, settings.port),
    read_only_listen: listenAddress(settings.host, settings.readOnlyPort),
    health_file: paths.healthFile,
    read_write_auth: settings.htpasswd
      ? `        auth_basic "Bazel remote cache (write)";\n        auth_basic_user_file "${settings.htpasswd}";`
      : "        # No --htpasswd: anyone who reaches this port can write.",
  });
}
