#!/usr/bin/env bash
# The OpenSSF Model Signing reference verifier (PyPI model-signing 1.1.1 with pyOpenSSL), which cairn-cli's
# tests (services/cli/tests/it/oms.rs) run on the folders `cairn` signs. Installed by `make setup` into
# $CAIRN_OMS_VENV (default $CAIRN_CACHE/oms-venv, i.e. ~/.cache/cairn/oms-venv) with every package pinned
# by scripts/oms-requirements.txt (about 45 s and 95 MiB the first time, with nothing in pip's cache).
# Idempotent: a venv whose model_signing reports 1.1.1 and that was installed from the same requirements
# file is left alone (a second run takes about two seconds, the verifier's start-up).
#
# Key-based signing and verification need no network, so the tests run offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pyvenv.sh
source "$root/scripts/pyvenv.sh"
venv=${CAIRN_OMS_VENV:-${CAIRN_CACHE:-$HOME/.cache/cairn}/oms-venv}
version=1.1.1
reqs=$root/scripts/oms-requirements.txt
# The copy of the requirements file inside the venv records what it was installed from.
ensure_venv "$venv" "model_signing --version | grep -q '$version' && cmp -s ../oms-requirements.txt '$reqs'" \
  -r "$reqs"
cp "$reqs" "$venv/oms-requirements.txt"
echo "    model-signing $version at $venv/bin/model_signing"
