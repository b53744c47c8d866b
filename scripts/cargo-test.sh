#!/usr/bin/env bash
# `cargo test "$@"`, its output kept in $CAIRN_CACHE/logs/cargo-test.log; when it fails, each failed test's
# panic message is printed again at the very end.
#
# Why: an integration test's failure report is its captured output (follower warnings, round logs), then the
# panic message, then a backtrace. A CI excerpt that keeps the first and the last lines of a long log cuts the
# message out (CI lost the message of a random-reorg round that way). The summary puts it where it is kept.
set -uo pipefail

logs="${CAIRN_CACHE:-$HOME/.cache/cairn}/logs"
mkdir -p "$logs"
log="$logs/cargo-test.log"

cargo test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "==> cargo test $* failed (exit $status); the panic messages (the whole output: $log):"
    # A panic report: `thread '<test>' panicked at <file:line:col>:`, the message, then a backtrace or a note.
    awk '
        /^thread .* panicked at / { shown = 0; printing = 1; print; next }
        printing && (/^stack backtrace:/ || /^note: / || /^---- / || /^failures:/) { printing = 0; print "" }
        printing && shown < 40 { print; shown++ }
    ' "$log"
fi
exit "$status"
