// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice Issue #11, item 3: `releaseClaim`. The claimer hands a job back strictly no later than its submit
/// deadline (after it, `reopen` is the way), pays exactly what a timeout's `reopen` takes for the same bond,
/// and the job is open again at once, for another operator in the same block. Only the penalty moves: to the
/// treasury's pull balance, out of the operator's stake; the rest of the bond is unlocked and the escrow stays.
contract ReleaseClaimTest is CairnSystem {
    uint256 internal constant PAY = 1 ether; // bond 20% = 0.2 ether, penalty 10% of it = 0.02 ether
    uint256 internal constant BOND = 0.2 ether;
    uint256 internal constant PENALTY = 0.02 ether;

    function setUp() public {
        setUpSystem();
    }

    function _claimed(uint256 opIndex) internal returns (uint256 jobId) {
        jobId = _requestEth(PAY);
        vm.prank(ops[opIndex]);
        market.claim(jobId, ops[opIndex]);
    }

    function _wrongState(uint256 jobId, IJobMarket.JobState state) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IJobMarket.WrongState.selector, jobId, state);
    }

    /*//////////////////////////////////////////////////////////////
                                 WINDOW
    //////////////////////////////////////////////////////////////*/

    function test_ReleaseAtSubmitByReopensForAnotherOperatorInTheSameBlock() public {
        uint256 jobId = _claimed(0);
        uint64 submitBy = market.getProgress(jobId).submitBy;
        vm.warp(submitBy); // the last second of the window
        vm.expectEmit(address(market));
        emit IJobMarket.ClaimReleased(jobId, ops[0], PENALTY);
        vm.prank(ops[0]);
        market.releaseClaim(jobId);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertTrue(p.state == IJobMarket.JobState.Requested, "open again");
        assertEq(p.operator, address(0), "no operator");
        assertEq(p.bond, 0, "no bond");
        assertEq(p.submitBy, 0, "no submit deadline");
        assertTrue(p.closeReason == IJobMarket.CloseReason.Open, "not closed");

        vm.prank(ops[1]); // same block, same second
        market.claim(jobId, ops[1]);
        p = market.getProgress(jobId);
        assertEq(p.operator, ops[1], "claimed by the next operator");
        assertEq(p.submitBy, submitBy + 10 minutes, "with a fresh window");
        assertEq(operators.lockedBy(ops[1], address(market)), BOND, "its own bond");
    }

    function test_ReleaseRightAfterTheClaim() public {
        uint256 jobId = _claimed(0);
        vm.prank(ops[0]);
        market.releaseClaim(jobId); // the claim's own second
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Requested, "open again");
        assertEq(market.balanceOf(treasury, address(0)), PENALTY, "penalty even for an immediate release");
        // The releasing operator may claim it again at once (it pays the penalty each time).
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        assertEq(market.getProgress(jobId).operator, ops[0], "claimed again");
    }

    function test_RevertWhen_ReleasedAfterSubmitBy_ThenReopenTakesOver() public {
        uint256 jobId = _claimed(0);
        uint64 submitBy = market.getProgress(jobId).submitBy;
        vm.warp(submitBy + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.OutsideWindow.selector, jobId, submitBy, submitBy + 1));
        vm.prank(ops[0]);
        market.releaseClaim(jobId);
        vm.expectEmit(address(market));
        emit IJobMarket.ClaimExpired(jobId, ops[0], PENALTY);
        market.reopen(jobId);
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Requested, "reopened");
    }

    /*//////////////////////////////////////////////////////////////
                             SAME PENALTY
    //////////////////////////////////////////////////////////////*/

    function test_ReleaseCostsWhatATimeoutCosts() public {
        uint256 released = _claimed(0);
        uint256 timedOut = _claimed(1);
        vm.prank(ops[0]);
        market.releaseClaim(released);
        uint256 afterRelease = market.balanceOf(treasury, address(0));
        vm.warp(market.getProgress(timedOut).submitBy + 1);
        market.reopen(timedOut);
        uint256 afterReopen = market.balanceOf(treasury, address(0)) - afterRelease;
        assertEq(afterRelease, PENALTY, "release: 10% of the bond");
        assertEq(afterReopen, afterRelease, "reopen takes the same");
        assertEq(operators.getOperator(ops[0]).stake, operators.getOperator(ops[1]).stake, "both stakes cut alike");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "released bond unlocked");
        assertEq(operators.lockedBy(ops[1], address(market)), 0, "timed-out bond unlocked");
    }

    function testFuzz_ReleaseCostsWhatATimeoutCosts(uint256 payment, uint16 penaltyBps) public {
        payment = bound(payment, 0.001 ether, 20 ether); // bond (20%) stays within the 5 ETH stake
        IJobMarket.Params memory p = defaultParams();
        p.claimPenaltyBps = uint16(bound(penaltyBps, 0, 10_000));
        vm.prank(owner);
        market.setParams(p);
        uint256 released = _requestEth(payment);
        uint256 timedOut = _requestEth(payment);
        vm.prank(ops[0]);
        market.claim(released, ops[0]);
        vm.prank(ops[1]);
        market.claim(timedOut, ops[1]);
        uint256 bond = market.bondFor(address(0), payment);
        vm.prank(vm.addr(opSignerKeys[0]));
        market.releaseClaim(released);
        uint256 byRelease = market.balanceOf(treasury, address(0));
        vm.warp(block.timestamp + 10 minutes + 1);
        market.reopen(timedOut);
        uint256 byReopen = market.balanceOf(treasury, address(0)) - byRelease;
        assertEq(byRelease, bond * p.claimPenaltyBps / 10_000, "bond x claimPenaltyBps");
        assertEq(byReopen, byRelease, "release and timeout cost the same");
        assertEq(operators.getOperator(ops[0]).stake, 5 ether - byRelease, "the releaser's stake cut");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "rest unlocked");
        _assertMarketSolvent();
    }

    /*//////////////////////////////////////////////////////////////
                               ACCOUNTING
    //////////////////////////////////////////////////////////////*/

    function test_ReleaseMovesOnlyThePenalty() public {
        _claimed(0); // ops[0] holds another job's bond throughout
        uint256 lockedBefore = operators.lockedBy(ops[0], address(market));
        uint256 stakeBefore = operators.getOperator(ops[0]).stake;
        uint256 freeBefore = operators.freeStake(ops[0]);
        uint256 bondedBefore = operators.totalBonded();
        uint256 jobId = _claimed(0);
        assertEq(operators.lockedBy(ops[0], address(market)), lockedBefore + BOND, "claimed: bond locked");
        uint256 marketEth = address(market).balance;
        uint256 escrowed = market.escrowed(address(0));
        uint256 owed = market.totalCredited(address(0));

        vm.prank(ops[0]);
        market.releaseClaim(jobId);
        assertEq(operators.lockedBy(ops[0], address(market)), lockedBefore, "lock back to before the claim");
        assertEq(operators.getOperator(ops[0]).locked, lockedBefore, "total lock too");
        assertEq(operators.getOperator(ops[0]).stake, stakeBefore - PENALTY, "stake cut by the penalty only");
        assertEq(operators.freeStake(ops[0]), freeBefore - PENALTY, "the rest of the bond is free again");
        assertEq(operators.totalBonded(), bondedBefore - PENALTY, "the registry owes the penalty less");
        assertEq(address(operators).balance, operators.totalBonded(), "and holds exactly that");
        assertEq(market.balanceOf(treasury, address(0)), PENALTY, "treasury credited the penalty");
        assertEq(market.totalCredited(address(0)), owed + PENALTY, "owed grows by the penalty");
        assertEq(address(market).balance, marketEth + PENALTY, "the market holds it");
        assertEq(market.escrowed(address(0)), escrowed, "the buyer's payment stays in escrow");
        assertEq(market.balanceOf(buyer, address(0)), 0, "nothing to the buyer");
        assertEq(market.getTerms(jobId).payment, PAY, "terms untouched");
        _assertMarketSolvent();
    }

    function test_ReleaseWorksWhilePausedButNoOneClaimsUntilUnpaused() public {
        uint256 jobId = _claimed(0);
        vm.prank(owner);
        market.pause();
        vm.prank(ops[0]);
        market.releaseClaim(jobId);
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Requested, "released while paused");
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(ops[1]);
        market.claim(jobId, ops[1]);
    }

    /*//////////////////////////////////////////////////////////////
                               WRONG STATE
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_ReleasingAJobThatIsNotClaimed() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownJob.selector, 7));
        vm.prank(ops[0]);
        market.releaseClaim(7);

        uint256 jobId = _requestEth(PAY);
        vm.expectRevert(_wrongState(jobId, IJobMarket.JobState.Requested));
        vm.prank(ops[0]);
        market.releaseClaim(jobId);

        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        vm.prank(ops[0]);
        market.releaseClaim(jobId);
        vm.expectRevert(_wrongState(jobId, IJobMarket.JobState.Requested));
        vm.prank(ops[0]);
        market.releaseClaim(jobId); // twice

        _claimAndSubmit(jobId, 0);
        vm.expectRevert(_wrongState(jobId, IJobMarket.JobState.Submitted));
        vm.prank(ops[0]);
        market.releaseClaim(jobId);

        vm.prank(challenger);
        desk.challenge{value: 0.08 ether}(jobId);
        vm.expectRevert(_wrongState(jobId, IJobMarket.JobState.Disputed));
        vm.prank(ops[0]);
        market.releaseClaim(jobId);

        uint256 done = _requestEth(PAY);
        _claimAndSubmit(done, 1);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(done);
        vm.expectRevert(_wrongState(done, IJobMarket.JobState.Finalized));
        vm.prank(ops[1]);
        market.releaseClaim(done);

        uint256 expired = _requestEth(PAY);
        vm.warp(block.timestamp + 1 hours + 1);
        market.cancel(expired);
        vm.expectRevert(_wrongState(expired, IJobMarket.JobState.Cancelled));
        vm.prank(ops[1]);
        market.releaseClaim(expired);
        assertEq(market.balanceOf(treasury, address(0)), PENALTY + market.getTerms(done).protocolFee, "one penalty");
    }

    function test_RevertWhen_TheBuyerOrAnotherOperatorReleases() public {
        uint256 jobId = _claimed(0);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NotOperatorOrSigner.selector, ops[0], buyer));
        vm.prank(buyer);
        market.releaseClaim(jobId);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NotOperatorOrSigner.selector, ops[0], ops[1]));
        vm.prank(ops[1]);
        market.releaseClaim(jobId);
        assertEq(market.getProgress(jobId).operator, ops[0], "still claimed");
    }
}
