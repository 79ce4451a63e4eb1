export { RemoteCacheError } from "./errors";
export type { CacheEntry, EvictorOptions, Health, SweepResult, Use } from "./evictor";
export {
  EntrySizes,
  Evictor,
  LOW_WATER_FRACTION,
  LogFollower,
  lowWaterBytes,
  parseUse,
  recordUses,
  scanCache,
  sweep,
} from "./evictor";
export type { EnsureNginxOptions, TextSink } from "./nginx-binary";
export { ensureNginx, findExecutable } from "./nginx-binary";
export { renderNginxConfig, renderTemplate, TEMPLATE_FILE } from "./nginx-config";
export type { RunningServer, ServerStatus, StartOptions, StartResult, StopResult } from "./server";
export { findEvictor, findRunning, runEvictor, serverStatus, startServer, stopServer } from "./server";
export type { CachePaths, CacheSettings, SettingsInput } from "./settings";
export {
  DEFAULT_HOST,
  DEFAULT_MAX_SIZE,
  DEFAULT_PORT,
  DEFAULT_READ_ONLY_PORT,
  defaultDir,
  listenAddress,
  localUrl,
  pathsFor,
  resolveSettings,
} from "./settings";
export { formatSize, parseSize } from "./size";
