// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {ICairnCommon} from "./interfaces/ICairnCommon.sol";
import {IJurorPool} from "./interfaces/IJurorPool.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IReexecutionCommittee} from "./interfaces/IReexecutionCommittee.sol";
import {SortitionSumTree} from "./libraries/SortitionSumTree.sol";

/// @title JurorPool
/// @notice Holds juror stake in ETH and draws the committee's seats from a K = 4 sortition sum tree whose leaf
/// weights are whole free seats (`(stake − locked) / seatSize`). See IJurorPool for the rules and
/// docs/ARCHITECTURE.md ("Disputes v2", step 4) for why they stop re-rolls and steering (issue #12, findings
/// 2, 5, 6). Invariant: this contract's balance = Σ (stake + pendingDeposit + unbonding) = `totalHeld`, and a
/// juror's seats in the tree never exceed `(stake − locked) / seatSize`.
contract JurorPool is IJurorPool, CairnVersion, Ownable2Step, ReentrancyGuardTransient {
    using SortitionSumTree for SortitionSumTree.Tree;

    /*//////////////////////////////////////////////////////////////
                               PARAMETERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Arity of the tree: at 10,000 jurors K = 4 costs 97k gas per seat against 131k at K = 16
    /// (docs/ARCHITECTURE.md).
    uint256 public constant ARITY = 4;
    /// @notice Points tried per seat before the draw gives up (`SeatUnfilled`): with an ineligible share e of
    /// the seats a seat fails with probability e¹⁶ (1.5·10⁻⁵ at e = ½).
    uint256 public constant MAX_TRIES = 16;
    /// @notice Bounds of `seatSize` (wei): never zero, so no weight is zero (issue #12, finding 9).
    uint256 public constant MIN_SEAT_SIZE = 0.01 ether;
    /// @notice Largest seat.
    uint256 public constant MAX_SEAT_SIZE = 1000 ether;
    /// @notice Longest `maturity` and `withdrawalDelay` (seconds).
    uint64 public constant MAX_DELAY = 90 days;

    /// @inheritdoc IJurorPool
    uint256 public immutable seatSize;
    /// @notice Where operators register (only they hold juror stake).
    IOperatorRegistry public immutable operators;

    /// @notice Seconds a deposit waits before it may enter the tree; deployments keep it above the job
    /// market's claim timeout + challenge window, so stake added after a job was submitted cannot sit on its
    /// jury (cairn-deploy checks it).
    uint64 public maturity;
    /// @notice Seconds between a withdrawal leaving the tree and its payout.
    uint64 public withdrawalDelay;
    /// @notice The committee that draws and settles seats (set once).
    IReexecutionCommittee public committee;
    /// @notice Wei this contract owes: Σ (stake + pendingDeposit + unbonding).
    uint256 public totalHeld;

    mapping(address juror => Juror) private _jurors;
    SortitionSumTree.Tree private _tree;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param owner_ Governance.
    /// @param operators_ Operator registry.
    /// @param seatSize_ Wei per seat, MIN_SEAT_SIZE to MAX_SEAT_SIZE.
    /// @param maturity_ Seconds, at most MAX_DELAY.
    /// @param withdrawalDelay_ Seconds, at most MAX_DELAY.
    constructor(
        address owner_,
        IOperatorRegistry operators_,
        uint256 seatSize_,
        uint64 maturity_,
        uint64 withdrawalDelay_
    ) Ownable(owner_) {
        if (address(operators_) == address(0)) revert ICairnCommon.ZeroAddress("operators");
        if (seatSize_ < MIN_SEAT_SIZE || seatSize_ > MAX_SEAT_SIZE) {
            revert ICairnCommon.ParameterOutOfBounds("seatSize", seatSize_, MIN_SEAT_SIZE, MAX_SEAT_SIZE);
        }
        operators = operators_;
        seatSize = seatSize_;
        _setMaturity(maturity_);
        _setWithdrawalDelay(withdrawalDelay_);
        _tree.init(ARITY);
    }

    modifier onlyCommittee() {
        if (msg.sender != address(committee)) revert NotCommittee(msg.sender);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                                 JURORS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJurorPool
    function deposit() external payable {
        if (msg.value == 0) revert ZeroAmount();
        // Only the registration flag matters here.
        // slither-disable-next-line unused-return
        (bool registered,,) = operators.operatorInfo(msg.sender);
        if (!registered) revert NotRegisteredOperator(msg.sender);
        Juror storage j = _jurors[msg.sender];
        // One pending lot per juror: a lot that has matured enters the stake before this deposit restarts the
        // lot's clock. While a draw awaits its seed the stake cannot move: a matured lot would lose its age, so the
        // deposit waits for the draw (a few blocks) instead.
        uint256 awaiting = _awaitingDraw();
        bool open = awaiting == 0;
        if (open) _mature(j);
        else if (j.pendingDeposit != 0 && block.timestamp >= uint256(j.pendingSince) + maturity) revert Frozen(awaiting);
        j.pendingDeposit += _u96(msg.value);
        j.pendingSince = uint64(block.timestamp);
        totalHeld += msg.value;
        emit JurorDeposited(msg.sender, msg.value, j.pendingDeposit, uint64(block.timestamp) + maturity);
        if (open) _syncOpen(msg.sender, j);
    }

    /// @inheritdoc IJurorPool
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Juror storage j = _jurors[msg.sender];
        uint256 available = uint256(j.stake) + j.pendingDeposit - j.withdrawalRequested;
        if (amount > available) revert WithdrawalTooLarge(msg.sender, available, amount);
        // A pending deposit never entered the tree: it leaves at once.
        uint256 fromPending = amount < j.pendingDeposit ? amount : j.pendingDeposit;
        if (fromPending != 0) {
            j.pendingDeposit -= _u96(fromPending);
            _toUnbonding(j, fromPending);
        }
        j.withdrawalRequested += _u96(amount - fromPending);
        emit JurorWithdrawalRequested(
            msg.sender, amount, j.pendingDeposit, j.withdrawalRequested, j.unbonding, j.unbondingEnds
        );
        _sync(msg.sender, j);
    }

    /// @inheritdoc IJurorPool
    function withdrawUnbonded() external nonReentrant {
        Juror storage j = _jurors[msg.sender];
        uint256 amount = j.unbonding;
        if (amount == 0) revert NothingUnbonding(msg.sender);
        if (block.timestamp < j.unbondingEnds) revert UnbondingNotReady(msg.sender, j.unbondingEnds, block.timestamp);
        j.unbonding = 0;
        totalHeld -= amount;
        emit JurorWithdrawn(msg.sender, amount);
        _sendEth(msg.sender, amount);
    }

    /// @inheritdoc IJurorPool
    function sync(address juror) external returns (bool applied) {
        return _sync(juror, _jurors[juror]);
    }

    /*//////////////////////////////////////////////////////////////
                                COMMITTEE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJurorPool
    function drawSeats(
        uint256 disputeId,
        bytes32 seed,
        uint256 seats,
        address accused,
        address challenger,
        uint64 openedAt
    ) external onlyCommittee returns (address[] memory jurors) {
        uint256 free = _tree.total();
        if (free < seats) revert NotEnoughSeats(free, seats);
        jurors = new address[](seats);
        uint256 size = seatSize;
        for (uint256 i = 0; i < seats; ++i) {
            address juror = _pick(seed, i, free, accused, challenger, openedAt);
            jurors[i] = juror;
            Juror storage j = _jurors[juror];
            j.locked += _u96(size);
            bytes32 key = _key(juror);
            _tree.set(key, _tree.weightOf(key) - 1);
            --free;
            emit SeatLocked(disputeId, juror, j.locked);
        }
    }

    /// @inheritdoc IJurorPool
    function settle(address juror, uint256 unlockAmount, uint256 slashAmount, address to)
        external
        onlyCommittee
        nonReentrant
        returns (uint256 slashed)
    {
        Juror storage j = _jurors[juror];
        if (unlockAmount > j.locked || slashAmount > unlockAmount) {
            revert BadSettlement(juror, j.locked, unlockAmount, slashAmount);
        }
        if (slashAmount != 0 && to == address(0)) revert ICairnCommon.ZeroAddress("to");
        // stake ≥ locked ≥ unlockAmount ≥ slashAmount: neither subtraction can underflow.
        j.locked -= _u96(unlockAmount);
        j.stake -= _u96(slashAmount);
        // A withdrawal asked before the slash cannot ask for more than is left.
        if (j.withdrawalRequested > j.stake) j.withdrawalRequested = j.stake;
        totalHeld -= slashAmount;
        emit SeatsSettled(juror, unlockAmount, slashAmount, to, j.stake, j.locked);
        if (slashAmount != 0) _sendEth(to, slashAmount);
        return slashAmount;
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJurorPool
    function freeSeats() external view returns (uint256) {
        return _tree.total();
    }

    /// @inheritdoc IJurorPool
    function seatsOf(address juror) external view returns (uint256) {
        return _tree.weightOf(_key(juror));
    }

    /// @inheritdoc IJurorPool
    function jurorInfo(address juror) external view returns (Juror memory) {
        return _jurors[juror];
    }

    /// @inheritdoc IJurorPool
    function jurorCount() external view returns (uint256) {
        return _tree.size();
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets the committee, once.
    /// @param committee_ The committee.
    function setCommittee(IReexecutionCommittee committee_) external onlyOwner {
        if (address(committee) != address(0)) revert CommitteeAlreadySet(address(committee));
        if (address(committee_) == address(0)) revert ICairnCommon.ZeroAddress("committee");
        // A committee of another pool would draw from this one without ever freezing it.
        address itsPool = address(committee_.pool());
        if (itsPool != address(this)) revert CommitteeOfAnotherPool(address(committee_), itsPool);
        committee = committee_;
        emit CommitteeSet(address(committee_));
    }

    /// @notice Sets `maturity` (at most MAX_DELAY seconds); refused while a dispute awaits its draw, since
    /// it decides who may be seated.
    /// @param value Seconds.
    function setMaturity(uint64 value) external onlyOwner {
        uint256 awaiting = _awaitingDraw();
        if (awaiting != 0) revert Frozen(awaiting);
        _setMaturity(value);
    }

    /// @notice Sets `withdrawalDelay` (at most MAX_DELAY seconds).
    /// @param value Seconds.
    function setWithdrawalDelay(uint64 value) external onlyOwner {
        _setWithdrawalDelay(value);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev One seat: points keccak256(seed, seat, try) mod the free seats, until one lands on a juror that
    /// is neither party and whose stake is older than the dispute by `maturity`. Deterministic given the
    /// frozen tree, so retrying a point steers nothing.
    function _pick(bytes32 seed, uint256 seat, uint256 free, address accused, address challenger, uint64 openedAt)
        internal
        view
        returns (address juror)
    {
        for (uint256 t = 0; t < MAX_TRIES; ++t) {
            uint256 point = uint256(keccak256(abi.encode(seed, seat, t))) % free;
            juror = address(uint160(uint256(_tree.draw(point))));
            if (juror == accused || juror == challenger) continue;
            if (uint256(_jurors[juror].depositedAt) + maturity > openedAt) continue;
            return juror;
        }
        revert SeatUnfilled(seat);
    }

    /// @dev Applies the juror's pending changes unless a dispute awaits its draw.
    function _sync(address juror, Juror storage j) internal returns (bool) {
        if (_awaitingDraw() != 0) return false;
        _syncOpen(juror, j);
        return true;
    }

    /// @dev A pending lot that has waited `maturity` seconds joins the stake.
    function _mature(Juror storage j) internal {
        if (j.pendingDeposit != 0 && block.timestamp >= uint256(j.pendingSince) + maturity) {
            j.stake += j.pendingDeposit;
            j.depositedAt = j.pendingSince;
            j.pendingDeposit = 0;
        }
    }

    /// @dev `_sync` once no draw awaits its seed.
    function _syncOpen(address juror, Juror storage j) internal {
        _mature(j);
        uint256 free = j.stake - j.locked;
        if (j.withdrawalRequested != 0) {
            uint256 leaving = j.withdrawalRequested < free ? j.withdrawalRequested : free;
            j.withdrawalRequested -= _u96(leaving);
            j.stake -= _u96(leaving);
            free -= leaving;
            if (leaving != 0) _toUnbonding(j, leaving);
        }
        // A withdrawal still waiting on locks keeps the juror out of new seats.
        uint256 seats = j.withdrawalRequested != 0 ? 0 : free / seatSize;
        _tree.set(_key(juror), seats);
        emit JurorSynced(
            juror, j.stake, j.locked, seats, j.pendingDeposit, j.withdrawalRequested, j.unbonding, j.unbondingEnds
        );
    }

    function _toUnbonding(Juror storage j, uint256 amount) internal {
        j.unbonding += _u96(amount);
        j.unbondingEnds = uint64(block.timestamp) + withdrawalDelay;
    }

    function _awaitingDraw() internal view returns (uint256) {
        return address(committee) == address(0) ? 0 : committee.awaitingDraw();
    }

    function _setMaturity(uint64 value) internal {
        if (value > MAX_DELAY) revert ICairnCommon.ParameterOutOfBounds("maturity", value, 0, MAX_DELAY);
        emit ICairnCommon.ParameterUpdated("maturity", maturity, value);
        maturity = value;
    }

    function _setWithdrawalDelay(uint64 value) internal {
        if (value > MAX_DELAY) revert ICairnCommon.ParameterOutOfBounds("withdrawalDelay", value, 0, MAX_DELAY);
        emit ICairnCommon.ParameterUpdated("withdrawalDelay", withdrawalDelay, value);
        withdrawalDelay = value;
    }

    /// @dev Recipients: the juror withdrawing its own unbonded stake, or the committee receiving a slash.
    /// State is final before the call, and both callers are nonReentrant.
    function _sendEth(address to, uint256 amount) internal {
        // slither-disable-next-line arbitrary-send-eth,low-level-calls
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ICairnCommon.EthTransferFailed(to, amount);
    }

    function _key(address juror) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(juror)));
    }

    /// @dev Every amount here is ETH held by this contract: below 2⁹⁶ wei (7.9·10¹⁰ ETH) on any real chain;
    /// SafeCast reverts on the impossible rest.
    function _u96(uint256 value) internal pure returns (uint96) {
        return SafeCast.toUint96(value);
    }
}
