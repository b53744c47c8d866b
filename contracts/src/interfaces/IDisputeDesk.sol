// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IArbitrable, IEvidence} from "./IArbitration.sol";
import {ICairnCommon} from "./ICairnCommon.sol";
import {IJobMarket} from "./IJobMarket.sol";

/// @title IDisputeDesk
/// @notice The arbitrable side of Cairn's disputes (issue #12, findings 3 and 4): a challenged job's pool of
/// challengers, the arbitration fee, and what each side gets from the committee's ruling. The job market keeps
/// the escrow and the operator's bond; the desk asks it to settle.
///
/// A challenge no longer closes the job to others: the first challenger pays `challengeBond` plus the
/// arbitration cost and opens the dispute; until the job's `challengeEnds`, and while no juror has revealed a
/// vote, anyone else joins the pool with `challengeBond` alone (one ticket per address). Whoever came first, the ruling is the same for every ticket:
///  - 2 (output not acceptable): the operator's whole bond is slashed to the desk; the first challenger's
///    arbitration fee is refunded out of it (unless the committee already returned the unspent fee: a dispute
///    ruled without jurors, `DrawLapsed`), `burnBps` of the rest is burned and the remainder is shared equally
///    among the tickets (dust to the first); each ticket collects its bond plus its share;
///  - 1 (acceptable): every ticket's bond is lost, `burnBps` burned and the rest credited to the operator;
///  - 0 (refused, e.g. a dispute expired after waiting too long): every ticket collects its bond back.
///  - 3 (the job's input could not be fetched): every ticket collects its bond back; the operator, who had to keep
///    the input pinned, pays the fee (back to the first challenger, or the audit pool) and what a ruling of 2
///    would burn (`burnBps` of the bond less the fee, burned) out of its bond, so hiding the input when audited
///    costs at least the burn the audit rate prices in and nobody gains from it.
/// So a cheat that challenges its own job first from a second address still loses its bond and can recover
/// at most its pro-rata share, and an honest watcher is never shut out.
/// `burnBps`, the bond and the fee are snapshotted when the pool opens; governance changes never touch it.
///
/// Random audits (issue #12, finding 3; Hyperbolic's proof of sampling and Truebit are the anchors): when a
/// result is submitted the market schedules its audit: probability f = min(1, s × F / (F + β × B)) (F the
/// operator fee in ETH, B the bond, β `burnBps`, s `safetyBps` / 10,000; at least `minRateBps`), so that a garbage
/// runner's expected profit F − f × (F + βB) is negative at every job size when s > 1, and the job's premium
/// π = ⌈f × A⌉ (A the arbitration cost) in the job's token, taken from the operator fee at settlement into the
/// audit pool (ETH jobs) or the treasury (ERC-20 jobs, which funds the pool in ETH). Anyone evaluates the draw
/// (`evaluateAudit`) once the block of `submitResult` is mined and while its hash is served; a seed no longer
/// served means audited. An audit is a dispute with the desk as its challenger and no ticket: the audit pool
/// advances the fee, watchers may still join it as on any pool, and on ruling 2 the slashed bond refunds the fee
/// and its unburned rest returns to the audit pool when no ticket shares it. `finalize` requires the audit to
/// have been evaluated and not drawn.
interface IDisputeDesk is ICairnCommon, IArbitrable, IEvidence {
    /// @notice Where a job's audit stands.
    enum AuditState {
        None,
        Pending,
        Cleared,
        Audited
    }

    /// @notice A submitted job's random audit.
    /// @param seedBlock The block of `submitResult`, whose hash draws the audit (0 before a result).
    /// @param rate Probability of an audit, scaled by 1e18.
    /// @param state None (no result yet), Pending (to evaluate), Cleared (not audited: the job may finalize) or
    /// Audited (a dispute is open).
    /// @param premium The job's audit premium, in the job's token (wei for ETH jobs), out of the operator fee.
    struct Audit {
        uint64 seedBlock;
        uint64 rate;
        AuditState state;
        uint120 premium;
    }

    /// @notice Governance's audit parameters.
    /// @param safetyBps s in basis points: 12,500 audits 1.25 × the break-even rate of a garbage runner (below
    /// 10,000 garbage pays; 0 leaves only `minRateBps`, for tests); at most 50,000.
    /// @param minRateBps Least audit probability in basis points (≤ 10,000: every job).
    struct AuditParams {
        uint16 safetyBps;
        uint16 minRateBps;
    }

