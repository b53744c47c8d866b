// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {JobReceipt, JobRequest, ModelManifest} from "../interfaces/ICairnTypes.sol";

/// @title CairnTypedData
/// @notice EIP-712 struct hashes of Cairn's typed data (DESIGN.md "Typed data"), one definition for every
/// contract. The Rust side (`cairn-protocol`) mirrors these; both reproduce testdata/vectors/eip712.json
/// (typed data v2: JobRequest binds the version and the highest royalty).
library CairnTypedData {
    /*//////////////////////////////////////////////////////////////
                                TYPE HASHES
    //////////////////////////////////////////////////////////////*/

    bytes32 internal constant MODEL_MANIFEST_TYPEHASH = keccak256(
        "ModelManifest(address seller,uint256 modelId,string manifestCid,bytes32 manifestDigest,bytes32 weightsDigest,"
        "bytes32 runtime,address paymentToken,uint256 pricePerCall,uint256 licensePrice,uint64 licensePeriod,"
        "uint256 regionMask,uint256 nonce,uint64 deadline)"
    );

    bytes32 internal constant JOB_REQUEST_TYPEHASH = keccak256(
        "JobRequest(address buyer,uint256 modelId,uint64 version,bytes32 inputDigest,string inputCid,address token,"
        "uint256 payment,uint256 maxPricePerCall,uint64 deadline,uint256 regionMask,uint256 nonce)"
    );

    bytes32 internal constant JOB_RECEIPT_TYPEHASH = keccak256(
        "JobReceipt(uint256 jobId,bytes32 weightsDigest,bytes32 inputDigest,bytes32 runtime,bytes32 outputDigest,"
        "string outputCid,bytes32 runnerBuild,uint64 energyMillijoules)"
    );

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /*//////////////////////////////////////////////////////////////
                                STRUCT HASHES
    //////////////////////////////////////////////////////////////*/

    /// @notice hashStruct(ModelManifest).
    function hash(ModelManifest memory m) internal pure returns (bytes32) {
        // Two abi.encode halves of static words concatenate to the one encoding; a single call with 14
        // values does not fit the legacy code generator's stack.
        return keccak256(
            bytes.concat(
                abi.encode(
                    MODEL_MANIFEST_TYPEHASH,
                    m.seller,
                    m.modelId,
                    keccak256(bytes(m.manifestCid)),
                    m.manifestDigest,
                    m.weightsDigest,
                    m.runtime
                ),
                abi.encode(
                    m.paymentToken, m.pricePerCall, m.licensePrice, m.licensePeriod, m.regionMask, m.nonce, m.deadline
                )
            )
        );
    }

    /// @notice hashStruct(JobRequest).
    function hash(JobRequest memory r) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                abi.encode(
                    JOB_REQUEST_TYPEHASH, r.buyer, r.modelId, r.version, r.inputDigest, keccak256(bytes(r.inputCid))
                ),
                abi.encode(r.token, r.payment, r.maxPricePerCall, r.deadline, r.regionMask, r.nonce)
            )
        );
    }

    /// @notice hashStruct(JobReceipt).
    function hash(JobReceipt memory r) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                abi.encode(JOB_RECEIPT_TYPEHASH, r.jobId, r.weightsDigest, r.inputDigest, r.runtime),
                abi.encode(r.outputDigest, keccak256(bytes(r.outputCid)), r.runnerBuild, r.energyMillijoules)
            )
        );
    }

    /*//////////////////////////////////////////////////////////////
                                 DOMAIN
    //////////////////////////////////////////////////////////////*/

    /// @notice The "Cairn"/"1" domain separator for a contract on a chain (what OZ EIP712 computes on-chain).
    function domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Cairn"), keccak256("1"), chainId, verifyingContract));
    }

    /// @notice The digest a wallet signs: keccak256("\x19\x01" ‖ domainSeparator ‖ structHash).
    function digest(bytes32 domainSeparator_, bytes32 structHash) internal pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator_, structHash);
    }

    /// @notice A verifier's vote commitment: keccak256(abi.encode(disputeId, round, voter, vote, salt)); the round
    /// binds it, so no round's commitment or reveal serves another (../shared/DESIGN.md, typed data v2).
    function commitment(uint256 disputeId, uint256 round, address voter, uint256 vote, bytes32 salt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(disputeId, round, voter, vote, salt));
    }
}
