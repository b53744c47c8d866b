// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IMetaEvidence} from "../../src/interfaces/IArbitration.sol";
import {ICairnCommon} from "../../src/interfaces/ICairnCommon.sol";
import {JobReceipt} from "../../src/interfaces/ICairnTypes.sol";
import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";

/// @title EventBurst
/// @notice Benchmark helper for `cairn-indexer` (`indexer/benches/indexer.rs`), never part of a deployment:
/// emits JobMarket's own event types (declared in its interfaces, so topics and data layouts are JobMarket's
/// by construction; `EventBurst.t.sol` checks the sequence against a real JobMarket's logs) as whole finalized
/// job lifecycles, many per transaction, so an indexer can be fed hundreds of thousands of real-shaped
/// events in minutes. A bench deployments file lists it as `BenchJobMarket`, which the indexer decodes as
/// `JobMarket`. It holds no state and checks nothing: anyone may call it, and nothing trusts it.
contract EventBurst {
    /*//////////////////////////////////////////////////////////////
                                  TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice How the jobs of a burst are spread over the market's actors, so per-model lists and account
    /// trails have realistic cardinalities.
    /// @param models Distinct model ids (1..models).
    /// @param buyers Distinct buyers (`account("b", i)`).
    /// @param operators Distinct operators (`account("o", i)`, their signer keys `account("k", i)`).
    /// @param sellers Distinct sellers (`account("s", modelId % sellers)`).
    /// @param token Payment token of every job.
    /// @param treasury Receives the protocol fee.
    struct Shape {
        uint256 models;
        uint256 buyers;
        uint256 operators;
        uint256 sellers;
        address token;
        address treasury;
    }

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Logs emitted per job (JobRequested, MetaEvidence, JobClaimed, ResultSubmitted, three Credited,
    /// PaymentSplit, JobClosed: what a finalized job leaves on a real JobMarket).
    uint256 public constant LOGS_PER_JOB = 9;

    bytes32 private constant BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
    bytes32 private constant RUNTIME = keccak256("candle/bert-embed@1");
    bytes32 private constant RUNNER_BUILD = keccak256("cairn-runner 0.1.0");

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @notice Emits the lifecycles of jobs `firstJobId .. firstJobId + count - 1`, `LOGS_PER_JOB` logs each,
    /// in JobMarket's order. About 45,000 gas per job: keep `count` under ~600 per transaction (30M gas).
    /// @param firstJobId The first job id.
    /// @param count How many jobs.
    /// @param shape How jobs are spread over models and accounts.
    function burst(uint256 firstJobId, uint256 count, Shape calldata shape) external {
        for (uint256 i; i < count; ++i) {
            _lifecycle(firstJobId + i, shape);
        }
    }

    /// @notice The bench's actor `index` of `role` ("b" buyer, "o" operator, "k" operator signer, "s" seller):
    /// the low 20 bytes of keccak256(role ‖ uint32(index)), so addresses look like real ones.
    /// @param role One byte naming the role.
    /// @param index The actor's index.
    /// @return The address.
    function account(bytes1 role, uint256 index) public pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(uint256(keccak256(abi.encodePacked(role, uint32(index))))));
    }

    /// @notice Which model, buyer and operator job `jobId` gets under `shape` (a hash of the id, so the
    /// spread is even but not striped).
    /// @param jobId The job.
    /// @param shape The spread.
    /// @return modelId The model (1-based).
    /// @return buyer The buyer's index.
    /// @return operator The operator's index.
    function assignment(uint256 jobId, Shape calldata shape)
        public
        pure
        returns (uint256 modelId, uint256 buyer, uint256 operator)
    {
        uint256 h = uint256(keccak256(abi.encode(jobId)));
        return (1 + h % shape.models, (h >> 64) % shape.buyers, (h >> 128) % shape.operators);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _lifecycle(uint256 jobId, Shape calldata s) internal {
        (uint256 modelId, uint256 buyerIndex, uint256 operatorIndex) = assignment(jobId, s);
        uint256 h = uint256(keccak256(abi.encode(jobId)));
        address operator = account("o", operatorIndex);
        uint256 payment = 0.01 ether + h % 1e15;
        IJobMarket.JobTerms memory t = IJobMarket.JobTerms({
            buyer: account("b", buyerIndex),
            modelId: modelId,
            modelVersion: 1,
            seller: account("s", modelId % s.sellers),
            weightsDigest: keccak256(abi.encode(modelId, "weights")),
            runtime: RUNTIME,
            token: s.token,
            payment: payment,
            royalty: payment / 10,
            protocolFee: payment * 250 / 10_000,
            inputDigest: bytes32(h),
            regionMask: 0xff,
            deadline: uint64(block.timestamp + 1 hours)
        });
        string memory inputCid = _cid(h);
        emit IJobMarket.JobRequested(jobId, t.buyer, modelId, t, inputCid);
        emit IMetaEvidence.MetaEvidence(jobId, string.concat("ipfs://", inputCid));
        emit IJobMarket.JobClaimed(jobId, operator, payment / 10, uint64(block.timestamp + 10 minutes));
        _submit(jobId, h, t, operator, account("k", operatorIndex));
        uint256 operatorFee = payment - t.royalty - t.protocolFee;
        emit ICairnCommon.Credited(t.seller, s.token, t.royalty);
        emit ICairnCommon.Credited(s.treasury, s.token, t.protocolFee);
        emit ICairnCommon.Credited(operator, s.token, operatorFee);
        emit IJobMarket.PaymentSplit(jobId, t.royalty, t.protocolFee, operatorFee, 0);
        emit IJobMarket.JobClosed(jobId, IJobMarket.JobState.Finalized, IJobMarket.CloseReason.Finalized);
    }

    function _submit(uint256 jobId, uint256 h, IJobMarket.JobTerms memory t, address operator, address signer)
        internal
    {
        bytes32 output = keccak256(abi.encode(h, "output"));
        JobReceipt memory r = JobReceipt({
            jobId: jobId,
            weightsDigest: t.weightsDigest,
            inputDigest: t.inputDigest,
            runtime: t.runtime,
            outputDigest: output,
            outputCid: _cid(uint256(output)),
            runnerBuild: RUNNER_BUILD,
            energyMillijoules: uint64(1000 + h % 5000)
        });
        // 65 bytes shaped like an ECDSA signature (r ‖ s ‖ v); nothing verifies it.
        bytes memory signature =
            abi.encodePacked(keccak256(abi.encode(h, "r")), keccak256(abi.encode(h, "s")), uint8(27));
        emit IJobMarket.ResultSubmitted(jobId, operator, r, signer, signature, uint64(block.timestamp + 1 hours));
    }

    /// @dev A 59-character CIDv1 (raw, sha2-256) lookalike: "bafkrei" and 52 base32 characters from `h`.
    function _cid(uint256 h) internal pure returns (string memory) {
        bytes memory s = new bytes(59);
        bytes7 prefix = "bafkrei";
        for (uint256 i; i < 7; ++i) {
            s[i] = prefix[i];
        }
        for (uint256 i = 7; i < 59; ++i) {
            s[i] = BASE32[h & 31];
            h >>= 5;
        }
        return string(s);
    }
}
