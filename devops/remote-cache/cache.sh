#!/usr/bin/env bash
# Thin entry for the Bazel remote cache server: cache.sh start|stop|status [flags] (see README.md).
# All logic lives in src/cli.ts; this only builds it on a fresh checkout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The compiled CLI; the only place this script names the build output.
cli="$here/dist/src/cli.js"

case "${1:-}" in
  start | stop | status | evictor | -h | --help) ;;
  *)
    echo "usage: $0 start|stop|status|evictor [--dir DIR] [--port N] [--read-only-port N] [--host ADDR] [--htpasswd FILE] [--max-size SIZE]" >&2
    exit 2
    ;;
esac

# Any pnpm on PATH, else the version the repository pins through npx.
pnpm_for_build() {
  if command -v pnpm >/dev/null; then
    # Any pnpm 10: pnpm-workspace.yaml keeps it from switching to the pinned version.
    pnpm "$@"
  elif command -v npx >/dev/null; then
    local pinned
    pinned="$(node -p 'require(process.argv[1]).packageManager.split("+")[0]' "$root/package.json")"
    npx -y "$pinned" "$@"
  else
    echo "error: building devops/remote-cache needs pnpm or npx on PATH" >&2
    exit 1
  fi
}

if [[ ! -f "$cli" ]]; then
  echo "building @monorepo/remote-cache (${cli#"$here/"} is missing)" >&2
  if [[ ! -d "$here/node_modules/clipanion" ]]; then
    (cd "$root" && pnpm_for_build install --frozen-lockfile) >&2
  fi
  # The package and the workspace packages it depends on, in dependency order.
  (cd "$root" && pnpm_for_build --filter "@monorepo/remote-cache..." build) >&2
fi

exec node "$cli" "$@"
