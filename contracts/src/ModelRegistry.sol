// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {CairnEIP712} from "./base/CairnEIP712.sol";
import {CairnVersion} from "./base/CairnVersion.sol";
import {PullPayments} from "./base/PullPayments.sol";
import {ModelManifest} from "./interfaces/ICairnTypes.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {CairnTypedData} from "./libraries/CairnTypedData.sol";
import {Regions} from "./libraries/Regions.sol";

/// @title ModelRegistry
/// @notice Sellers list models with EIP-712 signed manifests; buyers buy licenses. License fees are
/// credited to the seller's pull balance. Pausing stops new listings and licenses, never withdrawals.
contract ModelRegistry is IModelRegistry, PullPayments, CairnEIP712, CairnVersion, Ownable2Step, Pausable {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelRegistry
    uint256 public modelCount;

    /// @inheritdoc IModelRegistry
    mapping(address seller => uint256) public nonces;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => mapping(uint64 version => ModelVersion)) private _versions;
    mapping(uint256 modelId => mapping(address account => uint64 expiry)) private _licenseExpiry;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param owner_ Governance (Ownable2Step).
    constructor(address owner_) Ownable(owner_) {}

    /*//////////////////////////////////////////////////////////////
                                 LISTING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelRegistry
    function register(ModelManifest calldata m, bytes calldata signature)
        external
        whenNotPaused
        returns (uint256 modelId, uint64 version)
    {
        if (block.timestamp > m.deadline) revert SignatureExpired(m.deadline, block.timestamp);
        if (m.seller == address(0)) revert ZeroAddress("seller");
        uint256 expectedNonce = nonces[m.seller];
        if (m.nonce != expectedNonce) revert InvalidNonce(m.seller, expectedNonce, m.nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(m.seller, manifestDigest(m), signature)) {
            revert InvalidSignature(m.seller);
        }
        _checkListing(m.manifestCid, m.weightsDigest, m.runtime, m.licensePrice, m.licensePeriod, m.regionMask);

        nonces[m.seller] = expectedNonce + 1;
        if (m.modelId == 0) {
            modelId = ++modelCount;
            version = 1;
            _models[modelId] = Model({seller: m.seller, latestVersion: 1, deprecated: false});
        } else {
            Model storage model = _existing(m.modelId);
            if (model.seller != m.seller) revert NotSeller(m.modelId, m.seller, model.seller);
            if (model.deprecated) revert ModelIsDeprecated(m.modelId);
            modelId = m.modelId;
            version = model.latestVersion + 1;
            model.latestVersion = version;
        }
        ModelVersion memory listing = ModelVersion({
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
        _versions[modelId][version] = listing;
        emit ModelRegistered(modelId, version, m.seller, listing, m.nonce, m.deadline, signature);
    }

    /// @inheritdoc IModelRegistry
    function updateTerms(
        uint256 modelId,
        uint256 pricePerCall,
        uint256 licensePrice,
        uint64 licensePeriod,
        uint256 regionMask
    ) external {
        Model storage model = _ownedBySender(modelId);
        ModelVersion storage v = _versions[modelId][model.latestVersion];
        _checkListing(v.manifestCid, v.weightsDigest, v.runtime, licensePrice, licensePeriod, regionMask);
        v.pricePerCall = pricePerCall;
        v.licensePrice = licensePrice;
        v.licensePeriod = licensePeriod;
        v.regionMask = regionMask;
        emit TermsUpdated(modelId, model.latestVersion, pricePerCall, licensePrice, licensePeriod, regionMask);
    }

    /// @inheritdoc IModelRegistry
    function deprecate(uint256 modelId) external {
        Model storage model = _ownedBySender(modelId);
        model.deprecated = true;
        emit ModelDeprecated(modelId);
    }

    /*//////////////////////////////////////////////////////////////
                                LICENSES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelRegistry
    function buyLicense(uint256 modelId, address token, uint256 maxPrice, uint64 minPeriod)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint64 expiry)
    {
        uint256 price;
        (price, expiry) = _grantLicense(modelId, token, maxPrice, minPeriod);
        _receive(token, msg.sender, price);
    }

    /// @inheritdoc IModelRegistry
    function buyLicenseWithPermit(
        uint256 modelId,
        address token,
        uint256 maxPrice,
        uint64 minPeriod,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant whenNotPaused returns (uint64 expiry) {
        if (token == address(0)) revert LicensePaidInEth(modelId);
        uint256 price;
        (price, expiry) = _grantLicense(modelId, token, maxPrice, minPeriod);
        // A permit front-run by someone else reverts here; a sufficient allowance still pays.
        try IERC20Permit(token).permit(msg.sender, address(this), maxPrice, permitDeadline, v, r, s) {} catch {}
        _receive(token, msg.sender, price);
    }

    /// @inheritdoc IModelRegistry
    function hasLicense(uint256 modelId, address account) public view returns (bool) {
        return _licenseExpiry[modelId][account] > block.timestamp;
    }

    /// @inheritdoc IModelRegistry
    function canUse(uint256 modelId, address account) external view returns (bool) {
        Model storage model = _models[modelId];
        if (model.seller == address(0) || model.deprecated) return false;
        return _versions[modelId][model.latestVersion].licensePrice == 0 || hasLicense(modelId, account);
    }

    /// @notice A license's expiry (0 if never bought).
    /// @param modelId The model.
    /// @param account The licensee.
    /// @return Unix time the license ends.
    function licenseExpiry(uint256 modelId, address account) external view returns (uint64) {
        return _licenseExpiry[modelId][account];
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _existing(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getVersion(uint256 modelId, uint64 version) external view returns (ModelVersion memory) {
        Model storage model = _existing(modelId);
        if (version == 0 || version > model.latestVersion) revert UnknownVersion(modelId, version);
        return _versions[modelId][version];
    }

    /// @inheritdoc IModelRegistry
    function manifestDigest(ModelManifest calldata m) public view returns (bytes32) {
        return _hashTypedDataV4(CairnTypedData.hash(m));
    }

    /// @notice The EIP-712 domain separator ("Cairn", "1", this chain, this contract).
    /// @return The separator.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Stops new listings and licenses (withdrawals continue).
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Resumes new listings and licenses.
    function unpause() external onlyOwner {
        _unpause();
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks the buyer's bounds against the latest version's terms, then makes every state change of a
    /// purchase; the caller then takes the payment (checks-effects-interactions).
    function _grantLicense(uint256 modelId, address token, uint256 maxPrice, uint64 minPeriod)
        internal
        returns (uint256 price, uint64 expiry)
    {
        (ModelVersion storage version, uint64 versionNumber) = _latestForSale(modelId);
        if (version.paymentToken != token) revert TokenMismatch(modelId, version.paymentToken, token);
        price = version.licensePrice;
        if (price > maxPrice) revert PriceAboveMax(modelId, price, maxPrice);
        uint64 period = version.licensePeriod;
        if (period < minPeriod) revert PeriodBelowMin(modelId, period, minPeriod);
        uint64 current = _licenseExpiry[modelId][msg.sender];
        uint64 start = current > block.timestamp ? current : uint64(block.timestamp);
        expiry = start + period;
        _licenseExpiry[modelId][msg.sender] = expiry;
        _credit(_models[modelId].seller, token, price);
        emit LicenseBought(modelId, msg.sender, versionNumber, token, price, period, expiry);
    }

    function _latestForSale(uint256 modelId)
        internal
        view
        returns (ModelVersion storage version, uint64 versionNumber)
    {
        Model storage model = _existing(modelId);
        if (model.deprecated) revert ModelIsDeprecated(modelId);
        versionNumber = model.latestVersion;
        version = _versions[modelId][versionNumber];
        if (version.licensePrice == 0) revert LicenseNotRequired(modelId);
    }

    function _checkListing(
        string memory manifestCid,
        bytes32 weightsDigest,
        bytes32 runtime,
        uint256 licensePrice,
        uint64 licensePeriod,
        uint256 regionMask
    ) internal pure {
        if (bytes(manifestCid).length == 0) revert InvalidListing("manifestCid is empty");
        if (weightsDigest == bytes32(0)) revert InvalidListing("weightsDigest is zero");
        if (runtime == bytes32(0)) revert InvalidListing("runtime is zero");
        if ((licensePrice == 0) != (licensePeriod == 0)) {
            revert InvalidListing("licensePrice and licensePeriod must both be zero or both be set");
        }
        if (!Regions.isValidMask(regionMask)) revert InvalidRegionMask(regionMask);
    }

    function _existing(uint256 modelId) internal view returns (Model storage model) {
        model = _models[modelId];
        if (model.seller == address(0)) revert UnknownModel(modelId);
    }

    function _ownedBySender(uint256 modelId) internal view returns (Model storage model) {
        model = _existing(modelId);
        if (model.seller != msg.sender) revert NotSeller(modelId, msg.sender, model.seller);
        if (model.deprecated) revert ModelIsDeprecated(modelId);
    }
}
