#!/usr/bin/env node
import { type CliSpec, runMain } from "@monorepo/cli";
import { LocalMaintenanceCommand } from "./local";

/** `pnpm maintenance:local`: maintenance against throwaway local servers, for trying it out and for demos. */
export const LOCAL_MAINTENANCE_CLI: CliSpec = {
  binaryName: "maintenance-local",
  binaryLabel: "ACME maintenance on local servers",
  commands: [LocalMaintenanceCommand],
};

if (require.main === module) runMain(LOCAL_MAINTENANCE_CLI, {});
