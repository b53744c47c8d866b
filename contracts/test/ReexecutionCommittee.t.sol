// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ReexecutionCommittee} from "../src/ReexecutionCommittee.sol";
import {IArbitrable, IArbitrator} from "../src/interfaces/IArbitration.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {IRandomness, IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {BlockhashRandomness} from "../src/libraries/BlockhashRandomness.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice The committee on its own, with this test contract as the arbitrable side: disputes, the draw
/// (window, exclusions, eligibility, uniqueness), commit-reveal (every deadline and check), resolution
/// (majority, tie, silence, penalties, shares to the last wei) and governance.
contract ReexecutionCommitteeTest is CairnSystem, IArbitrable {
    uint256 internal constant FEE = 0.03 ether;

    uint256 internal ruledDispute;
    uint256 internal ruledWith = type(uint256).max;
    uint256 internal rulings;

    function setUp() public {
        setUpSystem();
        vm.prank(owner);
        committee.setArbitrable(address(this), true);
        vm.deal(address(this), 100 ether);
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
        return committee.createDispute{value: FEE}(2, abi.encode(accused, challenger_));
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
        committee.commit(id, juror, CairnTypedData.commitment(id, juror, vote, _salt(juror)));
    }

    function _reveal(uint256 id, address juror, uint256 vote) internal {
        vm.prank(juror);
        committee.reveal(id, juror, vote, _salt(juror));
    }

    function _deadlines(uint256 id) internal view returns (uint64 commitEnd, uint64 revealEnd) {
        (,, commitEnd, revealEnd) = committee.disputeInfo(id);
    }

    function _phase(uint256 id) internal view returns (IReexecutionCommittee.Phase phase) {
        (phase,,,) = committee.disputeInfo(id);
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
        new ReexecutionCommittee(owner, IOperatorRegistry(address(0)), randomness, p);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "randomness"));
        new ReexecutionCommittee(owner, operators, IRandomness(address(0)), p);
    }

    function test_RejectsEthFromAnyoneButTheRegistry() public {
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
        uint256 first = _open(verifiers[0], verifiers[1]);
        uint256 second = _open(verifiers[0], verifiers[1]);
        assertEq(first, 1, "first id");
        assertEq(second, 2, "ids count up");
        assertEq(committee.disputeCount(), 2, "count");
        assertEq(committee.feesHeld(), 2 * FEE, "fees held");
        (IReexecutionCommittee.Phase phase, uint64 seedBlock,,) = committee.disputeInfo(first);
        assertTrue(phase == IReexecutionCommittee.Phase.Created, "created");
        assertEq(seedBlock, block.number + 1, "seed block is the next block");
        assertEq(committee.arbitrationCost(""), FEE, "cost");
    }

    function test_RevertWhen_CreateDisputeByAStranger() public {
        vm.deal(buyer, 1 ether);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotArbitrable.selector, buyer));
        committee.createDispute{value: FEE}(2, abi.encode(verifiers[0], verifiers[1]));
    }

    function test_RevertWhen_CreateDisputeWithOtherChoicesOrFee() public {
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnsupportedChoices.selector, 3));
        committee.createDispute{value: FEE}(3, abi.encode(verifiers[0], verifiers[1]));
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.UnsupportedChoices.selector, 1));
        committee.createDispute{value: FEE}(1, abi.encode(verifiers[0], verifiers[1]));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, FEE, FEE - 1));
        committee.createDispute{value: FEE - 1}(2, abi.encode(verifiers[0], verifiers[1]));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, FEE, FEE + 1));
        committee.createDispute{value: FEE + 1}(2, abi.encode(verifiers[0], verifiers[1]));
        // The challenger receives the pool of a round nobody revealed, so it must exist.
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "challenger"));
        committee.createDispute{value: FEE}(2, abi.encode(verifiers[0], address(0)));
        assertEq(committee.disputeCount(), 0, "none created");
    }

    function test_RevertWhen_DrawnInTheBlockItWasCreated() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,) = committee.disputeInfo(id);
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
        emit IReexecutionCommittee.JurorsDrawn(id, new address[](3), commitEnd, revealEnd);
        committee.draw(id);
        address[] memory jurors = committee.jurorsOf(id);
        assertEq(jurors.length, 3, "k jurors");
        bool[5] memory seen;
        for (uint256 i = 0; i < 3; ++i) {
            assertTrue(jurors[i] != verifiers[0] && jurors[i] != verifiers[1], "accused and challenger excluded");
            for (uint256 v = 2; v < 5; ++v) {
                if (jurors[i] == verifiers[v]) seen[v] = true;
            }
            assertEq(operators.lockedBy(jurors[i], address(committee)), p.jurorLock, "juror stake locked");
        }
        assertTrue(seen[2] && seen[3] && seen[4], "the three eligible verifiers, each once");
        (uint64 c, uint64 r) = _deadlines(id);
        assertEq(c, commitEnd, "commit deadline = draw time + commit period");
        assertEq(r, revealEnd, "reveal deadline = commit deadline + reveal period");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Drawn, "drawn");
    }

    function test_DrawNeverPicksAJurorTwice() public {
        // Five eligible verifiers (neither side is a verifier), k = 3: many seeds, never a repeat.
        for (uint256 n = 0; n < 12; ++n) {
            uint256 id = _open(ops[0], challenger);
            vm.roll(block.number + 2);
            committee.draw(id);
            address[] memory jurors = committee.jurorsOf(id);
            assertTrue(jurors[0] != jurors[1] && jurors[0] != jurors[2] && jurors[1] != jurors[2], "unique jurors");
            // Release the locks so every verifier stays eligible for the next dispute.
            vm.warp(block.timestamp + 1 days);
            committee.resolve(id);
        }
    }

    function test_DrawIsStakeWeighted() public {
        // One verifier stakes 50 ether against four with 2: it should sit on nearly every committee (it
        // misses one only if none of the three picks lands on its 50/58 of the weight), the others share
        // the remaining seats.
        IReexecutionCommittee.Params memory p = _params();
        p.nonRevealPenalty = 0; // silent jurors keep their stake, so every round draws from the same weights
        vm.prank(owner);
        committee.setParams(p);
        address heavy = verifiers[4];
        vm.deal(heavy, 48 ether);
        vm.prank(heavy);
        operators.addStake{value: 48 ether}();
        uint256 heavySeats;
        uint256 lightSeats;
        for (uint256 n = 0; n < 20; ++n) {
            uint256 id = _open(ops[0], challenger);
            vm.roll(block.number + 2);
            committee.draw(id);
            address[] memory jurors = committee.jurorsOf(id);
            for (uint256 i = 0; i < jurors.length; ++i) {
                if (jurors[i] == heavy) ++heavySeats;
                else ++lightSeats;
            }
            vm.warp(block.timestamp + 1 days);
            committee.resolve(id);
        }
        assertTrue(heavySeats >= 19, "the heavy verifier sits on (nearly) every committee");
        assertEq(heavySeats + lightSeats, 60, "three seats each time");
    }

    function test_DrawWindowBoundaries() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,) = committee.disputeInfo(id);
        vm.roll(seedBlock);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.OutsidePeriod.selector, id, seedBlock, seedBlock));
        committee.draw(id);
        vm.roll(uint256(seedBlock) + 257);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, id, uint256(seedBlock) + 256, uint256(seedBlock) + 257
            )
        );
        committee.draw(id);
        // The last block of the window still draws.
        vm.roll(uint256(seedBlock) + 256);
        committee.draw(id);
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Drawn, "drawn at the last block");
    }

    function test_ReseedOnlyAfterTheWindowAndThenDraws() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,) = committee.disputeInfo(id);
        vm.roll(uint256(seedBlock) + 256);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, id, uint256(seedBlock) + 256, uint256(seedBlock) + 256
            )
        );
        committee.reseed(id);
        vm.roll(uint256(seedBlock) + 300);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.Reseeded(id, uint256(seedBlock) + 301);
        committee.reseed(id);
        (, uint64 newSeed,,) = committee.disputeInfo(id);
        assertEq(newSeed, uint256(seedBlock) + 301, "new seed block");
        vm.roll(uint256(newSeed) + 1);
        committee.draw(id);
    }

    function test_RevertWhen_ReseededEarlyOrCommittedLate() public {
        uint256 id = _open(verifiers[0], verifiers[1]);
        (, uint64 seedBlock,,) = committee.disputeInfo(id);
        vm.roll(uint256(seedBlock) + 10);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, id, uint256(seedBlock) + 256, uint256(seedBlock) + 10
            )
        );
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

    function test_RevertWhen_RevealedLate_AndASilentJurorIsUnpaidOnATie() public {
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
        committee.resolve(id); // 1 : 1, the third never revealed: a tie refuses
        assertEq(ruledWith, 0, "tie");
        assertEq(committee.balanceOf(jurors[2], address(0)), 0, "the silent juror is paid nothing");
        assertTrue(committee.balanceOf(jurors[0], address(0)) > 0, "revealers paid");
        assertTrue(committee.balanceOf(jurors[1], address(0)) > 0, "both of them");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited once");
    }

    function test_TooFewEligibleVerifiersRefusesAndReturnsTheFee() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurors = 5;
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open(verifiers[0], verifiers[1]); // 3 eligible < 5
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.NotEnoughJurors(id, 3);
        committee.draw(id);
        assertEq(ruledDispute, id, "ruled");
        assertEq(ruledWith, 0, "refused to rule");
        assertEq(committee.balanceOf(verifiers[1], address(0)), FEE, "fee back to the challenger");
        assertEq(committee.feesHeld(), 0, "no fee held");
        assertTrue(_phase(id) == IReexecutionCommittee.Phase.Ruled, "closed");
    }

    function test_LockedStakeMakesAVerifierIneligible() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurorLock = 1.9 ether; // stakes are 2 ether: one draw leaves 0.1 ether free
        p.nonRevealPenalty = 0.1 ether;
        vm.prank(owner);
        committee.setParams(p);
        (uint256 first,) = _openAndDraw(); // locks verifiers 2..4
        assertEq(rulings, 0, "first dispute drawn normally");
        uint256 second = _open(ops[0], challenger); // only verifiers 0 and 1 have 1.9 ether free
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.NotEnoughJurors(second, 2);
        committee.draw(second);
        assertEq(ruledWith, 0, "refused");
        first;
    }

    function test_VerifiersWithLessFreeStakeThanTheLockAreSkipped() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurorLock = 2.5 ether; // every verifier is eligible (2 ether ≥ the 1 ether minimum) but cannot cover it
        vm.prank(owner);
        committee.setParams(p);
        uint256 id = _open(ops[0], challenger);
        vm.roll(block.number + 2);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.NotEnoughJurors(id, 0);
        committee.draw(id);
        assertEq(ruledWith, 0, "refused");
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
            id, jurors[0], CairnTypedData.commitment(id, jurors[0], 1, _salt(jurors[0]))
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
        emit IReexecutionCommittee.VoteRevealed(id, jurors[0], 1);
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
        _commit(id, jurors[0], 3);
        (uint64 commitEnd,) = _deadlines(id);
        vm.warp(commitEnd);
        vm.prank(jurors[0]);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadReveal.selector, id, jurors[0]));
        committee.reveal(id, jurors[0], 3, _salt(jurors[0]));
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
        uint256 id = committee.createDispute{value: FEE + 1}(2, abi.encode(verifiers[0], verifiers[1]));
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
        uint256 silentStake = operators.getOperator(jurors[2]).stake;
        vm.warp(revealEnd);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(id, 1, 2, 0);
        committee.resolve(id);

        assertEq(ruledWith, 1, "acceptable");
        uint256 pool = FEE + 1 + p.nonRevealPenalty;
        uint256 share = pool / 2;
        assertEq(committee.balanceOf(jurors[0], address(0)), share + (pool - 2 * share), "first winner takes the dust");
        assertEq(committee.balanceOf(jurors[1], address(0)), share, "second winner");
        assertEq(committee.balanceOf(jurors[2], address(0)), 0, "silent juror paid nothing");
        assertEq(operators.getOperator(jurors[2]).stake, silentStake - p.nonRevealPenalty, "silent juror slashed");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(operators.lockedBy(jurors[i], address(committee)), 0, "juror stake released");
        }
        assertEq(committee.feesHeld(), 0, "fee paid out");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited");
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.WrongPhase.selector, id, IReexecutionCommittee.Phase.Ruled)
        );
        committee.resolve(id);
    }

    function test_MinorityRevealerIsNotPaid() public {
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
        assertEq(
            committee.balanceOf(jurors[0], address(0)) + committee.balanceOf(jurors[2], address(0)),
            FEE,
            "the majority shares the fee"
        );
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited once");
    }

    /// @dev Fees of other open disputes stay held when one dispute closes (either way it closes).
    function test_ClosingOneDisputeKeepsTheOthersFees() public {
        uint256 a = _open(verifiers[0], verifiers[1]); // 3 eligible
        IReexecutionCommittee.Params memory p = _params();
        p.fee = 2 * FEE;
        vm.prank(owner);
        committee.setParams(p);
        uint256 b = committee.createDispute{value: 2 * FEE}(2, abi.encode(ops[0], challenger));
        uint256 c = committee.createDispute{value: 2 * FEE}(2, abi.encode(ops[0], challenger));
        assertEq(committee.feesHeld(), 5 * FEE, "three fees held");
        vm.roll(block.number + 2);
        committee.draw(b);
        p.jurors = 5;
        vm.prank(owner);
        committee.setParams(p);
        committee.draw(a); // 3 eligible < 5: refused, its fee returned
        assertEq(committee.feesHeld(), 4 * FEE, "b's and c's fees still held");
        vm.warp(_revealEnd(b));
        committee.resolve(b);
        assertEq(committee.feesHeld(), 2 * FEE, "c's fee still held");
        c;
    }

    function test_TieRefusesAndPaysEveryRevealer() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        _commit(id, jurors[0], 1);
        _commit(id, jurors[1], 2);
        (uint64 commitEnd, uint64 revealEnd) = _deadlines(id);
        vm.warp(commitEnd);
        _reveal(id, jurors[0], 1);
        _reveal(id, jurors[1], 2);
        vm.warp(revealEnd);
        committee.resolve(id);
        assertEq(ruledWith, 0, "tie: refuse");
        uint256 pool = FEE + _params().nonRevealPenalty;
        assertEq(committee.balanceOf(jurors[0], address(0)), pool / 2, "revealer 1");
        assertEq(committee.balanceOf(jurors[1], address(0)), pool / 2, "revealer 2");
    }

    /// @dev Issue #12, finding 10: the pool never goes to `owner()` (address(0) once renounced).
    function test_NobodyRevealsThePoolGoesToTheChallenger() public {
        vm.prank(owner);
        committee.renounceOwnership();
        (uint256 id,) = _openAndDraw();
        vm.warp(_revealEnd(id));
        committee.resolve(id);
        assertEq(ruledWith, 0, "no votes: refuse");
        uint256 pool = FEE + 3 * _params().nonRevealPenalty;
        assertEq(committee.balanceOf(verifiers[1], address(0)), pool, "the challenger gets the pool");
        assertEq(committee.balanceOf(owner, address(0)), 0, "not the (former) owner");
        assertEq(committee.balanceOf(address(0), address(0)), 0, "not address(0)");
        assertEq(address(committee).balance, committee.totalCredited(address(0)), "every wei credited");
    }

    /// @dev Issue #12, finding 1: two disputes with the same three jurors; a juror silent in the first is
    /// penalised out of the first's lock, and the second still resolves and releases every lock.
    function test_ASilentJurorsPenaltyNeverTouchesAnotherDisputesLock() public {
        (uint256 first, address[] memory jurors) = _openAndDraw();
        uint256 second = _open(verifiers[0], verifiers[1]);
        vm.roll(block.number + 2);
        committee.draw(second);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(operators.lockedBy(jurors[i], address(committee)), 2 * _params().jurorLock, "two seats each");
        }
        for (uint256 i = 1; i < 3; ++i) {
            _commit(first, jurors[i], 1);
        }
        address[] memory again = committee.jurorsOf(second);
        for (uint256 i = 0; i < 3; ++i) {
            _commit(second, again[i], 1);
        }
        (, uint64 revealEnd) = _deadlines(second);
        vm.warp(revealEnd - 1);
        for (uint256 i = 1; i < 3; ++i) {
            _reveal(first, jurors[i], 1);
        }
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(second, again[i], 1);
        }
        uint256 silentStake = operators.getOperator(jurors[0]).stake;
        vm.warp(revealEnd);
        committee.resolve(first);
        assertEq(operators.getOperator(jurors[0]).stake, silentStake - _params().nonRevealPenalty, "penalised");
        assertEq(operators.lockedBy(jurors[0], address(committee)), _params().jurorLock, "second's lock whole");
        committee.resolve(second);
        assertEq(ruledDispute, second, "second ruled");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(operators.lockedBy(jurors[i], address(committee)), 0, "every lock released");
        }
    }

    /// @dev Issue #12, finding 1's governance variant: raising the penalty and the lock after a dispute was
    /// drawn changes nothing it locks or takes.
    function test_ParamsChangedAfterCreationDoNotApplyToTheDispute() public {
        (uint256 id, address[] memory jurors) = _openAndDraw();
        IReexecutionCommittee.Params memory before = _params();
        IReexecutionCommittee.Params memory p = _params();
        (p.jurorLock, p.nonRevealPenalty) = (1.5 ether, 1.5 ether);
        vm.prank(owner);
        committee.setParams(p);
        uint256 silentStake = operators.getOperator(jurors[0]).stake;
        vm.warp(_revealEnd(id));
        committee.resolve(id);
        assertEq(
            operators.getOperator(jurors[0]).stake, silentStake - before.nonRevealPenalty, "the creation's penalty"
        );
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(operators.lockedBy(jurors[i], address(committee)), 0, "the creation's lock released");
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
            jurorLock: 1 ether,
            nonRevealPenalty: 0.2 ether
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
        assertEq(got.jurorLock, 1 ether, "lock");
        assertEq(got.nonRevealPenalty, 0.2 ether, "penalty");
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
        p.jurorLock = 1000 ether + 1;
        p.nonRevealPenalty = 0;
        _expectBounds("jurorLock", 1000 ether + 1, 0.01 ether, 1000 ether);
        committee.setParams(p);
        // Issue #12, finding 9: a zero lock would admit zero-weight verifiers.
        (p.jurorLock, p.nonRevealPenalty) = (0, 0);
        _expectBounds("jurorLock", 0, 0.01 ether, 1000 ether);
        committee.setParams(p);
        p.jurorLock = 0.01 ether - 1;
        _expectBounds("jurorLock", 0.01 ether - 1, 0.01 ether, 1000 ether);
        committee.setParams(p);
        p = _params();
        p.nonRevealPenalty = p.jurorLock + 1;
        _expectBounds("nonRevealPenalty", p.jurorLock + 1, 0, p.jurorLock);
        committee.setParams(p);
        // The edges themselves are accepted.
        p = _params();
        (p.jurors, p.fee, p.commitPeriod, p.revealPeriod) = (15, 10 ether, 60, 7 days);
        (p.jurorLock, p.nonRevealPenalty) = (1000 ether, 1000 ether);
        committee.setParams(p);
        vm.stopPrank();
    }

    function test_TheOtherEdgesAreAcceptedToo() public {
        IReexecutionCommittee.Params memory p = _params();
        (p.jurors, p.fee, p.commitPeriod, p.revealPeriod) = (1, 0, 7 days, 60);
        (p.jurorLock, p.nonRevealPenalty) = (0.01 ether, 0);
        vm.prank(owner);
        committee.setParams(p);
        assertEq(committee.params().jurorLock, 0.01 ether, "smallest juror lock");
        assertEq(committee.params().commitPeriod, 7 days, "longest commit period");
        assertEq(committee.params().revealPeriod, 60, "shortest reveal period");
        assertEq(committee.params().jurors, 1, "a single juror");
    }

    function test_AVerifierWhoseFreeStakeEqualsTheLockIsEligible() public {
        IReexecutionCommittee.Params memory p = _params();
        p.jurorLock = 2 ether; // exactly each verifier's stake
        vm.prank(owner);
        committee.setParams(p);
        (, address[] memory jurors) = _openAndDraw();
        assertEq(jurors.length, 3, "all three eligible verifiers drawn");
        for (uint256 i = 0; i < jurors.length; ++i) {
            assertEq(operators.lockedBy(jurors[i], address(committee)), 2 ether, "whole stake locked");
        }
        assertEq(rulings, 0, "no refusal");
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
