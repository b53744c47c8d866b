// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IArbitrable} from "../src/interfaces/IArbitration.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice Issue #12 step 7: rounds. Silent seats that could change a majority are slashed and drawn again, a
/// round's ruling may be appealed to a larger jury for a rising fee, commitments bind the round, and once final
/// every seat of every round is judged against the ruling (coherence). Each juror here holds exactly one seat
/// (0.5 ETH), so k seats are k distinct jurors; the accused is ops[0] and the challenger holds no juror stake.
contract RoundsTest is CairnSystem, IArbitrable {
    uint256 internal constant FEE = 0.03 ether;
    uint256 internal constant KEEPER = 0.001 ether;
    /// @dev `createDispute`'s stake cutoff when the opening is the cutoff (a dispute opened in time).
    uint64 internal constant NO_CUTOFF = type(uint64).max;
    /// @dev The accused's bond in `createDispute`'s extraData: up to `WAIT_BOND`, so the shortest wait (30 days).
    uint256 internal constant BOND = 1 ether;

    address[] internal jurorSet;
    uint256 internal ruledWith = type(uint256).max;
    uint256 internal rulings;

    function setUp() public {
        setUpSystem();
        vm.prank(owner);
        committee.setArbitrable(address(this), true);
        vm.deal(address(this), 100 ether);
        // The shared verifiers leave the pool: every seat below is a juror of this file's own.
        for (uint256 i = 0; i < 5; ++i) {
            _leavePool(verifiers[i]);
        }
    }

    /// @inheritdoc IArbitrable
    function rule(uint256, uint256 ruling) external {
        assertEq(msg.sender, address(committee), "only the committee rules");
        ruledWith = ruling;
        ++rulings;
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev `n` jurors of one seat each, matured and in the tree.
    function _jurors(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            address j = vm.addr(0x5000 + i);
            vm.deal(j, 2 ether);
            vm.startPrank(j);
            operators.register{value: 1 ether}(j, 0, keccak256("cpu"), bytes32(0), "");
            pool.deposit{value: 0.5 ether}();
            vm.stopPrank();
            jurorSet.push(j);
        }
        vm.warp(block.timestamp + pool.maturity());
        for (uint256 i = 0; i < n; ++i) {
            pool.sync(jurorSet[i]);
        }
    }

    function _setAppealPeriod(uint64 period) internal {
        IReexecutionCommittee.Params memory p = committee.params();
        p.appealPeriod = period;
        vm.prank(owner);
        committee.setParams(p);
    }

    function _open() internal returns (uint256 id) {
        id = committee.createDispute{value: FEE}(3, abi.encode(ops[0], challenger, NO_CUTOFF, BOND));
    }

    function _draw(uint256 id) internal returns (address[] memory seated) {
        vm.roll(block.number + 2);
        vm.recordLogs();
        committee.draw(id);
        (,,,, uint8 round,,,) = committee.disputeInfo(id);
        seated = committee.jurorsIn(id, round);
    }

    function _salt(address juror) internal pure returns (bytes32) {
        return keccak256(abi.encode("round salt", juror));
    }

    function _round(uint256 id) internal view returns (uint8 round) {
        (,,,, round,,,) = committee.disputeInfo(id);
    }

    function _commit(uint256 id, address juror, uint256 vote) internal {
        bytes32 commitment = CairnTypedData.commitment(id, _round(id), juror, vote, _salt(juror));
        vm.prank(juror);
        committee.commit(id, juror, commitment);
    }

    function _reveal(uint256 id, address juror, uint256 vote) internal {
        vm.prank(juror);
        committee.reveal(id, juror, vote, _salt(juror));
    }

    /// @dev `votes[i]` for juror i of the list (0 = silent), commits then reveals, then waits out the reveal period.
    function _vote(uint256 id, address[] memory seated, uint256[] memory votes) internal {
        for (uint256 i = 0; i < seated.length; ++i) {
            if (votes[i] != 0) _commit(id, seated[i], votes[i]);
        }
        (,, uint64 commitEnd, uint64 revealEnd,,,,) = committee.disputeInfo(id);
        vm.warp(commitEnd);
        for (uint256 i = 0; i < seated.length; ++i) {
            if (votes[i] != 0) _reveal(id, seated[i], votes[i]);
        }
        vm.warp(revealEnd);
    }

    function _all(uint256 n, uint256 vote) internal pure returns (uint256[] memory votes) {
        votes = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            votes[i] = vote;
        }
    }

    /// @dev `n` jurors, appeals on (1 hour): a dispute whose first round votes `vote` unanimously, then appealed
    /// by `appellant` (funded here) at its cost.
    function _appealedRound(uint256 n, uint256 vote, address appellant) internal returns (uint256 id, uint256 cost) {
        _jurors(n);
        _setAppealPeriod(1 hours);
        id = _open();
        _vote(id, _draw(id), _all(3, vote));
        committee.resolve(id);
        cost = committee.appealCost(id);
        vm.deal(appellant, appellant.balance + cost);
        vm.prank(appellant);
        committee.appeal{value: cost}(id);
    }

    /// @dev Waits out the round's appeal period and makes its ruling final.
    function _resolveAfterAppealPeriod(uint256 id) internal {
        (,,,,,, uint64 appealEnd,) = committee.disputeInfo(id);
        vm.warp(appealEnd);
        committee.resolve(id);
    }

    function _phase(uint256 id) internal view returns (IReexecutionCommittee.Phase phase) {
        (phase,,,,,,,) = committee.disputeInfo(id);
    }

    /// @dev Draws the first round of `id` on a seed block hash chosen so that `a` and `b` hold one seat each (and
    /// the third seat goes to the only other juror with a free seat).
    function _drawOnceEach(uint256 id, address a, address b) internal {
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        vm.roll(block.number + 2);
        bool found;
        for (uint256 i = 0; i < 64 && !found; ++i) {
            uint256 snapshot = vm.snapshotState();
            vm.setBlockhash(seedBlock, keccak256(abi.encode("seed", i)));
            committee.draw(id);
            found = committee.seatsOf(id, a) == 1 && committee.seatsOf(id, b) == 1;
            if (!found) vm.revertToState(snapshot);
        }
        assertTrue(found, "a seed seating a and b once each");
    }

    function _stake(address juror) internal view returns (uint256) {
        return pool.jurorInfo(juror).stake;
    }

    function _assertSettled() internal view {
        assertEq(committee.feesHeld(), 0, "no fee left held");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited once");
        for (uint256 i = 0; i < jurorSet.length; ++i) {
            assertEq(pool.jurorInfo(jurorSet[i]).locked, 0, "every seat released");
        }
    }

    /*//////////////////////////////////////////////////////////////
                          SILENCE IS DRAWN AGAIN
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue #12, finding 8 (v1: one silent and one bribed juror tied a garbage job to ruling 0, unpunished).
    /// Now the silence that could decide is slashed and its seat drawn again; the redrawn juror re-executes and
    /// the bribed one pays the coherence penalty.
    function test_Finding8_ASilentAndABribedJurorNoLongerTieGarbageToZero() public {
        _jurors(5);
        uint256 id = _open();
        address[] memory first = _draw(id);
        uint256[] memory votes = new uint256[](3);
        (votes[0], votes[1], votes[2]) = (2, 1, 0); // honest, bribed, silent
        _vote(id, first, votes);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(id, 0, 1, block.number + 1);
        committee.resolve(id);
        assertEq(rulings, 0, "the 1 : 1 does not rule");
        IReexecutionCommittee.Params memory p = committee.params();
        assertEq(_stake(first[2]), 0.5 ether - p.nonRevealPenalty, "the silent juror slashed at once");
        address[] memory seated = _draw(id);
        assertEq(seated.length, 4, "one juror added to the round");
        address redrawn = seated[3];
        assertEq(committee.seatsOf(id, first[2]), 0, "the silent seat is gone");
        _commit(id, redrawn, 2);
        _reveal(id, redrawn, 2); // every seat revealed: no need to wait
        committee.resolve(id);
        assertEq(ruledWith, 2, "garbage ruled not acceptable");
        assertEq(_stake(first[1]), 0.5 ether - p.coherencePenalty, "the bribed vote pays the coherence penalty");
        uint256 pot = FEE - 2 * KEEPER + p.nonRevealPenalty + p.coherencePenalty;
        assertEq(committee.balanceOf(first[0], address(0)), pot - pot / 2, "honest juror: a share and the dust");
        assertEq(committee.balanceOf(redrawn, address(0)), pot / 2, "the redrawn juror: a share");
        assertTrue(pot / 2 > p.coherencePenalty, "re-running paid; the wrong vote lost more than a share");
        _assertSettled();
    }

    function test_SilenceThatCannotChangeTheMajorityIsNotDrawnAgain() public {
        _jurors(5);
        uint256 id = _open();
        address[] memory seated = _draw(id);
        uint256[] memory votes = new uint256[](3);
        (votes[0], votes[1], votes[2]) = (1, 1, 0);
        _vote(id, seated, votes);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 1, 2, 0, 0);
        committee.resolve(id);
        assertEq(ruledWith, 1, "2 : 0 with one silent seat rules");
        assertEq(_stake(seated[2]), 0.5 ether - committee.params().nonRevealPenalty, "silence slashed");
        _assertSettled();
    }

    /// @dev Silence exactly as large as the lead could still tie the round (2 : 1 : 1 with one seat silent of five,
    /// which a fifth vote for "not acceptable" would make 2 : 2): the silent seat is slashed and drawn again, the
    /// round is not ruled on the lead.
    function test_SilenceAsLargeAsTheLeadIsDrawnAgain() public {
        IReexecutionCommittee.Params memory p = committee.params();
        p.jurors = 5;
        vm.prank(owner);
        committee.setParams(p);
        _jurors(7);
        uint256 id = _open();
        address[] memory seated = _draw(id);
        assertEq(seated.length, 5, "five seats");
        uint256[] memory votes = new uint256[](5);
        (votes[0], votes[1], votes[2], votes[3], votes[4]) = (1, 1, 2, 3, 0);
        _vote(id, seated, votes);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(id, 0, 1, block.number + 1);
        committee.resolve(id);
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Created), "the silent seat is drawn again");
        assertEq(rulings, 0, "no ruling on a lead the silence could tie");
        assertEq(_stake(seated[4]), 0.5 ether - p.nonRevealPenalty, "silence slashed");
    }

    /// @dev A redrawn seat that falls on a juror who already revealed in the round counts its vote at once (one
    /// re-execution per juror, one vote per seat, as in a first draw with replacement).
    function test_ARedrawnSeatOnAJurorThatRevealedCountsItsVote() public {
        _jurors(3);
        (address a, address b, address c) = (jurorSet[0], jurorSet[1], jurorSet[2]);
        _joinPool(a, 0.5 ether); // a: two seats; b, c: one each
        uint256 id = _open();
        _drawOnceEach(id, a, b); // a keeps one free seat
        address[] memory seated = new address[](3);
        (seated[0], seated[1], seated[2]) = (a, b, c);
        uint256[] memory votes = new uint256[](3);
        (votes[0], votes[1], votes[2]) = (1, 2, 0);
        _vote(id, seated, votes);
        committee.resolve(id); // 1 : 1, c silent: redrawn
        assertEq(pool.seatsOf(c), 0, "c, slashed, holds no seat now");
        vm.roll(block.number + 2);
        committee.draw(id); // the only free seat is a's second
        assertEq(committee.seatsOf(id, a), 2, "a holds the redrawn seat");
        assertEq(committee.jurorsOf(id).length, 3, "listed once");
        // a's revealed vote counts for its new seat: every seat has revealed, so it resolves at once.
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 1, 2, 1, 0);
        committee.resolve(id);
        IReexecutionCommittee.Params memory p = committee.params();
        uint256 pot = FEE - 2 * KEEPER + p.nonRevealPenalty + p.coherencePenalty;
        assertEq(committee.balanceOf(a, address(0)), pot, "a's two seats take the pot");
        assertEq(_stake(b), 0.5 ether - p.coherencePenalty, "b voted against the ruling");
        _assertSettled();
    }

    /// @dev What a redraw keeps of the round's commits: a silent juror's commitment goes with its seat (drawn again, it
    /// commits anew), only revealed seats stay counted, and a redrawn seat on a juror who revealed counts as committed.
    /// So the reveal opens as soon as the redrawn jurors have committed, as in a first draw.
    function test_AfterARedrawTheRevealOpensOnceTheRedrawnJurorsCommit() public {
        _jurors(3);
        (address a, address b, address c) = (jurorSet[0], jurorSet[1], jurorSet[2]);
        _joinPool(a, 0.5 ether);
        _joinPool(b, 0.5 ether); // a and b: two seats each; c: one
        uint256 id = _open();
        _drawOnceEach(id, a, b);
        _commit(id, a, 1);
        _commit(id, b, 2); // b commits and never reveals; c stays silent
        (,, uint64 commitEnd, uint64 revealEnd,,,,) = committee.disputeInfo(id);
        vm.warp(commitEnd);
        _reveal(id, a, 1);
        vm.warp(revealEnd);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(id, 0, 2, block.number + 1);
        committee.resolve(id);
        IReexecutionCommittee.Params memory p = committee.params();
        assertEq(pool.seatsOf(b), 1, "b, slashed, keeps one seat");
        assertEq(pool.seatsOf(c), 0, "c, slashed, keeps none");
        vm.roll(block.number + 2);
        committee.draw(id); // the two free seats: a's second and b's
        assertEq(committee.seatsOf(id, a), 2, "a holds a redrawn seat");
        assertEq(committee.seatsOf(id, b), 1, "b is drawn again");
        _commit(id, b, 1); // its first commitment went with its seat
        _reveal(id, b, 1); // before the commit deadline: every seat has committed
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 1, 3, 0, 0);
        committee.resolve(id); // and every seat revealed
        uint256 pot = FEE - 2 * KEEPER + 2 * p.nonRevealPenalty;
        uint256 share = pot / 3;
        assertEq(committee.balanceOf(a, address(0)), pot - share, "a: two shares and the dust");
        assertEq(committee.balanceOf(b, address(0)), share, "b: its redrawn seat's share");
        assertEq(_stake(b), 1 ether - p.nonRevealPenalty, "b paid for its silent seat");
        assertEq(_stake(c), 0.5 ether - p.nonRevealPenalty, "c too");
        _assertSettled();
    }

    /// @dev A round where nobody reveals after the last redraw: the dispute waits (with no seats to redraw the silence
    /// onto), and its expiry refuses and pays the challenger the fee and every penalty.
    function test_NoVoteAfterEveryRedrawTheDisputeWaits() public {
        _jurors(9);
        uint256 id = _open();
        IReexecutionCommittee.Params memory p = committee.params();
        for (uint256 r = 0; r < 2; ++r) {
            _vote(id, _draw(id), new uint256[](3 * (r + 1)));
            vm.expectEmit(address(committee));
            emit IReexecutionCommittee.SilentSeatsRedrawn(id, 0, 3, block.number + 1);
            committee.resolve(id);
        }
        _vote(id, _draw(id), new uint256[](9));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawDeferred(id, 0);
        committee.resolve(id);
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Waiting), "waiting");
        assertEq(rulings, 0, "not ruled");
        for (uint256 i = 0; i < 9; ++i) {
            assertEq(_stake(jurorSet[i]), 0.5 ether - p.nonRevealPenalty, "every silent seat slashed once");
        }
        vm.warp(block.timestamp + 30 days);
        committee.expire(id);
        assertEq(ruledWith, 0, "refused");
        assertEq(
            committee.balanceOf(challenger, address(0)),
            FEE - 3 * KEEPER + 9 * p.nonRevealPenalty,
            "the challenger gets the fee and the penalties"
        );
        _assertSettled();
    }

    /// @dev The keeper reward is paid out of the dispute's pot and never more than it holds: with a reward equal to
    /// the fee, the first draw takes the whole fee and a redraw's keeper is paid the non-reveal penalty there is.
    function test_AKeeperRewardAboveThePotPaysThePot() public {
        _jurors(4);
        IReexecutionCommittee.Params memory p = committee.params();
        (p.keeperReward, p.nonRevealPenalty, p.coherencePenalty) = (FEE, 0.01 ether, 0);
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open();
        address[] memory seated = _draw(id);
        assertEq(committee.balanceOf(address(this), address(0)), FEE, "the first draw's keeper: the whole fee");
        uint256[] memory votes = new uint256[](3);
        (votes[0], votes[1], votes[2]) = (1, 2, 0);
        _vote(id, seated, votes);
        committee.resolve(id); // 1 : 1 and one silent seat: redrawn, its penalty in the pot
        address keeper = vm.addr(0x6b65);
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.KeeperPaid(id, keeper, 0.01 ether);
        vm.prank(keeper);
        committee.draw(id);
        assertEq(committee.balanceOf(keeper, address(0)), 0.01 ether, "the pot, less than the reward");
        assertEq(committee.feesHeld(), 0, "nothing left in the pot");
    }

    /*//////////////////////////////////////////////////////////////
                                 APPEALS
    //////////////////////////////////////////////////////////////*/

    /// @dev An appeal round starts its counts afresh: the first round's commits, redraws and votes (here two redraws
    /// and two "input unavailable" votes) do not carry over. So the new round's reveal opens once its own seats have
    /// committed, its silence is drawn again, and its tally is its own.
    function test_AnAppealRoundCountsOnlyItsOwnSeats() public {
        _jurors(14);
        _setAppealPeriod(1 hours);
        uint256 id = _open();
        address[] memory r0 = _draw(id);
        uint256[] memory votes = new uint256[](3);
        (votes[0], votes[1]) = (3, 1);
        _vote(id, r0, votes); // 1 : 1, one silent seat
        committee.resolve(id);
        r0 = _draw(id);
        _vote(id, r0, new uint256[](4)); // the redrawn juror is silent too
        committee.resolve(id);
        r0 = _draw(id);
        votes = new uint256[](5);
        votes[4] = 3;
        _vote(id, r0, votes);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.RoundRuled(id, 0, 3, 1, 0, 2, uint64(block.timestamp + 1 hours));
        committee.resolve(id); // after two redraws: 2 : 1, input unavailable
        uint256 cost = committee.appealCost(id);
        vm.prank(challenger);
        committee.appeal{value: cost}(id);

        address[] memory r1 = _draw(id);
        for (uint256 i = 0; i < 7; ++i) {
            _commit(id, r1[i], i < 3 || i == 6 ? 2 : 1);
        }
        for (uint256 i = 0; i < 6; ++i) {
            _reveal(id, r1[i], i < 3 ? 2 : 1); // at once: the round's seven seats committed
        }
        (,,, uint64 revealEnd,,,,) = committee.disputeInfo(id);
        vm.warp(revealEnd);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(id, 1, 1, block.number + 1);
        committee.resolve(id); // 3 : 3 and r1[6] silent: its seat is drawn again (the round's first redraw)
        r1 = _draw(id);
        _commit(id, r1[7], 2);
        _reveal(id, r1[7], 2);
        (,,,,,,, uint8 seats) = committee.disputeInfo(id);
        assertEq(seats, 7, "seven seats");
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.RoundRuled(id, 1, 2, 3, 4, 0, uint64(block.timestamp + 1 hours));
        committee.resolve(id);
        vm.warp(block.timestamp + 1 hours);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 2, 3, 4, 0);
        committee.resolve(id);
        assertEq(ruledWith, 2, "ruled by the appeal round");
        _assertSettled();
    }

    /// @dev A first round of 9 seats cannot be appealed (19 seats would pass MAX_JURORS): its ruling is final at once.
    function test_ARoundWhoseAppealWouldPassTheCapIsFinal() public {
        _jurors(9);
        _setAppealPeriod(1 hours);
        IReexecutionCommittee.Params memory p = committee.params();
        p.jurors = 9;
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open();
        _vote(id, _draw(id), _all(9, 1));
        committee.resolve(id);
        assertEq(ruledWith, 1, "final at once");
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Ruled), "ruled");
        assertEq(committee.appealCost(id), 0, "nothing to appeal");
        _assertSettled();
    }

    /// @dev Three rounds (3, 7, 15 seats): round 0 upholds a garbage job, the challenger appeals, round 1 overturns,
    /// the accused appeals, round 2 (the last: 31 seats would pass MAX_JURORS) confirms. Round 0's seats pay the
    /// coherence penalty, the successful appeal is refunded, the failed one is not, the 22 coherent seats share
    /// the rest, to the wei.
    function test_AppealsRiseThroughThreeRoundsAndCoherenceJudgesEveryRound() public {
        _jurors(26);
        _setAppealPeriod(1 hours);
        uint256 id = _open();
        address[] memory r0 = _draw(id);
        _vote(id, r0, _all(3, 1));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.RoundRuled(id, 0, 1, 3, 0, 0, uint64(block.timestamp + 1 hours));
        committee.resolve(id);
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Appealable), "appealable");
        assertEq(rulings, 0, "not final yet");
        uint256 cost1 = committee.appealCost(id);
        assertEq(cost1, FEE * 2 * 7 / 3, "round 1 costs fee x 2 x 7/3");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, cost1, cost1 - 1));
        vm.prank(challenger);
        committee.appeal{value: cost1 - 1}(id);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, cost1, cost1 + 1));
        vm.prank(challenger);
        committee.appeal{value: cost1 + 1}(id);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.AppealRaised(id, 1, challenger, cost1, 7, block.number + 1);
        vm.prank(challenger);
        committee.appeal{value: cost1}(id);
        assertEq(committee.appealCost(id), 0, "no appeal while the round runs");

        address[] memory r1 = _draw(id);
        assertEq(r1.length, 7, "seven new seats");
        _vote(id, r1, _all(7, 2));
        committee.resolve(id);
        uint256 cost2 = committee.appealCost(id);
        assertEq(cost2, FEE * 4 * 15 / 3, "round 2 costs fee x 4 x 15/3");
        vm.deal(ops[0], cost2);
        vm.prank(ops[0]);
        committee.appeal{value: cost2}(id);

        address[] memory r2 = _draw(id);
        assertEq(r2.length, 15, "fifteen seats");
        _vote(id, r2, _all(15, 2));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 2, 0, 15, 0);
        committee.resolve(id); // the last round: final at once
        assertEq(ruledWith, 2, "final: not acceptable");

        uint256 psi = committee.params().coherencePenalty;
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(_stake(r0[i]), 0.5 ether - psi, "round 0 voted against the final ruling");
            assertEq(committee.balanceOf(r0[i], address(0)), 0, "and is not paid");
        }
        assertEq(committee.balanceOf(challenger, address(0)), cost1, "the successful appeal refunded");
        assertEq(committee.balanceOf(ops[0], address(0)), 0, "the failed appeal is not");
        uint256 pot = FEE + cost1 + cost2 - 3 * KEEPER + 3 * psi - cost1;
        uint256 share = pot / 22;
        assertEq(committee.balanceOf(r1[0], address(0)), share + (pot - share * 22), "first coherent seat + dust");
        for (uint256 i = 1; i < 7; ++i) {
            assertEq(committee.balanceOf(r1[i], address(0)), share, "round 1 share");
        }
        for (uint256 i = 0; i < 15; ++i) {
            assertEq(committee.balanceOf(r2[i], address(0)), share, "round 2 share");
            assertEq(_stake(r2[i]), 0.5 ether, "coherent: no penalty");
        }
        _assertSettled();
    }

    function test_AnUnappealedRoundIsFinalAfterItsAppealPeriod() public {
        _jurors(5);
        _setAppealPeriod(1 hours);
        uint256 id = _open();
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.WrongPhase.selector, id, IReexecutionCommittee.Phase.Created)
        );
        committee.appeal{value: 1}(id);
        address[] memory seated = _draw(id);
        _vote(id, seated, _all(3, 2));
        committee.resolve(id);
        (,,,,, uint8 ruling, uint64 appealEnd,) = committee.disputeInfo(id);
        assertEq(ruling, 2, "round ruling recorded");
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, appealEnd, block.timestamp)
        );
        committee.resolve(id);
        vm.warp(appealEnd);
        uint256 cost = committee.appealCost(id);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, appealEnd, block.timestamp)
        );
        committee.appeal{value: cost}(id);
        committee.resolve(id);
        assertEq(ruledWith, 2, "the round's ruling is final");
        uint256 share = (FEE - KEEPER) / 3;
        assertEq(committee.balanceOf(seated[0], address(0)), FEE - KEEPER - 2 * share, "a share and the dust");
        for (uint256 i = 1; i < 3; ++i) {
            assertEq(committee.balanceOf(seated[i], address(0)), share, "a share each");
        }
        _assertSettled();
    }

    /// @dev Past the appeal deadline, not only at it: no appeal is taken, and the round's ruling can be made final.
    function test_AfterTheAppealPeriodTheRulingIsFinalAndNoAppealIsTaken() public {
        _jurors(5);
        _setAppealPeriod(1 hours);
        uint256 id = _open();
        _vote(id, _draw(id), _all(3, 1));
        committee.resolve(id);
        (,,,,,, uint64 appealEnd,) = committee.disputeInfo(id);
        vm.warp(uint256(appealEnd) + 1 minutes);
        uint256 cost = committee.appealCost(id);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, appealEnd, block.timestamp)
        );
        vm.prank(ops[0]);
        committee.appeal{value: cost}(id);
        committee.resolve(id);
        assertEq(ruledWith, 1, "the round's ruling is final");
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Ruled), "ruled");
        _assertSettled();
    }

    /// @dev An appeal of a "not acceptable" round (ruling 2) that the next round overturns to "acceptable" (1) is
    /// refunded, as an appeal the other way is: the refund follows a changed ruling, not its direction.
    function test_AnAppealOverturningNotAcceptableIsRefunded() public {
        (uint256 id, uint256 cost) = _appealedRound(12, 2, ops[0]);
        _vote(id, _draw(id), _all(7, 1));
        committee.resolve(id);
        _resolveAfterAppealPeriod(id);
        assertEq(ruledWith, 1, "overturned: acceptable");
        assertEq(committee.balanceOf(ops[0], address(0)), cost, "the successful appeal refunded in full");
        _assertSettled();
    }

    /// @dev Commitments bind the round (../shared/DESIGN.md): a juror of round 1 who commits round 0's hash cannot
    /// reveal it.
    function test_ACommitmentOfAnotherRoundCannotBeRevealed() public {
        (uint256 id,) = _appealedRound(12, 1, challenger);
        address[] memory r1 = _draw(id);
        address juror = r1[0];
        vm.prank(juror);
        committee.commit(id, juror, CairnTypedData.commitment(id, 0, juror, 2, _salt(juror)));
        (,, uint64 commitEnd,,,,,) = committee.disputeInfo(id);
        vm.warp(commitEnd);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadReveal.selector, id, juror));
        _reveal(id, juror, 2);
    }

    /// @dev An appeal round the pool cannot seat waits; when it expires the appealed ruling stands (a party could
    /// otherwise appeal and keep the pool busy for a ruling of 0), and the appellant is not refunded.
    function test_AnAppealRoundThatCannotBeSeatedExpiresToTheAppealedRuling() public {
        _jurors(5);
        _setAppealPeriod(1 hours);
        uint256 id = _open();
        address[] memory r0 = _draw(id);
        _vote(id, r0, _all(3, 2));
        committee.resolve(id);
        uint256 cost = committee.appealCost(id);
        vm.deal(ops[0], cost);
        vm.prank(ops[0]);
        committee.appeal{value: cost}(id);
        vm.roll(block.number + 2);
        committee.draw(id); // two free seats for seven: it waits
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Waiting), "waiting");
        vm.warp(block.timestamp + 30 days);
        committee.expire(id);
        assertEq(ruledWith, 2, "the appealed ruling stands");
        assertEq(committee.balanceOf(ops[0], address(0)), 0, "the appellant is not refunded");
        uint256 pot = FEE + cost - 2 * KEEPER;
        assertEq(
            committee.balanceOf(r0[0], address(0)) + committee.balanceOf(r0[1], address(0))
                + committee.balanceOf(r0[2], address(0)),
            pot,
            "round 0's seats share the pot"
        );
        _assertSettled();
    }

    /// @dev A found by review: with a large keeper reward and no coherence penalty, the draws' keeper rewards take
    /// part of the appeal fee out of the pot; the successful appeal is refunded what is left, and the ruling is
    /// made (a full refund would underflow and leave the dispute, its locks and the escrow stuck for good).
    function test_ASuccessfulAppealIsRefundedAtMostThePotAndTheRulingIsAlwaysMade() public {
        _jurors(12);
        IReexecutionCommittee.Params memory p = committee.params();
        (p.keeperReward, p.coherencePenalty, p.appealPeriod) = (0.02 ether, 0, 1 hours);
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open();
        address[] memory r0 = _draw(id);
        uint256[] memory votes = new uint256[](3);
        (votes[0], votes[1], votes[2]) = (1, 1, 2);
        _vote(id, r0, votes);
        committee.resolve(id);
        uint256 cost = committee.appealCost(id);
        vm.prank(challenger);
        committee.appeal{value: cost}(id);
        _vote(id, _draw(id), _all(7, 2));
        committee.resolve(id);
        _resolveAfterAppealPeriod(id);
        assertEq(ruledWith, 2, "ruled");
        uint256 pot = FEE + cost - 2 * 0.02 ether;
        assertEq(committee.balanceOf(challenger, address(0)), pot, "refunded all that is left: less than it paid");
        assertTrue(pot < cost, "the keeper rewards took part of the appeal fee");
        _assertSettled();
    }

    function test_WithAppealsOffTheFirstRoundIsFinal() public {
        _jurors(5);
        uint256 id = _open();
        _vote(id, _draw(id), _all(3, 1));
        committee.resolve(id);
        assertEq(ruledWith, 1, "final at once");
        assertEq(committee.appealCost(id), 0, "nothing to appeal");
        (IReexecutionCommittee.Phase phase,,,,, uint8 ruling,,) = committee.disputeInfo(id);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Ruled), "ruled");
        assertEq(ruling, 1, "the final ruling recorded");
    }
}
