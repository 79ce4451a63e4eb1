/** What the packages' tests share: following real child processes, quiet loggers, polling, and the workspace around them. */
export { isRunning, NodeExit, NodeProcess, NodeRun, runNode, RunNodeOptions, startCommand, StartCommandOptions, startNode } from "./processes";
export { logMessage, logRecords, memoryLogger, MemoryLogger } from "./logs";
export { waitFor } from "./wait-for";
export { pnpmCommand, PnpmRuns, pnpmRuns, workspaceRoot } from "./workspace";
