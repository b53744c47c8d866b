#!/usr/bin/env bash
# make bench: runs every benchmark and writes BENCHMARKS.md from their sections (bench/results/*.md).
# Each benchmark measures its reference in the same run, so the ratios compare like with like.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results=$root/bench/results
rm -rf "$results"
mkdir -p "$results"
export CAIRN_CACHE=${CAIRN_CACHE:-$HOME/.cache/cairn}

echo "==> publish cost (cairn-ipfs vs ipfs add, sha256 vs sha256sum)"
CAIRN_BENCH_OUT=$results/10-publish.md cargo bench --locked -p cairn-ipfs --bench publish

echo "==> embedding throughput (cairn-runner vs PyTorch sentence-transformers)"
venv=$CAIRN_CACHE/py-ref
torch_why=""
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import sentence_transformers, torch" 2>/dev/null; then
  echo "    installing the PyTorch reference into $venv (sentence-transformers 6.2.0, torch 2.15.0; first time only)"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "sentence-transformers==6.2.0" "torch==2.15.0"; } \
    >"$results/pip.log" 2>&1; then
    torch_why="pip could not install sentence-transformers/torch: $(tail -1 "$results/pip.log")"
    echo "    $torch_why"
  fi
fi
cargo build --locked --release -p cairn-runner
python=$venv/bin/python
[[ -x $python ]] || python=python3
"$python" gpu-runner/bench/embed_bench.py --python "$python" --torch-unavailable "$torch_why" \
  --runner "${CARGO_TARGET_DIR:-target}/release/cairn-runner" --model .tools/models/all-MiniLM-L6-v2 \
  --manifest toolchain/all-MiniLM-L6-v2.sha256 --out "$results/20-embed.md.table"
{
  echo "## Embedding throughput (\`candle/bert-embed@1\`, issue #5)"
  echo
  cat "$results/20-embed.md.table"
  echo
  cat gpu-runner/bench/attempts.md
} >"$results/20-embed.md"
rm -f "$results/20-embed.md.table"

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'). Every ratio is against a reference measured in the same run."
  echo
  for section in "$results"/*.md; do
    cat "$section"
    echo
  done
} >BENCHMARKS.md
echo "==> wrote BENCHMARKS.md"
