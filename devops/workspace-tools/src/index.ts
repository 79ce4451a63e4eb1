// The workspace model other packages use. The Bazel generator and checks are reached through the
// CLI (src/cli.ts) so importing this module does not load TypeScript or spawn buildifier.
export * from "./flaky";
export * from "./workspace";
