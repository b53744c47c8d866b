// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ReexecutionCommittee} from "../src/ReexecutionCommittee.sol";
import {IArbitrable, IArbitrator} from "../src/interfaces/IArbitration.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IJurorPool} from "../src/interfaces/IJurorPool.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {IRandomness, IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {BlockhashRandomness} from "../src/libraries/BlockhashRandomness.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {Splits} from "../src/libraries/Splits.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";
import {Vm} from "./utils/Vm.sol";

/// @notice The committee on its own, with this test contract as the arbitrable side: disputes, the draw
/// (FIFO queue, seed window, one reseed, exclusions, waiting, seats with replacement), commit-reveal (every
/// deadline and check), resolution (majority of seats, tie, silence, penalties, shares to the last wei) and
/// governance. Each verifier holds exactly one seat here (0.5 ETH of juror stake), so a juror drawn once has no
/// seat left and three seats are three distinct jurors.
contract ReexecutionCommitteeTest is CairnSystem, IArbitrable {
    /// @dev Deploys in a call of its own, for `vm.expectRevert`: under the `mutate` profile's dynamic test linking a
    /// `new` is a `deployCode` cheatcode, and an expected revert of it ended the whole test as passed (Foundry
    /// 1.7.1), so every check after it went unrun and mutants only they catch survived.
    function newCommittee(
        address owner_,
        IOperatorRegistry operators_,
        IJurorPool pool_,
        IRandomness randomness_,
        IReexecutionCommittee.Params memory p
    ) external returns (ReexecutionCommittee) {
        return new ReexecutionCommittee(owner_, operators_, pool_, randomness_, p);
    }

    uint256 internal constant FEE = 0.03 ether;
    uint256 internal constant KEEPER = 0.001 ether;
    /// @dev `createDispute`'s stake cutoff when the opening is the cutoff (a dispute opened in time).
    uint64 internal constant NO_CUTOFF = type(uint64).max;
    /// @dev The accused's bond in `createDispute`'s extraData: up to `WAIT_BOND`, so the shortest wait (30 days).
    uint256 internal constant BOND = 1 ether;
    /// @dev What the jurors share of a dispute's fee once the drawer took the keeper reward.
    uint256 internal constant POT = FEE - KEEPER;

    uint256 internal ruledDispute;
    uint256 internal ruledWith = type(uint256).max;
    uint256 internal rulings;

    function setUp() public {
        setUpSystem();
        vm.prank(owner);
        committee.setArbitrable(address(this), true);
        vm.deal(address(this), 100 ether);
        _oneSeatEach();
    }

    /// @inheritdoc IArbitrable
    function rule(uint256 disputeId, uint256 ruling) external {
        assertEq(msg.sender, address(committee), "only the committee rules");
        ruledDispute = disputeId;
        ruledWith = ruling;
        ++rulings;
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    function _open(address accused, address challenger_) internal returns (uint256) {
        return committee.createDispute{value: FEE}(3, abi.encode(accused, challenger_, NO_CUTOFF, BOND));
    }

    /// @dev Opens a dispute accusing verifier 0, challenged by verifier 1: exactly verifiers 2..4 are eligible.
    function _openAndDraw() internal returns (uint256 id, address[] memory jurors) {
        id = _open(verifiers[0], verifiers[1]);
        vm.roll(block.number + 2);
        committee.draw(id);
        jurors = committee.jurorsOf(id);
    }

    function _salt(address juror) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", juror));
    }

    function _commit(uint256 id, address juror, uint256 vote) internal {
        vm.prank(juror);
        committee.commit(id, juror, CairnTypedData.commitment(id, 0, juror, vote, _salt(juror)));
    }

    function _reveal(uint256 id, address juror, uint256 vote) internal {
        vm.prank(juror);
        committee.reveal(id, juror, vote, _salt(juror));
    }

    function _deadlines(uint256 id) internal view returns (uint64 commitEnd, uint64 revealEnd) {
        (,, commitEnd, revealEnd,,,,) = committee.disputeInfo(id);
    }

    function _phase(uint256 id) internal view returns (IReexecutionCommittee.Phase phase) {
        (phase,,,,,,,) = committee.disputeInfo(id);
    }

    /// @dev Verifiers 0–3 leave the pool and verifier 4 adds `amount` to its one seat: it holds every seat.
    function _soleJuror(uint256 amount) internal returns (address only) {
        for (uint256 i = 0; i < 4; ++i) {
            _leavePool(verifiers[i]);
        }
        only = verifiers[4];
        _joinPool(only, amount);
    }

    /// @dev Every juror of the current round commits and reveals `vote` (each once, whatever its seats).
    function _everyoneVotes(uint256 id, uint256 vote) internal {
        (,,,, uint8 round,,,) = committee.disputeInfo(id);
        address[] memory jurors = committee.jurorsIn(id, round);
        for (uint256 i = 0; i < jurors.length; ++i) {
            vm.prank(jurors[i]);
            committee.commit(id, jurors[i], CairnTypedData.commitment(id, round, jurors[i], vote, _salt(jurors[i])));
        }
        for (uint256 i = 0; i < jurors.length; ++i) {
            vm.prank(jurors[i]);
            committee.reveal(id, jurors[i], vote, _salt(jurors[i]));
        }
    }

    /// @dev `expire(id)` is refused a second before `end` (`OutsidePeriod` naming it) and succeeds at `end`.
    function _expiresExactlyAt(uint256 id, uint256 end) internal {
        vm.warp(end - 1);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, end, end - 1));
        committee.expire(id);
        vm.warp(end);
        committee.expire(id);
    }

    function _params() internal view returns (IReexecutionCommittee.Params memory) {
        return committee.params();
    }

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTION
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_ConstructedWithZeroAddresses() public {
        IReexecutionCommittee.Params memory p = _params();
        BlockhashRandomness randomness = new BlockhashRandomness();
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "operators"));
        this.newCommittee(owner, IOperatorRegistry(address(0)), pool, randomness, p);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "pool"));
        this.newCommittee(owner, operators, IJurorPool(address(0)), randomness, p);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "randomness"));
        this.newCommittee(owner, operators, pool, IRandomness(address(0)), p);
    }

    function test_RejectsEthFromAnyoneButThePool() public {
        // A plain call, not expectRevert: forge 1.7's expectRevert lets a low-level call that does not
        // revert pass (seen: the mutant that accepts everyone's ETH survived it).
        (bool ok, bytes memory ret) = address(committee).call{value: 1}("");
        assertTrue(!ok, "refused");
        assertEq(ret, abi.encodeWithSelector(ICairnCommon.UnexpectedSender.selector, address(this)), "sender named");
        assertEq(address(committee).balance, 0, "nothing kept");
    }

    /*//////////////////////////////////////////////////////////////
                                 DISPUTES
    //////////////////////////////////////////////////////////////*/

    function test_CreateDisputeRecordsItAndCountsUp() public {
        vm.expectEmit(address(committee));
        emit IArbitrator.DisputeCreation(1, address(this));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeOpened(
            1, verifiers[0], verifiers[1], 3, block.number + 1, 0.1 ether, block.timestamp + 30 days
        );
        uint256 first = _open(verifiers[0], verifiers[1]);
        uint256 second = _open(verifiers[0], verifiers[1]);
        assertEq(first, 1, "first id");
        assertEq(second, 2, "ids count up");
        assertEq(committee.disputeCount(), 2, "count");
        assertEq(committee.feesHeld(), 2 * FEE, "fees held");
        (IReexecutionCommittee.Phase phase, uint64 seedBlock,,,,,,) = committee.disputeInfo(first);
        assertTrue(phase == IReexecutionCommittee.Phase.Created, "created");
        assertEq(seedBlock, block.number + 1, "seed block is the next block");
        assertEq(committee.arbitrationCost(""), FEE, "cost");
    }

    function test_RevertWhen_CreateDisputeByAStranger() public {
        vm.deal(buyer, 1 ether);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotArbitrable.selector, buyer));
        committee.createDispute{value: FEE}(3, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
    }

    function test_RevertWhen_CreateDisputeWithOtherChoicesOrFee() public {
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnsupportedChoices.selector, 2));
        committee.createDispute{value: FEE}(2, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnsupportedChoices.selector, 1));
        committee.createDispute{value: FEE}(1, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnsupportedChoices.selector, 4));
        committee.createDispute{value: FEE}(4, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, FEE, FEE - 1));
        committee.createDispute{value: FEE - 1}(3, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, FEE, FEE + 1));
        committee.createDispute{value: FEE + 1}(3, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        // The challenger receives the pool of a round nobody revealed, so it must exist.
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "challenger"));
        committee.createDispute{value: FEE}(3, abi.encode(verifiers[0], address(0), NO_CUTOFF, BOND));
        assertEq(committee.disputeCount(), 0, "none created");
    }

    function test_RevertWhen_DrawnInTheBlockItWasCreated() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        assertEq(seedBlock, block.number + 1, "seeded by the next block");
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, seedBlock, block.number)
        );
        committee.draw(id);
    }

    function test_RevertWhen_UnknownDispute() public {
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnknownDispute.selector, 99));
        committee.draw(99);
    }

    /*//////////////////////////////////////////////////////////////
                                   DRAW
    //////////////////////////////////////////////////////////////*/

    function test_DrawExcludesAccusedAndChallengerAndLocksJurors() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        vm.roll(block.number + 2);
        IReexecutionCommittee.Params memory p = _params();
        uint64 commitEnd = uint64(block.timestamp) + p.commitPeriod;
        uint64 revealEnd = commitEnd + p.revealPeriod;
        vm.expectEmit(false, false, false, false, address(committee));
        emit IReexecutionCommittee.JurorsDrawn(id, 0, new address[](3), commitEnd, revealEnd);
        committee.draw(id);
        address[] memory jurors = committee.jurorsOf(id);
        assertEq(jurors.length, 3, "k jurors");
        bool[5] memory seen;
        for (uint256 i = 0; i < 3; ++i) {
            assertTrue(jurors[i] != verifiers[0] && jurors[i] != verifiers[1], "accused and challenger excluded");
            for (uint256 v = 2; v < 5; ++v) {
                if (jurors[i] == verifiers[v]) seen[v] = true;
            }
            assertEq(pool.jurorInfo(jurors[i]).locked, pool.seatSize(), "one seat locked");
            assertEq(committee.seatsOf(id, jurors[i]), 1, "one seat");
        }
        assertTrue(seen[2] && seen[3] && seen[4], "the three eligible verifiers, each once");
        (uint64 c, uint64 r) = _deadlines(id);
        assertEq(c, commitEnd, "commit deadline = draw time + commit period");
        assertEq(r, revealEnd, "reveal deadline = commit deadline + reveal period");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Drawn, "drawn");
    }

    /// @dev Seats are drawn with replacement (issue #12, finding 6): a juror holding every seat of the pool sits
    /// on all k, its one vote counts k times, and it is paid and locked per seat.
    function test_SeatsAreDrawnWithReplacementAndVotesCountPerSeat() public {
        address only = _soleJuror(1 ether); // three seats
        uint256 id = _open(ops[0], challenger);
        vm.roll(block.number + 2);
        address[] memory seats = new address[](3);
        (seats[0], seats[1], seats[2]) = (only, only, only);
        vm.expectEmit(false, false, false, false, address(committee));
        emit IReexecutionCommittee.JurorsDrawn(id, 0, seats, 0, 0);
        committee.draw(id);
        address[] memory jurors = committee.jurorsOf(id);
        assertEq(jurors.length, 1, "one juror");
        assertEq(committee.seatsOf(id, only), 3, "three seats");
        assertEq(pool.jurorInfo(only).locked, 3 * pool.seatSize(), "locked per seat");
        _commit(id, only, 2);
        _reveal(id, only, 2); // every seat committed: the reveal opens, and every seat revealed: resolves
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 2, 0, 3, 0);
        committee.resolve(id);
        assertEq(committee.balanceOf(only, address(0)), POT, "the whole pot, three shares");
        assertEq(pool.jurorInfo(only).locked, 0, "every seat released");
    }

    function test_DrawIsStakeWeighted() public {
        // One verifier holds 97 seats against four with 1: nearly every seat is its (97/101 of the points),
        // the others share the rest. Seats released at resolution return to the tree at the next sync.
        IReexecutionCommittee.Params memory p = _params();
        // Silent jurors keep their stake, so every round draws from the same weights (ψ ≤ ν: no coherence penalty).
        (p.nonRevealPenalty, p.coherencePenalty) = (0, 0);
        vm.prank(owner);
        committee.setParams(p);
        address heavy = verifiers[4];
        vm.deal(heavy, 48 ether);
        _joinPool(heavy, 48 ether);
        assertEq(pool.seatsOf(heavy), 97, "97 seats");
        uint256 heavySeats;
        for (uint256 n = 0; n < 20; ++n) {
            uint256 id = _open(ops[0], challenger);
            vm.roll(block.number + 2);
            committee.draw(id);
            heavySeats += committee.seatsOf(id, heavy);
            _everyoneVotes(id, 1);
            committee.resolve(id);
            address[] memory jurors = committee.jurorsOf(id);
            for (uint256 i = 0; i < jurors.length; ++i) {
                pool.sync(jurors[i]);
            }
        }
        assertTrue(heavySeats >= 50, "the heavy verifier holds nearly every seat");
        assertTrue(heavySeats < 60, "but not all of them");
    }

    function test_DrawWindowBoundaries() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        vm.roll(seedBlock);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, seedBlock, seedBlock));
        committee.draw(id);
        // blockhash serves 256 blocks (this test EVM has no EIP-2935 history): past them, reseed.
        vm.roll(uint256(seedBlock) + 257);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.SeedLapsed.selector, id, seedBlock));
        committee.draw(id);
        // The last block of the window still draws.
        vm.roll(uint256(seedBlock) + 256);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Drawn, "drawn at the last block");
    }

    function test_ReseedOnlyAfterTheWindowOnceAndThenDraws() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        vm.roll(uint256(seedBlock) + 256);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.ReseedRefused.selector, id, seedBlock));
        committee.reseed(id);
        vm.roll(uint256(seedBlock) + 300);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.Reseeded(id, uint256(seedBlock) + 301);
        committee.reseed(id);
        (, uint64 newSeed,,,,,,) = committee.disputeInfo(id);
        assertEq(newSeed, uint256(seedBlock) + 301, "new seed block");
        vm.roll(uint256(newSeed) + 300);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.ReseedRefused.selector, id, newSeed));
        committee.reseed(id);
        vm.roll(uint256(newSeed) + 1);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Drawn, "drawn");
    }

    /// @dev A seed and its one reseed both lapsed: no third seed; the accused, who could have drawn in time,
    /// loses (ruling 2) and the challenger gets the fee back (issue #12: no re-rolls).
    function test_ALapsedReseedRulesAgainstTheAccused() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        uint256 behind = _open(ops[0], challenger);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        vm.roll(uint256(seedBlock) + 300);
        committee.reseed(id);
        vm.roll(block.number + 400);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawLapsed(id);
        committee.draw(id);
        assertEq(ruledWith, 2, "against the accused");
        assertEq(committee.balanceOf(verifiers[1], address(0)), FEE, "the fee back to the challenger");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Ruled, "closed");
        assertEq(committee.awaitingDraw(), 1, "the queue moved on");
        assertEq(committee.queueHeadDispute(), behind, "to the dispute behind it");
        assertEq(committee.feesHeld(), FEE, "only the other dispute's fee held");
    }

    /// @dev Only the queue's head may be reseeded: a dispute behind others would start its last window before
    /// anyone may draw it.
    function test_RevertWhen_ReseedingADisputeBehindTheHead() public {
        uint256 first = _open(verifiers[0], verifiers[1]);
        uint256 second = _open(ops[0], challenger);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(second);
        vm.roll(uint256(seedBlock) + 300);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotQueueHead.selector, second, first));
        committee.reseed(second);
        committee.reseed(first);
    }

    /// @dev A dispute that already waited: its next draws are unpaid (the first attempt was), and a lapse after
    /// its reseed sends it back to waiting instead of ruling, since a lapse then says nothing about who waited.
    function test_AfterADeferralDrawsAreUnpaidAndALapseWaitsAgain() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurors = 5;
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open(verifiers[0], verifiers[1]); // its 5 seats can never be filled: the parties hold 2
        vm.roll(block.number + 2);
        committee.draw(id);
        assertEq(committee.balanceOf(address(this), address(0)), KEEPER, "first attempt paid");
        committee.retry(id);
        vm.roll(block.number + 2);
        vm.prank(buyer);
        committee.draw(id);
        assertEq(committee.balanceOf(buyer, address(0)), 0, "a second deferral is not paid");
        committee.retry(id);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        vm.roll(uint256(seedBlock) + 300);
        committee.reseed(id);
        vm.roll(block.number + 300);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawDeferred(id, 5);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Waiting, "waiting again, not ruled");
        assertEq(rulings, 0, "no ruling");
        assertEq(committee.feesHeld(), POT, "the fee less one keeper reward");
    }

    /// @dev A dispute over a bond up to `WAIT_BOND` that waits 30 days ends with ruling 0 and the fee back to the
    /// challenger; not a second earlier.
    function test_AWaitingDisputeExpiresAfterItsWait() public {
        for (uint256 i = 0; i < 5; ++i) {
            _leavePool(verifiers[i]);
        }
        uint256 openedAt = block.timestamp;
        uint256 id = _open(ops[0], challenger);
        vm.roll(block.number + 2);
        committee.draw(id);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnknownDispute.selector, id + 1));
        committee.expire(id + 1);
        uint256 end = openedAt + 30 days;
        assertEq(committee.expiresAt(id), end, "expiresAt: the opening plus the shortest wait");
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnknownDispute.selector, id + 1));
        committee.expiresAt(id + 1);
        vm.warp(end - 1);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, end, end - 1));
        committee.expire(id);
        vm.warp(end);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 0, 0, 0, 0);
        committee.expire(id);
        assertEq(ruledDispute, id, "ruled");
        assertEq(ruledWith, 0, "refused");
        assertEq(committee.balanceOf(challenger, address(0)), POT, "the fee (less the keeper's) back");
        assertEq(committee.feesHeld(), 0, "nothing held");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Ruled, "closed");
    }

    /// @dev The wait grows with the bond: 30 days up to 4 ETH, then 30 days per 4 ETH rounded up to whole days, at
    /// most 365 days (from ≈ 48.7 ETH), whatever the bond's size (no overflow).
    function test_TheWaitForSeatsGrowsWithTheBond() public view {
        assertEq(committee.waitFor(0), 30 days, "no bond: the shortest wait");
        assertEq(committee.waitFor(4 ether), 30 days, "WAIT_BOND: the shortest wait");
        assertEq(committee.waitFor(4 ether + 1), 31 days, "a wei more: a day more (rounded up)");
        assertEq(committee.waitFor(8 ether), 60 days, "twice WAIT_BOND: twice the wait");
        assertEq(committee.waitFor(20 ether), 150 days, "five times");
        uint256 cap = uint256(4 ether) * 365 / 30;
        assertEq(committee.waitFor(cap - 1), 365 days, "just below the cap rounds up to it");
        assertEq(committee.waitFor(cap - 0.2 ether), 364 days, "a day's bond below the cap");
        assertEq(committee.waitFor(100 ether), 365 days, "MAX_BOND: the longest wait");
        assertEq(committee.waitFor(type(uint256).max), 365 days, "no overflow");
    }

    /// @dev Decoys that hold the pool exhausted pay per day of the wait, the accused saves its bond: the wait is at
    /// least proportional to the bond below the cap, never shorter than `MIN_WAIT` nor longer than `MAX_WAIT`, in
    /// whole days, and never shorter for a larger bond.
    function testFuzz_TheWaitIsProportionalToTheBond(uint256 bond, uint256 more) public view {
        // Mostly the bonds jobs post (up to MAX_BOND, past the cap) and steps up to 1 ETH, sometimes any uint256.
        if (more % 8 != 0) (bond, more) = (bound(bond, 0, 100 ether), bound(more, 0, 1 ether));
        uint256 wait = committee.waitFor(bond);
        assertTrue(wait >= 30 days && wait <= 365 days, "within [MIN_WAIT, MAX_WAIT]");
        assertEq(wait % 1 days, 0, "whole days");
        if (bond < uint256(4 ether) * 365 / 30) {
            assertTrue(wait * 4 ether >= 30 days * bond, "at least proportional");
            // Rounded up by less than a day (or the shortest wait, for bonds up to WAIT_BOND).
            if (bond > 4 ether) assertTrue(wait * 4 ether < 30 days * bond + 1 days * 4 ether, "less than a day more");
        }
        if (bond <= type(uint256).max - more) assertTrue(committee.waitFor(bond + more) >= wait, "monotone");
    }

    /// @dev A dispute over a 20 ETH bond waits 150 days, not the shortest 30: exhausting the pool for it costs five
    /// times the decoys (issue #12, finding 5). The event announces the end.
    function test_ADisputeOverALargeBondWaitsLonger() public {
        for (uint256 i = 0; i < 5; ++i) {
            _leavePool(verifiers[i]);
        }
        uint256 openedAt = block.timestamp;
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeOpened(
            1, ops[0], challenger, 3, block.number + 1, 0.1 ether, openedAt + 150 days
        );
        uint256 id = committee.createDispute{value: FEE}(3, abi.encode(ops[0], challenger, NO_CUTOFF, 20 ether));
        vm.roll(block.number + 2);
        committee.draw(id);
        assertEq(committee.expiresAt(id), openedAt + 150 days, "150 days");
        vm.warp(openedAt + 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, id, openedAt + 150 days, openedAt + 30 days
            )
        );
        committee.expire(id);
        vm.warp(openedAt + 150 days);
        committee.expire(id);
        assertEq(ruledWith, 0, "refused");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Ruled, "closed");
    }

    /// @dev One stream of decoys holds the pool exhausted for every waiting dispute at once, so disputes waiting
    /// together wait the sum of their waits (issue #12, finding 5): two audits (the reserve defers them for a day)
    /// over 1 and 20 ETH wait 30 + 150 days, a retry keeps a dispute in the total, a seated jury takes it out, and
    /// the other then expires at its own 150 days.
    function test_DisputesWaitingTogetherWaitTheSumOfTheirWaits() public {
        uint256 openedAt = block.timestamp;
        uint256 a = committee.createDispute{value: FEE}(3, abi.encode(ops[0], address(this), NO_CUTOFF, BOND));
        uint256 b = committee.createDispute{value: FEE}(3, abi.encode(ops[1], address(this), NO_CUTOFF, 20 ether));
        assertEq(committee.waitingDays(), 0, "nobody waits before a deferral");
        assertEq(committee.expiresAt(b), openedAt + 150 days, "not waiting yet: its own wait on top of none");
        vm.roll(block.number + 2);
        committee.draw(a);
        assertEq(committee.waitingDays(), 30, "a waits");
        assertEq(committee.expiresAt(a), openedAt + 30 days, "alone: its own wait");
        assertEq(committee.expiresAt(b), openedAt + 180 days, "b's wait on top of a's");
        committee.draw(b);
        assertEq(committee.waitingDays(), 180, "both wait");
        assertEq(committee.expiresAt(a), openedAt + 180 days, "a waits as long as both");
        assertEq(committee.expiresAt(b), openedAt + 180 days, "and so does b");
        vm.warp(openedAt + 1 days);
        committee.retry(a);
        assertEq(committee.waitingDays(), 180, "a retry keeps a in the total");
        assertEq(committee.expiresAt(b), openedAt + 180 days, "b's wait unchanged by the retry");
        vm.roll(block.number + 2);
        committee.draw(a);
        assertTrue(_phase(a) == IReexecutionCommittee.Phase.Drawn, "a is seated");
        assertEq(committee.waitingDays(), 150, "a seated jury leaves the total");
        assertEq(committee.expiresAt(b), openedAt + 150 days, "b alone: its own wait");
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotEnoughFreeSeats.selector, b, 2, 3));
        committee.retry(b);
        _expiresExactlyAt(b, openedAt + 150 days);
        assertEq(ruledDispute, b, "b ruled");
        assertEq(committee.waitingDays(), 0, "an expiry leaves the total");
    }

    /// @dev The retry that would shorten another's wait: the accused's fresh stake makes the pool's free seats enough
    /// for a `retry` but is too young to sit, so the draw defers again. In between the retried dispute still counts,
    /// so the other cannot expire at its own 30 days.
    function test_ARetryThatDefersAgainDoesNotShortenAnotherWait() public {
        for (uint256 i = 0; i < 5; ++i) {
            _leavePool(verifiers[i]);
        }
        uint256 openedAt = block.timestamp;
        uint256 a = _open(ops[0], challenger);
        uint256 b = _open(ops[0], challenger);
        vm.roll(block.number + 2);
        committee.draw(a);
        committee.draw(b);
        assertEq(committee.waitingDays(), 60, "two 30-day waits");
        _joinPool(verifiers[0], 1.5 ether);
        committee.retry(b);
        assertEq(committee.waitingDays(), 60, "b still counts after its retry");
        vm.warp(openedAt + 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, a, openedAt + 60 days, openedAt + 30 days
            )
        );
        committee.expire(a);
        vm.roll(block.number + 2);
        committee.draw(b);
        assertTrue(_phase(b) == IReexecutionCommittee.Phase.Waiting, "the young stake cannot sit: b waits again");
        assertEq(committee.waitingDays(), 60, "counted once, not twice");
        vm.warp(openedAt + 60 days);
        committee.expire(a);
        assertEq(committee.waitingDays(), 30, "b alone");
        committee.expire(b);
        assertEq(committee.waitingDays(), 0, "none");
        assertEq(rulings, 2, "both ruled");
    }

    /// @dev The total wait stops at `MAX_WAIT`: 30 + 365 days waiting together end at 365.
    function test_TheTotalWaitStopsAtMaxWait() public {
        uint256 openedAt = block.timestamp;
        uint256 a = committee.createDispute{value: FEE}(3, abi.encode(ops[0], address(this), NO_CUTOFF, BOND));
        uint256 b = committee.createDispute{value: FEE}(3, abi.encode(ops[1], address(this), NO_CUTOFF, 100 ether));
        vm.roll(block.number + 2);
        committee.draw(a);
        committee.draw(b);
        assertEq(committee.waitingDays(), 395, "30 + 365 days");
        assertEq(committee.expiresAt(a), openedAt + 365 days, "at most MAX_WAIT");
        _expiresExactlyAt(a, openedAt + 365 days);
        committee.expire(b);
        assertEq(rulings, 2, "both ruled");
    }

    /// @dev A dispute opened late (its cutoff before its opening: an audit evaluated after its challenge window) that
    /// waits until `MAX_WAIT` unseated is ruled against the accused, not refused: its eligible stake only shrinks,
    /// and the delay was the accused's to make (issue #12). Here no deposit is old enough for the cutoff at all.
    function test_ALateDisputeThatExpiresUnseatedIsRuledAgainstTheAccused() public {
        uint256 id = committee.createDispute{value: FEE}(3, abi.encode(ops[0], challenger, uint64(1), BOND));
        vm.roll(block.number + 2);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Waiting, "no seat is old enough: it waits");
        vm.warp(committee.expiresAt(id));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 2, 0, 0, 0);
        committee.expire(id);
        assertEq(ruledWith, 2, "against the accused");
        assertEq(committee.balanceOf(challenger, address(0)), POT, "the fee (less the keeper's) to the challenger");
    }

    /// @dev The deposits that may sit are fixed when the dispute opens: `maturity` raised by governance while the
    /// dispute waits does not empty its jury (which would let it expire with ruling 0).
    function test_MaturityRaisedWhileADisputeWaitsDoesNotMoveItsJury() public {
        (uint256 first, address[] memory jurors) = _openAndDraw(); // verifiers 2..4 locked
        uint256 id = _open(ops[0], challenger);
        vm.roll(block.number + 2);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Waiting, "two free seats for three: it waits");
        vm.prank(owner);
        pool.setMaturity(30 days);
        for (uint256 i = 0; i < 3; ++i) {
            _commit(first, jurors[i], 1);
        }
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(first, jurors[i], 1);
        }
        committee.resolve(first);
        committee.retry(id);
        vm.roll(block.number + 2);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Drawn, "drawn from the stake eligible at the opening");
    }

    /// @dev ... and `maturity` lowered does not seat stake deposited shortly before the opening (after the job, say).
    function test_MaturityLoweredWhileADisputeWaitsSeatsNoYoungerStake() public {
        _leavePool(verifiers[4]); // verifiers 2 and 3 only can sit on a dispute of 0 against 1: it waits
        vm.deal(ops[1], 10 ether);
        uint256 fourSeats = 4 * pool.seatSize();
        vm.prank(ops[1]);
        pool.deposit{value: fourSeats}();
        vm.warp(block.timestamp + 10);
        uint256 id = _open(verifiers[0], verifiers[1]);
        vm.roll(block.number + 2);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Waiting, "waits");
        vm.prank(owner);
        pool.setMaturity(5);
        assertTrue(pool.sync(ops[1]), "operator 1's lot matures under the new maturity");
        committee.retry(id);
        vm.roll(block.number + 2);
        committee.draw(id);
        assertEq(committee.seatsOf(id, ops[1]), 0, "stake deposited 10 s before the opening never sits");
    }

    /// @dev Resolution puts the jurors' released seats back into the draw at once when no draw is pending.
    function test_ResolveReturnsTheJurorsSeatsToTheDraw() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        assertEq(pool.freeSeats(), 2, "three seats locked");
        for (uint256 i = 0; i < 3; ++i) {
            _commit(id, jurors[i], 1);
        }
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(id, jurors[i], 1);
        }
        committee.resolve(id);
        assertEq(pool.freeSeats(), 5, "every seat back without a separate sync");
    }

    /// @dev Disputes are drawn in creation order, and the pool applies no change while one awaits its draw
    /// (issue #12, finding 2): stake moved after a dispute opened cannot change its jury.
    function test_DrawsFollowTheQueueAndThePoolIsFrozenMeanwhile() public {
        uint256 first = _open(verifiers[0], verifiers[1]);
        uint256 second = _open(ops[0], challenger);
        assertEq(committee.awaitingDraw(), 2, "two queued");
        vm.roll(block.number + 2);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotQueueHead.selector, second, first));
        committee.draw(second);
        // A verifier adds stake and another asks all of its out: neither reaches the tree yet.
        vm.prank(verifiers[2]);
        pool.deposit{value: 1 ether}();
        vm.warp(block.timestamp + pool.maturity());
        assertTrue(!pool.sync(verifiers[2]), "frozen: nothing applied");
        vm.prank(verifiers[3]);
        pool.requestWithdrawal(0.5 ether);
        assertEq(pool.seatsOf(verifiers[2]), 1, "the deposit waits");
        assertEq(pool.seatsOf(verifiers[3]), 1, "the withdrawal waits, still lockable");
        committee.draw(first);
        assertEq(committee.seatsOf(first, verifiers[3]), 1, "the leaving verifier still sits");
        assertEq(committee.queueHeadDispute(), second, "the second is the head now");
        committee.draw(second);
        assertEq(committee.awaitingDraw(), 0, "queue empty");
        assertTrue(pool.sync(verifiers[2]), "thawed");
        assertEq(pool.seatsOf(verifiers[2]), 2, "the deposit entered: two more seats, one of the old locked");
    }

    /// @dev The jury sits on stake matured by the earlier of the opening and the arbitrable's `stakeBefore` (issue
    /// #12: an audit opened late is drawn from the stake of its job's time). Operator 1 joins with four seats that
    /// mature exactly now: a dispute whose cutoff is a second earlier never seats it, and draws verifiers 2..4.
    function test_TheStakeCutoffIsTheEarlierOfTheOpeningAndTheArbitrables() public {
        vm.deal(ops[1], 10 ether);
        _joinPool(ops[1], 4 * pool.seatSize());
        uint64 cutoff = uint64(block.timestamp) - 1;
        uint256 id = committee.createDispute{value: FEE}(3, abi.encode(verifiers[0], verifiers[1], cutoff, BOND));
        vm.roll(block.number + 2);
        committee.draw(id);
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(id);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Drawn), "drawn");
        assertEq(committee.seatsOf(id, ops[1]), 0, "stake matured after the cutoff never sits");
        for (uint256 i = 2; i < 5; ++i) {
            assertEq(committee.seatsOf(id, verifiers[i]), 1, "the older stake fills the seats");
        }
    }

    /// @dev With the cutoff at the opening itself, the same four seats sit (the check is `deposit + maturity ≤
    /// cutoff`, so stake matured exactly at the cutoff counts): most of the jury is operator 1's.
    function test_StakeMaturedExactlyAtTheCutoffSits() public {
        vm.deal(ops[1], 10 ether);
        _joinPool(ops[1], 4 * pool.seatSize());
        uint256 id = committee.createDispute{value: FEE}(
            3, abi.encode(verifiers[0], verifiers[1], uint64(block.timestamp), BOND)
        );
        vm.roll(block.number + 2);
        committee.draw(id);
        assertTrue(committee.seatsOf(id, ops[1]) > 0, "operator 1 sits");
    }

    /// @dev A dispute queued again (a redraw) goes to the back of the queue: it may be neither drawn nor reseeded
    /// before the disputes queued ahead of it, though its id is lower.
    function test_ARequeuedDisputeWaitsBehindTheDisputesAheadOfIt() public {
        (uint256 first, address[] memory jurors) = _openAndDraw();
        uint256 second = _open(ops[0], challenger);
        vm.warp(_revealEnd(first));
        committee.resolve(first); // nobody revealed: its three seats are drawn again, behind the second
        assertEq(committee.queueHeadDispute(), second, "the second is ahead");
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(first);
        vm.roll(uint256(seedBlock) + 1);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotQueueHead.selector, first, second));
        committee.draw(first);
        vm.roll(uint256(seedBlock) + 300);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotQueueHead.selector, first, second));
        committee.reseed(first);
        assertEq(jurors.length, 3, "three jurors were silent");
    }

    /// @dev No keeper reward configured: a draw pays and announces nothing.
    function test_AZeroKeeperRewardPaysNothingAndEmitsNothing() public {
        IReexecutionCommittee.Params memory p = _params();
        p.keeperReward = 0;
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open(verifiers[0], verifiers[1]);
        vm.roll(block.number + 2);
        vm.recordLogs();
        committee.draw(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IReexecutionCommittee.KeeperPaid.selector, "no KeeperPaid");
        }
        assertEq(committee.balanceOf(address(this), address(0)), 0, "nothing credited");
        assertEq(committee.feesHeld(), FEE, "the whole fee stays in the pot");
    }

    /// @dev The deferral count saturates: a dispute that waits and is retried more than 255 times still waits
    /// (an overflow would revert the draw and freeze the dispute until its expiry).
    function test_DeferralsSaturateAndTheDisputeStillWaits() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurors = 5;
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open(verifiers[0], verifiers[1]); // five seats, but the parties' two may not sit
        for (uint256 i = 0; i < 260; ++i) {
            vm.roll(block.number + 2);
            committee.draw(id);
            assertTrue(_phase(id) == IReexecutionCommittee.Phase.Waiting, "waits");
            committee.retry(id);
        }
        assertEq(committee.balanceOf(address(this), address(0)), KEEPER, "only the first attempt was paid");
    }

    function test_RevertWhen_ReseededEarlyOrCommittedLate() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(id);
        // Before its seed block is mined, and in it, there is no seed to have lapsed.
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.ReseedRefused.selector, id, seedBlock));
        committee.reseed(id);
        vm.roll(seedBlock);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.ReseedRefused.selector, id, seedBlock));
        committee.reseed(id);
        vm.roll(uint256(seedBlock) + 10);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.ReseedRefused.selector, id, seedBlock));
        committee.reseed(id);
        committee.draw(id);
        address[] memory jurors = committee.jurorsOf(id);
        (uint64 commitEnd,) = _deadlines(id);
        vm.warp(uint256(commitEnd) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, commitEnd, uint256(commitEnd) + 1)
        );
        vm.prank(jurors[0]);
        committee.commit(id, jurors[0], keccak256("late"));
    }

    function test_RevertWhen_UsedBeforeTheDraw() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        bytes memory created =
            abi.encodeWithSelector(IReexecutionCommittee.WrongPhase.selector, id, IReexecutionCommittee.Phase.Created);
        vm.warp(block.timestamp + 30 days);
        vm.expectRevert(created);
        committee.resolve(id);
        vm.expectRevert(created);
        vm.prank(verifiers[2]);
        committee.commit(id, verifiers[2], keccak256("early"));
        vm.expectRevert(created);
        vm.prank(verifiers[2]);
        committee.reveal(id, verifiers[2], 1, bytes32(0));
    }

    function test_RevertWhen_RevealedLate_AndASilentSeatThatCouldTieIsRedrawn() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        _commit(id, jurors[0], 1);
        _commit(id, jurors[1], 2);
        _commit(id, jurors[2], 1);
        (uint64 commitEnd, uint64 revealEnd) = _deadlines(id);
        vm.warp(commitEnd);
        _reveal(id, jurors[0], 1);
        _reveal(id, jurors[1], 2);
        vm.warp(uint256(revealEnd) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, revealEnd, uint256(revealEnd) + 1)
        );
        _reveal(id, jurors[2], 1);
        // 1 : 1 and the third never revealed: its silence could decide, so it is slashed and its seat drawn again
        // (issue #12, finding 8: a tie never rules 0 for the side the silence favoured).
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(id, 0, 1, block.number + 1);
        committee.resolve(id);
        assertEq(rulings, 0, "nothing ruled");
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Created), "queued for the redraw");
        assertEq(pool.jurorInfo(jurors[2]).locked, 0, "the silent seat released");
        assertEq(pool.jurorInfo(jurors[2]).stake, 0.5 ether - _params().nonRevealPenalty, "and slashed");
        assertEq(committee.feesHeld(), POT + _params().nonRevealPenalty, "the penalty joins the pot");
        assertTrue(!committee.votesHidden(id), "the revealed votes stand, public");
        assertEq(address(committee).balance, committee.totalCredited(address(0)) + committee.feesHeld(), "held");
    }

    /// @dev Issue #12, finding 5: seats that cannot be filled make the dispute wait; nothing is ruled and the
    /// fee stays held.
    function test_TooFewEligibleSeatsDefersTheDraw() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurors = 5;
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open(verifiers[0], verifiers[1]); // 5 seats, but the parties' 2 may not sit
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawDeferred(id, 5);
        committee.draw(id);
        assertEq(rulings, 0, "not ruled");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Waiting, "waiting");
        assertEq(committee.feesHeld(), POT, "fee held, less the first attempt's keeper reward");
        assertEq(committee.balanceOf(address(this), address(0)), KEEPER, "the first attempt is paid, deferred or not");
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(pool.jurorInfo(verifiers[i]).locked, 0, "no seat stays locked");
        }
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.WrongPhase.selector, id, IReexecutionCommittee.Phase.Waiting)
        );
        committee.draw(id);
    }

    /// @dev Only the pool's "no seats" errors defer a draw: any other failure of the pool is raised unchanged, so a
    /// misconfigured committee (here one the pool does not know) never parks disputes as if the pool were short.
    function test_AnUnexpectedPoolFailureIsRaisedUnchanged() public {
        ReexecutionCommittee stranger = this.newCommittee(owner, operators, pool, new BlockhashRandomness(), _params());
        vm.prank(owner);
        stranger.setArbitrable(address(this), true);
        uint256 id = stranger.createDispute{value: FEE}(3, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        vm.roll(block.number + 2);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NotCommittee.selector, address(stranger)));
        stranger.draw(id);
        (IReexecutionCommittee.Phase phase,,,,,,,) = stranger.disputeInfo(id);
        assertTrue(phase == IReexecutionCommittee.Phase.Created, "still queued, not waiting");
        assertEq(stranger.balanceOf(address(this), address(0)), 0, "no keeper reward");
    }

    function test_LockedSeatsLeaveTooFewForTheNextDispute() public {
        (uint256 first,) = _openAndDraw(); // locks the one seat of verifiers 2..4
        uint256 second = _open(ops[0], challenger); // only verifiers 0 and 1 have a free seat
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawDeferred(second, 2);
        committee.draw(second);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotEnoughFreeSeats.selector, second, 2, 3));
        committee.retry(second);
        address[] memory jurors = committee.jurorsOf(first);
        for (uint256 i = 0; i < 3; ++i) {
            _commit(first, jurors[i], 1);
        }
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(first, jurors[i], 1); // revealing jurors keep their whole seat
        }
        committee.resolve(first);
        for (uint256 v = 2; v < 5; ++v) {
            pool.sync(verifiers[v]);
        }
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawRetried(second, block.number + 1);
        committee.retry(second);
        vm.roll(block.number + 2);
        committee.draw(second);
        assertTrue(_phase(second) == IReexecutionCommittee.Phase.Drawn, "drawn once seats returned");
    }

    /*//////////////////////////////////////////////////////////////
                              COMMIT, REVEAL
    //////////////////////////////////////////////////////////////*/

    function test_CommitChecks() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        vm.prank(verifiers[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotJuror.selector, id, verifiers[0]));
        committee.commit(id, verifiers[0], bytes32(uint256(1)));

        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.VoteCommitted(
            id, 0, jurors[0], CairnTypedData.commitment(id, 0, jurors[0], 1, _salt(jurors[0]))
        );
        _commit(id, jurors[0], 1);
        vm.prank(jurors[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.AlreadyDone.selector, id, jurors[0]));
        committee.commit(id, jurors[0], bytes32(uint256(2)));

        (uint64 commitEnd,) = _deadlines(id);
        vm.warp(commitEnd);
        vm.prank(jurors[1]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, commitEnd, commitEnd));
        committee.commit(id, jurors[1], bytes32(uint256(3)));
    }

    /// @dev Issue #12, finding 7: a zero commitment is refused, so it can neither count as a commit (opening
    /// the reveal before the others committed) nor be repeated.
    function test_RevertWhen_CommitmentIsZero() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(jurors[0]);
            vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.ZeroCommitment.selector, id, jurors[0]));
            committee.commit(id, jurors[0], bytes32(0));
        }
        _commit(id, jurors[1], 1);
        _commit(id, jurors[2], 1);
        (uint64 commitEnd,) = _deadlines(id);
        vm.prank(jurors[1]);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, commitEnd, block.timestamp)
        );
        committee.reveal(id, jurors[1], 1, _salt(jurors[1]));
        // The refused juror may still commit for real.
        _commit(id, jurors[0], 2);
        _reveal(id, jurors[1], 1);
    }

    function test_RevealChecksAndDeadlines() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        _commit(id, jurors[0], 1);
        _commit(id, jurors[1], 2);
        (uint64 commitEnd, uint64 revealEnd) = _deadlines(id);
        // Not everyone committed: no reveal before the commit deadline.
        vm.prank(jurors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, commitEnd, block.timestamp)
        );
        committee.reveal(id, jurors[0], 1, _salt(jurors[0]));

        vm.warp(commitEnd);
        vm.prank(verifiers[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotJuror.selector, id, verifiers[0]));
        committee.reveal(id, verifiers[0], 1, _salt(verifiers[0]));
        vm.prank(jurors[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadReveal.selector, id, jurors[0]));
        committee.reveal(id, jurors[0], 2, _salt(jurors[0])); // not what was committed
        vm.prank(jurors[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadReveal.selector, id, jurors[0]));
        committee.reveal(id, jurors[0], 1, bytes32(0)); // wrong salt

        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.VoteRevealed(id, 0, jurors[0], 1);
        _reveal(id, jurors[0], 1);
        vm.prank(jurors[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.AlreadyDone.selector, id, jurors[0]));
        committee.reveal(id, jurors[0], 1, _salt(jurors[0]));

        vm.warp(revealEnd);
        vm.prank(jurors[1]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, revealEnd, revealEnd));
        committee.reveal(id, jurors[1], 2, _salt(jurors[1]));
    }

    function test_RevertWhen_RevealingAVoteOutsideTheChoices() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        _commit(id, jurors[0], 4);
        _commit(id, jurors[1], 0);
        (uint64 commitEnd,) = _deadlines(id);
        vm.warp(commitEnd);
        vm.prank(jurors[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadReveal.selector, id, jurors[0]));
        committee.reveal(id, jurors[0], 4, _salt(jurors[0]));
        vm.prank(jurors[1]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadReveal.selector, id, jurors[1]));
        committee.reveal(id, jurors[1], 0, _salt(jurors[1]));
    }

    function test_EveryoneCommittedRevealsEarly_EveryoneRevealedResolvesEarly() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        for (uint256 i = 0; i < 3; ++i) {
            _commit(id, jurors[i], 2);
        }
        // Before the commit deadline: allowed, since every juror committed.
        _reveal(id, jurors[0], 2);
        _reveal(id, jurors[1], 2);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, _revealEnd(id), block.timestamp)
        );
        committee.resolve(id);
        _reveal(id, jurors[2], 2);
        committee.resolve(id); // before the reveal deadline: every juror revealed
        assertEq(ruledWith, 2, "unanimous: not acceptable");
    }

    function _revealEnd(uint256 id) internal view returns (uint64 r) {
        (, r) = _deadlines(id);
    }

    /*//////////////////////////////////////////////////////////////
                                RESOLUTION
    //////////////////////////////////////////////////////////////*/

    function test_MajorityRulesSharesFeeAndPenaltyToTheWei() public {
        IReexecutionCommittee.Params memory p = _params();
        p.fee = FEE + 1; // an odd pool: one wei of dust
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = committee.createDispute{value: FEE + 1}(3, abi.encode(verifiers[0], verifiers[1], NO_CUTOFF, BOND));
        vm.roll(block.number + 2);
        committee.draw(id);
        address[] memory jurors = committee.jurorsOf(id);
        _commit(id, jurors[0], 1);
        _commit(id, jurors[1], 1);
        // jurors[2] stays silent.
        (uint64 commitEnd, uint64 revealEnd) = _deadlines(id);
        vm.warp(commitEnd);
        _reveal(id, jurors[0], 1);
        _reveal(id, jurors[1], 1);
        uint256 silentStake = pool.jurorInfo(jurors[2]).stake;
        vm.warp(revealEnd);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 1, 2, 0, 0);
        committee.resolve(id);

        assertEq(ruledWith, 1, "acceptable");
        uint256 pot = POT + 1 + p.nonRevealPenalty;
        uint256 share = pot / 2;
        assertEq(committee.balanceOf(jurors[0], address(0)), share + (pot - 2 * share), "first winner takes the dust");
        assertEq(committee.balanceOf(jurors[1], address(0)), share, "second winner");
        assertEq(committee.balanceOf(jurors[2], address(0)), 0, "silent juror paid nothing");
        assertEq(pool.jurorInfo(jurors[2]).stake, silentStake - p.nonRevealPenalty, "silent juror slashed");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).locked, 0, "juror stake released");
        }
        assertEq(committee.feesHeld(), 0, "fee paid out");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited");
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.WrongPhase.selector, id, IReexecutionCommittee.Phase.Ruled)
        );
        committee.resolve(id);
    }

    function test_MinorityRevealerIsNotPaidAndPaysTheCoherencePenalty() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        _commit(id, jurors[0], 1);
        _commit(id, jurors[1], 2);
        _commit(id, jurors[2], 1);
        (uint64 commitEnd,) = _deadlines(id);
        vm.warp(commitEnd);
        _reveal(id, jurors[0], 1);
        _reveal(id, jurors[1], 2);
        _reveal(id, jurors[2], 1); // everyone revealed: resolves at once
        committee.resolve(id);
        assertEq(ruledWith, 1, "majority: acceptable");
        assertEq(committee.balanceOf(jurors[1], address(0)), 0, "the minority juror is paid nothing");
        uint256 psi = _params().coherencePenalty;
        assertEq(pool.jurorInfo(jurors[1]).stake, 0.5 ether - psi, "and pays the coherence penalty");
        assertEq(
            committee.balanceOf(jurors[0], address(0)) + committee.balanceOf(jurors[2], address(0)),
            POT + psi,
            "the majority shares the fee and the penalty"
        );
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited once");
    }

    /// @dev Fees of other open disputes stay held when one dispute closes or waits.
    function test_ClosingOneDisputeKeepsTheOthersFees() public {
        uint256 a = _open(verifiers[0], verifiers[1]);
        IReexecutionCommittee.Params memory p = _params();
        p.fee = 2 * FEE;
        vm.prank(owner);
        committee.setParams(p);
        uint256 b = committee.createDispute{value: 2 * FEE}(3, abi.encode(ops[0], challenger, NO_CUTOFF, BOND));
        uint256 c = committee.createDispute{value: 2 * FEE}(3, abi.encode(ops[0], challenger, NO_CUTOFF, BOND));
        assertEq(committee.feesHeld(), 5 * FEE, "three fees held");
        vm.roll(block.number + 2);
        committee.draw(a); // verifiers 2..4
        committee.draw(b); // two seats left: waits
        assertEq(committee.feesHeld(), 5 * FEE - 2 * KEEPER, "all but a's and b's keeper rewards held");
        _everyoneVotes(a, 1);
        committee.resolve(a);
        assertEq(committee.feesHeld(), 4 * FEE - KEEPER, "b's and c's fees still held");
        c;
    }

    /// @dev Silence that could decide is drawn again at most `MAX_REDRAWS` times; then the revealed seats decide,
    /// and a tie among them refuses, paying every revealer.
    function test_AfterTheRedrawsATieRefusesAndPaysEveryRevealer() public {
        // No non-reveal penalty here, so the silent juror keeps its one seat and each redraw lands on it (every
        // other seat is locked or excluded); the penalty's own path is the test below. ψ ≤ ν, so no coherence
        // penalty either (a tie rules 0, which charges none anyway).
        IReexecutionCommittee.Params memory p = _params();
        (p.nonRevealPenalty, p.coherencePenalty) = (0, 0);
        vm.prank(owner);
        committee.setParams(p);
        (uint256 id, address[] memory jurors) = _openAndDraw();
        _commit(id, jurors[0], 1);
        _commit(id, jurors[1], 2);
        (uint64 commitEnd,) = _deadlines(id);
        vm.warp(commitEnd);
        _reveal(id, jurors[0], 1);
        _reveal(id, jurors[1], 2);
        address silent = jurors[2];
        for (uint256 redraw = 0; redraw < 2; ++redraw) {
            vm.warp(_revealEnd(id));
            committee.resolve(id);
            vm.roll(block.number + 2);
            committee.draw(id);
            assertEq(committee.seatsOf(id, silent), 1, "redrawn onto the only free seat");
            assertEq(committee.jurorsOf(id).length, 3, "listed once");
        }
        vm.warp(_revealEnd(id));
        committee.resolve(id);
        assertEq(ruledWith, 0, "tie: refuse");
        uint256 pot = FEE - 3 * KEEPER; // three draws, each paid its keeper
        assertEq(committee.balanceOf(jurors[0], address(0)), pot / 2, "revealer 1");
        assertEq(committee.balanceOf(jurors[1], address(0)), pot / 2, "revealer 2");
        assertEq(committee.balanceOf(silent, address(0)), 0, "the silent juror is paid nothing");
        assertEq(committee.balanceOf(address(this), address(0)), 3 * KEEPER, "every draw paid its keeper");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited once");
    }

    /// @dev Issue #12, finding 10: the pool never goes to `owner()` (address(0) once renounced). Nobody revealing
    /// is slashed and redrawn; when the seats cannot be filled the dispute waits, and its expiry rules 0 and gives
    /// the pot (fee and penalties) to the challenger.
    function test_NobodyRevealsThePoolGoesToTheChallenger() public {
        vm.prank(owner);
        committee.renounceOwnership();
        (uint256 id, address[] memory jurors) = _openAndDraw();
        vm.warp(_revealEnd(id));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.SilentSeatsRedrawn(id, 0, 3, block.number + 1);
        committee.resolve(id);
        uint256 nu = _params().nonRevealPenalty;
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).stake, 0.5 ether - nu, "each silent seat slashed");
        }
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DrawDeferred(id, 2);
        committee.draw(id); // the three eligible jurors hold less than a seat now; the two seats left are the parties'
        assertEq(uint8(_phase(id)), uint8(IReexecutionCommittee.Phase.Waiting), "it waits");
        vm.warp(block.timestamp + 30 days);
        committee.expire(id);
        assertEq(ruledWith, 0, "no votes: refuse");
        uint256 pot = FEE - 2 * KEEPER + 3 * nu;
        assertEq(committee.balanceOf(verifiers[1], address(0)), pot, "the challenger gets the pot");
        assertEq(committee.balanceOf(owner, address(0)), 0, "not the (former) owner");
        assertEq(committee.balanceOf(address(0), address(0)), 0, "not address(0)");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited");
    }

    /// @dev What `_pay` shares: any pot, any count of coherent seats (25 at most: 3 + 7 + 15), to the wei.
    function testFuzz_PerSeatConservesThePot(uint256 pot, uint8 seats) public pure {
        pot = bound(pot, 0, type(uint128).max);
        uint256 n = bound(seats, 1, 25);
        (uint256 share, uint256 dust) = Splits.perSeat(pot, n);
        assertEq(share * n + dust, pot, "conserved");
        assertTrue(dust < n, "dust below a wei per seat");
    }

    /// @dev Issue #12, finding 1: one juror holds every seat of two disputes; silent in the first, it is
    /// penalised out of the first's seats only, and the second still resolves and releases every lock.
    function test_ASilentJurorsPenaltyNeverTouchesAnotherDisputesLock() public {
        address only = _soleJuror(2.5 ether); // six seats
        uint256 first = _open(ops[0], challenger);
        uint256 second = _open(ops[1], challenger);
        vm.roll(block.number + 2);
        committee.draw(first);
        committee.draw(second);
        uint256 seat = pool.seatSize();
        assertEq(pool.jurorInfo(only).locked, 6 * seat, "three seats in each");
        _commit(second, only, 1);
        _reveal(second, only, 1);
        uint256 stake = pool.jurorInfo(only).stake;
        vm.warp(_revealEnd(first));
        committee.resolve(first);
        uint256 penalty = _params().nonRevealPenalty;
        assertEq(pool.jurorInfo(only).stake, stake - 3 * penalty, "penalised per silent seat");
        assertEq(pool.jurorInfo(only).locked, 3 * seat, "the second's seats whole");
        committee.resolve(second);
        assertEq(ruledDispute, second, "second ruled");
        assertEq(ruledWith, 1, "by its three seats");
        assertEq(pool.jurorInfo(only).locked, 0, "every lock released");
    }

    /// @dev Issue #12, finding 1's governance variant: raising the penalty after a dispute was drawn changes
    /// nothing it takes.
    function test_ParamsChangedAfterCreationDoNotApplyToTheDispute() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        IReexecutionCommittee.Params memory before = _params();
        IReexecutionCommittee.Params memory p = _params();
        p.nonRevealPenalty = pool.seatSize();
        vm.prank(owner);
        committee.setParams(p);
        uint256 silentStake = pool.jurorInfo(jurors[0]).stake;
        vm.warp(_revealEnd(id));
        committee.resolve(id);
        assertEq(pool.jurorInfo(jurors[0]).stake, silentStake - before.nonRevealPenalty, "the creation's penalty");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).locked, 0, "every seat released");
        }
    }

    /*//////////////////////////////////////////////////////////////
                                GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    function test_SetParamsStoresAndEmits() public {
        IReexecutionCommittee.Params memory p = IReexecutionCommittee.Params({
            jurors: 5,
            fee: 0.1 ether,
            commitPeriod: 1 hours,
            revealPeriod: 2 hours,
            keeperReward: 0.01 ether,
            nonRevealPenalty: 0.2 ether,
            auditReserve: 30,
            appealPeriod: 1 hours,
            coherencePenalty: 0.07 ether
        });
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.ParamsUpdated(p);
        vm.prank(owner);
        committee.setParams(p);
        IReexecutionCommittee.Params memory got = committee.params();
        assertEq(got.jurors, 5, "jurors");
        assertEq(got.fee, 0.1 ether, "fee");
        assertEq(got.commitPeriod, 1 hours, "commit");
        assertEq(got.revealPeriod, 2 hours, "reveal");
        assertEq(got.keeperReward, 0.01 ether, "keeper reward");
        assertEq(got.nonRevealPenalty, 0.2 ether, "penalty");
        assertEq(got.appealPeriod, 1 hours, "appeal period");
        assertEq(got.coherencePenalty, 0.07 ether, "coherence penalty");
        assertEq(committee.arbitrationCost(""), 0.1 ether, "cost follows the fee");
    }

    function test_RevertWhen_ParamsOutOfBounds() public {
        IReexecutionCommittee.Params memory p = _params();
        vm.startPrank(owner);
        p.jurors = 4;
        _expectBounds("jurors (odd)", 4, 1, 15);
        committee.setParams(p);
        p.jurors = 0;
        _expectBounds("jurors (odd)", 0, 1, 15);
        committee.setParams(p);
        p.jurors = 17;
        _expectBounds("jurors (odd)", 17, 1, 15);
        committee.setParams(p);
        p = _params();
        p.fee = 10 ether + 1;
        _expectBounds("fee", 10 ether + 1, 0, 10 ether);
        committee.setParams(p);
        p = _params();
        p.commitPeriod = 59;
        _expectBounds("commitPeriod", 59, 60, 7 days);
        committee.setParams(p);
        p.commitPeriod = 7 days + 1;
        _expectBounds("commitPeriod", 7 days + 1, 60, 7 days);
        committee.setParams(p);
        p = _params();
        p.revealPeriod = 59;
        _expectBounds("revealPeriod", 59, 60, 7 days);
        committee.setParams(p);
        p.revealPeriod = 7 days + 1;
        _expectBounds("revealPeriod", 7 days + 1, 60, 7 days);
        committee.setParams(p);
        p = _params();
        p.keeperReward = p.fee + 1;
        _expectBounds("keeperReward", p.fee + 1, 0, p.fee);
        committee.setParams(p);
        p = _params();
        p.nonRevealPenalty = 0.5 ether + 1;
        _expectBounds("nonRevealPenalty", 0.5 ether + 1, 0, 0.5 ether);
        committee.setParams(p);
        p = _params();
        p.coherencePenalty = p.nonRevealPenalty + 1;
        _expectBounds("coherencePenalty (at most nonRevealPenalty)", p.coherencePenalty, 0, p.nonRevealPenalty);
        committee.setParams(p);
        p = _params();
        (p.nonRevealPenalty, p.coherencePenalty) = (0.5 ether, 0.5 ether + 1);
        _expectBounds("coherencePenalty (at most nonRevealPenalty)", 0.5 ether + 1, 0, 0.5 ether);
        committee.setParams(p);
        p = _params();
        (p.nonRevealPenalty, p.coherencePenalty) = (0.07 ether, 0.07 ether);
        committee.setParams(p);
        assertEq(committee.params().coherencePenalty, 0.07 ether, "psi equal to nu is allowed");
        p = _params();
        p.auditReserve = 1001;
        _expectBounds("auditReserve", 1001, 0, 1000);
        committee.setParams(p);
        p = _params();
        p.appealPeriod = 59;
        _expectBounds("appealPeriod (0 or)", 59, 60, 7 days);
        committee.setParams(p);
        p.appealPeriod = 7 days + 1;
        _expectBounds("appealPeriod (0 or)", 7 days + 1, 60, 7 days);
        committee.setParams(p);
        // The edges themselves are accepted.
        p = _params();
        (p.jurors, p.fee, p.commitPeriod, p.revealPeriod) = (15, 10 ether, 60, 7 days);
        (p.keeperReward, p.nonRevealPenalty, p.coherencePenalty, p.appealPeriod) = (10 ether, 0.5 ether, 0.5 ether, 60);
        p.auditReserve = 1000;
        committee.setParams(p);
        assertEq(committee.params().auditReserve, 1000, "the largest audit reserve");
        p.appealPeriod = 7 days;
        committee.setParams(p);
        vm.stopPrank();
    }

    function test_TheOtherEdgesAreAcceptedToo() public {
        IReexecutionCommittee.Params memory p = _params();
        (p.jurors, p.fee, p.commitPeriod, p.revealPeriod) = (1, 0, 7 days, 60);
        (p.keeperReward, p.nonRevealPenalty, p.coherencePenalty) = (0, 0, 0);
        vm.prank(owner);
        committee.setParams(p);
        assertEq(committee.params().keeperReward, 0, "no keeper reward");
        assertEq(committee.params().commitPeriod, 7 days, "longest commit period");
        assertEq(committee.params().revealPeriod, 60, "shortest reveal period");
        assertEq(committee.params().jurors, 1, "a single juror");
    }

    function _expectBounds(string memory name, uint256 value, uint256 min, uint256 max) internal {
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, name, value, min, max));
    }

    function test_SetArbitrableEmitsAndRefusesZero() public {
        vm.startPrank(owner);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.ArbitrableSet(buyer, true);
        committee.setArbitrable(buyer, true);
        assertTrue(committee.arbitrable(buyer), "set");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "arbitrable"));
        committee.setArbitrable(address(0), true);
        vm.stopPrank();
    }
}
