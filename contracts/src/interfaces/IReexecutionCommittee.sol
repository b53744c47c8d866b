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
        Waiting,
        Appealable
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
    /// priority over audits for verifiers' stake) during its first `AUDIT_PRIORITY` (1 day); an audit that would
    /// leave fewer waits (`DrawDeferred`), at most 1,000. An audit is a dispute whose arbitrable opened it as its own challenger (the DisputeDesk's audits).
    /// @param appealPeriod Seconds after a round's ruling during which anyone may appeal it (0: the first round is
    /// final; otherwise 60 s to 7 days). Each dispute keeps the value of its creation.
    /// @param coherencePenalty Slashed per seat that revealed against the final ruling (wei, at most
    /// nonRevealPenalty, so at most the pool's seatSize), so a wrong vote costs more than re-running the job and
    /// silence never less than a wrong vote (issue #12, finding 8). Each dispute keeps the value of its creation.
    struct Params {
        uint8 jurors;
        uint256 fee;
        uint64 commitPeriod;
        uint64 revealPeriod;
        uint256 keeperReward;
        uint256 nonRevealPenalty;
        uint16 auditReserve;
        uint64 appealPeriod;
        uint256 coherencePenalty;
    }

    /// @notice The caller may not open disputes.
    /// @param caller The caller.
    error NotArbitrable(address caller);
    /// @notice Only 3 choices are supported (1 acceptable, 2 not acceptable, 3 the input cannot be fetched).
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
    /// @notice The reveal does not match the commitment, or the vote is not 1, 2 or 3.
    /// @param disputeId The dispute.
    /// @param juror The juror.
    error BadReveal(uint256 disputeId, address juror);
    /// @notice Only the canary key registers and reveals canaries.
    /// @param caller The sender.
    error NotCanaryKey(address caller);
    /// @notice A canary commitment is zero or already registered.
    /// @param commitment The commitment.
    error BadCanaryCommitment(bytes32 commitment);
    /// @notice The canary cannot be revealed on this dispute: its commitment was never registered, or registered
    /// after the block whose hash seeded the jury (`registeredAt` > `seedBlock`; 0 when never registered), or the
    /// answer is not 1, 2 or 3.
    /// @param disputeId The dispute.
    /// @param registeredAt The block the commitment was registered in (0: never).
    /// @param seedBlock The dispute's seed block.
    error CanaryRefused(uint256 disputeId, uint256 registeredAt, uint256 seedBlock);

    /// @notice A dispute was opened and queued for its draw.
    /// @param disputeId The dispute.
    /// @param accused Never seated.
    /// @param challenger Never seated; paid the fee.
    /// @param seats Seats to draw (k at creation).
    /// @param seedBlock The block whose hash seeds the draw.
    /// @param nonRevealPenalty Wei per silent seat (snapshot).
    /// @param expiresAt The earliest timestamp (seconds) from which the dispute may be `expire`d should it wait for
    /// seats: the opening plus `waitFor` the accused's bond. Other disputes waiting at the same time lengthen it
    /// (`expiresAt(disputeId)` gives the current one).
    event DisputeOpened(
        uint256 indexed disputeId,
        address accused,
        address challenger,
        uint256 seats,
        uint256 seedBlock,
        uint256 nonRevealPenalty,
        uint256 expiresAt
    );
    /// @notice Jurors were drawn: a round's seats, or the seats of a redraw within the round (the silent seats of
    /// its last draw). A seat that falls on a juror who already revealed in this round counts its vote at once.
    /// @param disputeId The dispute.
    /// @param round The round (0 first, then one per appeal).
    /// @param jurors One per seat drawn now (a juror may hold several seats, one vote each).
    /// @param commitDeadline Commits strictly before.
    /// @param revealDeadline Reveals strictly before.
    event JurorsDrawn(
        uint256 indexed disputeId, uint8 round, address[] jurors, uint64 commitDeadline, uint64 revealDeadline
    );
    /// @notice Seats stayed silent where they could change the round's plurality: the silent jurors' seats were
    /// released and slashed the non-reveal penalty, and as many seats are drawn again (at most `MAX_REDRAWS` times
    /// per round); the revealed votes stand.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param seats Seats to draw again.
    /// @param seedBlock The redraw's seed block.
    event SilentSeatsRedrawn(uint256 indexed disputeId, uint8 round, uint256 seats, uint256 seedBlock);
    /// @notice A round ruled and may be appealed until `appealDeadline`; without an appeal its ruling is final.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param ruling The revealed seats' plurality: 1, 2 or 3, or 0 when the most votes are tied.
    /// @param votesAcceptable Seats for 1.
    /// @param votesNotAcceptable Seats for 2.
    /// @param votesUnavailable Seats for 3 (the input could not be fetched).
    /// @param appealDeadline Appeals strictly before (seconds).
    event RoundRuled(
        uint256 indexed disputeId,
        uint8 round,
        uint256 ruling,
        uint256 votesAcceptable,
        uint256 votesNotAcceptable,
        uint256 votesUnavailable,
        uint64 appealDeadline
    );
    /// @notice A round's ruling was appealed: a new round with a larger jury is queued for its draw.
    /// @param disputeId The dispute.
    /// @param round The new round.
    /// @param appellant Who paid; refunded when the final ruling differs from the one appealed.
    /// @param fee Wei paid (`appealCost`).
    /// @param seats The new round's seats (2k + 1).
    /// @param seedBlock Its seed block.
    event AppealRaised(
        uint256 indexed disputeId, uint8 round, address indexed appellant, uint256 fee, uint256 seats, uint256 seedBlock
    );
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
    /// @param round The round.
    /// @param juror The juror (the operator).
    /// @param commitment The commitment, checked again at the reveal.
    event VoteCommitted(uint256 indexed disputeId, uint8 round, address indexed juror, bytes32 commitment);
    /// @notice A juror revealed.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param juror The juror.
    /// @param vote 1 acceptable, 2 not acceptable, 3 the input could not be fetched.
    event VoteRevealed(uint256 indexed disputeId, uint8 round, address indexed juror, uint256 vote);
    /// @notice The committee's final ruling (no appeal in time, the last round, or an expired wait); every seat
    /// of every round is settled: silent seats slashed the non-reveal penalty, seats against the ruling the
    /// coherence penalty, the rest share the pot.
    /// @param disputeId The dispute.
    /// @param ruling 0 to 3 (IArbitrable).
    /// @param votesAcceptable Seats for 1 in the last round.
    /// @param votesNotAcceptable Seats for 2 in the last round.
    /// @param votesUnavailable Seats for 3 in the last round.
    event DisputeRuled(
        uint256 indexed disputeId,
        uint256 ruling,
        uint256 votesAcceptable,
        uint256 votesNotAcceptable,
        uint256 votesUnavailable
    );
    /// @notice Governance changed the parameters.
    /// @param params The parameters.
    event ParamsUpdated(Params params);
    /// @notice An arbitrable contract was (de)authorised.
    /// @param arbitrable The contract.
    /// @param allowed Whether it may open disputes.
    event ArbitrableSet(address indexed arbitrable, bool allowed);
    /// @notice Governance set the key that registers and reveals canaries (address(0): none).
    /// @param canaryKey The key.
    event CanaryKeySet(address indexed canaryKey);
    /// @notice The canary key committed to a dispute's known answer, keccak256(abi.encode(disputeId, answer, salt));
    /// which dispute stays hidden until `revealCanary`.
    /// @param commitment The commitment.
    event CanaryRegistered(bytes32 commitment);
    /// @notice A dispute was revealed as a canary with its known answer: ruled finally in its first round without a
    /// redraw, its seats are judged against the answer instead of the ruling (the ruling itself, and so the job's
    /// money, is the votes' as for any dispute).
    /// @param disputeId The dispute.
    /// @param answer 1, 2 or 3.
    event CanaryRevealed(uint256 indexed disputeId, uint256 answer);

    /// @notice Registers a canary's commitment, keccak256(abi.encode(disputeId, answer, salt)) (the canary key only;
    /// `BadCanaryCommitment` for zero or a repeat). It must land no later than the dispute's seed block, so the
    /// answer is fixed before anyone can know the jury. The treasury registers decoys too, so registrations do not
    /// tell which disputes are canaries (docs/ARCHITECTURE.md, "Lazy jurors and canaries").
    /// @param commitment The commitment.
    function registerCanary(bytes32 commitment) external;

    /// @notice Reveals that `disputeId` is a canary with the known `answer` (the canary key only, once per dispute),
    /// once the jurors' votes are bound (from the commit deadline, or once every seat committed) and until its first
    /// round's ruling is final (`Drawn`, or `Appealable` in round 0), without a redraw. The dispute goes on as any other (redraws,
    /// appeals, the ruling the arbitrable gets); when it is ruled finally in that first round without a redraw,
    /// every seat is judged against `answer` instead of the ruling: seats against it pay the coherence penalty, the
    /// others share the pot, silent seats pay the non-reveal penalty as always. A redraw or an appeal after the
    /// reveal seats jurors who knew the answer, so it voids the canary. The key thus moves no job money and costs a
    /// seat at most the coherence penalty. `CanaryRefused` when the commitment was not registered by the seed
    /// block, the answer is not 1 to 3, the round is not the first or was redrawn, or the dispute was revealed
    /// already; `OutsidePeriod` before the votes are bound; `WrongPhase` once the ruling is final (or before a draw).
    /// @param disputeId The dispute.
    /// @param answer 1 acceptable, 2 not acceptable, 3 the input cannot be fetched.
    /// @param salt The commitment's salt.
    function revealCanary(uint256 disputeId, uint256 answer, bytes32 salt) external;

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

    /// @notice Ends a dispute still waiting for seats at `expiresAt` (its opening plus the waits of every dispute
    /// waiting at the same time, `waitingDays`, at most 365 days): in its first round ruling 0 (the seats that
    /// revealed before a redraw that never came share the pot as on a tie; with none, the fee goes back to the
    /// challenger), or 2 for a dispute opened late; in an appeal round the appealed ruling stands. Holding the pool
    /// exhausted that long costs the accused decoy disputes in proportion to the wait, so to the bonds waiting
    /// together, which one stream of decoys would hold off at once (docs/ARCHITECTURE.md, "A wait has an end");
    /// without this end a dispute whose old-enough seats never return would lock the escrow, both bonds and the fee
    /// for good.
    /// @param disputeId The dispute.
    function expire(uint256 disputeId) external;

    /// @notice How long a dispute over `bond` may wait for seats before `expire`: `MIN_WAIT` (30 days) · bond /
    /// `WAIT_BOND` (4 ETH), rounded up to whole days, at least `MIN_WAIT` and at most `MAX_WAIT` (365 days).
    /// @param bond The accused's bond (wei), from `createDispute`'s extraData.
    /// @return The wait in seconds (whole days).
    function waitFor(uint256 bond) external pure returns (uint256);

    /// @notice The timestamp (seconds) from which `disputeId` may be `expire`d while it waits for seats, as things
    /// stand: its opening plus `waitingDays` (plus its own `waitFor` when it does not wait yet), at most `MAX_WAIT`.
    /// It grows when more disputes start waiting and shrinks when they are drawn or ruled.
    /// @param disputeId The dispute (`UnknownDispute` if never opened).
    /// @return A timestamp in seconds.
    function expiresAt(uint256 disputeId) external view returns (uint256);

    /// @notice The sum of the waits (whole days, each `waitFor` its accused's bond) of the disputes waiting for seats:
    /// each counts from its first `DrawDeferred` until a jury is seated (`JurorsDrawn`) or it is ruled, a `retry`
    /// included, so deferring again after a retry cannot shorten another dispute's wait.
    /// @return Days.
    function waitingDays() external view returns (uint256);

    /// @notice Queues a waiting dispute again with a new seed block, once the pool holds at least the seats it
    /// still has to draw (`NotEnoughFreeSeats`). No jury was seen, so this re-rolls nothing.
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

    /// @notice Commits `keccak256(abi.encode(disputeId, round, juror, vote, salt))` (the current round: a
    /// commitment of one round never serves another) strictly before the commit deadline, once per juror and round
    /// and never zero (`ZeroCommitment`). The caller is the juror or its current signer key
    /// (`NotOperatorOrSigner`).
    /// @param disputeId The dispute.
    /// @param juror The drawn juror (operator) the vote is for.
    /// @param commitment The commitment.
    function commit(uint256 disputeId, address juror, bytes32 commitment) external;

    /// @notice Reveals a vote from the commit deadline (or once all committed) strictly before the reveal
    /// deadline. The caller is the juror or its current signer key.
    /// @param disputeId The dispute.
    /// @param juror The juror the vote is for.
    /// @param vote 1 acceptable, 2 not acceptable, 3 the job's input could not be fetched (the operator, who
    /// must keep it pinned through the ruling, pays the fee and what a ruling of 2 would burn out of its bond).
    /// @param salt The commitment's salt.
    function reveal(uint256 disputeId, address juror, uint256 vote, bytes32 salt) external;

    /// @notice After the reveal deadline (or once all revealed): when silent seats could change the round's
    /// plurality, slashes them and draws as many again (`SilentSeatsRedrawn`, at most `MAX_REDRAWS` per round; with
    /// none revealed after that the dispute waits); otherwise the revealed seats rule the round. A round that may
    /// be appealed becomes `Appealable` (`RoundRuled`); a round that may not, or an `Appealable` one after its
    /// appeal deadline, rules finally: every seat of every round is released and settled in one
    /// `IJurorPool.settle` each (non-reveal penalty for silence, coherence penalty against the ruling, both as at
    /// the dispute's creation), appellants whose appeal changed the ruling are refunded, the coherent seats share
    /// the rest of the pot (fees and penalties), and the arbitrable's `rule` is called. When no seat was coherent,
    /// the pot goes to the challenger. A round is appealable only when `appealPeriod` was set at the dispute's
    /// creation and the next jury (2k + 1) stays within `MAX_JURORS`.
    /// @param disputeId The dispute.
    function resolve(uint256 disputeId) external;

    /// @notice Appeals the current round's ruling before its appeal deadline (anyone; exactly `appealCost`, else
    /// `WrongPayment`) while the dispute is `Appealable` (`WrongPhase` otherwise): a new round of 2k + 1 seats is
    /// queued for its draw; earlier rounds' seats stay locked until the final ruling.
    /// @param disputeId The dispute.
    function appeal(uint256 disputeId) external payable;

    /// @notice The fee of the next round: fee × 2^(r+1) × k_(r+1) / k_0 with the dispute's own first fee and jury
    /// (0 unless the dispute is `Appealable`).
    /// @param disputeId The dispute.
    /// @return Wei.
    function appealCost(uint256 disputeId) external view returns (uint256);

    /// @notice The jurors of a dispute's first round, each once (empty until its draw).
    /// @param disputeId The dispute.
    /// @return The jurors.
    function jurorsOf(uint256 disputeId) external view returns (address[] memory);

    /// @notice The jurors of one round of a dispute, each once (a silent juror stays listed with no seat).
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @return The jurors.
    function jurorsIn(uint256 disputeId, uint8 round) external view returns (address[] memory);

    /// @notice Whether no vote of the dispute is public yet: true until its jurors are drawn and while none of
    /// them has revealed. The dispute desk closes a challenge pool to new joiners once this is false, so nobody
    /// joins the winning side after reading the votes.
    /// @param disputeId The dispute.
    /// @return Whether every vote is still hidden.
    function votesHidden(uint256 disputeId) external view returns (bool);

    /// @notice Seats a juror holds in a dispute's current round (its vote counts that many times).
    /// @param disputeId The dispute.
    /// @param juror The juror.
    /// @return Seats.
    function seatsOf(uint256 disputeId, address juror) external view returns (uint256);
}
