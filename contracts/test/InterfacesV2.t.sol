// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnVersioned} from "../src/interfaces/ICairnVersioned.sol";
import {JobReceipt, JobRequest, ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {Vm} from "./utils/Vm.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice Issue #11, items 4 and 5: the events carry what a reader needs without a view call (a job's
/// receipt and the signer it was checked against, a model version's full listing and its seller's signature,
/// a job's terms), each checked by rebuilding it from recorded logs alone; and every contract reports
/// interface version 2.
contract InterfacesV2Test is CairnSystem {
    uint256 internal constant PAY = 0.01 ether;

    function setUp() public {
        setUpSystem();
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The recorded logs of `emitter` whose first topic is `selector`.
    function _logs(Vm.Log[] memory all, address emitter, bytes32 selector) internal pure returns (Vm.Log[] memory out) {
        uint256 n;
        for (uint256 i = 0; i < all.length; ++i) {
            if (all[i].emitter == emitter && all[i].topics[0] == selector) ++n;
        }
        out = new Vm.Log[](n);
        n = 0;
        for (uint256 i = 0; i < all.length; ++i) {
            if (all[i].emitter == emitter && all[i].topics[0] == selector) out[n++] = all[i];
        }
    }

    /// @dev The signer of a 65-byte (r, s, v) signature, as a reader would recover it.
    function _recover(bytes32 digest, bytes memory signature) internal pure returns (address) {
        assertEq(signature.length, 65, "a 65-byte ECDSA signature");
        bytes32 r;
        bytes32 s;
        uint8 v;
        // Splitting a signature held in memory: the only way to read its words.
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return ecrecover(digest, v, r, s);
    }

    function _topicAddress(bytes32 topic) internal pure returns (address) {
        return address(uint160(uint256(topic)));
    }

    /*//////////////////////////////////////////////////////////////
                        RESULTSUBMITTED: THE RECEIPT
    //////////////////////////////////////////////////////////////*/

    function test_AReceiptIsRebuiltAndVerifiedFromResultSubmittedAlone() public {
        uint256 jobId = _requestEth(PAY);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        address signerAtSubmission = vm.addr(opSignerKeys[0]);
        JobReceipt memory sent = _receipt(jobId);
        vm.recordLogs();
        market.submitResult(jobId, sent, _sig(opSignerKeys[0], market.receiptDigest(sent)));
        Vm.Log[] memory logs = _logs(vm.getRecordedLogs(), address(market), IJobMarket.ResultSubmitted.selector);
        // The operator rotates its key afterwards: the event still names the key the receipt was checked with.
        vm.prank(ops[0]);
        operators.setSigner(address(0x5160));

        assertEq(logs.length, 1, "one ResultSubmitted");
        assertEq(logs[0].topics.length, 3, "signature, jobId, operator");
        assertEq(uint256(logs[0].topics[1]), jobId, "jobId topic");
        assertEq(_topicAddress(logs[0].topics[2]), ops[0], "operator topic");
        (JobReceipt memory receipt, address signer, bytes memory signature, uint64 challengeEnds) =
            abi.decode(logs[0].data, (JobReceipt, address, bytes, uint64));
        assertEq(keccak256(abi.encode(receipt)), keccak256(abi.encode(sent)), "the whole receipt");
        assertEq(signer, signerAtSubmission, "the signer key at submission");
        bytes32 digest = market.receiptDigest(receipt);
        assertEq(
            digest,
            CairnTypedData.digest(
                CairnTypedData.domainSeparator(block.chainid, address(market)), CairnTypedData.hash(receipt)
            ),
            "the digest is the EIP-712 one in the market's domain"
        );
        assertEq(_recover(digest, signature), signer, "the signature recovers to the signer");
        IJobMarket.JobProgress memory p = market.getProgress(jobId);
        assertEq(receipt.outputDigest, p.outputDigest, "output digest as stored");
        assertEq(challengeEnds, p.challengeEnds, "window end as stored");
        assertTrue(operators.getOperator(ops[0]).signer != signer, "the registry alone no longer says who signed");
    }

    /*//////////////////////////////////////////////////////////////
                      MODELREGISTERED: THE FULL LISTING
    //////////////////////////////////////////////////////////////*/

    function test_AModelsTermsAndSignatureAreRebuiltFromModelRegisteredAlone() public {
        ModelManifest memory m = _manifest(address(usdc), 7e5, 0x48);
        (m.manifestCid, m.manifestDigest) =
        ("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", keccak256("m1"));
        (m.licensePrice, m.licensePeriod) = (25e6, 7 days);
        vm.recordLogs();
        (uint256 modelId,) = _register(m);
        vm.warp(block.timestamp + 1 days);
        ModelManifest memory next = _manifest(address(0), 3e14, 0x1);
        (next.modelId, next.weightsDigest, next.manifestCid) = (modelId, keccak256("weights v2"), "bafyv2");
        next.deadline = uint64(block.timestamp + 5 minutes);
        _register(next);
        Vm.Log[] memory logs = _logs(vm.getRecordedLogs(), address(models), IModelRegistry.ModelRegistered.selector);

        assertEq(logs.length, 2, "one event for every version, the first included");
        for (uint256 i = 0; i < logs.length; ++i) {
            assertEq(logs[i].topics.length, 4, "signature, modelId, version, seller");
            uint256 id = uint256(logs[i].topics[1]);
            uint64 version = uint64(uint256(logs[i].topics[2]));
            address lister = _topicAddress(logs[i].topics[3]);
            assertEq(id, modelId, "model topic");
            assertEq(version, i + 1, "version topic");
            assertEq(lister, seller, "seller topic");
            (IModelRegistry.ModelVersion memory listing, uint256 nonce, uint64 deadline, bytes memory signature) =
                abi.decode(logs[i].data, (IModelRegistry.ModelVersion, uint256, uint64, bytes));
            assertEq(
                keccak256(abi.encode(listing)),
                keccak256(abi.encode(models.getVersion(id, version))),
                "every stored field of the version"
            );
            // The signed message: modelId 0 for a new model (version 1), the model's id for a new version.
            ModelManifest memory rebuilt = ModelManifest({
                seller: lister,
                modelId: version == 1 ? 0 : id,
                manifestCid: listing.manifestCid,
                manifestDigest: listing.manifestDigest,
                weightsDigest: listing.weightsDigest,
                runtime: listing.runtime,
                paymentToken: listing.paymentToken,
                pricePerCall: listing.pricePerCall,
                licensePrice: listing.licensePrice,
                licensePeriod: listing.licensePeriod,
                regionMask: listing.regionMask,
                nonce: nonce,
                deadline: deadline
            });
            assertEq(
                keccak256(abi.encode(rebuilt)),
                keccak256(abi.encode(i == 0 ? m : next)),
                "the manifest the seller signed"
            );
            bytes32 digest = CairnTypedData.digest(
                CairnTypedData.domainSeparator(block.chainid, address(models)), CairnTypedData.hash(rebuilt)
            );
            assertEq(digest, models.manifestDigest(rebuilt), "the registry's digest");
            assertEq(_recover(digest, signature), seller, "the seller's signature");
        }
    }

    /*//////////////////////////////////////////////////////////////
                       JOBREQUESTED: THE JOB'S TERMS
    //////////////////////////////////////////////////////////////*/

    function test_AJobsTermsFromJobRequestedEqualGetTerms() public {
        vm.recordLogs();
        uint256 ethJob = _requestEth(PAY);
        vm.prank(buyer);
        usdc.approve(address(market), 3e6);
        JobRequest memory req = JobRequest({
            buyer: buyer,
            modelId: usdcModel,
            version: 1,
            inputDigest: keccak256("another input"),
            inputCid: "bafysigned",
            token: address(usdc),
            payment: 3e6,
            maxPricePerCall: USDC_PRICE,
            deadline: uint64(block.timestamp + 2 hours),
            regionMask: 0x8,
            nonce: 0
        });
        uint256 signedJob =
            market.requestJobWithSig(req, _sig(buyerKey, market.requestDigest(req)), IJobMarket.Permit(0, 0, 0, 0));
        Vm.Log[] memory logs = _logs(vm.getRecordedLogs(), address(market), IJobMarket.JobRequested.selector);

        assertEq(logs.length, 2, "one event per request");
        uint256[2] memory ids = [ethJob, signedJob];
        string[2] memory cids = ["bafyinput", "bafysigned"];
        for (uint256 i = 0; i < 2; ++i) {
            assertEq(logs[i].topics.length, 4, "signature, jobId, buyer, modelId");
            (IJobMarket.JobTerms memory terms, string memory inputCid) =
                abi.decode(logs[i].data, (IJobMarket.JobTerms, string));
            IJobMarket.JobTerms memory stored = market.getTerms(ids[i]);
            assertEq(uint256(logs[i].topics[1]), ids[i], "jobId topic");
            assertEq(_topicAddress(logs[i].topics[2]), stored.buyer, "buyer topic");
            assertEq(uint256(logs[i].topics[3]), stored.modelId, "modelId topic");
            assertEq(keccak256(abi.encode(terms)), keccak256(abi.encode(stored)), "every term, as getTerms");
            assertEq(inputCid, cids[i], "input CID");
        }
        assertEq(market.getTerms(signedJob).regionMask, 0x8, "the effective regions, as narrowed");
    }

    /*//////////////////////////////////////////////////////////////
                            INTERFACE VERSION
    //////////////////////////////////////////////////////////////*/

    function test_EveryContractSpeaksTheInterfaceVersion() public view {
        address[6] memory deployed =
            [address(models), address(operators), address(market), address(committee), address(pool), address(desk)];
        for (uint256 i = 0; i < 6; ++i) {
            assertEq(ICairnVersioned(deployed[i]).interfaceVersion(), 6, "interfaceVersion()");
            // What a client sees calling the selector on its own, before it trusts any other ABI.
            (bool ok, bytes memory ret) = deployed[i].staticcall(abi.encodeWithSignature("interfaceVersion()"));
            assertTrue(ok, "answers");
            assertEq(ret, abi.encode(uint256(6)), "one word: 6");
        }
    }
}
