/**
 * The folder a user's relative path means, which is not always the process's working directory:
 * `bazel run` starts a program in its runfiles tree and names the user's folder in
 * BUILD_WORKING_DIRECTORY; pnpm and npm run a package's scripts in the package folder and name the
 * caller's in INIT_CWD. INIT_CWD is trusted only under the scripts `isUserScript` accepts, since every
 * process a script starts inherits it, tests included.
 */
export function callerDirectory(env: Record<string, string | undefined>, cwd: string, isUserScript: (script: string) => boolean): string {
  if (env.BUILD_WORKING_DIRECTORY) return env.BUILD_WORKING_DIRECTORY;
  if (env.INIT_CWD && isUserScript(env.npm_lifecycle_event ?? "")) return env.INIT_CWD;
  return cwd;
}
