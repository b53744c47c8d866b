// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IDisputeDesk} from "../../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";
import {IJurorPool} from "../../src/interfaces/IJurorPool.sol";
import {IReexecutionCommittee} from "../../src/interfaces/IReexecutionCommittee.sol";
import {CairnSystem} from "../utils/CairnSystem.sol";
import {MarketHandler} from "./MarketHandler.sol";

/// @notice Money invariants of the whole suite under random sequences of requests, claims (by operators and
/// their signer keys), released claims, results, challenges, rulings, timeouts, withdrawals and force-sent ETH.
contract MarketInvariantTest is CairnSystem {
    MarketHandler internal handler;
    uint256 internal initialBonded;

    function setUp() public {
        setUpSystem();
        address[] memory actors = new address[](6);
        (actors[0], actors[1], actors[2]) = (buyer, challenger, seller);
        (actors[3], actors[4], actors[5]) = (treasury, ops[0], ops[1]);
        // Disputes v2's bonds (4× the payment above a 0.25 ETH floor): jobs up to 2 ETH bond up to 8 ETH, so a
        // dispute's own wait for seats is 30 to 60 days (`waitFor`), disputes waiting together wait the sum, and the
        // end-of-run settlement walks through different `expiresAt`s; the operators stake enough to claim several
        // such jobs at once.
        IJobMarket.Params memory mp = defaultParams();
        mp.bondBps = 40_000;
        mp.bondFloor = 0.25 ether;
        vm.prank(owner);
        market.setParams(mp);
        for (uint256 i = 0; i < 3; ++i) {
            vm.deal(ops[i], 100 ether);
            vm.prank(ops[i]);
            operators.addStake{value: 40 ether}();
        }
        handler = new MarketHandler(
            market, desk, operators, committee, usdc, [ethModel, usdcModel], ops, opSignerKeys, actors
        );
        initialBonded = operators.totalBonded();
        // Audits on, a fifth of the jobs at least, with a pool that covers a few.
        vm.prank(owner);
        desk.setAuditParams(IDisputeDesk.AuditParams(12_500, 2000));
        desk.fundAuditPool{value: 0.1 ether}();
        // Rounds may be appealed (the handler appeals or lets the period pass).
        IReexecutionCommittee.Params memory cp = committee.params();
        cp.appealPeriod = 1 hours;
        vm.prank(owner);
        committee.setParams(cp);
        handler.setVerifiers(verifiers);
        // The handler is the canary key: every other dispute it opens is a canary (issue #12).
        vm.prank(owner);
        committee.setCanaryKey(address(handler));
        targetContract(address(handler));
    }

    /// Liveness (issue #12): whatever the run did (silent jurors, overlapping juries on five verifiers, decoy and
    /// self-challenges, audits, appeals, governance changes, stake moves), every dispute it opened can then be
    /// ruled by anyone's actions, and nothing stays locked: no juror's seats, no committee fee, no challenge bond,
    /// no operator bond of a disputed job.
    function afterInvariant() external {
        assertEq(handler.settleAll(), 0, "a dispute could not be ruled");
        assertEq(handler.ghost_resolveReverted(), 0, "a resolve reverted after its period");
        assertEq(committee.feesHeld(), 0, "fees of unruled disputes are held");
        assertEq(committee.waitingDays(), 0, "a ruled dispute's wait still counts");
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(pool.jurorInfo(verifiers[i]).locked, 0, "a juror's seats stay locked");
        }
        uint256[] memory jobIds = handler.challenged();
        for (uint256 i = 0; i < jobIds.length; ++i) {
            assertTrue(market.getProgress(jobIds[i]).state != IJobMarket.JobState.Disputed, "a job stays disputed");
        }
        // Only claimed and submitted jobs still lock an operator's bond.
        uint256 locked;
        uint256 bonds;
        for (uint256 i = 0; i < 3; ++i) {
            locked += operators.getOperator(ops[i]).locked;
        }
        for (uint256 jobId = 1; jobId <= market.jobCount(); ++jobId) {
            IJobMarket.JobProgress memory p = market.getProgress(jobId);
            if (p.state == IJobMarket.JobState.Claimed || p.state == IJobMarket.JobState.Submitted) bonds += p.bond;
        }
        assertEq(locked, bonds, "operator stake locked beyond the open claims");
    }

    /// Held ETH = escrows + pull balances + exactly what was force-sent; the desk likewise holds its challenge
    /// pools + pull balances + what was force-sent to it.
    function invariant_EthHeldEqualsObligationsPlusForcedSurplus() public view {
        uint256 owed = market.escrowed(address(0)) + market.totalCredited(address(0));
        assertEq(address(market).balance, owed + handler.ghost_forceSent(), "ETH accounting");
        uint256 deskOwed = desk.challengePoolsHeld() + desk.auditPool() + desk.totalCredited(address(0));
        assertEq(address(desk).balance, deskOwed + handler.ghost_forceSentDesk(), "desk ETH accounting");
    }

    /// The desk's challenge pools hold exactly each ticket not yet collected: its bond while the dispute is open,
    /// its payout once ruled (none when ruled against the challengers).
    function invariant_ChallengePoolsHeldEqualsTickets() public view {
        uint256[] memory jobIds = handler.challenged();
        address[] memory actors = handler.actorList();
        uint256 sum;
        for (uint256 i = 0; i < jobIds.length; ++i) {
            IDisputeDesk.Pool memory p = desk.poolOf(jobIds[i]);
            uint256 each = p.ruled ? p.payout : p.bond;
            uint256 held;
            for (uint256 a = 0; a < actors.length; ++a) {
                if (desk.ticketOf(jobIds[i], actors[a]) == IDisputeDesk.Ticket.Held) ++held;
            }
            assertTrue(held <= p.tickets, "held tickets <= tickets");
            sum += held * each;
        }
        assertEq(desk.challengePoolsHeld(), sum, "pools = uncollected tickets");
    }

    /// Held USDC = escrows + pull balances (nobody can force-send through our code paths).
    function invariant_TokenHeldEqualsObligations() public view {
        uint256 owed = market.escrowed(address(usdc)) + market.totalCredited(address(usdc));
        assertEq(usdc.balanceOf(address(market)), owed, "USDC accounting");
    }

    /// The operator registry holds exactly the stakes, which only ever fall (no deposits in this run).
    function invariant_StakesHeldAndNeverCreated() public view {
        assertEq(address(operators).balance, operators.totalBonded(), "registry balance");
        assertTrue(operators.totalBonded() <= initialBonded, "no stake created");
        uint256 sum;
        for (uint256 i = 0; i < 3; ++i) {
            sum += operators.getOperator(ops[i]).stake + operators.getOperator(ops[i]).unbonding;
            assertTrue(operators.getOperator(ops[i]).locked <= operators.getOperator(ops[i]).stake, "locked <= stake");
        }
        for (uint256 i = 0; i < 5; ++i) {
            sum += operators.getOperator(verifiers[i]).stake + operators.getOperator(verifiers[i]).unbonding;
        }
        assertEq(sum, operators.totalBonded(), "sum of stakes");
    }

    /// Burned ETH is at the burn address and counted.
    function invariant_BurnedIsTracked() public view {
        assertEq(address(0xdEaD).balance, desk.totalBurned(), "burned");
    }

    /// The juror pool holds exactly the juror stakes, never more locked than held.
    function invariant_JurorPoolSolvent() public view {
        assertEq(address(pool).balance, pool.totalHeld(), "pool balance");
        uint256 sum;
        for (uint256 i = 0; i < 5; ++i) {
            IJurorPool.Juror memory j = pool.jurorInfo(verifiers[i]);
            sum += uint256(j.stake) + j.pendingDeposit + j.unbonding;
            assertTrue(j.locked <= j.stake, "locked <= stake");
            assertTrue(pool.seatsOf(verifiers[i]) * pool.seatSize() <= j.stake - j.locked, "seats <= free stake");
        }
        assertEq(sum, pool.totalHeld(), "sum of juror stakes");
    }

    /// Every dispute waiting for seats counts its wait in the committee's total (each once), so another dispute's
    /// `expire` waits for it too.
    function invariant_WaitingDisputesCountTheirWaits() public view {
        uint256[] memory jobIds = handler.challenged();
        uint256 sum;
        for (uint256 i = 0; i < jobIds.length; ++i) {
            IJobMarket.JobProgress memory p = market.getProgress(jobIds[i]);
            (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(p.disputeId);
            if (phase != IReexecutionCommittee.Phase.Waiting) continue;
            bool seen;
            for (uint256 j = 0; j < i; ++j) {
                if (market.getProgress(jobIds[j]).disputeId == p.disputeId) seen = true;
            }
            if (!seen) sum += committee.waitFor(p.bond) / 1 days;
        }
        assertTrue(committee.waitingDays() >= sum, "a waiting dispute's wait is not counted");
    }

    /// The committee holds what it owes: pull balances and the fees of disputes not yet ruled.
    function invariant_CommitteeSolvent() public view {
        assertEq(address(committee).balance, committee.totalCredited(address(0)) + committee.feesHeld(), "committee");
    }

    /// No job closes twice; a finalized split sums to the payment; windows are disjoint; a released claim costs
    /// exactly a timeout's penalty and reopens the job.
    function invariant_SettlementRules() public view {
        assertEq(handler.ghost_closedTwice(), 0, "a job closed twice");
        assertEq(handler.ghost_resolveReverted(), 0, "a dispute could not be resolved after its period");
        assertEq(handler.ghost_expiredEarly(), 0, "a dispute expired before its wait ended");
        assertEq(handler.ghost_badSplits(), 0, "a split did not sum to the payment");
        assertEq(handler.ghost_finalizedEarly(), 0, "finalized inside the window");
        assertEq(handler.ghost_finalizedUnaudited(), 0, "finalized before its audit was cleared");
        assertEq(handler.ghost_challengedLate(), 0, "challenged after the window");
        assertEq(handler.ghost_nonceDecreases(), 0, "a nonce went down");
        assertEq(handler.ghost_badReleases(), 0, "a released claim was not settled like a timeout");
    }
}
