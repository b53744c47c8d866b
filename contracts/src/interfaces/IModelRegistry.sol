// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnCommon} from "./ICairnCommon.sol";
import {ModelManifest} from "./ICairnTypes.sol";

/// @title IModelRegistry
/// @notice Models and their versions, listed by sellers with EIP-712 signed manifests, and licenses.
interface IModelRegistry is ICairnCommon {
    /*//////////////////////////////////////////////////////////////
                                 STRUCTS
    //////////////////////////////////////////////////////////////*/

    /// @notice One version of a model: what was signed, as stored.
    /// @param manifestCid IPFS CID of the manifest JSON.
    /// @param manifestDigest sha256 of the manifest JSON.
    /// @param weightsDigest sha256 of the weights.
    /// @param runtime keccak256 of the runtime id.
    /// @param paymentToken ERC-20, or address(0) for ETH.
    /// @param pricePerCall Royalty per job.
    /// @param licensePrice Price of a license (0: none required).
    /// @param licensePeriod Seconds a license lasts.
    /// @param regionMask Where the model may run.
    /// @param registeredAt Block timestamp of registration.
    struct ModelVersion {
        string manifestCid;
        bytes32 manifestDigest;
        bytes32 weightsDigest;
        bytes32 runtime;
        address paymentToken;
        uint256 pricePerCall;
        uint256 licensePrice;
        uint64 licensePeriod;
        uint256 regionMask;
        uint64 registeredAt;
    }

