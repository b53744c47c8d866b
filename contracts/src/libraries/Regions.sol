// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Regions
/// @notice Region bit masks (DESIGN.md "Regions"): bit 0 EU/EEA, 1 UK, 2 CH, 3 US, 4 CA, 5 BR, 6 JP, 7 KR,
/// 8 SG, 9 IN, 10 AU, 11 other.
library Regions {
    /// @notice Number of defined regions.
    uint256 internal constant COUNT = 12;
    /// @notice Every defined region.
    // forge-lint: disable-next-line(incorrect-shift) — 1 << 12 is meant: a mask of the 12 low bits.
    uint256 internal constant ALL = (1 << COUNT) - 1;

    /// @notice Whether `mask` is non-empty and names only defined regions.
    function isValidMask(uint256 mask) internal pure returns (bool) {
        return mask != 0 && mask & ~ALL == 0;
    }

    /// @notice Whether region index `region` is in `mask`.
    function contains(uint256 mask, uint8 region) internal pure returns (bool) {
        return region < COUNT && (mask >> region) & 1 == 1;
    }
}
