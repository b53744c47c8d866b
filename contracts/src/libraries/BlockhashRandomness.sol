// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IRandomness} from "../interfaces/IReexecutionCommittee.sol";

/// @title BlockhashRandomness
/// @notice Seed = keccak256(blockhash(seedBlock), salt) for a block mined after the dispute opened.
/// Trust assumption (written down for Slither's weak-prng finding): on an L2 the sequencer orders
/// transactions and could in principle influence the blockhash of the seed block, but it learns the seed
/// only once the dispute exists and the block is fixed in advance, and drawing favourable jurors would
/// need a majority of staked verifiers. `block.prevrandao` is not used: it is constant on Arbitrum and
/// sequencer-chosen on OP Stack. A VRF can replace this contract behind `IRandomness`.
contract BlockhashRandomness is IRandomness {
    /// @notice The seed block is not yet mined, or older than 256 blocks (blockhash is then zero).
    /// @param seedBlock The block.
    /// @param current The current block.
    error SeedUnavailable(uint256 seedBlock, uint256 current);

    /// @inheritdoc IRandomness
    function seed(uint256 seedBlock, uint256 salt) external view returns (bytes32) {
        bytes32 hash = blockhash(seedBlock);
        if (hash == bytes32(0)) revert SeedUnavailable(seedBlock, block.number);
        return keccak256(abi.encode(hash, salt));
    }
}
