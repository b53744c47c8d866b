// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IDisputeDesk} from "../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IJurorPool} from "../src/interfaces/IJurorPool.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice The incentive table (issue #12, step 10): every role's profit, through the real flow, at job sizes of
/// 0.001, 0.01, 0.1, 1 and 10 ETH, under disputes v2's parameters (bond floor 0.25 ETH and 4×, audit safety
/// factor 1.25, fee 0.03 ETH, ν = 0.1 ETH, ψ = 0.05 ETH). Each flow runs in isolation (a state snapshot) and
/// measures what each party is worth before and after, in wei (wallet, pull balances, operator and juror stake);
/// the parties' changes plus what the protocol holds (escrow, challenge pools, audit pool, committee fees, the
/// burn) sum to zero in every flow. Probabilistic roles are expected values over the job's own audit rate (the
/// desk's) or the canary rate `GAMMA_BPS`. Every cheat's profit is negative and every honest role's positive,
/// before the compute and capital costs, which `make bench` subtracts (`scripts/bench.sh` writes the table from
/// `bench/results/incentives.jsonl`, which this test writes).
contract IncentivesTable is CairnSystem {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant GAMMA_BPS = 200; // canaries: 2% of seats, half of them bad
    /// @dev A bound on one job's compute cost far above the measured one (BENCHMARKS.md: ~10⁻⁹ ETH), for the lazy
    /// juror's comparison: what it saves by not re-running.
    int256 internal constant COMPUTE_BOUND = 1e12;
    address internal constant BURN = 0x000000000000000000000000000000000000dEaD;
    /// @dev The capital rate of the assertion (BENCHMARKS.md's header states the same): 10% a year.
    uint256 internal constant CAPITAL_BPS_PER_YEAR = 1000;
    address internal watcher = address(0x3A7C);
    address internal sybil = address(0x5B11);
    address internal canaryKey = address(0xCA7A);

    /// @dev One flow's outcome: each role's profit (wei) and what it kept locked for how long.
    struct Row {
        string role;
        int256 profit;
        uint256 locked;
        uint256 lockSeconds;
        bool computes;
    }

    function setUp() public virtual {
        setUpSystem();
        _v2Bonds();
        IReexecutionCommittee.Params memory cp = committee.params();
        cp.auditReserve = 0;
        vm.startPrank(owner);
        desk.setAuditParams(IDisputeDesk.AuditParams(12_500, 0));
        committee.setParams(cp);
        committee.setCanaryKey(canaryKey);
        vm.stopPrank();
        _oneSeatEach();
        desk.fundAuditPool{value: 1 ether}();
        vm.deal(ops[0], 100 ether);
        vm.prank(ops[0]);
        operators.addStake{value: 60 ether}();
        vm.deal(watcher, 100 ether);
        vm.deal(sybil, 100 ether);
        vm.deal(buyer, 100 ether);
    }

    /*//////////////////////////////////////////////////////////////
                                ACCOUNTING
    //////////////////////////////////////////////////////////////*/

    /// @dev What `a` is worth (wei): wallet, pull balances in every paying contract, operator and juror stake.
    function _worth(address a) internal view returns (int256) {
        IOperatorRegistry.Operator memory o = operators.getOperator(a);
        IJurorPool.Juror memory j = pool.jurorInfo(a);
        uint256 w = a.balance + market.balanceOf(a, address(0)) + desk.balanceOf(a, address(0))
            + committee.balanceOf(a, address(0)) + models.balanceOf(a, address(0)) + o.stake + o.unbonding + j.stake
            + j.pendingDeposit + j.unbonding;
        return int256(w);
    }

    function _parties() internal view returns (address[14] memory p) {
        p = [
            buyer,
            seller,
            treasury,
            ops[0],
            ops[1],
            ops[2],
            verifiers[0],
            verifiers[1],
            verifiers[2],
            verifiers[3],
            verifiers[4],
            watcher,
            sybil,
            address(this)
        ];
    }

    /// @dev Every party's worth plus what the protocol holds: constant across a flow, to the wei.
    function _total() internal view returns (int256 t) {
        address[14] memory p = _parties();
        for (uint256 i = 0; i < p.length; ++i) {
            t += _worth(p[i]);
        }
        t += int256(
            BURN.balance + market.escrowed(address(0)) + desk.challengePoolsHeld() + desk.auditPool()
                + committee.feesHeld() + market.balanceOf(address(desk), address(0))
        );
    }

    function _snapshot() internal view returns (int256[14] memory w) {
        address[14] memory p = _parties();
        for (uint256 i = 0; i < p.length; ++i) {
            w[i] = _worth(p[i]);
        }
    }

    function _delta(int256[14] memory before, address who) internal view returns (int256) {
        address[14] memory p = _parties();
        for (uint256 i = 0; i < p.length; ++i) {
            if (p[i] == who) return _worth(who) - before[i];
        }
        revert("not a party");
    }

    /*//////////////////////////////////////////////////////////////
                                  FLOWS
    //////////////////////////////////////////////////////////////*/

    /// @dev Draws the job's audit as `audited` (its seed block's hash chosen so) and evaluates it.
    function _audit(uint256 jobId, bool audited) internal {
        IDisputeDesk.Audit memory a = desk.auditOf(jobId);
        for (uint256 i = 1; i < 1000; ++i) {
            bytes32 h = keccak256(abi.encode("block", i));
            bytes32 seed = keccak256(abi.encode(h, uint256(keccak256(abi.encode("cairn.audit", jobId)))));
            if ((uint256(seed) % WAD < a.rate) == audited) {
                vm.roll(a.seedBlock + 1);
                vm.setBlockhash(a.seedBlock, h);
                assertTrue(desk.evaluateAudit(jobId) == audited, "audit drawn as asked");
                return;
            }
        }
        revert("no candidate hash");
    }

    function _finalize(uint256 jobId) internal {
        vm.warp(market.getProgress(jobId).challengeEnds);
        market.finalize(jobId);
    }

    /// @dev Collects every held ticket and the audit funds, so the flow's money is all in pull balances.
    function _settle(uint256 jobId) internal {
        address[3] memory who = [watcher, sybil, challenger];
        for (uint256 i = 0; i < 3; ++i) {
            if (desk.ticketOf(jobId, who[i]) == IDisputeDesk.Ticket.Held && desk.poolOf(jobId).payout != 0) {
                desk.collect(jobId, who[i]);
            }
        }
        desk.pullAuditFunds();
    }

    /// @dev Runs `body` as one isolated flow: state restored after, and the flow's money checked to sum to zero.
    function _isolated(uint256 size, uint8 kind) internal returns (int256[6] memory out) {
        uint256 snap = vm.snapshotState();
        int256 total = _total();
        out = _flow(size, kind);
        assertTrue(_total() == total, "the flow's changes sum to zero, to the wei");
        vm.revertToState(snap);
    }

    /// @dev The flows. Returns up to six numbers, as each kind documents.
    function _flow(uint256 size, uint8 kind) internal returns (int256[6] memory out) {
        int256[14] memory before = _snapshot();
        uint256 jobId = _submitted(size);
        uint256 bond = market.getProgress(jobId).bond;
        out[5] = int256(bond);
        if (kind == 0 || kind == 1) {
            // 0: honest, not audited (finalized); 1: honest, audited and upheld. [operator, juror, rate]
            _audit(jobId, kind == 1);
            if (kind == 1) _runDispute(market.getProgress(jobId).disputeId, [uint256(1), 1, 1]);
            else _finalize(jobId);
            _settle(jobId);
            out[0] = _delta(before, ops[0]);
            out[2] = int256(uint256(desk.auditOf(jobId).rate));
            if (kind == 1) out[1] = _delta(before, committee.jurorsOf(market.getProgress(jobId).disputeId)[0]);
        } else if (kind == 2) {
            // Garbage, audited: ruled 2. [operator]
            _audit(jobId, true);
            _runDispute(market.getProgress(jobId).disputeId, [uint256(2), 2, 2]);
            _settle(jobId);
            out[0] = _delta(before, ops[0]);
        } else if (kind == 3) {
            // Garbage, a watcher challenges, the jury votes 2. [operator, watcher, a juror]
            uint256 disputeId = _challenge(watcher, jobId);
            _runDispute(disputeId, [uint256(2), 2, 2]);
            _settle(jobId);
            out[0] = _delta(before, ops[0]);
            out[1] = _delta(before, watcher);
            out[2] = _delta(before, committee.jurorsOf(disputeId)[0]);
        } else if (kind == 4) {
            // Garbage challenged; votes 2, 1 (bribed), silent: the 1 : 1 with a silent seat redraws, so the
            // majority stays 2 once the redrawn seat votes 2. [bribed, silent, honest]
            uint256 disputeId = _challenge(watcher, jobId);
            _runDispute(disputeId, [uint256(2), 1, 0]);
            address[] memory jurors = committee.jurorsOf(disputeId);
            _redrawAndVote(disputeId, 2);
            _settle(jobId);
            out[0] = _delta(before, jurors[1]);
            out[1] = _delta(before, jurors[2]);
            out[2] = _delta(before, jurors[0]);
        } else if (kind == 5) {
            // The cheat challenges itself first from a second address; a watcher joins. [cheat, watcher]
            uint256 disputeId = _challenge(sybil, jobId);
            _challenge(watcher, jobId);
            _runDispute(disputeId, [uint256(2), 2, 2]);
            _settle(jobId);
            out[0] = _delta(before, ops[0]) + _delta(before, sybil);
            out[1] = _delta(before, watcher);
        } else if (kind == 6) {
            // A wrong challenge of an honest result. [challenger, operator]
            uint256 disputeId = _challenge(watcher, jobId);
            _runDispute(disputeId, [uint256(1), 1, 1]);
            _settle(jobId);
            out[0] = _delta(before, watcher);
            out[1] = _delta(before, ops[0]);
        } else if (kind == 7) {
            // A decoy: the accused disputes its own honest job to tie up seats (pool exhaustion); the table compares
            // it with the same job finalized unchallenged. [accused]
            uint256 disputeId = _challenge(sybil, jobId);
            _runDispute(disputeId, [uint256(1), 1, 1]);
            _settle(jobId);
            out[0] = _delta(before, ops[0]) + _delta(before, sybil);
        } else if (kind == 9) {
            // Garbage, audited, and its operator unpins the input so no juror can fetch it: ruled 3. [operator]
            _audit(jobId, true);
            _runDispute(market.getProgress(jobId).disputeId, [uint256(3), 3, 3]);
            _settle(jobId);
            out[0] = _delta(before, ops[0]);
        } else {
            // A bad canary (known answer 2) where one juror votes "acceptable" without re-running. [lazy]
            uint256 disputeId = _challenge(watcher, jobId);
            vm.prank(canaryKey);
            committee.registerCanary(keccak256(abi.encode(disputeId, uint256(2), bytes32("salt"))));
            _runDisputeWithCanary(disputeId, [uint256(1), 2, 2]);
            _settle(jobId);
            out[0] = _delta(before, committee.jurorsOf(disputeId)[0]);
        }
    }

    /// @dev The redraw of one silent seat of a round: drawn, voting `vote`, resolved.
    function _redrawAndVote(uint256 disputeId, uint256 vote) internal {
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        address[] memory jurors = committee.jurorsOf(disputeId);
        address seated = jurors[jurors.length - 1];
        bytes32 salt = keccak256("redraw");
        bytes32 commitment = CairnTypedData.commitment(disputeId, 0, seated, vote, salt);
        vm.prank(seated);
        committee.commit(disputeId, seated, commitment);
        (,, uint64 commitDeadline, uint64 revealDeadline,,,,) = committee.disputeInfo(disputeId);
        vm.warp(commitDeadline);
        vm.prank(seated);
        committee.reveal(disputeId, seated, vote, salt);
        vm.warp(revealDeadline);
        _resolveFinally(disputeId);
    }

    function _runDisputeWithCanary(uint256 disputeId, uint256[3] memory votes) internal {
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        address[] memory jurors = committee.jurorsOf(disputeId);
        for (uint256 i = 0; i < 3; ++i) {
            bytes32 commitment = CairnTypedData.commitment(disputeId, 0, jurors[i], votes[i], bytes32(i));
            vm.prank(jurors[i]);
            committee.commit(disputeId, jurors[i], commitment);
        }
        (,, uint64 commitDeadline, uint64 revealDeadline,,,,) = committee.disputeInfo(disputeId);
        vm.warp(commitDeadline);
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 2, bytes32("salt"));
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(jurors[i]);
            committee.reveal(disputeId, jurors[i], votes[i], bytes32(i));
        }
        vm.warp(revealDeadline);
        _resolveFinally(disputeId);
    }

    /*//////////////////////////////////////////////////////////////
                                  TABLE
    //////////////////////////////////////////////////////////////*/

    function _line(uint256 size, Row memory r) internal {
        vm.writeLine(
            _out(),
            string.concat(
                '{"size":"',
                vm.toString(size),
                '","role":"',
                r.role,
                '","profit":"',
                vm.toString(r.profit),
                '","locked":"',
                vm.toString(r.locked),
                '","lockSeconds":',
                vm.toString(r.lockSeconds),
                ',"computes":',
                r.computes ? "true" : "false",
                "}"
            )
        );
    }

    /// @dev Expected value of `a` with probability 1 − p and `b` with p (p in WAD).
    function _ev(int256 a, int256 b, uint256 p) internal pure returns (int256) {
        return (a * int256(WAD - p) + b * int256(p)) / int256(WAD);
    }

    /// @dev The table's rows at one job size, from the ten flows.
    function _rows(uint256 size) internal returns (Row[14] memory rows) {
        int256[6][11] memory f;
        for (uint8 k = 0; k < 11; ++k) {
            f[k] = _isolated(size, k);
        }
        uint256 rate = uint256(f[0][2]);
        uint256 bond = uint256(f[0][5]);
        uint256 seat = pool.seatSize();
        uint256 window = market.params().challengeWindow;
        IReexecutionCommittee.Params memory cp = committee.params();
        // A seat is locked from the draw through the commit and reveal periods and, where rulings can be appealed,
        // the appeal period.
        uint256 disputeTime = cp.commitPeriod + cp.revealPeriod + cp.appealPeriod;
        uint256 challengeBond = market.params().challengeBond;
        // Bad canaries: half the canary seats; a lazy "always acceptable" juror matches every other seat.
        int256 lazy = _ev(f[3][2], f[10][0], GAMMA_BPS * WAD / 10_000 / 2);
        rows = [
            Row("honest runner", _ev(f[0][0], f[1][0], rate), bond, window, true),
            Row("garbage runner, audits only", _ev(f[0][0], f[2][0], rate), bond, window, false),
            Row("garbage runner hiding the input when audited", _ev(f[0][0], f[9][0], rate), bond, window, false),
            Row("garbage runner, watched", f[3][0], bond, window, false),
            Row("self-challenging cheat", f[5][0], bond, window, false),
            // A first challenger advances its bond and the fee, a joiner its bond, until the ruling.
            Row("right challenger (watcher)", f[3][1], challengeBond + cp.fee, disputeTime, true),
            Row("watcher joining a self-challenge", f[5][1], challengeBond, disputeTime, true),
            Row("wrong challenger", f[6][0], 0, 0, false),
            Row("honest juror (per seat)", f[3][2], seat, disputeTime, true),
            Row("lazy juror (per seat)", lazy, seat, disputeTime, false),
            Row(
                "lazy juror's gain over honest (compute saved: at most 1e-6 ETH)",
                lazy - f[3][2] + COMPUTE_BOUND,
                0,
                0,
                false
            ),
            Row("silent juror (per seat)", f[4][1], seat, disputeTime, false),
            Row("bribed juror (per seat, before the bribe)", f[4][0], seat, disputeTime, false),
            Row("pool-exhausting accused (per decoy, against no decoy)", f[7][0] - f[0][0], bond, window, false)
        ];
        assertTrue(f[6][1] > 0, "the wrongly challenged operator is paid, with the challenger's bond");
    }

    /// @dev Where the table's rows go (`make bench` reads them).
    function _out() internal pure virtual returns (string memory) {
        return "bench/results/incentives.jsonl";
    }

    /// @dev A row's profit less the cost of its capital (what it keeps locked, at 10% a year for its lock time) and,
    /// for a role that re-runs the job, `COMPUTE_BOUND`.
    function _net(Row memory r) internal pure returns (int256) {
        uint256 capital = r.locked * CAPITAL_BPS_PER_YEAR * r.lockSeconds / (10_000 * 365 days);
        return r.profit - int256(capital) - (r.computes ? COMPUTE_BOUND : int256(0));
    }

    /// The table: every cheat negative, every honest role positive after its capital and compute costs, at every
    /// job size; written for `make bench`.
    function test_EveryCheatLosesAndEveryHonestRoleEarnsAtEveryJobSize() public {
        // Absent on a fresh clone (not committed); created or emptied the same way either way, so the test's gas
        // (in the gas snapshot) does not depend on an earlier run.
        vm.createDir("bench/results", true);
        vm.writeFile(_out(), "");
        uint256[5] memory sizes = [uint256(0.001 ether), 0.01 ether, 0.1 ether, 1 ether, 10 ether];
        for (uint256 s = 0; s < sizes.length; ++s) {
            Row[14] memory rows = _rows(sizes[s]);
            for (uint256 i = 0; i < rows.length; ++i) {
                _line(sizes[s], rows[i]);
                // Honest roles earn; cheats lose (the lazy juror: relative to doing the work, the next row).
                bool honest = i == 0 || i == 5 || i == 6 || i == 8;
                if (honest) assertTrue(_net(rows[i]) > 0, rows[i].role);
                else if (i != 9) assertTrue(rows[i].profit < 0, rows[i].role);
            }
        }
    }
}

