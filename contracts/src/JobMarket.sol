// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {CairnEIP712} from "./base/CairnEIP712.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {PullPayments} from "./base/PullPayments.sol";
import {JobReceipt, JobRequest} from "./interfaces/ICairnTypes.sol";
import {IDisputeDesk} from "./interfaces/IDisputeDesk.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {CairnTypedData} from "./libraries/CairnTypedData.sol";
import {Regions} from "./libraries/Regions.sol";
import {Splits} from "./libraries/Splits.sol";

/// @title JobMarket
/// @notice Escrowed inference jobs settled optimistically; challenges and rulings go through the dispute desk
/// (DisputeDesk), which holds the challengers' pool. Every payout is a pull balance; pausing stops new requests
/// and claims only.
contract JobMarket is IJobMarket, PullPayments, CairnEIP712, CairnVersion, Ownable2Step, Pausable {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Basis points in one (the settlement arithmetic's, one definition).
    uint256 public constant BPS = Splits.BPS;
    /// @notice Highest protocol fee: 10%.
    uint16 public constant MAX_FEE_BPS = 1000;
    /// @notice Shortest and longest windows (devnets use short ones).
    uint64 public constant MIN_WINDOW = 60;
    /// @notice Longest claim timeout or challenge window.
    uint64 public constant MAX_WINDOW = 14 days;
    /// @notice Longest claim deadline ahead of a request.
    uint64 public constant MAX_DEADLINE_LIMIT = 90 days;
    /// @notice Highest bond floor, challenge bond and job bond (a request needing more is `JobTooLarge`).
    uint256 public constant MAX_BOND = 100 ether;
    /// @notice Highest ETH bond multiple: 5× the payment (disputes v2 proposes 4×, so that garbage never pays).
    uint256 public constant MAX_BOND_BPS = 5 * BPS;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The model registry.
    IModelRegistry public immutable models;
    /// @notice The operator registry (bonds are locked stake).
    IOperatorRegistry public immutable operators;
    /// @notice The dispute desk: the only contract that marks jobs disputed and settles them.
    address public immutable desk;

    /// @notice Receives protocol fees and claim penalties.
    address public treasury;
    /// @notice Number of jobs (ids run from 1).
    uint256 public jobCount;
    /// @notice Buyers' next `JobRequest` nonce.
    mapping(address buyer => uint256) public requestNonces;
    /// @notice Payments held in escrow, per token.
    mapping(address token => uint256) public escrowed;

    Params private _params;
    mapping(address token => TokenConfig) private _tokens;
    mapping(uint256 jobId => JobTerms) private _terms;
    mapping(uint256 jobId => JobProgress) private _progress;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param owner_ Governance.
    /// @param models_ Model registry.
    /// @param operators_ Operator registry (must authorise this contract).
    /// @param desk_ The dispute desk (its `setMarket` names this market afterwards).
    /// @param treasury_ Fee recipient.
    /// @param params_ Initial parameters.
    constructor(
        address owner_,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        address desk_,
        address treasury_,
        Params memory params_
    ) Ownable(owner_) {
        if (address(models_) == address(0)) revert ZeroAddress("models");
        if (address(operators_) == address(0)) revert ZeroAddress("operators");
        if (desk_ == address(0)) revert ZeroAddress("desk");
        models = models_;
        operators = operators_;
        desk = desk_;
        _setTreasury(treasury_);
        _setParams(params_);
    }

    /// @notice Accepts claim penalties from the operator registry only (anything else is force-sent surplus).
    receive() external payable {
        if (msg.sender != address(operators)) revert UnexpectedSender(msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                                 REQUEST
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobMarket
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
    ) external payable nonReentrant whenNotPaused returns (uint256 jobId) {
        // Zero-initialised on purpose: the fields below are set, `_request` fills the rest.
        // slither-disable-next-line uninitialized-local
        JobTerms memory t;
        (t.buyer, t.modelId, t.modelVersion, t.token, t.payment) = (msg.sender, modelId, version, token, payment);
        (t.deadline, t.regionMask, t.inputDigest) = (deadline, regionMask, inputDigest);
        jobId = _request(t, inputCid, maxPricePerCall);
        _receive(token, msg.sender, payment);
    }

    /// @inheritdoc IJobMarket
    function requestJobWithSig(JobRequest calldata req, bytes calldata signature, Permit calldata permit)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 jobId)
    {
        if (req.token == address(0)) revert BadRequestSignature(req.buyer, "signed requests are ERC-20 only");
        uint256 nonce = requestNonces[req.buyer];
        if (req.nonce != nonce) revert BadRequestSignature(req.buyer, "nonce is not the buyer's next");
        bytes32 digest = _hashTypedDataV4(CairnTypedData.hash(req));
        if (!SignatureChecker.isValidSignatureNowCalldata(req.buyer, digest, signature)) {
            revert BadRequestSignature(req.buyer, "not signed by the buyer");
        }
        requestNonces[req.buyer] = nonce + 1;
        // Zero-initialised on purpose: the fields below are set, `_request` fills the rest.
        // slither-disable-next-line uninitialized-local
        JobTerms memory t;
        (t.buyer, t.modelId, t.modelVersion, t.token) = (req.buyer, req.modelId, req.version, req.token);
        (t.payment, t.deadline, t.regionMask, t.inputDigest) =
        (req.payment, req.deadline, req.regionMask, req.inputDigest);
        jobId = _request(t, req.inputCid, req.maxPricePerCall);
        if (permit.deadline != 0) {
            // A permit front-run by someone else reverts here; a sufficient allowance still pays.
            try IERC20Permit(req.token)
                .permit(req.buyer, address(this), req.payment, permit.deadline, permit.v, permit.r, permit.s) {}
                catch {}
        }
        _receive(req.token, req.buyer, req.payment);
    }

    /*//////////////////////////////////////////////////////////////
                                OPERATOR
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobMarket
    function claim(uint256 jobId, address operator) external nonReentrant whenNotPaused {
        (JobTerms storage t, JobProgress storage p) = _job(jobId, JobState.Requested);
        if (block.timestamp > t.deadline) revert OutsideWindow(jobId, t.deadline, block.timestamp);
        (bool registered, uint8 region, address signer) = operators.operatorInfo(operator);
        if (!registered) revert NotOperator(operator);
        if (msg.sender != operator && msg.sender != signer) revert NotOperatorOrSigner(operator, msg.sender);
        if (!Regions.contains(t.regionMask, region)) revert RegionNotAllowed(t.regionMask, region);
        uint256 bond = bondFor(t.token, t.payment);
        uint64 submitBy = uint64(block.timestamp) + _params.claimTimeout;
        p.state = JobState.Claimed;
        p.operator = operator;
        p.bond = bond;
        p.submitBy = submitBy;
        emit JobClaimed(jobId, operator, bond, submitBy);
        operators.lockBond(operator, bond);
    }

    /// @inheritdoc IJobMarket
    function releaseClaim(uint256 jobId) external nonReentrant {
        (, JobProgress storage p) = _job(jobId, JobState.Claimed);
        if (block.timestamp > p.submitBy) revert OutsideWindow(jobId, p.submitBy, block.timestamp);
        address operator = p.operator;
        if (msg.sender != operator) {
            // Only the signer is needed; registration and region were checked at the claim.
            // slither-disable-next-line unused-return
            (,, address signer) = operators.operatorInfo(operator);
            if (msg.sender != signer) revert NotOperatorOrSigner(operator, msg.sender);
        }
        uint256 penalty = _reopen(p);
        emit ClaimReleased(jobId, operator, penalty);
    }

    /// @inheritdoc IJobMarket
    function withdrawFor(address operator, address token) external nonReentrant {
        if (msg.sender != operator) {
            // slither-disable-next-line unused-return
            (,, address signer) = operators.operatorInfo(operator);
            if (msg.sender != signer) revert NotOperatorOrSigner(operator, msg.sender);
        }
        _withdraw(operator, token);
    }

    /// @inheritdoc IJobMarket
    function reopen(uint256 jobId) external nonReentrant {
        (, JobProgress storage p) = _job(jobId, JobState.Claimed);
        if (block.timestamp <= p.submitBy) revert OutsideWindow(jobId, p.submitBy, block.timestamp);
        address operator = p.operator;
        uint256 penalty = _reopen(p);
        emit ClaimExpired(jobId, operator, penalty);
    }

    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, JobReceipt calldata receipt, bytes calldata signature) external {
        (JobTerms storage t, JobProgress storage p) = _job(jobId, JobState.Claimed);
        if (block.timestamp > p.submitBy) revert OutsideWindow(jobId, p.submitBy, block.timestamp);
        if (receipt.jobId != jobId) revert ReceiptMismatch(jobId, "jobId");
        if (receipt.weightsDigest != t.weightsDigest) revert ReceiptMismatch(jobId, "weightsDigest");
        if (receipt.inputDigest != t.inputDigest) revert ReceiptMismatch(jobId, "inputDigest");
        if (receipt.runtime != t.runtime) revert ReceiptMismatch(jobId, "runtime");
        // The claim already checked registration and region; only the signer matters here.
        // slither-disable-next-line unused-return
        (,, address signer) = operators.operatorInfo(p.operator);
        bytes32 digest = _hashTypedDataV4(CairnTypedData.hash(receipt));
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature)) {
            revert BadReceiptSignature(jobId, signer);
        }
        uint64 challengeEnds = uint64(block.timestamp) + _params.challengeWindow;
        p.state = JobState.Submitted;
        p.outputDigest = receipt.outputDigest;
        p.challengeEnds = challengeEnds;
        emit ResultSubmitted(jobId, p.operator, receipt, signer, signature, challengeEnds);
        // The desk is ours and fixed (immutable); it only records the audit and reads our views.
        IDisputeDesk(desk).scheduleAudit(jobId, t.token, t.payment - t.royalty - t.protocolFee, p.bond, _params.burnBps);
    }

    /*//////////////////////////////////////////////////////////////
                            CHALLENGE, FINALIZE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobMarket
    function markDisputed(uint256 jobId, address challenger, uint256 disputeId, uint256 bond) external {
        if (msg.sender != desk) revert NotDesk(msg.sender);
        // The desk refuses challenges from challengeEnds on (disjoint from finalize); an audit drawn from a lapsed
        // seed may open later, which finalize cannot have preceded (it needs the audit cleared).
        (, JobProgress storage p) = _job(jobId, JobState.Submitted);
        p.state = JobState.Disputed;
        p.challenger = challenger;
        p.challengeBond = bond;
        p.disputeId = disputeId;
        emit JobChallenged(jobId, challenger, disputeId, bond);
    }

    /// @inheritdoc IJobMarket
    function finalize(uint256 jobId) external nonReentrant {
        (, JobProgress storage p) = _job(jobId, JobState.Submitted);
        if (block.timestamp < p.challengeEnds) revert OutsideWindow(jobId, p.challengeEnds, block.timestamp);
        IDisputeDesk.Audit memory audit = IDisputeDesk(desk).auditOf(jobId);
        if (audit.state != IDisputeDesk.AuditState.Cleared) revert AuditPending(jobId);
        _settle(jobId, JobState.Finalized, CloseReason.Finalized, audit.premium);
    }

    /// @inheritdoc IJobMarket
    function cancel(uint256 jobId) external nonReentrant {
        (JobTerms storage t, JobProgress storage p) = _job(jobId, JobState.Requested);
        if (block.timestamp <= t.deadline) revert OutsideWindow(jobId, t.deadline, block.timestamp);
        p.state = JobState.Cancelled;
        p.closeReason = CloseReason.Expired;
        escrowed[t.token] -= t.payment;
        _credit(t.buyer, t.token, t.payment);
        emit JobClosed(jobId, JobState.Cancelled, CloseReason.Expired);
    }

    /// @inheritdoc IJobMarket
    function settleDisputed(uint256 jobId, uint256 ruling, uint256 charge)
        external
        nonReentrant
        returns (address operator, uint256 slashed)
    {
        if (msg.sender != desk) revert NotDesk(msg.sender);
        (JobTerms storage t, JobProgress storage p) = _job(jobId, JobState.Disputed);
        operator = p.operator;
        if (ruling == 1) {
            _settle(jobId, JobState.Resolved, CloseReason.OperatorUpheld, IDisputeDesk(desk).auditOf(jobId).premium);
            return (operator, 0);
        }
        p.state = JobState.Resolved;
        escrowed[t.token] -= t.payment;
        _credit(t.buyer, t.token, t.payment);
        if (ruling == 2) {
            // Operator wrong: the buyer is refunded in full and the whole bond goes to the desk, which pays
            // the challengers. The registry is our own contract and sends ETH only to the desk.
            p.closeReason = CloseReason.OperatorWrong;
            emit JobClosed(jobId, JobState.Resolved, CloseReason.OperatorWrong);
            // slither-disable-next-line reentrancy-no-eth,reentrancy-benign
            slashed = operators.slash(operator, p.bond, desk);
            operators.recordDisputeLost(operator);
        } else {
            // Refused (0), or the input could not be fetched (3): the buyer refunded, the operator unpaid, the bond
            // released; on 3 less `charge` (the arbitration fee, at most the bond), sent to the desk.
            CloseReason reason = ruling == 3 ? CloseReason.InputUnavailable : CloseReason.ArbitratorRefused;
            p.closeReason = reason;
            emit JobClosed(jobId, JobState.Resolved, reason);
            uint256 bond = p.bond;
            if (ruling != 3) charge = 0;
            else if (charge > bond) charge = bond;
            // slither-disable-next-line reentrancy-no-eth,reentrancy-benign
            if (charge != 0) slashed = operators.slash(operator, charge, desk);
            operators.unlock(operator, bond - charge);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobMarket
    function getTerms(uint256 jobId) external view returns (JobTerms memory) {
        return _terms[jobId];
    }

    /// @inheritdoc IJobMarket
    function getProgress(uint256 jobId) external view returns (JobProgress memory) {
        return _progress[jobId];
    }

    /// @inheritdoc IJobMarket
    function bondFor(address token, uint256 payment) public view returns (uint256 bond) {
        if (token == address(0)) {
            bond = payment * _params.bondBps / BPS;
        } else {
            uint256 rate = _tokens[token].bondRate;
            if (rate == 0) revert TokenNotAccepted(token);
            bond = payment * rate / 1e18;
        }
        if (bond < _params.bondFloor) bond = _params.bondFloor;
    }

    /// @inheritdoc IJobMarket
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IJobMarket
    function tokenConfig(address token) external view returns (TokenConfig memory) {
        return _tokens[token];
    }

    /// @notice The EIP-712 digest a buyer signs for `request`.
    /// @param request The request.
    /// @return The digest.
    function requestDigest(JobRequest calldata request) external view returns (bytes32) {
        return _hashTypedDataV4(CairnTypedData.hash(request));
    }

    /// @notice The EIP-712 digest an operator's signer signs for `receipt`.
    /// @param receipt The receipt.
    /// @return The digest.
    function receiptDigest(JobReceipt calldata receipt) external view returns (bytes32) {
        return _hashTypedDataV4(CairnTypedData.hash(receipt));
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets every parameter (each bounded).
    /// @param params_ The parameters.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    /// @notice Sets a token's bond rate and minimum operator fee. List only tokens whose balances change by
    /// transfers alone: a fee-on-transfer token is refused at each payment (`UnsupportedToken`), but a rebasing
    /// one passes that check and a negative rebase leaves the market short of what it owes, so the last
    /// withdrawers lose (contracts/test/Tokens.t.sol, `test_ANegativeRebaseLeavesTheLastWithdrawersShort`).
    /// To wind a token down, set its `minOperatorFee` to `type(uint256).max`: new requests are refused
    /// (`TokenNotAccepted`) and the open jobs run to their end at the kept bond rate; a listed token's rate never
    /// returns to 0 (`TokenRateRequired`).
    /// @param token The token (address(0): ETH, whose bond uses bondBps).
    /// @param config The settings: `bondRate` wei of bond per token unit × 1e18 (at most 1e36), `minOperatorFee`
    /// in token units.
    function setTokenConfig(address token, TokenConfig calldata config) external onlyOwner {
        if (config.bondRate > 1e36) revert ParameterOutOfBounds("bondRate", config.bondRate, 0, 1e36);
        if (config.bondRate == 0 && token != address(0) && _tokens[token].bondRate != 0) {
            revert TokenRateRequired(token);
        }
        _tokens[token] = config;
        emit TokenConfigUpdated(token, config);
    }

    /// @notice Sets the treasury.
    /// @param treasury_ The new treasury.
    function setTreasury(address treasury_) external onlyOwner {
        _setTreasury(treasury_);
    }

    /// @notice Stops new requests and claims (results, challenges, rulings and withdrawals continue).
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Resumes requests and claims.
    function unpause() external onlyOwner {
        _unpause();
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev `t` arrives with buyer, modelId, modelVersion, token, payment, deadline, regionMask and inputDigest
    /// set; the buyer's bounds are checked against the model's latest version, which fills in the rest, so
    /// later model changes never touch this job.
    function _request(JobTerms memory t, string calldata inputCid, uint256 maxPricePerCall)
        internal
        returns (uint256 jobId)
    {
        if (!models.canUse(t.modelId, t.buyer)) revert ModelUnavailable(t.modelId, t.buyer);
        IModelRegistry.Model memory model = models.getModel(t.modelId);
        if (t.modelVersion != model.latestVersion) {
            revert VersionNotLatest(t.modelId, model.latestVersion, t.modelVersion);
        }
        IModelRegistry.ModelVersion memory version = models.getVersion(t.modelId, model.latestVersion);
        if (t.token != version.paymentToken) revert TokenMismatch(t.modelId, version.paymentToken, t.token);
        if (version.pricePerCall > maxPricePerCall) {
            revert PriceAboveMax(t.modelId, version.pricePerCall, maxPricePerCall);
        }
        if (t.deadline < block.timestamp || t.deadline > block.timestamp + _params.maxDeadline) {
            revert BadDeadline(t.deadline, block.timestamp);
        }
        uint256 asked = t.regionMask;
        t.regionMask = asked == 0 ? version.regionMask : asked & version.regionMask;
        if (t.regionMask == 0) revert RegionNotAllowed(asked, type(uint8).max);
        // Reverts for tokens without a bond rate; a bond no operator may lock means a job nobody can secure.
        uint256 bond = bondFor(t.token, t.payment);
        if (bond > MAX_BOND) revert JobTooLarge(t.payment, bond, MAX_BOND);
        t.royalty = version.pricePerCall;
        t.protocolFee = Splits.fee(t.payment, _params.feeBps);
        uint256 floor = _tokens[t.token].minOperatorFee;
        if (floor == type(uint256).max) revert TokenNotAccepted(t.token);
        // Saturating: a royalty or floor near 2^256 is a payment too low to state, not an overflow panic.
        uint256 required = Math.saturatingAdd(Math.saturatingAdd(t.royalty, t.protocolFee), floor);
        if (t.payment < required) revert InsufficientPayment(t.payment, required);
        t.seller = model.seller;
        t.weightsDigest = version.weightsDigest;
        t.runtime = version.runtime;

        jobId = ++jobCount;
        _terms[jobId] = t;
        _progress[jobId].state = JobState.Requested;
        escrowed[t.token] += t.payment;
        emit JobRequested(jobId, t.buyer, t.modelId, t, inputCid);
        emit MetaEvidence(jobId, string.concat("ipfs://", inputCid));
    }

    /// @dev Reopens a claimed job (timeout or release): the job is open again, the claim penalty of its bond
    /// goes to the treasury and the rest is unlocked. Returns the penalty taken (wei).
    function _reopen(JobProgress storage p) internal returns (uint256 slashed) {
        (address operator, uint256 bond) = (p.operator, p.bond);
        p.state = JobState.Requested;
        p.operator = address(0);
        p.bond = 0;
        p.submitBy = 0;
        // The penalty comes out of this job's locked bond, so it is taken from our lock in full. The
        // credit needs the slashed amount; the registry is ours, only sends us ETH, and is nonReentrant.
        uint256 penalty = bond * _params.claimPenaltyBps / BPS;
        // slither-disable-next-line reentrancy-benign,reentrancy-no-eth
        slashed = operators.slash(operator, penalty, address(this));
        _credit(treasury, address(0), slashed);
        operators.unlock(operator, bond - slashed);
    }

    /// @dev Pays the split (`premium`: the job's audit premium, IDisputeDesk.auditOf), releases the bond, closes the
    /// job.
    function _settle(uint256 jobId, JobState state, CloseReason reason, uint256 premium) internal {
        JobTerms storage t = _terms[jobId];
        JobProgress storage p = _progress[jobId];
        p.state = state;
        p.closeReason = reason;
        // The fee was snapshotted at request time (Splits.escrow); a later feeBps change never applies. The audit
        // premium was fixed at submission, at most the operator fee (IDisputeDesk.scheduleAudit).
        address token = t.token;
        uint256 operatorFee = Splits.operatorShare(t.payment, t.royalty, t.protocolFee, premium);
        escrowed[token] -= t.payment;
        _credit(t.seller, token, t.royalty);
        _credit(treasury, token, t.protocolFee);
        _credit(p.operator, token, operatorFee);
        // ETH premiums fund the audit pool (the desk pulls them); ERC-20 ones go to the treasury, which funds it.
        _credit(token == address(0) ? desk : treasury, token, premium);
        emit PaymentSplit(jobId, t.royalty, t.protocolFee, operatorFee, premium);
        emit JobClosed(jobId, state, reason);
        operators.unlock(p.operator, p.bond);
        operators.recordJobCompleted(p.operator);
    }

    function _job(uint256 jobId, JobState expected) internal view returns (JobTerms storage t, JobProgress storage p) {
        p = _progress[jobId];
        if (p.state == JobState.None) revert UnknownJob(jobId);
        if (p.state != expected) revert WrongState(jobId, p.state);
        t = _terms[jobId];
    }

    function _setParams(Params memory p) internal {
        if (p.feeBps > MAX_FEE_BPS) revert ParameterOutOfBounds("feeBps", p.feeBps, 0, MAX_FEE_BPS);
        if (p.bondBps > MAX_BOND_BPS) revert ParameterOutOfBounds("bondBps", p.bondBps, 0, MAX_BOND_BPS);
        if (p.claimPenaltyBps > BPS) revert ParameterOutOfBounds("claimPenaltyBps", p.claimPenaltyBps, 0, BPS);
        if (p.burnBps > BPS) revert ParameterOutOfBounds("burnBps", p.burnBps, 0, BPS);
        if (p.claimTimeout < MIN_WINDOW || p.claimTimeout > MAX_WINDOW) {
            revert ParameterOutOfBounds("claimTimeout", p.claimTimeout, MIN_WINDOW, MAX_WINDOW);
        }
        if (p.challengeWindow < MIN_WINDOW || p.challengeWindow > MAX_WINDOW) {
            revert ParameterOutOfBounds("challengeWindow", p.challengeWindow, MIN_WINDOW, MAX_WINDOW);
        }
        if (p.maxDeadline < MIN_WINDOW || p.maxDeadline > MAX_DEADLINE_LIMIT) {
            revert ParameterOutOfBounds("maxDeadline", p.maxDeadline, MIN_WINDOW, MAX_DEADLINE_LIMIT);
        }
        if (p.bondFloor == 0 || p.bondFloor > MAX_BOND) {
            revert ParameterOutOfBounds("bondFloor", p.bondFloor, 1, MAX_BOND);
        }
        if (p.challengeBond == 0 || p.challengeBond > MAX_BOND) {
            revert ParameterOutOfBounds("challengeBond", p.challengeBond, 1, MAX_BOND);
        }
        _params = p;
        emit ParamsUpdated(p);
    }

    function _setTreasury(address treasury_) internal {
        if (treasury_ == address(0)) revert ZeroAddress("treasury");
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }
}
