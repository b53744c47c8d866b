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
/// So a cheat that challenges its own job first from a second address still loses its bond and can recover
/// at most its pro-rata share, and an honest watcher is never shut out.
/// `burnBps`, the bond and the fee are snapshotted when the pool opens; governance changes never touch it.
interface IDisputeDesk is ICairnCommon, IArbitrable, IEvidence {
    /// @notice One challenged job's pool.
    /// @param disputeId The committee's dispute (0 while no challenge).
    /// @param first The challenger who opened it and advanced the arbitration fee.
    /// @param tickets Challengers in the pool (one per address).
    /// @param burnBps Part of a losing side's money that is burned, at the opening.
    /// @param ruled Whether the ruling arrived.
    /// @param ruling The ruling (0, 1 or 2), once ruled.
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
    /// @notice The ruling is not 0, 1 or 2, or the dispute is not one of the desk's open ones.
    /// @param disputeId The dispute.
    /// @param ruling The ruling.
    error InvalidRuling(uint256 disputeId, uint256 ruling);
    /// @notice The job market is set once.
    /// @param market The market already set.
    error MarketAlreadySet(address market);
    /// @notice No job market yet (`setMarket`).
    error MarketNotSet();

    /// @notice A challenger joined an open pool (the first one is `IJobMarket.JobChallenged`).
    /// @param jobId The job.
    /// @param challenger The joiner.
    /// @param bond Its bond (wei).
    /// @param tickets Tickets in the pool now.
    event ChallengeJoined(uint256 indexed jobId, address indexed challenger, uint256 bond, uint64 tickets);
    /// @notice The pool's ruling was applied.
    /// @param jobId The job.
    /// @param disputeId The dispute.
    /// @param ruling 0, 1 or 2.
    /// @param payout What each ticket collects (wei).
    /// @param feeRefund Paid back to the first challenger (wei; ruling 2 only).
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
