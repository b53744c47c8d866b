#!/usr/bin/env bash
# Local devnet: anvil (chain 31337) + Kubo (offline), in the background on fixed loopback ports, with the
# contracts deployed (deployments/31337.json) and seeded: a seller, a buyer, three staked operators, five
# verifiers and DevToken (keys in .devnet/accounts.json; all derived from public labels: devnet only); and
# cairn-indexer following it into .devnet/indexer.db, its API on CAIRN_INDEXER_PORT, serving the buyers' web app
# (web/dist, built by `make web`) at /app/ with a runner's relay expected on CAIRN_RELAY_PORT.
#   scripts/devnet.sh up|down|status
# State (URLs, pids) in .devnet/state.json; logs in .devnet/logs/; Kubo's repo in .devnet/ipfs.
# Ports: CAIRN_ANVIL_PORT (8545), CAIRN_KUBO_API_PORT (5001), CAIRN_KUBO_GATEWAY_PORT (8080),
# CAIRN_INDEXER_PORT (8088), CAIRN_RELAY_PORT (8090: where the web app finds a relay; `make demo`'s runner-eu
# serves it); the indexer polls every CAIRN_INDEXER_POLL_MS (250).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH=$root/.tools/bin:$PATH

dir=$root/.devnet
state=$dir/state.json
anvil_port=${CAIRN_ANVIL_PORT:-8545}
api_port=${CAIRN_KUBO_API_PORT:-5001}
gateway_port=${CAIRN_KUBO_GATEWAY_PORT:-8080}
indexer_port=${CAIRN_INDEXER_PORT:-8088}
indexer_url=http://127.0.0.1:$indexer_port
indexer_db=$dir/indexer.db
relay_port=${CAIRN_RELAY_PORT:-8090}
anvil_url=http://127.0.0.1:$anvil_port
# anvil's public test account 0: deploys and owns the devnet contracts.
anvil_key0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
kubo_url=http://127.0.0.1:$api_port

die() {
  echo "devnet: error: $*" >&2
  exit 1
}

anvil_answers() {
  curl -sf -m 2 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" 2>/dev/null | grep -q '"0x7a69"'
}

kubo_answers() {
  curl -sf -m 2 -X POST "$1/api/v0/version" >/dev/null 2>&1
}

indexer_answers() {
  curl -s -m 2 "$1/health" 2>/dev/null | grep -q '"chainId"'
}

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

state_field() {
  [[ -f $state ]] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$state" "$1"
}

alive() {
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null
}

wait_for() { # name check url pid log
  local name=$1 check=$2 url=$3 pid=$4 log=$5
  for _ in $(seq 1 300); do
    if "$check" "$url"; then return 0; fi
    if ! alive "$pid"; then
      tail -20 "$log" >&2
      die "$name exited during start-up (log above, full log: $log)"
    fi
    sleep 0.1
  done
  tail -20 "$log" >&2
  die "$name did not answer at $url within 30 s (log: $log)"
}

up() {
  command -v anvil >/dev/null && command -v ipfs >/dev/null || die "anvil or ipfs missing: run \`make setup\`"
  command -v curl >/dev/null || die "curl is needed to check the services (Debian: apt-get install curl)"
  if alive "$(state_field anvil_pid)" && alive "$(state_field kubo_pid)"; then
    echo "devnet already running: chain $(state_field anvil_url), Kubo $(state_field kubo_url)"
    if deploy_tool verify --rpc-url "$(state_field anvil_url)" --deployments-dir "$root/deployments" >/dev/null 2>&1; then
      echo "contracts deployed (deployments/31337.json), actors in .devnet/accounts.json"
      alive "$(state_field indexer_pid)" || start_indexer keep
    else
      deploy_and_seed "$(state_field anvil_url)"
      start_indexer fresh
    fi
    echo "indexer: $indexer_url (health: $indexer_url/health, log: .devnet/logs/indexer.log)"
    return 0
  fi
  down >/dev/null
  for port in "$anvil_port" "$api_port" "$gateway_port" "$indexer_port"; do
    port_busy "$port" && die "port $port is already in use by another process; stop it or set CAIRN_ANVIL_PORT / CAIRN_KUBO_API_PORT / CAIRN_KUBO_GATEWAY_PORT / CAIRN_INDEXER_PORT"
  done
  mkdir -p "$dir/logs"

  echo "==> anvil on $anvil_url (chain id 31337, a block per transaction and one every 2 s)"
  # Cancun, the hard fork the contracts are compiled for (as in cairn-testkit's anvil). Mixed mining: each
  # transaction is mined at once, and an empty block comes every 2 s as on an OP Stack chain, so what waits for
  # a later block (a jury's draw, a job's audit draw) happens on an idle devnet too.
  nohup anvil --host 127.0.0.1 --port "$anvil_port" --chain-id 31337 --hardfork cancun --block-time 2 --mixed-mining \
    >"$dir/logs/anvil.log" 2>&1 &
  local anvil_pid=$!

  echo "==> Kubo on $kubo_url (offline, repo $dir/ipfs)"
  export IPFS_PATH=$dir/ipfs
  if [[ ! -f $IPFS_PATH/config ]]; then
    ipfs init --profile test --empty-repo >"$dir/logs/kubo-init.log" 2>&1 || {
      kill "$anvil_pid" 2>/dev/null
      die "ipfs init failed: $(cat "$dir/logs/kubo-init.log")"
    }
  fi
  ipfs config Addresses.API "/ip4/127.0.0.1/tcp/$api_port" >/dev/null
  ipfs config Addresses.Gateway "/ip4/127.0.0.1/tcp/$gateway_port" >/dev/null
  nohup ipfs daemon --offline >"$dir/logs/kubo.log" 2>&1 &
  local kubo_pid=$!

  cat >"$state" <<JSON
{
  "chain_id": 31337,
  "anvil_url": "$anvil_url",
  "anvil_pid": $anvil_pid,
  "kubo_url": "$kubo_url",
  "kubo_gateway_url": "http://127.0.0.1:$gateway_port",
  "kubo_pid": $kubo_pid,
  "ipfs_path": "$IPFS_PATH"
}
JSON
  wait_for anvil anvil_answers "$anvil_url" "$anvil_pid" "$dir/logs/anvil.log" || { down; exit 1; }
  wait_for Kubo kubo_answers "$kubo_url" "$kubo_pid" "$dir/logs/kubo.log" || { down; exit 1; }
  deploy_and_seed "$anvil_url"
  start_indexer fresh
  echo "devnet up: chain $anvil_url, Kubo RPC $kubo_url, indexer $indexer_url (state: ${state#"$root"/}; stop with \`make devnet-down\`)"
}

