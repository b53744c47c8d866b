#!/usr/bin/env python3
"""`make demo`: the whole Cairn market on the devnet, told step by step.

Starts a fresh devnet (anvil, Kubo, contracts deployed and seeded, cairn-indexer), then the market's
services: two operators' runners in different regions (operator-0 in EU, operator-1 in US), three
verifier-only runners (verifier-0..2; verifier-0 also draws juries as the keeper) and a watcher (verifier-3,
re-executing every result). Then, with the real command-line tools only:

  1. the seller publishes all-MiniLM-L6-v2 (its card read from the model's own README) with a licence;
  2. the buyer buys the licence and submits an embedding job for a few sentences;
  3. a runner claims it, runs it and submits a signed receipt; the watcher re-checks it;
  4. the buyer fetches the output and checks it against the receipt;
  5. the challenge window passes (devnet time moved with anvil's evm_increaseTime) and the runner finalizes;
  6. everyone's balance change, the sentences' cosine-similarity matrix and the auditor's trail (cairn-indexer).

Everything it started is stopped at the end, also on Ctrl-C (the devnet too). Logs: .devnet/logs/.
Usage: scripts/demo.py [--keep] [--scenario NAME]   (--keep leaves the devnet and services running)
"""

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ledger import Ledger, Mismatch

ROOT = Path(__file__).resolve().parent.parent
DEVNET = ROOT / ".devnet"
LOGS = DEVNET / "logs"
WORK = DEVNET / "demo"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
CAIRN = TARGET / "debug" / "cairn"
RUNNER = TARGET / "debug" / "cairn-runner"
MODEL = ROOT / ".tools" / "models" / "all-MiniLM-L6-v2"
# runner-eu's relay, where the web app (the indexer's /app/config.json) sends inputs and gasless requests.
RELAY = f"127.0.0.1:{os.environ.get('CAIRN_RELAY_PORT', '8090')}"
SENTENCES = [
    "A cairn is a pile of stones that marks a trail.",
    "Hikers stack rocks to show others the way.",
    "The committee re-executes a disputed inference job.",
    "Verifiers re-run the model to check a claimed result.",
    "Espresso is brewed by forcing hot water through coffee.",
]
# Adversarial scenarios (`make demo SCENARIO=<name>`), filled in below.
SCENARIOS: dict = {}
# Every role whose balance a scenario may move (the ledger adds their hot keys, the treasury and the contracts).
PARTIES = ["seller", "buyer", "operator-0", "operator-1"] + [f"verifier-{i}" for i in range(5)]

BOLD, DIM, OFF = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def say(text=""):
    print(text, flush=True)


def step(n, text):
    say(f"\n{BOLD}{n}. {text}{OFF}")


def fail(text):
    raise SystemExit(f"demo: error: {text}")


def run(args, what, capture=True):
    """Runs a command in the checkout; its output is returned (and stderr shown on failure)."""
    done = subprocess.run(args, cwd=ROOT, text=True, capture_output=capture)
    if done.returncode != 0:
        detail = (done.stderr or "").strip() if capture else ""
        fail(f"{what} failed (exit {done.returncode}){': ' + detail if detail else ''}")
    return done.stdout if capture else ""


def cairn(*args, account=None):
    """`cairn --json …` as `account`; the parsed JSON answer."""
    cmd = [str(CAIRN), "--json"] + (["--account", account] if account else []) + list(args)
    return json.loads(run(cmd, "cairn " + " ".join(args[:2])))


