// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IArbitrable} from "../src/interfaces/IArbitration.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnSystem} from "../test/utils/CairnSystem.sol";

/// @notice Gas of a whole jury draw through the juror pool at 10,000 jurors (issue #12, finding 6: the verifier set
/// scales with O(log n) draws): `committee.draw` of a first round of 3, 7 and 15 seats (15 is `MAX_JURORS`, an
/// appeal's largest round), a juror's `deposit` and the `sync` that puts matured stake into the tree. 10,000
/// registered operators hold one or two seats each (0.5 or 1 ETH, alternately), so the K = 4 tree has its full
/// height. Each figure is a transaction's: the call's gas with every slot and account of the contracts it touches
/// made cold first (`vm.cool`, as at a transaction's start), plus the 21,000 intrinsic gas and the calldata.
/// Run by `make bench` (scripts/bench.sh, the gas section), not by `make test`: the set-up registers 10,000
/// operators (minutes).
contract JuryScaleBench is CairnSystem, IArbitrable {
    uint256 internal constant JURORS = 10_000;

    string internal out;

    function setUp() public {
        setUpSystem();
        vm.prank(owner);
        committee.setArbitrable(address(this), true);
        vm.deal(address(this), 100 ether);
        for (uint256 i = 0; i < JURORS; ++i) {
            address juror = address(uint160(0x100000 + i));
            uint256 stake = (i % 2 + 1) * 0.5 ether;
            vm.deal(juror, 1 ether + stake);
            vm.startPrank(juror);
            operators.register{value: 1 ether}(juror, 0, keccak256("cpu"), bytes32(0), "");
            pool.deposit{value: stake}();
            vm.stopPrank();
        }
        vm.warp(block.timestamp + pool.maturity());
        for (uint256 i = 0; i < JURORS; ++i) {
            pool.sync(address(uint160(0x100000 + i)));
        }
    }

    /// @inheritdoc IArbitrable
    function rule(uint256, uint256) external {}

    /// @dev A transaction's gas: the last call's, plus intrinsic gas and `calldataBytes` of non-zero-heavy calldata
    /// (16 per byte, an upper bound on EIP-2028's 4/16).
    function _row(string memory op, uint256 calldataBytes) internal {
        uint256 used = vm.lastCallGas().gasTotalUsed + 21_000 + 16 * calldataBytes;
        out = string.concat(out, '{"op":"', op, '","gas":', vm.toString(used), "}\n");
    }

    /// @dev Every contract a draw, deposit or sync touches, cold again (no call after the first `cool`: a call
    /// would warm its target).
    function _coolAll() internal {
        address randomness = address(committee.randomness());
        vm.cool(address(committee));
        vm.cool(address(pool));
        vm.cool(address(operators));
        vm.cool(randomness);
    }

    function test_JuryDrawAt10000Jurors() public {
        assertEq(pool.jurorCount(), JURORS + 5, "10,000 jurors beside the system's five verifiers");
        uint8[3] memory sizes = [3, 7, 15];
        for (uint256 s = 0; s < sizes.length; ++s) {
            IReexecutionCommittee.Params memory p = committee.params();
            p.jurors = sizes[s];
            vm.prank(owner);
            committee.setParams(p);
            // (accused, challenger, stake cutoff, bond): the whole pool matured before now, so all of it may sit.
            uint256 id = committee.createDispute{value: p.fee}(
                3, abi.encode(verifiers[0], verifiers[1], uint64(block.timestamp), uint256(1 ether))
            );
            vm.roll(block.number + 2);
            _coolAll();
            committee.draw(id);
            _row(string.concat("draw a first round of ", vm.toString(sizes[s]), " seats"), 4 + 32);
            assertTrue(committee.jurorsOf(id).length != 0, "drawn");
            // Each seat is one tree draw plus one leaf update: O(K log_K n), far below a block.
            assertTrue(vm.lastCallGas().gasTotalUsed < uint256(sizes[s]) * 250_000 + 150_000, "draw gas ceiling");
        }
        address fresh = address(uint160(0x100000 + JURORS));
        vm.deal(fresh, 3 ether);
        vm.prank(fresh);
        operators.register{value: 1 ether}(fresh, 0, keccak256("cpu"), bytes32(0), "");
        _coolAll();
        vm.prank(fresh);
        pool.deposit{value: 1 ether}();
        _row("a new juror's deposit (pending: the tree is not touched)", 4);
        vm.warp(block.timestamp + pool.maturity());
        _coolAll();
        pool.sync(fresh);
        _row("sync: the matured deposit enters the tree as its 10,006th leaf", 4 + 32);
        assertEq(pool.seatsOf(fresh), 2, "in the tree");
        vm.writeFile("bench/results/jury-gas.jsonl", out);
    }
}
