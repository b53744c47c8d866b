// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {DisputeDesk} from "../../src/DisputeDesk.sol";
import {JobMarket} from "../../src/JobMarket.sol";
import {JurorPool} from "../../src/JurorPool.sol";
import {OperatorRegistry} from "../../src/OperatorRegistry.sol";
import {ReexecutionCommittee} from "../../src/ReexecutionCommittee.sol";
import {JobReceipt, JobRequest} from "../../src/interfaces/ICairnTypes.sol";
import {IDisputeDesk} from "../../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "../../src/interfaces/IReexecutionCommittee.sol";
import {IJurorPool} from "../../src/interfaces/IJurorPool.sol";
import {IModelRegistry} from "../../src/interfaces/IModelRegistry.sol";
import {CairnTypedData} from "../../src/libraries/CairnTypedData.sol";
import {MockToken} from "../utils/mocks/Tokens.sol";
import {Test} from "../utils/Test.sol";

/// @dev Sends ETH without calling any function (SELFDESTRUCT still transfers under Cancun).
contract ForceSender {
    constructor(address payable to) payable {
        selfdestruct(to);
    }
}

/// @notice Drives the market with several actors; keeps ghost totals the invariants compare with.
contract MarketHandler is Test {
    JobMarket internal market;
    DisputeDesk internal desk;
    OperatorRegistry internal operators;
    ReexecutionCommittee internal committee;
    MockToken internal usdc;
    uint256 internal ethModel;
    uint256 internal usdcModel;
    address[3] internal ops;
    uint256[3] internal opKeys;
    address[] internal actors;
    uint256 internal signerKey;
    address internal signer;
    uint256 internal lastNonce;

    uint256[] public jobs;
    uint256 public ghost_forceSent;
    uint256 public ghost_burned;
    uint256 public ghost_finalizedEarly;
    /// @dev Jobs finalized while their audit was not cleared (must stay 0).
    uint256 public ghost_finalizedUnaudited;
    /// @dev Audits drawn (jobs sent to the committee with no challenger).
    uint256 public ghost_audited;
    uint256 public ghost_challengedLate;
    uint256 public ghost_forceSentDesk;
    /// Tickets beyond the first (joins) and collected tickets (to see that a run is not vacuous).
    uint256 public ghost_joined;
    uint256 public ghost_collected;
    /// Canaries revealed (every other new dispute registers one; its answer by dispute).
    uint256 public ghost_canariesRevealed;
    mapping(uint256 disputeId => uint256) internal canaryAnswerOf;
    uint256[] internal challengedJobs;
    uint256 public ghost_badSplits;
    uint256 public ghost_nonceDecreases;
    uint256 public ghost_closedTwice;
    mapping(uint256 jobId => uint256) public ghost_closes;
    /// How often each path completed (to see that a run is not vacuous).
    uint256 public ghost_finalized;
    uint256 public ghost_disputesRuled;
    uint256 public ghost_cancelled;
    uint256 public ghost_claimed;
    uint256 public ghost_released;
    /// Releases whose penalty, state or unlocked bond differed from a timeout's.
    uint256 public ghost_badReleases;
    /// Appeals raised, and appealable rounds made final once their period passed.
    uint256 public ghost_appeals;
    uint256 public ghost_unappealed;
    /// Committee parameter changes (governance acting while disputes are open).
    uint256 public ghost_paramChanges;
    /// `resolve` calls that reverted after their period (a dispute stuck for good; must stay 0).
    uint256 public ghost_resolveReverted;
    /// Juror stake moves while disputes are open (deposits, withdrawal requests, withdrawals).
    uint256 public ghost_jurorMoves;
    /// Disputes the end-of-run settlement had to expire (every seat stayed busy until the dispute's `expiresAt`).
    uint256 public ghost_expired;
    /// `expire` calls that succeeded before the dispute's `expiresAt` (its opening plus the waits of the disputes
    /// waiting with it, each by its bond, at most 365 days).
    uint256 public ghost_expiredEarly;
    /// Waiting disputes probed whose bond bought more than the shortest wait (to see longer waits exercised).
    uint256 public ghost_longWaits;
    /// Disputes still open when a run ended, which `settleAll` then ruled (to see that the check is not vacuous).
    uint256 public ghost_openAtEnd;
    /// Rounds revealed in the current `settleAll` pass (cleared when resolved).
    mapping(uint256 disputeId => bool) internal revealed;
    /// The verifiers whose juror stake moves (set once by the test, see `setVerifiers`).
    address[] internal verifiers;

    bytes32 internal constant INPUT = keccak256("input");

    constructor(
        JobMarket market_,
        DisputeDesk desk_,
        OperatorRegistry operators_,
        ReexecutionCommittee committee_,
        MockToken usdc_,
        uint256[2] memory models_,
        address[3] memory ops_,
        uint256[3] memory opKeys_,
        address[] memory actors_
    ) {
        (market, desk, operators, committee, usdc) = (market_, desk_, operators_, committee_, usdc_);
        (ethModel, usdcModel) = (models_[0], models_[1]);
        (ops, opKeys, actors) = (ops_, opKeys_, actors_);
        signerKey = uint256(keccak256("invariant signer"));
        signer = vm.addr(signerKey);
    }

    /// Records a decrease of the signed-request nonce, which must never happen.
    modifier observeNonce() {
        _;
        uint256 nonce = market.requestNonces(signer);
        if (nonce < lastNonce) ++ghost_nonceDecreases;
        lastNonce = nonce;
    }

    function challenged() external view returns (uint256[] memory) {
        return challengedJobs;
    }

    function actorList() external view returns (address[] memory) {
        return actors;
    }

    function jobCount() external view returns (uint256) {
        return jobs.length;
    }

    function _job(uint256 seed) internal view returns (uint256) {
        return jobs.length == 0 ? 0 : jobs[seed % jobs.length];
    }

    /// @dev A job in `state`, searched from `seed` on (0 when none is): actions that move a job on pick one that
    /// can move, so a run reaches claims, results, challenges and disputes instead of mostly no-ops (a random
    /// pick left most runs of 100 calls without a single dispute).
    function _jobIn(uint256 seed, IJobMarket.JobState state) internal view returns (uint256) {
        for (uint256 k = 0; k < jobs.length; ++k) {
            uint256 jobId = jobs[(seed + k) % jobs.length];
            if (_state(jobId) == state) return jobId;
        }
        return 0;
    }

    function _state(uint256 jobId) internal view returns (IJobMarket.JobState) {
        return market.getProgress(jobId).state;
    }

    /*////////////////////////////// ACTIONS //////////////////////////////*/

    /// The buyer's bounds at the model's current terms: its latest version and that version's price.
    function _bounds(uint256 modelId) internal view returns (uint64 version, uint256 maxPricePerCall) {
        IModelRegistry models = market.models();
        version = models.getModel(modelId).latestVersion;
        maxPricePerCall = models.getVersion(modelId, version).pricePerCall;
    }

    function requestEth(uint256 payment, uint256 actorSeed) external {
        payment = bound(payment, 0.001 ether, 2 ether);
        address buyer = actors[actorSeed % actors.length];
        (uint64 version, uint256 maxPrice) = _bounds(ethModel);
        vm.deal(buyer, buyer.balance + payment);
        vm.prank(buyer);
        jobs.push(
            market.requestJob{value: payment}(
                ethModel,
                version,
                INPUT,
                "bafyinput",
                address(0),
                payment,
                maxPrice,
                uint64(block.timestamp + 2 hours),
                0
            )
        );
    }

    function requestUsdc(uint256 payment, uint256 actorSeed) external {
        payment = bound(payment, 2e6, 100e6);
        address buyer = actors[actorSeed % actors.length];
        (uint64 version, uint256 maxPrice) = _bounds(usdcModel);
        usdc.mint(buyer, payment);
        vm.startPrank(buyer);
        usdc.approve(address(market), payment);
        jobs.push(
            market.requestJob(
                usdcModel,
                version,
                INPUT,
                "bafyinput",
                address(usdc),
                payment,
                maxPrice,
                uint64(block.timestamp + 2 hours),
                0
            )
        );
        vm.stopPrank();
    }

    /// A buyer-signed request posted by a relayer; sometimes replayed (which must fail).
    function requestSigned(uint256 payment, bool replay) external observeNonce {
        payment = bound(payment, 2e6, 50e6);
        uint256 nonce = market.requestNonces(signer);
        (uint64 version, uint256 maxPrice) = _bounds(usdcModel);
        JobRequest memory req = JobRequest({
            buyer: signer,
            modelId: usdcModel,
            version: version,
            inputDigest: INPUT,
            inputCid: "bafyinput",
            token: address(usdc),
            payment: payment,
            maxPricePerCall: maxPrice,
            deadline: uint64(block.timestamp + 2 hours),
            regionMask: 0,
            nonce: replay && nonce > 0 ? nonce - 1 : nonce
        });
        usdc.mint(signer, payment);
        vm.prank(signer);
        usdc.approve(address(market), payment);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, market.requestDigest(req));
        try market.requestJobWithSig(req, abi.encodePacked(r, s, v), IJobMarket.Permit(0, 0, 0, 0)) returns (
            uint256 jobId
        ) {
            jobs.push(jobId);
        } catch {}
    }

    /// A job driven to a dispute in one call (request, claim, result, challenge): with 100 calls spread over two
    /// dozen actions a random walk rarely strings those four together, and liveness needs disputes, overlapping on
    /// the five jurors (a third are canaries: `challenge` registers one for an even actor seed).
    function disputeAJob(uint256 payment, uint256 opSeed, uint256 actorSeed) external {
        this.requestEth(payment, actorSeed);
        uint256 last = jobs.length - 1;
        this.claim(last, opSeed);
        this.submit(last);
        // A challenge of a submitted job (`challenge` picks one unless actorSeed % 4 == 0), either parity.
        this.challenge(last, (actorSeed / 4) * 4 + 1 + actorSeed % 3);
    }

    /// An operator claims, half the time through its signer key (interface v2: the owner key stays offline).
    function claim(uint256 jobSeed, uint256 opSeed) external {
        uint256 jobId = _jobIn(jobSeed, IJobMarket.JobState.Requested);
        if (jobId == 0 || _state(jobId) != IJobMarket.JobState.Requested) return;
        if (block.timestamp > market.getTerms(jobId).deadline) return;
        uint256 i = opSeed % 3;
        if (operators.freeStake(ops[i]) < market.bondFor(market.getTerms(jobId).token, market.getTerms(jobId).payment))
        {
            return;
        }
        if ((market.getTerms(jobId).regionMask >> operators.getOperator(ops[i]).region) & 1 == 0) return;
        vm.prank((opSeed / 3) % 2 == 0 ? ops[i] : vm.addr(opKeys[i]));
        market.claim(jobId, ops[i]);
        ++ghost_claimed;
    }

    /// The claimer hands a job back by its submit deadline, from the operator's key or its signer's: the job
    /// is open again, the treasury gets exactly the timeout penalty and the rest of the bond is unlocked.
    function releaseClaim(uint256 jobSeed, bool bySigner) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0 || _state(jobId) != IJobMarket.JobState.Claimed) return;
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        if (block.timestamp > p.submitBy) return;
        uint256 penalty = p.bond * market.params().claimPenaltyBps / market.BPS();
        address treasury = market.treasury();
        uint256 treasuryBefore = market.balanceOf(treasury, address(0));
        uint256 lockedBefore = operators.lockedBy(p.operator, address(market));
        uint256 stakeBefore = operators.getOperator(p.operator).stake;
        address caller = p.operator;
        if (bySigner) (,, caller) = operators.operatorInfo(p.operator);
        vm.prank(caller);
        market.releaseClaim(jobId);
        if (
            _state(jobId) != IJobMarket.JobState.Requested
                || market.balanceOf(treasury, address(0)) - treasuryBefore != penalty
                || operators.lockedBy(p.operator, address(market)) != lockedBefore - p.bond
                || operators.getOperator(p.operator).stake != stakeBefore - penalty
        ) ++ghost_badReleases;
        ++ghost_released;
    }

    function submit(uint256 jobSeed) external {
        uint256 jobId = _jobIn(jobSeed, IJobMarket.JobState.Claimed);
        if (jobId == 0 || _state(jobId) != IJobMarket.JobState.Claimed) return;
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        if (block.timestamp > p.submitBy) return;
        uint256 key;
        for (uint256 i = 0; i < 3; ++i) {
            if (ops[i] == p.operator) key = opKeys[i];
        }
        JobReceipt memory r;
        (r.jobId, r.weightsDigest, r.inputDigest) = (jobId, market.getTerms(jobId).weightsDigest, INPUT);
        (r.runtime, r.outputDigest, r.outputCid) = (market.getTerms(jobId).runtime, keccak256("out"), "bafyout");
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, market.receiptDigest(r));
        market.submitResult(jobId, r, abi.encodePacked(rr, s, v));
    }

    function finalize(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        uint256 before = market.totalCredited(t.token);
        try market.finalize(jobId) {
            if (block.timestamp < p.challengeEnds) ++ghost_finalizedEarly;
            if (desk.auditOf(jobId).state != IDisputeDesk.AuditState.Cleared) ++ghost_finalizedUnaudited;
            if (market.totalCredited(t.token) - before != t.payment) ++ghost_badSplits;
            ++ghost_finalized;
            _closed(jobId);
        } catch {}
    }

    function challenge(uint256 jobSeed, uint256 actorSeed) external {
        // Mostly a submitted job (a new dispute); every fourth call any job (joins, late and refused challenges).
        uint256 jobId = actorSeed % 4 == 0 ? _job(jobSeed) : _jobIn(jobSeed, IJobMarket.JobState.Submitted);
        if (jobId == 0) return;
        address who = actors[actorSeed % actors.length];
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        uint256 cost = desk.challengeCost(jobId);
        vm.deal(who, who.balance + cost);
        vm.prank(who);
        try desk.challenge{value: cost}(jobId) returns (uint256 disputeId) {
            if (block.timestamp >= p.challengeEnds) ++ghost_challengedLate;
            if (p.state == IJobMarket.JobState.Disputed) {
                ++ghost_joined;
            } else {
                challengedJobs.push(jobId);
                // Every other new dispute is a canary (the handler is the canary key), its answer fixed now.
                if (actorSeed % 2 == 0) {
                    uint256 answer = 1 + (actorSeed / 2) % 3;
                    committee.registerCanary(keccak256(abi.encode(disputeId, answer, bytes32(jobId))));
                    canaryAnswerOf[disputeId] = answer;
                }
            }
        } catch {}
    }

    /// Collects a ruled ticket of any actor for any challenged job (reverts when there is nothing to collect).
    function collect(uint256 jobSeed, uint256 actorSeed) external {
        if (challengedJobs.length == 0) return;
        uint256 jobId = challengedJobs[jobSeed % challengedJobs.length];
        try desk.collect(jobId, actors[actorSeed % actors.length]) {
            ++ghost_collected;
        } catch {}
    }

    function runDispute(uint256 jobSeed, uint256 votes) external {
        uint256 jobId = _jobIn(jobSeed, IJobMarket.JobState.Disputed);
        if (jobId == 0 || _state(jobId) != IJobMarket.JobState.Disputed) return;
        uint256 disputeId = market.getProgress(jobId).disputeId;
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(disputeId);
        if (phase == IReexecutionCommittee.Phase.Waiting) {
            try committee.retry(disputeId) {} catch {}
            return;
        }
        if (phase == IReexecutionCommittee.Phase.Appealable) {
            _appealOrRule(jobId, disputeId, votes);
            return;
        }
        if (phase == IReexecutionCommittee.Phase.Created) {
            // Disputes are drawn in creation order: draw the queue's head, whichever job it is.
            uint256 head = committee.queueHeadDispute();
            vm.roll(block.number + 2);
            committee.draw(head);
            if (head != disputeId) return;
            (phase,,,,,,,) = committee.disputeInfo(disputeId);
        }
        if (phase != IReexecutionCommittee.Phase.Drawn) return;
        (,,,, uint8 round,,,) = committee.disputeInfo(disputeId);
        address[] memory jurors = committee.jurorsIn(disputeId, round);
        {
            // A juror released for silence (no seat now) or one that revealed before a redraw is refused: skipped.
            for (uint256 i = 0; i < jurors.length; ++i) {
                uint256 vote = (votes >> (2 * i)) % 4; // 0 = silent, 3 = the input could not be fetched
                if (vote == 0) continue;
                vm.prank(jurors[i]);
                try committee.commit(
                    disputeId, jurors[i], CairnTypedData.commitment(disputeId, round, jurors[i], vote, bytes32(i))
                ) {}
                    catch {}
            }
            (,, uint64 commitDeadline, uint64 revealDeadline,,,,) = committee.disputeInfo(disputeId);
            vm.warp(commitDeadline);
            // A canary's answer is revealed once the first round's votes are bound (refused after a redraw).
            if (canaryAnswerOf[disputeId] != 0) {
                try committee.revealCanary(disputeId, canaryAnswerOf[disputeId], bytes32(jobId)) {
                    ++ghost_canariesRevealed;
                } catch {}
            }
            for (uint256 i = 0; i < jurors.length; ++i) {
                uint256 vote = (votes >> (2 * i)) % 4;
                if (vote == 0) continue;
                vm.prank(jurors[i]);
                try committee.reveal(disputeId, jurors[i], vote, bytes32(i)) {} catch {}
            }
            vm.warp(revealDeadline);
            try committee.resolve(disputeId) {}
            catch {
                ++ghost_resolveReverted;
                return;
            }
            _syncJurors(disputeId);
        }
        // Silence that could decide is redrawn: the dispute goes on.
        (phase,,,,,,,) = committee.disputeInfo(disputeId);
        if (phase != IReexecutionCommittee.Phase.Ruled) return;
        ++ghost_disputesRuled;
        _closed(jobId);
    }

    function reopen(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        try market.reopen(jobId) {} catch {}
    }

    function cancel(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        try market.cancel(jobId) {
            ++ghost_cancelled;
            _closed(jobId);
        } catch {}
    }

    function withdraw(uint256 actorSeed, bool eth) external {
        address who = actors[actorSeed % actors.length];
        vm.prank(who);
        try market.withdraw(eth ? address(0) : address(usdc)) {} catch {}
        vm.prank(who);
        try desk.withdraw(address(0)) {} catch {}
    }

    /// An operator's signer key sweeps the operator's market earnings to the operator (`withdrawFor`).
    function withdrawForOperator(uint256 opSeed, bool eth) external {
        uint256 i = opSeed % ops.length;
        vm.prank(vm.addr(opKeys[i]));
        try market.withdrawFor(ops[i], eth ? address(0) : address(usdc)) {} catch {}
    }

    function forceSend(uint256 amount, bool toDesk) external {
        amount = bound(amount, 1, 1 ether);
        vm.deal(address(this), amount);
        new ForceSender{value: amount}(payable(toDesk ? address(desk) : address(market)));
        if (toDesk) ghost_forceSentDesk += amount;
        else ghost_forceSent += amount;
    }

    /// Evaluates a job's audit draw a few blocks on (sometimes past the seed's life: then it is audited).
    function evaluateAudit(uint256 jobSeed, uint256 blocksAhead) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        vm.roll(block.number + bound(blocksAhead, 1, 300));
        try desk.evaluateAudit(jobId) returns (bool audited) {
            if (audited) {
                ++ghost_audited;
                challengedJobs.push(jobId);
            }
        } catch {}
    }

    function pullAuditFunds() external {
        desk.pullAuditFunds();
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 0, 3 hours));
    }

    /// @dev An appealable round: an actor appeals it (paying `appealCost`), or its period passes and it is ruled.
    function _appealOrRule(uint256 jobId, uint256 disputeId, uint256 seed) internal {
        if (seed % 2 == 1) {
            uint256 cost = committee.appealCost(disputeId);
            address who = actors[(seed >> 1) % actors.length];
            vm.deal(who, who.balance + cost);
            vm.prank(who);
            committee.appeal{value: cost}(disputeId);
            ++ghost_appeals;
            return;
        }
        (,,,,,, uint64 appealDeadline,) = committee.disputeInfo(disputeId);
        if (block.timestamp < appealDeadline) vm.warp(appealDeadline);
        try committee.resolve(disputeId) {}
        catch {
            ++ghost_resolveReverted;
            return;
        }
        _syncJurors(disputeId);
        ++ghost_unappealed;
        ++ghost_disputesRuled;
        _closed(jobId);
    }

    /// @dev Released seats return to the tree at the next sync (frozen while a draw is pending): every round's.
    function _syncJurors(uint256 disputeId) internal {
        (,,,, uint8 round,,,) = committee.disputeInfo(disputeId);
        for (uint8 r = 0; r <= round; ++r) {
            address[] memory jurors = committee.jurorsIn(disputeId, r);
            for (uint256 i = 0; i < jurors.length; ++i) {
                committee.pool().sync(jurors[i]);
            }
        }
    }

    /// @dev Governance changes the committee's fee, keeper reward and penalties while disputes are open: each
    /// dispute keeps its snapshot, and no change may break the committee's accounting or a ruling.
    function setCommitteeParams(uint256 feeSeed, uint256 keeperSeed, uint256 psiSeed, uint256 nuSeed) external {
        IReexecutionCommittee.Params memory p = committee.params();
        p.fee = bound(feeSeed, 0, 0.2 ether);
        p.keeperReward = bound(keeperSeed, 0, p.fee);
        p.nonRevealPenalty = bound(nuSeed, 0, committee.seatSize());
        p.coherencePenalty = bound(psiSeed, 0, p.nonRevealPenalty);
        vm.prank(committee.owner());
        committee.setParams(p);
        ++ghost_paramChanges;
    }

    /// @dev Governance changes the committee's periods and audit reserve and the pool's maturity while disputes are
    /// open (maturity only while no draw is pending: `Frozen` otherwise). The open rounds keep their deadlines and
    /// periods already fixed; later draws read the new ones; no change may strand a dispute.
    function setCommitteePeriods(uint64 commitSeed, uint64 revealSeed, uint64 appealSeed, uint16 reserve, uint64 m)
        external
    {
        IReexecutionCommittee.Params memory p = committee.params();
        p.commitPeriod = uint64(bound(commitSeed, committee.MIN_PERIOD(), 1 days));
        p.revealPeriod = uint64(bound(revealSeed, committee.MIN_PERIOD(), 1 days));
        p.appealPeriod = appealSeed % 3 == 0 ? 0 : uint64(bound(appealSeed, committee.MIN_PERIOD(), 1 days));
        p.auditReserve = uint16(bound(reserve, 0, 6));
        vm.startPrank(committee.owner());
        committee.setParams(p);
        IJurorPool pool = committee.pool();
        // At most the setUp's 2 hours: the verifiers' stake stays old enough for new disputes.
        try JurorPool(address(pool)).setMaturity(uint64(bound(m, 0, 2 hours))) {} catch {}
        vm.stopPrank();
        ++ghost_paramChanges;
    }

    /// @dev Once, from the test's setUp (a fuzzed call after that changes nothing): the verifiers that move stake.
    function setVerifiers(address[5] calldata verifiers_) external {
        if (verifiers.length != 0) return;
        for (uint256 i = 0; i < 5; ++i) {
            verifiers.push(verifiers_[i]);
        }
    }

    /// Stake moves while disputes are open (issue #12's liveness): a verifier deposits juror stake, asks some of
    /// it out, or takes out what has unbonded; its seats follow at the sync. No move may strand a dispute.
    function jurorMove(uint256 verifierSeed, uint256 amountSeed, uint8 kind) external {
        if (verifiers.length == 0) return;
        IJurorPool pool = committee.pool();
        address v = verifiers[verifierSeed % verifiers.length];
        kind %= 3;
        if (kind == 0) {
            uint256 amount = bound(amountSeed, 1, 2 ether);
            vm.deal(v, v.balance + amount);
            vm.prank(v);
            pool.deposit{value: amount}();
        } else if (kind == 1) {
            IJurorPool.Juror memory j = pool.jurorInfo(v);
            uint256 available = uint256(j.stake) + j.pendingDeposit - j.withdrawalRequested;
            if (available == 0) return;
            vm.prank(v);
            pool.requestWithdrawal(bound(amountSeed, 1, available));
        } else {
            vm.prank(v);
            try pool.withdrawUnbonded() {}
            catch {
                return;
            }
        }
        pool.sync(v);
        ++ghost_jurorMoves;
    }

    /// @dev The end of a run (`afterInvariant`): drives every dispute still open to its ruling the way anyone can:
    /// keepers draw the queue's head (reseeding a lapsed seed), rounds are resolved after their periods, waiting
    /// disputes are retried and, in the late passes, expired once `MAX_WAIT` has passed. Jurors do anything
    /// (`_action`): a quarter of the disputes are never answered by anyone and must end by their expiry; in the
    /// others jurors are silent, commit without revealing or vote either way for the first passes, then all vote
    /// "acceptable". Returns the disputes it could not rule (must be none).
    function settleAll() external returns (uint256 open) {
        for (uint256 pass = 0; pass < 24; ++pass) {
            uint256[] memory jobIds = _disputedJobs();
            if (pass == 0) ghost_openAtEnd += jobIds.length;
            if (jobIds.length == 0) return 0;
            _drawQueue();
            // Every drawn round's commits before any warp (one dispute's deadlines must not silence another's
            // jurors), then reveals in commit-deadline order, then resolutions after the last reveal deadline.
            _vote(jobIds, pass);
            _resolveAll(jobIds, IReexecutionCommittee.Phase.Appealable);
            _endWaits(jobIds, pass);
        }
        open = _disputedJobs().length;
    }

    /// @dev The jobs still disputed.
    function _disputedJobs() internal view returns (uint256[] memory jobIds) {
        jobIds = new uint256[](challengedJobs.length);
        uint256 n;
        for (uint256 i = 0; i < challengedJobs.length; ++i) {
            if (_state(challengedJobs[i]) == IJobMarket.JobState.Disputed) jobIds[n++] = challengedJobs[i];
        }
        assembly ("memory-safe") {
            mstore(jobIds, n)
        }
    }

    function _phaseOf(uint256 jobId) internal view returns (IReexecutionCommittee.Phase phase, uint256 disputeId) {
        disputeId = market.getProgress(jobId).disputeId;
        (phase,,,,,,,) = committee.disputeInfo(disputeId);
    }

    /// @dev Keepers draw the queue head by head (reseeding a lapsed seed once).
    function _drawQueue() internal {
        for (uint256 k = 0; k < 64 && committee.awaitingDraw() != 0; ++k) {
            uint256 head = committee.queueHeadDispute();
            vm.roll(block.number + 2);
            try committee.draw(head) {}
            catch {
                try committee.reseed(head) {} catch {}
                vm.roll(block.number + 2);
                try committee.draw(head) {}
                catch {
                    return;
                }
            }
        }
    }

    /// @dev What juror `i` of `round` does at `pass`: 0 nothing, 1 commits and never reveals, 2 votes acceptable,
    /// 3 votes not acceptable. A quarter of the disputes are never answered at all (they must end by expiry).
    function _action(uint256 disputeId, uint256 round, uint256 i, uint256 pass) internal pure returns (uint256) {
        if (_neverAnswered(disputeId)) return 0;
        if (pass >= 8) return 2;
        return uint256(keccak256(abi.encode(disputeId, round, i, pass))) % 4;
    }

    function _neverAnswered(uint256 disputeId) internal pure returns (bool) {
        return uint256(keccak256(abi.encode("never answered", disputeId))) % 4 == 0;
    }

    /// @dev Commits, reveals and resolutions of every drawn round.
    function _vote(uint256[] memory jobIds, uint256 pass) internal {
        // Commits, with no warp in between.
        for (uint256 j = 0; j < jobIds.length; ++j) {
            (IReexecutionCommittee.Phase phase, uint256 disputeId) = _phaseOf(jobIds[j]);
            if (phase != IReexecutionCommittee.Phase.Drawn) continue;
            (,,,, uint8 round,,,) = committee.disputeInfo(disputeId);
            address[] memory jurors = committee.jurorsIn(disputeId, round);
            for (uint256 i = 0; i < jurors.length; ++i) {
                uint256 action = _action(disputeId, round, i, pass);
                if (action == 0) continue;
                vm.prank(jurors[i]);
                try committee.commit(
                    disputeId,
                    jurors[i],
                    CairnTypedData.commitment(disputeId, round, jurors[i], action == 3 ? 2 : 1, bytes32(i))
                ) {}
                    catch {}
            }
        }
        // Reveals, earliest commit deadline first: each warp reaches one round's reveal period without passing the
        // reveal deadline of any round still to reveal (theirs are later).
        for (uint256 left = jobIds.length; left > 0; --left) {
            (uint256 next, uint64 at) = (0, type(uint64).max);
            for (uint256 j = 0; j < jobIds.length; ++j) {
                (IReexecutionCommittee.Phase phase, uint256 disputeId) = _phaseOf(jobIds[j]);
                (,, uint64 commitDeadline,,,,,) = committee.disputeInfo(disputeId);
                if (phase == IReexecutionCommittee.Phase.Drawn && !revealed[disputeId] && commitDeadline < at) {
                    (next, at) = (jobIds[j], commitDeadline);
                }
            }
            if (next == 0) break;
            uint256 id = market.getProgress(next).disputeId;
            revealed[id] = true;
            if (block.timestamp < at) vm.warp(at);
            (,,,, uint8 round,,,) = committee.disputeInfo(id);
            address[] memory jurors = committee.jurorsIn(id, round);
            for (uint256 i = 0; i < jurors.length; ++i) {
                uint256 action = _action(id, round, i, pass);
                if (action < 2) continue;
                vm.prank(jurors[i]);
                try committee.reveal(id, jurors[i], action == 3 ? 2 : 1, bytes32(i)) {} catch {}
            }
        }
        _resolveAll(jobIds, IReexecutionCommittee.Phase.Drawn);
    }

    /// @dev Resolves every dispute in `phase` (Drawn or Appealable) once the last of their periods is over.
    function _resolveAll(uint256[] memory jobIds, IReexecutionCommittee.Phase phase) internal {
        uint64 last;
        for (uint256 j = 0; j < jobIds.length; ++j) {
            (IReexecutionCommittee.Phase p, uint256 disputeId) = _phaseOf(jobIds[j]);
            (,,, uint64 revealDeadline,,, uint64 appealDeadline,) = committee.disputeInfo(disputeId);
            uint64 end = phase == IReexecutionCommittee.Phase.Drawn ? revealDeadline : appealDeadline;
            if (p == phase && end > last) last = end;
        }
        if (block.timestamp < last) vm.warp(last);
        for (uint256 j = 0; j < jobIds.length; ++j) {
            (IReexecutionCommittee.Phase p, uint256 disputeId) = _phaseOf(jobIds[j]);
            if (p != phase) continue;
            delete revealed[disputeId];
            _resolve(jobIds[j], disputeId);
        }
    }

    /// @dev Waiting disputes are retried; from pass 16 each is first tried for an early `expire` (which must
    /// revert), then time moves to the latest `expiresAt` among them (the sum of the waits of the disputes waiting
    /// together, each by its bond, at most 365 days), then a never-answered dispute is expired, and an answered one
    /// only when it cannot be retried for want of seats (from pass 20 whatever keeps it waiting: its eligible jurors
    /// may all have topped up or left).
    function _endWaits(uint256[] memory jobIds, uint256 pass) internal {
        if (pass >= 16) _waitForExpiries(jobIds);
        for (uint256 j = 0; j < jobIds.length; ++j) {
            (IReexecutionCommittee.Phase phase, uint256 disputeId) = _phaseOf(jobIds[j]);
            if (phase != IReexecutionCommittee.Phase.Waiting) continue;
            if (pass >= 16 && (_neverAnswered(disputeId) || pass >= 20)) {
                try committee.expire(disputeId) {
                    ++ghost_expired;
                    _closed(jobIds[j]);
                    continue;
                } catch {}
            }
            try committee.retry(disputeId) {}
            catch {
                if (pass < 16) continue;
                try committee.expire(disputeId) {
                    ++ghost_expired;
                    _closed(jobIds[j]);
                } catch {}
            }
        }
    }

    /// @dev Moves time forward through the waiting disputes' `expiresAt`s, earliest first: a second before each, the
    /// `expire` of every dispute ending then is tried (counted in `ghost_expiredEarly` if it succeeds); time ends at
    /// the latest.
    function _waitForExpiries(uint256[] memory jobIds) internal {
        uint256 after_ = block.timestamp;
        while (true) {
            uint256 next = type(uint256).max;
            for (uint256 j = 0; j < jobIds.length; ++j) {
                uint256 end = _waitEnd(jobIds[j]);
                if (end > after_ && end < next) next = end;
            }
            if (next == type(uint256).max) return;
            vm.warp(next - 1);
            for (uint256 j = 0; j < jobIds.length; ++j) {
                if (_waitEnd(jobIds[j]) != next) continue;
                (, uint256 disputeId) = _phaseOf(jobIds[j]);
                if (committee.waitFor(market.getProgress(jobIds[j]).bond) > committee.MIN_WAIT()) ++ghost_longWaits;
                try committee.expire(disputeId) {
                    ++ghost_expiredEarly;
                    _closed(jobIds[j]);
                } catch {}
            }
            vm.warp(next);
            after_ = next;
        }
    }

    /// @dev The `expiresAt` of `jobId`'s dispute while it waits for seats; 0 otherwise.
    function _waitEnd(uint256 jobId) internal view returns (uint256) {
        (IReexecutionCommittee.Phase phase, uint256 disputeId) = _phaseOf(jobId);
        if (phase != IReexecutionCommittee.Phase.Waiting) return 0;
        return committee.expiresAt(disputeId);
    }

    function _resolve(uint256 jobId, uint256 disputeId) internal {
        try committee.resolve(disputeId) {}
        catch {
            ++ghost_resolveReverted;
            return;
        }
        _syncJurors(disputeId);
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(disputeId);
        if (phase == IReexecutionCommittee.Phase.Ruled) _closed(jobId);
    }

    function _closed(uint256 jobId) internal {
        if (++ghost_closes[jobId] > 1) ++ghost_closedTwice;
    }
}
