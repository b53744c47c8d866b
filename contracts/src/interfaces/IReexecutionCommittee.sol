// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IArbitrator} from "./IArbitration.sol";
import {ICairnCommon} from "./ICairnCommon.sol";

/// @title IRandomness
/// @notice Seeds for drawing jurors; behind an interface so a VRF can replace the blockhash source.
interface IRandomness {
    /// @notice A seed for `salt` from block `seedBlock`.
    /// @param seedBlock A block after the dispute opened.
    /// @param salt Mixed in (the dispute id).
    /// @return The seed.
    function seed(uint256 seedBlock, uint256 salt) external view returns (bytes32);
}

/// @title IReexecutionCommittee
/// @notice Disputes re-executed by k staked verifiers drawn by stake, who commit then reveal a vote.
interface IReexecutionCommittee is IArbitrator, ICairnCommon {
    /// @notice A dispute's phase.
    enum Phase {
        None,
        Created,
        Drawn,
        Ruled
    }

    /// @notice Governance parameters, each bounded.
    /// @param jurors k, odd, 1 to 15.
    /// @param fee Arbitration cost (wei).
    /// @param commitPeriod Seconds to commit after the draw.
    /// @param revealPeriod Seconds to reveal after the commit period.
    /// @param jurorLock Free stake each juror must have, locked until the ruling (0.01 to 1000 ETH). Each
    /// dispute keeps the value of its creation.
    /// @param nonRevealPenalty Slashed from a juror who does not reveal, out of that dispute's lock only (at
    /// most jurorLock). Each dispute keeps the value of its creation.
    struct Params {
        uint8 jurors;
        uint256 fee;
        uint64 commitPeriod;
        uint64 revealPeriod;
        uint256 jurorLock;
        uint256 nonRevealPenalty;
    }

    /// @notice The caller may not open disputes.
    /// @param caller The caller.
    error NotArbitrable(address caller);
    /// @notice Only 2 choices are supported.
    /// @param choices Asked.
    error UnsupportedChoices(uint256 choices);
    /// @notice No such dispute.
    /// @param disputeId The id.
    error UnknownDispute(uint256 disputeId);
    /// @notice The dispute is in another phase.
    /// @param disputeId The dispute.
    /// @param phase Its phase.
    error WrongPhase(uint256 disputeId, Phase phase);
    /// @notice Too early or too late for this action.
    /// @param disputeId The dispute.
    /// @param boundary The relevant block or time.
    /// @param current The current block or time.
    error OutsidePeriod(uint256 disputeId, uint256 boundary, uint256 current);
    /// @notice The caller is not a juror of this dispute.
    /// @param disputeId The dispute.
    /// @param caller The caller.
    error NotJuror(uint256 disputeId, address caller);
    /// @notice Already committed or revealed.
    /// @param disputeId The dispute.
    /// @param juror The juror.
    error AlreadyDone(uint256 disputeId, address juror);
    /// @notice A zero commitment: it would count as a commit while leaving the juror free to commit again
    /// (issue #12, finding 7).
    /// @param disputeId The dispute.
    /// @param juror The juror.
    error ZeroCommitment(uint256 disputeId, address juror);
    /// @notice The reveal does not match the commitment, or the vote is not 1 or 2.
    /// @param disputeId The dispute.
    /// @param juror The juror.
    error BadReveal(uint256 disputeId, address juror);

    /// @notice Jurors were drawn.
    /// @param disputeId The dispute.
    /// @param jurors Who.
    /// @param commitDeadline Commits strictly before.
    /// @param revealDeadline Reveals strictly before.
    event JurorsDrawn(uint256 indexed disputeId, address[] jurors, uint64 commitDeadline, uint64 revealDeadline);
    /// @notice Too few eligible verifiers: the committee refuses to rule.
    /// @param disputeId The dispute.
    /// @param eligible How many were eligible.
    event NotEnoughJurors(uint256 indexed disputeId, uint256 eligible);
    /// @notice The seed block was too old; a new one was chosen.
    /// @param disputeId The dispute.
    /// @param seedBlock The new seed block.
    event Reseeded(uint256 indexed disputeId, uint256 seedBlock);
    /// @notice A juror committed (itself or through its signer key).
    /// @param disputeId The dispute.
    /// @param juror The juror (the operator).
    /// @param commitment The commitment, checked again at the reveal.
    event VoteCommitted(uint256 indexed disputeId, address indexed juror, bytes32 commitment);
    /// @notice A juror revealed.
    /// @param disputeId The dispute.
    /// @param juror The juror.
    /// @param vote 1 acceptable, 2 not acceptable.
    event VoteRevealed(uint256 indexed disputeId, address indexed juror, uint256 vote);
    /// @notice The committee ruled.
    /// @param disputeId The dispute.
    /// @param ruling 0, 1 or 2.
    /// @param votesAcceptable Votes for 1.
    /// @param votesNotAcceptable Votes for 2.
    event DisputeRuled(uint256 indexed disputeId, uint256 ruling, uint256 votesAcceptable, uint256 votesNotAcceptable);
    /// @notice Governance changed the parameters.
    /// @param params The parameters.
    event ParamsUpdated(Params params);
    /// @notice An arbitrable contract was (de)authorised.
    /// @param arbitrable The contract.
    /// @param allowed Whether it may open disputes.
    event ArbitrableSet(address indexed arbitrable, bool allowed);

    /// @notice Draws the jurors once the seed block is mined (within 256 blocks of it); fewer eligible
    /// verifiers than k rules 0 at once.
    /// @param disputeId The dispute.
    function draw(uint256 disputeId) external;

    /// @notice Picks a new seed block when the old one is more than 256 blocks ago.
    /// @param disputeId The dispute.
    function reseed(uint256 disputeId) external;

    /// @notice Commits `keccak256(abi.encode(disputeId, juror, vote, salt))` strictly before the commit deadline,
    /// once per juror and never zero (`ZeroCommitment`). The caller is the juror or its current signer key
    /// (`NotOperatorOrSigner`).
    /// @param disputeId The dispute.
    /// @param juror The drawn juror (operator) the vote is for.
    /// @param commitment The commitment.
    function commit(uint256 disputeId, address juror, bytes32 commitment) external;

    /// @notice Reveals a vote from the commit deadline (or once all committed) strictly before the reveal
    /// deadline. The caller is the juror or its current signer key.
    /// @param disputeId The dispute.
    /// @param juror The juror the vote is for.
    /// @param vote 1 acceptable, 2 not acceptable.
    /// @param salt The commitment's salt.
    function reveal(uint256 disputeId, address juror, uint256 vote, bytes32 salt) external;

    /// @notice Tallies after the reveal deadline (or once all revealed), pays the majority, penalises
    /// non-revealers, and calls the arbitrable's `rule`. Each juror's lock for this dispute is released and
    /// its penalty taken from that lock in one `unlockAndSlash`, with the lock and penalty of the dispute's
    /// creation, so it always succeeds whatever other disputes or governance did. When nobody revealed, the
    /// pool (fee and penalties) goes to the challenger.
    /// @param disputeId The dispute.
    function resolve(uint256 disputeId) external;

    /// @notice The jurors of a dispute.
    /// @param disputeId The dispute.
    /// @return The jurors.
    function jurorsOf(uint256 disputeId) external view returns (address[] memory);
}
