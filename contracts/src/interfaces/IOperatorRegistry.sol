// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnVersioned} from "./ICairnVersioned.sol";

/// @title IOperatorRegistry
/// @notice GPU operators: ETH stake, a hot signer key, region and hardware profile; stake locked by open jobs
/// bonds, slashable by authorised contracts even while unbonding. Juror stake lives apart, in the juror pool
/// (IJurorPool), which only registered operators may join. The signer key
/// signs receipts and, from interface v2, claims, releases claims, commits and reveals for its operator in
/// the job market and the committee (so the stake owner's key can stay offline); only the owner moves stake,
/// changes the signer, or withdraws. After `setSigner` the old key can do nothing.
interface IOperatorRegistry is ICairnVersioned {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An operator's record. `stake` includes `locked`; `unbonding` has left `stake` but can still
    /// be slashed until withdrawn.
    /// @param registered Whether the operator exists.
    /// @param region Region index (DESIGN.md "Regions").
    /// @param signer Hot key that signs receipts and acts for the operator (claims, releases, votes).
    /// @param hardwareTag Free-form hardware description hash, e.g. keccak256("nvidia-h100").
    /// @param attestationHash Optional TEE or hardware attestation hash.
    /// @param endpoint Where the operator can be reached (informational).
    /// @param stake Bonded ETH, locked part included.
    /// @param locked Part of `stake` held by open jobs' bonds.
    /// @param unbonding ETH requested out, withdrawable at `unbondingReadyAt`.
    /// @param unbondingReadyAt When `unbonding` may be withdrawn.
    /// @param jobsCompleted Jobs finalized in the operator's favour.
    /// @param disputesLost Disputes ruled against the operator.
    struct Operator {
        bool registered;
        uint8 region;
        address signer;
        bytes32 hardwareTag;
        bytes32 attestationHash;
        string endpoint;
        uint256 stake;
        uint256 locked;
        uint256 unbonding;
        uint64 unbondingReadyAt;
        uint64 jobsCompleted;
        uint64 disputesLost;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator is already registered.
    /// @param operator The operator.
    error AlreadyRegistered(address operator);
    /// @notice The operator is not registered.
    /// @param operator The operator.
    error NotRegistered(address operator);
    /// @notice Less stake than required.
    /// @param provided Stake offered or held.
    /// @param required Minimum.
    error StakeTooLow(uint256 provided, uint256 required);
    /// @notice Not enough unlocked stake.
    /// @param operator The operator.
    /// @param free Unlocked stake.
    /// @param needed Asked for.
    error InsufficientFreeStake(address operator, uint256 free, uint256 needed);
    /// @notice The unbonding delay has not passed.
    /// @param operator The operator.
    /// @param readyAt When it can be withdrawn.
    /// @param nowTimestamp The current time.
    error UnbondingNotReady(address operator, uint64 readyAt, uint256 nowTimestamp);
    /// @notice Nothing is unbonding.
    /// @param operator The operator.
    error NothingUnbonding(address operator);
    /// @notice The caller is not an authorised contract.
    /// @param caller The caller.
    error NotAuthorised(address caller);
    /// @notice The region index is undefined.
    /// @param region The index.
    error InvalidRegion(uint8 region);
    /// @notice The caller holds less locked stake of this operator than it tries to release.
    /// @param operator The operator.
    /// @param lockedByCaller Stake this caller has locked.
    /// @param amount Asked to unlock.
    error LockExceeded(address operator, uint256 lockedByCaller, uint256 amount);
    /// @notice An amount of zero.
    error ZeroAmount();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An operator registered.
    /// @param operator The stake owner.
    /// @param signer Receipt signer.
    /// @param region Region index.
    /// @param hardwareTag Hardware hash.
    /// @param attestationHash Attestation hash.
    /// @param endpoint Endpoint.
    /// @param stake Initial stake.
    event OperatorRegistered(
        address indexed operator,
        address indexed signer,
        uint8 region,
        bytes32 hardwareTag,
        bytes32 attestationHash,
        string endpoint,
        uint256 stake
    );
    /// @notice Stake was added.
    /// @param operator The operator.
    /// @param amount Added.
    /// @param stake New stake.
    event StakeAdded(address indexed operator, uint256 amount, uint256 stake);
    /// @notice Stake started unbonding.
    /// @param operator The operator.
    /// @param amount Moved to unbonding.
    /// @param stake Stake left.
    /// @param unbonding Total unbonding.
    /// @param readyAt When it can be withdrawn (the whole unbonding amount; each request restarts the delay).
    event UnstakeRequested(address indexed operator, uint256 amount, uint256 stake, uint256 unbonding, uint64 readyAt);
    /// @notice Unbonded stake was withdrawn.
    /// @param operator The operator.
    /// @param amount Paid out.
    event UnstakeWithdrawn(address indexed operator, uint256 amount);
    /// @notice An authorised contract locked stake.
    /// @param operator The operator.
    /// @param by The contract.
    /// @param amount Locked now.
    /// @param locked Total locked.
    event StakeLocked(address indexed operator, address indexed by, uint256 amount, uint256 locked);
    /// @notice An authorised contract released stake.
    /// @param operator The operator.
    /// @param by The contract.
    /// @param amount Released.
    /// @param locked Total locked.
    event StakeUnlocked(address indexed operator, address indexed by, uint256 amount, uint256 locked);
    /// @notice Stake was slashed: first from the caller's own lock, then free stake, then unbonding stake.
    /// Carries the operator's balances after it, since the split between them is not otherwise visible.
    /// @param operator The operator.
    /// @param by The authorised contract.
    /// @param amount Taken (may be less than asked).
    /// @param to Who received it.
    /// @param stake Stake after (locked part included).
    /// @param locked Locked after.
    /// @param unbonding Unbonding after.
    event Slashed(
        address indexed operator,
        address indexed by,
        uint256 amount,
        address to,
        uint256 stake,
        uint256 locked,
        uint256 unbonding
    );
    /// @notice The receipt signer changed.
    /// @param operator The operator.
    /// @param oldSigner Before.
    /// @param newSigner After.
    event SignerChanged(address indexed operator, address indexed oldSigner, address indexed newSigner);
    /// @notice Region, hardware, attestation or endpoint changed.
    /// @param operator The operator.
    /// @param region Region index.
    /// @param hardwareTag Hardware hash.
    /// @param attestationHash Attestation hash.
    /// @param endpoint Endpoint.
    event ProfileUpdated(
        address indexed operator, uint8 region, bytes32 hardwareTag, bytes32 attestationHash, string endpoint
    );
    /// @notice A job of the operator finalized.
    /// @param operator The operator.
    /// @param jobsCompleted New count.
    event JobCompletedRecorded(address indexed operator, uint64 jobsCompleted);
    /// @notice The operator lost a dispute.
    /// @param operator The operator.
    /// @param disputesLost New count.
    event DisputeLostRecorded(address indexed operator, uint64 disputesLost);
    /// @notice A contract was (de)authorised to lock, slash and record.
    /// @param account The contract.
    /// @param allowed Authorised or not.
    event AuthorisationSet(address indexed account, bool allowed);

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers the caller as an operator with msg.value as stake (at least `minStake`).
    /// @param signer Hot key for receipts.
    /// @param region Region index (0-11).
    /// @param hardwareTag Hardware hash.
    /// @param attestationHash Attestation hash (0 if none).
    /// @param endpoint Endpoint (informational).
    function register(
        address signer,
        uint8 region,
        bytes32 hardwareTag,
        bytes32 attestationHash,
        string calldata endpoint
    ) external payable;

