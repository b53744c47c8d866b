// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice Canaries (issue #12, "Jurors pay for being wrong, absent or lazy"; docs/ARCHITECTURE.md): the treasury's
/// canary key commits to a dispute's known answer before its jury can be known and reveals it once the votes are
/// bound; at the final ruling the seats are judged against the answer, so "always acceptable" (or "always not
/// acceptable") voting pays the coherence penalty on every canary it gets wrong, even where lazy jurors are the
/// majority. The answer moves no job money: the arbitrable gets the votes' ruling as for any dispute, so a
/// corrupted key can cost a seat at most the coherence penalty.
contract CanariesTest is CairnSystem {
    uint256 internal constant PAY = 0.01 ether;
    uint256 internal constant FEE = 0.03 ether;
    uint256 internal constant KEEPER = 0.001 ether;
    uint256 internal constant COHERENCE = 0.05 ether;
    address internal canaryKey = address(0xCA7A);
    address internal watcher = address(0x3A7C);
    bytes32 internal constant SALT = keccak256("canary salt");

    function setUp() public {
        setUpSystem();
        _oneSeatEach();
        vm.prank(owner);
        committee.setCanaryKey(canaryKey);
        vm.deal(watcher, 100 ether);
    }

    /// @dev A submitted job, challenged by the watcher: the dispute (seed block: the next block).
    function _dispute() internal returns (uint256 jobId, uint256 disputeId) {
        jobId = _requestEth(PAY);
        _claimAndSubmit(jobId, 0);
        uint256 cost = desk.challengeCost(jobId);
        vm.prank(watcher);
        disputeId = desk.challenge{value: cost}(jobId);
    }

    function _register(uint256 disputeId, uint256 answer) internal {
        bytes32 commitment = keccak256(abi.encode(disputeId, answer, SALT));
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.CanaryRegistered(commitment);
        vm.prank(canaryKey);
        committee.registerCanary(commitment);
    }

    /// @dev Draws, has the first `n` seats commit `votes`, and returns the jurors and the commit deadline.
    function _drawAndCommitFirst(uint256 disputeId, uint256[3] memory votes, uint256 n)
        internal
        returns (address[] memory jurors, uint64 commitDeadline)
    {
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        jurors = committee.jurorsOf(disputeId);
        for (uint256 i = 0; i < n; ++i) {
            vm.prank(jurors[i]);
            committee.commit(
                disputeId, jurors[i], CairnTypedData.commitment(disputeId, 0, jurors[i], votes[i], _salt(i))
            );
        }
        (,, commitDeadline,,,,,) = committee.disputeInfo(disputeId);
    }

    /// @dev Draws, commits `votes`, moves to the commit deadline (the votes are bound) and returns the jurors.
    function _drawAndCommit(uint256 disputeId, uint256[3] memory votes) internal returns (address[] memory jurors) {
        uint64 commitDeadline;
        (jurors, commitDeadline) = _drawAndCommitFirst(disputeId, votes, 3);
        vm.warp(commitDeadline);
    }

    function _reveal(uint256 disputeId, address[] memory jurors, uint256[3] memory votes) internal {
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(jurors[i]);
            committee.reveal(disputeId, jurors[i], votes[i], _salt(i));
        }
    }

    function _revealAndResolve(uint256 disputeId, address[] memory jurors, uint256[3] memory votes) internal {
        _reveal(disputeId, jurors, votes);
        committee.resolve(disputeId);
    }

    /// @dev A canary of `answer` on a new dispute, registered by its seed block, revealed once `votes` are
    /// committed; the jurors reveal and the round is resolved. Returns the jurors.
    function _canaryRound(uint256 answer, uint256[3] memory votes) internal returns (address[] memory jurors) {
        (, uint256 disputeId) = _dispute();
        _register(disputeId, answer);
        jurors = _drawAndCommit(disputeId, votes);
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, answer, SALT);
        _revealAndResolve(disputeId, jurors, votes);
    }

    function _salt(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("juror salt", i));
    }

    /// A bad canary (known answer 2) where two of three jurors vote "acceptable" without re-running: the votes rule
    /// 1 and the job settles as upheld (the treasury's own job: its money moves as the votes say), but the two lazy
    /// seats pay the coherence penalty and the one juror who re-ran takes the whole pot.
    function test_LazyJurorsPayOnABadCanaryEvenAsTheMajority() public {
        (uint256 jobId, uint256 disputeId) = _dispute();
        _register(disputeId, 2);
        uint256[3] memory votes = [uint256(1), 1, 2];
        address[] memory jurors = _drawAndCommit(disputeId, votes);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.CanaryRevealed(disputeId, 2);
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 2, SALT);
        assertEq(committee.canaryAnswer(disputeId), 2, "revealed");

        _reveal(disputeId, jurors, votes);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.DisputeRuled(disputeId, 1, 2, 1, 0);
        committee.resolve(disputeId);

        assertEq(
            uint8(market.getProgress(jobId).closeReason),
            uint8(IJobMarket.CloseReason.OperatorUpheld),
            "the job settles on the votes' ruling"
        );
        uint256 seat = pool.seatSize();
        for (uint256 i = 0; i < 2; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).stake, seat - COHERENCE, "a lazy seat pays psi");
            assertEq(committee.balanceOf(jurors[i], address(0)), 0, "and is paid nothing");
        }
        assertEq(pool.jurorInfo(jurors[2]).stake, seat, "the juror who re-ran keeps its stake");
        assertEq(
            committee.balanceOf(jurors[2], address(0)),
            FEE - KEEPER + 2 * COHERENCE,
            "and takes the fee and both penalties"
        );
        assertEq(committee.feesHeld(), 0, "every wei of the pot paid out");
        _assertMarketSolvent();
    }

    /// A good canary (known answer 1) with an honest jury: nobody pays, the seats share the fee as in any dispute.
    function test_AnHonestJuryOnAGoodCanaryIsPaidAsUsual() public {
        address[] memory jurors = _canaryRound(1, [uint256(1), 1, 1]);
        uint256 paid = 0;
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).stake, pool.seatSize(), "nobody pays");
            paid += committee.balanceOf(jurors[i], address(0));
        }
        assertEq(paid, FEE - KEEPER, "the fee less the keeper reward, shared");
    }

    /// "Always not acceptable" pays on a good canary.
    function test_AlwaysNotAcceptablePaysOnAGoodCanary() public {
        address[] memory jurors = _canaryRound(1, [uint256(2), 1, 1]);
        assertEq(pool.jurorInfo(jurors[0]).stake, pool.seatSize() - COHERENCE, "the contrarian pays psi");
    }

    /// The commitment must land by the seed block: registered once the jury could be known, it is refused, and
    /// the dispute stays an ordinary one (seats judged against the ruling).
    function test_RevertWhen_TheCanaryWasRegisteredAfterTheSeed() public {
        (, uint256 disputeId) = _dispute();
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(disputeId);
        uint256[3] memory votes = [uint256(1), 1, 2];
        address[] memory jurors = _drawAndCommit(disputeId, votes);
        _register(disputeId, 2);
        vm.prank(canaryKey);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.CanaryRefused.selector, disputeId, block.number, seedBlock)
        );
        committee.revealCanary(disputeId, 2, SALT);
        _revealAndResolve(disputeId, jurors, votes);
        assertEq(pool.jurorInfo(jurors[2]).stake, pool.seatSize() - COHERENCE, "judged against the ruling (1)");
    }

    /// What the key cannot do: reveal before the votes are bound, another answer or salt than it registered, an
    /// answer outside 1 to 3; nobody else registers or reveals; zero and repeated commitments are refused.
    function test_RevertWhen_TheCanaryIsRevealedOutsideItsRules() public {
        (, uint256 disputeId) = _dispute();
        _register(disputeId, 2);
        vm.prank(canaryKey);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadCanaryCommitment.selector, bytes32(0)));
        committee.registerCanary(bytes32(0));
        bytes32 registered = keccak256(abi.encode(disputeId, uint256(2), SALT));
        vm.prank(canaryKey);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.BadCanaryCommitment.selector, registered));
        committee.registerCanary(registered);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotCanaryKey.selector, watcher));
        committee.registerCanary(keccak256("x"));

        vm.roll(block.number + 2);
        committee.draw(disputeId);
        (, uint64 seedBlock, uint64 commitDeadline,,,,,) = committee.disputeInfo(disputeId);
        vm.prank(canaryKey);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, disputeId, commitDeadline, block.timestamp
            )
        );
        committee.revealCanary(disputeId, 2, SALT);
        vm.warp(commitDeadline);
        vm.prank(canaryKey);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.CanaryRefused.selector, disputeId, 0, seedBlock));
        committee.revealCanary(disputeId, 1, SALT);
        vm.prank(canaryKey);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.CanaryRefused.selector, disputeId, 0, seedBlock));
        committee.revealCanary(disputeId, 2, keccak256("another salt"));
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotCanaryKey.selector, watcher));
        committee.revealCanary(disputeId, 2, SALT);
        // An answer outside the choices, even when registered.
        _register(disputeId, 4);
        vm.prank(canaryKey);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.CanaryRefused.selector, disputeId, block.number, seedBlock)
        );
        committee.revealCanary(disputeId, 4, SALT);
        assertEq(committee.canaryAnswer(disputeId), 0, "nothing revealed");
    }

    /// The votes are bound as soon as every seat committed: the key may reveal then, before the commit deadline.
    function test_TheKeyRevealsOnceEverySeatCommittedBeforeTheDeadline() public {
        (, uint256 disputeId) = _dispute();
        _register(disputeId, 2);
        (, uint64 commitDeadline) = _drawAndCommitFirst(disputeId, [uint256(2), 2, 2], 3);
        assertTrue(block.timestamp < commitDeadline, "before the commit deadline");
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 2, SALT);
        assertEq(committee.canaryAnswer(disputeId), 2, "revealed once the votes are bound");
    }

    /// Past the commit deadline the votes are bound even with a seat that never committed: the key may reveal.
    function test_TheKeyRevealsPastTheCommitDeadlineWithASeatUncommitted() public {
        (, uint256 disputeId) = _dispute();
        _register(disputeId, 1);
        (, uint64 commitDeadline) = _drawAndCommitFirst(disputeId, [uint256(1), 1, 1], 2);
        vm.warp(uint256(commitDeadline) + 1 minutes);
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 1, SALT);
        assertEq(committee.canaryAnswer(disputeId), 1, "revealed with one seat uncommitted");
    }

    /// One reveal per dispute, before the final ruling: the key cannot swap the answer once votes are public, nor
    /// reveal once the ruling is final; once revealed, the votes are no longer hidden to joiners.
    function test_RevertWhen_TheCanaryIsRevealedTwiceOrLate() public {
        (, uint256 disputeId) = _dispute();
        _register(disputeId, 2);
        _register(disputeId, 3);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(disputeId);
        uint256 registeredAt = block.number;
        address[] memory jurors = _drawAndCommit(disputeId, [uint256(2), 2, 2]);
        assertTrue(committee.votesHidden(disputeId), "hidden before the reveal");
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 2, SALT);
        assertTrue(!committee.votesHidden(disputeId), "a revealed canary is no longer hidden to joiners");
        vm.prank(canaryKey);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.CanaryRefused.selector, disputeId, registeredAt, seedBlock)
        );
        committee.revealCanary(disputeId, 3, SALT);
        _reveal(disputeId, jurors, [uint256(2), 2, 2]);
        assertEq(committee.canaryAnswer(disputeId), 2, "the first answer stands");
        committee.resolve(disputeId); // its seats back in the draw

        // Late: once the ruling is final nothing is revealed any more.
        (, uint256 other) = _dispute();
        _register(other, 1);
        address[] memory others = _drawAndCommit(other, [uint256(1), 1, 1]);
        _revealAndResolve(other, others, [uint256(1), 1, 1]);
        vm.prank(canaryKey);
        vm.expectRevert(
            abi.encodeWithSelector(IReexecutionCommittee.WrongPhase.selector, other, IReexecutionCommittee.Phase.Ruled)
        );
        committee.revealCanary(other, 1, SALT);
        assertEq(committee.canaryAnswer(other), 0, "nothing revealed");
    }

    /// A jury that commits, reveals and resolves in the block its votes are bound (three lazy "acceptable" votes on a
    /// bad canary, one bundle) does not shut the key out: the round is appealable, the key reveals then, and once the
    /// appeal period passes unappealed the lazy seats pay the coherence penalty.
    function test_TheKeyRevealsWhileTheFirstRoundIsAppealable() public {
        IReexecutionCommittee.Params memory p = committee.params();
        p.appealPeriod = 1 hours;
        vm.prank(owner);
        committee.setParams(p);
        (, uint256 disputeId) = _dispute();
        _register(disputeId, 2);
        uint256[3] memory votes = [uint256(1), 1, 1];
        address[] memory jurors = _drawAndCommit(disputeId, votes);
        _revealAndResolve(disputeId, jurors, votes);
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(disputeId);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Appealable), "ruled 1, appealable");
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 2, SALT);
        assertEq(committee.canaryAnswer(disputeId), 2, "revealed while appealable");
        vm.warp(block.timestamp + 1 hours);
        committee.resolve(disputeId);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(pool.jurorInfo(jurors[i]).stake, pool.seatSize() - COHERENCE, "a lazy seat pays psi");
        }
    }

    /// Every seat silent past the reveal deadline: the key may still reveal before the round is resolved (the
    /// resolution then redraws, which voids the canary).
    function test_TheKeyRevealsPastTheRevealDeadlineBeforeTheResolution() public {
        (, uint256 other) = _dispute();
        _register(other, 1);
        _drawAndCommit(other, [uint256(1), 1, 1]);
        (,,, uint64 revealDeadline,,,,) = committee.disputeInfo(other);
        vm.warp(revealDeadline);
        vm.prank(canaryKey);
        committee.revealCanary(other, 1, SALT);
        assertEq(committee.canaryAnswer(other), 1, "revealed past the reveal deadline, before the resolution");
    }

    /// A redraw after the reveal seats a juror who knew the answer: the canary is void, every seat is judged against
    /// the ruling (so the key's answer never reaches a juror who could follow it).
    function test_ARedrawAfterTheRevealVoidsTheCanary() public {
        (, uint256 disputeId) = _dispute();
        _register(disputeId, 1);
        uint256[3] memory votes = [uint256(2), 1, 1];
        address[] memory jurors = _drawAndCommit(disputeId, votes);
        vm.prank(canaryKey);
        committee.revealCanary(disputeId, 1, SALT);
        // Jurors 0 and 1 reveal (1 : 1), juror 2 stays silent: its seat is redrawn.
        vm.prank(jurors[0]);
        committee.reveal(disputeId, jurors[0], 2, _salt(0));
        vm.prank(jurors[1]);
        committee.reveal(disputeId, jurors[1], 1, _salt(1));
        (,,, uint64 revealDeadline,,,,) = committee.disputeInfo(disputeId);
        vm.warp(revealDeadline);
        committee.resolve(disputeId);
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        address[] memory all = committee.jurorsOf(disputeId);
        address seated = all[all.length - 1];
        bytes32 commitment = CairnTypedData.commitment(disputeId, 0, seated, 2, _salt(9));
        vm.prank(seated);
        committee.commit(disputeId, seated, commitment);
        (,, uint64 commitDeadline, uint64 revealEnd,,,,) = committee.disputeInfo(disputeId);
        vm.warp(commitDeadline);
        vm.prank(seated);
        committee.reveal(disputeId, seated, 2, _salt(9));
        vm.warp(revealEnd);
        committee.resolve(disputeId);
        // Ruled 2 by the votes; judged against the ruling, not the canary's 1: juror 1 pays, juror 0 does not.
        uint256 seat = pool.seatSize();
        assertEq(pool.jurorInfo(jurors[1]).stake, seat - COHERENCE, "against the ruling: psi");
        assertEq(pool.jurorInfo(jurors[0]).stake, seat, "with the ruling: nothing");
    }

    /// Governance only sets the key; address(0) turns canaries off.
    function test_OnlyGovernanceSetsTheCanaryKey() public {
        vm.prank(watcher);
        vm.expectRevert();
        committee.setCanaryKey(watcher);
        vm.prank(owner);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.CanaryKeySet(address(0));
        committee.setCanaryKey(address(0));
        vm.prank(canaryKey);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotCanaryKey.selector, canaryKey));
        committee.registerCanary(keccak256("x"));
    }
}