/// @notice The same table under the production profile of cairn-deploy for base and optimism (arbitrum-one's
/// periods are 24 hours): a 36-hour challenge window, 30-minute claims, 12-hour commit, reveal and appeal periods
/// (the force-inclusion delay), and the production committee fee, `PRODUCTION_FEE`. A seat is then locked for
/// 36 hours per dispute and a bond for about as long, so the capital cost, negligible on the devnet, is netted
/// out by the assertion. (A juror's stake is held between draws too: docs/ARCHITECTURE.md sizes that.)
contract IncentivesTableProduction is IncentivesTable {
    /// @dev cairn-deploy's production default for `[committee] fee` (deploy/src/config.rs).
    uint256 internal constant PRODUCTION_FEE = 0.01 ether;

    function setUp() public override {
        super.setUp();
        IJobMarket.Params memory p = market.params();
        p.claimTimeout = 30 minutes;
        p.challengeWindow = 36 hours;
        IReexecutionCommittee.Params memory cp = committee.params();
        cp.fee = PRODUCTION_FEE;
        cp.commitPeriod = 12 hours;
        cp.revealPeriod = 12 hours;
        cp.appealPeriod = 12 hours;
        vm.startPrank(owner);
        market.setParams(p);
        committee.setParams(cp);
        vm.stopPrank();
    }

    function _out() internal pure override returns (string memory) {
        return "bench/results/incentives-production.jsonl";
    }
}
