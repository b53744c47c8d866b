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
import {Splits} from "./libraries/Splits.sol";

/// @title ReexecutionCommittee
/// @notice An ERC-792-shaped arbitrator: k seats, drawn with replacement from the juror pool by free juror
/// stake (never the accused or the challenger), re-execute the job off-chain and commit, then reveal, whether
/// the claimed output is acceptable (or that its input cannot be fetched). Silent seats that could change a round's
/// plurality are slashed and drawn again; a round's ruling may be appealed to a larger jury (3, 7, 15 seats) for a rising fee; once final, seats
/// against the ruling pay the coherence penalty and the coherent seats share the fees and penalties (issue #12,
/// finding 8). Disputes are drawn in creation order and the pool is frozen while any awaits its draw (IJurorPool).
contract ReexecutionCommittee is IReexecutionCommittee, PullPayments, CairnVersion, Ownable2Step {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Five slots (the fifth written at creation, its last byte by votes for 3). `waitDays` (≤ 365) is the
    /// dispute's own wait for seats, fixed at creation from the accused's bond (`waitFor`), which joins `waitingDays`
    /// while it waits (`waiting`). fee ≤ 10 ETH and the penalties ≤ seatSize ≤ 1000 ETH (`_setParams`), so uint88 (≥
    /// 3·10⁸ ETH) holds them whole and uint80 (≥ 10⁶ ETH) the fee, the appeal period ≤ 7 days fits uint32 and a
    /// timestamp (the deadlines, `stakedBy`) uint40; `pot` holds the fees of every round and the penalties taken so far
    /// (at most 10·(1 + 2·7/3·… ) + 25·1000 ETH, far below uint96). The penalties, the first fee, the seat count and
    /// the appeal period are snapshotted at creation: a later `setParams` never changes what an open dispute locks or
    /// takes (issue #12, finding 1); the seat's lock is the pool's seatSize, fixed at deployment. Votes are counted per
    /// seat; `seats`, `commits`, `reveals` and the votes are the current round's.
    struct DisputeData {
        Phase phase;
        address arbitrable;
        uint88 nonRevealPenalty;
        address accused;
        uint96 pot;
        address challenger;
        uint40 openedAt;
        uint16 waitDays;
        bool reseeded;
        bool audit;
        uint8 round;
        uint8 redraws;
        bool waiting;
        uint64 seedBlock;
        uint40 commitDeadline;
        uint40 revealDeadline;
        uint40 stakedBy;
        bool late;
        uint8 seats;
        uint8 commits;
        uint8 reveals;
        uint8 votesAcceptable;
        uint8 votesNotAcceptable;
        uint8 deferrals;
        uint8 toDraw;
        uint8 ruling;
        uint40 appealDeadline;
        uint32 appealPeriod;
        uint88 coherencePenalty;
        uint8 firstSeats;
        uint80 firstFee;
        uint8 votesUnavailable;
    }

    /// @dev A juror's seats in one round: `count` seats (0 once silence released them), its `vote` (0 until
    /// revealed), and whether it is in the round's list already (a released juror drawn again is not listed twice).
    struct Seat {
        uint8 count;
        uint8 vote;
        bool listed;
    }

    /// @dev An appeal: who paid what against which ruling (refunded when the final ruling differs).
    struct Appeal {
        address appellant;
        uint96 fee;
        uint8 contested;
    }

    /// @notice Most jurors per dispute.
    uint8 public constant MAX_JURORS = 15;
    /// @notice Most seats governance may reserve for challenges.
    uint16 public constant MAX_AUDIT_RESERVE = 1000;
    /// @notice Bounds of the commit and reveal periods.
    uint64 public constant MIN_PERIOD = 60;
    /// @notice Longest commit or reveal period.
    uint64 public constant MAX_PERIOD = 7 days;
    /// @notice Shortest wait for seats, from a dispute's opening, before anyone may `expire` it (ruling 0): the wait of
    /// a dispute over a bond up to `WAIT_BOND`.
    uint64 public constant MIN_WAIT = 30 days;
    /// @notice The bond `MIN_WAIT` protects: a dispute over a larger bond waits proportionally longer (`waitFor`), so
    /// the decoy disputes that would hold the pool exhausted until the expiry cost in proportion to the bond they
    /// would save (docs/ARCHITECTURE.md, "A wait has an end, as long as what it protects").
    uint256 public constant WAIT_BOND = 4 ether;
    /// @notice Longest wait for seats (a bond of `WAIT_BOND · MAX_WAIT / MIN_WAIT` ≈ 48.7 ETH or more).
    uint64 public constant MAX_WAIT = 365 days;
    /// @notice Most redraws of silent seats per round; after them the revealed seats decide.
    uint8 public constant MAX_REDRAWS = 2;
    /// @notice How long after it opens an audit yields seats to challenges (`Params.auditReserve`); later it draws
    /// whenever its own seats are free, so a thin pool cannot hold it until its `expiresAt`, whose ruling 0 would let
    /// an audited cheat keep its bond.
    uint64 public constant AUDIT_PRIORITY = 1 days;

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
    // Per round, keyed by `_roundKey(disputeId, round)`. `_jurors` is written in `draw` through a storage
    // reference (Slither misses the push).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 roundKey => address[]) private _jurors;
    mapping(uint256 roundKey => mapping(address juror => Seat)) private _seats;
    mapping(uint256 roundKey => mapping(address juror => bytes32)) private _commitments;
    mapping(uint256 roundKey => Appeal) private _appeals;
    /// @notice Next position to draw in the queue, and the position after the last queued.
    uint128 public queueHead;
    /// @notice One past the last queued position.
    uint128 public queueTail;
    mapping(uint256 position => uint256 disputeId) private _queue;
    /// @notice The sum of `waitDays` over the disputes waiting for seats, each from its first deferral until a jury is
    /// seated or it is ruled (a `retry` keeps it in): the wait `expire` requires (`expiresAt`), in days.
    uint256 public waitingDays;
    /// @notice The key that registers and reveals canaries (address(0): none), set by governance.
    address public canaryKey;
    /// @notice The block each canary commitment was registered in (0: never).
    mapping(bytes32 commitment => uint256 blockNumber) public canaryRegisteredAt;
    /// @notice A revealed canary's known answer (0: not a canary, or not revealed).
    mapping(uint256 disputeId => uint8 answer) public canaryAnswer;

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
        if (choices != 3) revert UnsupportedChoices(choices);
        if (msg.value != _params.fee) revert WrongPayment(_params.fee, msg.value);
        (address accused, address challenger, uint64 stakeBefore, uint256 bond) =
            abi.decode(extraData, (address, address, uint64, uint256));
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
        // A timestamp fits uint40 for 34,000 years.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.openedAt = uint40(block.timestamp);
        // ≤ 365 days.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint16 waitDays = uint16(waitFor(bond) / 1 days);
        d.waitDays = waitDays;
        // The jury sits on stake matured by the opening or by `stakeBefore`, whichever is earlier: a dispute opened
        // late (an audit evaluated after its job's challenge window) is drawn as if opened in time, so stake added
        // after the job was submitted never sits on it, however long the accused waited (issue #12). Fixed now as
        // the latest deposit time that may sit, so a later `maturity` change does not move it.
        uint256 cutoff = block.timestamp;
        if (stakeBefore < cutoff) (cutoff, d.late) = (stakeBefore, true);
        uint256 maturity = pool.maturity();
        // ≤ block.timestamp: fits uint40 for 34,000 years.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.stakedBy = uint40(cutoff > maturity ? cutoff - maturity : 0);
        d.seats = _params.jurors;
        d.firstSeats = _params.jurors;
        d.toDraw = _params.jurors;
        // ≤ MAX_PERIOD (7 days).
        // forge-lint: disable-next-line(unsafe-typecast)
        d.appealPeriod = uint32(_params.appealPeriod);
        // Within the bounds above (fee = msg.value = _params.fee ≤ 10 ETH; penalties ≤ seatSize ≤ 1000 ETH).
        // forge-lint: disable-next-line(unsafe-typecast)
        d.pot = uint96(msg.value);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.firstFee = uint80(msg.value);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.nonRevealPenalty = uint88(_params.nonRevealPenalty);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.coherencePenalty = uint88(_params.coherencePenalty);
        feesHeld += msg.value;
        _queue[queueTail++] = disputeId;
        emit DisputeCreation(disputeId, msg.sender);
        emit DisputeOpened(
            disputeId,
            accused,
            challenger,
            d.seats,
            d.seedBlock,
            d.nonRevealPenalty,
            block.timestamp + uint256(waitDays) * 1 days
        );
    }

    /// @inheritdoc IReexecutionCommittee
    function waitFor(uint256 bond) public pure returns (uint256) {
        // Whole days, rounded up: MIN_WAIT · bond / WAIT_BOND, within [MIN_WAIT, MAX_WAIT]. The cap is checked
        // first, so the product never overflows.
        if (bond >= WAIT_BOND * MAX_WAIT / MIN_WAIT) return MAX_WAIT;
        if (bond <= WAIT_BOND) return MIN_WAIT;
        // The division rounds the wait up to whole days on purpose; the product after it only converts days to
        // seconds.
        // slither-disable-next-line divide-before-multiply
        return (MIN_WAIT * bond + WAIT_BOND * 1 days - 1) / (WAIT_BOND * 1 days) * 1 days;
    }

    /// @inheritdoc IReexecutionCommittee
    function expiresAt(uint256 disputeId) external view returns (uint256) {
        DisputeData storage d = _disputes[disputeId];
        if (d.phase == Phase.None) revert UnknownDispute(disputeId);
        return _expiresAt(d);
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
            if (d.deferrals != 0 || d.round != 0 || d.redraws != 0) {
                // A dispute that already waited is drawn unpaid (the keeper reward paid its first attempt), and a
                // redraw or an appeal round has a jury already, so a lapse says nothing about who waited: it waits
                // again, for a `retry`.
                _wait(disputeId, d);
                return;
            }
            // The fail-safe after the one reseed: nobody drew for two seed lifetimes although the first attempt
            // pays the keeper reward whatever its outcome; the accused, who could have drawn and been paid, is
            // the only party a lapse could help. Never counted in `waitingDays` (no `_unwait`): a dispute that
            // ever waited has deferrals, and one seated once has a round or redraws, all zero here.
            emit DrawLapsed(disputeId);
            uint256 fee = d.pot;
            d.pot = 0;
            feesHeld -= fee;
            d.phase = Phase.Ruled;
            _credit(d.challenger, address(0), fee);
            IArbitrable(d.arbitrable).rule(disputeId, 2);
            return;
        }
        ++queueHead;
        // Challenges have priority over audits for the pool's seats: an audit draws only while it leaves the
        // reserve free, and waits otherwise (a retry queues it again once the seats are back), for a day at most.
        uint256 reserve = _reserveFor(d);
        if (reserve != 0 && pool.freeSeats() < uint256(d.toDraw) + reserve) {
            _defer(disputeId, d);
            return;
        }
        address[] memory seats;
        try pool.drawSeats(disputeId, seed, d.toDraw, d.accused, d.challenger, d.stakedBy + pool.maturity()) returns (
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
        uint256 key = _roundKey(disputeId, d.round);
        address[] storage jurors = _jurors[key];
        for (uint256 i = 0; i < seats.length; ++i) {
            Seat storage seat = _seats[key][seats[i]];
            if (!seat.listed) {
                seat.listed = true;
                jurors.push(seats[i]);
            }
            ++seat.count;
            // A juror who already revealed in this round votes the same on every seat it holds: the new seat is
            // committed and revealed with it at once.
            if (seat.vote != 0) {
                ++d.commits;
                _count(d, seat.vote, 1);
            }
        }
        d.toDraw = 0;
        d.phase = Phase.Drawn;
        // After the pool's draw, as the phase above: only a filled jury leaves the wait. `draw` is nonReentrant and
        // the pool is the committee's own, fixed at deployment.
        // slither-disable-next-line reentrancy-no-eth
        _unwait(d);
        // Periods ≤ MAX_PERIOD (7 days): far inside uint40 seconds.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.commitDeadline = uint40(block.timestamp + _params.commitPeriod);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.revealDeadline = uint40(d.commitDeadline + _params.revealPeriod);
        emit JurorsDrawn(disputeId, d.round, seats, d.commitDeadline, d.revealDeadline);
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
        uint256 end = _expiresAt(d);
        if (block.timestamp < end) revert OutsidePeriod(disputeId, end, block.timestamp);
        // Nobody re-executed this round: in the first round the arbitrable refuses (ruling 0: the seats that revealed
        // before a redraw that never came share the pot as on a tie, and with none the fee goes back to the
        // challenger who paid it); in an appeal round the appealed ruling stands. A dispute opened late (an audit
        // its operator evaluated after the challenge window, drawn from the stake of the job's time, which only
        // shrinks) is ruled against the accused instead: the delay was the accused's to make, and waiting must not
        // help the side that waited (issue #12; as a lapsed draw).
        uint256 ruling = d.round != 0 ? d.ruling : (d.late ? 2 : 0);
        _rule(disputeId, d, ruling);
    }

    /// @inheritdoc IReexecutionCommittee
    function retry(uint256 disputeId) external {
        DisputeData storage d = _dispute(disputeId, Phase.Waiting);
        uint256 free = pool.freeSeats();
        uint256 needed = uint256(d.toDraw) + _reserveFor(d);
        if (free < needed) revert NotEnoughFreeSeats(disputeId, free, needed);
        _queueDraw(d, disputeId);
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
        uint256 key = _roundKey(disputeId, d.round);
        Seat storage seat = _requireJuror(key, disputeId, juror);
        if (commitment == bytes32(0)) revert ZeroCommitment(disputeId, juror);
        if (_commitments[key][juror] != bytes32(0)) revert AlreadyDone(disputeId, juror);
        _commitments[key][juror] = commitment;
        d.commits += seat.count;
        emit VoteCommitted(disputeId, d.round, juror, commitment);
    }

    /// @inheritdoc IReexecutionCommittee
    function reveal(uint256 disputeId, address juror, uint256 vote, bytes32 salt) external {
        DisputeData storage d = _inRevealPeriod(disputeId);
        uint256 key = _roundKey(disputeId, d.round);
        Seat storage seat = _requireJuror(key, disputeId, juror);
        if (seat.vote != 0) revert AlreadyDone(disputeId, juror);
        bytes32 expected = CairnTypedData.commitment(disputeId, d.round, juror, vote, salt);
        if (vote == 0 || vote > 3 || _commitments[key][juror] != expected) {
            revert BadReveal(disputeId, juror);
        }
        // 1, 2 or 3, checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        seat.vote = uint8(vote);
        _count(d, vote, seat.count);
        emit VoteRevealed(disputeId, d.round, juror, vote);
    }

    /// @inheritdoc IReexecutionCommittee
    function registerCanary(bytes32 commitment) external {
        if (msg.sender != canaryKey) revert NotCanaryKey(msg.sender);
        if (commitment == bytes32(0) || canaryRegisteredAt[commitment] != 0) revert BadCanaryCommitment(commitment);
        canaryRegisteredAt[commitment] = block.number;
        emit CanaryRegistered(commitment);
    }

    /// @inheritdoc IReexecutionCommittee
    function revealCanary(uint256 disputeId, uint256 answer, bytes32 salt) external {
        if (msg.sender != canaryKey) revert NotCanaryKey(msg.sender);
        // The votes are bound first: before that, the answer would tell the jurors what to commit. From then on it
        // may come until the first round's ruling is final, so a jury that reveals and resolves in the block its
        // votes are bound does not shut the canary out while the round is appealable.
        DisputeData storage d = _disputes[disputeId];
        if (d.phase != Phase.Appealable) {
            d = _dispute(disputeId, Phase.Drawn);
            if (block.timestamp < d.commitDeadline && d.commits != d.seats) {
                revert OutsidePeriod(disputeId, d.commitDeadline, block.timestamp);
            }
        }
        uint256 registeredAt = canaryRegisteredAt[keccak256(abi.encode(disputeId, answer, salt))];
        // Registered before the jury could be known (the first draw's seed block), on a first round not redrawn,
        // revealed once.
        if (
            registeredAt == 0 || registeredAt > d.seedBlock || d.round != 0 || d.redraws != 0 || answer == 0
                || answer > 3 || canaryAnswer[disputeId] != 0
        ) {
            revert CanaryRefused(disputeId, registeredAt, d.seedBlock);
        }
        // 1 to 3, checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        canaryAnswer[disputeId] = uint8(answer);
        emit CanaryRevealed(disputeId, answer);
    }

    /// @inheritdoc IReexecutionCommittee
    function resolve(uint256 disputeId) external nonReentrant {
        DisputeData storage d = _disputes[disputeId];
        if (d.phase == Phase.Appealable) {
            if (block.timestamp < d.appealDeadline) {
                revert OutsidePeriod(disputeId, d.appealDeadline, block.timestamp);
            }
            _rule(disputeId, d, d.ruling);
            return;
        }
        d = _dispute(disputeId, Phase.Drawn);
        if (block.timestamp < d.revealDeadline && d.reveals < d.seats) {
            revert OutsidePeriod(disputeId, d.revealDeadline, block.timestamp);
        }
        uint8 silent = d.seats - d.reveals;
        (uint256 ruling, uint256 lead) = _tally(d);
        // Silence that could change the plurality (or that left no vote at all) never decides: the silent seats
        // are slashed now and drawn again, the revealed votes stand (issue #12, finding 8).
        if (silent != 0 && (silent >= lead || d.reveals == 0) && (d.redraws < MAX_REDRAWS || d.reveals == 0)) {
            _releaseSilent(disputeId, d);
            d.toDraw = silent;
            if (d.redraws < MAX_REDRAWS) {
                ++d.redraws;
                _queueDraw(d, disputeId);
                emit SilentSeatsRedrawn(disputeId, d.round, silent, d.seedBlock);
            } else {
                // No vote after every redraw: the dispute waits for a `retry` (or its expiry).
                _wait(disputeId, d);
            }
            return;
        }
        if (d.appealPeriod != 0 && 2 * uint256(d.seats) + 1 <= MAX_JURORS) {
            d.phase = Phase.Appealable;
            // 0 to 3.
            // forge-lint: disable-next-line(unsafe-typecast)
            d.ruling = uint8(ruling);
            d.appealDeadline = uint40(block.timestamp) + d.appealPeriod;
            emit RoundRuled(
                disputeId,
                d.round,
                ruling,
                d.votesAcceptable,
                d.votesNotAcceptable,
                d.votesUnavailable,
                d.appealDeadline
            );
            return;
        }
        _rule(disputeId, d, ruling);
    }

    /// @inheritdoc IReexecutionCommittee
    function appeal(uint256 disputeId) external payable nonReentrant {
        DisputeData storage d = _dispute(disputeId, Phase.Appealable);
        if (block.timestamp >= d.appealDeadline) {
            revert OutsidePeriod(disputeId, d.appealDeadline, block.timestamp);
        }
        uint256 cost = _appealCost(d);
        if (msg.value != cost) revert WrongPayment(cost, msg.value);
        uint8 round = d.round + 1;
        // cost ≤ 10 ETH × 2³ × 15 fits uint96.
        // forge-lint: disable-next-line(unsafe-typecast)
        _appeals[_roundKey(disputeId, round)] = Appeal(msg.sender, uint96(msg.value), d.ruling);
        d.round = round;
        d.seats = 2 * d.seats + 1;
        d.toDraw = d.seats;
        d.redraws = 0;
        d.commits = 0;
        d.reveals = 0;
        d.votesAcceptable = 0;
        d.votesNotAcceptable = 0;
        d.votesUnavailable = 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        d.pot += uint96(msg.value);
        feesHeld += msg.value;
        _queueDraw(d, disputeId);
        emit AppealRaised(disputeId, round, msg.sender, msg.value, d.seats, d.seedBlock);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReexecutionCommittee
    function jurorsOf(uint256 disputeId) external view returns (address[] memory) {
        return _jurors[_roundKey(disputeId, 0)];
    }

    /// @inheritdoc IReexecutionCommittee
    function jurorsIn(uint256 disputeId, uint8 round) external view returns (address[] memory) {
        return _jurors[_roundKey(disputeId, round)];
    }

    /// @inheritdoc IReexecutionCommittee
    function votesHidden(uint256 disputeId) external view returns (bool) {
        DisputeData storage d = _disputes[disputeId];
        return d.round == 0 && d.reveals == 0 && canaryAnswer[disputeId] == 0
            && (d.phase == Phase.Created || d.phase == Phase.Waiting || d.phase == Phase.Drawn);
    }

    /// @inheritdoc IReexecutionCommittee
    function seatsOf(uint256 disputeId, address juror) external view returns (uint256) {
        return _seats[_roundKey(disputeId, _disputes[disputeId].round)][juror].count;
    }

    /// @inheritdoc IReexecutionCommittee
    function awaitingDraw() external view returns (uint256) {
        return queueTail - queueHead;
    }

    /// @inheritdoc IReexecutionCommittee
    function appealCost(uint256 disputeId) external view returns (uint256) {
        return _appealCost(_disputes[disputeId]);
    }

    /// @notice The dispute the next `draw` must name (0 when the queue is empty).
    /// @return The dispute id.
    function queueHeadDispute() external view returns (uint256) {
        return _queue[queueHead];
    }

    /// @notice A dispute's record.
    /// @param disputeId The dispute.
    /// @return phase Its phase.
    /// @return seedBlock The seed block of its next or last draw.
    /// @return commitDeadline Commits strictly before (the current round's last draw).
    /// @return revealDeadline Reveals strictly before.
    /// @return round The current round (0, then one per appeal).
    /// @return ruling The current round's ruling once `Appealable`, the final one once `Ruled`.
    /// @return appealDeadline Appeals strictly before, while `Appealable`.
    /// @return seats The current round's seats (an appeal opens 2 × seats + 1).
    function disputeInfo(uint256 disputeId)
        external
        view
        returns (
            Phase phase,
            uint64 seedBlock,
            uint64 commitDeadline,
            uint64 revealDeadline,
            uint8 round,
            uint8 ruling,
            uint64 appealDeadline,
            uint8 seats
        )
    {
        DisputeData storage d = _disputes[disputeId];
        return (d.phase, d.seedBlock, d.commitDeadline, d.revealDeadline, d.round, d.ruling, d.appealDeadline, d.seats);
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

    /// @notice Sets the canary key (address(0) turns canaries off; a revealed canary keeps its answer).
    /// @param key The key.
    function setCanaryKey(address key) external onlyOwner {
        canaryKey = key;
        emit CanaryKeySet(key);
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

    /// @dev The final ruling: settles every seat of every round (released; silent seats pay the non-reveal
    /// penalty, revealed seats against a non-zero ruling the coherence penalty, into the pot), refunds the appeals
    /// that changed the ruling, shares the rest per coherent seat (every revealed seat when the ruling is 0) and
    /// tells the arbitrable. A revealed canary's seats are judged against its known answer instead of the ruling;
    /// the arbitrable still gets the ruling. With no coherent seat the pot goes to the challenger who paid the first fee, never to
    /// `owner()`, which is address(0) once ownership is renounced (issue #12, finding 10).
    function _rule(uint256 disputeId, DisputeData storage d, uint256 ruling) internal {
        uint256 pot = d.pot;
        d.pot = 0;
        feesHeld -= pot;
        d.phase = Phase.Ruled;
        _unwait(d);
        // 0 to 3.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.ruling = uint8(ruling);
        // Seats are judged against the ruling, or against a revealed canary's known answer: the answer moves no
        // job money (the arbitrable gets the ruling), only what the seats pay and are paid.
        // A redraw or an appeal after the reveal seats jurors who knew the answer: the canary is void then.
        uint256 judged = canaryAnswer[disputeId];
        if (judged == 0 || d.round != 0 || d.redraws != 0) judged = ruling;
        uint256 winners = 0;
        for (uint256 r = 0; r <= d.round; ++r) {
            uint256 key = _roundKey(disputeId, r);
            address[] storage jurors = _jurors[key];
            for (uint256 i = 0; i < jurors.length; ++i) {
                address juror = jurors[i];
                Seat storage seat = _seats[key][juror];
                uint256 count = seat.count;
                if (count == 0) continue;
                uint256 vote = seat.vote;
                uint256 penalty = 0;
                if (vote == 0) penalty = count * d.nonRevealPenalty;
                else if (judged != 0 && vote != judged) penalty = count * d.coherencePenalty;
                // This dispute's own seats, released and penalised in one step: the penalty is taken from these
                // seats only, never from another dispute's (issue #12, finding 1).
                pot += pool.settle(juror, count * seatSize, penalty, address(this));
                // The released seats go back into the draw now (a no-op while a draw is pending), so nobody can
                // choose whose released seats return before the next dispute freezes the pool.
                // slither-disable-next-line unused-return
                pool.sync(juror);
                if (vote != 0 && (judged == 0 || vote == judged)) winners += count;
            }
        }
        for (uint256 r = 1; r <= d.round; ++r) {
            Appeal storage appealed = _appeals[_roundKey(disputeId, r)];
            if (appealed.contested != ruling) {
                // A successful appeal's fee is refunded from the pot, which the seats it overturned fed with their
                // coherence penalties; never more than the pot holds (keeper rewards, read when each draw is paid,
                // may have taken part of it under other parameters), so the ruling can always be made.
                uint256 refund = appealed.fee < pot ? appealed.fee : pot;
                pot -= refund;
                _credit(appealed.appellant, address(0), refund);
            }
        }
        if (winners == 0) _credit(d.challenger, address(0), pot);
        else _pay(disputeId, d.round, judged, pot, winners);
        emit DisputeRuled(disputeId, ruling, d.votesAcceptable, d.votesNotAcceptable, d.votesUnavailable);
        IArbitrable(d.arbitrable).rule(disputeId, ruling);
    }

    /// @dev Releases the current round's silent seats, slashing the non-reveal penalty into the pot; the juror
    /// stays listed with no seat (it may be drawn again and commit anew). Effects first: `IJurorPool.settle`
    /// slashes exactly what it is asked or reverts, so the pot is credited before the calls.
    function _releaseSilent(uint256 disputeId, DisputeData storage d) internal {
        uint256 key = _roundKey(disputeId, d.round);
        address[] storage jurors = _jurors[key];
        address[] memory silent = new address[](jurors.length);
        uint256[] memory counts = new uint256[](jurors.length);
        uint256 n = 0;
        uint256 taken = 0;
        for (uint256 i = 0; i < jurors.length; ++i) {
            Seat storage seat = _seats[key][jurors[i]];
            if (seat.count == 0 || seat.vote != 0) continue;
            (silent[n], counts[n]) = (jurors[i], seat.count);
            taken += counts[n] * d.nonRevealPenalty;
            ++n;
            seat.count = 0;
            delete _commitments[key][jurors[i]];
        }
        // Every seat left revealed, so committed.
        d.commits = d.reveals;
        // taken ≤ 15 × seatSize ≤ 15,000 ETH fits beside the fees.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.pot += uint96(taken);
        feesHeld += taken;
        for (uint256 i = 0; i < n; ++i) {
            // The slash asked, counted in `taken` above.
            // slither-disable-next-line unused-return
            pool.settle(silent[i], counts[i] * seatSize, counts[i] * d.nonRevealPenalty, address(this));
            // slither-disable-next-line unused-return
            pool.sync(silent[i]);
        }
    }

    /// @dev Shares the pot per seat among the `winners` coherent seats of every round: those that voted `judged`
    /// (the ruling, or a revealed canary's answer), every revealed seat when it is 0. Division dust goes to the first winner, so no wei is left over.
    function _pay(uint256 disputeId, uint256 lastRound, uint256 judged, uint256 pot, uint256 winners) internal {
        (uint256 share, uint256 dust) = Splits.perSeat(pot, winners);
        for (uint256 r = 0; r <= lastRound; ++r) {
            uint256 key = _roundKey(disputeId, r);
            address[] storage jurors = _jurors[key];
            for (uint256 i = 0; i < jurors.length; ++i) {
                address juror = jurors[i];
                Seat storage seat = _seats[key][juror];
                uint256 vote = seat.vote;
                if (seat.count != 0 && vote != 0 && (judged == 0 || vote == judged)) {
                    // Intended: one share per winning seat; the division's remainder is the dust above.
                    // slither-disable-next-line divide-before-multiply
                    _credit(juror, address(0), share * seat.count + dust);
                    dust = 0;
                }
            }
        }
    }

    /// @dev Counts `weight` revealed seats for `vote` (1 acceptable, 2 not acceptable, 3 input unavailable).
    function _count(DisputeData storage d, uint256 vote, uint8 weight) internal {
        d.reveals += weight;
        if (vote == 1) d.votesAcceptable += weight;
        else if (vote == 2) d.votesNotAcceptable += weight;
        else d.votesUnavailable += weight;
    }

    /// @dev The round's plurality of revealed seats (0 when the most votes are tied) and its lead over the next
    /// option: silent seats at least that many could change it.
    function _tally(DisputeData storage d) internal view returns (uint256 ruling, uint256 lead) {
        uint256 first = 0;
        uint256 second = 0;
        uint256[3] memory votes = [uint256(d.votesAcceptable), d.votesNotAcceptable, d.votesUnavailable];
        for (uint256 i = 0; i < 3; ++i) {
            uint256 v = votes[i];
            if (v > first) {
                (second, first, ruling) = (first, v, i + 1);
            } else if (v > second) {
                second = v;
            }
        }
        if (first == second) ruling = 0;
        lead = first - second;
    }

    /// @dev Pays whoever called `draw` the keeper reward, out of the dispute's pot (at most all of it).
    function _payKeeper(uint256 disputeId, DisputeData storage d) internal {
        uint256 reward = _params.keeperReward;
        if (reward > d.pot) reward = d.pot;
        if (reward == 0) return;
        // reward ≤ pot fits the uint96 field.
        // forge-lint: disable-next-line(unsafe-typecast)
        d.pot -= uint96(reward);
        feesHeld -= reward;
        _credit(msg.sender, address(0), reward);
        emit KeeperPaid(disputeId, msg.sender, reward);
    }

    /// @dev Out of the queue to wait for seats. The first attempt is paid whatever its outcome, so a draw that
    /// will defer is still sent at once (and cannot be left to lapse); later deferrals are not, so retries cannot
    /// drain the fee.
    function _defer(uint256 disputeId, DisputeData storage d) internal {
        _wait(disputeId, d);
        if (d.deferrals == 0) _payKeeper(disputeId, d);
        if (d.deferrals != type(uint8).max) ++d.deferrals;
    }

    /// @dev Out of the queue to wait for seats (`retry`, `expire`). The dispute's `waitDays` join `waitingDays` at its
    /// first wait and stay there through retries until a jury is seated or it is ruled (`_unwait`): a retry that defers
    /// again cannot lower the total for another dispute's `expire` in between.
    function _wait(uint256 disputeId, DisputeData storage d) internal {
        d.phase = Phase.Waiting;
        if (!d.waiting) {
            d.waiting = true;
            waitingDays += d.waitDays;
        }
        emit DrawDeferred(disputeId, pool.freeSeats());
    }

    /// @dev Out of `waitingDays`: a jury was seated or the dispute was ruled.
    function _unwait(DisputeData storage d) internal {
        if (d.waiting) {
            d.waiting = false;
            waitingDays -= d.waitDays;
        }
    }

    /// @dev When a waiting dispute may be `expire`d: its opening plus the days of every dispute waiting for seats
    /// (its own included, whether it waits yet or not), at most `MAX_WAIT`. One stream of decoy disputes holds the
    /// pool exhausted for every waiting dispute at once, so the wait scales with what they protect together
    /// (docs/ARCHITECTURE.md, "A wait has an end, as long as what it protects").
    function _expiresAt(DisputeData storage d) internal view returns (uint256) {
        uint256 wait = waitingDays;
        if (!d.waiting) wait += d.waitDays;
        wait *= 1 days;
        if (wait > MAX_WAIT) wait = MAX_WAIT;
        return uint256(d.openedAt) + wait;
    }

    /// @dev Back into the draw queue with a new seed block (the next block's hash, unknown now).
    function _queueDraw(DisputeData storage d, uint256 disputeId) internal {
        d.phase = Phase.Created;
        d.seedBlock = uint64(block.number + 1);
        _queue[queueTail++] = disputeId;
    }

    /// @dev The next round's fee: firstFee × 2^(r+1) × k_(r+1) / k_0; 0 when the dispute cannot be appealed now.
    function _appealCost(DisputeData storage d) internal view returns (uint256) {
        if (d.phase != Phase.Appealable) return 0;
        return uint256(d.firstFee) * (uint256(1) << (d.round + 1)) * (2 * uint256(d.seats) + 1) / d.firstSeats;
    }

    /// @dev `juror` must hold a seat in the round, and the caller must be it or its current signer key.
    function _requireJuror(uint256 key, uint256 disputeId, address juror) internal view returns (Seat storage seat) {
        if (msg.sender != juror) {
            // Only the signer is needed: the juror was registered and eligible when drawn.
            // slither-disable-next-line unused-return
            (,, address signer) = operators.operatorInfo(juror);
            if (msg.sender != signer) revert NotOperatorOrSigner(juror, msg.sender);
        }
        seat = _seats[key][juror];
        if (seat.count == 0) revert NotJuror(disputeId, juror);
    }

    /// @dev The seats an audit must leave free for challenges: the reserve during its first `AUDIT_PRIORITY`, then
    /// none; 0 for a challenge.
    function _reserveFor(DisputeData storage d) internal view returns (uint256) {
        if (!d.audit || block.timestamp >= uint256(d.openedAt) + AUDIT_PRIORITY) return 0;
        return _params.auditReserve;
    }

    /// @dev One key per (dispute, round): rounds are at most 3 (1, 3, 7, 15 seats).
    function _roundKey(uint256 disputeId, uint256 round) internal pure returns (uint256) {
        return (disputeId << 2) | round;
    }

    /// @dev A `Drawn` dispute in its reveal period: from the commit deadline (or once every seat committed, when
    /// the votes are bound) strictly before the reveal deadline; `OutsidePeriod` otherwise.
    function _inRevealPeriod(uint256 disputeId) internal view returns (DisputeData storage d) {
        d = _dispute(disputeId, Phase.Drawn);
        if (block.timestamp < d.commitDeadline && d.commits != d.seats) {
            revert OutsidePeriod(disputeId, d.commitDeadline, block.timestamp);
        }
        if (block.timestamp >= d.revealDeadline) {
            revert OutsidePeriod(disputeId, d.revealDeadline, block.timestamp);
        }
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
        if (p.appealPeriod != 0 && (p.appealPeriod < MIN_PERIOD || p.appealPeriod > MAX_PERIOD)) {
            revert ParameterOutOfBounds("appealPeriod (0 or)", p.appealPeriod, MIN_PERIOD, MAX_PERIOD);
        }
        // ν ≥ ψ: silence must never be cheaper than a wrong vote, or a juror who would lose by voting goes silent
        // and forces a redraw instead (docs/ARCHITECTURE.md, "Coherence"). With ν ≤ seatSize this bounds ψ too.
        if (p.coherencePenalty > p.nonRevealPenalty) {
            revert ParameterOutOfBounds(
                "coherencePenalty (at most nonRevealPenalty)", p.coherencePenalty, 0, p.nonRevealPenalty
            );
        }
        _params = p;
        emit ParamsUpdated(p);
    }
}
