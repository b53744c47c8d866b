#!/usr/bin/env bash
# make mutate: slither-mutate on JobMarket, OperatorRegistry and ReexecutionCommittee, judged by the whole
# forge suite under the light `mutate` profile, each mutant with a timeout of 3x the measured baseline.
# Runs in a scratch clone (mutants are written into the sources). Not part of .ci/run: it takes hours.
#
#   CAIRN_MUTATE_CONTRACTS=JobMarket make mutate     # one contract per run (each run keeps its own log)
#   CAIRN_MUTATORS=RR,CR make mutate                 # a subset of mutators
#
# Each run writes bench/results/mutation-<contracts>.log; the report (bench/mutation.md, committed; `make
# bench` folds it into BENCHMARKS.md) is rebuilt from every log present, so split campaigns add up.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/slither.sh" >/dev/null # installs the pinned slither (and so slither-mutate)
venv=${CAIRN_CACHE:-$HOME/.cache/cairn}/slither-venv
contracts=${CAIRN_MUTATE_CONTRACTS:-JobMarket,OperatorRegistry,ReexecutionCommittee}
mutators=${CAIRN_MUTATORS:-ROR,LOR,AOR,ASOR,MIA,CR,RR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$work"
ln -s "$root/node_modules" "$work/node_modules"
ln -s "$root/.tools" "$work/.tools"
cd "$work"
export FOUNDRY_PROFILE=mutate
test_cmd="forge test --no-match-path contracts/test/halmos/*"
echo "==> baseline: clean build + full suite"
start=$(date +%s)
forge clean >/dev/null
$test_cmd >/dev/null
baseline=$(( $(date +%s) - start ))
timeout=$(( 3 * baseline + 3 ))
echo "    baseline ${baseline}s, timeout per mutant ${timeout}s"
mkdir -p "$root/bench/results"
log=$root/bench/results/mutation-${contracts//,/-}.log
echo "# cairn-mutate baseline=${baseline} timeout=${timeout} mutators=${mutators} commit=$(git -C "$root" rev-parse --short HEAD)" >"$log"
"$venv/bin/slither-mutate" . --test-cmd "$test_cmd" --test-dir contracts/test --ignore-dirs "node_modules,contracts/test,lib" \
  --contract-names "$contracts" --mutators-to-run "$mutators" --timeout "$timeout" -v 2>&1 | tee -a "$log"
python3 "$root/scripts/mutation_report.py" "$root"/bench/results/mutation-*.log >"$root/bench/mutation.md"
cat "$root/bench/mutation.md"
