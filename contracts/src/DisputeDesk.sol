// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {PullPayments} from "./base/PullPayments.sol";
import {IArbitrable, IArbitrator} from "./interfaces/IArbitration.sol";
import {ICairnCommon} from "./interfaces/ICairnCommon.sol";
import {IDisputeDesk} from "./interfaces/IDisputeDesk.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "./interfaces/IReexecutionCommittee.sol";
import {Splits} from "./libraries/Splits.sol";

/// @title DisputeDesk
/// @notice Challenge pools of submitted jobs and the application of the committee's rulings (see IDisputeDesk).
/// Holds the challengers' bonds until they collect; every payout is a pull balance.
contract DisputeDesk is IDisputeDesk, PullPayments, CairnVersion, Ownable2Step {
    /// @notice Where burned ETH goes.
    address public constant BURN_ADDRESS = 0x000000000000000000000000000000000000dEaD;
    /// @notice Fixed-point one of audit rates.
    uint256 public constant WAD = 1e18;
    /// @notice Highest safety factor: 5× the break-even audit rate.
    uint16 public constant MAX_SAFETY_BPS = 50_000;

    /// @notice The dispute resolver (the re-execution committee).
    IArbitrator public immutable arbitrator;
    /// @notice The only sender of slashed bonds (the operator registry).
    address public immutable operators;
    /// @notice The job market whose jobs this desk disputes (set once).
    IJobMarket public market;

    /// @notice ETH held for tickets not yet collected: open pools' bonds and ruled pools' payouts.
    uint256 public challengePoolsHeld;
    /// @notice ETH burned so far.
    uint256 public totalBurned;
    /// @notice Dispute id → job id.
    mapping(uint256 disputeId => uint256) public jobOfDispute;
    /// @notice ETH that advances audits' arbitration fees (wei).
    uint256 public auditPool;
    /// @notice The audit parameters.
    AuditParams public auditParams;

    mapping(uint256 jobId => Pool) private _pools;
    mapping(uint256 jobId => mapping(address challenger => Ticket)) private _tickets;
    mapping(uint256 jobId => Audit) private _audits;

    /// @param owner_ Governance (sets the market once).
    /// @param arbitrator_ The committee.
    /// @param operators_ The operator registry, which sends slashed bonds here.
    /// @param auditParams_ The audit parameters.
    constructor(address owner_, IArbitrator arbitrator_, address operators_, AuditParams memory auditParams_)
        Ownable(owner_)
    {
        if (address(arbitrator_) == address(0)) revert ZeroAddress("arbitrator");
        if (operators_ == address(0)) revert ZeroAddress("operators");
        arbitrator = arbitrator_;
        operators = operators_;
        _setAuditParams(auditParams_);
    }

    /// @notice Accepts slashed bonds from the operator registry (applied by `rule`), and what the market (ETH
    /// premiums) and the committee (returned audit fees) pay the desk, into the audit pool. Anything else is
    /// refused (force-sent ETH is surplus).
    receive() external payable {
        if (msg.sender == operators) return;
        if (msg.sender != address(market) && msg.sender != address(arbitrator)) revert UnexpectedSender(msg.sender);
        _fundAudits(msg.sender, msg.value);
    }

    /// @notice Sets the audit parameters (bounded: `safetyBps` ≤ 50,000, `minRateBps` ≤ 10,000); jobs already
    /// submitted keep their rate and premium.
    /// @param params_ The parameters.
    function setAuditParams(AuditParams calldata params_) external onlyOwner {
        _setAuditParams(params_);
    }

    /// @notice Sets the job market, once (it is deployed after the desk, which it names).
    /// @param market_ The market.
    function setMarket(IJobMarket market_) external onlyOwner {
        if (address(market) != address(0)) revert MarketAlreadySet(address(market));
        if (address(market_) == address(0)) revert ZeroAddress("market");
        market = market_;
        emit MarketSet(address(market_));
    }

    /// @inheritdoc IDisputeDesk
    function challenge(uint256 jobId) external payable nonReentrant returns (uint256 disputeId) {
        IJobMarket.JobProgress memory p = _market().getProgress(jobId);
        Pool storage pool = _pools[jobId];
        // An audit's pool has a dispute and no ticket yet: a challenger joins it.
        if (pool.disputeId == 0) {
            if (p.state != IJobMarket.JobState.Submitted) revert NotChallengeable(jobId, p.state);
        } else if (p.state != IJobMarket.JobState.Disputed || pool.ruled) {
            revert NotChallengeable(jobId, p.state);
        }
        // Disjoint windows: challenge strictly before challengeEnds, finalize at or after it.
        if (block.timestamp >= p.challengeEnds) {
            revert ChallengeWindowClosed(jobId, p.challengeEnds, block.timestamp);
        }
        if (_tickets[jobId][msg.sender] != Ticket.None) revert AlreadyChallenger(jobId, msg.sender);
        _tickets[jobId][msg.sender] = Ticket.Held;
        if (pool.disputeId != 0) {
            uint256 joined = pool.disputeId;
            if (!IReexecutionCommittee(address(arbitrator)).votesHidden(joined)) revert VotesRevealed(jobId, joined);
            uint256 joinBond = pool.bond;
            if (msg.value != joinBond) revert WrongPayment(joinBond, msg.value);
            uint64 tickets = ++pool.tickets;
            challengePoolsHeld += joinBond;
            emit ChallengeJoined(jobId, msg.sender, joinBond, tickets);
            return joined;
        }
        IJobMarket.Params memory params = market.params();
        // The jury sits on stake matured by the end of the job's challenge window at the latest (it is later now); the
        // operator's bond sets how long the dispute may wait for seats.
        bytes memory extraData = abi.encode(p.operator, msg.sender, p.challengeEnds, p.bond);
        uint256 cost = arbitrator.arbitrationCost(extraData);
        uint256 bond = params.challengeBond;
        if (msg.value != bond + cost) revert WrongPayment(bond + cost, msg.value);
        disputeId = _openPool(jobId, msg.sender, extraData, cost, params);
    }

    /// @dev Opens `jobId`'s pool: `first` advanced the arbitration fee `cost` (the desk itself for an audit, which
    /// holds no ticket; a challenger holds the first ticket, its bond the market's `challengeBond`), the burn share
    /// and bond are the market's now; then the committee's dispute, its record, ERC-1497's `Dispute`, and the job
    /// marked disputed.
    function _openPool(
        uint256 jobId,
        address first,
        bytes memory extraData,
        uint256 cost,
        IJobMarket.Params memory params
    ) internal returns (uint256 disputeId) {
        Pool storage pool = _pools[jobId];
        bool audit = first == address(this);
        uint256 bond = params.challengeBond;
        pool.first = first;
        if (!audit) {
            pool.tickets = 1;
            challengePoolsHeld += bond;
        }
        pool.burnBps = params.burnBps;
        pool.bond = bond;
        pool.fee = cost;
        // The dispute id is only known from the call; the arbitrator and the market are fixed and trusted, and
        // every entry that reads a pool's money (challenge, rule, collect's credit) is behind the one guard or
        // only reachable after this call returns.
        // slither-disable-next-line reentrancy-benign,reentrancy-no-eth,reentrancy-eth,reentrancy-events
        disputeId = arbitrator.createDispute{value: cost}(3, extraData);
        pool.disputeId = disputeId;
        jobOfDispute[disputeId] = jobId;
        emit Dispute(address(arbitrator), disputeId, jobId, jobId);
        market.markDisputed(jobId, first, disputeId, audit ? 0 : bond);
    }

    /// @inheritdoc IArbitrable
    function rule(uint256 disputeId, uint256 ruling) external nonReentrant {
        if (msg.sender != address(arbitrator)) revert NotArbitrator(msg.sender);
        uint256 jobId = jobOfDispute[disputeId];
        Pool storage pool = _pools[jobId];
        if (ruling > 3 || jobId == 0 || pool.ruled) revert InvalidRuling(disputeId, ruling);
        pool.ruled = true;
        // forge-lint: disable-next-line(unsafe-typecast)
        pool.ruling = uint8(ruling);
        emit Ruling(msg.sender, disputeId, ruling);
        uint256 charge = ruling == 3 ? _inputCharge(jobId, pool) : 0;
        // The market is ours and fixed; what it slashes is only known from the call, so the credits follow it.
        // slither-disable-next-line reentrancy-benign,reentrancy-no-eth,reentrancy-events
        (address operator, uint256 slashed) = market.settleDisputed(jobId, ruling, charge);
        uint256 bonds = pool.bond * pool.tickets;
        uint256 burned = 0;
        if (ruling == 1) {
            // Every ticket was wrong: its bond goes to the operator, less the burned share.
            uint256 kept;
            (burned, kept) = Splits.burn(bonds, pool.burnBps);
            challengePoolsHeld -= bonds;
            _credit(operator, address(0), kept);
            emit PoolSettled(jobId, disputeId, ruling, 0, 0, burned);
        } else if (ruling == 2) {
            burned = _shareSlash(jobId, disputeId, pool, slashed);
        } else {
            // Refused (0) or the input could not be fetched (3): every ticket gets its bond back. On 3 the operator,
            // who had to keep the input pinned through the ruling, paid `_inputCharge` out of its bond (`slashed`):
            // the fee goes back to whoever advanced it (the first challenger, or the audit pool for an audit) and
            // the rest is burned, so nobody gains from an input going missing.
            pool.payout = pool.bond;
            uint256 refund = slashed < pool.fee ? slashed : pool.fee;
            burned = slashed - refund;
            // On 0 nothing was charged: no audit-pool event, and `_credit` skips a zero credit.
            if (refund != 0 && pool.first == address(this)) _fundAudits(address(this), refund);
            else _credit(pool.first, address(0), refund);
            emit PoolSettled(jobId, disputeId, ruling, pool.bond, refund, burned);
        }
        if (burned != 0) {
            totalBurned += burned;
            emit Burned(jobId, burned);
            _send(address(0), BURN_ADDRESS, burned);
        }
    }

    /// @dev Ruling 3's charge to the operator (wei): the arbitration fee plus what a ruling of 2 would have burned,
    /// `burnBps` of the bond less the fee; at most the bond. An operator that hides the input of a job it was audited
    /// or challenged on therefore loses at least what the audit rate prices in (the burn), and a buyer or challenger
    /// who hides it gains nothing (issue #12, input availability).
    function _inputCharge(uint256 jobId, Pool storage pool) internal view returns (uint256) {
        uint256 bond = market.getProgress(jobId).bond;
        uint256 fee = pool.fee < bond ? pool.fee : bond;
        // Only the burned part is charged; the kept part stays the operator's.
        // slither-disable-next-line unused-return
        (uint256 toBurn,) = Splits.burn(bond - fee, pool.burnBps);
        return fee + toBurn;
    }

    /// @dev Ruling 2: the slashed bond refunds the first challenger's fee (when spent), `burnBps` of the rest is
    /// burned (returned, sent by the caller last) and the remainder shared per ticket. Returns wei to burn.
    function _shareSlash(uint256 jobId, uint256 disputeId, Pool storage pool, uint256 slashed)
        internal
        returns (uint256 burned)
    {
        // A dispute ruled without jurors (its seed and reseed lapsed) had its unspent fee returned to the first
        // challenger by the committee: refunding it again would take it from the other tickets.
        bool feeSpent = IReexecutionCommittee(address(arbitrator)).jurorsOf(disputeId).length != 0;
        uint256 tickets = pool.tickets;
        uint256 refund;
        uint256 perTicket;
        uint256 dust;
        (refund, burned, perTicket, dust) =
            Splits.challengePool(slashed, feeSpent ? pool.fee : 0, pool.burnBps, tickets);
        uint256 payout = pool.bond + perTicket;
        pool.payout = payout;
        challengePoolsHeld += perTicket * tickets;
        // An audit's fee came from the audit pool, which takes the refund (and, without tickets, the rest).
        if (pool.first == address(this)) _fundAudits(address(this), refund + dust);
        else _credit(pool.first, address(0), refund + dust);
        emit PoolSettled(jobId, disputeId, 2, payout, refund, burned);
    }

    /*//////////////////////////////////////////////////////////////
                                 AUDITS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisputeDesk
    function scheduleAudit(uint256 jobId, address token, uint256 operatorFee, uint256 bond, uint16 burnBps) external {
        if (msg.sender != address(market)) revert NotMarket(msg.sender);
        (uint64 rate, uint256 premium) = auditTerms(token, operatorFee, bond, burnBps);
        uint64 seedBlock = uint64(block.number);
        // One slot per audit: a premium above 2¹²⁰ − 1 units (no real token's amounts reach it) is capped there.
        if (premium > type(uint120).max) premium = type(uint120).max;
        // Capped just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint120 packed = uint120(premium);
        _audits[jobId] = Audit({
            seedBlock: seedBlock,
            rate: rate,
            state: rate == 0 ? AuditState.Cleared : AuditState.Pending,
            premium: packed
        });
        emit AuditScheduled(jobId, seedBlock, rate, premium);
    }

    /// @inheritdoc IDisputeDesk
    function evaluateAudit(uint256 jobId) external nonReentrant returns (bool audited) {
        Audit storage a = _audits[jobId];
        if (a.state != AuditState.Pending) revert AuditNotPending(jobId, a.state);
        uint64 seedBlock = a.seedBlock;
        if (block.number <= seedBlock) revert AuditSeedNotMined(jobId, seedBlock, block.number);
        // A seed no longer served means audited: the operator, who wants to finalize, could have evaluated in
        // time, so waiting never helps it. The salt keeps audit seeds apart from the committee's draw seeds.
        audited = true;
        try IReexecutionCommittee(address(arbitrator)).randomness()
            .seed(seedBlock, uint256(keccak256(abi.encode("cairn.audit", jobId)))) returns (
            bytes32 s
        ) {
            audited = uint256(s) % WAD < a.rate;
        } catch {}
        if (!audited) {
            // Also for a job challenged first, which the committee already judges: it is never finalized.
            a.state = AuditState.Cleared;
            emit AuditEvaluated(jobId, false, 0);
            return false;
        }
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        if (p.state != IJobMarket.JobState.Submitted) revert NotChallengeable(jobId, p.state);
        a.state = AuditState.Audited;
        // Evaluated late (after the challenge window: only the operator gains by waiting), the audit's jury still
        // sits on stake matured by the window's end, so stake added meanwhile never sits (issue #12).
        bytes memory extraData = abi.encode(p.operator, address(this), p.challengeEnds, p.bond);
        uint256 cost = arbitrator.arbitrationCost(extraData);
        // The pull withdraws from our own fixed market and committee, whose ETH lands in `receive`, which books it
        // into the pool: reading the pool after it is the point.
        // slither-disable-next-line reentrancy-no-eth
        if (auditPool < cost) _pullAuditFunds();
        if (auditPool < cost) revert AuditPoolShort(jobId, cost, auditPool);
        auditPool -= cost;
        uint256 disputeId = _openPool(jobId, address(this), extraData, cost, market.params());
        emit AuditEvaluated(jobId, true, disputeId);
    }

    /// @inheritdoc IDisputeDesk
    function fundAuditPool() external payable {
        _fundAudits(msg.sender, msg.value);
    }

    /// @inheritdoc IDisputeDesk
    function pullAuditFunds() external nonReentrant {
        _pullAuditFunds();
    }

    /// @inheritdoc IDisputeDesk
    function auditTerms(address token, uint256 operatorFee, uint256 bond, uint16 burnBps)
        public
        view
        returns (uint64 rate, uint256 premium)
    {
        AuditParams memory ap = auditParams;
        // The operator fee in ETH: ERC-20 amounts convert at the token's bond rate (wei per unit, × 1e18). The
        // rounding of the conversion and of the rate is intended: the premium is defined on the recorded rate.
        // slither-disable-start divide-before-multiply
        uint256 bondRate = token == address(0) ? WAD : _market().tokenConfig(token).bondRate;
        uint256 feeEth = operatorFee * bondRate / WAD;
        uint256 base = feeEth + bond * burnBps / Splits.BPS;
        uint256 r = base == 0 ? 0 : ap.safetyBps * feeEth * WAD / (Splits.BPS * base);
        uint256 least = uint256(ap.minRateBps) * WAD / Splits.BPS;
        if (r < least) r = least;
        if (r > WAD) r = WAD;
        // forge-lint: disable-next-line(unsafe-typecast)
        rate = uint64(r);
        if (r == 0) return (0, 0);
        // π = ⌈f × A⌉ in wei, then in the token's units (rounded up), never above the operator fee.
        uint256 cost = arbitrator.arbitrationCost("");
        premium = (r * cost + WAD - 1) / WAD;
        if (token != address(0)) premium = bondRate == 0 ? operatorFee : (premium * WAD + bondRate - 1) / bondRate;
        if (premium > operatorFee) premium = operatorFee;
        // slither-disable-end divide-before-multiply
    }

    /// @inheritdoc IDisputeDesk
    function auditOf(uint256 jobId) external view returns (Audit memory) {
        return _audits[jobId];
    }

    function _pullAuditFunds() internal {
        // Both are ours and fixed; each sends only to its caller, and `receive` books what arrives.
        ICairnCommon[2] memory sources = [ICairnCommon(address(_market())), ICairnCommon(address(arbitrator))];
        for (uint256 i = 0; i < 2; ++i) {
            if (sources[i].balanceOf(address(this), address(0)) != 0) sources[i].withdraw(address(0));
        }
    }

    function _fundAudits(address from, uint256 amount) internal {
        uint256 total = auditPool + amount;
        auditPool = total;
        emit AuditPoolFunded(from, amount, total);
    }

    function _setAuditParams(AuditParams memory p) internal {
        if (p.safetyBps > MAX_SAFETY_BPS) revert ParameterOutOfBounds("safetyBps", p.safetyBps, 0, MAX_SAFETY_BPS);
        if (p.minRateBps > Splits.BPS) revert ParameterOutOfBounds("minRateBps", p.minRateBps, 0, Splits.BPS);
        auditParams = p;
        emit AuditParamsUpdated(p);
    }

    /// @inheritdoc IDisputeDesk
    function collect(uint256 jobId, address challenger) external returns (uint256 amount) {
        Pool storage pool = _pools[jobId];
        amount = pool.payout;
        if (_tickets[jobId][challenger] != Ticket.Held || amount == 0) revert NothingToCollect(jobId, challenger);
        _tickets[jobId][challenger] = Ticket.Collected;
        challengePoolsHeld -= amount;
        _credit(challenger, address(0), amount);
        emit ChallengerPaid(jobId, challenger, amount);
    }

    /// @inheritdoc IDisputeDesk
    function submitEvidence(uint256 jobId, string calldata evidence) external {
        if (_market().getProgress(jobId).state == IJobMarket.JobState.None) revert IJobMarket.UnknownJob(jobId);
        emit Evidence(address(arbitrator), jobId, msg.sender, evidence);
    }

    /// @inheritdoc IDisputeDesk
    function challengeCost(uint256 jobId) external view returns (uint256) {
        Pool storage pool = _pools[jobId];
        if (pool.disputeId != 0) return pool.bond;
        IJobMarket.JobProgress memory p = _market().getProgress(jobId);
        return market.params().challengeBond + arbitrator.arbitrationCost(abi.encode(p.operator, address(0)));
    }

    /// @inheritdoc IDisputeDesk
    function poolOf(uint256 jobId) external view returns (Pool memory) {
        return _pools[jobId];
    }

    /// @inheritdoc IDisputeDesk
    function ticketOf(uint256 jobId, address challenger) external view returns (Ticket) {
        return _tickets[jobId][challenger];
    }

    function _market() internal view returns (IJobMarket m) {
        m = market;
        if (address(m) == address(0)) revert MarketNotSet();
    }
}
