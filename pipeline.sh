#!/usr/bin/env bash
# Entry point of the delivery pipeline. On a fresh machine with only Node.js >= 20, npm and git, it
# installs the dependencies (with any pnpm 10, else the pinned one through npx), builds the pipeline
# itself with tsc --build, then hands over to the TypeScript CLI (devops/pipeline/src/cli.ts, run from dist/), where all the logic lives and
# is tested.
#
#   ./pipeline.sh test                    every package's test target (what CI and the README run)
#   ./pipeline.sh ci [--base REV] [--all] build and test what the change affects
#   VERSION=1.2.3 ./pipeline.sh cd        maintenance, then publish and deploy changed services
#   ./pipeline.sh perf                    the trading performance suite
#   ./pipeline.sh <command> --help        options
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

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
node_version=$(node --version)
major=${node_version#v}
((${major%%.*} >= 20)) || die "Node.js >= 20 is required, this is $node_version"
command -v git >/dev/null || die "git is required (the pipeline diffs changes with it)"

# pnpm, needed only to install: any pnpm 10 on PATH (pnpm-workspace.yaml stops it from switching to
# the pinned version), otherwise the version package.json pins, through npx. Not corepack: it
# cannot verify pnpm 10's signature where the registry serves none.
pnpm_for_install() {
  local version
  version=$(pnpm --version 2>/dev/null || true)
  if [[ $version == 10.* ]]; then
    PNPM=(pnpm)
    PNPM_SOURCE="pnpm $version from PATH"
  else
    command -v npx >/dev/null || die "neither pnpm 10 nor npx is on PATH"
    local pinned
    pinned=$(node -p 'require("./package.json").packageManager')
    PNPM=(npx -y "$pinned")
    PNPM_SOURCE="$pinned through npx (no pnpm 10 on PATH)"
  fi
}

# Install when node_modules does not hold what the lockfile says: pnpm keeps a copy of the lockfile it
# installed from in node_modules/.pnpm/lock.yaml. Its output goes to a log, shown only when it fails,
# so that the screen keeps one line per stage. When it is current, pnpm is not run at all.
started=$(now_ms)
mkdir -p .pipeline
if ! cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml; then
  pnpm_for_install
  "${PNPM[@]}" install --frozen-lockfile >"$INSTALL_LOG" 2>&1 ||
    { cat "$INSTALL_LOG" >&2; die "${PNPM[*]} install --frozen-lockfile failed (log: $INSTALL_LOG)"; }
  stage install "$started" "$PNPM_SOURCE: install --frozen-lockfile (log: $INSTALL_LOG)"
else
  stage install "$started" "node_modules installed from this lockfile"
fi

# Build the pipeline with tsc's own up-to-date check: `tsc --build` follows its tsconfig's references
# to the workspace packages it is made of and compiles only what changed (when nothing did, it only
# compares timestamps). The CLI's build stage then finds these up to date. The CLI answers usage
# errors and --help itself, after this build, so that what it says always matches its sources.
started=$(now_ms)
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
  projects="projects"
  [ "$compiled" -eq 1 ] && projects="project"
  stage bootstrap "$started" "tsc --build $PIPELINE_DIR: compiled $compiled $projects (log: $BOOTSTRAP_LOG)"
else
  stage bootstrap "$started" "pipeline up to date (tsc --build $PIPELINE_DIR)"
fi

exec node "$PIPELINE_CLI" "$@"
