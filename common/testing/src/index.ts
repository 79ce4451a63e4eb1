/** What the packages' tests share: following real child processes, quiet loggers, polling, and the workspace around them. */

export { logMessage, logRecords, MemoryLogger, memoryLogger } from "./logs";
export {
  isRunning,
  NodeExit,
  NodeProcess,
  NodeRun,
  RunNodeOptions,
  runNode,
  StartCommandOptions,
  startCommand,
  startNode,
} from "./processes";
export { waitFor } from "./wait-for";
export { PnpmRuns, pnpmCommand, pnpmRuns } from "./workspace";
