/** What both services share, written once: the app frame, configuration, the process lifecycle and safe data files. */

export { FileContent, removeStaleTempFiles, WriteFileAtomicOptions, writeFileAtomic, writeJsonFileAtomic } from "@monorepo/files";
export { ReadinessState, ReadinessStatus } from "@monorepo/health";
export { createServiceApp, describeJson, jsonObjectBody, RouteHandler, RouteMethods, RouteTable, ServiceAppOptions } from "./app";
export {
  ConfigError,
  callerDirectory,
  DEFAULT_HOST,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  Env,
  filePathFromEnv,
  hostFromEnv,
  integerFromEnv,
  MAX_SHUTDOWN_TIMEOUT_MS,
  portFromEnv,
  ServiceConfig,
  serviceConfigFromEnv,
} from "./config";
export { HttpError, ShuttingDownError } from "./errors";
export { DataFileError, loadJsonDataFile } from "./files";
export { ServiceLifecycle } from "./lifecycle";
export { ExitCode, RunningServer, RunServiceOptions, runService, ShutdownOutcome, StartServerOptions, startServer } from "./server";
