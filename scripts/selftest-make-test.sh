#!/usr/bin/env bash
# Self-test of the test gate: `make test-contracts` must exit non-zero when a forge test fails.
# (npm's node wrapper of forge exits 0 on failures; CI would then pass broken code.)
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if FOUNDRY_TEST=contracts/selftest make --no-print-directory test-contracts >"$log" 2>&1; then
  cat "$log"
  echo "selftest: FAILED: make test-contracts exited 0 although contracts/selftest holds a failing test"
  echo "0 passed, 1 failed"
  exit 1
fi
if ! grep -q "test_ThisMustFail" "$log"; then
  cat "$log"
  echo "selftest: FAILED: make test-contracts failed, but not because the deliberate test ran and failed"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "selftest: a failing forge test makes make test-contracts exit non-zero, as it must"
echo "1 passed, 0 failed"
