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
/// Beyond the 256 blocks `blockhash` serves, the hash is read from EIP-2935's history contract (8,191 blocks;
/// OP Stack Isthmus, Ethereum Prague) where the chain has it and numbers it like `block.number` (not Arbitrum,
/// whose `block.number` is L1's; deployments there use a VRF).
contract BlockhashRandomness is IRandomness {
    /// @notice EIP-2935's history contract (the address the EIP fixes).
    address public constant HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;

    /// @notice The seed block is not yet mined, or older than both `blockhash` (256 blocks) and EIP-2935's
    /// history (8,191 blocks, where deployed) serve.
    /// @param seedBlock The block.
    /// @param current The current block.
    error SeedUnavailable(uint256 seedBlock, uint256 current);

    /// @inheritdoc IRandomness
    function seed(uint256 seedBlock, uint256 salt) external view returns (bytes32) {
        bytes32 hash = blockhash(seedBlock);
        if (hash == bytes32(0) && seedBlock < block.number && HISTORY.code.length != 0) {
            // The history contract reverts outside its window; a failed call leaves the hash zero.
            // slither-disable-next-line low-level-calls
            (bool ok, bytes memory out) = HISTORY.staticcall(abi.encode(seedBlock));
            if (ok && out.length == 32) hash = abi.decode(out, (bytes32));
        }
        if (hash == bytes32(0)) revert SeedUnavailable(seedBlock, block.number);
        return keccak256(abi.encode(hash, salt));
    }
}