def rpc(url, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        answer = json.load(r)
    if "error" in answer:
        fail(f"{method}: {answer['error']}")
    return answer["result"]


def http_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def eth(wei):
    return f"{int(wei) / 1e18:.6f} ETH"


def signed_eth(wei):
    """Exact to the wei: -0.003000254311 ETH."""
    if not wei:
        return "0"
    whole, frac = divmod(abs(wei), 10**18)
    digits = f"{frac:018d}".rstrip("0") or "0"
    return f"{'+' if wei > 0 else '-'}{whole}.{digits} ETH"


class Services:
    """The runners this demo starts, stopped (SIGTERM: they drain, then exit) when it ends."""

    def __init__(self):
        self.procs = []
        self.offsets = {}  # where each service's log stood when it was (re)started

    def start(self, name, account, accounts, deployments, rpc_url, kubo_url, *, claim, keeper=False, watch=False,
              adversary=None, poll_ms=250, extra=""):
        acct = next((a for a in accounts if a["role"] == account), None)
        if acct is None:
            fail(f"the devnet has no account {account}")
        home = WORK / name
        home.mkdir(parents=True, exist_ok=True)
        config = home / "runner.toml"
        config.write_text(
            f"""# {name}: {account}'s runner (written by scripts/demo.py)
[chain]
rpc_url = "{rpc_url}"
deployments = "{deployments}"
poll_interval_ms = {poll_ms}

[operator]
address = "{acct['address']}"
signer = {{ env = "CAIRN_RUNNER_KEY" }}

[ipfs]
api = "{kubo_url}"

[storage]
state_dir = "{home / 'state'}"

[jobs]
claim = {str(claim).lower()}

[verify]
enabled = {str(not claim).lower()}
keeper = {str(keeper).lower()}

[watch]
sample = {1.0 if watch else 0.0}
"""
            + ("\n[adversary]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in adversary.items()) if adversary else "")
            + extra
        )
        log = open(LOGS / f"{name}.log", "a")
        self.offsets[name] = log.tell()
        env = dict(os.environ, CAIRN_RUNNER_KEY=acct["signerKey"], CAIRN_LOG=os.environ.get("CAIRN_DEMO_LOG", "info"))
        proc = subprocess.Popen(
            [str(RUNNER), "run", "--config", str(config)], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append((name, proc, LOGS / f"{name}.log"))

    def wait_ready(self, timeout=120):
        start = time.time()
        for name, proc, log in self.procs:
            while "runner ready" not in log.read_bytes()[self.offsets.get(name, 0):].decode(errors="replace"):
                if proc.poll() is not None:
                    fail(f"{name} exited during start-up; its log: {log}\n{log.read_text()[-2000:]}")
                if time.time() - start > timeout:
                    fail(f"{name} was not ready within {timeout} s; its log: {log}")
                time.sleep(0.2)

    def check_alive(self):
        for name, proc, log in self.procs:
            if proc.poll() is not None:
                fail(f"{name} stopped (exit {proc.returncode}); its log: {log}\n{log.read_text()[-2000:]}")

    def stop_one(self, name):
        for entry in list(self.procs):
            if entry[0] == name:
                entry[1].send_signal(signal.SIGTERM)
                try:
                    entry[1].wait(timeout=20)
                except subprocess.TimeoutExpired:
                    entry[1].kill()
                self.procs.remove(entry)

    def stop(self):
        for _, proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc, _ in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                say(f"{name} did not drain within 20 s; killed")
        self.procs = []


def balances(accounts, roles, extra):
    """(wallet ETH, withdrawable ETH, stake) per party, in wei; hot keys listed apart."""
    out = {}
    for role in roles:
        acct = next(a for a in accounts if a["role"] == role)
        wallet, pull = one_balance(acct["address"])
        stake = 0
        if acct.get("signer"):
            stake = int(cairn("operator", "show", acct["address"])["stake"]["raw"])
        out[role] = (wallet, pull, stake)
        if acct.get("signer"):
            out[role + " (hot key)"] = one_balance(acct["signer"]) + (0,)
    for label, addr in extra.items():
        out[label] = one_balance(addr) + (0,)
    return out


def one_balance(address):
    answer = cairn("balance", "--address", address, "--token", "ETH")
    wallet = sum(int(w["raw"]) for w in answer["wallet"])
    pull = sum(int(p["amount"]["raw"]) for p in answer["withdrawable"])
    return (wallet, pull)


def to_the_wei(ledger):
    """Closes a scenario's ledger (scripts/ledger.py): every party's measured change beside what the contracts'
    rules give from the scenario's facts, and a failure on the first wei of difference."""
    try:
        rows, bad = ledger.close()
    except Mismatch as e:
        fail(f"the ledger cannot replay this scenario: {e}")
    say(f"  {'every party, to the wei':<34}{'measured change (wei)':>28}{'the rules (wei)':>28}")
    for label, measured, expected in rows:
        if measured or expected:
            mark = "" if measured == expected else "  ✗"
            say(f"  {label:<34}{measured:>28,}{expected:>28,}{mark}")
    if bad:
        fail("the balance changes do not match the contracts' rules:\n    " + "\n    ".join(bad))
    moved = sum(1 for _, m, _ in rows if m)
    say(f"  ✓ all {len(rows)} parties (wallets with gas, pull balances, stakes, the contracts' holdings) match the "
        f"rules to the wei; {moved} changed")


def table(before, after):
    """Prints each party's change; returns {party: total change in wei}."""
    say(f"  {'party':<22}{'wallet':>28}{'withdrawable':>28}{'stake':>20}")
    totals = {}
    for label in before:
        d = [a - b for a, b in zip(after[label], before[label])]
        totals[label] = sum(d)
        if any(d):
            say(f"  {label:<22}{signed_eth(d[0]):>28}{signed_eth(d[1]):>28}{signed_eth(d[2]):>20}")
    say("  (parties with no change left out; withdrawable balances are pulled with `cairn withdraw`)")
    return totals


def wait(what, check, timeout, services):
    start = time.time()
    while True:
        value = check()
        if value:
            return value
        services.check_alive()
        if time.time() - start > timeout:
            fail(f"{what} did not happen within {timeout} s; the services' logs are in {LOGS}")
        time.sleep(0.5)


def prepare(args):
    if args.scenario:
        if args.scenario not in SCENARIOS:
            names = ", ".join(SCENARIOS)
            fail(f"unknown scenario `{args.scenario}`; scenarios: {names}")
    if not MODEL.is_dir():
        fail(f"{MODEL} is missing: run `make setup`")
    step(0, "Building the tools (cairn, cairn-runner, cairn-indexer, cairn-deploy, the web app; the first build takes "
            "minutes)")
    # The whole workspace's binaries, as `cargo test --workspace` builds them: the same features unified, so the
    # dependencies compile once for the tests and the demo (scripts/devnet.sh's build_tools says why).
    run(["cargo", "build", "--locked", "--workspace", "--bins"], "building", capture=False)
    os.environ["CAIRN_TOOLS_BUILT"] = "1"
    run(["scripts/web.sh", "build"], "building the web app", capture=False)
    if args.release:
        global CAIRN, RUNNER
        run(["cargo", "build", "--release", "--locked", "-p", "cairn-cli", "-p", "cairn-runner"], "building (release)",
            capture=False)
        CAIRN, RUNNER = TARGET / "release" / "cairn", TARGET / "release" / "cairn-runner"

    step(1, "Starting a fresh devnet: anvil (chain 31337), Kubo, the contracts deployed and seeded, cairn-indexer "
            "(a devnet `make devnet` left running is stopped first)")
    run(["scripts/devnet.sh", "down"], "stopping an earlier devnet")
    if args.bench:
        os.environ["CAIRN_INDEXER_POLL_MS"] = str(BENCH_POLL_MS)
    run(["scripts/devnet.sh", "up"], "starting the devnet", capture=False)
    state = json.loads((DEVNET / "state.json").read_text())
    accounts = json.loads((DEVNET / "accounts.json").read_text())
    deployments = ROOT / "deployments"
    contracts = json.loads((deployments / "31337.json").read_text())["contracts"]
    rpc_url, kubo_url, indexer_url = state["anvil_url"], state["kubo_url"], state["indexer_url"]
    jm = contracts["JobMarket"]["address"]
    treasury = "0x" + rpc(rpc_url, "eth_call", [{"to": jm, "data": "0x61d027b3"}, "latest"])[-40:]  # treasury()
    for log in LOGS.glob("*.log"):
        if log.stem not in ("anvil", "kubo", "kubo-init", "indexer"):
            log.unlink()
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    return state, accounts, deployments, rpc_url, kubo_url, indexer_url, treasury


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the devnet and the services running")
    parser.add_argument("--scenario", default=os.environ.get("SCENARIO") or None)
    parser.add_argument("--bench", type=int, metavar="JOBS", help="the market under load: JOBS jobs, 3 buyers, 3 runners")
    parser.add_argument("--bench-out", default=str(ROOT / "bench" / "results" / "50-market.md"))
    parser.add_argument("--release", action="store_true", help="run release builds of cairn and cairn-runner")
    args = parser.parse_args()
    services = Services()
    started_devnet = False
    # Ctrl-C and `kill` end the story through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        _, accounts, deployments, rpc_url, kubo_url, indexer_url, treasury = prepare(args)
        started_devnet = True
        market = Market(services, accounts, deployments, rpc_url, kubo_url, indexer_url, treasury)
        if args.bench:
            bench(market, args.bench, args.bench_out)
        elif args.scenario:
            if args.scenario != "audit":
                market.set_audits(0, 0, "off for this scenario: it shows another path, which a random audit drawn "
                                        "from a block hash could change")
            SCENARIOS[args.scenario](market)
        else:
            happy(market)
    except KeyboardInterrupt:
        say("\ninterrupted: stopping what the demo started")
        return_code = 130
    except SystemExit as e:
        say(str(e.code) if e.code and not isinstance(e.code, int) else "")
        return_code = 1
    else:
        return_code = 0
    finally:
        if not args.keep:
            services.stop()
            if started_devnet or (DEVNET / "state.json").exists():
                subprocess.run(["scripts/devnet.sh", "down"], cwd=ROOT, capture_output=True)
                say(f"{DIM}stopped the runners and the devnet (logs kept in {LOGS.relative_to(ROOT)}/){OFF}")
        else:
            say(f"left running (--keep): `make devnet-down` stops the devnet; runner pids "
                f"{[p.pid for _, p, _ in services.procs]}")
    sys.exit(return_code)


class Market:
    """The devnet, its actors and the services, with the steps every story takes."""

    def __init__(self, services, accounts, deployments, rpc_url, kubo_url, indexer_url, treasury):
        self.services, self.accounts, self.deployments = services, accounts, deployments
        self.rpc_url, self.kubo_url, self.indexer_url, self.treasury = rpc_url, kubo_url, indexer_url, treasury
        self.address = {a["role"]: a["address"] for a in accounts}
        self.clock = None

    def who(self, address):
        for a in self.accounts:
            if address.lower() == a["address"].lower():
                return a["role"]
            if address.lower() == (a.get("signer") or "").lower():
                return a["role"] + "'s hot key"
        return "the treasury" if address.lower() == self.treasury.lower() else address

    def start(self, adversary=None, runners=("runner-eu", "runner-us"), verifiers=True, watcher=True):
        """Two operators' runners, verifier-0..2, verifier-4 and the watcher (verifier-3); `adversary` maps a
        service name to its [adversary] settings."""
        adversary = adversary or {}
        common = (self.accounts, self.deployments, self.rpc_url, self.kubo_url)
        # runner-eu also serves the relay the web app uses, and takes DevToken (DUSD) jobs.
        dusd = json.loads((self.deployments / "31337.json").read_text())["contracts"]["DevToken"]["address"]
        relay = f'\n[relay]\nlisten = "{RELAY}"\n\n[jobs.min_fee_tokens]\n"{dusd}" = "0"\n'
        plan = [("runner-eu", "operator-0", dict(claim=True, extra=relay)), ("runner-us", "operator-1", dict(claim=True))]
        plan = [p for p in plan if p[0] in runners]
        if verifiers:
            plan += [("verifier-0", "verifier-0", dict(claim=False, keeper=True)),
                     ("verifier-1", "verifier-1", dict(claim=False)),
                     ("verifier-2", "verifier-2", dict(claim=False)),
                     ("verifier-4", "verifier-4", dict(claim=False))]
            # Without the watcher, verifier-3 (whose juror stake the seeding deposited) still sits on juries:
            # a seat drawn for a service that never runs would hold the dispute until its reveal deadline.
            plan.append(("watcher", "verifier-3", dict(claim=False, watch=True)) if watcher
                        else ("verifier-3", "verifier-3", dict(claim=False)))
        for name, account, kw in plan:
            self.services.start(name, account, *common, adversary=adversary.get(name), **kw)
        self.services.wait_ready()
        for name, account, kw in plan:
            role = ("claims jobs" if kw["claim"] else "re-executes every result and challenges bad ones"
                    if kw.get("watch") else "sits on juries" + (" and draws them as the keeper" if kw.get("keeper") else ""))
            bad = adversary.get(name)
            say(f"  {name:<11} {account:<11} {role}" + (f"  {BOLD}[adversary: {bad}]{OFF}" if bad else ""))

    def call(self, contract, data):
        """eth_call of `data` (hex calldata) on a deployed contract; the 32-byte words of the answer as ints."""
        to = json.loads((self.deployments / "31337.json").read_text())["contracts"][contract]["address"]
        out = rpc(self.rpc_url, "eth_call", [{"to": to, "data": data}, "latest"])[2:]
        return [int(out[i:i + 64], 16) for i in range(0, len(out), 64)]

    def set_audits(self, safety_bps, min_rate_bps, why):
        """Governance (the devnet's deployer owns the desk) sets the random audits' parameters."""
        desk = json.loads((self.deployments / "31337.json").read_text())["contracts"]["DisputeDesk"]["address"]
        owner = "0x" + f"{self.call('DisputeDesk', '0x8da5cb5b')[0]:040x}"  # owner()
        data = "0xb7bf3dea" + f"{safety_bps:064x}{min_rate_bps:064x}"  # setAuditParams((uint16,uint16))
        tx = rpc(self.rpc_url, "eth_sendTransaction", [{"from": owner, "to": desk, "data": data}])
        wait("the audit parameters", lambda: rpc(self.rpc_url, "eth_getTransactionReceipt", [tx]), 30, self.services)
        say(f"  governance set the random audits to s = {safety_bps / 10_000:g}, at least "
            f"{min_rate_bps / 100:g}% of jobs ({why})")

    def audit_pool(self):
        return self.call("DisputeDesk", "0x049ca46e")[0]  # auditPool()

    def arbitration_fee(self):
        # arbitrationCost(bytes) with empty bytes: the offset word, then a zero length.
        return self.call("ReexecutionCommittee", "0xf7434ea9" + f"{32:064x}" + f"{0:064x}")[0]

    def snapshot(self, roles):
        return balances(self.accounts, roles, {"treasury": self.treasury})

    def ledger(self, roles):
        """Opens the scenario's ledger over `roles` (their hot keys as parties of their own), the treasury and the
        contracts' holdings; `to_the_wei` closes it."""
        parties = {}
        for a in self.accounts:
            if a["role"] in roles:
                parties[a["role"]] = a["address"]
                if a.get("signer"):
                    parties[a["role"] + " (hot key)"] = a["signer"]
        contracts = {n: c["address"] for n, c in json.loads((self.deployments / "31337.json").read_text())[
            "contracts"].items()}
        return Ledger(lambda method, params: rpc(self.rpc_url, method, params), contracts, parties, self.treasury,
                      str(ROOT / ".tools" / "bin" / "cast"), ROOT / "services" / "bindings" / "artifacts")

    def publish(self, licence=False):
        folder = WORK / "all-MiniLM-L6-v2"
        if not folder.exists():
            shutil.copytree(MODEL, folder, ignore=shutil.ignore_patterns("model.sig"))
        extra = ["--license-price", "0.001ether", "--license-period", "30d"] if licence else []
        published = cairn("model", "publish", str(folder), "--price-per-call", "0.0001ether", *extra,
                          "--regions", "EU,US", "--yes", account="seller")
        return published

    def submit(self, model, regions="EU,US", pay="0.002ether", deadline="1h", account="buyer"):
        sentences = WORK / "sentences.txt"
        sentences.write_text("\n".join(SENTENCES) + "\n")
        job = cairn("job", "submit", "--model", model, "--input", str(sentences), "--pay", pay, "--regions", regions,
                    "--deadline", deadline, "--again", "--yes", account=account)
        t = job["transactions"][-1]
        say(f"  job {job['jobId']} ({regions}): {job['terms']['payment']['human']} escrowed by {account}, input "
            f"{job['inputCid']}; tx {t['tx']} in block {t['block']}, {t['gasUsed']} gas")
        return job

    def status(self, job_id):
        return cairn("job", "status", job_id)

    def wait_state(self, job_id, states, timeout=300, mine=False):
        """Waits until the job is in one of `states`; with `mine`, anvil mines a block every half second meanwhile
        (it mines only on transactions, and a jury is drawn from a block after the challenge). A dispute round that
        ruled is appealable for the committee's appeal period: once the runners had 15 s to appeal a ruling against
        them, devnet time moves past the period (and the keeper's 30 s grace) so the ruling becomes final."""
        appealable = {}

        def check():
            if mine:
                rpc(self.rpc_url, "evm_mine", [])
            st = self.status(job_id)
            d = st.get("dispute") or {}
            if mine and d.get("phase") == "Appealable":
                seen = appealable.setdefault(d["round"], time.monotonic())
                if time.monotonic() - seen > 15:
                    appealable[d["round"]] = float("inf")
                    self.advance(int(d["appealDeadline"]) - int(st["chainTime"]) + 31,
                                 f"nobody appealed round {d['round']}'s ruling {d['ruling']} within the appeal period")
            return st if st["state"] in states else None
        return wait(f"job {job_id} reaching {'/'.join(states)}", check, timeout, self.services)

    def advance(self, secs, why):
        secs = max(int(secs), 1)
        rpc(self.rpc_url, "evm_increaseTime", [secs])
        rpc(self.rpc_url, "evm_mine", [])
        say(f"  devnet time moved {secs} s forward with anvil's evm_increaseTime ({why}; a real chain waits)")

    def dispute(self, job_id):
        """The dispute of a job, from the indexer once it has it."""
        return wait("the indexer's record of the ruling", lambda: (
            lambda j: j if (j.get("dispute") or {}).get("ruling") is not None else None)(
            cairn("audit", "job", job_id)), 60, self.services)

    def trail(self, job_id, final_state):
        trail = wait("the indexer catching up", lambda: (lambda a: a if a["job"]["state"] == final_state else None)(
            cairn("audit", "job", job_id)), 60, self.services)
        for t in trail["transitions"]:
            receipt = rpc(self.rpc_url, "eth_getTransactionReceipt", [t["txHash"]])
            say(f"  block {t['blockNumber']:>4}  {t['event']:<16} → {t['state']:<10} by {self.who(receipt['from']):<24} "
                f"gas {int(receipt['gasUsed'], 16):>7}  tx {t['txHash']}")
        return trail


def check(condition, what):
    if not condition:
        fail(f"the scenario's expectation failed: {what}")
    say(f"  ✓ {what}")


def happy(m):
    step(2, "Starting the market's services (logs in .devnet/logs/)")
    m.start()
    roles = ["seller", "buyer", "operator-0", "operator-1", "verifier-3"]
    before = m.snapshot(roles)
    ledger = m.ledger(PARTIES)

    step(3, "The seller publishes all-MiniLM-L6-v2 (cairn model publish)")
    published = m.publish(licence=True)
    model = published["modelId"]
    tx = published["transaction"]
    say(f"  seller {m.address['seller']} listed model {model}: {published['files']} files, "
        f"{published['bytes'] / 1e6:.1f} MB pinned on Kubo, its card read from the model's README")
    say(f"  manifest {published['manifestCid']} (sha256 {published['manifestDigest']})")
    say(f"  weights sha256 {published['weightsDigest']}; OpenSSF model signature {published['signatureCid']}")
    say(f"  tx {tx['tx']} in block {tx['block']}, {tx['gasUsed']} gas")
    say(f"  terms: {published['pricePerCall']['human']} per call, licence {published['licensePrice']['human']} "
        f"for 30 days, regions {published['regions']}")

    step(4, "The buyer buys a licence (cairn license buy)")
    bought = cairn("license", "buy", model, "--max-price", "0.001ether", "--yes", account="buyer")
    for t in bought["transactions"]:
        say(f"  {t['action']}: tx {t['tx']} in block {t['block']}, {t['gasUsed']} gas")
    say(f"  buyer {m.address['buyer']} may use model {model} until {bought['expiry']} (unix seconds)")

    step(5, "The buyer submits an embedding job for five sentences (cairn job submit)")
    for s in SENTENCES:
        say(f"  · {s}")
    job = m.submit(model)
    job_id = job["jobId"]
    say(f"  input sha256 {job['inputDigest']}; the escrow splits into price {job['pricePerCall']['human']}, "
        f"protocol fee {job['protocolFee']['human']} and operator {job['operatorFee']['human']}")

    step(6, "A runner claims it, runs MiniLM and submits a signed receipt")
    status = m.wait_state(job_id, ("Submitted", "Finalized"))
    say(f"  {m.who(status['operator'])} ({status['operator']}) answered: output sha256 {status['outputDigest']}")
    say(f"  challenge window: {status['challengeSecondsLeft']} s left")
    watcher_log = LOGS / "watcher.log"
    line = wait("the watcher's check", lambda: next(
        (ln for ln in watcher_log.read_text(errors="replace").splitlines() if "watched" in ln and f"job={job_id} " in ln + " "),
        None), 120, m.services)
    verdict = "acceptable" if "acceptable" in line else line.split("watched:")[-1].strip()
    say(f"  the watcher (verifier-3) re-executed job {job_id} on its own copy of the model: {verdict}, no challenge")

    step(7, "The buyer fetches the output and checks it (cairn job result)")
    out = WORK / "embeddings.json"
    result = cairn("job", "result", job_id, "--out", str(out), "--format", "json", "--force")
    say(f"  {result['outputCid']}: {result['shape'][0]} × {result['shape'][1]} float32, sha256 matches the "
        f"receipt, receipt signed by the operator's key {result['signer']}")
    vectors = json.loads(out.read_text())
    say("  cosine similarity of the sentences' embeddings:")
    say("        " + "".join(f"   s{j + 1}" for j in range(len(vectors))))
    for i, a in enumerate(vectors):
        row = []
        for b in vectors:
            dot = sum(x * y for x, y in zip(a, b))
            row.append(dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))))
        say(f"    s{i + 1}  " + "".join(f"{c:6.2f}" for c in row))
    say("  (s1–s2 are about cairns, s3–s4 about verification, s5 about coffee)")
    spot = cairn("job", "result", job_id, "--spot-check", "2", "--model-dir", str(MODEL))["spotCheck"]
    say(f"  spot check (cairn job result --spot-check 2): input rows {', '.join(map(str, spot['rows']))} re-executed "
        f"on the buyer's own copy of the model: {spot['report']}")
    check(spot["acceptable"], "the operator's rows pass the acceptance rule against the buyer's own re-execution")

    step(8, "The runner evaluates the job's random audit draw; the challenge window passes; the escrow is split")
    audit = wait("the audit draw", lambda: (lambda a: a if a and a.get("state") != "Pending" else None)(
        cairn("audit", "job", job_id)["job"].get("audit")), 120, m.services)
    rate = int(audit["rate"]) / 1e16
    if audit["state"] == "Audited":
        say(f"  drawn for a random audit (probability {rate:.2f}%): the committee re-executes it (dispute "
            f"{audit['disputeId']}); the escrow settles with its ruling")
        final = m.wait_state(job_id, ("Resolved",), 300, mine=True)
    else:
        say(f"  not drawn for an audit (probability {rate:.2f}% from its fee and bond); its premium "
            f"{int(audit['premium']) / 1e18:g} ETH goes to the audit pool at settlement")
        left = int(m.status(job_id).get("challengeSecondsLeft") or 0)
        if left:
            m.advance(left + 1, "the challenge window")
        final = m.wait_state(job_id, ("Finalized",), 120)
    say(f"  job {job_id}: {final['state']} ({final['closeReason']})")

    step(9, "Every party's balance change (wallet + withdrawable + stake, gas included)")
    table(before, m.snapshot(roles))
    to_the_wei(ledger)

    step(10, "The auditor's trail (cairn audit job, from cairn-indexer)")
    m.trail(job_id, final["state"])
    say(f"  the whole record: `cairn audit job {job_id}`, `cairn audit account {m.address['buyer']}`, "
        f"{m.indexer_url}/openapi.json")
    app = json.loads((DEVNET / "state.json").read_text()).get("app_url")
    if app:
        say(f"  the buyers' web app shows the same market: {app} (runner-eu serves its relay on {RELAY}; keep it "
            "running with --keep)")
    say(f"\n{BOLD}The market worked end to end.{OFF}")


