#!/usr/bin/env bash
# make bench: runs every benchmark and writes BENCHMARKS.md from their sections (bench/results/*.md).
# Each benchmark measures its reference in the same run, so the ratios compare like with like.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results=$root/bench/results
mkdir -p "$results"

echo "==> publish cost (cairn-ipfs vs ipfs add, sha256 vs sha256sum)"
CAIRN_BENCH_OUT=$results/10-publish.md cargo bench --locked -p cairn-ipfs --bench publish

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
