export { RemoteCacheError } from "./errors";
export { ensureNginx, findExecutable } from "./nginx-binary";
export type { EnsureNginxOptions, TextSink } from "./nginx-binary";
export { renderNginxConfig, renderTemplate, TEMPLATE_FILE } from "./nginx-config";
export { findRunning, serverStatus, startServer, stopServer } from "./server";
export type { RunningServer, ServerStatus, StartOptions, StartResult, StopResult } from "./server";
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_READ_ONLY_PORT,
  defaultDir,
  listenAddress,
  localUrl,
  pathsFor,
  resolveSettings,
} from "./settings";
export type { CachePaths, CacheSettings, SettingsInput } from "./settings";
