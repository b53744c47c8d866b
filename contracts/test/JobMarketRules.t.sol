// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {JobMarket} from "../src/JobMarket.sol";
import {IArbitrable, IEvidence, IMetaEvidence} from "../src/interfaces/IArbitration.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {JobReceipt, JobRequest, ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {IDisputeDesk} from "../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";
import {FeeOnTransferToken, HookToken, MockToken, PhantomPermitToken} from "./utils/mocks/Tokens.sol";
import {EthRefuser, MockWallet} from "./utils/mocks/Wallets.sol";

/// @notice JobMarket rule by rule: every parameter bound, every state check, every window edge at −1, =
/// and +1 second, every event and stored field, and each ruling's payout to the wei.
contract JobMarketRulesTest is CairnSystem {
    /// @dev Deploys in a call of its own, for `vm.expectRevert`: under the `mutate` profile's dynamic test linking a
    /// `new` is a `deployCode` cheatcode, and an expected revert of it ended the whole test as passed (Foundry
    /// 1.7.1), so every check after it went unrun and mutants only they catch survived.
    function newJobMarket(
        address owner_,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        address desk_,
        address treasury_,
        IJobMarket.Params memory p
    ) external returns (JobMarket) {
        return new JobMarket(owner_, models_, operators_, desk_, treasury_, p);
    }

    uint256 internal constant PAY = 0.01 ether;
    uint256 internal constant FEE = PAY * 500 / 10_000;
    uint256 internal constant CHALLENGE = 0.08 ether; // challenge bond 0.05 + arbitration cost 0.03

    function setUp() public {
        setUpSystem();
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    function _oob(string memory name, uint256 value, uint256 min, uint256 max) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, name, value, min, max);
    }

    function _trySetParams(IJobMarket.Params memory p, bytes memory err) internal {
        if (err.length != 0) vm.expectRevert(err);
        vm.prank(owner);
        market.setParams(p);
    }

    function test_RevertWhen_ConstructedWithZeroAddresses() public {
        IJobMarket.Params memory p = defaultParams();
        address arb = address(desk);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "models"));
        this.newJobMarket(owner, IModelRegistry(address(0)), operators, arb, treasury, p);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "operators"));
        this.newJobMarket(owner, models, IOperatorRegistry(address(0)), arb, treasury, p);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "desk"));
        this.newJobMarket(owner, models, operators, address(0), treasury, p);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "treasury"));
        this.newJobMarket(owner, models, operators, arb, address(0), p);
        p.feeBps = 1001;
        vm.expectRevert(_oob("feeBps", 1001, 0, 1000));
        this.newJobMarket(owner, models, operators, arb, treasury, p);
    }

    function test_EveryParameterIsBoundedAtItsEdges() public {
        IJobMarket.Params memory p = defaultParams();
        p.feeBps = 1001;
        _trySetParams(p, _oob("feeBps", 1001, 0, 1000));
        p.feeBps = 1000;
        _trySetParams(p, "");
        p = defaultParams();
        p.bondBps = 50_001;
        _trySetParams(p, _oob("bondBps", 50_001, 0, 50_000));
        p.bondBps = 50_000;
        _trySetParams(p, "");
        p = defaultParams();
        p.claimPenaltyBps = 10_001;
        _trySetParams(p, _oob("claimPenaltyBps", 10_001, 0, 10_000));
        p.claimPenaltyBps = 10_000;
        _trySetParams(p, "");
        p = defaultParams();
        p.burnBps = 10_001;
        _trySetParams(p, _oob("burnBps", 10_001, 0, 10_000));
        p.burnBps = 10_000;
        _trySetParams(p, "");

        p = defaultParams();
        p.claimTimeout = 59;
        _trySetParams(p, _oob("claimTimeout", 59, 60, 14 days));
        p.claimTimeout = 14 days + 1;
        _trySetParams(p, _oob("claimTimeout", 14 days + 1, 60, 14 days));
        p.claimTimeout = 60;
        _trySetParams(p, "");
        p.claimTimeout = 14 days;
        _trySetParams(p, "");
        p = defaultParams();
        p.challengeWindow = 59;
        _trySetParams(p, _oob("challengeWindow", 59, 60, 14 days));
        p.challengeWindow = 14 days + 1;
        _trySetParams(p, _oob("challengeWindow", 14 days + 1, 60, 14 days));
        p.challengeWindow = 60;
        _trySetParams(p, "");
        p.challengeWindow = 14 days;
        _trySetParams(p, "");
        p = defaultParams();
        p.maxDeadline = 59;
        _trySetParams(p, _oob("maxDeadline", 59, 60, 90 days));
        p.maxDeadline = 90 days + 1;
        _trySetParams(p, _oob("maxDeadline", 90 days + 1, 60, 90 days));
        p.maxDeadline = 60;
        _trySetParams(p, "");
        p.maxDeadline = 90 days;
        _trySetParams(p, "");

        p = defaultParams();
        p.bondFloor = 0;
        _trySetParams(p, _oob("bondFloor", 0, 1, 100 ether));
        p.bondFloor = 100 ether + 1;
        _trySetParams(p, _oob("bondFloor", 100 ether + 1, 1, 100 ether));
        p.bondFloor = 100 ether;
        _trySetParams(p, "");
        p.bondFloor = 1;
        _trySetParams(p, "");
        p = defaultParams();
        p.challengeBond = 0;
        _trySetParams(p, _oob("challengeBond", 0, 1, 100 ether));
        p.challengeBond = 100 ether + 1;
        _trySetParams(p, _oob("challengeBond", 100 ether + 1, 1, 100 ether));
        p.challengeBond = 1;
        _trySetParams(p, "");
        p.challengeBond = 100 ether;
        _trySetParams(p, "");
    }

    function test_ParamsAreStoredAndAnnounced() public {
        IJobMarket.Params memory p = IJobMarket.Params({
            feeBps: 123,
            bondBps: 456,
            claimPenaltyBps: 789,
            burnBps: 1011,
            claimTimeout: 1213,
            challengeWindow: 1415,
            maxDeadline: 1617,
            bondFloor: 1819,
            challengeBond: 2021
        });
        vm.expectEmit(address(market));
        emit IJobMarket.ParamsUpdated(p);
        vm.prank(owner);
        market.setParams(p);
        IJobMarket.Params memory got = market.params();
        assertEq(keccak256(abi.encode(got)), keccak256(abi.encode(p)), "every field stored");
    }

    function test_RevertWhen_NotTheOwnerGoverns() public {
        bytes memory err = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this));
        IJobMarket.Params memory p = defaultParams();
        vm.expectRevert(err);
        market.setParams(p);
        vm.expectRevert(err);
        market.setTokenConfig(address(usdc), IJobMarket.TokenConfig(1, 1));
        vm.expectRevert(err);
        market.setTreasury(address(1));
        vm.expectRevert(err);
        market.pause();
        vm.expectRevert(err);
        market.unpause();
    }

    function test_TokenConfigIsBoundedStoredAndAnnounced() public {
        IJobMarket.TokenConfig memory c = IJobMarket.TokenConfig({bondRate: 1e36 + 1, minOperatorFee: 0});
        vm.expectRevert(_oob("bondRate", 1e36 + 1, 0, 1e36));
        vm.prank(owner);
        market.setTokenConfig(address(usdc), c);
        c = IJobMarket.TokenConfig({bondRate: 1e36, minOperatorFee: 7});
        vm.expectEmit(address(market));
        emit IJobMarket.TokenConfigUpdated(address(usdc), c);
        vm.prank(owner);
        market.setTokenConfig(address(usdc), c);
        assertEq(market.tokenConfig(address(usdc)).bondRate, 1e36, "rate");
        assertEq(market.tokenConfig(address(usdc)).minOperatorFee, 7, "minimum operator fee");
    }

    function test_TreasuryIsNeverZeroAndTakesLaterFees() public {
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "treasury"));
        vm.prank(owner);
        market.setTreasury(address(0));
        address next = address(0x7EA6);
        vm.expectEmit(address(market));
        emit IJobMarket.TreasuryUpdated(next);
        vm.prank(owner);
        market.setTreasury(next);
        assertEq(market.treasury(), next, "stored");
        uint256 jobId = _requestEth(PAY);
        _claimAndSubmit(jobId, 0);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        assertEq(market.balanceOf(next, address(0)), FEE, "fee to the new treasury");
        assertEq(market.balanceOf(treasury, address(0)), 0, "none to the old one");
    }

    function test_UnpauseReopensRequestsAndClaims() public {
        vm.prank(owner);
        market.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.requestJobWithSig(_signedRequest(1e6, 0), "", IJobMarket.Permit(0, 0, 0, 0));
        vm.prank(owner);
        market.unpause();
        uint256 jobId = _requestEth(PAY);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Claimed, "claimed after unpause");
    }

    /*//////////////////////////////////////////////////////////////
                                  BONDS
    //////////////////////////////////////////////////////////////*/

    function test_BondIsTheLargerOfTheFloorAndTheRate() public {
        assertEq(market.bondFor(address(0), 1 ether), 0.2 ether, "20% of an ETH payment");
        assertEq(market.bondFor(address(0), 0.05 ether + 5), 0.01 ether + 1, "just above the floor");
        assertEq(market.bondFor(address(0), 0.04 ether), 0.01 ether, "the floor");
        assertEq(market.bondFor(address(usdc), 100e6), 0.05 ether, "ERC-20: the token's rate");
        assertEq(market.bondFor(address(usdc), 1e6), 0.01 ether, "ERC-20: the floor");
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.TokenNotAccepted.selector, address(0xBEEF)));
        market.bondFor(address(0xBEEF), 1);

        uint256 jobId = _requestEth(1 ether);
        uint64 submitBy = uint64(block.timestamp + 10 minutes);
        vm.expectEmit(address(market));
        emit IJobMarket.JobClaimed(jobId, ops[0], 0.2 ether, submitBy);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertEq(p.operator, ops[0], "operator");
        assertEq(p.bond, 0.2 ether, "bond recorded");
        assertEq(p.submitBy, submitBy, "submit deadline");
        assertEq(operators.lockedBy(ops[0], address(market)), 0.2 ether, "bond locked");
    }

    function test_RevertWhen_TheModelsTokenHasNoBondRate() public {
        MockToken dai = new MockToken("DAI", 18);
        uint256 daiModel = _listModel(address(dai), 1, 0x1ff);
        dai.mint(buyer, 10e18);
        vm.startPrank(buyer);
        dai.approve(address(market), 1e18);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.TokenNotAccepted.selector, address(dai)));
        market.requestJob(daiModel, 1, INPUT, "c", address(dai), 1e18, 1, uint64(block.timestamp + 1 hours), 0);
        vm.stopPrank();
        assertEq(market.jobCount(), 0, "nothing requested");
    }

    /*//////////////////////////////////////////////////////////////
                                 REQUEST
    //////////////////////////////////////////////////////////////*/

    function test_RequestSnapshotsTheModelAndAnnouncesIt() public {
        uint64 deadline = uint64(block.timestamp + 1 hours);
        IJobMarket.JobTerms memory expected = IJobMarket.JobTerms({
            buyer: buyer,
            modelId: ethModel,
            modelVersion: 1,
            seller: seller,
            weightsDigest: WEIGHTS,
            runtime: RUNTIME,
            token: address(0),
            payment: PAY,
            royalty: PRICE,
            protocolFee: FEE,
            inputDigest: INPUT,
            regionMask: 0x1ff,
            deadline: deadline
        });
        vm.expectEmit(address(market));
        emit IJobMarket.JobRequested(1, buyer, ethModel, expected, "bafyinput");
        vm.expectEmit(address(market));
        emit IMetaEvidence.MetaEvidence(1, "ipfs://bafyinput");
        uint256 jobId = _requestEth(PAY);
        assertEq(jobId, 1, "first id");
        assertEq(market.jobCount(), 1, "counted");
        assertEq(_requestEth(PAY), 2, "ids run on");
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        assertEq(t.buyer, buyer, "buyer");
        assertEq(t.modelId, ethModel, "model");
        assertEq(t.modelVersion, 1, "version");
        assertEq(t.seller, seller, "seller");
        assertEq(t.weightsDigest, WEIGHTS, "weights");
        assertEq(t.runtime, RUNTIME, "runtime");
        assertEq(t.token, address(0), "token");
        assertEq(t.payment, PAY, "payment");
        assertEq(t.royalty, PRICE, "royalty");
        assertEq(t.protocolFee, FEE, "fee");
        assertEq(t.inputDigest, INPUT, "input");
        assertEq(t.regionMask, 0x1ff, "regions: the model's");
        assertEq(t.deadline, deadline, "deadline");
        assertEq(market.escrowed(address(0)), 2 * PAY, "both escrowed");
        assertEq(address(market).balance, 2 * PAY, "held");
    }

    function test_LaterModelChangesNeverTouchARequestedJob() public {
        uint256 jobId = _requestEth(PAY);
        // The seller raises the price, narrows the regions to EU and publishes new weights.
        vm.prank(seller);
        models.updateTerms(ethModel, PRICE * 2, 0, 0, 0x1);
        ModelManifest memory m = _manifest(address(0), PRICE * 3, 0x1);
        m.modelId = ethModel;
        m.manifestCid = "bafymanifest2";
        m.manifestDigest = keccak256("manifest2");
        m.weightsDigest = keccak256("weights v2");
        _register(m);

        _claimAndSubmit(jobId, 1); // a US operator, the old weights: both still this job's terms
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        assertEq(market.balanceOf(seller, address(0)), PRICE, "the price at request time");

        uint256 next = _requestEth(PAY);
        IJobMarket.JobTerms memory t = market.getTerms(next);
        assertEq(t.modelVersion, 2, "a new job takes the new version");
        assertEq(t.weightsDigest, keccak256("weights v2"), "and its weights");
        assertEq(t.royalty, PRICE * 3, "and its price");
        assertEq(t.regionMask, 0x1, "and its regions");
    }

    function test_RequestNarrowsTheRegionsToTheModels() public {
        vm.prank(seller);
        models.updateTerms(ethModel, PRICE, 0, 0, 0x9); // EU and US
        vm.prank(buyer);
        uint256 jobId = market.requestJob{value: PAY}(
            ethModel,
            1,
            INPUT,
            "c",
            address(0),
            PAY,
            PRICE,
            uint64(block.timestamp + 1 hours),
            0x41 // EU and JP
        );
        assertEq(market.getTerms(jobId).regionMask, 0x1, "only EU is in both");
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.RegionNotAllowed.selector, 0x1, 6));
        vm.prank(ops[2]);
        market.claim(jobId, ops[2]);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.RegionNotAllowed.selector, 0x40, type(uint8).max));
        vm.prank(buyer);
        market.requestJob{value: PAY}(
            ethModel, 1, INPUT, "c", address(0), PAY, PRICE, uint64(block.timestamp + 1 hours), 0x40
        );
    }

    function test_RequestDeadlineEdges() public {
        uint64 max = uint64(block.timestamp + 7 days);
        vm.startPrank(buyer);
        uint256 a =
            market.requestJob{value: PAY}(ethModel, 1, INPUT, "c", address(0), PAY, PRICE, uint64(block.timestamp), 0);
        uint256 b = market.requestJob{value: PAY}(ethModel, 1, INPUT, "c", address(0), PAY, PRICE, max, 0);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.BadDeadline.selector, max + 1, block.timestamp));
        market.requestJob{value: PAY}(ethModel, 1, INPUT, "c", address(0), PAY, PRICE, max + 1, 0);
        vm.stopPrank();
        assertEq(market.getTerms(a).deadline, block.timestamp, "now is a valid deadline");
        assertEq(market.getTerms(b).deadline, max, "so is the longest");
    }

    function test_PaymentMustCoverRoyaltyFeeAndOperatorMinimum() public {
        // required = royalty + 5% fee + 1e12 minimum operator fee; solve for the smallest payment.
        uint256 below = (PRICE + 1e12) * 10_000 / 9500 + 10;
        while (below - below * 500 / 10_000 >= PRICE + 1e12) --below;
        uint256 exact = below + 1;
        uint64 deadline = uint64(block.timestamp + 1 hours);
        uint256 required = PRICE + (exact - 1) * 500 / 10_000 + 1e12;
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.InsufficientPayment.selector, exact - 1, required));
        vm.prank(buyer);
        market.requestJob{value: exact - 1}(ethModel, 1, INPUT, "c", address(0), exact - 1, PRICE, deadline, 0);
        uint256 jobId = _requestEth(exact);
        IJobMarket.JobTerms memory t = market.getTerms(jobId);
        assertEq(t.payment - t.royalty - t.protocolFee, 1e12, "the operator gets exactly its minimum");
    }

    function test_LicensedModelNeedsAValidLicense() public {
        ModelManifest memory m = _manifest(address(0), PRICE, 0x1ff);
        m.manifestCid = "bafylicensed";
        m.manifestDigest = keccak256("licensed");
        m.licensePrice = 0.1 ether;
        m.licensePeriod = 30 days;
        (uint256 licensed,) = _register(m);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.startPrank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.ModelUnavailable.selector, licensed, buyer));
        market.requestJob{value: PAY}(licensed, 1, INPUT, "c", address(0), PAY, PRICE, deadline, 0);
        models.buyLicense{value: 0.1 ether}(licensed, address(0), 0.1 ether, 30 days);
        uint256 jobId = market.requestJob{value: PAY}(licensed, 1, INPUT, "c", address(0), PAY, PRICE, deadline, 0);
        vm.stopPrank();
        assertEq(market.getTerms(jobId).modelId, licensed, "licensed buyer served");
        vm.warp(block.timestamp + 30 days + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.ModelUnavailable.selector, licensed, buyer));
        vm.prank(buyer);
        market.requestJob{value: PAY}(licensed, 1, INPUT, "c", address(0), PAY, PRICE, uint64(block.timestamp + 1), 0);
        vm.prank(seller);
        models.deprecate(ethModel);
        uint64 later = uint64(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.ModelUnavailable.selector, ethModel, buyer));
        vm.prank(buyer);
        market.requestJob{value: PAY}(ethModel, 1, INPUT, "c", address(0), PAY, PRICE, later, 0);
    }

    function test_RevertWhen_TokenPaymentIsWrong() public {
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.startPrank(buyer);
        usdc.approve(address(market), 5e6);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.UnexpectedEth.selector, 1));
        market.requestJob{value: 1}(usdcModel, 1, INPUT, "c", address(usdc), 5e6, USDC_PRICE, deadline, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.TokenMismatch.selector, usdcModel, address(usdc), address(0))
        );
        market.requestJob{value: 5e6}(usdcModel, 1, INPUT, "c", address(0), 5e6, USDC_PRICE, deadline, 0);
        vm.stopPrank();

        FeeOnTransferToken fot = new FeeOnTransferToken();
        vm.prank(owner);
        market.setTokenConfig(address(fot), IJobMarket.TokenConfig({bondRate: 1, minOperatorFee: 0}));
        uint256 fotModel = _listModel(address(fot), 1, 0x1ff);
        fot.mint(buyer, 1000);
        vm.startPrank(buyer);
        fot.approve(address(market), 1000);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.UnsupportedToken.selector, address(fot), 1000, 990));
        market.requestJob(fotModel, 1, INPUT, "c", address(fot), 1000, 1, deadline, 0);
        vm.stopPrank();
        assertEq(fot.balanceOf(buyer), 1000, "nothing taken");
        assertEq(market.jobCount(), 0, "nothing requested");
    }

    /*//////////////////////////////////////////////////////////////
                             SIGNED REQUESTS
    //////////////////////////////////////////////////////////////*/

    function _signedRequest(uint256 payment, uint256 nonce) internal view returns (JobRequest memory) {
        return JobRequest({
            buyer: buyer,
            modelId: usdcModel,
            version: 1,
            inputDigest: INPUT,
            inputCid: "bafyinput",
            token: address(usdc),
            payment: payment,
            maxPricePerCall: USDC_PRICE,
            deadline: uint64(block.timestamp + 1 hours),
            regionMask: 0,
            nonce: nonce
        });
    }

    function test_SignedRequestPaysFromTheBuyerNotTheRelayer() public {
        JobRequest memory req = _signedRequest(2e6, 0);
        bytes memory sig = _sig(buyerKey, market.requestDigest(req));
        vm.prank(buyer);
        usdc.approve(address(market), 2e6);
        address relayer = address(0x4E1A);
        vm.expectEmit(address(market));
        emit IJobMarket.JobRequested(
            1,
            buyer,
            usdcModel,
            IJobMarket.JobTerms({
                buyer: buyer,
                modelId: usdcModel,
                modelVersion: 1,
                seller: seller,
                weightsDigest: WEIGHTS,
                runtime: RUNTIME,
                token: address(usdc),
                payment: 2e6,
                royalty: USDC_PRICE,
                protocolFee: 2e6 * 500 / 10_000,
                inputDigest: INPUT,
                regionMask: 0x1ff,
                deadline: req.deadline
            }),
            "bafyinput"
        );
        vm.prank(relayer);
        uint256 jobId = market.requestJobWithSig(req, sig, IJobMarket.Permit(0, 0, 0, 0));
        assertEq(usdc.balanceOf(buyer), 1000e6 - 2e6, "paid by the buyer");
        assertEq(usdc.balanceOf(address(market)), 2e6, "held");
        assertEq(market.escrowed(address(usdc)), 2e6, "escrowed");
        assertEq(market.getTerms(jobId).buyer, buyer, "the buyer's job");
        assertEq(market.requestNonces(buyer), 1, "nonce used");
        assertEq(market.requestNonces(relayer), 0, "not the relayer's");

        req = _signedRequest(2e6, 1);
        req.deadline = uint64(block.timestamp - 1);
        sig = _sig(buyerKey, market.requestDigest(req));
        vm.prank(buyer);
        usdc.approve(address(market), 2e6);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.BadDeadline.selector, block.timestamp - 1, block.timestamp));
        market.requestJobWithSig(req, sig, IJobMarket.Permit(0, 0, 0, 0));
        assertEq(market.requestNonces(buyer), 1, "a refused request uses no nonce");
    }

    function test_NoPermitGivenNoneCalled() public {
        // A token without permit but with a fallback (WETH-style) answers any call: a request that
        // brings no permit must not call it (the allowance pays).
        PhantomPermitToken weth = new PhantomPermitToken();
        vm.prank(owner);
        market.setTokenConfig(address(weth), IJobMarket.TokenConfig({bondRate: 1, minOperatorFee: 0}));
        uint256 model = _listModel(address(weth), 1, 0x1ff);
        weth.mint(buyer, 1e18);
        vm.prank(buyer);
        weth.approve(address(market), 1e18);
        JobRequest memory req = _signedRequest(1e18, 0);
        (req.modelId, req.token) = (model, address(weth));
        market.requestJobWithSig(req, _sig(buyerKey, market.requestDigest(req)), IJobMarket.Permit(0, 0, 0, 0));
        assertEq(weth.fallbackCalls(), 0, "no permit call");
        assertEq(weth.balanceOf(address(market)), 1e18, "paid by allowance");
    }

    function test_SignedRequestFromAContractWallet() public {
        MockWallet wallet = new MockWallet(buyer);
        usdc.mint(address(wallet), 3e6);
        vm.prank(address(wallet));
        usdc.approve(address(market), 3e6);
        JobRequest memory req = _signedRequest(3e6, 0);
        req.buyer = address(wallet);
        bytes memory sig = _sig(buyerKey, market.requestDigest(req));
        uint256 jobId = market.requestJobWithSig(req, sig, IJobMarket.Permit(0, 0, 0, 0));
        assertEq(market.getTerms(jobId).buyer, address(wallet), "ERC-1271 buyer");
        assertEq(usdc.balanceOf(address(wallet)), 0, "paid by the wallet");
    }

    function test_PermitGrantsTheAllowanceWhenNotFrontRun() public {
        JobRequest memory req = _signedRequest(2e6, 0);
        bytes memory sig = _sig(buyerKey, market.requestDigest(req));
        (uint8 v, bytes32 r, bytes32 s) =
            signPermit(buyerKey, usdc.DOMAIN_SEPARATOR(), buyer, address(market), 2e6, 0, block.timestamp);
        // Without the permit there is no allowance at all.
        vm.expectRevert();
        market.requestJobWithSig(req, sig, IJobMarket.Permit(0, 0, 0, 0));
        market.requestJobWithSig(req, sig, IJobMarket.Permit(block.timestamp, v, r, s));
        assertEq(usdc.nonces(buyer), 1, "the permit was used");
        assertEq(usdc.balanceOf(address(market)), 2e6, "and paid");
    }

    /*//////////////////////////////////////////////////////////////
                            CLAIM AND RESULT
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_JobIsUnknownOrInTheWrongState() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownJob.selector, 7));
        market.claim(7, ops[0]);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownJob.selector, 7));
        market.finalize(7);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownJob.selector, 7));
        market.cancel(7);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownJob.selector, 7));
        market.reopen(7);
        uint256 jobId = _requestEth(PAY);
        bytes memory requested =
            abi.encodeWithSelector(IJobMarket.WrongState.selector, jobId, IJobMarket.JobState.Requested);
        vm.expectRevert(requested);
        market.reopen(jobId);
        JobReceipt memory r = _receipt(jobId);
        vm.expectRevert(requested);
        market.submitResult(jobId, r, "");
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeDesk.NotChallengeable.selector, jobId, IJobMarket.JobState.Requested)
        );
        desk.challenge{value: CHALLENGE}(jobId);
        vm.expectRevert(requested);
        market.finalize(jobId);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        bytes memory claimed =
            abi.encodeWithSelector(IJobMarket.WrongState.selector, jobId, IJobMarket.JobState.Claimed);
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(claimed);
        market.cancel(jobId);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.InvalidRuling.selector, 42, 1));
        vm.prank(address(committee));
        desk.rule(42, 1);
    }

    function test_ReceiptMustNameThisJobAndItsInput() public {
        uint256 jobId = _requestEth(PAY);
        uint256 other = _requestEth(PAY);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        JobReceipt memory r = _receipt(other);
        bytes memory sig = _sig(opSignerKeys[0], market.receiptDigest(r));
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.ReceiptMismatch.selector, jobId, "jobId"));
        market.submitResult(jobId, r, sig);
        r = _receipt(jobId);
        r.inputDigest = keccak256("another input");
        sig = _sig(opSignerKeys[0], market.receiptDigest(r));
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.ReceiptMismatch.selector, jobId, "inputDigest"));
        market.submitResult(jobId, r, sig);
        r.inputDigest = INPUT;
        sig = _sig(opSignerKeys[0], market.receiptDigest(r));
        market.submitResult(jobId, r, sig); // the matching receipt is accepted
    }

    function test_ResultAtTheLastSecondOpensTheWindow() public {
        uint256 jobId = _requestEth(PAY);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        uint64 submitBy = market.getProgress(jobId).submitBy;
        vm.warp(submitBy);
        JobReceipt memory r = _receipt(jobId);
        vm.expectEmit(address(market));
        bytes memory sig = _sig(opSignerKeys[0], market.receiptDigest(r));
        emit IJobMarket.ResultSubmitted(jobId, ops[0], r, vm.addr(opSignerKeys[0]), sig, submitBy + 1 hours);
        market.submitResult(jobId, r, sig);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertTrue(p.state == IJobMarket.JobState.Submitted, "submitted");
        assertEq(p.outputDigest, r.outputDigest, "output recorded");
        assertEq(p.challengeEnds, submitBy + 1 hours, "window from submission");
    }

    function test_ReopenClearsTheClaimAndAnnouncesThePenalty() public {
        uint256 jobId = _requestEth(1 ether); // bond 0.2 ether, penalty 10% = 0.02 ether
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        vm.warp(block.timestamp + 10 minutes + 1);
        vm.expectEmit(address(market));
        emit IJobMarket.ClaimExpired(jobId, ops[0], 0.02 ether);
        market.reopen(jobId);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertTrue(p.state == IJobMarket.JobState.Requested, "open again");
        assertEq(p.operator, address(0), "no operator");
        assertEq(p.bond, 0, "no bond");
        assertEq(p.submitBy, 0, "no submit deadline");
        assertEq(market.balanceOf(treasury, address(0)), 0.02 ether, "penalty to the treasury");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "the rest released");
        assertEq(operators.getOperator(ops[0]).stake, 5 ether - 0.02 ether, "stake cut by the penalty");
        assertEq(address(market).balance, 1 ether + 0.02 ether, "escrow + penalty held");
        _assertMarketSolvent();
    }

    /*//////////////////////////////////////////////////////////////
                           CHALLENGE, SETTLEMENT
    //////////////////////////////////////////////////////////////*/

    function _submitted() internal returns (uint256 jobId) {
        jobId = _requestEth(PAY);
        _claimAndSubmit(jobId, 0);
    }

    function test_ChallengeRecordsTheDisputeAndAnnouncesIt() public {
        uint256 jobId = _submitted();
        vm.expectEmit(address(desk));
        emit IEvidence.Dispute(address(committee), 1, jobId, jobId);
        vm.expectEmit(address(market));
        emit IJobMarket.JobChallenged(jobId, challenger, 1, 0.05 ether);
        vm.prank(challenger);
        uint256 disputeId = desk.challenge{value: CHALLENGE}(jobId);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertTrue(p.state == IJobMarket.JobState.Disputed, "disputed");
        assertEq(p.challenger, challenger, "challenger");
        assertEq(p.challengeBond, 0.05 ether, "bond");
        assertEq(p.disputeId, disputeId, "dispute");
        assertEq(desk.jobOfDispute(disputeId), jobId, "dispute -> job");
        assertEq(desk.challengePoolsHeld(), 0.05 ether, "bond held");
        assertEq(address(committee).balance, 0.03 ether, "arbitration cost forwarded");
        assertEq(address(market).balance, PAY, "escrow held");
        assertEq(address(desk).balance, 0.05 ether, "bond held by the desk");
        uint256 second = _submitted();
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, CHALLENGE, CHALLENGE + 1));
        desk.challenge{value: CHALLENGE + 1}(second);
    }

    function test_ConcurrentJobsKeepEachOthersEscrowAndBonds() public {
        // Two jobs of different payments, both challenged: settling one leaves exactly the other's
        // escrow and challenge bond held.
        uint256 a = _submitted();
        uint256 b = _requestEth(3 * PAY);
        _claimAndSubmit(b, 1);
        vm.startPrank(challenger);
        uint256 da = desk.challenge{value: CHALLENGE}(a);
        uint256 db = desk.challenge{value: CHALLENGE}(b);
        vm.stopPrank();
        vm.roll(block.number + 2);
        committee.draw(da); // juries drawn: the fees are spent (a ruling without jurors refunds no fee)
        committee.draw(db);
        assertEq(desk.challengePoolsHeld(), 2 * 0.05 ether, "both bonds held");
        assertEq(market.escrowed(address(0)), 4 * PAY, "both payments escrowed");
        vm.prank(address(committee));
        desk.rule(da, 1); // upheld: a settles
        assertEq(desk.challengePoolsHeld(), 0.05 ether, "b's bond still held");
        assertEq(market.escrowed(address(0)), 3 * PAY, "b's payment still escrowed");
        vm.prank(address(committee));
        desk.rule(db, 2); // wrong: b is refunded
        // b's bond (the 0.01 ETH floor) only refunds part of the 0.03 ETH fee: nothing burned, no share.
        assertEq(desk.challengePoolsHeld(), 0.05 ether, "the ticket's bond, until collected");
        desk.collect(b, challenger);
        assertEq(desk.challengePoolsHeld(), 0, "no bond left");
        assertEq(market.escrowed(address(0)), 0, "no escrow left");
        assertEq(desk.totalBurned(), 0.025 ether, "a's burn counted");

        uint256 c = _submitted();
        uint256 d = _requestEth(3 * PAY);
        _claimAndSubmit(d, 1);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(c);
        assertEq(market.escrowed(address(0)), 3 * PAY, "finalizing c leaves d's escrow");
        uint256 e = _submittedAfter();
        vm.prank(challenger);
        uint256 dd = desk.challenge{value: CHALLENGE}(e);
        vm.prank(address(committee));
        desk.rule(dd, 0); // refused: the third job is refunded
        assertEq(market.escrowed(address(0)), 3 * PAY, "refusing one leaves d's escrow");
        assertEq(address(market).balance, 3 * PAY + market.totalCredited(address(0)), "held = escrow + owed");
    }

    function _submittedAfter() internal returns (uint256 jobId) {
        jobId = _requestEth(PAY);
        _claimAndSubmit(jobId, 2);
    }

    function test_FinalizeAnnouncesTheSplit() public {
        uint256 jobId = _submitted();
        vm.warp(block.timestamp + 1 hours);
        vm.expectEmit(address(market));
        emit IJobMarket.PaymentSplit(jobId, PRICE, FEE, PAY - PRICE - FEE, 0);
        vm.expectEmit(address(market));
        emit IJobMarket.JobClosed(jobId, IJobMarket.JobState.Finalized, IJobMarket.CloseReason.Finalized);
        market.finalize(jobId);
        assertEq(market.totalCredited(address(0)), PAY, "the whole payment is owed to someone");
    }

    function test_CancelClosesAndAnnounces() public {
        uint256 jobId = _requestEth(PAY);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectEmit(address(market));
        emit IJobMarket.JobClosed(jobId, IJobMarket.JobState.Cancelled, IJobMarket.CloseReason.Expired);
        market.cancel(jobId);
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Cancelled, "cancelled");
        assertEq(market.escrowed(address(0)), 0, "escrow released");
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.WrongState.selector, jobId, IJobMarket.JobState.Cancelled));
        market.cancel(jobId);
    }

    function test_RulingAcceptableSettlesEveryWei() public {
        uint256 jobId = _submitted();
        vm.prank(challenger);
        uint256 disputeId = desk.challenge{value: CHALLENGE}(jobId);
        vm.expectEmit(address(desk));
        emit IArbitrable.Ruling(address(committee), disputeId, 1);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.Burned(jobId, 0.025 ether);
        vm.prank(address(committee));
        desk.rule(disputeId, 1);
        assertEq(desk.challengePoolsHeld(), 0, "bond no longer held");
        assertEq(market.escrowed(address(0)), 0, "escrow released");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "operator bond released");
        assertEq(operators.getOperator(ops[0]).jobsCompleted, 1, "counted as completed");
        assertEq(market.balanceOf(treasury, address(0)), FEE, "fee");
        assertEq(address(market).balance, market.totalCredited(address(0)), "holds exactly what it owes");
        assertEq(desk.balanceOf(ops[0], address(0)), 0.025 ether, "half the challenge bond to the operator");
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.NothingToCollect.selector, jobId, challenger));
        desk.collect(jobId, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputeDesk.InvalidRuling.selector, disputeId, 1));
        vm.prank(address(committee));
        desk.rule(disputeId, 1);
    }

    function test_RulingNotAcceptableOnATokenJobRefundsTheToken() public {
        vm.startPrank(buyer);
        usdc.approve(address(market), 100e6);
        uint256 jobId = market.requestJob(
            usdcModel, 1, INPUT, "bafyinput", address(usdc), 100e6, USDC_PRICE, uint64(block.timestamp + 1 hours), 0
        );
        vm.stopPrank();
        _claimAndSubmit(jobId, 0); // bond 0.05 ether at the token's rate
        vm.prank(challenger);
        uint256 disputeId = desk.challenge{value: CHALLENGE}(jobId);
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        vm.expectEmit(address(market));
        emit IJobMarket.JobClosed(jobId, IJobMarket.JobState.Resolved, IJobMarket.CloseReason.OperatorWrong);
        vm.expectEmit(address(desk));
        emit IDisputeDesk.Burned(jobId, 0.01 ether);
        vm.prank(address(committee));
        desk.rule(disputeId, 2);
        desk.collect(jobId, challenger);
        assertEq(market.balanceOf(buyer, address(usdc)), 100e6, "refunded in the token");
        assertEq(market.escrowed(address(usdc)), 0, "escrow released");
        // The 0.05 ETH bond slashed: 0.03 refunds the arbitration fee, half the other 0.02 is burned.
        assertEq(desk.balanceOf(challenger, address(0)), 0.03 ether + 0.05 ether + 0.01 ether, "fee + bond + share");
        assertEq(operators.getOperator(ops[0]).stake, 5 ether - 0.05 ether, "bond slashed");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "nothing left locked");
        assertEq(operators.getOperator(ops[0]).jobsCompleted, 0, "not completed");
        assertEq(desk.totalBurned(), 0.01 ether, "burned");
        assertEq(desk.challengePoolsHeld(), 0, "bond no longer held");
        assertEq(address(market).balance, market.totalCredited(address(0)), "ETH: exactly what it owes");
        assertEq(address(desk).balance, desk.totalCredited(address(0)), "desk: exactly what it owes");
        assertEq(usdc.balanceOf(address(market)), market.totalCredited(address(usdc)), "USDC: exactly what it owes");
    }

    function test_RulingRefusedReturnsEverythingButTheArbitrationCost() public {
        uint256 jobId = _submitted();
        vm.prank(challenger);
        uint256 disputeId = desk.challenge{value: CHALLENGE}(jobId);
        vm.expectEmit(address(market));
        emit IJobMarket.JobClosed(jobId, IJobMarket.JobState.Resolved, IJobMarket.CloseReason.ArbitratorRefused);
        vm.prank(address(committee));
        desk.rule(disputeId, 0);
        desk.collect(jobId, challenger);
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertTrue(p.state == IJobMarket.JobState.Resolved, "resolved");
        assertTrue(p.closeReason == IJobMarket.CloseReason.ArbitratorRefused, "refused");
        assertEq(market.balanceOf(buyer, address(0)), PAY, "buyer refunded");
        assertEq(desk.balanceOf(challenger, address(0)), 0.05 ether, "challenge bond back");
        assertEq(market.balanceOf(ops[0], address(0)), 0, "operator unpaid");
        assertEq(operators.lockedBy(ops[0], address(market)), 0, "bond released");
        assertEq(operators.getOperator(ops[0]).stake, 5 ether, "not slashed");
        assertEq(desk.totalBurned(), 0, "nothing burned");
        assertEq(market.escrowed(address(0)), 0, "escrow released");
        assertEq(desk.challengePoolsHeld(), 0, "bond no longer held");
        assertEq(address(market).balance, market.totalCredited(address(0)), "holds exactly what it owes");
    }

    function test_SelfDisputeToStallCostsTheStaller() public {
        uint256 jobId = _submitted();
        vm.deal(ops[0], 10 ether);
        uint256 before = ops[0].balance;
        vm.prank(ops[0]);
        uint256 disputeId = desk.challenge{value: CHALLENGE}(jobId);
        // The committee excludes the accused (who is also the challenger) and upholds the result.
        _runDispute(disputeId, [uint256(1), 1, 1]);
        vm.startPrank(ops[0]);
        market.withdraw(address(0));
        desk.withdraw(address(0));
        vm.stopPrank();
        uint256 operatorFee = PAY - PRICE - FEE;
        assertEq(ops[0].balance, before - CHALLENGE + operatorFee + 0.025 ether, "the stall cost half the bond + fee");
        assertTrue(ops[0].balance < before + operatorFee, "stalling never pays");
    }

    /*//////////////////////////////////////////////////////////////
                                WITHDRAW
    //////////////////////////////////////////////////////////////*/

    function test_WithdrawPaysTokensAndRefusesEmptyBalances() public {
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NothingToWithdraw.selector, seller, address(usdc)));
        vm.prank(seller);
        market.withdraw(address(usdc));
        vm.startPrank(buyer);
        usdc.approve(address(market), 5e6);
        uint256 jobId = market.requestJob(
            usdcModel, 1, INPUT, "c", address(usdc), 5e6, USDC_PRICE, uint64(block.timestamp + 1 hours), 0
        );
        vm.stopPrank();
        _claimAndSubmit(jobId, 1);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        vm.expectEmit(address(market));
        emit ICairnCommon.Withdrawn(seller, address(usdc), USDC_PRICE);
        vm.prank(seller);
        market.withdraw(address(usdc));
        assertEq(usdc.balanceOf(seller), USDC_PRICE, "royalty paid out");
        assertEq(market.balanceOf(seller, address(usdc)), 0, "balance cleared");
        assertEq(market.totalCredited(address(usdc)), 5e6 - USDC_PRICE, "the others still owed");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NothingToWithdraw.selector, seller, address(usdc)));
        vm.prank(seller);
        market.withdraw(address(usdc));
    }

    function test_ARefusingRecipientBlocksOnlyItself() public {
        EthRefuser refuser = new EthRefuser();
        vm.prank(owner);
        market.setTreasury(address(refuser));
        uint256 jobId = _submitted();
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.EthTransferFailed.selector, address(refuser), FEE));
        refuser.call(address(market), abi.encodeCall(market.withdraw, (address(0))));
        assertEq(market.balanceOf(address(refuser), address(0)), FEE, "still owed");
        vm.prank(seller);
        market.withdraw(address(0));
        assertEq(seller.balance, PRICE, "others are paid");
    }

    /*//////////////////////////////////////////////////////////////
                               REENTRANCY
    //////////////////////////////////////////////////////////////*/

    function test_EveryMoneyMovingEntryIsGuardedAgainstReentry() public {
        HookToken hook = new HookToken();
        uint256 hookModel = _listModel(address(hook), 1, 0x1ff);
        vm.prank(owner);
        market.setTokenConfig(address(hook), IJobMarket.TokenConfig({bondRate: 1, minOperatorFee: 0}));
        hook.mint(buyer, 10e18);
        vm.prank(buyer);
        hook.approve(address(market), 10e18);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        JobRequest memory req = _signedRequest(1e6, 0);
        JobReceipt memory r = _receipt(1);
        bytes[10] memory calls = [
            abi.encodeCall(market.requestJob, (ethModel, 1, INPUT, "c", address(0), 0, PRICE, deadline, 0)),
            abi.encodeCall(market.requestJobWithSig, (req, "", IJobMarket.Permit(0, 0, 0, 0))),
            abi.encodeCall(market.claim, (1, ops[0])),
            abi.encodeCall(market.reopen, (1)),
            abi.encodeCall(market.releaseClaim, (1)),
            abi.encodeCall(market.settleDisputed, (1, 1, 0)),
            abi.encodeCall(market.finalize, (1)),
            abi.encodeCall(market.cancel, (1)),
            abi.encodeCall(market.withdraw, (address(0))),
            abi.encodeCall(market.submitResult, (1, r, ""))
        ];
        // The token calls back into the market while the buyer's payment is being pulled (job 1 exists
        // by then). Every guarded entry refuses; submitResult is unguarded (it moves no money) and fails
        // on its own checks instead.
        for (uint256 i = 0; i < calls.length; ++i) {
            hook.setHook(address(market), calls[i]);
            if (i < 9) {
                vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
            } else {
                vm.expectRevert(
                    abi.encodeWithSelector(IJobMarket.WrongState.selector, 1, IJobMarket.JobState.Requested)
                );
            }
            vm.prank(buyer);
            market.requestJob(hookModel, 1, INPUT, "c", address(hook), 1e18, 1, deadline, 0);
        }
        assertEq(market.jobCount(), 0, "nothing requested");
    }
}
