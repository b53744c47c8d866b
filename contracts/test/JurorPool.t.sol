// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {JurorPool} from "../src/JurorPool.sol";
import {OperatorRegistry} from "../src/OperatorRegistry.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IJurorPool} from "../src/interfaces/IJurorPool.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {Test} from "./utils/Test.sol";
import {EthRefuser} from "./utils/mocks/Wallets.sol";

/// @notice The juror pool on its own, with this test contract as its committee (it answers `awaitingDraw`):
/// deposits and maturity, the freeze while a draw is pending, seats as whole multiples of seatSize,
/// withdrawals that stay lockable until applied, draws with replacement and exclusions, settlement from the
/// released seats only, governance, and the ETH it holds to the wei.
contract JurorPoolTest is Test {
    /// @dev Deploys in a call of its own, for `vm.expectRevert`: under the `mutate` profile's dynamic test linking a
    /// `new` is a `deployCode` cheatcode, and an expected revert of it ended the whole test as passed (Foundry
    /// 1.7.1), so every check after it went unrun and mutants only they catch survived.
    function newJurorPool(address owner_, IOperatorRegistry operators_, uint256 seat, uint64 maturity_, uint64 delay)
        external
        returns (JurorPool)
    {
        return new JurorPool(owner_, operators_, seat, maturity_, delay);
    }

    OperatorRegistry internal operators;
    JurorPool public pool;
    address internal owner = address(0xA11CE);
    address internal a = address(0x1A);
    address internal b = address(0x1B);
    address internal c = address(0x1C);
    address internal stranger = address(0x5757);

    uint256 internal constant SEAT = 0.5 ether;
    uint64 internal constant MATURITY = 2 hours;
    uint64 internal constant DELAY = 1 days;

    /// @dev Disputes this "committee" says await their draw.
    uint256 public awaitingDraw;

    function setUp() public {
        vm.warp(1_800_000_000);
        operators = new OperatorRegistry(owner, 1 ether, 1 days);
        pool = new JurorPool(owner, operators, SEAT, MATURITY, DELAY);
        vm.prank(owner);
        pool.setCommittee(IReexecutionCommittee(address(this)));
        address[3] memory who = [a, b, c];
        for (uint256 i = 0; i < 3; ++i) {
            vm.deal(who[i], 100 ether);
            vm.prank(who[i]);
            operators.register{value: 1 ether}(who[i], 0, bytes32(0), bytes32(0), "");
        }
        vm.deal(stranger, 10 ether);
    }

    /// @dev Accepts slashes sent to this committee.
    receive() external payable {}

    function _join(address who, uint256 amount) internal {
        vm.prank(who);
        pool.deposit{value: amount}();
        vm.warp(block.timestamp + MATURITY);
        assertTrue(pool.sync(who), "synced");
    }

    function _assertHeld() internal view {
        assertEq(address(pool).balance, pool.totalHeld(), "held = owed");
    }

    /*//////////////////////////////////////////////////////////////
                             DEPOSIT, MATURITY
    //////////////////////////////////////////////////////////////*/

    function test_ADepositEntersTheTreeOnlyAfterMaturityInWholeSeats() public {
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorDeposited(a, 1.3 ether, 1.3 ether, uint64(block.timestamp) + MATURITY);
        // The deposit syncs the juror at once (nothing mature yet: no seat).
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorSynced(a, 0, 0, 0, 1.3 ether, 0, 0, 0);
        vm.prank(a);
        pool.deposit{value: 1.3 ether}();
        assertEq(pool.seatsOf(a), 0, "not yet mature");
        vm.warp(block.timestamp + MATURITY - 1);
        pool.sync(a);
        assertEq(pool.seatsOf(a), 0, "one second short");
        assertEq(pool.jurorInfo(a).pendingDeposit, 1.3 ether, "still pending");
        vm.warp(block.timestamp + 1);
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorSynced(a, 1.3 ether, 0, 2, 0, 0, 0, 0);
        pool.sync(a);
        assertEq(pool.seatsOf(a), 2, "1.3 ETH = two whole seats of 0.5");
        assertEq(pool.freeSeats(), 2, "capacity");
        assertEq(pool.jurorCount(), 1, "one juror");
        assertEq(pool.jurorInfo(a).depositedAt, block.timestamp - MATURITY, "the deposit's own time");
        _assertHeld();
    }

    /// @dev A new deposit restarts the clock of the whole pending lot (never lets young stake in early).
    function test_ATopUpRestartsThePendingLot() public {
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        vm.warp(block.timestamp + MATURITY - 10);
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        vm.warp(block.timestamp + 10);
        pool.sync(a);
        assertEq(pool.seatsOf(a), 0, "the lot is as young as its last deposit");
        vm.warp(block.timestamp + MATURITY);
        pool.sync(a);
        assertEq(pool.seatsOf(a), 4, "both deposits in");
    }

    /// @dev A lot that has matured joins the stake before a top-up restarts the pending clock, even when nobody
    /// synced it in between: only the new amount waits again.
    function test_ATopUpKeepsAMaturedLot() public {
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        uint256 first = block.timestamp;
        vm.warp(block.timestamp + MATURITY + 5);
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorDeposited(a, 0.6 ether, 0.6 ether, uint64(block.timestamp) + MATURITY);
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorSynced(a, 1 ether, 0, 2, 0.6 ether, 0, 0, 0);
        vm.prank(a);
        pool.deposit{value: 0.6 ether}();
        assertEq(pool.seatsOf(a), 2, "the matured ether sits at once");
        assertEq(pool.jurorInfo(a).stake, 1 ether, "stake: the matured lot");
        assertEq(pool.jurorInfo(a).pendingDeposit, 0.6 ether, "pending: the top-up");
        assertEq(pool.jurorInfo(a).depositedAt, first, "the matured lot's own time");
        vm.warp(block.timestamp + MATURITY);
        pool.sync(a);
        assertEq(pool.seatsOf(a), 3, "1.6 ETH once the top-up matures");
        _assertHeld();
    }

    /// @dev With maturity 0 a deposit sits at once, as before (the matured-lot path must not delay it).
    function test_WithNoMaturityADepositSitsAtOnce() public {
        vm.prank(owner);
        pool.setMaturity(0);
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        assertEq(pool.seatsOf(a), 2, "two seats at once");
        assertEq(pool.jurorInfo(a).pendingDeposit, 0, "nothing pending");
    }

    /// @dev While a draw awaits its seed no stake moves: a top-up restarts a lot that has not matured, and is
    /// refused (changing nothing) when the lot has, so the matured lot keeps its age.
    function test_ATopUpDuringAPendingDraw() public {
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        awaitingDraw = 1;
        vm.warp(block.timestamp + MATURITY - 10);
        vm.prank(a);
        pool.deposit{value: 0.2 ether}();
        assertEq(pool.jurorInfo(a).pendingDeposit, 1.2 ether, "an immature lot takes the top-up and restarts");
        vm.warp(block.timestamp + MATURITY);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.Frozen.selector, 1));
        pool.deposit{value: 0.6 ether}();
        assertEq(pool.jurorInfo(a).pendingDeposit, 1.2 ether, "nothing changed");
        assertEq(pool.jurorInfo(a).stake, 0, "no stake moves while a draw waits");
        awaitingDraw = 0;
        vm.prank(a);
        pool.deposit{value: 0.6 ether}();
        assertEq(pool.jurorInfo(a).stake, 1.2 ether, "after the draw the matured lot joins");
        assertEq(pool.seatsOf(a), 2, "two whole seats");
        assertEq(pool.jurorInfo(a).pendingDeposit, 0.6 ether, "the top-up waits");
        _assertHeld();
    }

    function test_RevertWhen_DepositByAStrangerOrOfZero() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NotRegisteredOperator.selector, stranger));
        pool.deposit{value: 1 ether}();
        vm.prank(a);
        vm.expectRevert(IJurorPool.ZeroAmount.selector);
        pool.deposit{value: 0}();
        assertEq(pool.totalHeld(), 0, "nothing held");
    }

    /// @dev Issue #12, finding 6: no cap on the number of jurors, and splitting stake gains no seat.
    function test_ManyJurorsAndSplittingGainsNothing() public {
        for (uint256 i = 0; i < 300; ++i) {
            address j = address(uint160(0x10000 + i));
            vm.deal(j, 2 ether);
            vm.startPrank(j);
            operators.register{value: 1 ether}(j, 0, bytes32(0), bytes32(0), "");
            pool.deposit{value: 0.95 ether}();
            vm.stopPrank();
        }
        vm.prank(a);
        pool.deposit{value: 1.9 ether}();
        vm.warp(block.timestamp + MATURITY);
        for (uint256 i = 0; i < 300; ++i) {
            pool.sync(address(uint160(0x10000 + i)));
        }
        pool.sync(a);
        assertEq(pool.jurorCount(), 301, "no cap");
        assertEq(pool.seatsOf(a), 3, "1.9 ETH in one address: 3 seats");
        assertEq(pool.seatsOf(address(0x10000)), 1, "0.95 ETH: 1 seat, so two such addresses hold 2 < 3");
    }

    /*//////////////////////////////////////////////////////////////
                                 FREEZE
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue #12, finding 2: while a dispute awaits its draw no change reaches the tree (deposit,
    /// withdrawal, released seats), and governance cannot change who may sit.
    function test_NothingMovesTheTreeWhileADrawIsPending() public {
        _join(a, 1 ether);
        _join(b, 1 ether);
        awaitingDraw = 1;
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        vm.warp(block.timestamp + MATURITY);
        assertTrue(!pool.sync(a), "frozen");
        vm.prank(b);
        pool.requestWithdrawal(1 ether);
        assertEq(pool.seatsOf(a), 2, "a's deposit waits");
        assertEq(pool.seatsOf(b), 2, "b's withdrawal waits, still lockable");
        assertEq(pool.freeSeats(), 4, "the tree as it was");
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.Frozen.selector, 1));
        pool.setMaturity(0);
        // b's seats can still be drawn and locked while its withdrawal waits.
        address[] memory seats =
            pool.drawSeats(1, keccak256("seed"), 4, address(0), address(0), uint64(block.timestamp));
        assertEq(seats.length, 4, "four seats");
        assertEq(pool.jurorInfo(b).locked, 1 ether, "b's seats locked");
        awaitingDraw = 0;
        pool.sync(b);
        assertEq(pool.jurorInfo(b).unbonding, 0, "locked stake does not leave");
        assertEq(pool.jurorInfo(b).withdrawalRequested, 1 ether, "still asked");
        assertEq(pool.seatsOf(b), 0, "no new seats while leaving");
        pool.settle(b, 1 ether, 0, address(0));
        pool.sync(b);
        assertEq(pool.jurorInfo(b).unbonding, 1 ether, "released stake leaves");
        assertEq(pool.jurorInfo(b).stake, 0, "nothing left");
        pool.sync(a);
        assertEq(pool.seatsOf(a), 2, "a's two new seats; its two old ones still locked");
        _assertHeld();
    }

    /*//////////////////////////////////////////////////////////////
                               WITHDRAWAL
    //////////////////////////////////////////////////////////////*/

    function test_WithdrawalTakesPendingFirstThenWaitsForTheDelay() public {
        _join(a, 1 ether);
        vm.prank(a);
        pool.deposit{value: 0.4 ether}();
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorWithdrawalRequested(a, 0.9 ether, 0, 0.5 ether, 0.4 ether, uint64(block.timestamp) + DELAY);
        vm.prank(a);
        pool.requestWithdrawal(0.9 ether); // 0.4 pending leaves at once, 0.5 from the stake at the sync
        IJurorPool.Juror memory j = pool.jurorInfo(a);
        assertEq(j.pendingDeposit, 0, "pending taken first");
        assertEq(j.stake, 0.5 ether, "applied at once (not frozen)");
        assertEq(j.unbonding, 0.9 ether, "both parts unbonding");
        assertEq(pool.seatsOf(a), 1, "one seat left");
        vm.prank(a);
        vm.expectRevert(
            abi.encodeWithSelector(IJurorPool.UnbondingNotReady.selector, a, j.unbondingEnds, block.timestamp)
        );
        pool.withdrawUnbonded();
        vm.warp(j.unbondingEnds);
        uint256 before = a.balance;
        vm.expectEmit(address(pool));
        emit IJurorPool.JurorWithdrawn(a, 0.9 ether);
        vm.prank(a);
        pool.withdrawUnbonded();
        assertEq(a.balance, before + 0.9 ether, "paid");
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NothingUnbonding.selector, a));
        pool.withdrawUnbonded();
        _assertHeld();
    }

    /// @dev `a` joins with 1 ETH (during a draw awaiting its seed when `duringDraw`), asks for 0.3 ETH, and is
    /// refused 0.7 ETH + 1 wei: what is already asked for counts, whether it left the stake at once or waits as
    /// requested.
    function _askTooMuchAfterAsking(bool duringDraw) internal {
        _join(a, 1 ether);
        if (duringDraw) awaitingDraw = 1;
        vm.prank(a);
        pool.requestWithdrawal(0.3 ether);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.WithdrawalTooLarge.selector, a, 0.7 ether, 0.7 ether + 1));
        pool.requestWithdrawal(0.7 ether + 1);
    }

    function test_RevertWhen_WithdrawingMoreThanHeldOrZero() public {
        _askTooMuchAfterAsking(false);
        vm.prank(a);
        vm.expectRevert(IJurorPool.ZeroAmount.selector);
        pool.requestWithdrawal(0);
    }

    /// While a draw awaits its seed a withdrawal only waits as requested, and what is requested counts against
    /// what can be asked next (a mutation survivor: `- withdrawalRequested` to `+`).
    function test_RevertWhen_AskingAgainForWhatIsAlreadyRequestedDuringADraw() public {
        _askTooMuchAfterAsking(true);
        vm.prank(a);
        pool.requestWithdrawal(0.7 ether); // exactly what is left
        assertEq(pool.jurorInfo(a).withdrawalRequested, 1 ether, "both requests add up");
        awaitingDraw = 0;
    }

    /// A withdrawal smaller than the pending deposit takes only its amount out of it (survivors: `-=` to `%=`,
    /// `^=`, `<<=`, `>>=`, equal to it when the whole lot leaves).
    function test_APartialWithdrawalLeavesTheRestPending() public {
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        vm.prank(a);
        pool.requestWithdrawal(0.3 ether);
        assertEq(pool.jurorInfo(a).pendingDeposit, 0.7 ether, "the rest still pending");
    }

    /// Setting the committee is announced.
    function test_SettingTheCommitteeIsAnnounced() public {
        JurorPool fresh = new JurorPool(owner, operators, SEAT, MATURITY, DELAY);
        SelfPool other = new SelfPool(fresh);
        vm.expectEmit(address(fresh));
        emit IJurorPool.CommitteeSet(address(other));
        vm.prank(owner);
        fresh.setCommittee(IReexecutionCommittee(address(other)));
    }

    /*//////////////////////////////////////////////////////////////
                                  DRAW
    //////////////////////////////////////////////////////////////*/

    function test_DrawLocksOneSeatPerPickAndSkipsTheParties() public {
        _join(a, 5 ether);
        _join(b, 0.5 ether);
        _join(c, 0.5 ether);
        // One SeatLocked per pick, with a's lock after it (only a may sit).
        for (uint256 i = 1; i <= 3; ++i) {
            vm.expectEmit(address(pool));
            emit IJurorPool.SeatLocked(7, a, i * SEAT);
        }
        address[] memory seats = pool.drawSeats(7, keccak256("s"), 3, b, c, uint64(block.timestamp));
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(seats[i], a, "only a may sit: b and c are the parties");
        }
        assertEq(pool.jurorInfo(a).locked, 3 * SEAT, "a seat's stake locked per pick");
        assertEq(pool.seatsOf(a), 7, "ten seats less three");
        assertEq(pool.freeSeats(), 9, "capacity less three");
        // With replacement and no parties excluded, the three seats lock three seats' worth in all.
        seats = pool.drawSeats(8, keccak256("t"), 3, address(0), address(0), uint64(block.timestamp));
        uint256 locked = pool.jurorInfo(a).locked + pool.jurorInfo(b).locked + pool.jurorInfo(c).locked;
        assertEq(locked, 6 * SEAT, "six seats locked in all");
        assertEq(pool.freeSeats(), 6, "capacity less six");
    }

    function test_RevertWhen_SeatsCannotBeFilled() public {
        _join(a, 5 ether);
        _join(c, 0.5 ether);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NotEnoughSeats.selector, 11, 12));
        pool.drawSeats(1, keccak256("s"), 12, address(0), address(0), uint64(block.timestamp));
        // Two seats with a, the accused, excluded: c's one seat at most, then a seat fails (which one depends
        // on the seed), and nothing stays locked.
        vm.expectPartialRevert(IJurorPool.SeatUnfilled.selector);
        pool.drawSeats(1, keccak256("s"), 2, a, address(0), uint64(block.timestamp));
        assertEq(pool.jurorInfo(c).locked, 0, "reverted whole");
        assertEq(pool.freeSeats(), 11, "tree unchanged");
    }

    /// @dev Issue #12, finding 2: stake younger than the dispute by less than `maturity` never sits on it,
    /// even in a retried draw long after.
    function test_StakeYoungerThanTheDisputeNeverSits() public {
        _join(a, 5 ether);
        uint64 openedAt = uint64(block.timestamp);
        vm.warp(block.timestamp + 1);
        _join(b, 5 ether); // deposited after the dispute opened
        for (uint256 n = 0; n < 20; ++n) {
            address[] memory seats = pool.drawSeats(n, keccak256(abi.encode(n)), 1, address(0), address(0), openedAt);
            assertEq(seats[0], a, "only a's old stake");
            pool.settle(a, SEAT, 0, address(0));
            pool.sync(a);
        }
        // A dispute opened `maturity` after b's deposit may seat b.
        bool bSat;
        for (uint256 n = 0; n < 20 && !bSat; ++n) {
            address[] memory seats = pool.drawSeats(
                n, keccak256(abi.encode("later", n)), 1, address(0), address(0), uint64(block.timestamp)
            );
            bSat = seats[0] == b;
            pool.settle(seats[0], SEAT, 0, address(0));
            pool.sync(seats[0]);
        }
        assertTrue(bSat, "b's matured stake sits on later disputes");
    }

    function test_RevertWhen_NotTheCommittee() public {
        _join(a, 1 ether);
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NotCommittee.selector, stranger));
        pool.drawSeats(1, bytes32(0), 1, address(0), address(0), uint64(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NotCommittee.selector, stranger));
        pool.settle(a, 0, 0, stranger);
        vm.stopPrank();
    }

    /*//////////////////////////////////////////////////////////////
                                 SETTLE
    //////////////////////////////////////////////////////////////*/

    /// @dev Issue #12, finding 1: seats of two disputes; settling one with a penalty takes it from that
    /// dispute's seats only, and the other still releases in full.
    function test_SettleTakesOnlyFromTheReleasedSeats() public {
        _join(a, 2 ether);
        pool.drawSeats(1, keccak256("one"), 2, address(0), address(0), uint64(block.timestamp));
        pool.drawSeats(2, keccak256("two"), 2, address(0), address(0), uint64(block.timestamp));
        assertEq(pool.jurorInfo(a).locked, 2 ether, "four seats locked");
        vm.expectEmit(address(pool));
        emit IJurorPool.SeatsSettled(a, 1 ether, 0.2 ether, address(this), 1.8 ether, 1 ether);
        uint256 before = address(this).balance;
        uint256 slashed = pool.settle(a, 1 ether, 0.2 ether, address(this));
        assertEq(slashed, 0.2 ether, "slashed");
        assertEq(address(this).balance - before, 0.2 ether, "sent to the committee");
        pool.settle(a, 1 ether, 0, address(0));
        assertEq(pool.jurorInfo(a).locked, 0, "the other dispute released in full");
        pool.sync(a);
        assertEq(pool.seatsOf(a), 3, "1.8 ETH: three seats back");
        _assertHeld();
    }

    /// @dev A withdrawal asked for the whole stake, then a slash: what is still asked never exceeds the stake
    /// left, so the juror's later requests and deposits are judged against what it really holds.
    function test_ASlashTrimsAnAskedWithdrawal() public {
        _join(a, 1 ether);
        pool.drawSeats(1, keccak256("one"), 2, address(0), address(0), uint64(block.timestamp));
        vm.prank(a);
        pool.requestWithdrawal(1 ether);
        assertEq(pool.jurorInfo(a).withdrawalRequested, 1 ether, "all asked, all locked");
        pool.settle(a, 1 ether, 0.2 ether, address(this));
        IJurorPool.Juror memory j = pool.jurorInfo(a);
        assertEq(j.stake, 0.8 ether, "slashed");
        assertEq(j.withdrawalRequested, 0.8 ether, "trimmed to the stake left");
        pool.sync(a);
        j = pool.jurorInfo(a);
        assertEq(j.stake + j.withdrawalRequested, 0, "nothing held or asked");
        assertEq(j.unbonding, 0.8 ether, "all of it left");
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        vm.prank(a);
        pool.requestWithdrawal(1 ether); // the whole new deposit, pending: not blocked by a stale request
        _assertHeld();
    }

    function test_RevertWhen_SettlementExceedsTheLockOrTheRelease() public {
        _join(a, 1 ether);
        pool.drawSeats(1, keccak256("one"), 1, address(0), address(0), uint64(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.BadSettlement.selector, a, SEAT, SEAT + 1, 0));
        pool.settle(a, SEAT + 1, 0, address(this));
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.BadSettlement.selector, a, SEAT, 0.1 ether, 0.2 ether));
        pool.settle(a, 0.1 ether, 0.2 ether, address(this));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "to"));
        pool.settle(a, SEAT, 1, address(0));
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    function test_ConstructorAndGovernanceBounds() public {
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "seatSize", 0, 0.01 ether, 1000 ether)
        );
        this.newJurorPool(owner, operators, 0, MATURITY, DELAY);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "operators"));
        this.newJurorPool(owner, IOperatorRegistry(address(0)), SEAT, MATURITY, DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "maturity", 90 days + 1, 0, 90 days)
        );
        this.newJurorPool(owner, operators, SEAT, 90 days + 1, DELAY);
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.CommitteeAlreadySet.selector, address(this)));
        pool.setCommittee(IReexecutionCommittee(stranger));
        vm.expectEmit(address(pool));
        emit ICairnCommon.ParameterUpdated("maturity", MATURITY, 3 hours);
        pool.setMaturity(3 hours);
        vm.expectEmit(address(pool));
        emit ICairnCommon.ParameterUpdated("withdrawalDelay", DELAY, 2 days);
        pool.setWithdrawalDelay(2 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICairnCommon.ParameterOutOfBounds.selector, "withdrawalDelay", 90 days + 1, 0, 90 days
            )
        );
        pool.setWithdrawalDelay(90 days + 1);
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        pool.setMaturity(0);
        assertEq(pool.maturity(), 3 hours, "maturity");
        assertEq(pool.withdrawalDelay(), 2 days, "delay");
        assertEq(pool.interfaceVersion(), 6, "interface v6");
    }

    function test_RevertWhen_CommitteeIsZeroOrOfAnotherPoolOrNotSet() public {
        JurorPool fresh = new JurorPool(owner, operators, SEAT, MATURITY, DELAY);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "committee"));
        fresh.setCommittee(IReexecutionCommittee(address(0)));
        // This test contract answers `pool()` with the other pool.
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IJurorPool.CommitteeOfAnotherPool.selector, address(this), address(pool))
        );
        fresh.setCommittee(IReexecutionCommittee(address(this)));
        // Before a committee exists nothing is frozen and nobody can draw.
        vm.prank(a);
        fresh.deposit{value: 1 ether}();
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NotCommittee.selector, address(this)));
        fresh.drawSeats(1, bytes32(0), 1, address(0), address(0), 0);
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    /*//////////////////////////////////////////////////////////////
                 BOUNDARIES (survivors of the JurorPool campaign)
    //////////////////////////////////////////////////////////////*/

    /// The bounds themselves are accepted: the smallest and largest seat, and the longest maturity and withdrawal
    /// delay, at construction and by governance (survivors: `<` to `<=`, `>` to `>=` and `==`).
    function test_TheBoundsThemselvesAreAccepted() public {
        JurorPool smallest = this.newJurorPool(owner, operators, 0.01 ether, 90 days, 90 days);
        assertEq(smallest.seatSize(), 0.01 ether, "the smallest seat");
        assertEq(smallest.maturity(), 90 days, "the longest maturity");
        assertEq(smallest.withdrawalDelay(), 90 days, "the longest delay");
        JurorPool largest = this.newJurorPool(owner, operators, 1000 ether, 0, 0);
        assertEq(largest.seatSize(), 1000 ether, "the largest seat");
        vm.startPrank(owner);
        pool.setMaturity(90 days);
        pool.setWithdrawalDelay(90 days);
        vm.stopPrank();
        assertEq(pool.maturity(), 90 days, "maturity at its bound");
        assertEq(pool.withdrawalDelay(), 90 days, "delay at its bound");
    }

    /// Unbonded stake can be taken any time after the delay, not only at its last second (survivor: `<` to `!=`),
    /// and only it leaves what the pool holds, another juror's stake staying (survivor: `totalHeld -=` to `%=`,
    /// equal when the whole balance leaves).
    function test_UnbondedStakeCanBeTakenLongAfterTheDelay() public {
        _join(b, 1.5 ether);
        _join(a, 1 ether);
        vm.prank(a);
        pool.requestWithdrawal(1 ether);
        vm.warp(pool.jurorInfo(a).unbondingEnds + 3 days);
        uint256 before = a.balance;
        vm.prank(a);
        pool.withdrawUnbonded();
        assertEq(a.balance - before, 1 ether, "paid after the delay");
        assertEq(pool.totalHeld(), 1.5 ether, "b's stake still held");
        _assertHeld();
    }

    /// A lot that matured well before a top-up during a pending draw freezes it, as one matured exactly then does
    /// (survivor: `>=` to `==`).
    function test_ATopUpIsFrozenLongAfterThePendingLotMatured() public {
        vm.prank(a);
        pool.deposit{value: 1 ether}();
        awaitingDraw = 1;
        vm.warp(block.timestamp + MATURITY + 1 hours);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.Frozen.selector, 1));
        pool.deposit{value: 0.5 ether}();
        assertEq(pool.jurorInfo(a).pendingDeposit, 1 ether, "nothing changed");
        awaitingDraw = 0;
    }

    /// A request that cannot leave yet (all the stake locked) does not restart the clock of what is already
    /// unbonding (survivors: `_toUnbonding` of 0 when nothing leaves, `!= 0` to `true` and `>= 0`).
    function test_ARequestThatCannotLeaveYetKeepsTheUnbondingClock() public {
        _join(a, 1.5 ether);
        vm.prank(a);
        pool.requestWithdrawal(0.5 ether);
        uint64 ends = pool.jurorInfo(a).unbondingEnds;
        assertEq(ends, uint64(block.timestamp) + DELAY, "the first part unbonds");
        pool.drawSeats(1, keccak256("all"), 2, address(0), address(0), uint64(block.timestamp));
        vm.warp(block.timestamp + 1 hours);
        vm.prank(a);
        pool.requestWithdrawal(1 ether);
        IJurorPool.Juror memory j = pool.jurorInfo(a);
        assertEq(j.withdrawalRequested, 1 ether, "all locked: it waits as requested");
        assertEq(j.unbonding, 0.5 ether, "nothing more left");
        assertEq(j.unbondingEnds, ends, "the clock of what left before is kept");
    }

    /// A withdrawal larger than the free stake takes what is free and waits for the rest (survivors: `-=` to `^=`
    /// and `>>=`, equal to it when the whole request leaves).
    function test_AWithdrawalLargerThanTheFreeStakeLeavesWhatIsFree() public {
        _join(a, 1.5 ether);
        pool.drawSeats(1, keccak256("one"), 1, address(0), address(0), uint64(block.timestamp));
        vm.prank(a);
        pool.requestWithdrawal(1.5 ether);
        IJurorPool.Juror memory j = pool.jurorInfo(a);
        assertEq(j.unbonding, 1 ether, "the free part left");
        assertEq(j.withdrawalRequested, 0.5 ether, "the locked part waits");
        assertEq(j.stake, 0.5 ether, "the locked seat stays");
        assertEq(pool.seatsOf(a), 0, "no seat while a withdrawal waits");
        _assertHeld();
    }

    /// Unbonded stake that cannot be sent (a juror contract that refuses ETH) reverts and stays owed (survivor:
    /// `!ok` to `false`).
    function test_RevertWhen_TheUnbondedStakeCannotBeSent() public {
        address refuser = address(new EthRefuser());
        vm.deal(refuser, 3 ether);
        vm.startPrank(refuser);
        operators.register{value: 1 ether}(refuser, 0, bytes32(0), bytes32(0), "");
        pool.deposit{value: 1 ether}();
        pool.requestWithdrawal(1 ether);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.EthTransferFailed.selector, refuser, 1 ether));
        pool.withdrawUnbonded();
        vm.stopPrank();
        assertEq(pool.jurorInfo(refuser).unbonding, 1 ether, "still owed");
        _assertHeld();
    }

    /// A settlement without a slash sends nothing, so a recipient that refuses ETH does not matter (survivors:
    /// `slashAmount != 0` to `true` and `>= 0` before the transfer).
    function test_ASettlementWithoutASlashSendsNothing() public {
        _join(a, 1 ether);
        pool.drawSeats(1, keccak256("one"), 1, address(0), address(0), uint64(block.timestamp));
        address refuser = address(new EthRefuser());
        assertEq(pool.settle(a, SEAT, 0, refuser), 0, "nothing slashed");
        assertEq(pool.jurorInfo(a).locked, 0, "released");
        _assertHeld();
    }

    /// @dev Seats never exceed free stake, and the pool holds exactly what it owes, through any deposit,
    /// draw, settlement and withdrawal.
    function testFuzz_SeatsNeverExceedFreeStake(uint96 amount, uint8 drawn, uint96 slash, uint96 out) public {
        uint256 d = bound(amount, SEAT, 50 ether);
        _join(a, d);
        uint256 k = bound(drawn, 0, d / SEAT);
        if (k != 0) pool.drawSeats(1, keccak256("f"), k, address(0), address(0), uint64(block.timestamp));
        uint256 s = bound(slash, 0, k * SEAT);
        if (k != 0) pool.settle(a, k * SEAT, s, address(this));
        uint256 o = bound(out, 0, d - s);
        if (o != 0) {
            vm.prank(a);
            pool.requestWithdrawal(o);
        }
        assertTrue(pool.sync(a), "synced");
        IJurorPool.Juror memory j = pool.jurorInfo(a);
        assertEq(pool.seatsOf(a), (j.stake - j.locked) / SEAT, "seats = whole free seats");
        assertEq(uint256(j.stake) + j.unbonding + s, d, "every wei accounted for");
        _assertHeld();
    }
}

/// @dev A stand-in committee whose `pool()` is the given pool (what `setCommittee` checks).
contract SelfPool {
    JurorPool public immutable pool;

    constructor(JurorPool pool_) {
        pool = pool_;
    }
}
