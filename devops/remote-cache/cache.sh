#!/usr/bin/env bash
# Thin entry for the Bazel remote cache server: cache.sh start|stop|status [flags] (see README.md).
# All logic lives in src/cli.ts; this only builds it on a fresh checkout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

case "${1:-}" in
  start | stop | status | -h | --help) ;;
  *)
    echo "usage: $0 start|stop|status [--dir DIR] [--port N] [--read-only-port N] [--host ADDR] [--htpasswd FILE]" >&2
    exit 2
    ;;
esac

cli="$here/dist/src/cli.js"
if [[ ! -f "$cli" ]]; then
  if ! command -v pnpm >/dev/null; then
    echo "error: pnpm is needed to build devops/remote-cache (npm install -g pnpm@10.34.5)" >&2
    exit 1
  fi
  echo "building @monorepo/remote-cache (dist/src/cli.js is missing)" >&2
  if [[ ! -d "$here/node_modules/clipanion" ]]; then
    (cd "$root" && pnpm install --frozen-lockfile) >&2
  fi
  (cd "$root" && pnpm -F @monorepo/remote-cache build) >&2
fi

exec node "$cli" "$@"
