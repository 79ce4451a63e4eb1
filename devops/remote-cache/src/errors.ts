/** A problem the user can fix (bad flag, missing nginx, busy port): the CLI prints the message and exits 1. */
export class RemoteCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteCacheError";
  }
}
