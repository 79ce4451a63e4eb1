/** Throwaway servers on 127.0.0.1 for tests and local runs, started from the host's own programs. */
export { LocalServerError } from "./errors";
export {
  findPostgresBinaries,
  type PostgresBinaries,
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
} from "./postgres";
export { type Answer, type Decision, type Intercept, type ProxiedRequest, type RecordingProxy, startRecordingProxy } from "./proxy";
export { findMotoServer, type S3Server, type StartS3ServerOptions, startS3Server } from "./s3";