# Starts cairn-indexer on the devnet; `fresh` drops its database first (a new chain or a new deployment).
start_indexer() { # fresh|keep
  mkdir -p "$dir/logs"
  local pid
  pid=$(state_field indexer_pid || true)
  if alive "$pid"; then kill "$pid"; for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done; fi
  [[ $1 == fresh ]] && rm -f "$indexer_db" "$indexer_db-wal" "$indexer_db-shm" "$indexer_db.lock"
  echo "==> cairn-indexer on $indexer_url (database .devnet/indexer.db; its first build takes a few minutes)"
  build_tools
  local bin=${CARGO_TARGET_DIR:-$root/target}/debug/cairn-indexer
  CAIRN_LOG=${CAIRN_LOG:-info} nohup "$bin" run --rpc-url "$(state_field anvil_url)" \
    --deployments "$root/deployments/31337.json" --db "sqlite://$indexer_db" \
    --listen "127.0.0.1:$indexer_port" --ipfs-url "$(state_field kubo_url)" --poll-interval-ms "${CAIRN_INDEXER_POLL_MS:-250}" \
    --app-dir "$root/web/dist" --app-gateway-url "$(state_field kubo_gateway_url)" \
    --app-relay-url "http://127.0.0.1:$relay_port" \
    >"$dir/logs/indexer.log" 2>&1 &
  local indexer_pid=$!
  python3 - "$state" "$indexer_pid" "$indexer_url" <<'PY'
import json, sys
path, pid, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
state = json.load(open(path))
state.update(indexer_pid=pid, indexer_url=url, app_url=url + "/app/")
json.dump(state, open(path + ".tmp", "w"), indent=2)
import os; os.replace(path + ".tmp", path)
PY
  wait_for cairn-indexer indexer_answers "$indexer_url" "$indexer_pid" "$dir/logs/indexer.log"
}

# The workspace's binaries, built the way `cargo test --workspace` builds them: the same packages selected, so
# the same features unified and every dependency compiled once for the tests, the devnet and the demo alike (a
# `-p` subset unifies other features and compiled the whole dependency graph again, twice: about 20 min of a cold CI).
build_tools() {
  [[ -n ${CAIRN_TOOLS_BUILT:-} ]] && return 0
  cargo build -q --locked --workspace --bins || die "building the workspace's binaries failed (output above)"
  export CAIRN_TOOLS_BUILT=1
}

deploy_tool() {
  build_tools
  CAIRN_PRIVATE_KEY=$anvil_key0 "${CARGO_TARGET_DIR:-$root/target}/debug/cairn-deploy" "$@"
}

deploy_and_seed() { # rpc_url
  echo "==> deploying the contracts (cairn-deploy; its first build takes a few minutes)"
  deploy_tool deploy --rpc-url "$1" --deployments-dir "$root/deployments" --force ||
    die "deploying the contracts failed (output above); the chain is still up: retry with \`make devnet\`"
  echo "==> seeding devnet actors"
  deploy_tool seed --rpc-url "$1" --deployments-dir "$root/deployments" --accounts-out "$dir/accounts.json" ||
    die "seeding failed (output above); retry with \`make devnet\`"
}

down() {
  local stopped=0
  for name in indexer anvil kubo; do
    local pid
    pid=$(state_field "${name}_pid" || true)
    if alive "$pid"; then
      kill "$pid"
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && kill -9 "$pid"
      echo "stopped $name (pid $pid)"
      stopped=1
    fi
  done
  rm -f "$state"
  [[ $stopped == 1 ]] || echo "devnet was not running"
}

status() {
  [[ -f $state ]] || { echo "devnet is not running (no $state)"; return 1; }
  local ok=0
  if anvil_answers "$(state_field anvil_url)"; then echo "anvil: up at $(state_field anvil_url)"; else echo "anvil: DOWN"; ok=1; fi
  if kubo_answers "$(state_field kubo_url)"; then echo "kubo:  up at $(state_field kubo_url)"; else echo "kubo:  DOWN"; ok=1; fi
  if indexer_answers "$(state_field indexer_url)"; then
    echo "indexer: up at $(state_field indexer_url) ($(curl -s -m 2 "$(state_field indexer_url)/health"))"
  else echo "indexer: DOWN (log: .devnet/logs/indexer.log)"; ok=1; fi
  return $ok
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
