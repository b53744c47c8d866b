// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {ICairnCommon} from "./interfaces/ICairnCommon.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {Regions} from "./libraries/Regions.sol";

/// @title OperatorRegistry
/// @notice Operators' ETH stake and profile. Authorised contracts (the job market) lock stake as bonds and
/// slash it; juror stake lives in the juror pool. Pausing stops new registrations and stake only; unstaking never pauses.
contract OperatorRegistry is IOperatorRegistry, CairnVersion, Ownable2Step, Pausable, ReentrancyGuardTransient {
    /*//////////////////////////////////////////////////////////////
                               PARAMETERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Bound of `minStake`.
    uint256 public constant MAX_STAKE_PARAM = 1000 ether;
    /// @notice Bounds of `unbondingDelay` (a minute for devnets, 90 days at most).
    uint64 public constant MIN_UNBONDING_DELAY = 60;
    /// @notice Longest allowed unbonding delay.
    uint64 public constant MAX_UNBONDING_DELAY = 90 days;

    /// @notice Stake needed to register.
    uint256 public minStake;
    /// @notice Seconds between requesting unstake and withdrawing.
    uint64 public unbondingDelay;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice Contracts allowed to lock, unlock, slash and record.
    mapping(address account => bool) public authorised;
    /// @notice Sum of every operator's stake plus unbonding: the ETH this contract owes.
    uint256 public totalBonded;

    mapping(address operator => Operator) private _operators;
    mapping(address operator => mapping(address by => uint256)) private _lockedBy;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param owner_ Governance.
    /// @param minStake_ Stake needed to register.
    /// @param unbondingDelay_ Unbonding delay in seconds.
    constructor(address owner_, uint256 minStake_, uint64 unbondingDelay_) Ownable(owner_) {
        _setMinStake(minStake_);
        _setUnbondingDelay(unbondingDelay_);
    }

    modifier onlyAuthorised() {
        if (!authorised[msg.sender]) revert NotAuthorised(msg.sender);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                            OPERATOR ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorRegistry
    function register(
        address signer,
        uint8 region,
        bytes32 hardwareTag,
        bytes32 attestationHash,
        string calldata endpoint
    ) external payable whenNotPaused {
        Operator storage op = _operators[msg.sender];
        if (op.registered) revert AlreadyRegistered(msg.sender);
        if (signer == address(0)) revert ICairnCommon.ZeroAddress("signer");
        if (region >= Regions.COUNT) revert InvalidRegion(region);
        if (msg.value < minStake) revert StakeTooLow(msg.value, minStake);
        op.registered = true;
        op.signer = signer;
        op.region = region;
        op.hardwareTag = hardwareTag;
        op.attestationHash = attestationHash;
        op.endpoint = endpoint;
        op.stake = msg.value;
        totalBonded += msg.value;
        emit OperatorRegistered(msg.sender, signer, region, hardwareTag, attestationHash, endpoint, msg.value);
    }

    /// @inheritdoc IOperatorRegistry
    function addStake() external payable whenNotPaused {
        Operator storage op = _registered(msg.sender);
        if (msg.value == 0) revert ZeroAmount();
        op.stake += msg.value;
        totalBonded += msg.value;
        emit StakeAdded(msg.sender, msg.value, op.stake);
    }

    /// @inheritdoc IOperatorRegistry
    function requestUnstake(uint256 amount) external {
        Operator storage op = _registered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 free = op.stake - op.locked;
        if (amount > free) revert InsufficientFreeStake(msg.sender, free, amount);
        op.stake -= amount;
        op.unbonding += amount;
        op.unbondingReadyAt = uint64(block.timestamp) + unbondingDelay;
        emit UnstakeRequested(msg.sender, amount, op.stake, op.unbonding, op.unbondingReadyAt);
    }

    /// @inheritdoc IOperatorRegistry
    function withdrawUnstaked() external nonReentrant {
        Operator storage op = _registered(msg.sender);
        uint256 amount = op.unbonding;
        if (amount == 0) revert NothingUnbonding(msg.sender);
        if (block.timestamp < op.unbondingReadyAt) {
            revert UnbondingNotReady(msg.sender, op.unbondingReadyAt, block.timestamp);
        }
        op.unbonding = 0;
        totalBonded -= amount;
        emit UnstakeWithdrawn(msg.sender, amount);
        _sendEth(msg.sender, amount);
    }

    /// @inheritdoc IOperatorRegistry
    function setSigner(address signer) external {
        Operator storage op = _registered(msg.sender);
        if (signer == address(0)) revert ICairnCommon.ZeroAddress("signer");
        emit SignerChanged(msg.sender, op.signer, signer);
        op.signer = signer;
    }

    /// @inheritdoc IOperatorRegistry
    function updateProfile(uint8 region, bytes32 hardwareTag, bytes32 attestationHash, string calldata endpoint)
        external
    {
        Operator storage op = _registered(msg.sender);
        if (region >= Regions.COUNT) revert InvalidRegion(region);
        op.region = region;
        op.hardwareTag = hardwareTag;
        op.attestationHash = attestationHash;
        op.endpoint = endpoint;
        emit ProfileUpdated(msg.sender, region, hardwareTag, attestationHash, endpoint);
    }

    /*//////////////////////////////////////////////////////////////
                           AUTHORISED CONTRACTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorRegistry
    function lockBond(address operator, uint256 amount) external onlyAuthorised {
        Operator storage op = _registered(operator);
        if (op.stake < minStake) revert StakeTooLow(op.stake, minStake);
        _lock(operator, op, amount);
    }

    /// @inheritdoc IOperatorRegistry
    function unlock(address operator, uint256 amount) external onlyAuthorised {
        Operator storage op = _registered(operator);
        uint256 mine = _lockedBy[operator][msg.sender];
        if (amount > mine) revert LockExceeded(operator, mine, amount);
        _lockedBy[operator][msg.sender] = mine - amount;
        op.locked -= amount;
        emit StakeUnlocked(operator, msg.sender, amount, op.locked);
    }

    /// @inheritdoc IOperatorRegistry
    function slash(address operator, uint256 amount, address to)
        external
        onlyAuthorised
        nonReentrant
        returns (uint256 slashed)
    {
        if (to == address(0)) revert ICairnCommon.ZeroAddress("to");
        Operator storage op = _operators[operator];
        // 1. The caller's own lock (the bond being slashed).
        uint256 fromLock = _min(amount, _lockedBy[operator][msg.sender]);
        _lockedBy[operator][msg.sender] -= fromLock;
        op.locked -= fromLock;
        // 2. Free stake, 3. unbonding stake: a pending withdrawal cannot dodge a slash.
        uint256 fromFree = _min(amount - fromLock, op.stake - op.locked - fromLock);
        op.stake -= fromLock + fromFree;
        uint256 fromUnbonding = _min(amount - fromLock - fromFree, op.unbonding);
        op.unbonding -= fromUnbonding;
        slashed = fromLock + fromFree + fromUnbonding;
        if (slashed == 0) return 0;
        totalBonded -= slashed;
        emit Slashed(operator, msg.sender, slashed, to, op.stake, op.locked, op.unbonding);
        _sendEth(to, slashed);
    }

    /// @inheritdoc IOperatorRegistry
    function recordJobCompleted(address operator) external onlyAuthorised {
        Operator storage op = _registered(operator);
        emit JobCompletedRecorded(operator, ++op.jobsCompleted);
    }

    /// @inheritdoc IOperatorRegistry
    function recordDisputeLost(address operator) external onlyAuthorised {
        Operator storage op = _registered(operator);
        emit DisputeLostRecorded(operator, ++op.disputesLost);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorRegistry
    function getOperator(address operator) external view returns (Operator memory) {
        return _operators[operator];
    }

    /// @inheritdoc IOperatorRegistry
    function operatorInfo(address operator) external view returns (bool registered, uint8 region, address signer) {
        Operator storage op = _operators[operator];
        return (op.registered, op.region, op.signer);
    }

    /// @inheritdoc IOperatorRegistry
    function freeStake(address operator) external view returns (uint256) {
        Operator storage op = _operators[operator];
        return op.stake - op.locked;
    }

    /// @inheritdoc IOperatorRegistry
    function lockedBy(address operator, address by) external view returns (uint256) {
        return _lockedBy[operator][by];
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Allows or stops a contract locking, slashing and recording.
    /// @param account The contract.
    /// @param allowed Whether it may.
    function setAuthorised(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ICairnCommon.ZeroAddress("account");
        authorised[account] = allowed;
        emit AuthorisationSet(account, allowed);
    }

    /// @notice Sets the stake needed to register (at most 1000 ETH).
    /// @param value Wei.
    function setMinStake(uint256 value) external onlyOwner {
        _setMinStake(value);
    }

    /// @notice Sets the unbonding delay (60 s to 90 days).
    /// @param value Seconds.
    function setUnbondingDelay(uint64 value) external onlyOwner {
        _setUnbondingDelay(value);
    }

    /// @notice Stops new registrations and stake (unstaking and slashing continue).
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Resumes registrations and stake.
    function unpause() external onlyOwner {
        _unpause();
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _setMinStake(uint256 value) internal {
        if (value > MAX_STAKE_PARAM) revert ICairnCommon.ParameterOutOfBounds("minStake", value, 0, MAX_STAKE_PARAM);
        emit ICairnCommon.ParameterUpdated("minStake", minStake, value);
        minStake = value;
    }

    function _setUnbondingDelay(uint64 value) internal {
        if (value < MIN_UNBONDING_DELAY || value > MAX_UNBONDING_DELAY) {
            revert ICairnCommon.ParameterOutOfBounds("unbondingDelay", value, MIN_UNBONDING_DELAY, MAX_UNBONDING_DELAY);
        }
        emit ICairnCommon.ParameterUpdated("unbondingDelay", unbondingDelay, value);
        unbondingDelay = value;
    }

    function _lock(address operator, Operator storage op, uint256 amount) internal {
        uint256 free = op.stake - op.locked;
        if (amount > free) revert InsufficientFreeStake(operator, free, amount);
        op.locked += amount;
        _lockedBy[operator][msg.sender] += amount;
        emit StakeLocked(operator, msg.sender, amount, op.locked);
    }

    function _registered(address operator) internal view returns (Operator storage op) {
        op = _operators[operator];
        if (!op.registered) revert NotRegistered(operator);
    }

    /// @dev Recipients: the operator withdrawing its own unbonded stake, or the `to` an authorised
    /// contract names when slashing. State is final before the call, and callers are nonReentrant.
    function _sendEth(address to, uint256 amount) internal {
        // slither-disable-next-line arbitrary-send-eth,low-level-calls
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ICairnCommon.EthTransferFailed(to, amount);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
