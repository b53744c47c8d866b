// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";
import {CairnSystem} from "../utils/CairnSystem.sol";
import {Vm} from "../utils/Vm.sol";
import {EventBurst} from "./EventBurst.sol";

/// @notice The bench helper emits what a real JobMarket emits for a finalized job: the same topic0s in the
/// same order, with the same number of topics, and data that decodes with JobMarket's layouts.
contract EventBurstTest is CairnSystem {
    EventBurst internal burst;

    function setUp() public {
        setUpSystem();
        burst = new EventBurst();
    }

    function _shape() internal view returns (EventBurst.Shape memory) {
        return
            EventBurst.Shape({
                models: 10, buyers: 100, operators: 5, sellers: 3, token: address(usdc), treasury: treasury
            });
    }

    /// @dev The logs `emitter` left since the last `vm.recordLogs()`.
    function _logsOf(address emitter) internal returns (Vm.Log[] memory out) {
        Vm.Log[] memory all = vm.getRecordedLogs();
        uint256 n;
        for (uint256 i; i < all.length; ++i) {
            if (all[i].emitter == emitter) ++n;
        }
        out = new Vm.Log[](n);
        n = 0;
        for (uint256 i; i < all.length; ++i) {
            if (all[i].emitter == emitter) out[n++] = all[i];
        }
    }

    function test_EmitsARealFinalizedLifecycle() public {
        vm.recordLogs();
        uint256 jobId = _requestEth(0.01 ether);
        _claimAndSubmit(jobId, 0);
        vm.warp(block.timestamp + 1 days);
        market.finalize(jobId);
        Vm.Log[] memory real = _logsOf(address(market));

        vm.recordLogs();
        burst.burst(7, 1, _shape());
        Vm.Log[] memory fake = _logsOf(address(burst));

        assertEq(fake.length, real.length, "logs per job");
        assertEq(fake.length, burst.LOGS_PER_JOB(), "LOGS_PER_JOB");
        for (uint256 i; i < real.length; ++i) {
            assertEq(fake[i].topics[0], real[i].topics[0], "topic0");
            assertEq(fake[i].topics.length, real[i].topics.length, "topic count");
        }
        assertEq(real[0].topics[0], IJobMarket.JobRequested.selector, "first: JobRequested");
        assertEq(real[real.length - 1].topics[0], IJobMarket.JobClosed.selector, "last: JobClosed");
    }

    function test_DataDecodesWithJobMarketLayouts() public {
        vm.recordLogs();
        burst.burst(42, 1, _shape());
        Vm.Log[] memory logs = _logsOf(address(burst));
        (uint256 modelId, uint256 buyerIndex, uint256 operatorIndex) = burst.assignment(42, _shape());

        assertEq(uint256(logs[0].topics[1]), 42, "jobId");
        assertEq(address(uint160(uint256(logs[0].topics[2]))), burst.account("b", buyerIndex), "buyer");
        assertEq(uint256(logs[0].topics[3]), modelId, "modelId");
        (IJobMarket.JobTerms memory t, string memory inputCid) = abi.decode(logs[0].data, (IJobMarket.JobTerms, string));
        assertEq(t.buyer, burst.account("b", buyerIndex), "terms.buyer");
        assertEq(t.modelId, modelId, "terms.modelId");
        assertEq(t.token, address(usdc), "terms.token");
        assertTrue(t.payment > t.royalty + t.protocolFee, "operator fee left");
        assertEq(bytes(inputCid).length, 59, "CID length");

        assertEq(address(uint160(uint256(logs[2].topics[2]))), burst.account("o", operatorIndex), "operator");
        (uint256 royalty, uint256 fee, uint256 operatorFee) = abi.decode(logs[7].data, (uint256, uint256, uint256));
        assertEq(royalty + fee + operatorFee, t.payment, "split adds up");
        assertEq(address(uint160(uint256(logs[5].topics[1]))), treasury, "fee credited to the treasury");
    }

    function test_SpreadsJobsOverTheShape() public view {
        EventBurst.Shape memory s = _shape();
        bool[10] memory seen;
        for (uint256 id = 1; id <= 200; ++id) {
            (uint256 modelId, uint256 b, uint256 o) = burst.assignment(id, s);
            assertTrue(modelId >= 1 && modelId <= s.models, "model in range");
            assertTrue(b < s.buyers && o < s.operators, "actors in range");
            seen[modelId - 1] = true;
        }
        for (uint256 i; i < 10; ++i) {
            assertTrue(seen[i], "every model gets jobs");
        }
    }

    function test_ABurstFitsABlock() public {
        uint256 gasBefore = gasleft();
        burst.burst(1, 250, _shape());
        uint256 used = gasBefore - gasleft();
        assertTrue(used < 25_000_000, "250 jobs per transaction stay under anvil's 30M block gas limit");
    }
}
