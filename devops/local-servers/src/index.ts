/** Throwaway servers for tests and local runs, started from the host's own binaries. */
export {
  findPostgresBinaries,
  LocalServerError,
  type PostgresBinaries,
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
} from "./postgres";
