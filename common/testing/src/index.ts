/** What the packages' tests share: following real child processes, quiet loggers, and polling. */
export { NodeExit, NodeProcess, NodeRun, runNode, RunNodeOptions, startNode } from "./processes";
export { logMessage, memoryLogger, MemoryLogger } from "./logs";
export { waitFor } from "./wait-for";