    /// @notice One challenged job's pool.
    /// @param disputeId The committee's dispute (0 while no challenge).
    /// @param first The challenger who opened it and advanced the arbitration fee.
    /// @param tickets Challengers in the pool (one per address).
    /// @param burnBps Part of a losing side's money that is burned, at the opening.
    /// @param ruled Whether the ruling arrived.
    /// @param ruling The ruling (0 to 3), once ruled.
    /// @param bond Each ticket's bond (wei), at the opening.
    /// @param fee The arbitration fee the first challenger paid (wei).
    /// @param payout What each ticket collects after the ruling (wei; 0 when ruled 1).
    struct Pool {
        uint256 disputeId;
        address first;
        uint64 tickets;
        uint16 burnBps;
        bool ruled;
        uint8 ruling;
        uint256 bond;
        uint256 fee;
        uint256 payout;
    }

    /// @notice A ticket's state.
    enum Ticket {
        None,
        Held,
        Collected
    }

    /// @notice The job is not in a state that can be challenged or joined.
    /// @param jobId The job.
    /// @param state Its state.
    error NotChallengeable(uint256 jobId, IJobMarket.JobState state);
    /// @notice Challenges and joins are accepted strictly before the job's `challengeEnds`.
    /// @param jobId The job.
    /// @param challengeEnds First second the job can be finalized.
    /// @param nowTimestamp The block's timestamp.
    error ChallengeWindowClosed(uint256 jobId, uint64 challengeEnds, uint256 nowTimestamp);
    /// @notice The pool takes no more challengers: a juror has revealed its vote, so a join now could follow the
    /// votes instead of a re-execution.
    /// @param jobId The job.
    /// @param disputeId Its dispute.
    error VotesRevealed(uint256 jobId, uint256 disputeId);
    /// @notice This address already holds a ticket for the job.
    /// @param jobId The job.
    /// @param challenger The address.
    error AlreadyChallenger(uint256 jobId, address challenger);
    /// @notice Nothing to collect: no ticket, already collected, not yet ruled, or ruled against the challengers.
    /// @param jobId The job.
    /// @param challenger The address.
    error NothingToCollect(uint256 jobId, address challenger);
    /// @notice Only the arbitrator rules.
    /// @param caller The caller.
    error NotArbitrator(address caller);
    /// @notice The ruling is not 0 to 3, or the dispute is not one of the desk's open ones.
    /// @param disputeId The dispute.
    /// @param ruling The ruling.
    error InvalidRuling(uint256 disputeId, uint256 ruling);
    /// @notice The job market is set once.
    /// @param market The market already set.
    error MarketAlreadySet(address market);
    /// @notice No job market yet (`setMarket`).
    error MarketNotSet();
    /// @notice Only the job market schedules audits.
    /// @param caller The caller.
    error NotMarket(address caller);
    /// @notice The job's audit is not waiting to be evaluated (no result yet, or already evaluated).
    /// @param jobId The job.
    /// @param state Its audit's state.
    error AuditNotPending(uint256 jobId, AuditState state);
    /// @notice The audit's seed block is the current one or later: evaluate in a later block.
    /// @param jobId The job.
    /// @param seedBlock The seed block.
    /// @param blockNumber The current block.
    error AuditSeedNotMined(uint256 jobId, uint64 seedBlock, uint256 blockNumber);
    /// @notice The audit pool cannot advance the arbitration fee: fund it (`fundAuditPool`) and evaluate again.
    /// @param jobId The job.
    /// @param needed The fee (wei).
    /// @param available The pool (wei).
    error AuditPoolShort(uint256 jobId, uint256 needed, uint256 available);

    /// @notice A challenger joined an open pool (the first one is `IJobMarket.JobChallenged`).
    /// @param jobId The job.
    /// @param challenger The joiner.
    /// @param bond Its bond (wei).
    /// @param tickets Tickets in the pool now.
    event ChallengeJoined(uint256 indexed jobId, address indexed challenger, uint256 bond, uint64 tickets);
    /// @notice The pool's ruling was applied.
    /// @param jobId The job.
    /// @param disputeId The dispute.
    /// @param ruling 0 to 3.
    /// @param payout What each ticket collects (wei).
    /// @param feeRefund Paid back to whoever advanced the fee, the first challenger or the audit pool (wei; on
    /// ruling 2 out of the slashed bond, on 3 out of what the operator was charged).
    /// @param burned Burned (wei).
    event PoolSettled(
        uint256 indexed jobId,
        uint256 indexed disputeId,
        uint256 ruling,
        uint256 payout,
        uint256 feeRefund,
        uint256 burned
    );
    /// @notice A ticket was collected into its challenger's pull balance.
    /// @param jobId The job.
    /// @param challenger The challenger.
    /// @param amount Credited (wei).
    event ChallengerPaid(uint256 indexed jobId, address indexed challenger, uint256 amount);
    /// @notice ETH was burned (sent to 0x…dEaD).
    /// @param jobId The job.
    /// @param amount Wei.
    event Burned(uint256 indexed jobId, uint256 amount);
    /// @notice The job market was set.
    /// @param market The market.
    event MarketSet(address indexed market);
    /// @notice A submitted job's audit was scheduled.
    /// @param jobId The job.
    /// @param seedBlock The block whose hash draws it.
    /// @param rate Probability, scaled by 1e18 (0: cleared at once).
    /// @param premium The job's premium, in its token.
    event AuditScheduled(uint256 indexed jobId, uint64 seedBlock, uint64 rate, uint256 premium);
    /// @notice A job's audit draw was evaluated.
    /// @param jobId The job.
    /// @param audited Whether it goes to the committee.
    /// @param disputeId The audit's dispute (0 when not audited).
    event AuditEvaluated(uint256 indexed jobId, bool audited, uint256 disputeId);
    /// @notice ETH entered the audit pool.
    /// @param from Who sent it (the market's premiums, the committee's returned fees, a funder), or the desk
    /// itself for an audit's share of a slashed bond.
    /// @param amount Wei.
    /// @param pool The pool afterwards (wei).
    event AuditPoolFunded(address indexed from, uint256 amount, uint256 pool);
    /// @notice Governance changed the audit parameters.
    /// @param params The new parameters.
    event AuditParamsUpdated(AuditParams params);