def cheat(m):
    step(2, "Services: runner-eu (operator-0) returns perturbed embeddings; everyone else is honest")
    m.start(adversary={"runner-eu": {"perturb": 0.05}})
    roles = ["buyer", "operator-0", "operator-1"] + [f"verifier-{i}" for i in range(5)]
    model = m.publish()["modelId"]
    before = m.snapshot(roles)
    ledger = m.ledger(PARTIES)

    step(3, "The buyer submits one job only the cheat can claim (EU) and one only the honest runner can (US)")
    bad = m.submit(model, regions="EU")["jobId"]
    good = m.submit(model, regions="US")["jobId"]
    bad_status = m.wait_state(bad, ("Submitted", "Disputed"))
    bond = int(bad_status["bond"]["raw"])
    m.wait_state(good, ("Submitted",))

    step(4, "The watcher re-executes both results and challenges the cheat's; a jury re-executes and rules")
    disputed = m.wait_state(bad, ("Disputed", "Resolved"), 120)
    say(f"  job {bad} challenged by {m.who(disputed['challenger'])}: dispute {disputed['disputeId']}")
    resolved = m.wait_state(bad, ("Resolved",), 300, mine=True)
    say(f"  job {bad}: {resolved['state']} ({resolved['closeReason']})")
    d = m.dispute(bad)["dispute"]
    for r in d.get("rounds", []):
        appeal = r.get("appeal")
        opened = f"opened by {m.who(appeal['appellant'])}'s appeal ({signed_eth(int(appeal['fee']))[1:]}); " if appeal else ""
        say(f"  round {r['round']}: {opened}{r['seats']} seats, ruling {r.get('ruling')}; "
            f"jurors {', '.join(m.who(j) for j in r.get('jurors', []))}")
    say(f"  final ruling {d.get('ruling')}")
    rounds = d.get("rounds", [])
    check(len(rounds) == 2 and m.who((rounds[1].get("appeal") or {}).get("appellant", "")) == "operator-0's hot key"
          and rounds[1]["seats"] == 7,
          "the cheat's runner appealed the ruling against its job ([verify] appeal_max_fee): a jury of 7 confirmed it")

    step(5, "The honest job's window passes and it is finalized")
    left = int(m.status(good)["challengeSecondsLeft"] or 0)
    m.advance(left + 1, "the challenge window")
    m.wait_state(good, ("Finalized",), 120)
    m.wait_state(bad, ("Resolved",))
    wait("the watcher collecting its ticket", lambda: "withdrew the watcher's earnings" in
         (LOGS / "watcher.log").read_text(errors="replace"), 120, m.services)

    step(6, "Balance changes")
    after = m.snapshot(roles)
    totals = table(before, after)
    to_the_wei(ledger)
    pay = 2 * 10**15
    check(resolved["closeReason"] == "OperatorWrong", "the committee found the cheat's output wrong (ruling 2)")
    check(after["buyer"][1] - before["buyer"][1] == pay, "the buyer is refunded the cheat's job in full (0.002 ETH)")
    check(before["operator-0"][2] - after["operator-0"][2] == bond,
          f"the cheat's whole bond is slashed ({signed_eth(bond)[1:]})")
    check(totals["operator-0"] < 0 < totals["operator-1"],
          "the cheat ends poorer than the honest runner that served the same number of jobs")
    check(totals["verifier-3"] + totals["verifier-3 (hot key)"] > 0, "the watcher that challenged earned")
    m.trail(bad, "Resolved")


