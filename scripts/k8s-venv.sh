#!/usr/bin/env bash
# The Kubernetes manifest validator (PyPI kubernetes-validate 1.37.0, which bundles the API's JSON schemas)
# that gpu-runner's tests (gpu-runner/tests/it/k8s.rs) run on deploy/k8s/ against one pinned Kubernetes
# version, offline. Installed by `make setup` into $CAIRN_K8S_VENV (default $CAIRN_CACHE/k8s-venv, i.e.
# ~/.cache/cairn/k8s-venv) with every package pinned by scripts/k8s-requirements.txt (a 23 MB wheel, a few
# seconds). Idempotent: a venv that reports 1.37.0 and was installed from the same requirements file is
# left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pyvenv.sh
source "$root/scripts/pyvenv.sh"
venv=${CAIRN_K8S_VENV:-${CAIRN_CACHE:-$HOME/.cache/cairn}/k8s-venv}
version=1.37.0
reqs=$root/scripts/k8s-requirements.txt
ensure_venv "$venv" "kubernetes-validate --version | grep -q '$version' && cmp -s ../k8s-requirements.txt '$reqs'" \
  -r "$reqs"
cp "$reqs" "$venv/k8s-requirements.txt"
echo "    kubernetes-validate $version at $venv/bin/kubernetes-validate"
