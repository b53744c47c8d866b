// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnVersioned} from "../interfaces/ICairnVersioned.sol";

/// @title CairnVersion
/// @notice The one definition of the interface version every Cairn contract reports.
abstract contract CairnVersion is ICairnVersioned {
    /// @notice Cairn's contract interfaces, version 6 (see ICairnVersioned).
    uint16 internal constant INTERFACE_VERSION = 6;

    /// @inheritdoc ICairnVersioned
    function interfaceVersion() external pure returns (uint16) {
        return INTERFACE_VERSION;
    }
}
