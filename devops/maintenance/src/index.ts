export {
  runPlan,
  StepTimeoutError,
  type CleanupResult,
  type EngineEvent,
  type EngineOptions,
  type RunResult,
  type StepResult,
  type StepStatus,
  type SubsystemResult,
} from "./engine";
export {
  byPriority,
  criticalPath,
  estimateWallSeconds,
  GraphError,
  remainingChainSeconds,
  remainingSteps,
  resumableSteps,
  selectSubsystems,
  validateGraph,
  waves,
  type Plan,
  type Recovery,
  type StepAction,
  type StepDefinition,
} from "./graph";
export { Journal, JournalError, type JournalContent, type JournalEntry } from "./journal";
export { LockHeldError, lockPathFor, RunLock, type LockOwner } from "./lock";
export {
  BACKOFF_SECONDS,
  buildPlan,
  EXIT_CODES,
  MAX_ATTEMPTS,
  planMaintenance,
  runMaintenance,
  type MaintenanceOptions,
  type MaintenancePlan,
  type MaintenanceReport,
  type Mode,
  type PlanDescription,
  type PlanOptions,
} from "./maintenance";
export { formatPlan, formatSummary } from "./report";
export { CLEANUP_STEPS, MAINTENANCE_STEPS, SUBSYSTEMS, type MaintenanceStep, type Subsystem } from "./steps";
export { defaultJournalPath, resolveUserPath } from "./files";
export { LiveProgress, LogProgress, type Progress } from "./progress";
export { MaintenanceCommand, type MaintenanceContext } from "./command";
export { MAINTENANCE_CLI, runCli } from "./cli";
