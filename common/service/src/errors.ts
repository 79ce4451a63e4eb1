/** An error a route throws to answer with this status and {"error": message}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * 503 for work refused or abandoned because the service is stopping. The message promises what
 * the service guarantees: the request was not carried out, so the client may safely retry it.
 */
export class ShuttingDownError extends HttpError {
  constructor() {
    super(503, "Service is shutting down: the request was not carried out; retry it");
    this.name = "ShuttingDownError";
  }
}
