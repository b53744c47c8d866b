// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {PullPayments} from "./base/PullPayments.sol";
import {IArbitrable, IArbitrator} from "./interfaces/IArbitration.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IRandomness, IReexecutionCommittee} from "./interfaces/IReexecutionCommittee.sol";
import {CairnTypedData} from "./libraries/CairnTypedData.sol";

/// @title ReexecutionCommittee
/// @notice An ERC-792-shaped arbitrator: k verifiers, drawn by free stake among opted-in operators
/// (never the accused or the challenger), re-execute the job off-chain and commit, then reveal, whether the
/// claimed output is acceptable. The majority rules and shares the fee; non-revealers are slashed.
contract ReexecutionCommittee is IReexecutionCommittee, PullPayments, CairnVersion, Ownable2Step {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Four slots. fee ≤ 10 ETH, jurorLock and nonRevealPenalty ≤ 1000 ETH (`_setParams`), so uint96 and
    /// uint88 (≥ 3·10⁸ ETH) hold them whole. jurorLock and nonRevealPenalty are snapshotted at creation: a later
    /// `setParams` never changes what an open dispute locks or takes (issue #12, finding 1).
    struct DisputeData {
        Phase phase;
        address arbitrable;
        uint88 nonRevealPenalty;
        address accused;
        uint96 fee;
        address challenger;
        uint96 jurorLock;
        uint64 seedBlock;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint8 commits;
        uint8 reveals;
        uint8 votesAcceptable;
        uint8 votesNotAcceptable;
    }

    /// @notice Most jurors per dispute.
    uint8 public constant MAX_JURORS = 15;
    /// @notice Bounds of the commit and reveal periods.
    uint64 public constant MIN_PERIOD = 60;
    /// @notice Longest commit or reveal period.
    uint64 public constant MAX_PERIOD = 7 days;
    /// @notice Smallest juror lock: a zero lock would admit verifiers of zero weight, and `draw` would then
    /// divide by a zero total (issue #12, finding 9).
    uint256 public constant MIN_JUROR_LOCK = 0.01 ether;
    /// @notice Largest juror lock.
    uint256 public constant MAX_JUROR_LOCK = 1000 ether;

    /// @notice Where stake and verifiers live.
    IOperatorRegistry public immutable operators;
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
    mapping(uint256 disputeId => mapping(address juror => bytes32)) private _commitments;
    mapping(uint256 disputeId => mapping(address juror => uint256)) private _votes;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param owner_ Governance.
    /// @param operators_ Operator registry (must authorise this contract).
    /// @param randomness_ Seed source.
    /// @param params_ Initial parameters.
    constructor(address owner_, IOperatorRegistry operators_, IRandomness randomness_, Params memory params_)
        Ownable(owner_)
    {
        if (address(operators_) == address(0)) revert ZeroAddress("operators");
        if (address(randomness_) == address(0)) revert ZeroAddress("randomness");
        operators = operators_;
        randomness = randomness_;
        _setParams(params_);
    }

    /// @notice Accepts slashed penalties from the operator registry only.
    receive() external payable {
        if (msg.sender != address(operators)) revert UnexpectedSender(msg.sender);
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
        d.seedBlock = uint64(block.number + 1);
        // Within the bounds above (fee = msg.value = _params.fee ≤ 10 ETH; lock and penalty ≤ 1000 ETH).
        // forge-lint: disable-next-line(unsafe-typecast)
        d.fee = uint96(msg.value);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.jurorLock = uint96(_params.jurorLock);
        // forge-lint: disable-next-line(unsafe-typecast)
        d.nonRevealPenalty = uint88(_params.nonRevealPenalty);
        feesHeld += msg.value;
        emit DisputeCreation(disputeId, msg.sender);
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
        if (block.number <= d.seedBlock) revert OutsidePeriod(disputeId, d.seedBlock, block.number);
        if (block.number > d.seedBlock + 256) revert OutsidePeriod(disputeId, d.seedBlock + 256, block.number);
        bytes32 seed = randomness.seed(d.seedBlock, disputeId);

        (address[] memory candidates, uint256[] memory weights, uint256 count, uint256 total) = _eligible(d);
        uint8 k = _params.jurors;
        if (count < k) {
            emit NotEnoughJurors(disputeId, count);
            // Nobody re-executed: the fee goes back to the challenger who paid it.
            feesHeld -= d.fee;
            _credit(d.challenger, address(0), d.fee);
            _finish(disputeId, d, 0);
            return;
        }
        address[] storage jurors = _jurors[disputeId];
        for (uint256 i = 0; i < k; ++i) {
            uint256 pick = uint256(keccak256(abi.encode(seed, i))) % total;
            uint256 j = 0;
            // Walk the cumulative weights; drawn candidates have weight 0 and are skipped.
            while (pick >= weights[j]) {
                pick -= weights[j];
                ++j;
            }
            total -= weights[j];
            weights[j] = 0;
            jurors.push(candidates[j]);
        }
        d.phase = Phase.Drawn;
        d.commitDeadline = uint64(block.timestamp) + _params.commitPeriod;
        d.revealDeadline = d.commitDeadline + _params.revealPeriod;
        emit JurorsDrawn(disputeId, jurors, d.commitDeadline, d.revealDeadline);
        for (uint256 i = 0; i < k; ++i) {
            operators.lock(jurors[i], d.jurorLock);
        }
    }

    /// @inheritdoc IReexecutionCommittee
    function reseed(uint256 disputeId) external {
        DisputeData storage d = _dispute(disputeId, Phase.Created);
        if (block.number <= d.seedBlock + 256) revert OutsidePeriod(disputeId, d.seedBlock + 256, block.number);
        d.seedBlock = uint64(block.number + 1);
        emit Reseeded(disputeId, d.seedBlock);
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
        ++d.commits;
        emit VoteCommitted(disputeId, juror, commitment);
    }

    /// @inheritdoc IReexecutionCommittee
    function reveal(uint256 disputeId, address juror, uint256 vote, bytes32 salt) external {
        DisputeData storage d = _dispute(disputeId, Phase.Drawn);
        bool allCommitted = d.commits == _jurors[disputeId].length;
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
        ++d.reveals;
        if (vote == 1) ++d.votesAcceptable;
        else ++d.votesNotAcceptable;
        emit VoteRevealed(disputeId, juror, vote);
    }

    /// @inheritdoc IReexecutionCommittee
    function resolve(uint256 disputeId) external nonReentrant {
        DisputeData storage d = _dispute(disputeId, Phase.Drawn);
        address[] storage jurors = _jurors[disputeId];
        if (block.timestamp < d.revealDeadline && d.reveals < jurors.length) {
            revert OutsidePeriod(disputeId, d.revealDeadline, block.timestamp);
        }
        uint256 ruling =
            d.votesAcceptable > d.votesNotAcceptable ? 1 : (d.votesNotAcceptable > d.votesAcceptable ? 2 : 0);
        uint256 pool = d.fee;
        feesHeld -= d.fee;
        uint256 winners = 0;
        for (uint256 i = 0; i < jurors.length; ++i) {
            address juror = jurors[i];
            uint256 vote = _votes[disputeId][juror];
            // This dispute's own lock, released and (for a silent juror) slashed in one step: the penalty is
            // taken from this lock only, never from another dispute's (issue #12, finding 1).
            uint256 penalty = vote == 0 ? d.nonRevealPenalty : 0;
            pool += operators.unlockAndSlash(juror, d.jurorLock, penalty, address(this));
            if (vote != 0 && (ruling == 0 || vote == ruling)) ++winners;
        }
        _pay(disputeId, jurors, ruling, pool, winners, d.challenger);
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

    /// @dev Eligible verifiers (opted in, enough free stake, neither accused nor challenger), with their
    /// free stake as weight.
    function _eligible(DisputeData storage d)
        internal
        view
        returns (address[] memory candidates, uint256[] memory weights, uint256 count, uint256 total)
    {
        address[] memory all = operators.verifiers();
        candidates = new address[](all.length);
        weights = new uint256[](all.length);
        for (uint256 i = 0; i < all.length; ++i) {
            address v = all[i];
            if (v == d.accused || v == d.challenger || !operators.isEligibleVerifier(v)) continue;
            uint256 free = operators.freeStake(v);
            if (free < d.jurorLock) continue;
            candidates[count] = v;
            weights[count] = free;
            total += free;
            ++count;
        }
    }

    /// @dev Shares the pool among the winners (the majority, or every revealer when tied); with no
    /// winner (nobody revealed) it goes to the challenger who paid the fee, never to `owner()`, which is
    /// address(0) once ownership is renounced (issue #12, finding 10). Division dust goes to the first winner,
    /// so no wei is left over.
    function _pay(
        uint256 disputeId,
        address[] storage jurors,
        uint256 ruling,
        uint256 pool,
        uint256 winners,
        address challenger
    ) internal {
        if (winners == 0) {
            _credit(challenger, address(0), pool);
            return;
        }
        uint256 share = pool / winners;
        // Intended: the remainder of the division, so that no wei is lost.
        // slither-disable-next-line divide-before-multiply
        uint256 dust = pool - share * winners;
        for (uint256 i = 0; i < jurors.length; ++i) {
            uint256 vote = _votes[disputeId][jurors[i]];
            if (vote != 0 && (ruling == 0 || vote == ruling)) {
                _credit(jurors[i], address(0), share + dust);
                dust = 0;
            }
        }
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
        address[] storage jurors = _jurors[disputeId];
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (jurors[i] == juror) return;
        }
        revert NotJuror(disputeId, juror);
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
        if (p.jurorLock < MIN_JUROR_LOCK || p.jurorLock > MAX_JUROR_LOCK) {
            revert ParameterOutOfBounds("jurorLock", p.jurorLock, MIN_JUROR_LOCK, MAX_JUROR_LOCK);
        }
        if (p.nonRevealPenalty > p.jurorLock) {
            revert ParameterOutOfBounds("nonRevealPenalty", p.nonRevealPenalty, 0, p.jurorLock);
        }
        _params = p;
        emit ParamsUpdated(p);
    }
}
