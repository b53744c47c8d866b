// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Splits
/// @notice The money arithmetic of settlement, in one place so that halmos can prove it never creates or
/// loses a wei (contracts/test/halmos/Proofs.t.sol).
library Splits {
    /// @notice Basis points in one.
    uint256 internal constant BPS = 10_000;

    /// @notice The escrow split on finalize: royalty to the seller, `feeBps` of the payment to the
    /// treasury, the rest to the operator. Callers ensure payment >= royalty + fee.
    function escrow(uint256 payment, uint256 royalty, uint256 feeBps)
        internal
        pure
        returns (uint256 protocolFee, uint256 operatorFee)
    {
        protocolFee = fee(payment, feeBps);
        operatorFee = payment - royalty - protocolFee;
    }

    /// @notice The protocol fee: `feeBps` of the payment, rounded down.
    function fee(uint256 payment, uint256 feeBps) internal pure returns (uint256) {
        return payment * feeBps / BPS;
    }

    /// @notice A losing bond: `burnBps` of it burned, the rest kept for the winner.
    function burn(uint256 amount, uint256 burnBps) internal pure returns (uint256 burned, uint256 kept) {
        burned = amount * burnBps / BPS;
        kept = amount - burned;
    }
}