    /// @notice A model: its seller, latest version and whether it is deprecated.
    /// @param seller The lister, paid royalties and license fees.
    /// @param latestVersion Number of the latest version (versions start at 1).
    /// @param deprecated No new jobs or licenses once set.
    struct Model {
        address seller;
        uint64 latestVersion;
        bool deprecated;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The signature's deadline has passed.
    /// @param deadline The signed deadline.
    /// @param nowTimestamp The current block timestamp.
    error SignatureExpired(uint64 deadline, uint256 nowTimestamp);
    /// @notice The signature is not the seller's (wrong signer, malformed, high-s, or not 65 bytes).
    /// @param seller The claimed seller.
    error InvalidSignature(address seller);
    /// @notice The signed nonce is not the seller's next one (replayed or out of order).
    /// @param seller The seller.
    /// @param expected The next nonce.
    /// @param got The signed nonce.
    error InvalidNonce(address seller, uint256 expected, uint256 got);
    /// @notice No model has this id.
    /// @param modelId The id.
    error UnknownModel(uint256 modelId);
    /// @notice No such version of the model.
    /// @param modelId The model.
    /// @param version The version asked for.
    error UnknownVersion(uint256 modelId, uint64 version);
    /// @notice Only the model's seller may do this.
    /// @param modelId The model.
    /// @param caller Who tried.
    /// @param seller The seller.
    error NotSeller(uint256 modelId, address caller, address seller);
    /// @notice The model is deprecated.
    /// @param modelId The model.
    error ModelIsDeprecated(uint256 modelId);
    /// @notice The region mask is empty or names undefined regions.
    /// @param regionMask The mask.
    error InvalidRegionMask(uint256 regionMask);
    /// @notice A listing field is missing or inconsistent.
    /// @param field Which one.
    error InvalidListing(string field);
    /// @notice A permit was offered for a license paid in ETH.
    /// @param modelId The model.
    error LicensePaidInEth(uint256 modelId);
    /// @notice The model needs no license.
    /// @param modelId The model.
    error LicenseNotRequired(uint256 modelId);
    /// @notice The license's period is shorter than the buyer accepts (shortened in front of the purchase).
    /// @param modelId The model.
    /// @param period The current period in seconds.
    /// @param minPeriod The buyer's bound.
    error PeriodBelowMin(uint256 modelId, uint64 period, uint64 minPeriod);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A model version was listed: version 1 is a new model, a higher one a new version of it (the
    /// older stay readable). Carries the whole listing and the seller's signature, so a reader can rebuild the
    /// model and re-verify the seller's EIP-712 `ModelManifest` signature from the event alone: the signed
    /// message is (`seller`, modelId = 0 when `version` is 1 else `modelId`, the listing's fields, `nonce`,
    /// `deadline`), in this contract's "Cairn"/"1" domain.
    /// @param modelId The model.
    /// @param version The version created (1-based).
    /// @param seller The seller.
    /// @param listing Everything stored for the version (manifest, digests, runtime, token, prices, regions).
    /// @param nonce The seller's nonce the signature used.
    /// @param deadline The signature's deadline (unix seconds).
    /// @param signature The seller's signature (65-byte ECDSA, or an ERC-1271 wallet's bytes).
    event ModelRegistered(
        uint256 indexed modelId,
        uint64 indexed version,
        address indexed seller,
        ModelVersion listing,
        uint256 nonce,
        uint64 deadline,
        bytes signature
    );
    /// @notice Prices, license terms or regions of the latest version changed (open jobs keep theirs).
    /// @param modelId The model.
    /// @param version The version changed.
    /// @param pricePerCall New royalty.
    /// @param licensePrice New license price.
    /// @param licensePeriod New license period.
    /// @param regionMask New regions.
    event TermsUpdated(
        uint256 indexed modelId,
        uint64 indexed version,
        uint256 pricePerCall,
        uint256 licensePrice,
        uint64 licensePeriod,
        uint256 regionMask
    );
    /// @notice The model takes no new jobs or licenses.
    /// @param modelId The model.
    event ModelDeprecated(uint256 indexed modelId);
    /// @notice A license was bought or extended.
    /// @param modelId The model.
    /// @param buyer The licensee.
    /// @param version The model's latest version, whose terms were paid.
    /// @param token Payment token (address(0): ETH).
    /// @param price Paid, in token units.
    /// @param period Seconds added.
    /// @param expiry New expiry (unix time).
    event LicenseBought(
        uint256 indexed modelId,
        address indexed buyer,
        uint64 version,
        address token,
        uint256 price,
        uint64 period,
        uint64 expiry
    );

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Lists a new model (manifest.modelId = 0) or a new version of the seller's model, from the
    /// seller's EIP-712 signature over every listing field. Anyone may relay it.
    /// @param manifest The signed listing.
    /// @param signature 65-byte ECDSA signature, or an ERC-1271 contract wallet's signature.
    /// @return modelId The model's id.
    /// @return version The version created.
    function register(ModelManifest calldata manifest, bytes calldata signature)
        external
        returns (uint256 modelId, uint64 version);

    /// @notice Changes prices, license terms and regions of the latest version. Seller only.
    /// @param modelId The model.
    /// @param pricePerCall Royalty per job.
    /// @param licensePrice License price (0: no license needed).
    /// @param licensePeriod License period in seconds.
    /// @param regionMask Regions.
    function updateTerms(
        uint256 modelId,
        uint256 pricePerCall,
        uint256 licensePrice,
        uint64 licensePeriod,
        uint256 regionMask
    ) external;

    /// @notice Stops new jobs and licenses for a model. Seller only; cannot be undone.
    /// @param modelId The model.
    function deprecate(uint256 modelId) external;

    /// @notice Buys (or extends) a license at the latest version's terms: ETH as msg.value (exactly the
    /// price), ERC-20 by allowance. The buyer's bounds make a front-run change of the terms revert instead of
    /// charging more, for less, or in another token.
    /// @param modelId The model.
    /// @param token The token the buyer expects to pay in (address(0): ETH); else `TokenMismatch`.
    /// @param maxPrice Most the buyer pays, in token units; else `PriceAboveMax`.
    /// @param minPeriod Fewest seconds the buyer accepts; else `PeriodBelowMin`.
    /// @return expiry The license's new expiry.
    function buyLicense(uint256 modelId, address token, uint256 maxPrice, uint64 minPeriod)
        external
        payable
        returns (uint64 expiry);

    /// @notice Buys a license paying an EIP-2612 token with a permit, with the same bounds as `buyLicense`.
    /// The permit is for `maxPrice` (what the buyer signs); the price is taken. A front-run permit does not
    /// block a sufficient allowance.
    /// @param modelId The model.
    /// @param token The ERC-20 the buyer expects to pay in.
    /// @param maxPrice Most the buyer pays, and the permit's value.
    /// @param minPeriod Fewest seconds the buyer accepts.
    /// @param permitDeadline The permit's deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return expiry The license's new expiry.
    function buyLicenseWithPermit(
        uint256 modelId,
        address token,
        uint256 maxPrice,
        uint64 minPeriod,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint64 expiry);

    /// @notice Whether `account` holds an unexpired license of `modelId`.
    /// @param modelId The model.
    /// @param account The account.
    /// @return True while the license lasts.
    function hasLicense(uint256 modelId, address account) external view returns (bool);

    /// @notice Whether `account` may use the model now: it is not deprecated, and either needs no
    /// license or `account` has one.
    /// @param modelId The model.
    /// @param account The account.
    /// @return True if usable.
    function canUse(uint256 modelId, address account) external view returns (bool);

    /// @notice A model's seller, latest version and status.
    /// @param modelId The model.
    /// @return The model.
    function getModel(uint256 modelId) external view returns (Model memory);

    /// @notice One version of a model.
    /// @param modelId The model.
    /// @param version The version (1-based).
    /// @return The version.
    function getVersion(uint256 modelId, uint64 version) external view returns (ModelVersion memory);

    /// @notice The seller's next manifest nonce.
    /// @param seller The seller.
    /// @return The nonce.
    function nonces(address seller) external view returns (uint256);

    /// @notice Number of models listed (ids run from 1 to this).
    /// @return The count.
    function modelCount() external view returns (uint256);

    /// @notice The EIP-712 digest the seller signs for `manifest` on this chain and contract.
    /// @param manifest The listing.
    /// @return The digest.
    function manifestDigest(ModelManifest calldata manifest) external view returns (bytes32);
}
