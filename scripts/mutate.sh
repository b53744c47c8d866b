#!/usr/bin/env bash
# make mutate: slither-mutate on DisputeDesk, JobMarket, JurorPool, OperatorRegistry and ReexecutionCommittee and the
# libraries disputes v2 added or changed (SortitionSumTree, Splits, BlockhashRandomness), judged by the whole
# forge suite under the light `mutate` profile, each mutant with a timeout of 3x the measured baseline.
# Runs in a scratch clone (mutants are written into the sources). Not part of .ci/run: it takes hours.
#
#   CAIRN_MUTATE_CONTRACTS=JobMarket make mutate     # one contract per run (each run keeps its own log)
#   CAIRN_MUTATORS=RR,CR make mutate                 # a subset of mutators (its own log: mutation-<contracts>-RR-CR.log)
#   make mutate-recheck                              # re-judge every logged survivor and timeout against today's suite
#
# Each run writes bench/mutation/mutation-<contracts>.log (committed, so campaigns run in different sessions
# or on different machines add up); the report (bench/mutation.md, committed; `make bench` folds it into
# BENCHMARKS.md) is rebuilt from every log in that folder.
# slither-mutate runs through scripts/slither_mutate.py, which compiles each mutant once under the tests'
# profile (stock slither-mutate compiles it twice, evicting forge's cache) and logs timeouts apart.
# The survivors (bench/mutation/mutants-<contracts>.jsonl) can be re-judged after new tests are added:
# tests only add checks, so a mutant caught before stays caught, and re-judging the survivors gives the
# figure a full rerun would give (a source change invalidates the offsets: the recheck refuses then).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/slither.sh" >/dev/null # installs the pinned slither (and so slither-mutate)
venv=${CAIRN_CACHE:-$HOME/.cache/cairn}/slither-venv
contracts=${CAIRN_MUTATE_CONTRACTS:-DisputeDesk,JobMarket,JurorPool,OperatorRegistry,ReexecutionCommittee,SortitionSumTree,Splits,BlockhashRandomness}
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
logs=$root/bench/mutation
mkdir -p "$logs"
commit=$(git -C "$root" rev-parse --short HEAD)
if [[ ${1:-} == --recheck ]]; then
  # CAIRN_MUTATE_CONTRACTS=JobMarket rechecks one campaign; unset, every campaign with a survivors file.
  pattern=${CAIRN_MUTATE_CONTRACTS:+mutants-${CAIRN_MUTATE_CONTRACTS//,/-}*.jsonl}
  for survivors in "$logs"/${pattern:-mutants-*.jsonl}; do
    [[ -f $survivors ]] || { echo "no survivors file $survivors: run \`make mutate\` first" >&2; exit 1; }
    name=$(basename "$survivors" .jsonl)
    campaign=$(sed -n '1s/.* commit=\([0-9a-f]*\).*/\1/p' "$logs/mutation-${name#mutants-}.log")
    "$venv/bin/python" "$root/scripts/mutation_recheck.py" "$survivors" "$test_cmd" "$timeout" "$commit" "$root" \
      "$campaign" | tee "$logs/recheck-${name#mutants-}.log"
  done
else
  # A run of some mutators only (CAIRN_MUTATORS) names them, so a contract's campaign can be split across
  # sessions without one run overwriting another's log.
  name=${contracts//,/-}${CAIRN_MUTATORS:+-${CAIRN_MUTATORS//,/-}}
  # Resume: mutants judged by an earlier run of these contracts whose sources have not changed since are
  # skipped (and stay counted in that run's log), so a stopped campaign is finished by a run of what is left.
  # Such a run never reuses an earlier run's name: it is written as <name>-resumed[-N], keeping the earlier log.
  done_runs=()
  sources=()
  for c in ${contracts//,/ }; do
    source=$(git -C "$root" ls-files "contracts/src/$c.sol" "contracts/src/*/$c.sol" | head -1)
    [[ -n $source ]] || { echo "make mutate: no contracts/src/**/$c.sol for $c" >&2; exit 2; }
    sources+=("$source")
  done
  for earlier in "$logs"/mutants-"${contracts//,/-}"*.jsonl; do
    [[ -f $earlier ]] || continue
    run=$(basename "$earlier" .jsonl)
    at=$(sed -n '1s/.* commit=\([0-9a-f]*\).*/\1/p' "$logs/mutation-${run#mutants-}.log")
    if [[ -n $at ]] && git -C "$root" diff --quiet "$at" HEAD -- "${sources[@]}"; then
      done_runs+=("$earlier")
      echo "    skipping the mutants $(basename "$earlier") judged at $at (sources unchanged)"
    elif [[ -n $at ]]; then
      # The sources changed since: that run judged another contract. Its logs leave the report (kept in
      # superseded/, and in git's history) and this run starts the contract's campaign afresh.
      mkdir -p "$logs/superseded"
      for f in "$earlier" "$logs/mutation-${run#mutants-}.log" "$logs/recheck-${run#mutants-}.log"; do
        [[ -e $f ]] && mv "$f" "$logs/superseded/"
      done
      echo "    $(basename "$earlier") was judged at $at, before ${sources[*]} changed: moved to superseded/"
    fi
  done
  # Logs of these contracts without a survivors file (older campaigns) are superseded the same way when
  # their commit's sources differ.
  for earlier in "$logs"/mutation-"${contracts//,/-}"*.log; do
    [[ -f $earlier ]] || continue
    at=$(sed -n '1s/.* commit=\([0-9a-f]*\).*/\1/p' "$earlier")
    if [[ -n $at ]] && ! git -C "$root" diff --quiet "$at" HEAD -- "${sources[@]}"; then
      mkdir -p "$logs/superseded"
      mv "$earlier" "$logs/superseded/"
      recheck=$logs/recheck-$(basename "$earlier" | sed 's/^mutation-//')
      [[ -e $recheck ]] && mv "$recheck" "$logs/superseded/"
      echo "    $(basename "$earlier") was judged at $at, before ${sources[*]} changed: moved to superseded/"
    fi
  done
  if ((${#done_runs[@]})); then
    base=$name-resumed
    name=$base
    n=1
    while [[ -e $logs/mutation-$name.log ]]; do n=$((n + 1)); name=$base-$n; done
  fi
  log=$logs/mutation-$name.log
  export CAIRN_MUTANTS_JSONL=$logs/mutants-$name.jsonl
  rm -f "$CAIRN_MUTANTS_JSONL"
  CAIRN_MUTANTS_DONE=$(IFS=:; echo "${done_runs[*]}")
  export CAIRN_MUTANTS_DONE
  echo "# cairn-mutate baseline=${baseline} timeout=${timeout} mutators=${mutators} commit=$commit" >"$log"
  "$venv/bin/python" "$root/scripts/slither_mutate.py" . --test-cmd "$test_cmd" --test-dir contracts/test \
    --ignore-dirs "node_modules,contracts/test,lib" --output-dir "$work/survivors" \
    --contract-names "$contracts" --mutators-to-run "$mutators" --timeout "$timeout" 2>&1 | tee -a "$log"
fi
shopt -s nullglob
python3 "$root/scripts/mutation_report.py" "$logs"/mutation-*.log "$logs"/recheck-*.log \
  >"$root/bench/mutation.md"
cat "$root/bench/mutation.md"
