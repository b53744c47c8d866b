// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IArbitrator} from "./IArbitration.sol";
import {ICairnCommon} from "./ICairnCommon.sol";
import {IJurorPool} from "./IJurorPool.sol";

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
/// @notice Disputes re-executed by k seats drawn from the juror pool by stake (IJurorPool), whose jurors commit
/// then reveal a vote. Disputes are drawn in creation order (a FIFO queue) and, while any awaits its draw, the
/// pool's tree is frozen, so the weights a seed will draw from are fixed before the seed is known (issue #12,
/// finding 2).
interface IReexecutionCommittee is IArbitrator, ICairnCommon {
    /// @notice A dispute's phase.
    enum Phase {
        None,
        Created,
        Drawn,
        Ruled,
        Waiting
    }

    /// @notice Governance parameters, each bounded.
    /// @param jurors k, odd, 1 to 15.
    /// @param fee Arbitration cost (wei).
    /// @param commitPeriod Seconds to commit after the draw.
    /// @param revealPeriod Seconds to reveal after the commit period.
    /// @param keeperReward Paid out of the fee to whoever draws the jurors (wei, at most fee), so a draw is
    /// worth sending as soon as the seed block is mined.
    /// @param nonRevealPenalty Slashed per seat whose juror does not reveal, out of that seat's lock only (at
    /// most the pool's seatSize). Each dispute keeps the value of its creation.
    /// @param auditReserve Free seats an audit's draw must leave for challenges (issue #12: challenges have
    /// priority over audits for verifiers' stake); an audit that would leave fewer waits (`DrawDeferred`), at most
    /// 1,000. An audit is a dispute whose arbitrable opened it as its own challenger (the DisputeDesk's audits).
    struct Params {
        uint8 jurors;
        uint256 fee;
        uint64 commitPeriod;
        uint64 revealPeriod;
        uint256 keeperReward;
        uint256 nonRevealPenalty;
        uint16 auditReserve;
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
    /// @notice Disputes are drawn in creation order: this one is not the queue's head.
    /// @param disputeId The dispute asked.
    /// @param head The dispute to draw first.
    error NotQueueHead(uint256 disputeId, uint256 head);
    /// @notice The seed is no longer served: call `reseed` (once per dispute).
    /// @param disputeId The dispute.
    /// @param seedBlock Its seed block.
    error SeedLapsed(uint256 disputeId, uint256 seedBlock);
    /// @notice `reseed` while the seed is still served, or a second time.
    /// @param disputeId The dispute.
    /// @param seedBlock Its seed block.
    error ReseedRefused(uint256 disputeId, uint256 seedBlock);
    /// @notice `retry` before the pool holds enough free seats.
    /// @param disputeId The dispute.
    /// @param freeSeats Seats in the pool.
    /// @param needed The dispute's seats.
    error NotEnoughFreeSeats(uint256 disputeId, uint256 freeSeats, uint256 needed);
    /// @notice The reveal does not match the commitment, or the vote is not 1 or 2.
    /// @param disputeId The dispute.
    /// @param juror The juror.
    error BadReveal(uint256 disputeId, address juror);

    /// @notice A dispute was opened and queued for its draw.
    /// @param disputeId The dispute.
    /// @param accused Never seated.
    /// @param challenger Never seated; paid the fee.
    /// @param seats Seats to draw (k at creation).
    /// @param seedBlock The block whose hash seeds the draw.
    /// @param nonRevealPenalty Wei per silent seat (snapshot).
    event DisputeOpened(
        uint256 indexed disputeId,
        address accused,
        address challenger,
        uint256 seats,
        uint256 seedBlock,
        uint256 nonRevealPenalty
    );
    /// @notice Jurors were drawn.
    /// @param disputeId The dispute.
    /// @param jurors One per seat (a juror may hold several seats, one vote each).
    /// @param commitDeadline Commits strictly before.
    /// @param revealDeadline Reveals strictly before.
    event JurorsDrawn(uint256 indexed disputeId, address[] jurors, uint64 commitDeadline, uint64 revealDeadline);
    /// @notice The pool could not fill the seats: the dispute left the queue and waits for `retry`; nothing
    /// is ruled and the accused's bond stays locked (issue #12, finding 5).
    /// @param disputeId The dispute.
    /// @param freeSeats Seats the pool held.
    event DrawDeferred(uint256 indexed disputeId, uint256 freeSeats);
    /// @notice A waiting dispute was queued again with a new seed block.
    /// @param disputeId The dispute.
    /// @param seedBlock The new seed block.
    event DrawRetried(uint256 indexed disputeId, uint256 seedBlock);
    /// @notice The drawer was paid the keeper reward (a pull balance).
    /// @param disputeId The dispute.
    /// @param keeper Who drew.
    /// @param amount Wei.
    event KeeperPaid(uint256 indexed disputeId, address indexed keeper, uint256 amount);
    /// @notice Both the seed and its one reseed lapsed undrawn: ruled 2 against the accused, who could have
    /// drawn in time and is the only party a lapse could have helped.
    /// @param disputeId The dispute.
    event DrawLapsed(uint256 indexed disputeId);
    /// @notice The seed was no longer served; a new one was chosen (once per dispute).
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