def grief(m):
    step(2, "Services: every runner is honest")
    m.start()
    roles = ["buyer", "operator-0", "operator-1"] + [f"verifier-{i}" for i in range(5)]
    model = m.publish()["modelId"]
    before = m.snapshot(roles)
    ledger = m.ledger(PARTIES)
    step(3, "The buyer submits a job and a runner serves it correctly")
    job = m.submit(model)["jobId"]
    st = m.wait_state(job, ("Submitted",))
    operator = m.who(st["operator"])
    step(4, "The buyer challenges the correct result anyway (cairn job challenge)")
    ch = cairn("job", "challenge", job, "--yes", account="buyer")
    cost = int(ch["paid"]["raw"])
    say(f"  sent {ch['paid']['human']} (bond + arbitration cost); dispute {ch['disputeId']}")
    resolved = m.wait_state(job, ("Resolved",), 300, mine=True)
    say(f"  job {job}: {resolved['state']} ({resolved['closeReason']})")
    step(5, "Balance changes")
    after = m.snapshot(roles)
    totals = table(before, after)
    to_the_wei(ledger)
    check(resolved["closeReason"] == "OperatorUpheld", "the committee upheld the result (ruling 1)")
    check(after["buyer"][0] - before["buyer"][0] <= -(2 * 10**15 + cost), "the griefer paid the job and lost its challenge")
    check(totals[operator] > 0, f"{operator} is paid for the job and earns from the lost challenge bond")
    m.trail(job, "Resolved")


