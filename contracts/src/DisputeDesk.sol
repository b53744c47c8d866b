// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {PullPayments} from "./base/PullPayments.sol";
import {IArbitrable, IArbitrator} from "./interfaces/IArbitration.sol";
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

    mapping(uint256 jobId => Pool) private _pools;
    mapping(uint256 jobId => mapping(address challenger => Ticket)) private _tickets;

    /// @param owner_ Governance (sets the market once).
    /// @param arbitrator_ The committee.
    /// @param operators_ The operator registry, which sends slashed bonds here.
    constructor(address owner_, IArbitrator arbitrator_, address operators_) Ownable(owner_) {
        if (address(arbitrator_) == address(0)) revert ZeroAddress("arbitrator");
        if (operators_ == address(0)) revert ZeroAddress("operators");
        arbitrator = arbitrator_;
        operators = operators_;
    }

    /// @notice Accepts slashed bonds from the operator registry only (anything else is force-sent surplus).
    receive() external payable {
        if (msg.sender != operators) revert UnexpectedSender(msg.sender);
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
        if (pool.tickets == 0) {
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
        if (pool.tickets != 0) {
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
        bytes memory extraData = abi.encode(p.operator, msg.sender);
        uint256 cost = arbitrator.arbitrationCost(extraData);
        uint256 bond = params.challengeBond;
        if (msg.value != bond + cost) revert WrongPayment(bond + cost, msg.value);
        pool.first = msg.sender;
        pool.tickets = 1;
        pool.burnBps = params.burnBps;
        pool.bond = bond;
        pool.fee = cost;
        challengePoolsHeld += bond;
        // The dispute id is only known from the call; the arbitrator and the market are fixed and trusted, and
        // every entry that reads a pool's money (challenge, rule, collect's credit) is behind the one guard or
        // only reachable after this call returns.
        // slither-disable-next-line reentrancy-benign,reentrancy-no-eth,reentrancy-eth
        disputeId = arbitrator.createDispute{value: cost}(2, extraData);
        pool.disputeId = disputeId;
        jobOfDispute[disputeId] = jobId;
        emit Dispute(address(arbitrator), disputeId, jobId, jobId);
        market.markDisputed(jobId, msg.sender, disputeId, bond);
    }

    /// @inheritdoc IArbitrable
    function rule(uint256 disputeId, uint256 ruling) external nonReentrant {
        if (msg.sender != address(arbitrator)) revert NotArbitrator(msg.sender);
        uint256 jobId = jobOfDispute[disputeId];
        Pool storage pool = _pools[jobId];
        if (ruling > 2 || jobId == 0 || pool.ruled) revert InvalidRuling(disputeId, ruling);
        pool.ruled = true;
        // forge-lint: disable-next-line(unsafe-typecast)
        pool.ruling = uint8(ruling);
        emit Ruling(msg.sender, disputeId, ruling);
        // The market is ours and fixed; what it slashes is only known from the call, so the credits follow it.
        // slither-disable-next-line reentrancy-benign,reentrancy-no-eth,reentrancy-events
        (address operator, uint256 slashed) = market.settleDisputed(jobId, ruling);
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
            pool.payout = pool.bond;
            emit PoolSettled(jobId, disputeId, ruling, pool.bond, 0, 0);
        }
        if (burned != 0) {
            totalBurned += burned;
            emit Burned(jobId, burned);
            _send(address(0), BURN_ADDRESS, burned);
        }
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
        _credit(pool.first, address(0), refund + dust);
        emit PoolSettled(jobId, disputeId, 2, payout, refund, burned);
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
        if (pool.tickets != 0) return pool.bond;
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
