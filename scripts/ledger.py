"""Every party's ETH balance change over a demo scenario, expected to the wei and measured.

The expectation is a second implementation of the contracts' money rules (JobMarket's escrow split and claim
penalty, DisputeDesk's challenge pools and audits, ReexecutionCommittee's keeper reward, penalties, appeals and
per-seat pay), fed only with the scenario's facts as the chain records them: who sent which transaction with how
much ETH and gas, which jobs were requested and claimed, who was drawn onto which jury and how each juror voted.
Amounts the contracts emit (PaymentSplit, PoolSettled, KeeperPaid, SeatsSettled, ChallengerPaid…) are never
used to compute the expectation; where they exist they are checked against it. The parameters (fees, bonds,
penalties, burn share) are read from the contracts when the ledger opens; a scenario must not change them after.

The measured side of each party is wallet + pull balances in every paying contract + operator stake (with
unbonding) + juror stake (with pending deposit and unbonding), in wei; the contracts' own holdings are parties
too (the market's escrow, the desk's challenge pools and audit pool, the committee's fees held, the burn
address), so every wei that moved is somewhere in the table.
"""

import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path

BPS = 10_000
WAD = 10**18
BURN = "0x000000000000000000000000000000000000dead"
PAYING = ("ModelRegistry", "JobMarket", "ReexecutionCommittee", "DisputeDesk")
# Holdings of the contracts themselves, as parties of the ledger.
ESCROW, POOLS, AUDIT_POOL, FEES = "escrow (JobMarket)", "challenge pools (DisputeDesk)", "audit pool (DisputeDesk)", \
    "fees held (ReexecutionCommittee)"
REASONS = ["Open", "Finalized", "Expired", "OperatorUpheld", "OperatorWrong", "ArbitratorRefused", "InputUnavailable"]

class Mismatch(Exception):
    """The ledger cannot open or replay (an ABI it does not know, a job it did not see requested)."""


MODELLED = ("JobRequested", "JobClaimed", "ClaimReleased", "ClaimExpired", "ResultSubmitted", "JobChallenged",
            "JobClosed", "PaymentSplit", "ChallengeJoined", "ChallengerPaid", "AuditEvaluated", "LicenseBought",
            "DisputeOpened", "JurorsDrawn", "DrawDeferred", "DrawLapsed", "Reseeded", "VoteRevealed",
            "SilentSeatsRedrawn", "RoundRuled", "AppealRaised", "DisputeRuled", "KeeperPaid")
FUNCTIONS = ("challenge(uint256)", "appeal(uint256)", "fundAuditPool()")


def canonical(param):
    """An ABI parameter's canonical type (tuples spelled out), as in a signature (Solidity ABI spec)."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(canonical(c) for c in param["components"]) + ")" + kind[len("tuple"):]
    return kind


class Keccak:
    """keccak256 of text, through Foundry's `cast` (Python's hashlib has only SHA-3, whose padding differs)."""

    def __init__(self, cast):
        self.cast, self.memo = cast, {}

    def __call__(self, text):
        if text not in self.memo:
            self.memo[text] = subprocess.run([self.cast, "keccak", text], capture_output=True, text=True,
                                             check=True).stdout.strip()
        return self.memo[text]


def event_topics(artifacts, keccak):
    """{topic0: event name} for the modelled events of the contracts' ABIs (services/bindings/artifacts)."""
    topics = {}
    for path in sorted(Path(artifacts).glob("*.json")):
        for item in json.loads(path.read_text())["abi"]:
            if item["type"] == "event" and item["name"] in MODELLED:
                sig = f"{item['name']}({','.join(canonical(i) for i in item['inputs'])})"
                topics[keccak(sig)] = item["name"]
    missing = set(MODELLED) - set(topics.values())
    if missing:
        raise Mismatch(f"the ABIs lack the events {sorted(missing)}: the ledger is out of date")
    return topics


def words(hexdata):
    data = hexdata[2:] if hexdata.startswith("0x") else hexdata
    return [int(data[i:i + 64], 16) for i in range(0, len(data), 64)]


