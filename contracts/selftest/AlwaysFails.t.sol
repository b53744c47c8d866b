// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../test/utils/Test.sol";

/// @notice Not part of the suite: scripts/selftest-make-test.sh points forge at this folder to prove that a
/// failing forge test makes `make test-contracts` exit non-zero (the npm node wrapper of forge exits 0).
contract AlwaysFailsTest is Test {
    function test_ThisMustFail() public pure {
        assertEq(uint256(1), uint256(2), "deliberate failure");
    }
}
