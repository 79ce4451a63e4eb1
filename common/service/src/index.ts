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
export { DataFileError, FileContent, loadJsonDataFile, writeFileAtomic, writeJsonFileAtomic } from "./files";
export { ReadinessState, ReadinessStatus } from "@monorepo/health";
