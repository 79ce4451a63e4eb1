/** A local server that is missing or did not start (PostgreSQL, moto_server); the message says what to do. */
export class LocalServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocalServerError";
  }
}
