// The workspace model other packages use, and the runfiles-layout test mode the pipeline can run.
// The Bazel generator and checks are reached through the CLI (src/cli.ts), so importing this module
// does not load TypeScript or spawn buildifier.
export * from "./flaky";
export * from "./runfiles";
export * from "./workspace";
