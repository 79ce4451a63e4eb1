// Runfiles-layout test mode: jest_test targets run as Bazel would lay them out and start them.

export type { AttemptStatus, RunfilesAttempt, RunfilesReport, RunfilesTargetReport, RunfilesTestOptions, TargetStatus } from "./run";
export { isGreen, runRunfilesTests } from "./run";
