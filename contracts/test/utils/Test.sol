// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Vm} from "./Vm.sol";

/// @notice Our small test base: the cheatcode handle, assertions that revert with context, `bound`.
abstract contract Test {
    /// @dev The cheatcode address: address(bytes20(uint160(uint256(keccak256("hevm cheat code"))))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev forge treats a contract with IS_TEST = true as a test suite.
    bool public IS_TEST = true;

    /// @dev Contracts the invariant fuzzer calls (forge reads `targetContracts()`); empty = all.
    address[] private _targetContracts;

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    error AssertionFailed(string message);

    function fail(string memory message) internal pure {
        revert AssertionFailed(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) fail(string.concat(message, ": ", _u(a), " != ", _u(b)));
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) fail(string.concat(message, ": ", _h(a), " != ", _h(b)));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) {
            fail(
                string.concat(message, ": ", _h(bytes32(uint256(uint160(a)))), " != ", _h(bytes32(uint256(uint160(b)))))
            );
        }
    }

    function assertEq(bytes memory a, bytes memory b, string memory message) internal pure {
        if (keccak256(a) != keccak256(b)) fail(message);
    }

    function assertEq(string memory a, string memory b, string memory message) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) fail(string.concat(message, ": '", a, "' != '", b, "'"));
    }

    function assertNotEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a == b) fail(string.concat(message, ": both ", _h(a)));
    }

    /// @dev Maps any fuzzed `x` into [min, max] without discarding runs.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (min > max) fail("bound: min > max");
        if (min == 0 && max == type(uint256).max) return x;
        return min + (x % (max - min + 1));
    }

    /// @dev A labelled address derived from a name, with its private key.
    /// @dev Signs an EIP-2612 permit for a token with the given domain separator.
    function signPermit(
        uint256 key,
        bytes32 domainSeparator,
        address owner,
        address spender,
        uint256 value,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                spender,
                value,
                nonce,
                deadline
            )
        );
        return vm.sign(key, keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash)));
    }

    function makeAddrAndKey(string memory name) internal returns (address account, uint256 key) {
        key = uint256(keccak256(bytes(name)));
        account = vm.addr(key);
        vm.label(account, name);
    }

    function _u(uint256 x) private pure returns (string memory) {
        return vm.toString(x);
    }

    function _h(bytes32 x) private pure returns (string memory out) {
        bytes memory digits = "0123456789abcdef";
        bytes memory s = new bytes(66);
        s[0] = "0";
        s[1] = "x";
        for (uint256 i = 0; i < 32; ++i) {
            s[2 + 2 * i] = digits[uint8(x[i]) >> 4];
            s[3 + 2 * i] = digits[uint8(x[i]) & 0x0f];
        }
        out = string(s);
    }
}
