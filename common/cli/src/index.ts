/**
 * The convention every command-line tool here follows (clipanion): commands extend BaseCommand, whose
 * catch() maps errors to exit codes; main modules call runMain; list options are listOption.
 */
export { BaseCommand, type CliContext, EXIT_CODES, OperationalError } from "./command";
export { listOption } from "./options";
export { type CliSpec, type ContextInput, runCli, runMain } from "./run";
