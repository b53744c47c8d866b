// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {DisputeDesk} from "../src/DisputeDesk.sol";
import {IArbitrator} from "../src/interfaces/IArbitration.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IDisputeDesk} from "../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {Splits} from "../src/libraries/Splits.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";
import {Vm} from "./utils/Vm.sol";

/// @notice The dispute desk's challenge pools (issue #12, findings 3 and 4): who challenged first changes
/// nothing the cheat loses or what an honest watcher earns; a right challenge pays at every job size under
/// disputes v2's bonds; every wei of a pool is accounted for.
contract DisputeDeskTest is CairnSystem {
    /// @dev Deploys in a call of its own, for `vm.expectRevert`: under the `mutate` profile's dynamic test linking a
    /// `new` is a `deployCode` cheatcode, and an expected revert of it ended the whole test as passed (Foundry
    /// 1.7.1), so every check after it went unrun and mutants only they catch survived.
    function newDesk(
        address owner_,
        IArbitrator arbitrator_,
        address operators_,
        IDisputeDesk.AuditParams memory audits
    ) external returns (DisputeDesk) {
        return new DisputeDesk(owner_, arbitrator_, operators_, audits);
    }

    uint256 internal constant PAY = 0.01 ether;
    uint256 internal constant FEE = 0.03 ether; // the committee's arbitration cost in this suite
    uint256 internal constant BOND = 0.05 ether; // the challenge bond
    address internal watcher = address(0x3A7C);
    address internal sybil = address(0x5B11);

    function setUp() public {
        setUpSystem();
        vm.deal(watcher, 100 ether);
        vm.deal(sybil, 100 ether);
    }

    /// A challenge's dispute may wait for seats as long as the operator's bond buys (`waitFor`): a 20 ETH bond 150
    /// days, not the shortest 30 (issue #12, finding 5: holding the pool exhausted until the expiry costs decoys in
    /// proportion to the wait, while the accused saves at most its bond).
    function test_AChallengeWaitsForSeatsAsLongAsTheBondBuys() public {
        IJobMarket.Params memory p = defaultParams();
        p.bondFloor = 20 ether;
        vm.prank(owner);
        market.setParams(p);
        vm.deal(ops[0], 20 ether);
        vm.prank(ops[0]);
        operators.addStake{value: 20 ether}();
        uint256 jobId = _submitted(PAY);
        assertEq(market.getProgress(jobId).bond, 20 ether, "the floor");
        uint256 disputeId = _challenge(watcher, jobId);
        assertEq(
            committee.expiresAt(disputeId), block.timestamp + 150 days, "five times WAIT_BOND: five times the wait"
        );
    }

    /*//////////////////////////////////////////////////////////////
                       FINDING 4: SELF-CHALLENGE
    //////////////////////////////////////////////////////////////*/

    /// The cheat front-runs with its own challenge from a second address; the honest watcher still joins, the
    /// whole bond is slashed, and each ticket is paid the same. v1: the watcher's challenge reverted, the cheat
    /// lost half its bond and the watcher earned nothing.
    function test_SelfChallengeFrontRunNeitherShieldsTheCheatNorShutsOutTheWatcher() public {
        _v2Bonds();
        uint256 jobId = _submitted(PAY);
        uint256 bond = market.getProgress(jobId).bond;
        assertEq(bond, 0.25 ether, "v2 floor");
        uint256 disputeId = _challenge(sybil, jobId); // the cheat's second address, first
        assertEq(desk.challengeCost(jobId), BOND, "joining costs the bond alone");
        vm.expectEmit(address(desk));
        emit IDisputeDesk.ChallengeJoined(jobId, watcher, BOND, 2);
        assertEq(_challenge(watcher, jobId), disputeId, "the same dispute");
        uint256 stakeBefore = operators.getOperator(ops[0]).stake;

        _runDispute(disputeId, [uint256(2), 2, 2]);

        // 0.25 slashed: 0.03 refunds the fee, half of the other 0.22 burned, 0.11 shared by two tickets.
        uint256 share = (bond - FEE) / 2 / 2;
        assertEq(operators.getOperator(ops[0]).stake, stakeBefore - bond, "the whole bond slashed");
        assertEq(desk.totalBurned(), (bond - FEE) / 2, "half the rest burned");
        assertEq(_cashOut(jobId, watcher), BOND + share, "the watcher: its bond + its share");
        uint256 sybilBack = _cashOut(jobId, sybil);
        assertEq(sybilBack, FEE + BOND + share, "the cheat's sybil: the fee back, its bond, its share");
        // The cheat (operator + sybil) paid bond + fee + challenge bond and got back fee + bond + share.
        uint256 cheatLoss = bond + FEE + BOND - sybilBack;
        assertEq(cheatLoss, bond - share, "the cheat loses its bond less one share");
        assertTrue(cheatLoss > 0.1 ether, "and that is most of it");
        assertEq(desk.challengePoolsHeld(), 0, "every ticket collected");
        assertEq(address(desk).balance, 0, "the desk keeps nothing");
        _assertMarketSolvent();
    }

    /*//////////////////////////////////////////////////////////////
                  FINDING 3: A RIGHT CHALLENGE PAYS
    //////////////////////////////////////////////////////////////*/

    /// Under v2's bonds a lone right challenge nets (1 − β)(B − A) at every job size the tables cover; v1 lost
    /// 0.02 ETH on a 0.1 ETH job (0.08 ETH up front against a 20% bond).
    function test_RightChallengePaysAtEveryJobSize() public {
        _v2Bonds();
        vm.deal(ops[0], 100 ether);
        vm.prank(ops[0]);
        operators.addStake{value: 60 ether}();
        uint256[5] memory sizes = [uint256(0.001 ether), 0.01 ether, 0.1 ether, 1 ether, 10 ether];
        for (uint256 i = 0; i < sizes.length; ++i) {
            uint256 jobId = _submitted(sizes[i]);
            uint256 bond = market.getProgress(jobId).bond;
            uint256 expectedBond = sizes[i] * 4 > 0.25 ether ? sizes[i] * 4 : 0.25 ether;
            assertEq(bond, expectedBond, "bond = max(floor, 4x)");
            uint256 paid = desk.challengeCost(jobId);
            uint256 disputeId = _challenge(watcher, jobId);
            _runDispute(disputeId, [uint256(2), 2, 2]);
            uint256 back = _cashOut(jobId, watcher);
            assertEq(back - paid, (bond - FEE) / 2, "nets half of (bond - fee)");
            assertTrue(back > paid + 0.1 ether, "a right challenge pays");
            assertTrue(market.balanceOf(buyer, address(0)) >= sizes[i], "the buyer refunded");
        }
        _assertMarketSolvent();
    }

    /// Under v2's 4× multiple the largest job is 25 ETH: a bond above MAX_BOND (100 ETH) secures nothing, so
    /// the request is refused and nothing moves.
    function test_AJobWhoseBondExceedsMaxBondIsRefused() public {
        _v2Bonds();
        vm.deal(buyer, 200 ether);
        (uint64 version, uint256 maxPrice) = _bounds(ethModel);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        uint256 tooMuch = 25 ether + 1;
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.JobTooLarge.selector, tooMuch, 4 * tooMuch, 100 ether));
        vm.prank(buyer);
        market.requestJob{value: tooMuch}(
            ethModel, version, INPUT, "bafyinput", address(0), tooMuch, maxPrice, deadline, 0
        );
        assertEq(market.escrowed(address(0)), 0, "nothing escrowed");
        vm.prank(buyer);
        uint256 jobId = market.requestJob{value: 25 ether}(
            ethModel, version, INPUT, "bafyinput", address(0), 25 ether, maxPrice, deadline, 0
        );
        assertEq(market.bondFor(address(0), 25 ether), 100 ether, "25 ETH needs exactly MAX_BOND");
        assertEq(market.getTerms(jobId).payment, 25 ether, "the largest job is accepted");
    }

    /*//////////////////////////////////////////////////////////////
                          RULINGS AND TICKETS
    //////////////////////////////////////////////////////////////*/

    /// Ruled acceptable: every ticket's bond is lost, half burned and half to the operator.
    function test_RulingAcceptableTakesEveryTicket() public {
        uint256 jobId = _submitted(PAY);
        uint256 disputeId = _challenge(challenger, jobId);
        _challenge(watcher, jobId);
        _challenge(sybil, jobId);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.PoolSettled(jobId, disputeId, 1, 0, 0, 3 * BOND / 2);
        vm.prank(address(committee));
        desk.rule(disputeId, 1);
        assertEq(desk.balanceOf(ops[0], address(0)), 3 * BOND / 2, "half of three bonds to the operator");
        assertEq(desk.totalBurned(), 3 * BOND / 2, "half burned");
        assertEq(desk.challengePoolsHeld(), 0, "nothing left for the tickets");
        assertTrue(desk.poolOf(jobId).ruled, "the pool is ruled");
        assertEq(desk.poolOf(jobId).ruling, 1, "and keeps its ruling for clients");
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.NothingToCollect.selector, jobId, watcher));
        desk.collect(jobId, watcher);
        assertTrue(market.getProgress(jobId).closeReason == IJobMarket.CloseReason.OperatorUpheld, "upheld");
        // A second wrong challenge adds its burn to the total.
        uint256 next = _submitted(PAY);
        uint256 second = _challenge(challenger, next);
        vm.prank(address(committee));
        desk.rule(second, 1);
        assertEq(desk.totalBurned(), 3 * BOND / 2 + BOND / 2, "the burns add up");
        _assertMarketSolvent();
    }

    /// Refused (e.g. a dispute that waited past MAX_WAIT): every ticket gets its bond back, once.
    function test_RulingRefusedReturnsEveryBondOnce() public {
        uint256 jobId = _submitted(PAY);
        uint256 disputeId = _challenge(challenger, jobId);
        _challenge(watcher, jobId);
        vm.recordLogs();
        vm.prank(address(committee));
        desk.rule(disputeId, 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IDisputeDesk.Burned.selector, "nothing burned, no Burned event");
        }
        assertEq(desk.challengePoolsHeld(), 2 * BOND, "both bonds owed");
        vm.expectEmit(address(desk));
        emit IDisputeDesk.ChallengerPaid(jobId, watcher, BOND);
        assertEq(desk.collect(jobId, watcher), BOND, "the bond back");
        assertEq(desk.challengePoolsHeld(), BOND, "the other bond still owed");
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.NothingToCollect.selector, jobId, watcher));
        desk.collect(jobId, watcher);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.NothingToCollect.selector, jobId, sybil));
        desk.collect(jobId, sybil); // never challenged
        desk.collect(jobId, challenger);
        assertEq(desk.balanceOf(challenger, address(0)), BOND, "the first gets its bond; the fee went to the committee");
        assertEq(market.balanceOf(buyer, address(0)), PAY, "buyer refunded");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "bond released");
        assertEq(desk.challengePoolsHeld(), 0, "nothing held");
    }

    /// Three tickets and a slash that does not divide by three: the dust goes to the first, every wei accounted.
    function test_PoolShareDustGoesToTheFirstAndEveryWeiIsAccounted() public {
        _v2Bonds();
        IJobMarket.Params memory p = market.params();
        p.bondFloor = 0.25 ether + 9; // kept = (bond - fee) - burned = 0.11 ETH + 5 wei, not a multiple of 3
        vm.prank(owner);
        market.setParams(p);
        uint256 jobId = _submitted(PAY);
        uint256 bond = market.getProgress(jobId).bond;
        uint256 disputeId = _challenge(challenger, jobId);
        _challenge(watcher, jobId);
        _challenge(sybil, jobId);
        vm.roll(block.number + 2);
        committee.draw(disputeId); // jurors drawn: the fee is spent on them, so the slash refunds it
        vm.prank(address(committee));
        desk.rule(disputeId, 2);
        uint256 burned = (bond - FEE) * 5000 / 10_000;
        uint256 kept = bond - FEE - burned;
        uint256 per = kept / 3;
        assertTrue(kept % 3 != 0, "there is dust");
        assertEq(desk.totalBurned(), burned, "burned");
        uint256 a = _cashOut(jobId, challenger);
        uint256 b = _cashOut(jobId, watcher);
        uint256 c = _cashOut(jobId, sybil);
        assertEq(a, FEE + BOND + per + kept % 3, "first: fee, bond, share, dust");
        assertEq(b, BOND + per, "the others: bond + share");
        assertEq(c, BOND + per, "the others: bond + share");
        assertEq(a + b + c + burned, bond + 3 * BOND, "the slashed bond and the three bonds, to the wei");
        assertEq(address(desk).balance, 0, "nothing stays in the desk");
    }

    /// Nobody draws: the seed and its one reseed lapse and the dispute is ruled 2 without jurors. The committee
    /// returns the unspent fee to the first challenger itself, so the desk does not refund it a second time out
    /// of the other tickets' share (a review found it did).
    function test_ALapsedDrawRefundsTheFeeOnce() public {
        _v2Bonds();
        uint256 jobId = _submitted(PAY);
        uint256 bond = market.getProgress(jobId).bond;
        uint256 disputeId = _challenge(challenger, jobId);
        _challenge(watcher, jobId);
        vm.roll(block.number + 300);
        committee.reseed(disputeId);
        vm.roll(block.number + 300);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.PoolSettled(jobId, disputeId, 2, BOND + bond / 2 / 2, 0, bond / 2);
        committee.draw(disputeId); // lapsed: ruled 2 without jurors
        assertEq(committee.balanceOf(challenger, address(0)), FEE, "the committee returned the unspent fee");
        uint256 first = _cashOut(jobId, challenger);
        uint256 joiner = _cashOut(jobId, watcher);
        assertEq(first, joiner, "no second refund: both tickets get bond + an equal share");
        assertEq(first + joiner + desk.totalBurned(), 2 * BOND + bond, "every wei of the slash and the bonds");
        assertEq(address(desk).balance, 0, "nothing stays in the desk");
    }

    /// Once a juror has revealed, the votes are public: the pool refuses joiners (who would only follow them).
    function test_NoJoiningAfterAVoteIsRevealed() public {
        uint256 jobId = _submitted(PAY);
        uint256 disputeId = _challenge(challenger, jobId);
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        assertTrue(committee.votesHidden(disputeId), "drawn, nothing revealed");
        _challenge(watcher, jobId); // still open while every vote is hidden
        address[] memory jurors = committee.jurorsOf(disputeId);
        bytes32 salt = keccak256("s");
        for (uint256 i = 0; i < jurors.length; ++i) {
            vm.prank(jurors[i]);
            committee.commit(disputeId, jurors[i], CairnTypedData.commitment(disputeId, 0, jurors[i], 2, salt));
        }
        vm.prank(jurors[0]);
        committee.reveal(disputeId, jurors[0], 2, salt);
        assertTrue(!committee.votesHidden(disputeId), "a vote is public");
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.VotesRevealed.selector, jobId, disputeId));
        vm.prank(sybil);
        desk.challenge{value: BOND}(jobId);
        assertEq(desk.poolOf(jobId).tickets, 2, "two tickets");
    }

    /// The pool split of ruling 2 for any amount, fee, burn rate and ticket count (halmos proves one and two
    /// tickets; division by a symbolic count is beyond its solver).
    function testFuzz_ChallengePoolConservesTheSlash(uint128 slashed, uint128 fee, uint16 burnBps, uint64 tickets)
        public
        pure
    {
        burnBps = uint16(bound(burnBps, 0, 10_000));
        tickets = uint64(bound(tickets, 1, type(uint64).max));
        (uint256 refund, uint256 burned, uint256 perTicket, uint256 dust) =
            Splits.challengePool(slashed, fee, burnBps, tickets);
        assertEq(refund + burned + perTicket * tickets + dust, slashed, "every wei of the slash");
        assertTrue(refund <= fee && dust < tickets, "refund within the fee, dust below a wei per ticket");
    }

    /*//////////////////////////////////////////////////////////////
                              BAD INPUT
    //////////////////////////////////////////////////////////////*/

    function test_JoinRules() public {
        uint256 jobId = _submitted(PAY);
        uint64 ends = market.getProgress(jobId).challengeEnds;
        assertEq(desk.challengeCost(jobId), BOND + FEE, "opening costs bond + fee");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, BOND + FEE, BOND));
        vm.prank(challenger);
        desk.challenge{value: BOND}(jobId);
        uint256 disputeId = _challenge(challenger, jobId);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.AlreadyChallenger.selector, jobId, challenger));
        vm.prank(challenger);
        desk.challenge{value: BOND}(jobId);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, BOND, BOND + FEE));
        vm.prank(watcher);
        desk.challenge{value: BOND + FEE}(jobId);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, BOND, BOND - 1));
        vm.prank(watcher);
        desk.challenge{value: BOND - 1}(jobId); // short by a wei
        vm.warp(ends);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.ChallengeWindowClosed.selector, jobId, ends, ends));
        vm.prank(watcher);
        desk.challenge{value: BOND}(jobId);
        vm.warp(ends - 1);
        vm.prank(address(committee));
        desk.rule(disputeId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.NotChallengeable.selector, jobId, IJobMarket.JobState.Resolved)
        );
        vm.prank(watcher);
        desk.challenge{value: BOND}(jobId); // ruled: the pool is closed even inside the window
        assertEq(desk.poolOf(jobId).tickets, 1, "one ticket");
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownJob.selector, 99));
        desk.submitEvidence(99, "ipfs://x");
    }

    function test_WiringAndSenders() public {
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "arbitrator"));
        this.newDesk(owner, IArbitrator(address(0)), address(operators), IDisputeDesk.AuditParams(0, 0));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "operators"));
        this.newDesk(owner, committee, address(0), IDisputeDesk.AuditParams(0, 0));
        // The constructor's audit parameters are checked and applied (with their event) like `setAuditParams`'s.
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "safetyBps", 50_001, 0, 50_000)
        );
        this.newDesk(owner, committee, address(operators), IDisputeDesk.AuditParams(50_001, 0));
        vm.expectEmit();
        emit IDisputeDesk.AuditParamsUpdated(IDisputeDesk.AuditParams(12_500, 100));
        DisputeDesk audited = this.newDesk(owner, committee, address(operators), IDisputeDesk.AuditParams(12_500, 100));
        (uint16 safetyBps, uint16 minRateBps) = audited.auditParams();
        assertEq(safetyBps, 12_500, "constructor's safety factor");
        assertEq(minRateBps, 100, "constructor's minimum rate");
        DisputeDesk fresh = new DisputeDesk(owner, committee, address(operators), IDisputeDesk.AuditParams(0, 0));
        vm.expectRevert(IDisputeDesk.MarketNotSet.selector);
        fresh.challenge(1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        fresh.setMarket(market);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "market"));
        vm.prank(owner);
        fresh.setMarket(IJobMarket(address(0)));
        vm.expectEmit(address(fresh));
        emit IDisputeDesk.MarketSet(address(market));
        vm.prank(owner);
        fresh.setMarket(market);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.MarketAlreadySet.selector, address(market)));
        vm.prank(owner);
        fresh.setMarket(IJobMarket(address(1)));
        (bool ok, bytes memory ret) = address(desk).call{value: 1}("");
        assertTrue(!ok, "plain ETH refused");
        assertEq(ret, abi.encodeWithSelector(ICairnCommon.UnexpectedSender.selector, address(this)), "named sender");
        assertEq(desk.interfaceVersion(), 6, "interface v6");
    }
}
