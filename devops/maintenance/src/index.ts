export { MAINTENANCE_CLI, runCli } from "./cli";
export { MaintenanceCommand, type MaintenanceContext } from "./command";
export {
  type CleanupResult,
  type EngineEvent,
  type EngineOptions,
  type RunResult,
  runPlan,
  type StepResult,
  type StepStatus,
  StepTimeoutError,
  type SubsystemResult,
} from "./engine";
export { defaultJournalPath, resolveUserPath } from "./files";
export {
  byPriority,
  criticalPath,
  estimateWallSeconds,
  GraphError,
  type Plan,
  type Recovery,
  remainingChainSeconds,
  remainingSteps,
  resumableSteps,
  type StepAction,
  type StepDefinition,
  selectSubsystems,
  validateGraph,
  waves,
} from "./graph";
export { Journal, type JournalContent, type JournalEntry, JournalError } from "./journal";
export { LockHeldError, type LockOwner, lockPathFor, RunLock } from "./lock";
export {
  BACKOFF_SECONDS,
  buildPlan,
  EXIT_CODES,
  MAX_ATTEMPTS,
  type MaintenanceOptions,
  type MaintenancePlan,
  type MaintenanceReport,
  type Mode,
  type PlanDescription,
  type PlanOptions,
  planMaintenance,
  runMaintenance,
  type StepTimeouts,
} from "./maintenance";
export { LiveProgress, LogProgress, type Progress } from "./progress";
export { formatBackends, formatPlan, formatSummary } from "./report";
export { CLEANUP_STEPS, MAINTENANCE_STEPS, type MaintenanceStep, SUBSYSTEMS, type Subsystem } from "./steps";
