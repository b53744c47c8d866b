// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {FeeOnTransferToken, MockToken} from "./utils/mocks/Tokens.sol";
import {MockWallet} from "./utils/mocks/Wallets.sol";
import {Test} from "./utils/Test.sol";

contract ModelRegistryTest is Test {
    ModelRegistry internal registry;
    MockToken internal usdc;
    address internal owner = address(0xA11CE);
    address internal relayer = address(0xBEEF);
    address internal seller;
    uint256 internal sellerKey;
    address internal buyer = address(0xB0B);

    bytes32 internal constant RUNTIME = keccak256("candle/bert-embed@1");
    bytes32 internal constant WEIGHTS = 0x53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public {
        vm.warp(1_800_000_000);
        (seller, sellerKey) = makeAddrAndKey("seller");
        registry = new ModelRegistry(owner);
        usdc = new MockToken("USDC", 6);
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    function _manifest(uint256 modelId, uint256 nonce) internal view returns (ModelManifest memory m) {
        m.seller = seller;
        m.modelId = modelId;
        m.manifestCid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        m.manifestDigest = keccak256("manifest");
        m.weightsDigest = WEIGHTS;
        m.runtime = RUNTIME;
        m.pricePerCall = 1e14;
        m.regionMask = 0x9;
        m.nonce = nonce;
        m.deadline = uint64(block.timestamp + 1 hours);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _register(ModelManifest memory m) internal returns (uint256 modelId, uint64 version) {
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.prank(relayer);
        return registry.register(m, sig);
    }

    /// @dev What the registry stores (and announces) for a version listed from `m` now.
    function _listing(ModelManifest memory m) internal view returns (IModelRegistry.ModelVersion memory v) {
        v = IModelRegistry.ModelVersion({
            manifestCid: m.manifestCid,
            manifestDigest: m.manifestDigest,
            weightsDigest: m.weightsDigest,
            runtime: m.runtime,
            paymentToken: m.paymentToken,
            pricePerCall: m.pricePerCall,
            licensePrice: m.licensePrice,
            licensePeriod: m.licensePeriod,
            regionMask: m.regionMask,
            registeredAt: uint64(block.timestamp)
        });
    }

    function _licensed(address token, uint256 price) internal returns (uint256 modelId) {
        ModelManifest memory m = _manifest(0, registry.nonces(seller));
        m.paymentToken = token;
        m.licensePrice = price;
        m.licensePeriod = 30 days;
        (modelId,) = _register(m);
    }

    /*//////////////////////////////////////////////////////////////
                               REGISTRATION
    //////////////////////////////////////////////////////////////*/

    function test_RegisterByRelayerStoresEveryField() public {
        ModelManifest memory m = _manifest(0, 0);
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelRegistered(1, 1, seller, _listing(m), 0, m.deadline, sig);
        vm.prank(relayer);
        (uint256 modelId, uint64 version) = registry.register(m, sig);
        assertEq(modelId, 1, "model id");
        assertEq(version, 1, "version");
        assertEq(registry.nonces(seller), 1, "nonce");
        assertEq(registry.modelCount(), 1, "count");
        IModelRegistry.Model memory model = registry.getModel(1);
        assertEq(model.seller, seller, "seller");
        IModelRegistry.ModelVersion memory v = registry.getVersion(1, 1);
        assertEq(v.manifestCid, m.manifestCid, "cid");
        assertEq(v.weightsDigest, WEIGHTS, "weights");
        assertEq(v.runtime, RUNTIME, "runtime");
        assertEq(v.pricePerCall, 1e14, "price");
        assertEq(v.regionMask, 0x9, "regions");
        assertEq(v.registeredAt, block.timestamp, "registeredAt");
        assertTrue(registry.canUse(1, buyer), "no license needed");
    }

    function test_NewVersionKeepsHistory() public {
        _register(_manifest(0, 0));
        ModelManifest memory m = _manifest(1, 1);
        m.weightsDigest = keccak256("new weights");
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelRegistered(1, 2, seller, _listing(m), 1, m.deadline, sig);
        (uint256 modelId, uint64 version) = registry.register(m, sig);
        assertEq(modelId, 1, "same model");
        assertEq(version, 2, "version 2");
        assertEq(registry.getVersion(1, 1).weightsDigest, WEIGHTS, "old version kept");
        assertEq(registry.getVersion(1, 2).weightsDigest, keccak256("new weights"), "new version");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.UnknownVersion.selector, 1, 3));
        registry.getVersion(1, 3);
    }

    function test_RevertWhen_SignatureReplayed() public {
        ModelManifest memory m = _manifest(0, 0);
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        registry.register(m, sig);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidNonce.selector, seller, 1, 0));
        registry.register(m, sig);
    }

    function test_DeadlineEdges() public {
        ModelManifest memory m = _manifest(0, 0);
        m.deadline = uint64(block.timestamp);
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.warp(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.SignatureExpired.selector, m.deadline, block.timestamp));
        registry.register(m, sig);
        vm.warp(block.timestamp - 1); // deadline == now is still valid
        registry.register(m, sig);
        ModelManifest memory next = _manifest(0, 1);
        next.deadline = uint64(block.timestamp + 1);
        registry.register(next, _sign(sellerKey, registry.manifestDigest(next)));
    }

    function test_RevertWhen_SignedForAnotherChainOrContract() public {
        ModelManifest memory m = _manifest(0, 0);
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        ModelRegistry other = new ModelRegistry(owner);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidSignature.selector, seller));
        other.register(m, sig);
        vm.chainId(8453);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidSignature.selector, seller));
        registry.register(m, sig);
    }

    function test_RevertWhen_SignatureHighSOr64Bytes() public {
        ModelManifest memory m = _manifest(0, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sellerKey, registry.manifestDigest(m));
        bytes memory highS = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidSignature.selector, seller));
        registry.register(m, highS);
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidSignature.selector, seller));
        registry.register(m, abi.encodePacked(r, vs));
        registry.register(m, abi.encodePacked(r, s, v));
    }

    function test_RevertWhen_AnyFieldDiffersFromTheSigned() public {
        ModelManifest memory m = _manifest(0, 0);
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        m.pricePerCall += 1;
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidSignature.selector, seller));
        registry.register(m, sig);
    }

    function test_ContractWalletSellerViaErc1271() public {
        MockWallet wallet = new MockWallet(seller);
        ModelManifest memory m = _manifest(0, 0);
        m.seller = address(wallet);
        (uint256 modelId,) = registry.register(m, _sign(sellerKey, registry.manifestDigest(m)));
        assertEq(registry.getModel(modelId).seller, address(wallet), "wallet is the seller");
        (, uint256 strangerKey) = makeAddrAndKey("stranger");
        ModelManifest memory next = _manifest(0, 1);
        next.seller = address(wallet);
        bytes memory bad = _sign(strangerKey, registry.manifestDigest(next));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidSignature.selector, address(wallet)));
        registry.register(next, bad);
    }

    function test_RevertWhen_ListingInvalid() public {
        ModelManifest memory m = _manifest(0, 0);
        m.regionMask = 0;
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidRegionMask.selector, 0));
        registry.register(m, sig);
        m.regionMask = 1 << 12;
        sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidRegionMask.selector, 1 << 12));
        registry.register(m, sig);
        m.regionMask = 1;
        m.manifestCid = "";
        sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidListing.selector, "manifestCid is empty"));
        registry.register(m, sig);
        m.manifestCid = "bafy";
        m.licensePrice = 1;
        sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.InvalidListing.selector,
                "licensePrice and licensePeriod must both be zero or both be set"
            )
        );
        registry.register(m, sig);
        m.seller = address(0);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "seller"));
        registry.register(m, sig);
    }

    function test_RevertWhen_VersionOfSomeoneElsesModel() public {
        _register(_manifest(0, 0));
        (address other, uint256 otherKey) = makeAddrAndKey("other seller");
        ModelManifest memory m = _manifest(1, 0);
        m.seller = other;
        bytes memory sig = _sign(otherKey, registry.manifestDigest(m));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotSeller.selector, 1, other, seller));
        registry.register(m, sig);
        m.modelId = 9;
        sig = _sign(otherKey, registry.manifestDigest(m));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.UnknownModel.selector, 9));
        registry.register(m, sig);
    }

    /*//////////////////////////////////////////////////////////////
                              TERMS, DEPRECATION
    //////////////////////////////////////////////////////////////*/

    function test_UpdateTermsBySellerOnly() public {
        _register(_manifest(0, 0));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotSeller.selector, 1, buyer, seller));
        vm.prank(buyer);
        registry.updateTerms(1, 5, 0, 0, 1);
        vm.expectEmit(address(registry));
        emit IModelRegistry.TermsUpdated(1, 1, 5, 10, 1 days, 0x3);
        vm.prank(seller);
        registry.updateTerms(1, 5, 10, 1 days, 0x3);
        IModelRegistry.ModelVersion memory v = registry.getVersion(1, 1);
        assertEq(v.pricePerCall, 5, "price");
        assertEq(v.regionMask, 0x3, "regions");
        assertTrue(!registry.canUse(1, buyer), "now needs a license");
    }

    function test_DeprecateStopsUseAndVersions() public {
        _register(_manifest(0, 0));
        vm.prank(seller);
        registry.deprecate(1);
        assertTrue(!registry.canUse(1, buyer), "deprecated");
        assertTrue(registry.getModel(1).deprecated, "flag");
        ModelManifest memory m = _manifest(1, 1);
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelIsDeprecated.selector, 1));
        registry.register(m, sig);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelIsDeprecated.selector, 1));
        vm.prank(seller);
        registry.deprecate(1);
    }

    /*//////////////////////////////////////////////////////////////
                                 LICENSES
    //////////////////////////////////////////////////////////////*/

    function test_BuyLicenseWithEthExtendsAndPaysSeller() public {
        uint256 modelId = _licensed(address(0), 1 ether);
        vm.deal(buyer, 3 ether);
        vm.expectEmit(address(registry));
        emit IModelRegistry.LicenseBought(
            modelId, buyer, 1, address(0), 1 ether, 30 days, uint64(block.timestamp + 30 days)
        );
        vm.prank(buyer);
        uint64 expiry = registry.buyLicense{value: 1 ether}(modelId, address(0), 1 ether, 30 days);
        assertEq(expiry, block.timestamp + 30 days, "expiry");
        assertTrue(registry.hasLicense(modelId, buyer) && registry.canUse(modelId, buyer), "licensed");
        vm.warp(block.timestamp + 10 days);
        vm.prank(buyer);
        assertEq(
            registry.buyLicense{value: 1 ether}(modelId, address(0), 1 ether, 30 days),
            expiry + 30 days,
            "extends from the old expiry"
        );
        assertEq(registry.balanceOf(seller, address(0)), 2 ether, "seller credited");
        vm.warp(expiry + 30 days - 1);
        assertTrue(registry.hasLicense(modelId, buyer), "valid one second before expiry");
        vm.warp(expiry + 30 days);
        assertTrue(!registry.hasLicense(modelId, buyer), "expired at expiry");

        uint256 before = seller.balance;
        vm.prank(seller);
        registry.withdraw(address(0));
        assertEq(seller.balance - before, 2 ether, "withdrawn");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NothingToWithdraw.selector, seller, address(0)));
        vm.prank(seller);
        registry.withdraw(address(0));
    }

    function test_RevertWhen_EthLicenseUnderOrOverpaid() public {
        uint256 modelId = _licensed(address(0), 1 ether);
        vm.deal(buyer, 3 ether);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, 1 ether, 1 ether - 1));
        vm.prank(buyer);
        registry.buyLicense{value: 1 ether - 1}(modelId, address(0), 1 ether, 30 days);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.WrongPayment.selector, 1 ether, 1 ether + 1));
        vm.prank(buyer);
        registry.buyLicense{value: 1 ether + 1}(modelId, address(0), 1 ether, 30 days);
    }

    function test_BuyLicenseWithTokenAllowanceAndPermit() public {
        uint256 modelId = _licensed(address(usdc), 50e6);
        usdc.mint(buyer, 100e6);
        vm.prank(buyer);
        usdc.approve(address(registry), 50e6);
        vm.prank(buyer);
        registry.buyLicense(modelId, address(usdc), 50e6, 30 days);
        assertEq(usdc.balanceOf(address(registry)), 50e6, "held");
        assertEq(registry.balanceOf(seller, address(usdc)), 50e6, "credited");

        (address permitter, uint256 key) = makeAddrAndKey("permitter");
        usdc.mint(permitter, 50e6);
        (uint8 v, bytes32 r, bytes32 s) =
            signPermit(key, usdc.DOMAIN_SEPARATOR(), permitter, address(registry), 50e6, 0, block.timestamp);
        // Someone front-runs the permit: it is spent, and the purchase still goes through.
        usdc.permit(permitter, address(registry), 50e6, block.timestamp, v, r, s);
        vm.prank(permitter);
        registry.buyLicenseWithPermit(modelId, address(usdc), 50e6, 30 days, block.timestamp, v, r, s);
        assertTrue(registry.hasLicense(modelId, permitter), "licensed with permit");
    }

    function test_RevertWhen_FeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        uint256 modelId = _licensed(address(fee), 100);
        fee.mint(buyer, 100);
        vm.prank(buyer);
        fee.approve(address(registry), 100);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.UnsupportedToken.selector, address(fee), 100, 99));
        vm.prank(buyer);
        registry.buyLicense(modelId, address(fee), 100, 30 days);
    }

    function test_RevertWhen_LicenseNotRequiredOrEthWithToken() public {
        _register(_manifest(0, 0));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.LicenseNotRequired.selector, 1));
        registry.buyLicense(1, address(0), 0, 0);
        uint256 modelId = _licensed(address(usdc), 5);
        vm.deal(buyer, 1);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.UnexpectedEth.selector, 1));
        vm.prank(buyer);
        registry.buyLicense{value: 1}(modelId, address(usdc), 5, 30 days);
    }

    function test_RevertWhen_PermitForAnEthLicense() public {
        uint256 modelId = _licensed(address(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.LicensePaidInEth.selector, modelId));
        registry.buyLicenseWithPermit(
            modelId, address(0), 1 ether, 30 days, block.timestamp, 27, bytes32(0), bytes32(0)
        );
    }

    function testFuzz_LicenseExpiryAddsPeriods(uint8 purchases, uint32 gap) public {
        uint256 n = bound(purchases, 1, 20);
        uint256 modelId = _licensed(address(0), 1 wei);
        vm.deal(buyer, n);
        uint256 expected;
        for (uint256 i = 0; i < n; ++i) {
            vm.warp(block.timestamp + bound(gap, 0, 60 days));
            uint256 start = expected > block.timestamp ? expected : block.timestamp;
            expected = start + 30 days;
            vm.prank(buyer);
            assertEq(registry.buyLicense{value: 1}(modelId, address(0), 1, 30 days), expected, "expiry");
        }
        assertEq(registry.balanceOf(seller, address(0)), n, "every wei credited");
        assertEq(address(registry).balance, n, "every wei held");
    }

    /*//////////////////////////////////////////////////////////////
                            GOVERNANCE, VECTORS
    //////////////////////////////////////////////////////////////*/

    function test_PauseStopsNewWorkNotWithdrawals() public {
        uint256 modelId = _licensed(address(0), 1 ether);
        vm.deal(buyer, 1 ether);
        vm.prank(buyer);
        registry.buyLicense{value: 1 ether}(modelId, address(0), 1 ether, 30 days);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, buyer));
        vm.prank(buyer);
        registry.pause();
        vm.prank(owner);
        registry.pause();
        ModelManifest memory m = _manifest(0, registry.nonces(seller));
        bytes memory sig = _sign(sellerKey, registry.manifestDigest(m));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.register(m, sig);
        vm.prank(seller);
        registry.withdraw(address(0));
        assertEq(seller.balance, 1 ether, "withdrawal works while paused");
    }

    function test_RegistersTheSharedVectorAtItsAddressAndChain() public {
        string memory json = vm.readFile("testdata/vectors/eip712.json");
        address target = vm.parseJsonAddress(json, ".vectors[0].domain.verifyingContract");
        vm.etch(target, address(registry).code);
        vm.chainId(31_337);
        ModelManifest memory m;
        m.seller = vm.parseJsonAddress(json, ".vectors[0].message.seller");
        m.manifestCid = vm.parseJsonString(json, ".vectors[0].message.manifestCid");
        m.manifestDigest = vm.parseJsonBytes32(json, ".vectors[0].message.manifestDigest");
        m.weightsDigest = vm.parseJsonBytes32(json, ".vectors[0].message.weightsDigest");
        m.runtime = vm.parseJsonBytes32(json, ".vectors[0].message.runtime");
        m.pricePerCall = vm.parseJsonUint(json, ".vectors[0].message.pricePerCall");
        m.regionMask = vm.parseJsonUint(json, ".vectors[0].message.regionMask");
        m.deadline = uint64(vm.parseJsonUint(json, ".vectors[0].message.deadline"));
        assertEq(m.runtime, RUNTIME, "runtime is keccak256 of the runtime id");
        ModelRegistry there = ModelRegistry(target);
        assertEq(there.manifestDigest(m), vm.parseJsonBytes32(json, ".vectors[0].digest"), "digest");
        (uint256 modelId,) = there.register(m, vm.parseJsonBytes(json, ".vectors[0].signature"));
        assertEq(there.getModel(modelId).seller, m.seller, "viem's signature registers");
    }
}
