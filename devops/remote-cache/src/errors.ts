import { OperationalError } from "@monorepo/cli";

/**
 * A problem the user can fix (bad setting, missing nginx, busy port): the CLI prints the message and
 * exits 1; a bad setting given on the command line becomes a usage error (exit 2) in the CLI.
 */
export class RemoteCacheError extends OperationalError {}
