#!/usr/bin/env node
import { type CliSpec, type ContextInput, runCli as runConventionalCli, runMain } from "@monorepo/cli";
import { createIntegrations } from "@monorepo/integrations";
import { MaintenanceCommand, type MaintenanceContext } from "./command";

export const MAINTENANCE_CLI: CliSpec<MaintenanceContext> = {
  binaryName: "maintenance",
  binaryLabel: "ACME maintenance",
  commands: [MaintenanceCommand],
};

/** Parses argv and runs maintenance; resolves with the exit code its --help lists. */
export function runCli(argv: string[], context: ContextInput<MaintenanceContext>): Promise<number> {
  return runConventionalCli(MAINTENANCE_CLI, argv, context);
}

if (require.main === module) runMain(MAINTENANCE_CLI, { cwd: process.cwd(), createClients: createIntegrations });
