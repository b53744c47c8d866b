// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {PullPayments} from "./base/PullPayments.sol";
import {IArbitrable, IArbitrator} from "./interfaces/IArbitration.sol";
import {IJurorPool} from "./interfaces/IJurorPool.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IRandomness, IReexecutionCommittee} from "./interfaces/IReexecutionCommittee.sol";
import {CairnTypedData} from "./libraries/CairnTypedData.sol";

/// @title ReexecutionCommittee
/// @notice An ERC-792-shaped arbitrator: k seats, drawn with replacement from the juror pool by free juror
/// stake (never the accused or the challenger), re-execute the job off-chain and commit, then reveal, whether
/// the claimed output is acceptable. The majority of seats rules and shares the fee; silent seats are slashed.
/// Disputes are drawn in creation order and the pool is frozen while any awaits its draw (IJurorPool).
contract ReexecutionCommittee is IReexecutionCommittee, PullPayments, CairnVersion, Ownable2Step {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Four slots. fee ≤ 10 ETH and nonRevealPenalty ≤ seatSize ≤ 1000 ETH (`_setParams`), so uint96 and
    /// uint88 (≥ 3·10⁸ ETH) hold them whole. The penalty and the seat count are snapshotted at creation: a
    /// later `setParams` never changes what an open dispute locks or takes (issue #12, finding 1); the seat's
    /// lock is the pool's seatSize, fixed at deployment. Votes are counted per seat.
    struct DisputeData {
        Phase phase;
        address arbitrable;
        uint88 nonRevealPenalty;
        address accused;
        uint96 fee;
        address challenger;
        uint64 openedAt;
        bool reseeded;
        bool audit;
        uint64 seedBlock;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint8 seats;
        uint8 commits;
        uint8 reveals;
        uint8 votesAcceptable;
        uint8 votesNotAcceptable;
        uint8 deferrals;
    }

    /// @notice Most jurors per dispute.
    uint8 public constant MAX_JURORS = 15;
    /// @notice Most seats governance may reserve for challenges.
    uint16 public constant MAX_AUDIT_RESERVE = 1000;
    /// @notice Bounds of the commit and reveal periods.
    uint64 public constant MIN_PERIOD = 60;
    /// @notice Longest commit or reveal period.
    uint64 public constant MAX_PERIOD = 7 days;
    /// @notice Longest a dispute may wait for seats, from its opening: then anyone may `expire` it (ruling 0).
    uint64 public constant MAX_WAIT = 30 days;

    /// @notice Where operators and their signer keys live.
    IOperatorRegistry public immutable operators;
    /// @notice Where juror stake lives and seats are drawn.
    IJurorPool public immutable pool;
    /// @notice Wei locked per seat: the pool's seatSize (never zero; issue #12, finding 9).
    uint256 public immutable seatSize;
    /// @notice Seed source.
    IRandomness public immutable randomness;

    /// @notice Contracts that may open disputes.
    mapping(address => bool) public arbitrable;
    /// @notice Number of disputes.
    uint256 public disputeCount;
    /// @notice Fees of disputes not yet ruled (held = pull balances + this).
    uint256 public feesHeld;

    Params private _params;
    mapping(uint256 disputeId => DisputeData) private _disputes;
    // Written in `draw` through a storage reference (Slither misses the push).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 disputeId => address[]) private _jurors;
    mapping(uint256 disputeId => mapping(address juror => uint256)) private _seats;
    /// @notice Next position to draw in the queue, and the position after the last queued.
    uint128 public queueHead;
    /// @notice One past the last queued position.
    uint128 public queueTail;
    mapping(uint256 position => uint256 disputeId) private _queue;
    mapping(uint256 disputeId => mapping(address juror => bytes32)) private _commitments;
    mapping(uint256 disputeId => mapping(address juror => uint256)) private _votes;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param owner_ Governance.
    /// @param operators_ Operator registry (signer keys).
    /// @param pool_ Juror pool (must name this contract as its committee).
    /// @param randomness_ Seed source.
    /// @param params_ Initial parameters.
    constructor(
        address owner_,
        IOperatorRegistry operators_,
        IJurorPool pool_,
        IRandomness randomness_,
        Params memory params_
    ) Ownable(owner_) {
        if (address(operators_) == address(0)) revert ZeroAddress("operators");
        if (address(pool_) == address(0)) revert ZeroAddress("pool");
        if (address(randomness_) == address(0)) revert ZeroAddress("randomness");
        operators = operators_;
        pool = pool_;
        seatSize = pool_.seatSize();
        randomness = randomness_;
        _setParams(params_);
    }

    /// @notice Accepts slashed penalties from the juror pool only.
    receive() external payable {
        if (msg.sender != address(pool)) revert UnexpectedSender(msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                                ARBITRATOR
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IArbitrator
    /// @dev No `nonReentrant`: it makes no external call (a mutation run showed the guard changed nothing).
    function createDispute(uint256 choices, bytes calldata extraData) external payable returns (uint256 disputeId) {
        if (!arbitrable[msg.sender]) revert NotArbitrable(msg.sender);
        if (choices != 2) revert UnsupportedChoices(choices);
        if (msg.value != _params.fee) revert WrongPayment(_params.fee, msg.value);
        (address accused, address challenger) = abi.decode(extraData, (address, address));
        if (challenger == address(0)) revert ZeroAddress("challenger");
        disputeId = ++disputeCount;
        DisputeData storage d = _disputes[disputeId];
        d.phase = Phase.Created;
        d.arbitrable = msg.sender;
        d.accused = accused;
        d.challenger = challenger;
        // An arbitrable that challenges its own dispute opened an audit (no party asked for it).
        d.audit = challenger == msg.sender;
        d.seedBlock = uint64(block.number + 1);
        d.openedAt = uint64(block.timestamp);
        d.seats = _params.jurors;
        // Within the bounds above (fee = msg.value = _params.fee ≤ 10 ETH; penalty ≤ seatSize ≤ 1000 ETH).
        // forge-lint: disable-next-line(unsafe-typecast)
        d.fee = uint96(msg.value);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.nonRevealPenalty = uint88(_params.nonRevealPenalty);
        feesHeld += msg.value;
        _enqueue(disputeId);
        emit DisputeCreation(disputeId, msg.sender);
        emit DisputeOpened(disputeId, accused, challenger, d.seats, d.seedBlock, d.nonRevealPenalty);
    }

    /// @inheritdoc IArbitrator
    function arbitrationCost(bytes calldata) external view returns (uint256) {
        return _params.fee;
    }

    /*//////////////////////////////////////////////////////////////
                                  DRAW
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReexecutionCommittee
    function draw(uint256 disputeId) external nonReentrant {
        DisputeData storage d = _dispute(disputeId, Phase.Created);
        uint256 head = _queue[queueHead];
        if (head != disputeId) revert NotQueueHead(disputeId, head);
        if (block.number <= d.seedBlock) revert OutsidePeriod(disputeId, d.seedBlock, block.number);
        bytes32 seed;
        try randomness.seed(d.seedBlock, disputeId) returns (bytes32 s) {
            seed = s;
        } catch {
            if (!d.reseeded) revert SeedLapsed(disputeId, d.seedBlock);
            ++queueHead;
            if (d.deferrals != 0) {
                // A dispute that already waited is drawn unpaid (the keeper reward paid its first attempt), so
                // a lapse says nothing about who waited: it waits again, for a `retry`.
                d.phase = Phase.Waiting;
                emit DrawDeferred(disputeId, pool.freeSeats());
                return;
            }
            // The fail-safe after the one reseed: nobody drew for two seed lifetimes although the first attempt
            // pays the keeper reward whatever its outcome; the accused, who could have drawn and been paid, is
            // the only party a lapse could help.
            emit DrawLapsed(disputeId);
            feesHeld -= d.fee;
            _credit(d.challenger, address(0), d.fee);
            _finish(disputeId, d, 2);
            return;
        }
        ++queueHead;
        // Challenges have priority over audits for the pool's seats: an audit draws only while it leaves the
        // reserve free, and waits otherwise (a retry queues it again once the seats are back).
        if (d.audit && pool.freeSeats() < uint256(d.seats) + _params.auditReserve) {
            _defer(disputeId, d);
            return;
        }
        address[] memory seats;
        try pool.drawSeats(disputeId, seed, d.seats, d.accused, d.challenger, d.openedAt) returns (
            address[] memory drawn
        ) {
            seats = drawn;
        } catch (bytes memory reason) {
            // Only the first four bytes are wanted (the error selector); shorter data pads with zeros and matches
            // no selector, so it is re-raised below.
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes4 selector = bytes4(reason);
            if (selector != IJurorPool.NotEnoughSeats.selector && selector != IJurorPool.SeatUnfilled.selector) {
                // An unexpected failure of the pool: surface it unchanged.
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
            _defer(disputeId, d);
            return;
        }
        address[] storage jurors = _jurors[disputeId];
        for (uint256 i = 0; i < seats.length; ++i) {
            address juror = seats[i];
            if (_seats[disputeId][juror]++ == 0) jurors.push(juror);
        }
        d.phase = Phase.Drawn;
        d.commitDeadline = uint64(block.timestamp) + _params.commitPeriod;
        d.revealDeadline = d.commitDeadline + _params.revealPeriod;
        emit JurorsDrawn(disputeId, seats, d.commitDeadline, d.revealDeadline);
        _payKeeper(disputeId, d);
    }

    /// @inheritdoc IReexecutionCommittee
    function reseed(uint256 disputeId) external {
        DisputeData storage d = _dispute(disputeId, Phase.Created);
        if (d.reseeded || block.number <= d.seedBlock) revert ReseedRefused(disputeId, d.seedBlock);
        // Only the queue's head: a dispute behind others could not be drawn in its new window anyway, and its
        // last window must not start before anyone may draw it.
        uint256 head = _queue[queueHead];
        if (head != disputeId) revert NotQueueHead(disputeId, head);
        // Only the failure matters: a seed still served refuses the reseed.
        // slither-disable-next-line unused-return
        try randomness.seed(d.seedBlock, disputeId) returns (bytes32) {
            revert ReseedRefused(disputeId, d.seedBlock);
        } catch {}
        d.reseeded = true;
        d.seedBlock = uint64(block.number + 1);
        emit Reseeded(disputeId, d.seedBlock);
    }

    /// @inheritdoc IReexecutionCommittee
    function expire(uint256 disputeId) external nonReentrant {
        DisputeData storage d = _dispute(disputeId, Phase.Waiting);
        uint256 end = uint256(d.openedAt) + MAX_WAIT;
        if (block.timestamp < end) revert OutsidePeriod(disputeId, end, block.timestamp);
        // Nobody re-executed: the fee goes back to the challenger who paid it, and the arbitrable refuses.
        feesHeld -= d.fee;
        _credit(d.challenger, address(0), d.fee);
        emit DisputeRuled(disputeId, 0, 0, 0);
        _finish(disputeId, d, 0);
    }

    /// @inheritdoc IReexecutionCommittee
    function retry(uint256 disputeId) external {
        DisputeData storage d = _dispute(disputeId, Phase.Waiting);
        uint256 free = pool.freeSeats();
        uint256 needed = d.audit ? uint256(d.seats) + _params.auditReserve : d.seats;
        if (free < needed) revert NotEnoughFreeSeats(disputeId, free, needed);
        d.phase = Phase.Created;
        d.seedBlock = uint64(block.number + 1);
        _enqueue(disputeId);
        emit DrawRetried(disputeId, d.seedBlock);
    }

    /*//////////////////////////////////////////////////////////////
                              COMMIT, REVEAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReexecutionCommittee
    function commit(uint256 disputeId, address juror, bytes32 commitment) external {
        DisputeData storage d = _dispute(disputeId, Phase.Drawn);
        if (block.timestamp >= d.commitDeadline) {
            revert OutsidePeriod(disputeId, d.commitDeadline, block.timestamp);
        }
        _requireJuror(disputeId, juror);
        if (commitment == bytes32(0)) revert ZeroCommitment(disputeId, juror);
        if (_commitments[disputeId][juror] != bytes32(0)) revert AlreadyDone(disputeId, juror);
        _commitments[disputeId][juror] = commitment;
        // At most k ≤ 15 seats in all.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.commits += uint8(_seats[disputeId][juror]);
        emit VoteCommitted(disputeId, juror, commitment);
    }

    /// @inheritdoc IReexecutionCommittee
    function reveal(uint256 disputeId, address juror, uint256 vote, bytes32 salt) external {
        DisputeData storage d = _dispute(disputeId, Phase.Drawn);
        bool allCommitted = d.commits == d.seats;
        if (block.timestamp < d.commitDeadline && !allCommitted) {
            revert OutsidePeriod(disputeId, d.commitDeadline, block.timestamp);
        }
        if (block.timestamp >= d.revealDeadline) {
            revert OutsidePeriod(disputeId, d.revealDeadline, block.timestamp);
        }
        _requireJuror(disputeId, juror);
        if (_votes[disputeId][juror] != 0) revert AlreadyDone(disputeId, juror);
        bytes32 expected = CairnTypedData.commitment(disputeId, juror, vote, salt);
        if ((vote != 1 && vote != 2) || _commitments[disputeId][juror] != expected) {
            revert BadReveal(disputeId, juror);
        }
        _votes[disputeId][juror] = vote;
        // At most k ≤ 15 seats in all.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 weight = uint8(_seats[disputeId][juror]);
        d.reveals += weight;
        if (vote == 1) d.votesAcceptable += weight;
        else d.votesNotAcceptable += weight;
        emit VoteRevealed(disputeId, juror, vote);
    }

    /// @inheritdoc IReexecutionCommittee
    function resolve(uint256 disputeId) external nonReentrant {
        DisputeData storage d = _dispute(disputeId, Phase.Drawn);
        address[] storage jurors = _jurors[disputeId];
        if (block.timestamp < d.revealDeadline && d.reveals < d.seats) {
            revert OutsidePeriod(disputeId, d.revealDeadline, block.timestamp);
        }
        uint256 ruling =
            d.votesAcceptable > d.votesNotAcceptable ? 1 : (d.votesNotAcceptable > d.votesAcceptable ? 2 : 0);
        uint256 pot = d.fee;
        feesHeld -= d.fee;
        uint256 winners = 0;
        for (uint256 i = 0; i < jurors.length; ++i) {
            address juror = jurors[i];
            uint256 vote = _votes[disputeId][juror];
            uint256 seats = _seats[disputeId][juror];
            // This dispute's own seats, released and (for a silent juror) slashed in one step: the penalty is
            // taken from these seats only, never from another dispute's (issue #12, finding 1).
            uint256 penalty = vote == 0 ? seats * d.nonRevealPenalty : 0;
            pot += pool.settle(juror, seats * seatSize, penalty, address(this));
            // The released seats go back into the draw now (a no-op while a draw is pending), so nobody can
            // choose whose released seats return before the next dispute freezes the pool.
            // slither-disable-next-line unused-return
            pool.sync(juror);
            if (vote != 0 && (ruling == 0 || vote == ruling)) winners += seats;
        }
        // With no winner (nobody revealed) the pot goes to the challenger who paid the fee, never to `owner()`,
        // which is address(0) once ownership is renounced (issue #12, finding 10).
        if (winners == 0) _credit(d.challenger, address(0), pot);
        else _pay(disputeId, ruling, pot, winners);
        emit DisputeRuled(disputeId, ruling, d.votesAcceptable, d.votesNotAcceptable);
        _finish(disputeId, d, ruling);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReexecutionCommittee
    function jurorsOf(uint256 disputeId) external view returns (address[] memory) {
        return _jurors[disputeId];
    }

    /// @inheritdoc IReexecutionCommittee
    function votesHidden(uint256 disputeId) external view returns (bool) {
        DisputeData storage d = _disputes[disputeId];
        return d.phase == Phase.Created || d.phase == Phase.Waiting || (d.phase == Phase.Drawn && d.reveals == 0);
    }

    /// @inheritdoc IReexecutionCommittee
    function seatsOf(uint256 disputeId, address juror) external view returns (uint256) {
        return _seats[disputeId][juror];
    }

    /// @inheritdoc IReexecutionCommittee
    function awaitingDraw() external view returns (uint256) {
        return queueTail - queueHead;
    }

    /// @notice The dispute the next `draw` must name (0 when the queue is empty).
    /// @return The dispute id.
    function queueHeadDispute() external view returns (uint256) {
        return _queue[queueHead];
    }

    /// @notice A dispute's record.
    /// @param disputeId The dispute.
    /// @return phase Its phase.
    /// @return seedBlock The seed block.
    /// @return commitDeadline Commits strictly before.
    /// @return revealDeadline Reveals strictly before.
    function disputeInfo(uint256 disputeId)
        external
        view
        returns (Phase phase, uint64 seedBlock, uint64 commitDeadline, uint64 revealDeadline)
    {
        DisputeData storage d = _disputes[disputeId];
        return (d.phase, d.seedBlock, d.commitDeadline, d.revealDeadline);
    }

    /// @notice The parameters.
    /// @return The parameters.
    function params() external view returns (Params memory) {
        return _params;
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets every parameter (each bounded).
    /// @param params_ The parameters.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    /// @notice Allows or stops a contract opening disputes.
    /// @param account The contract.
    /// @param allowed Whether it may.
    function setArbitrable(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ZeroAddress("arbitrable");
        arbitrable[account] = allowed;
        emit ArbitrableSet(account, allowed);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Shares the pot per seat among the `winners` winning seats (the majority, or every revealed seat when
    /// tied). Division dust goes to the first winner, so no wei is left over.
    function _pay(uint256 disputeId, uint256 ruling, uint256 pot, uint256 winners) internal {
        address[] storage jurors = _jurors[disputeId];
        uint256 share = pot / winners;
        // Intended: the remainder of the division, so that no wei is lost.
        // slither-disable-next-line divide-before-multiply
        uint256 dust = pot - share * winners;
        for (uint256 i = 0; i < jurors.length; ++i) {
            address juror = jurors[i];
            uint256 vote = _votes[disputeId][juror];
            if (vote != 0 && (ruling == 0 || vote == ruling)) {
                // Intended: one share per winning seat; the division's remainder is the dust above.
                // slither-disable-next-line divide-before-multiply
                _credit(juror, address(0), share * _seats[disputeId][juror] + dust);
                dust = 0;
            }
        }
    }

    /// @dev Pays whoever called `draw` the keeper reward, out of the dispute's fee (at most all of it).
    function _payKeeper(uint256 disputeId, DisputeData storage d) internal {
        uint256 reward = _params.keeperReward;
        if (reward > d.fee) reward = d.fee;
        if (reward == 0) return;
        // reward ≤ fee ≤ 10 ETH fits the uint96 field.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.fee -= uint96(reward);
        feesHeld -= reward;
        _credit(msg.sender, address(0), reward);
        emit KeeperPaid(disputeId, msg.sender, reward);
    }

    /// @dev Out of the queue to wait for seats. The first attempt is paid whatever its outcome, so a draw that
    /// will defer is still sent at once (and cannot be left to lapse); later deferrals are not, so retries cannot
    /// drain the fee.
    function _defer(uint256 disputeId, DisputeData storage d) internal {
        d.phase = Phase.Waiting;
        emit DrawDeferred(disputeId, pool.freeSeats());
        if (d.deferrals == 0) _payKeeper(disputeId, d);
        if (d.deferrals != type(uint8).max) ++d.deferrals;
    }

    function _enqueue(uint256 disputeId) internal {
        _queue[queueTail++] = disputeId;
    }

    function _finish(uint256 disputeId, DisputeData storage d, uint256 ruling) internal {
        d.phase = Phase.Ruled;
        IArbitrable(d.arbitrable).rule(disputeId, ruling);
    }

    /// @dev `juror` must be drawn for the dispute, and the caller must be it or its current signer key.
    function _requireJuror(uint256 disputeId, address juror) internal view {
        if (msg.sender != juror) {
            // Only the signer is needed: the juror was registered and eligible when drawn.
            // slither-disable-next-line unused-return
            (,, address signer) = operators.operatorInfo(juror);
            if (msg.sender != signer) revert NotOperatorOrSigner(juror, msg.sender);
        }
        if (_seats[disputeId][juror] == 0) revert NotJuror(disputeId, juror);
    }

    function _dispute(uint256 disputeId, Phase expected) internal view returns (DisputeData storage d) {
        d = _disputes[disputeId];
        if (d.phase == Phase.None) revert UnknownDispute(disputeId);
        if (d.phase != expected) revert WrongPhase(disputeId, d.phase);
    }

    function _setParams(Params memory p) internal {
        if (p.jurors == 0 || p.jurors > MAX_JURORS || p.jurors % 2 == 0) {
            revert ParameterOutOfBounds("jurors (odd)", p.jurors, 1, MAX_JURORS);
        }
        if (p.fee > 10 ether) revert ParameterOutOfBounds("fee", p.fee, 0, 10 ether);
        if (p.commitPeriod < MIN_PERIOD || p.commitPeriod > MAX_PERIOD) {
            revert ParameterOutOfBounds("commitPeriod", p.commitPeriod, MIN_PERIOD, MAX_PERIOD);
        }
        if (p.revealPeriod < MIN_PERIOD || p.revealPeriod > MAX_PERIOD) {
            revert ParameterOutOfBounds("revealPeriod", p.revealPeriod, MIN_PERIOD, MAX_PERIOD);
        }
        if (p.keeperReward > p.fee) revert ParameterOutOfBounds("keeperReward", p.keeperReward, 0, p.fee);
        if (p.nonRevealPenalty > seatSize) {
            revert ParameterOutOfBounds("nonRevealPenalty", p.nonRevealPenalty, 0, seatSize);
        }
        if (p.auditReserve > MAX_AUDIT_RESERVE) {
            revert ParameterOutOfBounds("auditReserve", p.auditReserve, 0, MAX_AUDIT_RESERVE);
        }
        _params = p;
        emit ParamsUpdated(p);
    }
}
