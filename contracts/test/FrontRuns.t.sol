// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {JobRequest, ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";
import {MockToken} from "./utils/mocks/Tokens.sol";

/// @notice Issue #11, item 1: a seller who changes a model's terms in front of a buyer's transaction (raises
/// the price, shortens the licence, switches the token, publishes a new version) makes the buyer's licence
/// purchase or job request revert with the bound it broke, named with its values, and nothing moves: no
/// balance, allowance, permit nonce, escrow, pull balance, licence expiry, request nonce or job count. Under
/// interface v1 the same transactions went through at the new terms (or failed on some other check).
contract FrontRunsTest is CairnSystem {
    uint256 internal constant ETH_LICENSE = 0.1 ether;
    uint256 internal constant USDC_LICENSE = 50e6;
    uint64 internal constant PERIOD = 30 days;
    uint256 internal constant PAY = 0.01 ether;

    MockToken internal dai;
    uint256 internal ethLicensed;
    uint256 internal usdcLicensed;

    function setUp() public {
        setUpSystem();
        dai = new MockToken("DAI", 18);
        vm.prank(owner);
        market.setTokenConfig(address(dai), IJobMarket.TokenConfig({bondRate: 5e14, minOperatorFee: 0}));
        dai.mint(buyer, 1000e18);
        ethLicensed = _licensedModel(address(0), ETH_LICENSE);
        usdcLicensed = _licensedModel(address(usdc), USDC_LICENSE);
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    function _licensedModel(address token, uint256 price) internal returns (uint256 modelId) {
        ModelManifest memory m = _manifest(token, token == address(0) ? PRICE : USDC_PRICE, 0x1ff);
        (m.licensePrice, m.licensePeriod) = (price, PERIOD);
        (modelId,) = _register(m);
    }

    /// @dev The seller publishes a new version of `modelId` paid in `token`: new weights, the same price per
    /// call, regions and licence period, a licence (if any) priced in the new token.
    function _newVersion(uint256 modelId, address token) internal returns (uint64 version) {
        IModelRegistry.ModelVersion memory v = models.getVersion(modelId, models.getModel(modelId).latestVersion);
        ModelManifest memory m = _manifest(token, v.pricePerCall, v.regionMask);
        m.modelId = modelId;
        m.weightsDigest = keccak256("weights v2");
        uint256 licensePrice = token == address(usdc) ? USDC_LICENSE : 50e18;
        (m.licensePrice, m.licensePeriod) = (v.licensePrice == 0 ? 0 : licensePrice, v.licensePeriod);
        (, version) = _register(m);
    }

    /// @dev The buyer's standing (unlimited) allowances, as many wallets leave them.
    function _standingAllowances() internal {
        vm.startPrank(buyer);
        usdc.approve(address(models), type(uint256).max);
        dai.approve(address(models), type(uint256).max);
        usdc.approve(address(market), type(uint256).max);
        dai.approve(address(market), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Everything a front-run purchase or request could move, for the buyer and both contracts.
    function _books() internal view returns (uint256[] memory v) {
        address[3] memory tokens = [address(0), address(usdc), address(dai)];
        v = new uint256[](35);
        uint256 i;
        for (uint256 t = 0; t < 3; ++t) {
            v[i++] = _balance(tokens[t], buyer);
            v[i++] = _balance(tokens[t], seller);
            v[i++] = _balance(tokens[t], address(models));
            v[i++] = _balance(tokens[t], address(market));
            v[i++] = models.balanceOf(seller, tokens[t]);
            v[i++] = models.totalCredited(tokens[t]);
            v[i++] = market.totalCredited(tokens[t]);
            v[i++] = market.escrowed(tokens[t]);
        }
        v[i++] = usdc.allowance(buyer, address(models));
        v[i++] = dai.allowance(buyer, address(models));
        v[i++] = usdc.allowance(buyer, address(market));
        v[i++] = dai.allowance(buyer, address(market));
        v[i++] = usdc.nonces(buyer);
        v[i++] = dai.nonces(buyer);
        v[i++] = models.licenseExpiry(ethLicensed, buyer);
        v[i++] = models.licenseExpiry(usdcLicensed, buyer);
        v[i++] = market.jobCount();
        v[i++] = market.requestNonces(buyer);
        v[i++] = models.modelCount();
    }

    function _bookNames() internal pure returns (string[35] memory) {
        return [
            "buyer ETH",
            "seller ETH",
            "registry ETH",
            "market ETH",
            "seller's ETH credit",
            "registry ETH owed",
            "market ETH owed",
            "ETH escrowed",
            "buyer USDC",
            "seller USDC",
            "registry USDC",
            "market USDC",
            "seller's USDC credit",
            "registry USDC owed",
            "market USDC owed",
            "USDC escrowed",
            "buyer DAI",
            "seller DAI",
            "registry DAI",
            "market DAI",
            "seller's DAI credit",
            "registry DAI owed",
            "market DAI owed",
            "DAI escrowed",
            "USDC allowance to the registry",
            "DAI allowance to the registry",
            "USDC allowance to the market",
            "DAI allowance to the market",
            "USDC permit nonce",
            "DAI permit nonce",
            "ETH licence expiry",
            "USDC licence expiry",
            "job count",
            "request nonce",
            "model count"
        ];
    }

    function _balance(address token, address who) internal view returns (uint256) {
        return token == address(0) ? who.balance : MockToken(token).balanceOf(who);
    }

    function _assertNothingMoved(uint256[] memory before) internal view {
        uint256[] memory after_ = _books();
        string[35] memory names = _bookNames();
        for (uint256 i = 0; i < after_.length; ++i) {
            assertEq(after_[i], before[i], string.concat("unchanged: ", names[i]));
        }
    }

    function _permit(uint256 value) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        return signPermit(buyerKey, usdc.DOMAIN_SEPARATOR(), buyer, address(models), value, 0, block.timestamp);
    }

    /// @dev The buyer's v2 request for `modelId` at `version`, bounded by `maxPrice`, signed with the buyer's
    /// key over the market's `requestDigest`.
    function _signed(uint256 modelId, uint64 version, address token, uint256 maxPrice)
        internal
        view
        returns (JobRequest memory req, bytes memory sig)
    {
        req = JobRequest({
            buyer: buyer,
            modelId: modelId,
            version: version,
            inputDigest: INPUT,
            inputCid: "bafyinput",
            token: token,
            payment: 5e6,
            maxPricePerCall: maxPrice,
            deadline: uint64(block.timestamp + 1 hours),
            regionMask: 0,
            nonce: market.requestNonces(buyer)
        });
        sig = _sig(buyerKey, market.requestDigest(req));
    }

    function _priceAboveMax(uint256 modelId, uint256 price, uint256 maxPrice) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ICairnCommon.PriceAboveMax.selector, modelId, price, maxPrice);
    }

    function _tokenMismatch(uint256 modelId, address expected, address got) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ICairnCommon.TokenMismatch.selector, modelId, expected, got);
    }

    function _periodBelowMin(uint256 modelId, uint64 period, uint64 minPeriod) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IModelRegistry.PeriodBelowMin.selector, modelId, period, minPeriod);
    }

    function _versionNotLatest(uint256 modelId, uint64 latest, uint64 requested) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IJobMarket.VersionNotLatest.selector, modelId, latest, requested);
    }

    /*//////////////////////////////////////////////////////////////
                          LICENCES, PAID IN ETH
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_LicencePriceRaisedInFrontOfAnEthPurchase() public {
        vm.prank(seller);
        models.updateTerms(ethLicensed, PRICE, 2 * ETH_LICENSE, PERIOD, 0x1ff);
        uint256[] memory before = _books();
        vm.expectRevert(_priceAboveMax(ethLicensed, 2 * ETH_LICENSE, ETH_LICENSE));
        vm.prank(buyer);
        models.buyLicense{value: ETH_LICENSE}(ethLicensed, address(0), ETH_LICENSE, PERIOD);
        _assertNothingMoved(before);
        // The bound is inclusive: a buyer who accepts the new price gets the licence.
        vm.prank(buyer);
        models.buyLicense{value: 2 * ETH_LICENSE}(ethLicensed, address(0), 2 * ETH_LICENSE, PERIOD);
        assertEq(models.licenseExpiry(ethLicensed, buyer), block.timestamp + PERIOD, "bought at the accepted price");
    }

    function test_RevertWhen_LicencePeriodShortenedInFrontOfAnEthPurchase() public {
        vm.prank(seller);
        models.updateTerms(ethLicensed, PRICE, ETH_LICENSE, 1 days, 0x1ff);
        uint256[] memory before = _books();
        vm.expectRevert(_periodBelowMin(ethLicensed, 1 days, PERIOD));
        vm.prank(buyer);
        models.buyLicense{value: ETH_LICENSE}(ethLicensed, address(0), ETH_LICENSE, PERIOD);
        _assertNothingMoved(before);
        vm.prank(buyer);
        models.buyLicense{value: ETH_LICENSE}(ethLicensed, address(0), ETH_LICENSE, 1 days);
        assertEq(models.licenseExpiry(ethLicensed, buyer), block.timestamp + 1 days, "the period is inclusive too");
    }

    function test_RevertWhen_LicenceTokenSwitchedInFrontOfAnEthPurchase() public {
        _standingAllowances();
        _newVersion(ethLicensed, address(usdc));
        uint256[] memory before = _books();
        vm.expectRevert(_tokenMismatch(ethLicensed, address(usdc), address(0)));
        vm.prank(buyer);
        models.buyLicense{value: ETH_LICENSE}(ethLicensed, address(0), ETH_LICENSE, PERIOD);
        _assertNothingMoved(before);
    }

    /*//////////////////////////////////////////////////////////////
                 LICENCES, ERC-20 WITH A STANDING ALLOWANCE
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_LicencePriceRaisedInFrontOfAnAllowancePurchase() public {
        _standingAllowances();
        vm.prank(seller);
        models.updateTerms(usdcLicensed, USDC_PRICE, 10 * USDC_LICENSE, PERIOD, 0x1ff);
        uint256[] memory before = _books();
        // Under v1 the unlimited allowance paid ten times the price the buyer saw.
        vm.expectRevert(_priceAboveMax(usdcLicensed, 10 * USDC_LICENSE, USDC_LICENSE));
        vm.prank(buyer);
        models.buyLicense(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD);
        _assertNothingMoved(before);
    }

    function test_RevertWhen_LicencePeriodShortenedInFrontOfAnAllowancePurchase() public {
        _standingAllowances();
        vm.prank(seller);
        models.updateTerms(usdcLicensed, USDC_PRICE, USDC_LICENSE, PERIOD - 1, 0x1ff);
        uint256[] memory before = _books();
        vm.expectRevert(_periodBelowMin(usdcLicensed, PERIOD - 1, PERIOD));
        vm.prank(buyer);
        models.buyLicense(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD);
        _assertNothingMoved(before);
    }

    function test_RevertWhen_LicenceTokenSwitchedInFrontOfAnAllowancePurchase() public {
        _standingAllowances();
        _newVersion(usdcLicensed, address(dai));
        uint256[] memory before = _books();
        // Under v1 the standing DAI allowance paid 50 DAI for a purchase priced at 50 USDC.
        vm.expectRevert(_tokenMismatch(usdcLicensed, address(dai), address(usdc)));
        vm.prank(buyer);
        models.buyLicense(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD);
        _assertNothingMoved(before);
    }

    /*//////////////////////////////////////////////////////////////
                          LICENCES, WITH A PERMIT
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_LicencePriceRaisedInFrontOfAPermitPurchase() public {
        (uint8 v, bytes32 r, bytes32 s) = _permit(USDC_LICENSE);
        vm.prank(seller);
        models.updateTerms(usdcLicensed, USDC_PRICE, USDC_LICENSE + 1, PERIOD, 0x1ff);
        uint256[] memory before = _books();
        vm.expectRevert(_priceAboveMax(usdcLicensed, USDC_LICENSE + 1, USDC_LICENSE));
        vm.prank(buyer);
        models.buyLicenseWithPermit(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD, block.timestamp, v, r, s);
        _assertNothingMoved(before); // the permit was not spent either (nonce, allowance)
        // Back at the signed price, the same permit buys the licence.
        vm.prank(seller);
        models.updateTerms(usdcLicensed, USDC_PRICE, USDC_LICENSE, PERIOD, 0x1ff);
        vm.prank(buyer);
        models.buyLicenseWithPermit(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD, block.timestamp, v, r, s);
        assertEq(usdc.nonces(buyer), 1, "permit used");
        assertEq(models.balanceOf(seller, address(usdc)), USDC_LICENSE, "paid the signed price");
    }

    function test_RevertWhen_LicencePeriodShortenedInFrontOfAPermitPurchase() public {
        (uint8 v, bytes32 r, bytes32 s) = _permit(USDC_LICENSE);
        vm.prank(seller);
        models.updateTerms(usdcLicensed, USDC_PRICE, USDC_LICENSE, 1 hours, 0x1ff);
        uint256[] memory before = _books();
        vm.expectRevert(_periodBelowMin(usdcLicensed, 1 hours, PERIOD));
        vm.prank(buyer);
        models.buyLicenseWithPermit(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD, block.timestamp, v, r, s);
        _assertNothingMoved(before);
    }

    function test_RevertWhen_LicenceTokenSwitchedInFrontOfAPermitPurchase() public {
        (uint8 v, bytes32 r, bytes32 s) = _permit(USDC_LICENSE);
        vm.prank(buyer);
        dai.approve(address(models), type(uint256).max); // a standing allowance in the new token
        _newVersion(usdcLicensed, address(dai));
        uint256[] memory before = _books();
        vm.expectRevert(_tokenMismatch(usdcLicensed, address(dai), address(usdc)));
        vm.prank(buyer);
        models.buyLicenseWithPermit(usdcLicensed, address(usdc), USDC_LICENSE, PERIOD, block.timestamp, v, r, s);
        _assertNothingMoved(before);
    }

    /*//////////////////////////////////////////////////////////////
                             JOB REQUESTS
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_PriceRaisedInFrontOfARequest() public {
        vm.prank(seller);
        models.updateTerms(ethModel, 3 * PRICE, 0, 0, 0x1ff);
        uint256[] memory before = _books();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        // Under v1 the same payment went through with three times the royalty, out of the operator's fee.
        vm.expectRevert(_priceAboveMax(ethModel, 3 * PRICE, PRICE));
        vm.prank(buyer);
        market.requestJob{value: PAY}(ethModel, 1, INPUT, "bafyinput", address(0), PAY, PRICE, deadline, 0);
        _assertNothingMoved(before);
        vm.prank(buyer);
        market.requestJob{value: PAY}(ethModel, 1, INPUT, "bafyinput", address(0), PAY, 3 * PRICE, deadline, 0);
        assertEq(market.getTerms(1).royalty, 3 * PRICE, "the bound is inclusive");
    }

    function test_RevertWhen_VersionPublishedInFrontOfARequest() public {
        assertEq(_newVersion(ethModel, address(0)), 2, "version 2");
        uint256[] memory before = _books();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        // Under v1 the job silently ran version 2's weights.
        vm.expectRevert(_versionNotLatest(ethModel, 2, 1));
        vm.prank(buyer);
        market.requestJob{value: PAY}(ethModel, 1, INPUT, "bafyinput", address(0), PAY, PRICE, deadline, 0);
        _assertNothingMoved(before);
        vm.expectRevert(_versionNotLatest(ethModel, 2, 3));
        vm.prank(buyer);
        market.requestJob{value: PAY}(ethModel, 3, INPUT, "bafyinput", address(0), PAY, PRICE, deadline, 0);
        _assertNothingMoved(before);
    }

    /// @dev The token only changes with a new version (`updateTerms` cannot switch it), so a request bound to
    /// the version it saw fails on the version first; one that names the new version with the old token fails
    /// on the token.
    function test_RevertWhen_TokenSwitchedInFrontOfARequest() public {
        _standingAllowances();
        _newVersion(usdcModel, address(dai));
        uint256[] memory before = _books();
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.expectRevert(_versionNotLatest(usdcModel, 2, 1));
        vm.prank(buyer);
        market.requestJob(usdcModel, 1, INPUT, "bafyinput", address(usdc), 5e6, USDC_PRICE, deadline, 0);
        _assertNothingMoved(before);
        vm.expectRevert(_tokenMismatch(usdcModel, address(dai), address(usdc)));
        vm.prank(buyer);
        market.requestJob(usdcModel, 2, INPUT, "bafyinput", address(usdc), 5e6, USDC_PRICE, deadline, 0);
        _assertNothingMoved(before);
    }

    /*//////////////////////////////////////////////////////////////
                            SIGNED REQUESTS
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_PriceRaisedInFrontOfASignedRequest() public {
        (JobRequest memory req, bytes memory sig) = _signed(usdcModel, 1, address(usdc), USDC_PRICE);
        (uint8 v, bytes32 r, bytes32 s) =
            signPermit(buyerKey, usdc.DOMAIN_SEPARATOR(), buyer, address(market), 5e6, 0, block.timestamp);
        IJobMarket.Permit memory permit = IJobMarket.Permit(block.timestamp, v, r, s);
        vm.prank(seller);
        models.updateTerms(usdcModel, USDC_PRICE + 1, 0, 0, 0x1ff);
        uint256[] memory before = _books();
        vm.expectRevert(_priceAboveMax(usdcModel, USDC_PRICE + 1, USDC_PRICE));
        vm.prank(address(0x4E1A));
        market.requestJobWithSig(req, sig, permit);
        _assertNothingMoved(before); // request nonce, permit nonce and allowance included
        // The request is still good once the price is back within its bound.
        vm.prank(seller);
        models.updateTerms(usdcModel, USDC_PRICE, 0, 0, 0x1ff);
        vm.prank(address(0x4E1A));
        uint256 jobId = market.requestJobWithSig(req, sig, permit);
        assertEq(market.getTerms(jobId).royalty, USDC_PRICE, "the signed price");
        assertEq(market.requestNonces(buyer), 1, "nonce used once it went through");
    }

    function test_RevertWhen_VersionPublishedInFrontOfASignedRequest() public {
        _standingAllowances();
        (JobRequest memory req, bytes memory sig) = _signed(usdcModel, 1, address(usdc), USDC_PRICE);
        _newVersion(usdcModel, address(usdc));
        uint256[] memory before = _books();
        vm.expectRevert(_versionNotLatest(usdcModel, 2, 1));
        vm.prank(address(0x4E1A));
        market.requestJobWithSig(req, sig, IJobMarket.Permit(0, 0, 0, 0));
        _assertNothingMoved(before);
    }

    function test_RevertWhen_TokenSwitchedInFrontOfASignedRequest() public {
        _standingAllowances();
        (JobRequest memory req, bytes memory sig) = _signed(usdcModel, 1, address(usdc), USDC_PRICE);
        (JobRequest memory next, bytes memory nextSig) = _signed(usdcModel, 2, address(usdc), USDC_PRICE);
        _newVersion(usdcModel, address(dai));
        uint256[] memory before = _books();
        vm.expectRevert(_versionNotLatest(usdcModel, 2, 1));
        vm.prank(address(0x4E1A));
        market.requestJobWithSig(req, sig, IJobMarket.Permit(0, 0, 0, 0));
        _assertNothingMoved(before);
        vm.expectRevert(_tokenMismatch(usdcModel, address(dai), address(usdc)));
        vm.prank(address(0x4E1A));
        market.requestJobWithSig(next, nextSig, IJobMarket.Permit(0, 0, 0, 0));
        _assertNothingMoved(before);
    }
}
