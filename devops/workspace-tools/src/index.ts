export * from "./flaky";
export * from "./workspace";
export * from "./test-tags";
export { generate, staleFiles, writeFiles, describeStale, flakyAttemptsFlag } from "./generate";
export type { GeneratedFile, Generation, StaleFile } from "./generate";
export { runChecks, formatFindings, CHECKS } from "./checks";
export type { CheckName } from "./checks";
export type { Finding } from "./deps";
