#!/usr/bin/env bash
# Builds the buyers' web app (web/ → web/dist, served by cairn-indexer at /app/): `npm ci` when web/node_modules
# does not match web/package-lock.json, then the ABIs from services/bindings/artifacts, the type check, the Vite
# build and the page-weight budget (JS ≤ 300 KiB gzipped). Idempotent; npm's cache is the default ~/.npm.
#   scripts/web.sh [build|test|e2e-deps]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/web"
command -v npm >/dev/null || { echo "web: npm is missing: install Node.js 20 or later" >&2; exit 1; }
# npm ci again only when the lock file changed since the last install.
if ! cmp -s package-lock.json node_modules/.cairn-lock 2>/dev/null; then
  echo "==> npm ci (web/)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.cairn-lock
fi
case ${1:-build} in
  build) npm run --silent build ;;
  test) npm run --silent test ;;
  e2e-deps) ;;
  *) echo "usage: scripts/web.sh [build|test|e2e-deps]" >&2; exit 2 ;;
esac
