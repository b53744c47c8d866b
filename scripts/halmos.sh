#!/usr/bin/env bash
# Symbolic proofs (contracts/test/halmos): EIP-712 digests bind chain id, contract, nonce, signer and the
# signed fields; the escrow and burn splits never create or lose a wei.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${CAIRN_CACHE:-$HOME/.cache/cairn}/halmos-venv
version=0.3.3
if ! "$venv/bin/halmos" --version 2>/dev/null | grep -q "$version"; then
  echo "==> installing halmos $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "halmos==$version" || { echo "halmos: could not install halmos==$version" >&2; exit 1; }
fi
"$venv/bin/halmos" --contract CairnProofs --solver-timeout-assertion 60000
