// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title DevToken
/// @notice A 6-decimal, EIP-2612 stablecoin stand-in for devnets and integration tests (`cairn-deploy seed`
/// deploys it). Never deployed by `cairn-deploy deploy`: production networks use real tokens.
contract DevToken is ERC20Permit, Ownable {
    /// @param owner_ May mint.
    constructor(address owner_) ERC20("Cairn Dev USD", "DUSD") ERC20Permit("Cairn Dev USD") Ownable(owner_) {}

    /// @notice Mints `amount` to `to` (owner only).
    /// @param to Recipient.
    /// @param amount Token units (6 decimals).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
