#!/usr/bin/env bash
# Slither over contracts/src (through forge, so it uses our solc adapter and OpenZeppelin from node_modules).
# Fails on any medium or high finding (each accepted one carries a `slither-disable-next-line` with its
# reason in the code) and on any `ERROR:` line: those mean Slither silently analysed nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=pyvenv.sh
source scripts/pyvenv.sh
venv=${CAIRN_CACHE:-$HOME/.cache/cairn}/slither-venv
version=0.11.6
ensure_venv "$venv" "slither --version | grep -q $version" "slither-analyzer==$version"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$venv/bin/slither" . --filter-paths "node_modules|contracts/test" --exclude-informational \
  --exclude-optimization --exclude-low --fail-medium >"$log" 2>&1 || status=$?
if grep -q '^ERROR' "$log" || ! grep -q 'analyzed (' "$log"; then
  cat "$log"
  echo "slither: it reported errors or analysed nothing (see above)" >&2
  exit 1
fi
if [[ $status != 0 ]]; then
  cat "$log"
  echo "slither: medium or high findings above; fix them or disable each with a written reason" >&2
  exit 1
fi
echo "slither: $(grep -o 'analyzed ([^)]*)' "$log"), no medium or high findings"
