// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnVersioned} from "./ICairnVersioned.sol";

/// @title IJurorPool
/// @notice Juror stake: ETH that registered operators set aside to sit on the committee's juries, in whole
/// seats of `seatSize` wei, drawn by a sortition sum tree (docs/ARCHITECTURE.md, "Disputes v2", step 4).
/// Every change to what the tree holds (a matured deposit, a withdrawal, a released lock) waits in the juror's
/// record and enters the tree through `sync` only while no dispute awaits its draw, so the candidates and
/// weights of a draw are fixed before its seed block is mined; a deposit enters only `maturity` seconds after
/// it was made, so stake added after a job was submitted cannot sit on its jury (issue #12, finding 2).
/// Seats are drawn with replacement, so a sybil's share of seats is its share of stake (finding 6), and a
/// draw that cannot fill its seats makes the dispute wait instead of ruling (finding 5).
interface IJurorPool is ICairnVersioned {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A juror's record (all amounts in wei, times in Unix seconds).
    /// @param stake Juror stake held and lockable, `locked` included; a requested withdrawal stays here, and
    /// lockable, until `sync` applies it.
    /// @param locked Part of `stake` locked by drawn seats, `seatSize` per seat, until the dispute resolves.
    /// @param depositedAt When the latest deposit now in `stake` was made; a dispute opened less than
    /// `maturity` after it may not seat this juror.
    /// @param pendingDeposit Deposited, not yet in `stake` (matures at `pendingSince + maturity`).
    /// @param pendingSince When the latest pending deposit was made (a new deposit restarts the whole lot).
    /// @param withdrawalRequested Asked to leave; moves to `unbonding` at the next `sync` as far as it is free.
    /// @param unbonding Left the pool; withdrawable at `unbondingEnds`.
    /// @param unbondingEnds When `unbonding` may be withdrawn.
    struct Juror {
        uint96 stake;
        uint96 locked;
        uint64 depositedAt;
        uint96 pendingDeposit;
        uint64 pendingSince;
        uint96 withdrawalRequested;
        uint96 unbonding;
        uint64 unbondingEnds;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Only registered operators hold juror stake (their signer key votes for them).
    /// @param account The caller.
    error NotRegisteredOperator(address account);
    /// @notice A zero amount.
    error ZeroAmount();
    /// @notice More than the juror holds.
    /// @param juror The juror.
    /// @param available Stake not yet asked to leave.
    /// @param requested Asked for.
    error WithdrawalTooLarge(address juror, uint256 available, uint256 requested);
    /// @notice Nothing to withdraw.
    /// @param juror The juror.
    error NothingUnbonding(address juror);
    /// @notice The withdrawal delay has not passed.
    /// @param juror The juror.
    /// @param readyAt When it can be withdrawn.
    /// @param nowTimestamp The current time.
    error UnbondingNotReady(address juror, uint64 readyAt, uint256 nowTimestamp);
    /// @notice Only the committee draws, locks and settles seats.
    /// @param caller The caller.
    error NotCommittee(address caller);
    /// @notice The committee draws from another pool.
    /// @param committee The committee.
    /// @param itsPool The pool it names.
    error CommitteeOfAnotherPool(address committee, address itsPool);
    /// @notice The committee is set once.
    /// @param committee The committee already set.
    error CommitteeAlreadySet(address committee);
    /// @notice Fewer free seats in the tree than the draw needs; the dispute waits (`DrawDeferred`).
    /// @param freeSeats Seats in the tree.
    /// @param needed Seats asked.
    error NotEnoughSeats(uint256 freeSeats, uint256 needed);
    /// @notice A seat landed only on ineligible jurors (the accused, the challenger, stake too recent) for
    /// `MAX_TRIES` tries; the dispute waits.
    /// @param seat The seat index.
    error SeatUnfilled(uint256 seat);
    /// @notice A dispute awaits its draw: the tree is frozen (governance changes wait too).
    /// @param awaitingDraw Disputes in the draw queue.
    error Frozen(uint256 awaitingDraw);
    /// @notice The committee released more than the juror has locked, or slashed more than it released.
    /// @param juror The juror.
    /// @param locked Locked now.
    /// @param unlockAmount Asked to release.
    /// @param slashAmount Asked to slash.
    error BadSettlement(address juror, uint256 locked, uint256 unlockAmount, uint256 slashAmount);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Juror stake deposited; it enters the tree at a `sync` from `maturesAt`.
    /// @param juror The juror (a registered operator).
    /// @param amount Wei deposited.
    /// @param pendingDeposit Wei now pending.
    /// @param maturesAt When the pending lot may enter the tree.
    event JurorDeposited(address indexed juror, uint256 amount, uint256 pendingDeposit, uint64 maturesAt);
    /// @notice A withdrawal was asked; what it takes from the pending deposit leaves at once, the rest stays
    /// lockable until a `sync` applies it.
    /// @param juror The juror.
    /// @param amount Wei asked.
    /// @param pendingDeposit Pending deposit after.
    /// @param withdrawalRequested Wei asked and not yet applied, after.
    /// @param unbonding Unbonding after.
    /// @param unbondingEnds When it may be withdrawn.
    event JurorWithdrawalRequested(
        address indexed juror,
        uint256 amount,
        uint256 pendingDeposit,
        uint256 withdrawalRequested,
        uint256 unbonding,
        uint64 unbondingEnds
    );
    /// @notice A `sync` applied the juror's pending changes to the tree: its whole record after.
    /// @param juror The juror.
    /// @param stake Stake after.
    /// @param locked Locked after.
    /// @param seats Seats the tree holds for the juror after.
    /// @param pendingDeposit Still maturing, after.
    /// @param withdrawalRequested Asked and still waiting on locks, after.
    /// @param unbonding Unbonding after.
    /// @param unbondingEnds When it may be withdrawn.
    event JurorSynced(
        address indexed juror,
        uint256 stake,
        uint256 locked,
        uint256 seats,
        uint256 pendingDeposit,
        uint256 withdrawalRequested,
        uint256 unbonding,
        uint64 unbondingEnds
    );
    /// @notice A drawn seat locked `seatSize` of the juror's stake.
    /// @param disputeId The dispute.
    /// @param juror The juror.
    /// @param locked Locked after.
    event SeatLocked(uint256 indexed disputeId, address indexed juror, uint256 locked);
    /// @notice The committee released a juror's seats of a dispute and slashed part of them.
    /// @param juror The juror.
    /// @param unlocked Wei released (the slash included).
    /// @param slashed Wei slashed, sent to `to`.
    /// @param to Recipient of the slash (the committee).
    /// @param stake Stake after.
    /// @param locked Locked after.
    event SeatsSettled(
        address indexed juror, uint256 unlocked, uint256 slashed, address to, uint256 stake, uint256 locked
    );
    /// @notice Unbonded juror stake withdrawn.
    /// @param juror The juror.
    /// @param amount Wei sent.
    event JurorWithdrawn(address indexed juror, uint256 amount);
    /// @notice The committee was set.
    /// @param committee Its address.
    event CommitteeSet(address indexed committee);

