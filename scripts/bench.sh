#!/usr/bin/env bash
# make bench: runs every benchmark and writes BENCHMARKS.md from their sections (bench/results/*.md).
# Each benchmark measures its reference in the same run, so the ratios compare like with like.
#   CAIRN_BENCH_ONLY=gas,mutation make bench   # rerun some sections (publish, embed, gas, incentives, mutation, indexer, runner, market) and keep
#                                              # the others from the last run (gas is deterministic, so it can
#                                              # be rerun while the machine is busy; timings cannot)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results=$root/bench/results
only=${CAIRN_BENCH_ONLY:-publish,embed,gas,incentives,mutation,indexer,runner,market}
wants() { [[ ",$only," == *",$1,"* ]]; }
mkdir -p "$results"
# bench/results/ is not committed: on a fresh clone, the sections kept from the last run come from the committed
# BENCHMARKS.md, so a partial rerun (CAIRN_BENCH_ONLY) never drops them.
python3 - "$results" <<'PY'
import pathlib, re, sys
results = pathlib.Path(sys.argv[1])
files = {"## Publish cost": "10-publish.md", "## Publish end to end": "11-publish-cli.md",
         "## Embedding throughput": "20-embed.md", "## Contract gas": "25-gas.md", "## Incentives": "27-incentives.md",
         "## Mutation testing": "30-mutation.md", "## Indexer": "40-indexer.md",
         "## Operators' service": "45-runner.md", "## Market under load": "50-market.md"}
committed = pathlib.Path("BENCHMARKS.md")
for section in re.split(r"(?m)^(?=## )", committed.read_text() if committed.exists() else "")[1:]:
    name = next((f for heading, f in files.items() if section.startswith(heading)), None)
    if name and not (results / name).exists():
        (results / name).write_text(section.rstrip("\n") + "\n")
PY
wants publish && rm -f "$results/10-publish.md" "$results/11-publish-cli.md"
wants embed && rm -f "$results/20-embed.md"
wants gas && rm -f "$results/25-gas.md" "$results/gas.jsonl"
wants incentives && rm -f "$results/27-incentives.md" "$results/incentives.jsonl"
wants mutation && rm -f "$results/30-mutation.md"
wants indexer && rm -f "$results/40-indexer.md"
wants runner && rm -f "$results/45-runner.md"
wants market && rm -f "$results/50-market.md"
export CAIRN_CACHE=${CAIRN_CACHE:-$HOME/.cache/cairn}

if wants publish; then
echo "==> publish cost (cairn-ipfs vs ipfs add, sha256 vs sha256sum)"
CAIRN_BENCH_OUT=$results/10-publish.md cargo bench --locked -p cairn-ipfs --bench publish
echo "==> publish end to end (cairn model publish vs ipfs add -r; fresh anvil + Kubo per trial)"
CAIRN_BENCH_OUT=$results/11-publish-cli.md cargo bench --locked -p cairn-cli --bench publish
{ echo; cat services/cli/benches/publish-attempts.md; } >>"$results/11-publish-cli.md"
fi

if wants embed; then
echo "==> embedding throughput (cairn-runner vs ONNX Runtime and PyTorch sentence-transformers)"
# shellcheck source=pyvenv.sh
source scripts/pyvenv.sh
venv=$CAIRN_CACHE/py-ref
torch_why=""
if ! ensure_venv "$venv" "python -c 'import sentence_transformers, torch'" \
  "sentence-transformers==6.2.0" "torch==2.15.0" >"$results/pip.log" 2>&1; then
  torch_why="pip could not install sentence-transformers/torch: $(tail -1 "$results/pip.log")"
  echo "    $torch_why"
fi
ort_why=""
if [[ -n $torch_why ]]; then
  ort_why="the ONNX graph is exported with torch, which could not be installed"
elif ! ensure_venv "$venv" "python -c 'import onnxruntime, onnx'" \
  "sentence-transformers==6.2.0" "torch==2.15.0" "onnxruntime==1.32.0" "onnx==1.23.2" >>"$results/pip.log" 2>&1; then
  ort_why="pip could not install onnxruntime/onnx: $(tail -1 "$results/pip.log")"
  echo "    $ort_why"
fi
cargo build --locked --release -p cairn-cli -p cairn-runner  # the set scripts/demo.py --release builds: one feature unification, one build
python=$venv/bin/python
[[ -x $python ]] || python=python3
"$python" gpu-runner/bench/embed_bench.py --python "$python" --torch-unavailable "$torch_why" \
  --ort-unavailable "$ort_why" --latency 300 \
  --runner "${CARGO_TARGET_DIR:-target}/release/cairn-runner" --model .tools/models/all-MiniLM-L6-v2 \
  --manifest toolchain/all-MiniLM-L6-v2.sha256 --out "$results/20-embed.md.table"
{
  echo "## Embedding throughput (\`candle/bert-embed@1\`, issues #5 and #18)"
  echo
  cat "$results/20-embed.md.table"
  echo
  cat gpu-runner/bench/attempts.md
} >"$results/20-embed.md"
rm -f "$results/20-embed.md.table"
fi

