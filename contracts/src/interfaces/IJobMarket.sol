// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IMetaEvidence} from "./IArbitration.sol";
import {ICairnCommon} from "./ICairnCommon.sol";
import {JobReceipt, JobRequest} from "./ICairnTypes.sol";

/// @title IJobMarket
/// @notice Escrowed inference jobs with optimistic settlement: request → claim (operator bond locked) →
/// signed result → challenge window → finalize, or challenge → ruling. Challenges, evidence and rulings go through
/// the dispute desk (IDisputeDesk), which marks the job disputed and asks the market to settle it; the market
/// keeps the escrow and the operator's bond. It emits ERC-1497's `MetaEvidence` for each job.
interface IJobMarket is ICairnCommon, IMetaEvidence {
    /*//////////////////////////////////////////////////////////////
                                  TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Where a job stands.
    enum JobState {
        None,
        Requested,
        Claimed,
        Submitted,
        Disputed,
        Finalized,
        Cancelled,
        Resolved
    }

    /// @notice Why a job closed.
    enum CloseReason {
        Open,
        Finalized,
        Expired,
        OperatorUpheld,
        OperatorWrong,
        ArbitratorRefused,
        InputUnavailable
    }

    /// @notice What a job fixed at request time; later model changes never touch it.
    /// @param buyer Who pays.
    /// @param modelId The model.
    /// @param modelVersion Its version at request time.
    /// @param seller Royalty recipient.
    /// @param weightsDigest Weights to run.
    /// @param runtime Runtime id hash.
    /// @param token Payment token (address(0): ETH).
    /// @param payment Escrowed amount.
    /// @param royalty Seller's share.
    /// @param protocolFee Treasury's share (the operator gets the rest).
    /// @param inputDigest sha256 of the input.
    /// @param regionMask Regions an operator may claim from.
    /// @param deadline Last second the job may be claimed.
    struct JobTerms {
        address buyer;
        uint256 modelId;
        uint64 modelVersion;
        address seller;
        bytes32 weightsDigest;
        bytes32 runtime;
        address token;
        uint256 payment;
        uint256 royalty;
        uint256 protocolFee;
        bytes32 inputDigest;
        uint256 regionMask;
        uint64 deadline;
    }

    /// @notice How a job is going.
    /// @param state The state.
    /// @param closeReason Why it closed (Open while open).
    /// @param operator Claiming operator.
    /// @param bond Operator's locked bond (ETH).
    /// @param submitBy Last second for the result.
    /// @param outputDigest sha256 of the output.
    /// @param challengeEnds First second the job can be finalized (challenges strictly before).
    /// @param challenger Who challenged first (the dispute desk holds every challenger's ticket).
    /// @param challengeBond Each challenger's bond (ETH), as the desk fixed it.
    /// @param disputeId The arbitrator's dispute.
    struct JobProgress {
        JobState state;
        CloseReason closeReason;
        address operator;
        uint256 bond;
        uint64 submitBy;
        bytes32 outputDigest;
        uint64 challengeEnds;
        address challenger;
        uint256 challengeBond;
        uint256 disputeId;
    }

    /// @notice Governance parameters, each bounded (see JobMarket's constants).
    /// @param feeBps Protocol fee in basis points of the payment (at most 10%).
    /// @param bondBps ETH jobs: bond as basis points of the payment (floored at bondFloor).
    /// @param claimPenaltyBps Part of the bond a late operator loses to the treasury.
    /// @param burnBps Part of a losing bond that is burned.
    /// @param claimTimeout Seconds an operator has to submit after claiming.
    /// @param challengeWindow Seconds a result can be challenged.
    /// @param maxDeadline Longest claim deadline ahead of the request, in seconds.
    /// @param bondFloor Smallest bond (wei).
    /// @param challengeBond Challenger's bond (wei), besides the arbitration cost.
    struct Params {
        uint16 feeBps;
        uint16 bondBps;
        uint16 claimPenaltyBps;
        uint16 burnBps;
        uint64 claimTimeout;
        uint64 challengeWindow;
        uint64 maxDeadline;
        uint256 bondFloor;
        uint256 challengeBond;
    }

    /// @notice Per-token settings: ERC-20 jobs need a bond rate; every token may set a minimum operator fee.
    /// @param bondRate Wei of bond per token unit, scaled by 1e18 (0: never listed; a listed token's rate cannot
    /// return to 0, `TokenRateRequired`). A change applies to the audit premium of jobs submitted after it, open
    /// jobs included (`IDisputeDesk.auditTerms` reads the rate at submission).
    /// @param minOperatorFee Least the operator must be left with, in token units; `type(uint256).max` winds the
    /// token down (no new request, `TokenNotAccepted`; open jobs run to their end).
    struct TokenConfig {
        uint256 bondRate;
        uint256 minOperatorFee;
    }

    /// @notice An EIP-2612 permit for `requestJobWithSig`.
    /// @param deadline Permit deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    struct Permit {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice No job has this id.
    /// @param jobId The id.
    error UnknownJob(uint256 jobId);
    /// @notice The job is in another state.
    /// @param jobId The job.
    /// @param state Its state.
    error WrongState(uint256 jobId, JobState state);
    /// @notice The model cannot be used by this buyer (unknown, deprecated, or needs a license).
    /// @param modelId The model.
    /// @param buyer The buyer.
    error ModelUnavailable(uint256 modelId, address buyer);
    /// @notice The request names another version than the model's latest (a version published in front of
    /// the request, or a stale client): only the latest version is requestable.
    /// @param modelId The model.
    /// @param latest The model's latest version.
    /// @param requested The version the buyer named.
    error VersionNotLatest(uint256 modelId, uint64 latest, uint64 requested);
    /// @notice ERC-20 jobs need a governance-set bond rate for the token, and a token being wound down (minimum
    /// operator fee `type(uint256).max`) takes no new request.
    /// @param token The token.
    error TokenNotAccepted(address token);
    /// @notice A listed token's bond rate cannot go back to 0: the jobs already claimed in it price their audit
    /// premium with it (`IDisputeDesk.auditTerms`), so a rate of 0 would take their operators' whole fee. To stop
    /// new jobs in the token, set its `minOperatorFee` to `type(uint256).max` and keep a rate.
    /// @param token The token.
    error TokenRateRequired(address token);
    /// @notice Payment below royalty + protocol fee + minimum operator fee.
    /// @param payment Offered.
    /// @param required Needed.
    error InsufficientPayment(uint256 payment, uint256 required);
    /// @notice The job's regions and the model's do not overlap, or the operator is outside them.
    /// @param regionMask The effective mask.
    /// @param region The operator's region (255 when checking masks only).
    error RegionNotAllowed(uint256 regionMask, uint8 region);
    /// @notice A deadline is in the past or too far ahead.
    /// @param deadline The deadline.
    /// @param nowTimestamp Current time.
    error BadDeadline(uint64 deadline, uint256 nowTimestamp);
    /// @notice The time for this action has passed or not come.
    /// @param jobId The job.
    /// @param boundary The relevant time.
    /// @param nowTimestamp Current time.
    error OutsideWindow(uint256 jobId, uint64 boundary, uint256 nowTimestamp);
    /// @notice The account is not a registered operator.
    /// @param operator The account named as operator.
    error NotOperator(address operator);
    /// @notice The receipt does not match the job.
    /// @param jobId The job.
    /// @param field The first mismatching field.
    error ReceiptMismatch(uint256 jobId, string field);
    /// @notice The receipt is not signed by the operator's signer.
    /// @param jobId The job.
    /// @param signer The expected signer.
    error BadReceiptSignature(uint256 jobId, address signer);
    /// @notice The signed request is invalid (wrong signer, replayed nonce, ETH, expired).
    /// @param buyer The buyer.
    /// @param reason Why.
    error BadRequestSignature(address buyer, string reason);
    /// @notice The operator bond this payment needs is above `MAX_BOND`, so no bond could secure it (disputes
    /// v2: with a 4× multiple the largest job is 25 ETH); split the work into smaller jobs.
    /// @param payment The payment asked.
    /// @param bond The bond it would need (wei).
    /// @param maxBond The largest bond (wei).
    error JobTooLarge(uint256 payment, uint256 bond, uint256 maxBond);
    /// @notice Only the dispute desk may mark a job disputed or settle it.
    /// @param caller The caller.
    error NotDesk(address caller);
    /// @notice The job's random audit has not been evaluated, or it was drawn (IDisputeDesk.evaluateAudit).
    /// @param jobId The job.
    error AuditPending(uint256 jobId);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A job was requested and its payment escrowed. Carries every term the job fixed, so a reader
    /// needs no view call at the request's block.
    /// @param jobId The job.
    /// @param buyer The buyer.
    /// @param modelId The model.
    /// @param terms What the job fixed: version, seller, weights, runtime, token, payment, royalty, fee,
    /// input digest, effective regions, claim deadline.
    /// @param inputCid The input's CID.
    event JobRequested(
        uint256 indexed jobId, address indexed buyer, uint256 indexed modelId, JobTerms terms, string inputCid
    );
    /// @notice An operator claimed a job and locked its bond.
    /// @param jobId The job.
    /// @param operator The operator.
    /// @param bond Locked bond.
    /// @param submitBy Result deadline.
    event JobClaimed(uint256 indexed jobId, address indexed operator, uint256 bond, uint64 submitBy);
    /// @notice The claiming operator handed the job back before its submit deadline; the job is open again
    /// and part of the bond (as for a timeout) went to the treasury.
    /// @param jobId The job.
    /// @param operator The operator.
    /// @param penalty Slashed (wei).
    event ClaimReleased(uint256 indexed jobId, address indexed operator, uint256 penalty);
    /// @notice A claim timed out; the job is open again and part of the bond went to the treasury.
    /// @param jobId The job.
    /// @param operator The late operator.
    /// @param penalty Slashed.
    event ClaimExpired(uint256 indexed jobId, address indexed operator, uint256 penalty);
    /// @notice A signed result was submitted. Carries the whole receipt, its signature and the signer it was
    /// checked against, so anyone can re-verify it from the event alone.
    /// @param jobId The job.
    /// @param operator The operator.
    /// @param receipt The operator's receipt (output digest and CID, runner build, energy figure).
    /// @param signer The operator's signer key at submission.
    /// @param signature The signer's EIP-712 signature over the receipt in this contract's domain.
    /// @param challengeEnds First second finalize is allowed.
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed operator,
        JobReceipt receipt,
        address signer,
        bytes signature,
        uint64 challengeEnds
    );
    /// @notice A result was challenged.
    /// @param jobId The job.
    /// @param challenger The challenger.
    /// @param disputeId The dispute.
    /// @param bond Challenger's bond.
    event JobChallenged(uint256 indexed jobId, address indexed challenger, uint256 disputeId, uint256 bond);
    /// @notice A job reached a terminal state.
    /// @param jobId The job.
    /// @param state Finalized, Cancelled or Resolved.
    /// @param reason Why.
    event JobClosed(uint256 indexed jobId, JobState state, CloseReason reason);
    /// @notice The escrow was split on finalize.
    /// @param jobId The job.
    /// @param royalty To the seller.
    /// @param protocolFee To the treasury.
    /// @param operatorFee To the operator.
    /// @param auditPremium The job's audit premium (IDisputeDesk): to the audit pool for ETH jobs, the treasury
    /// for ERC-20 jobs. The four parts sum to the payment.
    event PaymentSplit(
        uint256 indexed jobId, uint256 royalty, uint256 protocolFee, uint256 operatorFee, uint256 auditPremium
    );
    /// @notice Governance changed the parameters.
    /// @param params The new parameters.
    event ParamsUpdated(Params params);
    /// @notice Governance changed a token's settings.
    /// @param token The token (address(0): ETH).
    /// @param config The settings.
    event TokenConfigUpdated(address indexed token, TokenConfig config);
    /// @notice The treasury changed.
    /// @param treasury The new treasury.
    event TreasuryUpdated(address treasury);

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Requests a job, escrowing `payment` (ETH as msg.value, or ERC-20 by allowance). The buyer's
    /// bounds (`version`, `token`, `maxPricePerCall`) make a front-run listing change revert instead of
    /// running other weights, charging more or switching tokens.
    /// @param modelId The model.
    /// @param version Must be the model's latest version (`VersionNotLatest`); the job runs exactly it.
    /// @param inputDigest sha256 of the input on IPFS.
    /// @param inputCid The input's CID.
    /// @param token Must be the version's payment token (`TokenMismatch`).
    /// @param payment Amount escrowed, in token units.
    /// @param maxPricePerCall Highest royalty accepted (`PriceAboveMax`).
    /// @param deadline Last second the job may be claimed.
    /// @param regionMask Regions allowed (0: the model's).
    /// @return jobId The job.
    function requestJob(
        uint256 modelId,
        uint64 version,
        bytes32 inputDigest,
        string calldata inputCid,
        address token,
        uint256 payment,
        uint256 maxPricePerCall,
        uint64 deadline,
        uint256 regionMask
    ) external payable returns (uint256 jobId);

    /// @notice Posts a buyer-signed `JobRequest` (typed data v2, ERC-20 only) with the same bounds as
    /// `requestJob`; the permit is tried, and a sufficient allowance works even if someone front-ran it.
    /// @param request The signed request.
    /// @param signature The buyer's signature.
    /// @param permit An EIP-2612 permit for `request.payment` (deadline 0 to skip).
    /// @return jobId The job.
    function requestJobWithSig(JobRequest calldata request, bytes calldata signature, Permit calldata permit)
        external
        returns (uint256 jobId);

    /// @notice Claims a job for `operator`, locking the bond from its free stake; the operator must still hold
    /// the registry's `minStake` (`IOperatorRegistry.StakeTooLow`). The caller is the operator or its current
    /// signer key (`NotOperatorOrSigner`).
    /// @param jobId The job.
    /// @param operator The operator (stake owner) the claim is for.
    function claim(uint256 jobId, address operator) external;

    /// @notice Hands a claimed job back before its submit deadline: the job is open again at once and the
    /// operator loses the same part of its bond as on a timeout. The operator or its signer only.
    /// @param jobId The job.
    function releaseClaim(uint256 jobId) external;

    /// @notice Pays `operator`'s whole pull balance of `token` (address(0) for ETH) to `operator`, at the request of
    /// its current signer key (or the operator itself): a runner holding only the hot key can sweep its earnings to
    /// the owner above a threshold. The money can only go to the operator's own address, so a stolen hot key
    /// gains nothing by it. Never paused. Reverts `NotOperatorOrSigner` for anyone else, `NothingToWithdraw`
    /// when nothing is owed. Emits `Withdrawn(operator, token, amount)` as `withdraw` does.
    /// @param operator The operator (stake owner) whose balance is paid out to it.
    /// @param token The token (address(0) for ETH).
    function withdrawFor(address operator, address token) external;

    /// @notice Reopens a claimed job whose result is late; part of the bond goes to the treasury.
    /// @param jobId The job.
    function reopen(uint256 jobId) external;

    /// @notice Submits the operator's signed receipt (anyone may relay).
    /// @param jobId The job.
    /// @param receipt The receipt.
    /// @param signature The operator signer's signature.
    function submitResult(uint256 jobId, JobReceipt calldata receipt, bytes calldata signature) external;

    /// @notice The dispute desk marks a submitted job disputed, strictly before its `challengeEnds`; emits
    /// `JobChallenged`. Finalize is refused from then on.
    /// @param jobId The job.
    /// @param challenger The first challenger.
    /// @param disputeId The committee's dispute.
    /// @param bond Each challenger's bond (wei).
    function markDisputed(uint256 jobId, address challenger, uint256 disputeId, uint256 bond) external;

    /// @notice The dispute desk settles a disputed job by its ruling: 1 pays the split and releases the bond;
    /// 2 refunds the buyer and slashes the whole bond to the desk; 0 refunds the buyer and releases the bond;
    /// 3 (the input could not be fetched) refunds the buyer, slashes `charge` of the bond to the desk and
    /// releases the rest.
    /// @param jobId The job.
    /// @param ruling 0 to 3 (the desk checks it).
    /// @param charge Wei of the bond to slash on ruling 3 (the desk's charge: the arbitration fee plus what ruling 2
    /// would burn; at most the bond); ignored otherwise.
    /// @return operator The accused operator.
    /// @return slashed Wei of bond sent to the desk (ruling 2, and `charge` on ruling 3).
    function settleDisputed(uint256 jobId, uint256 ruling, uint256 charge)
        external
        returns (address operator, uint256 slashed);

    /// @notice Splits the escrow once the window has ended without a challenge (anyone).
    /// @param jobId The job.
    function finalize(uint256 jobId) external;

    /// @notice Refunds a job nobody claimed by its deadline (anyone).
    /// @param jobId The job.
    function cancel(uint256 jobId) external;

    /// @notice A job's snapshotted terms.
    /// @param jobId The job.
    /// @return The terms.
    function getTerms(uint256 jobId) external view returns (JobTerms memory);

    /// @notice A job's progress.
    /// @param jobId The job.
    /// @return The progress.
    function getProgress(uint256 jobId) external view returns (JobProgress memory);

    /// @notice The current parameters.
    /// @return The parameters.
    function params() external view returns (Params memory);

    /// @notice A token's settings.
    /// @param token The token (address(0): ETH).
    /// @return The settings.
    function tokenConfig(address token) external view returns (TokenConfig memory);

    /// @notice The bond an operator locks to claim a job of `token` and `payment`.
    /// @param token Payment token.
    /// @param payment Payment.
    /// @return Wei.
    function bondFor(address token, uint256 payment) external view returns (uint256);
}
