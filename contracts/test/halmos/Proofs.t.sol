// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {JobReceipt, JobRequest, ModelManifest} from "../../src/interfaces/ICairnTypes.sol";
import {CairnTypedData} from "../../src/libraries/CairnTypedData.sol";
import {Splits} from "../../src/libraries/Splits.sol";

/// @notice Symbolic proofs, run by `make halmos` (halmos treats every argument as symbolic and keccak256
/// as injective). forge ignores `check_` functions.
contract CairnProofs {
    function _digest(uint256 chainId, address verifier, bytes32 structHash) internal pure returns (bytes32) {
        return CairnTypedData.digest(CairnTypedData.domainSeparator(chainId, verifier), structHash);
    }

    /// A digest binds the chain id and the verifying contract: no signature is valid on another chain or
    /// another contract.
    function check_DigestBindsChainAndContract(
        uint256 chainA,
        uint256 chainB,
        address contractA,
        address contractB,
        bytes32 structHash
    ) public pure {
        if (_digest(chainA, contractA, structHash) == _digest(chainB, contractB, structHash)) {
            assert(chainA == chainB && contractA == contractB);
        }
    }

    /// Equal manifest digests (same domain) imply the same signer, nonce, deadline and terms.
    function check_ManifestDigestBindsSignerNonceAndTerms(
        address sellerA,
        address sellerB,
        uint256 nonceA,
        uint256 nonceB,
        uint64 deadlineA,
        uint64 deadlineB,
        uint256 priceA,
        uint256 priceB
    ) public pure {
        ModelManifest memory a;
        (a.seller, a.nonce, a.deadline, a.pricePerCall) = (sellerA, nonceA, deadlineA, priceA);
        ModelManifest memory b;
        (b.seller, b.nonce, b.deadline, b.pricePerCall) = (sellerB, nonceB, deadlineB, priceB);
        if (_digest(1, address(1), CairnTypedData.hash(a)) == _digest(1, address(1), CairnTypedData.hash(b))) {
            assert(sellerA == sellerB && nonceA == nonceB && deadlineA == deadlineB && priceA == priceB);
        }
    }

    /// Equal manifest digests imply the same weights, runtime and regions.
    function check_ManifestDigestBindsWeightsRuntimeRegions(
        bytes32 weightsA,
        bytes32 weightsB,
        bytes32 runtimeA,
        bytes32 runtimeB,
        uint256 regionsA,
        uint256 regionsB
    ) public pure {
        ModelManifest memory a;
        (a.weightsDigest, a.runtime, a.regionMask) = (weightsA, runtimeA, regionsA);
        ModelManifest memory b;
        (b.weightsDigest, b.runtime, b.regionMask) = (weightsB, runtimeB, regionsB);
        if (CairnTypedData.hash(a) == CairnTypedData.hash(b)) {
            assert(weightsA == weightsB && runtimeA == runtimeB && regionsA == regionsB);
        }
    }

    /// Equal request digests imply the same buyer, nonce, payment and deadline.
    function check_RequestDigestBindsBuyerNonceAndPayment(
        address buyerA,
        address buyerB,
        uint256 nonceA,
        uint256 nonceB,
        uint256 paymentA,
        uint256 paymentB,
        uint64 deadlineA,
        uint64 deadlineB
    ) public pure {
        JobRequest memory a;
        (a.buyer, a.nonce, a.payment, a.deadline) = (buyerA, nonceA, paymentA, deadlineA);
        JobRequest memory b;
        (b.buyer, b.nonce, b.payment, b.deadline) = (buyerB, nonceB, paymentB, deadlineB);
        if (CairnTypedData.hash(a) == CairnTypedData.hash(b)) {
            assert(buyerA == buyerB && nonceA == nonceB && paymentA == paymentB && deadlineA == deadlineB);
        }
    }

    /// Typed data v2: equal request digests imply the same model, version and highest royalty, so a
    /// request signed for one version or price cap serves no other.
    function check_RequestDigestBindsModelVersionAndMaxPrice(
        uint256 modelA,
        uint256 modelB,
        uint64 versionA,
        uint64 versionB,
        uint256 maxPriceA,
        uint256 maxPriceB
    ) public pure {
        JobRequest memory a;
        (a.modelId, a.version, a.maxPricePerCall) = (modelA, versionA, maxPriceA);
        JobRequest memory b;
        (b.modelId, b.version, b.maxPricePerCall) = (modelB, versionB, maxPriceB);
        if (_digest(1, address(1), CairnTypedData.hash(a)) == _digest(1, address(1), CairnTypedData.hash(b))) {
            assert(modelA == modelB && versionA == versionB && maxPriceA == maxPriceB);
        }
    }

    /// Equal receipt digests imply the same job, output and inputs.
    function check_ReceiptDigestBindsJobAndOutput(
        uint256 jobA,
        uint256 jobB,
        bytes32 outputA,
        bytes32 outputB,
        bytes32 inputA,
        bytes32 inputB
    ) public pure {
        JobReceipt memory a;
        (a.jobId, a.outputDigest, a.inputDigest) = (jobA, outputA, inputA);
        JobReceipt memory b;
        (b.jobId, b.outputDigest, b.inputDigest) = (jobB, outputB, inputB);
        if (CairnTypedData.hash(a) == CairnTypedData.hash(b)) {
            assert(jobA == jobB && outputA == outputB && inputA == inputB);
        }
    }

    /// The escrow split never creates or loses a wei.
    function check_EscrowSplitConservesPayment(uint256 payment, uint256 royalty, uint16 feeBps) public pure {
        if (feeBps > 1000 || payment > type(uint128).max) return;
        if (payment < royalty + Splits.fee(payment, feeBps)) return; // requestJob refuses such payments
        (uint256 protocolFee, uint256 operatorFee) = Splits.escrow(payment, royalty, feeBps);
        assert(royalty + protocolFee + operatorFee == payment);
    }

    /// What JobMarket._settle pays: royalty, protocol fee, audit premium and operator fee sum to the payment, for
    /// every payment the market accepts (royalty + fee at most the payment, the premium at most the rest).
    function check_SettlementConservesThePayment(uint256 payment, uint256 royalty, uint16 feeBps, uint256 premium)
        public
        pure
    {
        if (feeBps > 1000 || payment > type(uint128).max) return;
        uint256 protocolFee = Splits.fee(payment, feeBps);
        if (payment < royalty + protocolFee) return; // requestJob refuses such payments
        if (premium > payment - royalty - protocolFee) return; // scheduleAudit caps the premium
        uint256 operatorFee = Splits.operatorShare(payment, royalty, protocolFee, premium);
        assert(royalty + protocolFee + premium + operatorFee == payment);
    }

    /// The committee's shares (ReexecutionCommittee._pay): every seat's share plus the dust is the pot, and the
    /// dust is below one wei per seat. Division by a symbolic count times out (see below): one and two seats here,
    /// `testFuzz_PerSeatConservesThePot` in ReexecutionCommittee.t.sol any count.
    function check_PerSeatConservesThePot(uint256 pot) public pure {
        if (pot > type(uint128).max) return;
        for (uint256 seats = 1; seats <= 2; ++seats) {
            (uint256 share, uint256 dust) = Splits.perSeat(pot, seats);
            assert(share * seats + dust == pot);
            assert(dust < seats);
        }
    }

    /// The burn split of a losing bond never creates or loses a wei.
    function check_BurnSplitConservesAmount(uint256 amount, uint16 burnBps) public pure {
        if (burnBps > 10_000 || amount > type(uint128).max) return;
        (uint256 burned, uint256 kept) = Splits.burn(amount, burnBps);
        assert(burned + kept == amount);
        assert(burned <= amount);
    }

    /// Ruling 2 on a challenge pool (DisputeDesk.rule) never creates or loses a wei of the slashed bond, and
    /// the dust stays below one wei per ticket. Division by a symbolic ticket count times out (yices, 120 s), and
    /// so does division by 3 or 7 of a symbolic amount, so this proof covers one and two tickets (the refund and
    /// burn arithmetic for every amount, fee and burn rate); `testFuzz_ChallengePoolConservesTheSlash` in
    /// DisputeDesk.t.sol samples any count.
    function check_ChallengePoolConservesTheSlash(uint256 slashed, uint256 fee, uint16 burnBps) public pure {
        if (burnBps > 10_000 || slashed > type(uint128).max) return;
        _poolConserves(slashed, fee, burnBps, 1);
        _poolConserves(slashed, fee, burnBps, 2);
    }

    function _poolConserves(uint256 slashed, uint256 fee, uint16 burnBps, uint256 tickets) internal pure {
        (uint256 refund, uint256 burned, uint256 perTicket, uint256 dust) =
            Splits.challengePool(slashed, fee, burnBps, tickets);
        assert(refund + burned + perTicket * tickets + dust == slashed);
        assert(refund <= fee && dust < tickets);
    }
}
