// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {BlockhashRandomness} from "../src/libraries/BlockhashRandomness.sol";
import {Test} from "./utils/Test.sol";

/// @dev Stands in for EIP-2935's history contract: answers a 32-byte block number with a hash derived from it,
/// and reverts (as the real one does) for a block outside its window.
contract FakeHistory {
    uint256 public constant WINDOW = 8191;

    fallback(bytes calldata input) external returns (bytes memory) {
        uint256 number = abi.decode(input, (uint256));
        if (number >= block.number || block.number - number > WINDOW) revert();
        return abi.encode(keccak256(abi.encode("history", number)));
    }
}

/// @notice The seed source: `blockhash` for 256 blocks, then EIP-2935's history where the chain has it, and a
/// named error (never a zero seed) otherwise.
contract BlockhashRandomnessTest is Test {
    BlockhashRandomness internal randomness;

    function setUp() public {
        vm.roll(10_000);
        randomness = new BlockhashRandomness();
    }

    function test_RecentBlocksUseBlockhash() public view {
        uint256 seedBlock = block.number - 1;
        assertEq(
            randomness.seed(seedBlock, 7), keccak256(abi.encode(blockhash(seedBlock), uint256(7))), "blockhash seed"
        );
        assertTrue(randomness.seed(seedBlock, 7) != randomness.seed(seedBlock, 8), "the salt is mixed in");
    }

    function test_RevertWhen_TheBlockIsNotMinedOrTooOldWithoutHistory() public {
        vm.expectRevert(abi.encodeWithSelector(BlockhashRandomness.SeedUnavailable.selector, 10_000, 10_000));
        randomness.seed(10_000, 1);
        vm.expectRevert(abi.encodeWithSelector(BlockhashRandomness.SeedUnavailable.selector, 10_000 - 257, 10_000));
        randomness.seed(10_000 - 257, 1);
    }

    function test_OlderBlocksComeFromEip2935HistoryWhileItServesThem() public {
        vm.etch(randomness.HISTORY(), address(new FakeHistory()).code);
        uint256 old = block.number - 1000;
        assertEq(
            randomness.seed(old, 3),
            keccak256(abi.encode(keccak256(abi.encode("history", old)), uint256(3))),
            "the history's hash"
        );
        // Past the history's window it reverts, and so does the seed, by name.
        uint256 ancient = block.number - 8192;
        vm.expectRevert(abi.encodeWithSelector(BlockhashRandomness.SeedUnavailable.selector, ancient, block.number));
        randomness.seed(ancient, 3);
        // Within 256 blocks `blockhash` still answers first.
        uint256 recent = block.number - 5;
        assertEq(randomness.seed(recent, 3), keccak256(abi.encode(blockhash(recent), uint256(3))), "blockhash first");
    }
}