    /*//////////////////////////////////////////////////////////////
                                 JURORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Deposits `msg.value` wei of juror stake. It waits `maturity` seconds, then enters the tree at the
    /// next `sync`. A juror has one pending lot: a lot that has matured joins the stake first, and the new
    /// amount restarts the clock of what is still pending. While a draw awaits its seed no stake may move: a
    /// deposit then restarts a lot that has not matured, and is refused with `Frozen` when the lot has (it
    /// would lose its age; deposit again after the draw). Caller: a registered operator
    /// (`NotRegisteredOperator`); `ZeroAmount` for 0.
    function deposit() external payable;

    /// @notice Asks `amount` wei to leave. It stays in the tree, lockable, until a `sync` moves what is free of
    /// it to `unbonding`; the rest leaves at later syncs as its locks are released. `WithdrawalTooLarge` beyond
    /// stake plus pending deposits not yet asked (a pending deposit is taken first, at once).
    /// @param amount Wei.
    function requestWithdrawal(uint256 amount) external;

    /// @notice Sends the juror its unbonded stake once `withdrawalDelay` has passed since the last `sync` that
    /// added to it (`NothingUnbonding`, `UnbondingNotReady`).
    function withdrawUnbonded() external;

    /// @notice Applies `juror`'s pending changes (matured deposit, withdrawal, released locks) to the tree,
    /// when no dispute awaits its draw. Anyone may call it.
    /// @param juror The juror.
    /// @return applied False when frozen (nothing changed).
    function sync(address juror) external returns (bool applied);

    /*//////////////////////////////////////////////////////////////
                                COMMITTEE
    //////////////////////////////////////////////////////////////*/

    /// @notice Draws `seats` seats with replacement from the tree with `seed`, skipping `accused`,
    /// `challenger` and jurors whose latest deposit is less than `maturity` older than `openedAt` (each seat
    /// tries up to MAX_TRIES points), and locks `seatSize` per seat. Reverts `NotEnoughSeats` or
    /// `SeatUnfilled` (nothing changed) when the seats cannot be filled. Committee only.
    /// @param disputeId The dispute (for events).
    /// @param seed The dispute's seed.
    /// @param seats Seats to fill.
    /// @param accused Never seated.
    /// @param challenger Never seated.
    /// @param openedAt The dispute's stake cutoff (Unix seconds): a deposit sits when it is `maturity` older. The
    /// committee passes its record's `stakedBy` + today's `maturity`, which fixes the eligible deposits when the
    /// dispute opened, whatever governance does to `maturity` meanwhile.
    /// @return jurors One juror per seat (a juror may hold several).
    function drawSeats(
        uint256 disputeId,
        bytes32 seed,
        uint256 seats,
        address accused,
        address challenger,
        uint64 openedAt
    ) external returns (address[] memory jurors);

    /// @notice Releases `unlockAmount` of the juror's locked stake and slashes `slashAmount` of it to `to`
    /// (`slashAmount ≤ unlockAmount ≤ locked`, else `BadSettlement`). The tree sees the release at the next
    /// `sync`. Committee only.
    /// @param juror The juror.
    /// @param unlockAmount Wei released.
    /// @param slashAmount Wei slashed out of the released amount.
    /// @param to Recipient of the slash.
    /// @return slashed Wei sent to `to`.
    function settle(address juror, uint256 unlockAmount, uint256 slashAmount, address to)
        external
        returns (uint256 slashed);

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice Wei per seat (fixed at deployment).
    /// @return Wei.
    function seatSize() external view returns (uint256);

    /// @notice Seats the tree holds (the capacity a draw can use now).
    /// @return Seats.
    function freeSeats() external view returns (uint256);

    /// @notice Seconds a deposit waits before it may sit (and, in `drawSeats`, before the dispute's `openedAt`).
    /// @return Seconds.
    function maturity() external view returns (uint64);

    /// @notice Seats the tree holds for `juror`.
    /// @param juror The juror.
    /// @return Seats.
    function seatsOf(address juror) external view returns (uint256);

    /// @notice A juror's record.
    /// @param juror The juror.
    /// @return The record.
    function jurorInfo(address juror) external view returns (Juror memory);

    /// @notice Jurors with at least one seat in the tree.
    /// @return How many.
    function jurorCount() external view returns (uint256);
}