    /// @notice Challenges a submitted result, or joins its open pool, strictly before `challengeEnds`.
    /// msg.value = `challengeCost(jobId)`: `challengeBond` + the arbitration cost to open, `challengeBond` to join.
    /// @param jobId The job.
    /// @return disputeId The committee's dispute.
    function challenge(uint256 jobId) external payable returns (uint256 disputeId);

    /// @notice Credits a ruled ticket's payout to its challenger's pull balance (anyone may call).
    /// @param jobId The job.
    /// @param challenger The ticket's holder.
    /// @return amount Credited (wei).
    function collect(uint256 jobId, address challenger) external returns (uint256 amount);

    /// @notice Adds an ERC-1497 evidence URI to a job (anyone).
    /// @param jobId The job.
    /// @param evidence URI.
    function submitEvidence(uint256 jobId, string calldata evidence) external;

    /// @notice What `challenge(jobId)` must be sent now (wei): bond + arbitration cost to open, bond to join.
    /// @param jobId The job.
    /// @return Wei.
    function challengeCost(uint256 jobId) external view returns (uint256);

    /// @notice Schedules the audit of a job whose result was just submitted (the market only, from
    /// `submitResult`): fixes its seed block (this one), its rate and its premium (see `auditTerms`).
    /// @param jobId The job.
    /// @param token The job's token.
    /// @param operatorFee What the operator would be paid before the premium, in the token.
    /// @param bond The operator's bond (wei).
    /// @param burnBps The market's burn share.
    function scheduleAudit(uint256 jobId, address token, uint256 operatorFee, uint256 bond, uint16 burnBps) external;

    /// @notice Evaluates a job's audit draw (anyone; the operator does it at once, since a lapsed seed means
    /// audited): keccak of the seed block's hash and the job decides, below the job's rate. When audited, the
    /// audit pool advances the arbitration fee and the job goes to the committee with the desk as challenger.
    /// Errors: `AuditNotPending`, `AuditSeedNotMined`, `NotChallengeable` (drawn, but the job was challenged
    /// first: the committee already looks; a draw that does not fall on a challenged job clears its audit, which
    /// changes nothing since it is never finalized), `AuditPoolShort`.
    /// @param jobId The job.
    /// @return audited Whether the job was audited.
    function evaluateAudit(uint256 jobId) external returns (bool audited);

    /// @notice Adds msg.value to the audit pool (the treasury's grant; anyone).
    function fundAuditPool() external payable;

    /// @notice Moves what the market (ETH premiums) and the committee (returned audit fees) owe the desk into
    /// the audit pool (anyone; `evaluateAudit` does it when the pool is short).
    function pullAuditFunds() external;

    /// @notice The audit rate and premium a job with these terms gets now (what `scheduleAudit` records).
    /// @param token The job's token.
    /// @param operatorFee The operator fee before the premium, in the token.
    /// @param bond The bond (wei).
    /// @param burnBps The burn share.
    /// @return rate Probability scaled by 1e18.
    /// @return premium In the token, at most `operatorFee`.
    function auditTerms(address token, uint256 operatorFee, uint256 bond, uint16 burnBps)
        external
        view
        returns (uint64 rate, uint256 premium);

    /// @notice A job's audit.
    /// @param jobId The job.
    /// @return The audit (zero before a result).
    function auditOf(uint256 jobId) external view returns (Audit memory);

    /// @notice A job's pool.
    /// @param jobId The job.
    /// @return The pool (zero while unchallenged).
    function poolOf(uint256 jobId) external view returns (Pool memory);

    /// @notice A challenger's ticket for a job.
    /// @param jobId The job.
    /// @param challenger The address.
    /// @return The ticket's state.
    function ticketOf(uint256 jobId, address challenger) external view returns (Ticket);
}