if wants gas; then
echo "==> contract gas against its floor (forge --isolate)"
FOUNDRY_PROFILE=default FOUNDRY_TEST=contracts/bench forge test --isolate --match-contract GasBench >/dev/null
python3 - "$results/gas.jsonl" >"$results/25-gas.md" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("## Contract gas (issue #3)\n")
print("Each operation as its own transaction (`forge test --isolate`, `contracts/bench/GasBench.t.sol`), steady state "
      "(counters, balances, locks already non-zero). Floor = 21,000 + calldata + EIP-2929/2200 cost of every slot "
      "the operation must read or write + cold accounts + logs (sized from the events' real data) + precompiles + "
      "ETH sent by a call (9,000 less the 2,300 stipend the callee gets). Goal: within 10% of the floor.\n")
print("| operation | gas | floor | ratio | note |\n|---|---|---|---|---|")
for r in rows:
    ratio = r["gas"] / r["floor"]
    flag = "" if ratio <= 1.10 else " ⚠"
    print(f"| {r['op']} | {r['gas']:,} | {r['floor']:,} | {ratio:.3f}×{flag} | {r['why']} |")
PY
# The jury draw through the juror pool at 10,000 jurors (issue #12); its set-up needs more than forge's default gas.
FOUNDRY_GAS_LIMIT=18446744073709551615 FOUNDRY_PROFILE=default FOUNDRY_TEST=contracts/bench \
  forge test --match-contract JuryScaleBench >/dev/null
python3 - "$results/jury-gas.jsonl" >>"$results/25-gas.md" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("\nThe jury at scale (`contracts/bench/JuryScale.t.sol`, issue #12): 10,000 jurors of one or two seats in the "
      "juror pool's K = 4 sortition sum tree; each figure a transaction's (the call with every slot of the contracts "
      "it touches cold, `vm.cool`, + 21,000 + calldata; `--isolate` gives the same within 5,000 gas). A draw costs "
      "O(seats × log n).\n")
print("| operation at 10,000 jurors | gas |\n|---|---|")
for r in rows:
    print(f"| {r['op']} | {r['gas']:,} |")
PY
fi
if wants incentives; then
echo "==> incentives: every role's profit through the real flow at 0.001 to 10 ETH (contracts/test/Incentives.t.sol)"
FOUNDRY_PROFILE=default forge test --match-contract IncentivesTable >/dev/null
# The compute cost per job from the market section (the runner's own compute time per job, p50).
python3 - "$results/incentives.jsonl" "$results/50-market.md" "$results/incentives-production.jsonl" \
  >"$results/27-incentives.md" <<'PY'
import json, pathlib, re, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
runner = pathlib.Path(sys.argv[2])
found = re.search(r"compute per job[^|]*\|\s*([\d.]+) ms", runner.read_text()) if runner.exists() else None
ms = float(found.group(1)) if found else 100.0
CORE_HOUR_USD, ETH_USD, RATE, YEAR = 0.05, 3000.0, 0.10, 365 * 86400
c = ms / 3.6e6 * CORE_HOUR_USD / ETH_USD  # ETH per job
print("## Incentives (issue #12, disputes v2)\n")
print(f"Expected profit of each role, in ETH, through the real contracts (`contracts/test/Incentives.t.sol`: every flow "
      f"isolated, every party's worth measured before and after, the changes plus the protocol's holdings summing to "
      f"zero to the wei in each). Parameters: bond max(0.25 ETH, 4× the payment), audit safety factor 1.25 (each job's "
      f"own rate and premium), fee 0.03 ETH, keeper reward 0.001 ETH, ν = 0.1 ETH, ψ = 0.05 ETH, 3 seats of 0.5 ETH, "
      f"canaries on 2% of seats (half bad). **Compute cost** c = {c:.2e} ETH per job: {ms:g} ms of one core (the "
      f"runner's own p50 in the market section below{'' if found else ', assumed: no runner section yet'}) at ${CORE_HOUR_USD} per core-hour "
      f"and ${ETH_USD:,.0f} per ETH; charged to the roles that re-run the job (the lazy juror's gain row credits it 10⁻⁶ ETH, thousands of times c). "
      f"**Capital rate** {RATE:.0%} a year on what a role keeps locked (the bond through the 1-hour challenge window, "
      f"a seat through the 20-minute commit and reveal). Transaction fees are left out (an L2's are below 10⁻⁵ ETH "
      f"per call). A silent or bribed juror's row is before any bribe: a bribe must exceed it to pay; the "
      f"pool-exhausting accused pays per decoy and saves nothing, since a dispute short of seats waits (no ruling 0) "
      f"until its expiry, 30 days per 4 ETH of bond, and disputes waiting at once wait the sum of their waits (at most "
      f"365 days), which costs more decoys than the bonds save from ~20 seats while up to 48.7 ETH waits and, at "
      f"the cap, from ~38 seats while up to 100 ETH waits, under the production profile (docs/ARCHITECTURE.md, \"A wait has an end\"). "
      f"**The lazy juror** always votes "
      f"\"acceptable\" without re-running; its row counts every seat that is not a bad canary as coherent, the best "
      f"case for it (a real garbage dispute would cost it ψ too), and \"always not acceptable\" is its mirror on the "
      f"good canaries. It still earns per seat, as the honest juror does (the fee is paid for holding the seat), but "
      f"less than re-running would have earned it: its choice is between the two, and the gain row below it is "
      f"negative at every size.\n")
