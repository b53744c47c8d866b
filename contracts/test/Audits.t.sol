// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {JobReceipt} from "../src/interfaces/ICairnTypes.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IDisputeDesk} from "../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";
import {MockToken} from "./utils/mocks/Tokens.sol";

/// @notice Random audits (issue #12 step 6, finding 3): a submitted job goes to the committee with no challenger
/// at rate f = min(1, s·F / (F + βB)); each job pays its premium ⌈f·A⌉ out of its operator fee; a lapsed seed
/// means audited; finalize needs the audit cleared; garbage that nobody challenges is caught and costs its bond.
contract AuditsTest is CairnSystem {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant FEE = 0.03 ether; // the committee's arbitration cost in this suite
    uint256 internal constant BOND = 0.05 ether; // the challenge bond
    uint16 internal constant SAFETY = 12_500; // s = 1.25
    address internal watcher = address(0x3A7C);

    function setUp() public {
        setUpSystem();
        // Disputes v2's operator bonds: floor 0.25 ETH, 4× the payment above it.
        IJobMarket.Params memory p = defaultParams();
        p.bondFloor = 0.25 ether;
        p.bondBps = 40_000;
        vm.startPrank(owner);
        market.setParams(p);
        desk.setAuditParams(IDisputeDesk.AuditParams(SAFETY, 0));
        vm.stopPrank();
        vm.deal(watcher, 100 ether);
        vm.deal(ops[0], 100 ether);
        vm.prank(ops[0]);
        operators.addStake{value: 60 ether}();
    }

    function _setRates(uint16 safetyBps, uint16 minRateBps) internal {
        vm.prank(owner);
        desk.setAuditParams(IDisputeDesk.AuditParams(safetyBps, minRateBps));
    }

    /// @dev The rule, restated: the seed block's hash mixed with the job's audit salt, below the rate.
    function _drawn(bytes32 hash, uint256 jobId, uint64 rate) internal pure returns (bool) {
        bytes32 seed = keccak256(abi.encode(hash, uint256(keccak256(abi.encode("cairn.audit", jobId)))));
        return uint256(seed) % WAD < rate;
    }

    /// @dev Sets the job's seed block hash to the first candidate whose draw is `audited`, moves one block on.
    function _forceDraw(uint256 jobId, bool audited) internal {
        IDisputeDesk.Audit memory a = desk.auditOf(jobId);
        for (uint256 i = 1; i < 1000; ++i) {
            bytes32 h = keccak256(abi.encode("block", i));
            if (_drawn(h, jobId, a.rate) == audited) {
                vm.roll(a.seedBlock + 1);
                vm.setBlockhash(a.seedBlock, h);
                return;
            }
        }
        revert("no candidate hash");
    }

    /// @dev Two 0.1 ETH jobs, each drawn not audited and finalized: their premiums are owed to the desk by the
    /// market (not yet pulled); returns their sum.
    function _paidTwoPremiums() internal returns (uint256 owed) {
        for (uint256 i = 0; i < 2; ++i) {
            uint256 paid = _submitted(0.1 ether);
            _forceDraw(paid, false);
            desk.evaluateAudit(paid);
            vm.warp(block.timestamp + 1 hours);
            market.finalize(paid);
            owed += desk.auditOf(paid).premium;
        }
    }

    /*//////////////////////////////////////////////////////////////
                         RATE AND PREMIUM
    //////////////////////////////////////////////////////////////*/

    /// The rate follows s·F/(F + βB) at every job size and a garbage runner's expected profit F − f(F + βB)
    /// is negative at each (v1: garbage was paid in full unless 83% of it was challenged).
    function test_RateMakesGarbageLoseAtEveryJobSize() public {
        uint256[5] memory sizes = [uint256(0.001 ether), 0.01 ether, 0.1 ether, 1 ether, 10 ether];
        for (uint256 i = 0; i < sizes.length; ++i) {
            uint256 jobId = _submitted(sizes[i]);
            IJobMarket.JobTerms memory t = market.getTerms(jobId);
            uint256 fee = t.payment - t.royalty - t.protocolFee;
            uint256 bond = market.getProgress(jobId).bond;
            uint256 exposure = fee + bond * 5000 / 10_000;
            IDisputeDesk.Audit memory a = desk.auditOf(jobId);
            assertEq(a.rate, SAFETY * fee * WAD / (10_000 * exposure), "f = s F / (F + beta B)");
            assertEq(a.premium, (a.rate * FEE + WAD - 1) / WAD, "premium = ceil(f A)");
            assertEq(uint8(a.state), uint8(IDisputeDesk.AuditState.Pending), "to evaluate");
            assertEq(a.seedBlock, block.number, "seed: the block of submitResult");
            // Garbage's expected profit per job, scaled by 1e18: F·1e18 − f·(F + βB) < 0.
            assertTrue(a.rate * exposure > fee * WAD, "garbage loses money on average");
            // The honest runner keeps the operator fee less the premium.
            assertTrue(a.premium < fee, "honest work still pays");
        }
    }

    /// Issue #12, "at every job size the market accepts": from the least payment `requestJob` takes (price + fee +
    /// the token's minimum operator fee) to the largest whose bond stays within `MAX_BOND`, garbage loses on average
    /// and honest work is still paid (fuzzed; the test above shows the incentive table's five sizes).
    function testFuzz_GarbageLosesAndHonestWorkPaysAtEveryAcceptedSize(uint256 payment) public {
        IJobMarket.Params memory p = market.params();
        (, uint256 price) = _bounds(ethModel);
        uint256 need = price + market.tokenConfig(address(0)).minOperatorFee;
        uint256 least = need * 10_000 / (10_000 - p.feeBps);
        while (least - least * p.feeBps / 10_000 < need) ++least;
        payment = bound(payment, least, market.MAX_BOND() * 10_000 / p.bondBps);
        vm.deal(ops[0], 100 ether);
        vm.prank(ops[0]);
        operators.addStake{value: 100 ether}(); // a bond up to MAX_BOND (100 ETH)
        uint256 jobId = _submitted(payment);
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        uint256 fee = t.payment - t.royalty - t.protocolFee;
        uint256 exposure = fee + market.getProgress(jobId).bond * 5000 / 10_000;
        IDisputeDesk.Audit memory a = desk.auditOf(jobId);
        assertTrue(a.rate * exposure > fee * WAD, "garbage loses money on average");
        assertTrue(a.premium < fee, "honest work still pays");
    }

    /// A rate of zero clears the job at once: it finalizes without an evaluation and pays no premium.
    function test_ZeroRateClearsAtOnce() public {
        _setRates(0, 0);
        uint256 jobId = _submitted(0.01 ether);
        IDisputeDesk.Audit memory a = desk.auditOf(jobId);
        assertEq(uint8(a.state), uint8(IDisputeDesk.AuditState.Cleared), "cleared");
        assertEq(a.premium, 0, "no premium");
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        assertEq(market.balanceOf(address(desk), address(0)), 0, "nothing for the pool");
    }

    /// ERC-20 jobs convert the operator fee at the token's bond rate and pay the premium in the token.
    function test_Erc20PremiumIsInTheToken() public view {
        // 1 USDC bonds 0.0005 ETH (rate 5e26): an operator fee of 20 USDC is 0.01 ETH.
        (uint64 rate, uint256 premium) = desk.auditTerms(address(usdc), 20e6, 0.25 ether, 5000);
        (uint64 ethRate, uint256 ethPremium) = desk.auditTerms(address(0), 0.01 ether, 0.25 ether, 5000);
        assertEq(rate, ethRate, "the same rate as the ETH job of the same value");
        assertEq(premium, (ethPremium * WAD + 5e26 - 1) / 5e26, "the ETH premium in USDC, rounded up");
        // A premium that converts exactly is not rounded: a certain audit (rate 1, nothing burned) of a 100 USDC
        // fee costs the whole 0.03 ETH, 60 USDC.
        (rate, premium) = desk.auditTerms(address(usdc), 100e6, 0.25 ether, 0);
        assertEq(rate, WAD, "certain");
        assertEq(premium, 60e6, "0.03 ETH at 0.0005 ETH per USDC, exactly");
    }

    /// An ERC-20 job's premium goes to the treasury (which funds the audit pool in ETH), not to the desk.
    function test_AnErc20JobsPremiumGoesToTheTreasury() public {
        vm.startPrank(buyer);
        usdc.approve(address(market), 50e6);
        uint256 jobId = market.requestJob(
            usdcModel, 1, INPUT, "bafyinput", address(usdc), 50e6, USDC_PRICE, uint64(block.timestamp + 1 hours), 0
        );
        vm.stopPrank();
        _claimAndSubmit(jobId, 0);
        uint256 premium = desk.auditOf(jobId).premium;
        assertTrue(premium > 0, "a premium in USDC");
        _forceDraw(jobId, false);
        assertTrue(!desk.evaluateAudit(jobId), "not audited");
        vm.warp(market.getProgress(jobId).challengeEnds);
        market.finalize(jobId);
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        assertEq(market.balanceOf(treasury, address(usdc)), t.protocolFee + premium, "fee and premium to the treasury");
        assertEq(market.balanceOf(address(desk), address(usdc)), 0, "none to the desk");
    }

    /// The rate never exceeds one: where the bond's burned share is small beside the fee, s·F/(F + βB) passes 1
    /// (s = 1.25), and every job is audited, for a premium of one audit's cost.
    function test_RateIsCappedAtOne() public view {
        (uint64 rate, uint256 premium) = desk.auditTerms(address(0), 1 ether, 0.25 ether, 0);
        assertEq(rate, WAD, "s = 1.25 with nothing burned: capped at 1");
        assertEq(premium, FEE, "the premium of a certain audit: its whole cost");
        (rate,) = desk.auditTerms(address(0), 1 ether, 0.25 ether, 1000);
        assertEq(rate, WAD, "1.25 x 1 / (1 + 0.025) > 1: capped");
        // Nothing at stake at all (no fee, nothing burned): no division by zero, no audit.
        (rate, premium) = desk.auditTerms(address(0), 0, 0.25 ether, 0);
        assertEq(rate, 0, "nothing to weigh");
        assertEq(premium, 0, "no premium");
    }

    /// A premium above 2^120 - 1 units (the audit record's field) is stored capped there rather than refused, so
    /// the result can still be submitted: a token of 1 wei per 10^18 units, every job audited (minimum rate 100%)
    /// and an arbitration fee of 2 ETH make a premium of 2 × 10^36 units, under a 2^121-unit operator fee.
    function test_APremiumAboveTheRecordsFieldIsCapped() public {
        _setRates(SAFETY, 10_000);
        IReexecutionCommittee.Params memory cp = committee.params();
        cp.fee = 2 ether;
        vm.prank(owner);
        committee.setParams(cp);
        MockToken big = new MockToken("BIG", 18);
        vm.prank(owner);
        market.setTokenConfig(address(big), IJobMarket.TokenConfig({bondRate: 1, minOperatorFee: 1}));
        // The seller's price 2^120 units; the operator's share of a 2^122 payment is near 2^121.
        uint256 payment = uint256(1) << 122;
        uint256 modelId = _listModel(address(big), uint256(1) << 120, 0x1ff);
        (uint64 version, uint256 maxPrice) = _bounds(modelId);
        big.mint(buyer, payment);
        vm.startPrank(buyer);
        big.approve(address(market), payment);
        uint256 jobId = market.requestJob(
            modelId, version, INPUT, "bafyinput", address(big), payment, maxPrice, uint64(block.timestamp + 1 hours), 0
        );
        vm.stopPrank();
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        JobReceipt memory r = _receipt(jobId);
        market.submitResult(jobId, r, _sig(opSignerKeys[0], market.receiptDigest(r)));
        IDisputeDesk.Audit memory a = desk.auditOf(jobId);
        assertEq(a.premium, type(uint120).max, "capped at the field's maximum");
        assertEq(a.rate, WAD, "every job audited");
    }

    /// A token wound down (minimum operator fee `type(uint256).max`) takes no new request, while a job claimed
    /// before runs to its end at the kept bond rate: its audit premium is the one of that rate, not the operator's
    /// whole fee (which a bond rate back at 0 would have made it: refused now), and its operator is paid the rest.
    function test_AWoundDownTokenTakesNoNewRequestAndItsOpenJobsEnd() public {
        MockToken tok = new MockToken("TOK", 6);
        vm.prank(owner);
        market.setTokenConfig(address(tok), IJobMarket.TokenConfig({bondRate: 5e26, minOperatorFee: 0}));
        uint256 modelId = _listModel(address(tok), 100, 0x1ff);
        (uint64 version, uint256 maxPrice) = _bounds(modelId);
        uint256 payment = 100e6;
        tok.mint(buyer, 3 * payment);
        vm.startPrank(buyer);
        tok.approve(address(market), 3 * payment);
        uint256 jobId = market.requestJob(
            modelId, version, INPUT, "bafyinput", address(tok), payment, maxPrice, uint64(block.timestamp + 1 hours), 0
        );
        // A second job requested before the wind-down and claimed after it.
        uint256 late = market.requestJob(
            modelId, version, INPUT, "bafyinput", address(tok), payment, maxPrice, uint64(block.timestamp + 1 hours), 0
        );
        vm.stopPrank();
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);

        vm.startPrank(owner);
        market.setTokenConfig(address(tok), IJobMarket.TokenConfig({bondRate: 5e26, minOperatorFee: type(uint256).max}));
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.TokenRateRequired.selector, address(tok)));
        market.setTokenConfig(address(tok), IJobMarket.TokenConfig({bondRate: 0, minOperatorFee: 0}));
        vm.stopPrank();
        assertEq(market.tokenConfig(address(tok)).bondRate, 5e26, "the rate is kept");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.TokenNotAccepted.selector, address(tok)));
        market.requestJob(
            modelId, version, INPUT, "bafyinput", address(tok), payment, maxPrice, uint64(block.timestamp + 1 hours), 0
        );
        assertEq(tok.balanceOf(buyer), payment, "the refused request took nothing");
        vm.prank(ops[0]);
        market.claim(late, ops[0]);
        assertEq(market.getProgress(late).bond, market.bondFor(address(tok), payment), "claimed at the kept rate");

        JobReceipt memory r = _receipt(jobId);
        market.submitResult(jobId, r, _sig(opSignerKeys[0], market.receiptDigest(r)));
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        uint256 operatorFee = t.payment - t.royalty - t.protocolFee;
        (, uint256 premium) =
            desk.auditTerms(address(tok), operatorFee, market.getProgress(jobId).bond, market.params().burnBps);
        uint256 recorded = desk.auditOf(jobId).premium;
        assertEq(recorded, premium, "the premium at the kept rate");
        assertTrue(recorded != 0 && recorded < operatorFee, "a premium, not the whole operator fee");
        _forceDraw(jobId, false);
        desk.evaluateAudit(jobId);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        assertEq(market.balanceOf(ops[0], address(tok)), operatorFee - recorded, "the operator is paid the rest");
        _assertMarketSolvent();
    }

    /// A token without a rate has no ETH value: its audit premium is the whole operator fee (at the minimum rate).
    /// No job can reach this any more (a listed token keeps a rate, `TokenRateRequired`); the view still answers.
    function test_ATokenWithoutARateCostsTheWholeFeeInTheView() public {
        _setRates(SAFETY, 100);
        MockToken unlisted = new MockToken("NONE", 18);
        (uint64 rate, uint256 premium) = desk.auditTerms(address(unlisted), 1e18, 0.25 ether, 1000);
        assertEq(rate, WAD / 100, "the minimum rate");
        assertEq(premium, 1e18, "the whole operator fee");
    }

    /// The audit terms for any operator fee, bond, burn rate and parameters (halmos times out on these divisions,
    /// so they are fuzzed): the rate is a probability at least the minimum rate; the premium is never above the
    /// operator fee and, whenever the fee allows, covers the expected cost of an audit, rate × fee, rounding up
    /// by less than a wei; an ERC-20 premium is worth at least the ETH one at the token's bond rate.
    function testFuzz_AuditTermsAreBoundedAndCoverTheAudit(
        uint96 operatorFee,
        uint96 bond,
        uint16 burnBps,
        uint16 safetyBps,
        uint16 minRateBps
    ) public {
        burnBps = uint16(bound(burnBps, 0, 10_000));
        minRateBps = uint16(bound(minRateBps, 0, 10_000));
        _setRates(uint16(bound(safetyBps, 0, 50_000)), minRateBps);
        (uint64 rate, uint256 premium) = desk.auditTerms(address(0), operatorFee, bond, burnBps);
        assertTrue(rate <= WAD, "a probability");
        assertTrue(rate >= uint256(minRateBps) * WAD / 10_000, "the minimum rate");
        assertTrue(premium <= operatorFee, "never above the operator fee");
        if (rate == 0) {
            assertEq(premium, 0, "no audit, no premium");
        } else if (premium < operatorFee) {
            assertTrue(premium * WAD >= uint256(rate) * FEE, "covers rate x fee");
            assertTrue((premium - 1) * WAD < uint256(rate) * FEE, "rounded up by less than a wei");
        }
        // 1 USDC (1e6 units) bonds 0.0005 ETH: the same job's fee in USDC.
        uint256 usdcFee = uint256(operatorFee) * WAD / 5e26;
        (uint64 usdcRate, uint256 usdcPremium) = desk.auditTerms(address(usdc), usdcFee, bond, burnBps);
        assertTrue(usdcPremium <= usdcFee, "never above the token fee");
        (, uint256 ethOfUsdcFee) = desk.auditTerms(address(0), usdcFee * 5e26 / WAD, bond, burnBps);
        if (usdcRate != 0 && usdcPremium < usdcFee) {
            assertTrue(usdcPremium * 5e26 / WAD >= ethOfUsdcFee, "worth at least the ETH premium");
        }
    }

    /*//////////////////////////////////////////////////////////////
                        EVALUATION AND FINALIZE
    //////////////////////////////////////////////////////////////*/

    /// Finalize needs the audit evaluated and not drawn; the evaluation needs the seed block mined.
    function test_FinalizeWaitsForTheEvaluation() public {
        uint256 jobId = _submitted(0.01 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.AuditSeedNotMined.selector, jobId, block.number, block.number)
        );
        desk.evaluateAudit(jobId);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.AuditPending.selector, jobId));
        market.finalize(jobId);

        _forceDraw(jobId, false);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.AuditEvaluated(jobId, false, 0);
        assertTrue(!desk.evaluateAudit(jobId), "not drawn");
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.AuditNotPending.selector, jobId, IDisputeDesk.AuditState.Cleared)
        );
        desk.evaluateAudit(jobId);

        uint256 premium = desk.auditOf(jobId).premium;
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        vm.expectEmit(address(market));
        emit IJobMarket.PaymentSplit(
            jobId, t.royalty, t.protocolFee, t.payment - t.royalty - t.protocolFee - premium, premium
        );
        market.finalize(jobId);
        assertEq(market.balanceOf(address(desk), address(0)), premium, "the premium, owed to the audit pool");
        desk.pullAuditFunds();
        assertEq(desk.auditPool(), premium, "pulled into the pool");
        assertEq(address(desk).balance, premium, "held by the desk");
        _assertMarketSolvent();
    }

    /// A result announces its audit's terms (`AuditScheduled`); a drawn audit is opened once (`AuditEvaluated`
    /// names its dispute) and is no longer pending, so it cannot be evaluated into a second dispute.
    function test_AnAuditIsAnnouncedAndOpenedOnce() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _requestEth(0.01 ether);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        uint256 bond = market.getProgress(jobId).bond;
        (uint64 rate, uint256 premium) =
            desk.auditTerms(address(0), t.payment - t.royalty - t.protocolFee, bond, market.params().burnBps);
        assertTrue(rate != 0 && premium != 0, "audits on");
        JobReceipt memory r = _receipt(jobId);
        bytes memory sig = _sig(opSignerKeys[0], market.receiptDigest(r));
        vm.expectEmit(address(desk));
        emit IDisputeDesk.AuditScheduled(jobId, uint64(block.number), rate, premium);
        market.submitResult(jobId, r, sig);
        _forceDraw(jobId, true);
        uint256 disputeId = committee.disputeCount() + 1;
        vm.expectEmit(address(desk));
        emit IDisputeDesk.AuditEvaluated(jobId, true, disputeId);
        assertTrue(desk.evaluateAudit(jobId), "audited");
        assertEq(uint8(desk.auditOf(jobId).state), uint8(IDisputeDesk.AuditState.Audited), "no longer pending");
        assertEq(market.getProgress(jobId).challengeBond, 0, "an audit posts no challenge bond");
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.AuditNotPending.selector, jobId, IDisputeDesk.AuditState.Audited)
        );
        desk.evaluateAudit(jobId);
        assertEq(committee.disputeCount(), disputeId, "one dispute");
    }

    /// An audit's dispute may wait for seats as long as the operator's bond buys (`waitFor`): an 8 ETH bond (a 2 ETH
    /// job at 4×) 60 days, not the shortest 30 (issue #12, finding 5: holding the pool exhausted until the expiry
    /// costs decoys in proportion to the wait).
    function test_AnAuditWaitsForSeatsAsLongAsTheBondBuys() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(2 ether);
        assertEq(market.getProgress(jobId).bond, 8 ether, "4x the payment");
        _forceDraw(jobId, true);
        assertTrue(desk.evaluateAudit(jobId), "audited");
        uint256 disputeId = market.getProgress(jobId).disputeId;
        assertEq(committee.expiresAt(disputeId), block.timestamp + 60 days, "twice WAIT_BOND: twice the wait");
    }

    /// The minimum rate applies where the formula gives less (here the formula is off: s = 0), and an audit that
    /// finds the pool short first pulls what the market owes the desk (earlier jobs' premiums) into it.
    function test_AShortPoolFirstPullsThePremiumsItIsOwed() public {
        _setRates(0, 5000);
        (uint64 rate,) = desk.auditTerms(address(0), 0.095 ether, 0.4 ether, 5000);
        assertEq(rate, WAD / 2, "the minimum rate, 50%");
        uint256 owed = _paidTwoPremiums();
        assertEq(owed, FEE, "two premiums of half an audit's cost");
        assertEq(market.balanceOf(address(desk), address(0)), owed, "owed to the desk, not yet pulled");
        assertEq(desk.auditPool(), 0, "the pool itself is empty");
        uint256 jobId = _submitted(0.1 ether);
        _forceDraw(jobId, true);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.AuditPoolFunded(address(market), FEE, FEE);
        assertTrue(desk.evaluateAudit(jobId), "audited with the pulled premiums");
        assertEq(market.balanceOf(address(desk), address(0)), 0, "pulled");
        assertEq(desk.auditPool(), 0, "and spent on this audit's fee");
    }

    /// A seed nobody evaluated while it was served means audited: waiting never helps the operator.
    function test_LapsedSeedMeansAudited() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.001 ether);
        vm.roll(block.number + 300); // blockhash serves 256 blocks; no EIP-2935 history here
        vm.warp(block.timestamp + 2 hours); // even after the challenge window
        assertTrue(desk.evaluateAudit(jobId), "audited");
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertEq(uint8(p.state), uint8(IJobMarket.JobState.Disputed), "in front of the committee");
        assertEq(p.challenger, address(desk), "the desk challenges");
        vm.expectRevert();
        market.finalize(jobId);
    }

    /// Issue #12 ("stake added after a job was submitted cannot sit on its jury"): the operator lets its audit's
    /// seed lapse (audited whenever evaluated), stakes a sybil juror with twice the pool's seats, waits out its
    /// maturity and only then evaluates. The jury is still drawn from the stake matured by the job's challenge
    /// window's end: the sybil never sits.
    function test_ALateAuditIsDrawnFromTheStakeOfTheJobsTime() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.001 ether);
        vm.roll(block.number + 300); // the seed lapses: audited, whenever evaluated
        address sybil = ops[2];
        vm.deal(sybil, 100 ether);
        _joinPool(sybil, 40 * pool.seatSize()); // after the job's submission, matured by now
        assertTrue(block.timestamp > market.getProgress(jobId).challengeEnds, "evaluated after the window");
        assertTrue(desk.evaluateAudit(jobId), "audited");
        uint256 disputeId = market.getProgress(jobId).disputeId;
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        uint256 seated;
        for (uint256 i = 0; i < 5; ++i) {
            seated += committee.seatsOf(disputeId, verifiers[i]);
        }
        assertEq(seated, 3, "the three seats are the verifiers' that staked before the job");
        assertEq(committee.seatsOf(disputeId, sybil), 0, "stake added after the job never sits on its jury");
    }

    /// An audit the pool cannot pay for is refused whole; funding the pool lets it through.
    function test_ShortPoolRefusesAndChangesNothing() public {
        _setRates(SAFETY, 10_000);
        uint256 jobId = _submitted(0.01 ether);
        vm.roll(block.number + 1);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.AuditPoolShort.selector, jobId, FEE, 0));
        desk.evaluateAudit(jobId);
        assertEq(uint8(desk.auditOf(jobId).state), uint8(IDisputeDesk.AuditState.Pending), "still pending");
        vm.expectEmit(address(desk));
        emit IDisputeDesk.AuditPoolFunded(address(this), FEE, FEE);
        desk.fundAuditPool{value: FEE}();
        assertTrue(desk.evaluateAudit(jobId), "audited once funded");
        assertEq(desk.auditPool(), 0, "the fee advanced");
    }

    /// A challenge that came first makes the audit moot: the committee already looks. A draw that falls on the
    /// job is refused; one that does not clears the audit of a job that is never finalized.
    function test_ChallengedJobNeedsNoAudit() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.01 ether);
        uint256 cost = desk.challengeCost(jobId);
        vm.prank(watcher);
        desk.challenge{value: cost}(jobId);
        uint256 snap = vm.snapshotState();
        _forceDraw(jobId, true);
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.NotChallengeable.selector, jobId, IJobMarket.JobState.Disputed)
        );
        desk.evaluateAudit(jobId);
        vm.revertToState(snap);
        _forceDraw(jobId, false);
        assertTrue(!desk.evaluateAudit(jobId), "cleared");
        assertEq(desk.auditPool(), 1 ether, "no fee spent");
        assertEq(uint8(market.getProgress(jobId).state), uint8(IJobMarket.JobState.Disputed), "still disputed");
    }

    /*//////////////////////////////////////////////////////////////
                      AUDITED: THE WHOLE FLOW
    //////////////////////////////////////////////////////////////*/

    /// Garbage nobody challenged is audited and ruled 2: the buyer refunded, the whole bond slashed, the fee
    /// refunded to the audit pool with the unburned rest; the cheat ends poorer than an honest runner of the
    /// same job (who keeps F − π).
    function test_AuditCatchesUnchallengedGarbage() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.01 ether);
        uint256 bond = market.getProgress(jobId).bond;
        uint256 stakeBefore = operators.getOperator(ops[0]).stake;
        _forceDraw(jobId, true);
        assertTrue(desk.evaluateAudit(jobId), "audited");
        assertEq(desk.auditPool(), 1 ether - FEE, "the pool advanced the fee");
        uint256 disputeId = market.getProgress(jobId).disputeId;
        assertEq(desk.poolOf(jobId).tickets, 0, "no ticket");

        _runDispute(disputeId, [uint256(2), 2, 2]);

        assertEq(operators.getOperator(ops[0]).stake, stakeBefore - bond, "the whole bond slashed");
        assertEq(market.balanceOf(ops[0], address(0)), 0, "the cheat is not paid");
        assertEq(market.balanceOf(buyer, address(0)), 0.01 ether, "the buyer refunded in full");
        uint256 burned = (bond - FEE) / 2;
        assertEq(desk.totalBurned(), burned, "half of (bond - fee) burned");
        assertEq(desk.auditPool(), 1 ether - FEE + FEE + (bond - FEE - burned), "fee back + the rest to the pool");
        _assertMarketSolvent();
    }

    /// An honest job that happens to be audited is upheld and paid F − π; the premium reaches the audit pool.
    function test_AuditedHonestJobIsPaid() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.01 ether);
        _forceDraw(jobId, true);
        desk.evaluateAudit(jobId);
        _runDispute(market.getProgress(jobId).disputeId, [uint256(1), 1, 1]);
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        uint256 premium = desk.auditOf(jobId).premium;
        uint256 fee = t.payment - t.royalty - t.protocolFee;
        assertEq(market.balanceOf(ops[0], address(0)), fee - premium, "paid F - premium");
        assertEq(uint8(market.getProgress(jobId).state), uint8(IJobMarket.JobState.Resolved), "resolved");
        desk.pullAuditFunds();
        assertEq(desk.auditPool(), 1 ether - FEE + premium, "the pool paid the audit, got the premium");
        _assertMarketSolvent();
    }

    /// An audit whose input the jurors cannot fetch rules 3: the buyer is refunded, the operator pays the fee the
    /// audit pool advanced and what a ruling of 2 would burn out of its bond, and the pool gets the fee back (input
    /// availability, issue #12).
    function test_AuditOfAnUnfetchableInputRefundsTheAuditPool() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.01 ether);
        uint256 stakeBefore = operators.getOperator(ops[0]).stake;
        _forceDraw(jobId, true);
        desk.evaluateAudit(jobId);
        assertEq(desk.auditPool(), 1 ether - FEE, "the pool advanced the fee");
        _runDispute(market.getProgress(jobId).disputeId, [uint256(3), 3, 3]);
        assertEq(
            uint8(market.getProgress(jobId).closeReason),
            uint8(IJobMarket.CloseReason.InputUnavailable),
            "closed: input unavailable"
        );
        assertEq(market.balanceOf(buyer, address(0)), 0.01 ether, "the buyer refunded in full");
        uint256 burned = (market.getProgress(jobId).bond - FEE) / 2;
        assertEq(operators.getOperator(ops[0]).stake, stakeBefore - FEE - burned, "the fee and the burn");
        assertEq(operators.getOperator(ops[0]).locked, 0, "the rest of its bond released");
        assertEq(desk.auditPool(), 1 ether, "the fee is back in the audit pool");
        assertEq(desk.totalBurned(), burned, "what a ruling of 2 would burn");
        _assertMarketSolvent();
    }

    /// A watcher joins an audit's pool like any other: on ruling 2 it gets its bond and the unburned rest, and
    /// the audit pool its fee back.
    function test_WatcherJoinsAnAudit() public {
        desk.fundAuditPool{value: 1 ether}();
        uint256 jobId = _submitted(0.01 ether);
        _forceDraw(jobId, true);
        desk.evaluateAudit(jobId);
        uint256 disputeId = market.getProgress(jobId).disputeId;
        assertEq(desk.challengeCost(jobId), BOND, "joining costs the bond alone");
        vm.prank(watcher);
        assertEq(desk.challenge{value: BOND}(jobId), disputeId, "joined the audit");
        uint256 bond = market.getProgress(jobId).bond;

        _runDispute(disputeId, [uint256(2), 2, 2]);

        uint256 rest = bond - FEE - (bond - FEE) / 2;
        desk.collect(jobId, watcher);
        assertEq(desk.balanceOf(watcher, address(0)), BOND + rest, "bond + the unburned rest");
        assertEq(desk.auditPool(), 1 ether, "the fee back, nothing more");
        _assertMarketSolvent();
    }

    /// An audited job whose draw finds fewer free seats than its own plus `reserve`: the audit waits.
    /// @dev An audit opened and drawn with the committee's reserve set to `reserve`: its dispute and phase after the draw.
    function _auditDrawnWithReserve(uint16 reserve)
        internal
        returns (uint256 auditDispute, IReexecutionCommittee.Params memory cp, IReexecutionCommittee.Phase phase)
    {
        cp = committee.params();
        cp.auditReserve = reserve;
        vm.prank(owner);
        committee.setParams(cp);
        uint256 audited = _submitted(0.01 ether);
        _forceDraw(audited, true);
        desk.evaluateAudit(audited);
        auditDispute = market.getProgress(audited).disputeId;
        vm.roll(block.number + 2);
        committee.draw(auditDispute);
        (phase,,,,,,,) = committee.disputeInfo(auditDispute);
    }

    function _auditHeldByTheReserve(uint16 reserve)
        internal
        returns (uint256 auditDispute, IReexecutionCommittee.Params memory cp)
    {
        IReexecutionCommittee.Phase phase;
        (auditDispute, cp, phase) = _auditDrawnWithReserve(reserve);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Waiting), "the audit waits");
    }

    /// The reserve is added to the audit's own seats, not multiplied by them: 20 free seats seat an audit's 3 with a
    /// reserve of 10 (3 + 10 = 13) at once.
    function test_AnAuditThatLeavesTheReserveFreeDrawsAtOnce() public {
        desk.fundAuditPool{value: 1 ether}();
        assertEq(pool.freeSeats(), 20, "5 verifiers x 4 seats");
        (uint256 auditDispute,, IReexecutionCommittee.Phase phase) = _auditDrawnWithReserve(10);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Drawn), "drawn");
        assertTrue(committee.jurorsOf(auditDispute).length != 0, "jurors seated");
        assertEq(pool.freeSeats(), 17, "three seats locked, the reserve left free");
    }

    /// Seats for the audit and the reserve exactly (3 + 17 of the 20 free): it draws, leaving the reserve free.
    function test_AnAuditThatLeavesExactlyTheReserveFreeDraws() public {
        desk.fundAuditPool{value: 1 ether}();
        (,, IReexecutionCommittee.Phase phase) = _auditDrawnWithReserve(17);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Drawn), "drawn");
        assertEq(pool.freeSeats(), 17, "the reserve left free");
    }

    /// Challenges have priority over audits for juror seats: with fewer free seats than an audit's plus the
    /// reserve, the audit waits while a challenge on the same pool draws; it is retried once the reserve allows.
    function test_AuditWaitsForTheReserveAChallengeDoesNot() public {
        desk.fundAuditPool{value: 1 ether}();
        // The suite's pool holds 20 free seats (5 verifiers x 4): a reserve of 18 leaves a challenge its 3 seats
        // and refuses an audit's 3 + 18.
        (uint256 auditDispute, IReexecutionCommittee.Params memory cp) = _auditHeldByTheReserve(18);
        IReexecutionCommittee.Phase phase;

        uint256 challenged = _submitted(0.01 ether);
        uint256 cost = desk.challengeCost(challenged);
        vm.prank(watcher);
        uint256 challengeDispute = desk.challenge{value: cost}(challenged);
        vm.roll(block.number + 2);
        committee.draw(challengeDispute);
        (phase,,,,,,,) = committee.disputeInfo(challengeDispute);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Drawn), "the challenge draws");

        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.NotEnoughFreeSeats.selector, auditDispute, pool.freeSeats(), 3 + 18
            )
        );
        committee.retry(auditDispute);
        cp.auditReserve = 0;
        vm.prank(owner);
        committee.setParams(cp);
        committee.retry(auditDispute);
        vm.roll(block.number + 2);
        committee.draw(auditDispute);
        (phase,,,,,,,) = committee.disputeInfo(auditDispute);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Drawn), "drawn once the reserve allows it");
    }

    /// A review found that a reserve larger than a thin pool's free seats held every audit until its 30-day expiry,
    /// whose ruling 0 returns the audited cheat's bond. The priority lasts a day: then the audit draws on its own
    /// seats, reserve or not.
    function test_AnAuditYieldsToChallengesForADayOnly() public {
        desk.fundAuditPool{value: 1 ether}();
        // More seats than the pool will ever hold.
        (uint256 auditDispute,) = _auditHeldByTheReserve(1000);
        IReexecutionCommittee.Phase phase;
        vm.warp(block.timestamp + committee.AUDIT_PRIORITY() - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.NotEnoughFreeSeats.selector, auditDispute, pool.freeSeats(), 3 + 1000
            )
        );
        committee.retry(auditDispute);
        vm.warp(block.timestamp + 1);
        committee.retry(auditDispute);
        // The priority is over for good: a draw after the day's end, not only at it, draws too.
        vm.warp(block.timestamp + 1);
        vm.roll(block.number + 2);
        committee.draw(auditDispute);
        (phase,,,,,,,) = committee.disputeInfo(auditDispute);
        assertEq(uint8(phase), uint8(IReexecutionCommittee.Phase.Drawn), "a day later it draws on its own seats");
    }

    /*//////////////////////////////////////////////////////////////
                              ACCESS
    //////////////////////////////////////////////////////////////*/

    function test_OnlyTheMarketSchedules() public {
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.NotMarket.selector, address(this)));
        desk.scheduleAudit(1, address(0), 1 ether, 1 ether, 5000);
    }

    function test_AuditParamsBoundedAndOwned() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        desk.setAuditParams(IDisputeDesk.AuditParams(SAFETY, 0));
        vm.startPrank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "safetyBps", 50_001, 0, 50_000)
        );
        desk.setAuditParams(IDisputeDesk.AuditParams(50_001, 0));
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "minRateBps", 10_001, 0, 10_000)
        );
        desk.setAuditParams(IDisputeDesk.AuditParams(SAFETY, 10_001));
        vm.expectEmit(address(desk));
        emit IDisputeDesk.AuditParamsUpdated(IDisputeDesk.AuditParams(20_000, 10_000));
        desk.setAuditParams(IDisputeDesk.AuditParams(20_000, 10_000));
        vm.stopPrank();
        (uint16 safetyBps, uint16 minRateBps) = desk.auditParams();
        assertEq(safetyBps, 20_000, "set");
        assertEq(minRateBps, 10_000, "set");
    }

    /// The pool pulls what the market owes it only when it is short: an audit the pool covers (exactly, or with
    /// more) leaves the premiums where they are (mutation survivors of `auditPool < cost`: `<=` and `!=`).
    function test_APoolThatCoversTheAuditPullsNothing() public {
        _setRates(0, 5000);
        uint256 owed = _paidTwoPremiums();
        assertEq(market.balanceOf(address(desk), address(0)), owed, "premiums owed to the desk");
        desk.fundAuditPool{value: FEE}();
        uint256 exact = _submitted(0.1 ether);
        _forceDraw(exact, true);
        assertTrue(desk.evaluateAudit(exact), "audited from a pool of exactly the fee");
        assertEq(desk.auditPool(), 0, "the fee advanced");
        assertEq(market.balanceOf(address(desk), address(0)), owed, "nothing pulled at exactly the fee");
        desk.fundAuditPool{value: 1 ether}();
        uint256 ample = _submitted(0.1 ether);
        _forceDraw(ample, true);
        assertTrue(desk.evaluateAudit(ample), "audited from an ample pool");
        assertEq(desk.auditPool(), 1 ether - FEE, "only the fee spent");
        assertEq(market.balanceOf(address(desk), address(0)), owed, "nothing pulled from an ample pool");
    }

    /// A job that never had an audit (no job at all here) cannot be evaluated (a survivor: `!=` to `>` on the
    /// audit's state, whose first value is None).
    function test_AJobWithoutAnAuditIsNotEvaluated() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.AuditNotPending.selector, 999, IDisputeDesk.AuditState.None)
        );
        desk.evaluateAudit(999);
    }

    /// The bounds themselves are accepted: a safety factor of exactly 5 and a minimum rate of exactly 1 (a
    /// survivor: `>` to `>=` on the safety bound).
    function test_AuditParamsAcceptTheirBounds() public {
        vm.prank(owner);
        desk.setAuditParams(IDisputeDesk.AuditParams(50_000, 10_000));
        (uint16 safetyBps, uint16 minRateBps) = desk.auditParams();
        assertEq(safetyBps, 50_000, "the largest safety factor");
        assertEq(minRateBps, 10_000, "the largest minimum rate");
    }

    /// Only the market and the committee pay into the pool through `receive`.
    function test_ReceiveRefusesStrangers() public {
        (bool ok,) = address(desk).call{value: 1}("");
        assertTrue(!ok, "refused");
    }
}