    /// @notice Draws the seats of the queue's head (`NotQueueHead` otherwise) once its seed block is mined, and
    /// pays the caller the keeper reward (on a successful draw, and on the dispute's first attempt whatever its
    /// outcome). When the pool cannot fill the seats, the dispute leaves the queue and waits (`DrawDeferred`).
    /// When the seed is no longer served it reverts `SeedLapsed` (call `reseed`); after the one reseed lapsed
    /// too, it rules 2 (`DrawLapsed`), or, for a dispute that already waited once, waits again.
    /// @param disputeId The dispute.
    function draw(uint256 disputeId) external;

    /// @notice Picks a new seed block for the queue's head (`NotQueueHead`) once the randomness source no longer
    /// serves the old one (256 blocks for `blockhash`, 8,191 where EIP-2935 history exists); once per dispute
    /// (`ReseedRefused`).
    /// @param disputeId The dispute.
    function reseed(uint256 disputeId) external;

    /// @notice Ends a dispute that has waited for seats `MAX_WAIT` (30 days) since it opened: ruling 0 with no
    /// jury (`DisputeRuled(disputeId, 0, 0, 0)`), the fee back to the challenger. Holding the pool exhausted that
    /// long costs the accused far more than its bond (docs/ARCHITECTURE.md, "Liveness"); without this end a
    /// dispute whose old-enough seats never return would lock the escrow, both bonds and the fee for good.
    /// @param disputeId The dispute.
    function expire(uint256 disputeId) external;

    /// @notice Queues a waiting dispute again with a new seed block, once the pool holds at least its seats
    /// (`NotEnoughFreeSeats`). No jury was seen, so this re-rolls nothing.
    /// @param disputeId The dispute.
    function retry(uint256 disputeId) external;

    /// @notice The juror pool.
    /// @return The pool whose seats this committee draws.
    function pool() external view returns (IJurorPool);

    /// @notice The seed source of draws (and of the desk's audits).
    /// @return The randomness.
    function randomness() external view returns (IRandomness);

    /// @notice Disputes in the draw queue; the juror pool applies no change while it is not zero.
    /// @return How many.
    function awaitingDraw() external view returns (uint256);

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

    /// @notice Tallies the seats' votes after the reveal deadline (or once all revealed), pays the majority
    /// per seat, penalises non-revealers, and calls the arbitrable's `rule`. Each juror's seats are released
    /// and its penalty taken from them in one `IJurorPool.settle`, with the penalty of the dispute's creation,
    /// so it always succeeds whatever other disputes or governance did. When nobody revealed, the
    /// pool (fee and penalties) goes to the challenger.
    /// @param disputeId The dispute.
    function resolve(uint256 disputeId) external;

    /// @notice The jurors of a dispute, each once.
    /// @param disputeId The dispute.
    /// @return The jurors.
    function jurorsOf(uint256 disputeId) external view returns (address[] memory);

    /// @notice Whether no vote of the dispute is public yet: true until its jurors are drawn and while none of
    /// them has revealed. The dispute desk closes a challenge pool to new joiners once this is false, so nobody
    /// joins the winning side after reading the votes.
    /// @param disputeId The dispute.
    /// @return Whether every vote is still hidden.
    function votesHidden(uint256 disputeId) external view returns (bool);

    /// @notice Seats a juror holds in a dispute (its vote counts that many times).
    /// @param disputeId The dispute.
    /// @param juror The juror.
    /// @return Seats.
    function seatsOf(uint256 disputeId, address juror) external view returns (uint256);
}
