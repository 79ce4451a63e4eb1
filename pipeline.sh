#!/usr/bin/env bash
# Entry point of the delivery pipeline. On a fresh machine with only Node.js >= 20, npm and git, it
# gets pnpm, installs the dependencies, builds the pipeline itself with tsc --build, then hands over
# to the TypeScript CLI (devops/pipeline/src/cli.ts, run from dist/), where all the logic lives and
# is tested.
#
#   ./pipeline.sh test                    every package's test target (what CI and the README run)
#   ./pipeline.sh ci [--base REV] [--all] build and test what the change affects
#   VERSION=1.2.3 ./pipeline.sh cd        maintenance, then publish and deploy changed services
#   ./pipeline.sh perf                    the trading performance suite
#   ./pipeline.sh <command> --help        options
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

readonly PNPM_VERSION=10.34.5
readonly PIPELINE_DIR=devops/pipeline
readonly PIPELINE_CLI=$PIPELINE_DIR/dist/src/cli.js
readonly INSTALL_LOG=.pipeline/install.log
readonly BOOTSTRAP_LOG=.pipeline/bootstrap.log

die() {
  echo "pipeline.sh: $*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

# Same shape as the CLI's stage lines: name, time, status, detail. Arguments: name, start time,
# detail, status (default ok).
stage() {
  local ms=$(($(now_ms) - $2))
  printf '%-12s %6d.%01ds  %-7s %s\n' "$1" $((ms / 1000)) $((ms % 1000 / 100)) "${4:-ok}" "$3"
}

command -v node >/dev/null || die "Node.js >= 20 is required and is not on PATH"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  die "Node.js >= 20 is required, this is $(node --version)"
command -v git >/dev/null || die "git is required (the pipeline diffs changes with it)"

# pnpm: the pinned version when installed, otherwise through npx. Not corepack: it cannot verify
# pnpm 10's signature on this network.
started=$(now_ms)
if command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
  pnpm() { command pnpm "$@"; }
  stage pnpm "$started" "pnpm $PNPM_VERSION from PATH"
else
  command -v npx >/dev/null || die "neither pnpm $PNPM_VERSION nor npx is on PATH"
  pnpm() { npx -y "pnpm@$PNPM_VERSION" "$@"; }
  pnpm --version >/dev/null || die "could not run pnpm $PNPM_VERSION through npx"
  stage pnpm "$started" "pnpm $PNPM_VERSION through npx (not on PATH)"
fi

# Install when node_modules does not hold what the lockfile says: pnpm keeps a copy of the lockfile it
# installed from in node_modules/.pnpm/lock.yaml. Its output goes to a log, shown only when it fails,
# so that the screen keeps one line per stage.
started=$(now_ms)
if ! cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml; then
  mkdir -p "$(dirname "$INSTALL_LOG")"
  pnpm install --frozen-lockfile >"$INSTALL_LOG" 2>&1 ||
    { cat "$INSTALL_LOG" >&2; die "pnpm install --frozen-lockfile failed (log: $INSTALL_LOG)"; }
  stage install "$started" "pnpm install --frozen-lockfile (log: $INSTALL_LOG)"
else
  stage install "$started" "node_modules installed from this lockfile"
fi

# Build the pipeline with tsc's own up-to-date check: `tsc --build` follows its tsconfig's references
# to the workspace packages it is made of and compiles only what changed. The CLI's build stage then
# finds these up to date.
started=$(now_ms)
mkdir -p "$(dirname "$BOOTSTRAP_LOG")"
if ! node_modules/.bin/tsc --build --verbose "$PIPELINE_DIR" >"$BOOTSTRAP_LOG" 2>&1; then
  # Name the package of the first error: the folder above its file that holds a package.json.
  failed=$(sed -n 's/^\([^(]*\)([0-9]*,[0-9]*): error TS.*/\1/p' "$BOOTSTRAP_LOG" | head -n 1)
  while [ -n "$failed" ] && [ "$failed" != . ] && [ ! -f "$failed/package.json" ]; do failed=$(dirname "$failed"); done
  [ "$failed" = . ] && failed=""
  stage bootstrap "$started" "building the pipeline and its workspace deps failed" FAILED
  # tsc's messages (a message's continuation lines are indented), without --verbose's progress.
  awk '/error TS/ { shown = 1; print "    " $0; next } shown && /^  / { print "    " $0; next } { shown = 0 }' "$BOOTSTRAP_LOG"
  echo "FAILED: ${failed:-the pipeline or one of its workspace deps} (step: build, before the pipeline can run, log: $BOOTSTRAP_LOG)"
  exit 1
fi
compiled=$(grep -c "Building project" "$BOOTSTRAP_LOG" || true)
if [ "$compiled" -gt 0 ]; then
  stage bootstrap "$started" "tsc --build $PIPELINE_DIR: compiled $compiled project(s) (log: $BOOTSTRAP_LOG)"
else
  stage bootstrap "$started" "pipeline up to date (tsc --build $PIPELINE_DIR)"
fi

exec node "$PIPELINE_CLI" "$@"
