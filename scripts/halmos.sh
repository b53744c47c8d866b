#!/usr/bin/env bash
# Symbolic proofs (contracts/test/halmos): EIP-712 digests bind chain id, contract, nonce, signer and the
# signed fields; the escrow, settlement (royalty, fee, audit premium, operator share), burn, challenge-pool and
# per-seat splits never create or lose a wei.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=pyvenv.sh
source scripts/pyvenv.sh
venv=${CAIRN_CACHE:-$HOME/.cache/cairn}/halmos-venv
version=0.3.3
ensure_venv "$venv" "halmos --version | grep -q $version" "halmos==$version"
"$venv/bin/halmos" --contract CairnProofs --solver-timeout-assertion 60000