    /// @notice Adds msg.value to the caller's stake.
    function addStake() external payable;

    /// @notice Moves `amount` of unlocked stake to unbonding; the delay restarts for the whole unbonding sum.
    /// @param amount Wei.
    function requestUnstake(uint256 amount) external;

    /// @notice Pays out the unbonding stake once the delay has passed.
    function withdrawUnstaked() external;

    /// @notice Changes the receipt signer.
    /// @param signer New signer.
    function setSigner(address signer) external;

    /// @notice Changes region, hardware, attestation and endpoint.
    /// @param region Region index.
    /// @param hardwareTag Hardware hash.
    /// @param attestationHash Attestation hash.
    /// @param endpoint Endpoint.
    function updateProfile(uint8 region, bytes32 hardwareTag, bytes32 attestationHash, string calldata endpoint)
        external;

    /// @notice Locks `amount` of the operator's free stake for the caller (an authorised contract) as a job's
    /// bond. The operator must also still hold at least `minStake` (stake, locked part included), so an
    /// operator that unstaked below the minimum after registering cannot take new work (`StakeTooLow(stake,
    /// minStake)`; issue #12, finding 10); `InsufficientFreeStake` when the free stake is short.
    /// @param operator The operator.
    /// @param amount Wei.
    function lockBond(address operator, uint256 amount) external;

    /// @notice Releases stake the caller locked.
    /// @param operator The operator.
    /// @param amount Wei.
    function unlock(address operator, uint256 amount) external;

    /// @notice Takes up to `amount` from the operator: first the caller's own lock, then free stake, then
    /// unbonding stake; sends it to `to`. Slashing an empty stake takes 0 and does not revert.
    /// @param operator The operator.
    /// @param amount Wei asked.
    /// @param to Recipient.
    /// @return slashed Wei taken.
    function slash(address operator, uint256 amount, address to) external returns (uint256 slashed);

    /// @notice Counts a finalized job (authorised contracts).
    /// @param operator The operator.
    function recordJobCompleted(address operator) external;

    /// @notice Counts a lost dispute (authorised contracts).
    /// @param operator The operator.
    function recordDisputeLost(address operator) external;

    /// @notice An operator's record.
    /// @param operator The operator.
    /// @return The record.
    function getOperator(address operator) external view returns (Operator memory);

    /// @notice The fields a job market checks, from one storage slot (cheaper than `getOperator`).
    /// @param operator The operator.
    /// @return registered Whether it exists.
    /// @return region Its region index.
    /// @return signer Its receipt signer.
    function operatorInfo(address operator) external view returns (bool registered, uint8 region, address signer);

    /// @notice Unlocked stake.
    /// @param operator The operator.
    /// @return stake - locked.
    function freeStake(address operator) external view returns (uint256);

    /// @notice Stake a given contract has locked.
    /// @param operator The operator.
    /// @param by The contract.
    /// @return Wei.
    function lockedBy(address operator, address by) external view returns (uint256);
}
