/**
 * The convention every command-line tool here follows (clipanion): commands extend BaseCommand, whose
 * catch() maps errors to exit codes; main modules call runMain; list options are listOption.
 */
export { BaseCommand, EXIT_CODES, OperationalError, type CliContext } from "./command";
export { listOption } from "./options";
export { runCli, runMain, type CliSpec, type ContextInput } from "./run";
