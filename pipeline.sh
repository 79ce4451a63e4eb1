#!/usr/bin/env bash
# Entry point of the delivery pipeline. On a fresh machine with only Node.js >= 20, npm and git, it
# gets pnpm, installs the dependencies, builds the pipeline itself, then hands over to the TypeScript
# CLI (devops/pipeline/src/cli.ts), where all the logic lives and is tested.
#
#   ./pipeline.sh test                    every package's test target (what CI and the README run)
#   ./pipeline.sh ci [--base REV] [--all] build and test what the change affects
#   VERSION=1.2.3 ./pipeline.sh cd        maintenance, then publish and deploy changed services
#   ./pipeline.sh perf                    the trading performance suite
#   ./pipeline.sh <command> --help        options
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

readonly PNPM_VERSION=10.34.5
readonly INSTALL_STAMP=node_modules/.pipeline-installed
readonly PIPELINE_CLI=devops/pipeline/src/cli.js
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

# Install when node_modules is missing or older than the lockfile or any manifest. Its output goes to
# a log, shown only when it fails, so that the screen keeps one line per stage.
install_is_stale() {
  [ -f "$INSTALL_STAMP" ] || return 0
  local file
  while IFS= read -r -d '' file; do
    [ "$file" -nt "$INSTALL_STAMP" ] && return 0
  done < <(git ls-files -z -- pnpm-lock.yaml pnpm-workspace.yaml package.json '*/package.json' .npmrc)
  return 1
}
started=$(now_ms)
if install_is_stale; then
  mkdir -p "$(dirname "$INSTALL_LOG")"
  pnpm install --frozen-lockfile >"$INSTALL_LOG" 2>&1 ||
    { cat "$INSTALL_LOG" >&2; die "pnpm install --frozen-lockfile failed (log: $INSTALL_LOG)"; }
  touch "$INSTALL_STAMP"
  stage install "$started" "pnpm install --frozen-lockfile (log: $INSTALL_LOG)"
else
  stage install "$started" "node_modules up to date with the lockfile and manifests"
fi

# Build the pipeline and the workspace packages it is made of when any of their sources is newer
# than the pipeline's compiled entry point (or an output is missing). pnpm lists them dependencies
# first; one `tsc --build` compiles them all in one process, which parses the shared declarations
# (@types/node, jest's types) once instead of once per package, as the CLI's build stage does too.
started=$(now_ms)
mapfile -t pipeline_dirs < <(pnpm -r --filter "@monorepo/pipeline..." --workspace-concurrency=1 exec pwd)
[ "${#pipeline_dirs[@]}" -gt 0 ] || die "pnpm lists no @monorepo/pipeline package in this workspace"
pipeline_is_stale() {
  [ -f "$PIPELINE_CLI" ] || return 0
  [ tsconfig.base.json -nt "$PIPELINE_CLI" ] && return 0
  local dir
  for dir in "${pipeline_dirs[@]}"; do
    [ -f "$dir/src/index.js" ] || return 0
  done
  [ -n "$(find "${pipeline_dirs[@]}" -path '*/node_modules' -prune -o \
    \( \( -name '*.ts' ! -name '*.d.ts' \) -o -name package.json -o -name 'tsconfig*.json' \) \
    -newer "$PIPELINE_CLI" -print -quit)" ]
}
# One `tsc --build` does what the packages' build scripts do only while each one is exactly
# `tsc -p tsconfig.json` (the CLI makes the same check before compiling in-process); otherwise their
# scripts run, through pnpm. --force: build, do not second-guess with tsc's own up-to-date check.
build_pipeline() {
  if node -e 'process.exit(process.argv.slice(1).every((dir) => require(dir + "/package.json").scripts?.build === "tsc -p tsconfig.json") ? 0 : 1)' "${pipeline_dirs[@]}"; then
    node_modules/.bin/tsc --build --force "${pipeline_dirs[@]/%//tsconfig.json}"
  else
    pnpm --filter "@monorepo/pipeline..." run build
  fi
}
if pipeline_is_stale; then
  mkdir -p "$(dirname "$BOOTSTRAP_LOG")"
  if ! build_pipeline >"$BOOTSTRAP_LOG" 2>&1; then
    # Every package the pipeline is built with (its tests' dependencies too: a package's build
    # compiles its tests) must compile before the pipeline can run and report anything itself.
    first_error=$(grep -m 1 ': error TS' "$BOOTSTRAP_LOG" || true)
    failed=""
    for dir in "${pipeline_dirs[@]}"; do
      case "$PWD/$first_error" in "$dir"/*) failed=${dir#"$PWD"/} ;; esac
    done
    [ -n "$failed" ] ||
      failed=$(sed -n 's/.*ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL[^@]*\(@[^@ ]*\)@[^ ]* build.*/\1/p' "$BOOTSTRAP_LOG" | head -n 1)
    stage bootstrap "$started" "building the pipeline and its workspace deps failed" FAILED
    sed 's/^/    /' "$BOOTSTRAP_LOG"
    echo "FAILED: ${failed:-the pipeline or one of its workspace deps} (step: build, before the pipeline can run, log: $BOOTSTRAP_LOG)"
    exit 1
  fi
  stage bootstrap "$started" "built the pipeline and its workspace deps (${#pipeline_dirs[@]} packages)"
  # The CLI records these builds so that its own build stage does not redo them.
  export PIPELINE_BOOTSTRAP_BUILT=1
else
  stage bootstrap "$started" "pipeline up to date"
fi

exec node "$PIPELINE_CLI" "$@"
