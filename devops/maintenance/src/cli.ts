#!/usr/bin/env node
import { createSimulatedIntegrations } from "@monorepo/integrations";
import { Cli, type Command } from "clipanion";
import { MaintenanceCommand, type MaintenanceContext } from "./command";
import { EXIT_CODES } from "./maintenance";

export function createCli(): Cli<MaintenanceContext> {
  const cli = new Cli<MaintenanceContext>({ binaryName: "maintenance", binaryLabel: "ACME maintenance", enableColors: false });
  cli.register(MaintenanceCommand);
  return cli;
}

/**
 * Parses argv and runs the command. clipanion reports parse errors (unknown flags,
 * bad numbers) with exit code 1; here they are usage errors, exit 2, and nothing runs.
 */
export async function runCli(argv: string[], context: MaintenanceContext): Promise<number> {
  const cli = createCli();
  let command: Command<MaintenanceContext>;
  try {
    command = cli.process(argv, context);
  } catch (error) {
    context.stderr.write(cli.error(error as Error));
    return EXIT_CODES.usage;
  }
  return cli.run(command, context);
}

/**
 * The first SIGINT/SIGTERM interrupts the run (cleanup and journal still happen);
 * a second one exits at once.
 */
function interruptOnSignals(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`${signal} again: exiting without waiting for cleanup.\n`);
      process.exit(EXIT_CODES.interrupted);
    }
    process.stderr.write(`${signal}: stopping running steps, cleaning up in-flight subsystems, saving the journal (${signal} again exits now).\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    ...Cli.defaultContext,
    cwd: process.cwd(),
    interrupt: interruptOnSignals(),
    createClients: createSimulatedIntegrations,
  }).then((code) => {
    process.exitCode = code;
  });
}