def addr(word):
    return "0x" + f"{word:040x}"[-40:]


class Ledger:
    """Opens at the current block with the parties' balances; `close()` replays the blocks since and compares.

    `rpc(method, params)` answers JSON-RPC; `contracts` maps deployment names to addresses; `parties` maps labels
    to addresses (hot keys included as parties of their own)."""

    def __init__(self, rpc, contracts, parties, treasury, cast, artifacts):
        self.rpc = rpc
        self.keccak = Keccak(cast)
        self.c = {name: a.lower() for name, a in contracts.items()}
        self.by_address = {a: name for name, a in self.c.items()}
        self.parties = {label: a.lower() for label, a in parties.items()}
        self.parties["treasury"] = treasury.lower()
        self.treasury = treasury.lower()
        self.topics = event_topics(artifacts, self.keccak)
        self.selectors = {self.keccak(sig)[:10]: sig.split("(")[0] for sig in FUNCTIONS}
        mp = self.call("JobMarket", "params()")
        self.fee_bps, self.bond_bps, self.claim_penalty_bps, self.burn_bps = mp[0], mp[1], mp[2], mp[3]
        self.bond_floor, self.challenge_bond = mp[7], mp[8]
        cp = self.call("ReexecutionCommittee", "params()")
        self.first_fee, self.keeper_reward, self.non_reveal, self.coherence = cp[1], cp[4], cp[5], cp[8]
        ap = self.call("DisputeDesk", "auditParams()")
        self.safety_bps, self.min_rate_bps = ap[0], ap[1]
        self.start = int(self.rpc("eth_blockNumber", []), 16)
        self.before = self.measure(self.start)

    # ---------------------------------------------------------------- reading the chain

    def call(self, contract, signature, *args, block="latest"):
        data = self.keccak(signature)[:10] + "".join(f"{a:064x}" for a in args)
        return words(self.rpc("eth_call", [{"to": self.c[contract], "data": data}, block]))

    def measure(self, number):
        """{party: wei} at block `number` (services keep sending transactions): wallet, pull balances, operator and
        juror stake; the contracts' holdings."""
        b = hex(number)
        out = {}
        for label, a in self.parties.items():
            total = int(self.rpc("eth_getBalance", [a, b]), 16)
            for name in PAYING:
                total += self.call(name, "balanceOf(address,address)", int(a, 16), 0, block=b)[0]
            op = self.call("OperatorRegistry", "getOperator(address)", int(a, 16), block=b)
            total += op[7] + op[9]  # stake (locked included) + unbonding
            juror = self.call("JurorPool", "jurorInfo(address)", int(a, 16), block=b)
            total += juror[0] + juror[3] + juror[6]  # stake + pending deposit + unbonding
            out[label] = total
        desk = int(self.c["DisputeDesk"], 16)
        out[ESCROW] = self.call("JobMarket", "escrowed(address)", 0, block=b)[0]
        out[POOLS] = self.call("DisputeDesk", "challengePoolsHeld()", block=b)[0]
        out[AUDIT_POOL] = self.call("DisputeDesk", "auditPool()", block=b)[0] + sum(
            self.call(name, "balanceOf(address,address)", desk, 0, block=b)[0]
            for name in ("JobMarket", "ReexecutionCommittee"))
        out[FEES] = self.call("ReexecutionCommittee", "feesHeld()", block=b)[0]
        out["burned"] = int(self.rpc("eth_getBalance", [BURN, b]), 16)
        return out

    # ---------------------------------------------------------------- the replay

    def close(self):
        """Replays every block since the ledger opened; returns (rows, mismatches): rows are
        (party, measured change, expected change) in wei; mismatches name the parties that differ, every contract
        event that contradicts the rules, and any wei the rules send outside the parties."""
        self.exp = defaultdict(int)
        self.errors = []
        self.jobs, self.disputes, self.pools = {}, {}, {}
        end = int(self.rpc("eth_blockNumber", []), 16)
        label_of = {a: label for label, a in self.parties.items()}
        for n in range(self.start + 1, end + 1):
            block = self.rpc("eth_getBlockByNumber", [hex(n), True])
            for tx in block["transactions"]:
                receipt = self.rpc("eth_getTransactionReceipt", [tx["hash"]])
                sender = tx["from"].lower()
                if sender in label_of:
                    self.exp[sender] -= int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
                if int(receipt["status"], 16) != 1:
                    continue
                self.tx = tx
                self.value(sender, (tx.get("to") or "").lower(), int(tx["value"], 16), tx["input"][:10])
                for log in receipt["logs"]:
                    name = self.topics.get(log["topics"][0]) if log["topics"] else None
                    if name and log["address"].lower() in self.by_address:
                        getattr(self, "on_" + name)(log, [int(t, 16) for t in log["topics"][1:]], words(log["data"]))
        after = self.measure(end)
        rows, bad = [], []
        for label in after:
            key = self.parties.get(label, label)
            measured, expected = after[label] - self.before[label], self.exp.get(key, 0)
            rows.append((label, measured, expected))
            if measured != expected:
                bad.append(f"{label}: measured {measured} wei, the rules say {expected} wei")
        outside = [f"{a}, not a party, should have changed by {v} wei" for a, v in self.exp.items()
                   if v and a.startswith("0x") and a not in label_of]
        return rows, bad + self.errors + outside

    def expect(self, what, rule, emitted):
        if rule != emitted:
            self.errors.append(f"{what}: the rules say {rule}, the contract emitted {emitted}")

    def value(self, sender, to, value, selector):
        """Where a transaction's ETH goes, by the function it called."""
        if not value:
            return
        self.exp[sender] -= value
        name = self.by_address.get(to)
        fn = self.selectors.get(selector)
        if name == "JobMarket":
            self.exp[ESCROW] += value  # requestJob: the escrow; its split follows the job's events
        elif name == "ModelRegistry":
            self.pending_licence = value  # the seller is credited at LicenseBought
        elif name == "DisputeDesk" and fn == "challenge":
            self.challenge_value = value  # bond + fee, or a joining bond: split at JobChallenged/ChallengeJoined
        elif name == "DisputeDesk" and fn == "fundAuditPool":
            self.exp[AUDIT_POOL] += value
        elif name == "ReexecutionCommittee" and fn == "appeal":
            self.exp[FEES] += value
        elif name in ("JurorPool", "OperatorRegistry"):
            self.exp[sender] += value  # a deposit into the sender's own stake
        elif name is None:
            self.exp[to] += value  # a plain transfer
        else:
            self.errors.append(f"unmodelled payment of {value} wei to {name} ({selector}) in {self.tx['hash']}")

    # ---------------------------------------------------------------- JobMarket, ModelRegistry

    def on_LicenseBought(self, log, topics, data):
        # The scenarios have one seller (the `seller` party); ModelRegistry credits it the whole price.
        self.expect("licence price", self.pending_licence, data[2])
        self.exp[self.parties["seller"]] += self.pending_licence

    def job(self, job_id):
        """A job requested since the ledger opened (its terms come from JobRequested)."""
        if job_id not in self.jobs:
            raise Mismatch(f"job {job_id} was requested before the ledger opened: open it before the scenario's "
                           "first job")
        return self.jobs[job_id]

    def on_JobRequested(self, log, topics, data):
        t = data[:13]
        job = dict(buyer=addr(t[0]), seller=addr(t[3]), token=addr(t[6]), payment=t[7], royalty=t[8], fee=t[9],
                   operator=None, bond=0, premium=0)
        self.expect(f"job {topics[0]}'s protocol fee", job["payment"] * self.fee_bps // BPS, job["fee"])
        self.jobs[topics[0]] = job

    def on_JobClaimed(self, log, topics, data):
        job = self.job(topics[0])
        job["operator"] = addr(topics[1])
        if job["token"] == addr(0):
            self.expect(f"job {topics[0]}'s bond", max(job["payment"] * self.bond_bps // BPS, self.bond_floor), data[0])
        job["bond"] = data[0]

    def on_ClaimReleased(self, log, topics, data):
        self.on_ClaimExpired(log, topics, data)

    def on_ClaimExpired(self, log, topics, data):
        job = self.job(topics[0])
        penalty = job["bond"] * self.claim_penalty_bps // BPS
        self.expect(f"job {topics[0]}'s claim penalty", penalty, data[0])
        self.exp[job["operator"]] -= penalty
        self.exp[self.treasury] += penalty
        job["operator"], job["bond"] = None, 0

    def on_ResultSubmitted(self, log, topics, data):
        """DisputeDesk.auditTerms: rate f = s·F/(F + βB) within [min rate, 1], premium ⌈f·A⌉ ≤ F (ETH jobs)."""
        job = self.job(topics[0])
        if job["token"] != addr(0):
            return
        fee = job["payment"] - job["royalty"] - job["fee"]
        base = fee + job["bond"] * self.burn_bps // BPS
        r = 0 if base == 0 else self.safety_bps * fee * WAD // (BPS * base)
        r = min(max(r, self.min_rate_bps * WAD // BPS), WAD)
        job["premium"] = 0 if r == 0 else min((r * self.first_fee + WAD - 1) // WAD, fee)

    @staticmethod
    def operator_fee(job):
        """Splits.operatorShare: the payment less the royalty, the protocol fee and the audit premium."""
        return job["payment"] - job["royalty"] - job["fee"] - job["premium"]

    def settle(self, job):
        """JobMarket._settle: royalty to the seller, the protocol fee to the treasury, the audit premium to the audit
        pool, the rest to the operator."""
        if job["token"] != addr(0):
            return
        self.exp[ESCROW] -= job["payment"]
        self.exp[job["seller"]] += job["royalty"]
        self.exp[self.treasury] += job["fee"]
        self.exp[AUDIT_POOL] += job["premium"]
        self.exp[job["operator"]] += self.operator_fee(job)

    def on_PaymentSplit(self, log, topics, data):
        job = self.job(topics[0])
        self.expect(f"job {topics[0]}'s split (royalty, fee, operator, premium)",
                    [job["royalty"], job["fee"], self.operator_fee(job), job["premium"]], data[:4])

    def on_JobClosed(self, log, topics, data):
        job, reason = self.job(topics[0]), REASONS[data[1]]
        if reason == "Finalized":
            self.settle(job)
        elif reason == "Expired":
            if job["token"] == addr(0):  # ETH only: a token job's refund is not in the ledger
                self.exp[ESCROW] -= job["payment"]
                self.exp[job["buyer"]] += job["payment"]
        else:
            self.expect(f"job {topics[0]}'s close reason", job.get("reason"), reason)

    # ---------------------------------------------------------------- DisputeDesk

    def on_JobChallenged(self, log, topics, data):
        job_id, challenger = topics[0], addr(topics[1])
        audit = challenger == self.c["DisputeDesk"]
        self.pools[job_id] = dict(first=challenger, audit=audit, tickets=[] if audit else [challenger],
                                  bond=self.challenge_bond, payout=0, dispute=data[0])
        if not audit:
            self.expect(f"job {job_id}'s challenge payment", self.challenge_bond + self.first_fee,
                        self.challenge_value)
            self.exp[POOLS] += self.challenge_bond
            self.exp[FEES] += self.first_fee

    def on_ChallengeJoined(self, log, topics, data):
        pool = self.pools[topics[0]]
        self.expect(f"job {topics[0]}'s joining bond", pool["bond"], self.challenge_value)
        pool["tickets"].append(addr(topics[1]))
        self.exp[POOLS] += pool["bond"]

    def on_AuditEvaluated(self, log, topics, data):
        if data[0]:
            self.exp[AUDIT_POOL] -= self.first_fee
            self.exp[FEES] += self.first_fee

    def on_ChallengerPaid(self, log, topics, data):
        pool = self.pools[topics[0]]
        self.expect(f"job {topics[0]}'s ticket payout", pool["payout"], data[0])
        self.exp[POOLS] -= pool["payout"]
        self.exp[addr(topics[1])] += pool["payout"]

    def desk_rule(self, job_id, ruling, jurors_drawn):
        """DisputeDesk.rule → JobMarket.settleDisputed: 1 pays the job and the tickets' bonds (less the burn) to the
        operator; 2 refunds the buyer, slashes the bond, refunds the first fee and shares the rest per ticket; 0
        refunds the buyer and returns each ticket its bond; 3 (the input could not be fetched) does as 0 and
        charges the operator, out of its bond, the first fee (back to whoever advanced it) plus what ruling 2 would
        have burned (burned)."""
        job, pool = self.job(job_id), self.pools[job_id]
        bonds = pool["bond"] * len(pool["tickets"])
        if ruling == 1:
            job["reason"] = "OperatorUpheld"
            self.settle(job)
            burned = bonds * self.burn_bps // BPS
            self.exp[POOLS] -= bonds
            self.exp["burned"] += burned
            self.exp[job["operator"]] += bonds - burned
            return
        if job["token"] == addr(0):
            self.exp[ESCROW] -= job["payment"]
            self.exp[job["buyer"]] += job["payment"]
        if ruling in (0, 3):
            job["reason"] = "ArbitratorRefused" if ruling == 0 else "InputUnavailable"
            pool["payout"] = pool["bond"]
            if ruling == 3:
                refund = min(self.first_fee, job["bond"])
                burned = (job["bond"] - refund) * self.burn_bps // BPS
                self.exp[job["operator"]] -= refund + burned
                self.exp[AUDIT_POOL if pool["audit"] else pool["first"]] += refund
                self.exp["burned"] += burned
            return
        job["reason"] = "OperatorWrong"
        slashed = job["bond"]
        self.exp[job["operator"]] -= slashed
        refund = min(slashed, self.first_fee if jurors_drawn else 0)
        burned = (slashed - refund) * self.burn_bps // BPS
        kept = slashed - refund - burned
        tickets = len(pool["tickets"])
        per_ticket, dust = (0, kept) if tickets == 0 else divmod(kept, tickets)
        pool["payout"] = pool["bond"] + per_ticket
        self.exp[POOLS] += per_ticket * tickets
        self.exp["burned"] += burned
        self.exp[AUDIT_POOL if pool["audit"] else pool["first"]] += refund + dust

    # ---------------------------------------------------------------- ReexecutionCommittee

    def on_DisputeOpened(self, log, topics, data):
        self.disputes[topics[0]] = dict(pot=self.first_fee, round=0, seats=data[2], first_seats=data[2],
                                        challenger=addr(data[1]), rounds=[{}], appeals={}, ruling=None,
                                        deferrals=0, job=None, nu=data[4])
        self.expect(f"dispute {topics[0]}'s non-reveal penalty", self.non_reveal, data[4])

    def keeper(self, d, dispute_id):
        reward = min(self.keeper_reward, d["pot"])
        d["pot"] -= reward
        self.exp[FEES] -= reward
        self.exp[self.tx["from"].lower()] += reward
        d["last_reward"] = reward

    def on_KeeperPaid(self, log, topics, data):
        d = self.disputes[topics[0]]
        self.expect(f"dispute {topics[0]}'s keeper and reward", [self.tx["from"].lower(), d["last_reward"]],
                    [addr(topics[1]), data[0]])

    def on_JurorsDrawn(self, log, topics, data):
        d = self.disputes[topics[0]]
        seats = d["rounds"][data[0]]
        start = data[1] // 32  # the jurors array: its offset, then its length and the addresses
        count = data[start]
        for w in data[start + 1:start + 1 + count]:
            juror = addr(w)
            seat = seats.setdefault(juror, dict(count=0, vote=0))
            seat["count"] += 1
        self.keeper(d, topics[0])

    def on_DrawDeferred(self, log, topics, data):
        d = self.disputes[topics[0]]
        if d["deferrals"] == 0:
            self.keeper(d, topics[0])
        d["deferrals"] += 1

    def on_Reseeded(self, log, topics, data):
        self.errors.append(f"dispute {topics[0]} was reseeded: the ledger does not model a lapse")

    def on_DrawLapsed(self, log, topics, data):
        self.errors.append(f"dispute {topics[0]} lapsed: the ledger does not model a lapse")

    def on_VoteRevealed(self, log, topics, data):
        d = self.disputes[topics[0]]
        d["rounds"][data[0]][addr(topics[1])]["vote"] = data[1]

    def on_SilentSeatsRedrawn(self, log, topics, data):
        """_releaseSilent: every silent seat of the round pays the non-reveal penalty into the pot and is freed."""
        d = self.disputes[topics[0]]
        released = 0
        for juror, seat in d["rounds"][data[0]].items():
            if seat["count"] and not seat["vote"]:
                penalty = seat["count"] * d["nu"]
                self.exp[juror] -= penalty
                d["pot"] += penalty
                self.exp[FEES] += penalty
                released += seat["count"]
                seat["count"] = 0
        self.expect(f"dispute {topics[0]}'s silent seats", released, data[1])

    def majority(self, d):
        """The plurality of the round's revealed seats over votes 1, 2 and 3; 0 when the most votes tie."""
        votes = [sum(s["count"] for s in d["rounds"][d["round"]].values() if s["vote"] == v) for v in (1, 2, 3)]
        top = max(votes)
        return votes.index(top) + 1 if votes.count(top) == 1 else 0

    def on_RoundRuled(self, log, topics, data):
        d = self.disputes[topics[0]]
        self.expect(f"dispute {topics[0]}'s round {data[0]} ruling", self.majority(d), data[1])
        d["ruling"] = data[1]

    def on_AppealRaised(self, log, topics, data):
        d = self.disputes[topics[0]]
        r = data[0]
        cost = self.first_fee * (1 << r) * data[2] // d["first_seats"]
        self.expect(f"dispute {topics[0]}'s round {r} appeal fee", cost, data[1])
        d["appeals"][r] = dict(appellant=addr(topics[1]), fee=data[1], contested=d["ruling"])
        d["pot"] += data[1]
        d["round"], d["seats"] = r, data[2]
        d["rounds"].append({})

    def on_DisputeRuled(self, log, topics, data):
        """_rule: the silent seats pay ν and the seats against a non-zero ruling ψ into the pot; the appeals that
        changed the ruling are refunded; the rest is shared per coherent seat, the division's dust to the first
        (with none, the pot goes to the first challenger)."""
        dispute_id, ruling = topics[0], data[0]
        d = self.disputes[dispute_id]
        self.exp[FEES] -= d["pot"]
        pot = d["pot"]
        winners = []
        for seats in d["rounds"]:
            for juror, seat in seats.items():
                if not seat["count"]:
                    continue
                penalty = seat["count"] * (d["nu"] if not seat["vote"] else
                                           self.coherence if ruling and seat["vote"] != ruling else 0)
                self.exp[juror] -= penalty
                pot += penalty
                if seat["vote"] and (ruling == 0 or seat["vote"] == ruling):
                    winners.append((juror, seat["count"]))
        for r in range(1, d["round"] + 1):
            appeal = d["appeals"][r]
            if appeal["contested"] != ruling:
                refund = min(appeal["fee"], pot)
                pot -= refund
                self.exp[appeal["appellant"]] += refund
        if not winners:
            self.exp[AUDIT_POOL if d["challenger"] == self.c["DisputeDesk"] else d["challenger"]] += pot
        else:
            share, dust = divmod(pot, sum(c for _, c in winners))
            for juror, count in winners:
                self.exp[juror] += share * count + dust
                dust = 0
        job_id = next(j for j, p in self.pools.items() if p["dispute"] == dispute_id)
        # DisputeDesk refunds the first fee only when it was spent on jurors (jurorsOf is not empty).
        self.desk_rule(job_id, ruling, any(d["rounds"]))
        d["pot"] = 0