def table(rows):
    sizes = sorted({int(r["size"]) for r in rows})
    roles = list(dict.fromkeys(r["role"] for r in rows))
    print("| role | " + " | ".join(f"{s / 1e18:g} ETH" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for role in roles:
        cells = []
        for s in sizes:
            r = next(x for x in rows if x["role"] == role and int(x["size"]) == s)
            net = int(r["profit"]) / 1e18 - int(r["locked"]) / 1e18 * RATE * r["lockSeconds"] / YEAR
            if r["computes"]:
                net -= c
            cells.append(f"{net:+.6f}")
        print(f"| {role} | " + " | ".join(cells) + " |")
table(rows)
print("\n**Production profile** (`IncentivesTableProduction`; cairn-deploy's defaults for base and optimism; "
      "arbitrum-one's 24-hour periods double a seat's lock): committee fee 0.01 ETH (the production default), "
      "36-hour challenge window, 30-minute claims, 12-hour commit, reveal and appeal periods, so a bond is locked "
      "about 36 hours and a seat 36 (commit, reveal and the unappealed appeal period); the rest as above. The "
      "juror rows are per draw: a seat's stake is held all year (0.05 ETH of capital at 10%), so an honest seat "
      "breaks even at ~17 draws a year at this fee; docs/ARCHITECTURE.md (\"production committee fee\") sizes the "
      "pool that a market's dispute volume sustains.\n")
table([json.loads(line) for line in open(sys.argv[3])])
PY
fi
if wants mutation && [[ -f bench/mutation.md ]]; then cp bench/mutation.md "$results/30-mutation.md"; fi

if wants indexer; then
echo "==> indexer backfill vs raw eth_getLogs, follow lag, API latency (fresh anvil + PostgreSQL; ~10 min)"
# The bench deploys contracts/test/bench/EventBurst.sol from forge's out/ (it runs forge build itself too).
FOUNDRY_PROFILE=default forge build >/dev/null
CAIRN_BENCH_OUT=$results/40-indexer.md cargo bench --locked -p cairn-indexer --bench indexer
fi

if wants runner; then
echo "==> operators' service: request → ResultSubmitted latency by phase, throughput at full queue (anvil + Kubo)"
CAIRN_BENCH_OUT=$results/45-runner.md cargo bench --locked -p cairn-runner --bench runner
fi

if wants market; then
echo "==> the market under load (50 jobs, 3 buyers, 3 runners, one anvil; make demo's services)"
scripts/demo.py --release --bench 50 --bench-out "$results/50-market.md"
fi

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# `-dirty` when the measured tree had uncommitted changes.
stamp="on $(date -u +%Y-%m-%d) at commit $(git describe --always --dirty 2>/dev/null || echo unknown)"
# Read before the redirect below truncates the file.
previous=""
if [[ -f BENCHMARKS.md ]]; then previous=$(awk 'NR > 2 && /^## / {exit} NR > 2' BENCHMARKS.md | sed -e '/^$/d'); fi
{
  echo "# Benchmarks"
  echo
  if [[ -n ${CAIRN_BENCH_ONLY:-} && -n $previous ]]; then
    # A partial run keeps the history of the sections it did not rerun and adds its own line.
    echo "$previous"
    echo "Sections rerun by \`CAIRN_BENCH_ONLY=$only make bench\` $stamp: $only ($machine)."
  else
    echo "Written by \`make bench\` $stamp. Machine: $machine. Every ratio is against a reference measured in the same run."
  fi
  echo
  for section in "$results"/*.md; do
    cat "$section"
    echo
  done
} >BENCHMARKS.md
echo "==> wrote BENCHMARKS.md"
