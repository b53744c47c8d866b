// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CairnTypedData} from "../libraries/CairnTypedData.sol";

/// @title CairnEIP712
/// @notice The "Cairn"/"1" EIP-712 domain of this contract, cached while chain and address are unchanged.
/// We use our own instead of OpenZeppelin's EIP712: its ShortString immutables make Slither 0.11.6 fail to
/// build IR for every inheriting contract ("ERROR: Impossible to generate IR"), which would leave the
/// registry and the market unanalysed; and the domain then has one definition, `CairnTypedData`.
abstract contract CairnEIP712 {
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;

    constructor() {
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedDomainSeparator = CairnTypedData.domainSeparator(block.chainid, address(this));
    }

    /// @dev The domain separator for this chain and address (recomputed after a fork or when etched).
    function _domainSeparatorV4() internal view returns (bytes32) {
        if (address(this) == _cachedThis && block.chainid == _cachedChainId) return _cachedDomainSeparator;
        return CairnTypedData.domainSeparator(block.chainid, address(this));
    }

    /// @dev The digest to sign for `structHash` in this domain.
    function _hashTypedDataV4(bytes32 structHash) internal view returns (bytes32) {
        return CairnTypedData.digest(_domainSeparatorV4(), structHash);
    }
}