def timeouts(m):
    step(2, "A job nobody claims: submitted before any runner serves, with a one-minute claim deadline")
    model = m.publish()["modelId"]
    roles = ["buyer", "operator-0", "operator-1"]
    before = m.snapshot(roles)
    ledger = m.ledger(PARTIES)
    lonely = m.submit(model, deadline="1m")["jobId"]
    m.advance(61, "past the claim deadline")
    cancelled = cairn("job", "cancel", lonely, "--yes", account="buyer")
    say(f"  job {lonely} cancelled by the buyer: {cancelled['paid']['human']} credited back")

    step(3, "runner-eu claims jobs and never answers; runner-us is honest and starts later")
    m.start(adversary={"runner-eu": {"abandon_claims": True}}, runners=("runner-eu",), verifiers=False)
    job = m.submit(model, regions="EU,US")["jobId"]
    claimed = m.wait_state(job, ("Claimed",))
    check(m.who(claimed["operator"]) == "operator-0", "the abandoning runner claimed it")
    submit_by = int(claimed["submitBy"])
    now = int(claimed["chainTime"])
    m.start(runners=("runner-us",), verifiers=False)
    m.advance(submit_by - now + 1, "past the claim's submit deadline")
    reopened = cairn("job", "reopen", job, "--yes", account="buyer")
    say(f"  job {job} reopened by the buyer; the late operator's penalty: {reopened['paid']['human']} to the treasury")
    served = m.wait_state(job, ("Submitted",))
    check(m.who(served["operator"]) == "operator-1", "the honest runner served the reopened job")
    left = int(served["challengeSecondsLeft"] or 0)
    m.advance(left + 1, "the challenge window")
    m.wait_state(job, ("Finalized",), 120)
    step(4, "Balance changes")
    after = m.snapshot(roles)
    totals = table(before, after)
    to_the_wei(ledger)
    penalty = int(reopened["paid"]["raw"])
    check(after["buyer"][1] - before["buyer"][1] == 2 * 10**15, "the unclaimed job's payment is credited back")
    check(before["operator-0"][2] - after["operator-0"][2] == penalty, "the late operator lost the claim penalty")
    check(after["treasury"][1] - before["treasury"][1] >= penalty, "the penalty went to the treasury")
    check(totals["operator-1"] > 0, "the runner that served it was paid")


