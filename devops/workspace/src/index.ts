// The workspace model: the pnpm workspace's packages and their graph, and the per-target test
// metadata (test-targets.json). The pipeline and the Bazel tools both read it; it loads neither
// TypeScript nor Bazel tooling, so a change to those does not reach its dependents.
export * from "./test-targets";
export * from "./workspace";
