// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IDisputeDesk} from "../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice Input availability (issue #12, "Input availability"; docs/ARCHITECTURE.md): jurors vote 3 when the
/// job's input cannot be fetched. Ruling 3 refunds the buyer, returns every challenger's bond and charges the
/// operator (it signed a receipt binding the input's digest, so it had the input, and it must keep it pinned
/// through the ruling) the arbitration fee plus what a ruling of 2 would have burned, out of its bond: the fee goes
/// back to whoever advanced it, the rest is burned. So a buyer and a challenger who hide the input gain nothing
/// (the buyer gets its own payment back, the challenger its bond and fee), and an operator that hides it when
/// audited loses at least the burn the audit rate prices in (the incentive table's row).
contract InputAvailabilityTest is CairnSystem {
    uint256 internal constant PAY = 0.01 ether;
    uint256 internal constant FEE = 0.03 ether; // the committee's arbitration cost in this suite
    uint256 internal constant BOND = 0.05 ether; // the challenge bond
    uint256 internal constant COHERENCE = 0.05 ether; // the committee's coherence penalty in this suite
    /// @dev What ruling 3 burns of a 0.25 ETH bond: burnBps (50%) of the bond less the fee.
    uint256 internal constant BURNED = (0.25 ether - FEE) / 2;
    address internal watcher = address(0x3A7C);
    address internal joiner = address(0x5B11);

    function setUp() public {
        setUpSystem();
        // k seats are k distinct jurors, so each test's votes land as written.
        _oneSeatEach();
        // Disputes v2's operator bonds: floor 0.25 ETH, 4× the payment above it.
        _v2Bonds();
        vm.deal(watcher, 100 ether);
        vm.deal(joiner, 100 ether);
    }

    /// Every juror votes 3: the buyer is refunded in full, both tickets get their bonds back, the first challenger
    /// its fee, the operator pays the fee plus half the rest of its bond (burned; the rest released), the jurors
    /// share the fee, and every wei is accounted for.
    function test_UnfetchableInputRefundsTheBuyerAndChargesTheOperatorTheFee() public {
        uint256 jobId = _submitted(PAY);
        uint256 stakeBefore = operators.getOperator(ops[0]).stake;
        assertEq(operators.getOperator(ops[0]).locked, 0.25 ether, "the bond is locked");
        uint256 disputeId = _challenge(watcher, jobId);
        assertEq(_challenge(joiner, jobId), disputeId, "the joiner's ticket is in the same pool");

        _drawAndVote(disputeId, [uint256(3), 3, 3]);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(disputeId, 3, 0, 0, 3);
        vm.expectEmit(address(market));
        emit IJobMarket.JobClosed(jobId, IJobMarket.JobState.Resolved, IJobMarket.CloseReason.InputUnavailable);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.PoolSettled(jobId, disputeId, 3, BOND, FEE, BURNED);
        committee.resolve(disputeId);

        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertEq(uint8(p.closeReason), uint8(IJobMarket.CloseReason.InputUnavailable), "closed: input unavailable");
        assertEq(market.balanceOf(buyer, address(0)), PAY, "the buyer refunded in full");
        assertEq(market.balanceOf(ops[0], address(0)), 0, "the operator unpaid");
        assertEq(operators.getOperator(ops[0]).stake, stakeBefore - FEE - BURNED, "the fee and the burn, no more");
        assertEq(operators.getOperator(ops[0]).locked, 0, "the rest of the bond released");
        assertEq(operators.getOperator(ops[0]).disputesLost, 0, "not recorded as a lost dispute");
        assertEq(desk.totalBurned(), BURNED, "what a ruling of 2 would burn");
        assertEq(_cashOut(jobId, watcher), BOND + FEE, "the first challenger: its bond and its fee back");
        assertEq(_cashOut(jobId, joiner), BOND, "a joiner: its bond back");
        // The jurors share the fee less the keeper reward (the keeper is this test contract).
        uint256 paid = 0;
        address[] memory jurors = committee.jurorsOf(disputeId);
        for (uint256 i = 0; i < jurors.length; ++i) {
            paid += committee.balanceOf(jurors[i], address(0));
            assertEq(pool.jurorInfo(jurors[i]).locked, 0, "every seat released");
        }
        uint256 keeper = committee.balanceOf(address(this), address(0));
        assertEq(paid + keeper, FEE, "the jurors and the keeper share exactly the fee");
        assertEq(desk.challengePoolsHeld(), 0, "every ticket collected");
        assertEq(address(desk).balance, 0, "the desk keeps nothing");
        _assertMarketSolvent();
    }

    /// A juror who says the input was fetchable (and the output acceptable) when the majority could not fetch it
    /// pays the coherence penalty like any other wrong vote; the coherent jurors share it.
    function test_AJurorAgainstRulingThreePaysTheCoherencePenalty() public {
        uint256 jobId = _submitted(PAY);
        uint256 disputeId = _challenge(watcher, jobId);
        _drawAndVote(disputeId, [uint256(1), 3, 3]);
        address[] memory jurors = committee.jurorsOf(disputeId);
        committee.resolve(disputeId);
        assertEq(
            uint8(market.getProgress(jobId).closeReason),
            uint8(IJobMarket.CloseReason.InputUnavailable),
            "closed: input unavailable"
        );
        uint256 seat = pool.seatSize();
        assertEq(pool.jurorInfo(jurors[0]).stake, seat - COHERENCE, "the incoherent juror pays psi");
        assertEq(committee.balanceOf(jurors[0], address(0)), 0, "and is paid nothing");
        for (uint256 i = 1; i < jurors.length; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).stake, seat, "coherent jurors keep their stake");
            assertTrue(committee.balanceOf(jurors[i], address(0)) > COHERENCE / 2, "and share psi and the fee");
        }
        _assertMarketSolvent();
    }

    /// Three seats, three different votes: no plurality, ruling 0 (the arbitrator refuses), as a tie of two.
    function test_AThreeWayTieRulesZero() public {
        uint256 jobId = _submitted(PAY);
        uint256 disputeId = _challenge(watcher, jobId);
        _drawAndVote(disputeId, [uint256(1), 2, 3]);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(disputeId, 0, 1, 1, 1);
        committee.resolve(disputeId);
        assertEq(
            uint8(market.getProgress(jobId).closeReason),
            uint8(IJobMarket.CloseReason.ArbitratorRefused),
            "closed: refused"
        );
        assertEq(operators.getOperator(ops[0]).locked, 0, "the whole bond released on 0");
        _assertMarketSolvent();
    }

    /// Silence is redrawn when it could change the plurality of three options: one for 3, one for 2, one silent.
    function test_SilenceThatCouldTipThreeOptionsIsRedrawn() public {
        uint256 disputeId = _challenge(watcher, _submitted(PAY));
        _drawAndVote(disputeId, [uint256(3), 2, 0]);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(disputeId, 0, 1, block.number + 1);
        committee.resolve(disputeId);
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(disputeId);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Created), "the silent seat goes back to the draw");
    }

    /// Silence that could not change it is not redrawn: two for 3, one silent rules 3 (the silent seat pays the
    /// non-reveal penalty at the ruling).
    function test_SilenceThatCannotTipIsNotRedrawn() public {
        uint256 jobId = _submitted(PAY);
        uint256 disputeId = _challenge(watcher, jobId);
        _runDispute(disputeId, [uint256(3), 3, 0]);
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(disputeId);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Ruled), "2:0 with one silent seat rules");
        assertEq(
            uint8(market.getProgress(jobId).closeReason),
            uint8(IJobMarket.CloseReason.InputUnavailable),
            "closed: input unavailable"
        );
        address silent = committee.jurorsOf(disputeId)[2];
        assertEq(pool.jurorInfo(silent).stake, pool.seatSize() - 0.1 ether, "the silent juror paid nu");
        _assertMarketSolvent();
    }

    /// A bond smaller than the fee caps the charge at the bond: the operator's free stake is never touched.
    function test_TheChargeNeverExceedsTheBond() public {
        IJobMarket.Params memory p = defaultParams(); // floor 0.01 ETH, 20%: a 0.01 ETH job bonds 0.01 ETH
        vm.prank(owner);
        market.setParams(p);
        uint256 jobId = _submitted(PAY);
        uint256 bond = market.getProgress(jobId).bond;
        assertTrue(bond < FEE, "a bond below the fee");
        uint256 stakeBefore = operators.getOperator(ops[0]).stake;
        uint256 disputeId = _challenge(watcher, jobId);
        _runDispute(disputeId, [uint256(3), 3, 3]);
        assertEq(operators.getOperator(ops[0]).stake, stakeBefore - bond, "charged the bond, not the fee");
        assertEq(operators.getOperator(ops[0]).locked, 0, "nothing left locked");
        assertEq(_cashOut(jobId, watcher), BOND + bond, "the challenger gets what was charged");
        _assertMarketSolvent();
    }
}
