/** What both services share, written once: the app frame, the process lifecycle and safe data files. */
export { createServiceApp, HttpError, ServiceAppOptions } from "./app";
export {
  ConfigError,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  integerFromEnv,
  portFromEnv,
  RunningServer,
  runService,
  RunServiceOptions,
  ShutdownOutcome,
  startServer,
  StartServerOptions,
} from "./server";
export { DataFileError, loadJsonDataFile } from "./files";
export { FileContent, writeFileAtomic, writeJsonFileAtomic } from "@monorepo/files";
export { ReadinessState, ReadinessStatus } from "@monorepo/health";