def tamper(m):
    step(2, "runner-eu serves a first job, so the model's files sit in its cache")
    model = m.publish()["modelId"]
    roles = ["buyer", "operator-0"]
    before = m.snapshot(roles)
    ledger = m.ledger(PARTIES)
    m.start(runners=("runner-eu",), verifiers=False)
    first = m.submit(model)["jobId"]
    honest = m.wait_state(first, ("Submitted",))["outputDigest"]
    say(f"  job {first}: output sha256 {honest}")

    step(3, "Someone alters the weights in runner-eu's cache on disk; runner-eu restarts")
    m.services.stop_one("runner-eu")
    weights = max((f for f in (WORK / "runner-eu").rglob("*") if f.is_file()), key=lambda f: f.stat().st_size)
    with open(weights, "r+b") as f:
        f.seek(weights.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    say(f"  flipped one byte in the middle of {weights.relative_to(ROOT)} ({weights.stat().st_size / 1e6:.1f} MB)")
    m.start(runners=("runner-eu",), verifiers=False)

    step(4, "A second job for the same sentences: the altered file is refused before loading")
    second = m.submit(model, regions="EU")["jobId"]
    served = m.wait_state(second, ("Submitted",))
    log = (LOGS / "runner-eu.log").read_text(errors="replace")
    check("altered on disk" in log, "runner-eu found the cached weights altered (their sha256 is not the registered one) "
          "and did not load them")
    check(served["outputDigest"] == honest,
          "the job was served from the registered weights (fetched again from IPFS): the same output as job 1")

    step(5, "Both challenge windows pass; runner-eu finalizes both jobs")
    m.advance(int(m.status(second)["challengeSecondsLeft"] or 0) + 1, "the challenge windows")
    for job in (first, second):
        m.wait_state(job, ("Finalized",), 120)
    table(before, m.snapshot(roles))
    to_the_wei(ledger)


def silent_juror(m):
    step(2, "Services: verifier-1 and verifier-2 commit their votes and never reveal them")
    m.start(adversary={"verifier-1": {"silent_juror": True}, "verifier-2": {"silent_juror": True}})
    model = m.publish()["modelId"]
    pool = json.loads((DEVNET.parent / "deployments" / "31337.json").read_text())["contracts"]["JurorPool"]["address"]

    def juror_stake(role):
        word = rpc(m.rpc_url, "eth_call", [{"to": pool, "data": "0xfddf544b" + m.address[role][2:].lower().rjust(64, "0")},
                                          "latest"])
        return int(word[2:66], 16)

    silent = {"verifier-1", "verifier-2"}
    ledger = m.ledger(PARTIES)
    for attempt in range(1, 6):
        step(2 + attempt, f"Dispute {attempt}: the buyer challenges a correct result; a jury is drawn")
        job = m.submit(model)["jobId"]
        m.wait_state(job, ("Submitted",))
        cairn("job", "challenge", job, "--yes", account="buyer")
        m.wait_state(job, ("Disputed",))

        def drawn_jury():
            rpc(m.rpc_url, "evm_mine", [])  # anvil mines only on transactions; the draw needs its seed block
            j = cairn("audit", "job", job)
            return j if (j.get("dispute") or {}).get("jurors") else None
        record = wait("the jury's draw", drawn_jury, 120, m.services)
        jurors = {m.who(j) for j in record["dispute"]["jurors"]}
        say(f"  jurors: {', '.join(sorted(jurors))}")
        if not jurors & silent:
            say("  no silent juror was drawn this time; the dispute resolves normally")
            m.wait_state(job, ("Resolved",), 300, mine=True)
            continue
        before = {r: juror_stake(r) for r in silent}
        # Each draw: the honest jurors reveal; once the reveal period is over, silence that could change the
        # majority is slashed and its seats drawn again (at most twice), else the revealed votes rule.
        for _ in range(4):
            d = cairn("audit", "job", job)["dispute"]
            if d["phase"] != "Drawn":
                break
            seated = {m.who(j) for j in d["jurors"]}

            def revealed():
                votes = {k.lower(): v for k, v in cairn("audit", "job", job)["dispute"]["votes"].items()}
                return all((votes.get(m.address[r].lower()) or {}).get("vote") is not None
                           for r in seated - silent) or None
            # The reveal period opens once every seat committed, else at the commit deadline: a silent juror
            # drawn again may not commit its new seat either, so after a minute the devnet clock moves on.
            deadline = time.time() + 60
            while not revealed() and time.time() < deadline:
                m.services.check_alive()
                time.sleep(0.5)
            if not revealed():
                d = cairn("audit", "job", job)["dispute"]
                m.advance(int(d["commitDeadline"]) - int(m.status(job)["chainTime"]) + 1,
                          "past the commit deadline: a seat stayed uncommitted")
                rpc(m.rpc_url, "evm_mine", [])
            wait("the honest jurors' reveals", revealed, 120, m.services)
            d = cairn("audit", "job", job)["dispute"]
            # Past the reveal deadline and the keeper's grace (cairn-runner's KEEPER_GRACE_SECS, 30 s).
            m.advance(int(d["revealDeadline"]) - int(m.status(job)["chainTime"]) + 31, "past the reveal deadline")

            def next_phase():
                rpc(m.rpc_url, "evm_mine", [])
                now = cairn("audit", "job", job)["dispute"]
                moved = now["phase"] != "Drawn" or len(now["jurors"]) > len(d["jurors"])
                return now if moved and now["phase"] != "Created" else None
            after = wait("the keeper resolving the round", next_phase, 120, m.services)
            for r in after.get("rounds", [])[-1:]:
                if r.get("redrawn"):
                    say(f"  silent seats could decide: slashed and drawn again ({', '.join(map(str, r['redrawn']))} "
                        f"seat(s) so far); jurors now {', '.join(m.who(j) for j in after['jurors'])}")
        resolved = m.wait_state(job, ("Resolved",), 300, mine=True)
        say(f"  job {job}: {resolved['state']} ({resolved['closeReason']})")
        d = m.dispute(job)["dispute"]
        drawn_silent = {m.who(j) for r in d.get("rounds", []) for j in r.get("jurors", [])} & silent
        for r in drawn_silent:
            lost = before[r] - juror_stake(r)
            check(lost > 0, f"{r}, silent, lost {signed_eth(lost)[1:]} of juror stake (the non-reveal penalty)")
        check(resolved["closeReason"] == "OperatorUpheld" if d.get("ruling") == 1 else resolved["state"] == "Resolved",
              f"the dispute resolved on the revealed votes (ruling {d.get('ruling')}); silence decided nothing")
        check(d.get("ruling") != 2, "the correct result was not ruled wrong")
        step(3 + attempt, "Every party's balance change to the wei")
        to_the_wei(ledger)
        return
    fail("no silent juror was drawn in five disputes")


def gasless(m):
    step(2, "The seller lists MiniLM in DUSD (the devnet's ERC-20); runner-eu also runs a gasless relay")
    m.start(runners=("runner-eu",), verifiers=False)
    relay = RELAY
    folder = WORK / "all-MiniLM-L6-v2"
    shutil.copytree(MODEL, folder, ignore=shutil.ignore_patterns("model.sig"))
    model = cairn("model", "publish", str(folder), "--price-per-call", "0.1", "--token", "DUSD", "--regions", "EU,US",
                  "--yes", account="seller")["modelId"]

    def dusd_of(role):
        return int(cairn("balance", "--address", m.address[role], "--token", "DUSD")["wallet"][0]["raw"])
    eth_before, dusd_before = one_balance(m.address["buyer"])[0], dusd_of("buyer")

    step(3, "The buyer, without spending ETH, signs a JobRequest and a permit; the relay pins and posts them")
    sentences = WORK / "sentences.txt"
    sentences.write_text("\n".join(SENTENCES) + "\n")
    job = cairn("job", "submit", "--model", model, "--input", str(sentences), "--pay", "2", "--gasless",
                f"http://{relay}", "--yes", account="buyer")
    say(f"  job {job['jobId']}: {job['terms']['payment']['human']} escrowed, input {job['inputCid']} pinned by the relay")
    served = m.wait_state(job["jobId"], ("Submitted",))
    say(f"  served by {m.who(served['operator'])}")
    check(one_balance(m.address["buyer"])[0] == eth_before, "the buyer's ETH did not move (no gas paid)")
    check(dusd_before - dusd_of("buyer") == int(job["terms"]["payment"]["raw"]),
          "the buyer paid exactly the job's payment in DUSD, through the permit")


def audit(m):
    step(2, "Services: runner-eu (operator-0) returns perturbed embeddings; no watcher runs and nobody challenges")
    m.set_audits(12_500, 10_000, "every job audited, the scenario's raised rate; the devnet's default audits "
                                 "1.25 × the rate at which garbage breaks even")
    m.start(adversary={"runner-eu": {"perturb": 0.05}}, watcher=False)
    roles = ["buyer", "operator-0", "operator-1"] + [f"verifier-{i}" for i in range(5)]
    model = m.publish()["modelId"]
    before, pool_before, fee = m.snapshot(roles), m.audit_pool(), m.arbitration_fee()
    ledger = m.ledger(PARTIES)

    step(3, "The buyer submits one job only the cheat can claim (EU, 0.002 ETH) and one only the honest runner can "
            "(US, 0.1 ETH)")
    bad = m.submit(model, regions="EU")["jobId"]
    good = m.submit(model, regions="US", pay="0.1ether")["jobId"]

    step(4, "Each runner evaluates its job's audit draw after submitting; both are drawn; a jury re-executes each")
    for job in (bad, good):
        st = m.wait_state(job, ("Disputed", "Resolved"), 300)
        say(f"  job {job}: audited by the desk ({m.who(st['challenger'])}), dispute {st['disputeId']}")
    bad_done = m.wait_state(bad, ("Resolved",), 300, mine=True)
    good_done = m.wait_state(good, ("Resolved",), 300, mine=True)
    for job, done in ((bad, bad_done), (good, good_done)):
        d = m.dispute(job)["dispute"]
        say(f"  job {job}: {done['closeReason']} (ruling {d.get('ruling')}; jurors "
            f"{', '.join(m.who(j) for j in d.get('jurors', []))})")

    step(5, "Balance changes")
    after, pool_after = m.snapshot(roles), m.audit_pool()
    totals = table(before, after)
    to_the_wei(ledger)
    bond = int(bad_done["bond"]["raw"])
    good_job = cairn("audit", "job", good)["job"]
    premium = int(good_job["audit"]["premium"])
    check(bad_done["closeReason"] == "OperatorWrong", "the jury found the cheat's output wrong (ruling 2)")
    check(good_done["closeReason"] == "OperatorUpheld", "the jury upheld the honest output (ruling 1)")
    check(after["buyer"][1] - before["buyer"][1] == 2 * 10**15,
          "the buyer is refunded the cheat's job in full (0.002 ETH) with nobody challenging")
    check(before["operator-0"][2] - after["operator-0"][2] == bond,
          f"the cheat's whole bond is slashed ({signed_eth(bond)[1:]})")
    split = good_job["split"]
    check(int(split["operatorFee"]) + premium == int(good_job["payment"]) - int(good_job["royalty"])
          - int(good_job["protocolFee"]) and int(split["auditPremium"]) == premium,
          f"the honest runner is paid its fee less the job's audit premium ({premium / 1e18:g} ETH)")
    check(totals["operator-0"] < 0 < totals["operator-1"], "the cheat ends poorer than the honest runner")
    rest = (bond - fee) - (bond - fee) // 2
    check(pool_after - pool_before == rest - fee,
          f"the audit pool: the cheat's bond refunds its audit and adds its unburned rest ({rest / 1e18:g} ETH), "
          f"the honest job's audit cost {fee / 1e18:g} ETH (its premium reaches the pool when pulled)")
    m.trail(bad, "Resolved")


def web(m):
    step(2, "Services: runner-eu (operator-0, EU) with the relay the web app uses, and the jurors; nobody serves US")
    m.start(runners=("runner-eu",), watcher=False)
    step(3, "The seller lists MiniLM twice: in ETH with a licence, and in DUSD (the devnet's ERC-20) for gasless jobs")
    model = m.publish(licence=True)["modelId"]
    folder = WORK / "all-MiniLM-L6-v2-dusd"
    shutil.copytree(MODEL, folder, ignore=shutil.ignore_patterns("model.sig"))
    (folder / "card.json").write_text(json.dumps({"name": "all-MiniLM-L6-v2 (paid in DUSD)"}))
    dusd_model = cairn("model", "publish", str(folder), "--price-per-call", "0.1", "--token", "DUSD", "--regions",
                       "EU,US", "--yes", account="seller")["modelId"]
    say(f"  model {model} (ETH, licence 0.001 ETH) and model {dusd_model} (DUSD)")
    state = json.loads((DEVNET / "state.json").read_text())
    buyer = next(a for a in m.accounts if a["role"] == "buyer")
    step(4, f"The buyer, in headless Chromium with an injected wallet holding its key, uses {state['app_url']} "
            "(web/e2e/run.mjs; screenshots in web/test-results/)")
    browser = os.environ.get("CAIRN_CHROMIUM") or shutil.which("chromium")
    if not browser:
        fail("chromium is not installed: `make setup` apt-installs it when run as root (else: apt-get install chromium)")
    env = dict(os.environ, CAIRN_CHROMIUM=browser, CAIRN_APP_URL=state["app_url"], CAIRN_RPC_URL=m.rpc_url, CAIRN_CHAIN_ID="31337",
               CAIRN_BUYER_KEY=buyer["privateKey"], CAIRN_MODEL=str(model), CAIRN_MODEL_DUSD=str(dusd_model))
    done = subprocess.run(["node", "e2e/run.mjs"], cwd=ROOT / "web", env=env)
    check(done.returncode == 0, "every step of the web app worked in the browser, and every bad case showed its "
                                "message (web/test-results/)")


SCENARIOS.update(cheat=cheat, grief=grief, timeouts=timeouts, tamper=tamper, gasless=gasless, audit=audit, web=web,
                 **{"silent-juror": silent_juror})

# The runners' and the indexer's poll interval in the load benchmark (ms).
BENCH_POLL_MS = 50
# A job whose result is on chain: an audit may move it to Disputed a block after its submission, before a poll.
RESULT_IN = ("Submitted", "Disputed", "Resolved", "Finalized")
# anvil's public test accounts 1–3 (its default mnemonic): buyers of the load benchmark, untouched by the seeding.
BENCH_BUYERS = [
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
]
# OP Stack Ecotone L1 data fee (Optimism specs, "Ecotone L1 cost"): Base mainnet's scalars, and the L1 fees the
# table states.
ECOTONE = dict(base_fee_scalar=2269, blob_base_fee_scalar=1055762, l1_base_fee=10 * 10**9, blob_base_fee=1,
               l2_base_fee=10**7)


def ecotone_fee(gas, raw_tx_hex):
    """L2 execution fee + the Ecotone L1 data fee of one transaction, wei: the calldata's compressed size is
    estimated as (zero bytes × 4 + other bytes × 16) / 16, times 16 × baseFeeScalar × l1BaseFee +
    blobBaseFeeScalar × blobBaseFee, over 10^6."""
    raw = bytes.fromhex(raw_tx_hex[2:])
    zeroes = raw.count(0)
    size16 = zeroes * 4 + (len(raw) - zeroes) * 16
    weighted = 16 * ECOTONE["base_fee_scalar"] * ECOTONE["l1_base_fee"] + ECOTONE["blob_base_fee_scalar"] * ECOTONE["blob_base_fee"]
    return gas * ECOTONE["l2_base_fee"] + size16 * weighted // (16 * 10**6)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench(m, jobs, out):
    """`make bench`'s market under load: `jobs` jobs from three buyers against three runners on one anvil."""
    import concurrent.futures
    import threading

    step(2, f"Market under load: {jobs} jobs from 3 buyers, 3 runners (EU, US, JP), one anvil (automine), the "
            "devnet's random audits on and five verifiers to judge them")
    common = (m.accounts, m.deployments, m.rpc_url, m.kubo_url)
    for name, account in (("runner-eu", "operator-0"), ("runner-us", "operator-1"), ("runner-jp", "operator-2")):
        m.services.start(name, account, *common, claim=True, poll_ms=BENCH_POLL_MS)
    # The jurors of the audits the devnet's rate draws (verifier-0 also draws juries and resolves as the keeper).
    for i in range(5):
        m.services.start(f"verifier-{i}", f"verifier-{i}", *common, claim=False, keeper=i == 0)
    m.services.wait_ready()
    folder = WORK / "all-MiniLM-L6-v2"
    shutil.copytree(MODEL, folder, ignore=shutil.ignore_patterns("model.sig"))
    model = cairn("model", "publish", str(folder), "--price-per-call", "0.0001ether", "--regions", "EU,US,JP", "--yes",
                  account="seller")["modelId"]
    inputs = []
    for i in range(jobs):
        path = WORK / f"input-{i}.txt"
        path.write_text("\n".join(f"{s} (job {i})" for s in SENTENCES) + "\n")
        inputs.append(path)
    # Warm-up, not measured: one job per region, so each runner has fetched and loaded the model once.
    for region in ("EU", "US", "JP"):
        warm = m.submit(model, regions=region)["jobId"]
        m.wait_state(warm, RESULT_IN, 300)
    mined = {}
    lock = threading.Lock()

    def submit(i):
        key = BENCH_BUYERS[i % len(BENCH_BUYERS)]
        cmd = [str(CAIRN), "--json", "job", "submit", "--model", model, "--input", str(inputs[i]), "--pay", "0.002ether",
               "--regions", "EU,US,JP", "--yes"]
        done = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True, env=dict(os.environ, CAIRN_PRIVATE_KEY=key))
        if done.returncode != 0:
            fail(f"submitting job {i}: {done.stderr.strip()}")
        answer = json.loads(done.stdout)
        with lock:
            mined[answer["jobId"]] = time.time()  # the command returns once the request's receipt is in

    started = time.time()
    visible = {}
    deadline = time.time() + 600
    # One submitter per buyer (each buyer's transactions go in nonce order), while this thread polls the indexer
    # every 50 ms for the results.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(BENCH_BUYERS)) as pool:
        futures = [pool.submit(lambda b=b: [submit(i) for i in range(b, jobs, len(BENCH_BUYERS))])
                   for b in range(len(BENCH_BUYERS))]
        while len(visible) < jobs:
            for f in futures:
                if f.done() and f.exception():
                    raise f.exception()
            if time.time() > deadline:
                fail(f"only {len(visible)} of {jobs} results became visible in the indexer within 600 s")
            page = http_json(f"{m.indexer_url}/jobs?limit=500")
            now = time.time()
            with lock:
                known = dict(mined)
            for j in page["items"]:
                if j["state"] in RESULT_IN and j["id"] in known and j["id"] not in visible:
                    visible[j["id"]] = now
            m.services.check_alive()
            time.sleep(0.05)
    elapsed = max(visible.values()) - started
    latencies = [visible[j] - mined[j] for j in visible]
    compute_ms = []
    for name in ("runner-eu", "runner-us", "runner-jp"):
        for line in (LOGS / f"{name}.log").read_text(errors="replace").splitlines():
            if " computed " in line + " " and " ms=" in line and any(f"job={j} " in line for j in mined):
                compute_ms.append(int(line.split(" ms=")[1].split()[0]))
    served = {}
    for name in ("runner-eu", "runner-us", "runner-jp"):
        served[name] = sum(1 for line in (LOGS / f"{name}.log").read_text(errors="replace").splitlines()
                           if " computed " in line + " " and any(f"job={j} " in line for j in mined))
    step(3, "The challenge windows pass; the runners finalize")
    left = max(int(m.status(j)["challengeSecondsLeft"] or 0) for j in visible)
    m.advance(left + 1, "the challenge windows")

    def settled():
        rpc(m.rpc_url, "evm_mine", [])  # the runners finalize on the latest block's time; keep blocks coming
        items = http_json(f"{m.indexer_url}/jobs?limit=500")["items"]
        # A job drawn for a random audit goes to a jury: it settles below, its gas apart.
        audited = [j["id"] for j in items if (j.get("audit") or {}).get("state") == "Audited"]
        done = sum(1 for j in items if j["state"] == "Finalized") + len(audited)
        return (audited,) if done >= jobs + 3 else None
    (audited,) = wait("every job finalized (or drawn for an audit)", settled, 600, m.services)
    audit_rows = []
    if audited:
        step(4, f"The {len(audited)} job(s) drawn for a random audit: a jury of verifiers re-executes each")
        started_audits = time.time()
        rulings = {}
        for j in audited:
            done = m.wait_state(j, ("Resolved",), 600, mine=True)
            rulings[j] = done["closeReason"]
            say(f"  job {j}: {done['closeReason']}")
        rate = int(cairn("audit", "job", audited[0])["job"]["audit"]["rate"]) / 1e16
        upheld = sum(1 for r in rulings.values() if r == "OperatorUpheld")
        audit_rows = [(f"jobs drawn for a random audit (rate {rate:.2f}% each) / upheld by their jury",
                       f"{len(audited)} / {upheld}", "all upheld (honest runners)"),
                      ("audits ruled, wall time (draw, commit, reveal, the appeal period skipped with evm_increaseTime)",
                       f"{time.time() - started_audits:.0f} s", "")]
        if upheld != len(audited):
            fail(f"an honest runner's audited job was not upheld: {rulings}")
    gas, fees = [], []
    for j in [j for j in mined if j not in audited][:10]:
        detail = http_json(f"{m.indexer_url}/jobs/{j}")
        total_gas, total_fee, seen = 0, 0, set()
        for t in detail["transitions"]:
            if t["txHash"] in seen or t["event"] not in ("JobRequested", "JobClaimed", "ResultSubmitted",
                                                         "AuditEvaluated", "JobClosed"):
                continue
            seen.add(t["txHash"])
            receipt = rpc(m.rpc_url, "eth_getTransactionReceipt", [t["txHash"]])
            raw = rpc(m.rpc_url, "eth_getRawTransactionByHash", [t["txHash"]])
            g = int(receipt["gasUsed"], 16)
            total_gas += g
            total_fee += ecotone_fee(g, raw)
        gas.append(total_gas)
        fees.append(total_fee)
    c50 = percentile(compute_ms, 50) / 1000 if compute_ms else 0.0
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    rows = [
        ("jobs / buyers / runners", f"{jobs} / {len(BENCH_BUYERS)} / 3 (served: " +
         ", ".join(f"{k} {v}" for k, v in served.items()) + ")", ""),
        ("request mined → result visible in the indexer, p50", f"{p50 * 1000:.0f} ms", ""),
        ("… p95", f"{p95 * 1000:.0f} ms", "≤ 1 s"),
        ("compute per job (runner's own `computed ms=`), p50", f"{c50 * 1000:.0f} ms", ""),
        ("p50 above the compute time", f"{(p50 - c50) * 1000:.0f} ms", "≤ 250 ms"),
        ("results per minute (first request → last result visible)", f"{jobs / elapsed * 60:.1f}", ""),
        ("gas per settled job (request + claim + submit + audit draw + finalize), median of 10",
         f"{percentile(gas, 50):,}", ""),
        ("its fee on an OP Stack chain (Ecotone), median of 10", f"{percentile(fees, 50) / 1e9:.1f} gwei "
         f"(≈ ${percentile(fees, 50) / 1e18 * 3000:.4f} at 3,000 USD/ETH)", ""),
    ] + audit_rows
    text = [
        "## Market under load (`make demo`'s services, issue #16)",
        "",
        f"{jobs} embedding jobs (5 sentences each, distinct inputs) submitted with `cairn job submit` by 3 buyers "
        "(one submitter each, in parallel) against 3 `cairn-runner run` services "
        f"({'release builds' if RUNNER.parent.name == 'release' else 'debug builds with the engine crates optimised'}) "
        "on one anvil with automine, with the devnet's random audits (each job's rate from its fee and bond) and 5 "
        "verifier services as jurors, Kubo offline, cairn-indexer on "
        f"SQLite; runners and indexer poll every {BENCH_POLL_MS} ms; one warm-up job per runner first (not measured). *Latency* is from the request's receipt (the command returns) to the job "
        "showing `Submitted` in the indexer's `/jobs` (polled every 50 ms), so it includes the runner's poll, the claim, the input fetch, the compute, the pin, the submission and the indexer's poll. "
        "The fee is the Ecotone formula: L2 gas × L2 base fee + (zero bytes × 4 + other bytes × 16) / 16 × "
        f"(16 × {ECOTONE['base_fee_scalar']} × L1 base fee + {ECOTONE['blob_base_fee_scalar']} × blob base fee) / 10⁶ "
        f"per transaction (Base mainnet's scalars; L1 base fee {ECOTONE['l1_base_fee'] / 1e9:g} gwei, blob base fee "
        f"{ECOTONE['blob_base_fee']} wei, L2 base fee {ECOTONE['l2_base_fee'] / 1e9:g} gwei).",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
    ] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    Path(out).write_text("\n".join(text) + "\n")
    say("\n".join(text))


if __name__ == "__main__":
    main()
