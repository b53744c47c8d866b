// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice A seller's signed listing of a model version (EIP-712 primary type `ModelManifest`).
/// @param seller The account that lists the model and receives its royalties.
/// @param modelId The model to update, or 0 to register a new model.
/// @param manifestCid IPFS CID of the manifest JSON (every file, size and sha256, the runtime).
/// @param manifestDigest sha256 of the manifest JSON bytes stored on IPFS.
/// @param weightsDigest sha256 of the weights file the runtime loads.
/// @param runtime keccak256 of the runtime id string, e.g. keccak256("candle/bert-embed@1").
/// @param paymentToken ERC-20 the model is paid in, or address(0) for ETH.
/// @param pricePerCall Royalty per job, in paymentToken units.
/// @param licensePrice Price of a license, 0 when none is required.
/// @param licensePeriod Seconds a license lasts.
/// @param regionMask Bit set of the regions the model may run in (DESIGN.md "Regions").
/// @param nonce The seller's next registry nonce; each signature is good once.
/// @param deadline Last second (unix time) the signature is valid.
struct ModelManifest {
    address seller;
    uint256 modelId;
    string manifestCid;
    bytes32 manifestDigest;
    bytes32 weightsDigest;
    bytes32 runtime;
    address paymentToken;
    uint256 pricePerCall;
    uint256 licensePrice;
    uint64 licensePeriod;
    uint256 regionMask;
    uint256 nonce;
    uint64 deadline;
}

/// @notice A buyer's signed job request, posted by a relayer (EIP-712 primary type `JobRequest`, typed
/// data v2). ERC-20 only.
/// @param buyer The paying account.
/// @param modelId The model to run.
/// @param version The model version to run: must be the model's latest when the request lands (a guard
/// against a version published in front of the request); the job runs exactly this version.
/// @param inputDigest sha256 of the input bytes stored on IPFS.
/// @param inputCid IPFS CID of the input.
/// @param token ERC-20 the job is paid in (must be the model's).
/// @param payment Amount escrowed.
/// @param maxPricePerCall Highest royalty (the version's pricePerCall, token units) the buyer accepts: a
/// seller cannot raise the price in front of the request.
/// @param deadline Last second the job may be claimed, and the signature's expiry.
/// @param regionMask Regions the buyer allows (narrowed by the model's mask).
/// @param nonce The buyer's next market nonce.
struct JobRequest {
    address buyer;
    uint256 modelId;
    uint64 version;
    bytes32 inputDigest;
    string inputCid;
    address token;
    uint256 payment;
    uint256 maxPricePerCall;
    uint64 deadline;
    uint256 regionMask;
    uint256 nonce;
}

/// @notice An operator's signed statement of what it ran and delivered (EIP-712 primary type `JobReceipt`).
/// @param jobId The job.
/// @param weightsDigest sha256 of the weights it ran (must equal the job's snapshot).
/// @param inputDigest sha256 of the input it ran (must equal the job's).
/// @param runtime keccak256 of the runtime id it ran (must equal the job's).
/// @param outputDigest sha256 of the canonical output bytes stored on IPFS.
/// @param outputCid IPFS CID of the output.
/// @param runnerBuild keccak256 of the runner's version string.
/// @param energyMillijoules Energy the run took, as measured by the runner (informational).
struct JobReceipt {
    uint256 jobId;
    bytes32 weightsDigest;
    bytes32 inputDigest;
    bytes32 runtime;
    bytes32 outputDigest;
    string outputCid;
    bytes32 runnerBuild;
    uint64 energyMillijoules;
}
