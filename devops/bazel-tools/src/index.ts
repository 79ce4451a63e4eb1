// The runfiles-layout test mode as a library. The BUILD generator and the checks are reached through
// the CLI (src/cli.ts), so importing this module does not load TypeScript or spawn buildifier.
export * from "./runfiles";
