// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SortitionSumTree} from "../src/libraries/SortitionSumTree.sol";
import {Test} from "./utils/Test.sol";

/// @notice Exposes the library over one tree, plus views of its inside for the tests' own model.
contract SortitionSumTreeHarness {
    using SortitionSumTree for SortitionSumTree.Tree;

    SortitionSumTree.Tree internal _tree;

    function init(uint256 k) external {
        _tree.init(k);
    }

    function set(bytes32 key, uint256 weight) external {
        _tree.set(key, weight);
    }

    /// @dev Inserts keys `first`..`first + count - 1` (as bytes32 of the number) with weights 1 + key × 7919
    /// mod 10^18 wei-ish, so a large tree is built in one call and always the same.
    function fill(uint256 first, uint256 count) external {
        for (uint256 i = first; i < first + count; ++i) {
            _tree.set(bytes32(i), 1 + (i * 7919) % 1e18);
        }
    }

    function total() external view returns (uint256) {
        return _tree.total();
    }

    function weightOf(bytes32 key) external view returns (uint256) {
        return _tree.weightOf(key);
    }

    function size() external view returns (uint256) {
        return _tree.size();
    }

    function draw(uint256 point) external view returns (bytes32) {
        return _tree.draw(point);
    }

    function shape() external view returns (uint256 k, uint256 height, uint256 leafSlots) {
        SortitionSumTree.Shape memory s = _tree.shape;
        return (s.k, s.height, s.leafSlots);
    }

    /// @dev The slot of a key, or type(uint256).max when it has none.
    function slotOf(bytes32 key) external view returns (uint256) {
        uint256 slotPlusOne = _tree.slotOf[key];
        return slotPlusOne == 0 ? type(uint256).max : slotPlusOne - 1;
    }

    function keyAt(uint256 slot) external view returns (bytes32) {
        return _tree.keyAt[slot];
    }

    function nodeSum(uint256 level, uint256 index) external view returns (uint256) {
        return _tree.sums[(level << 248) | index];
    }
}

/// @notice Unit and fuzz tests of the sortition sum tree against a plain model (arrays of keys and weights).
contract SortitionSumTreeTest is Test {
    SortitionSumTreeHarness internal tree;

    bytes32 internal constant A = bytes32(uint256(0xa));
    bytes32 internal constant B = bytes32(uint256(0xb));
    bytes32 internal constant C = bytes32(uint256(0xc));

    function setUp() public {
        tree = new SortitionSumTreeHarness();
        tree.init(4);
    }

    /*//////////////////////////////////////////////////////////////
                                  INIT
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_ArityOutOfBounds() public {
        SortitionSumTreeHarness fresh = new SortitionSumTreeHarness();
        vm.expectRevert(abi.encodeWithSelector(SortitionSumTree.InvalidArity.selector, 1, 2, 64));
        fresh.init(1);
        vm.expectRevert(abi.encodeWithSelector(SortitionSumTree.InvalidArity.selector, 65, 2, 64));
        fresh.init(65);
        fresh.init(64);
        (uint256 k,,) = fresh.shape();
        assertEq(k, 64, "largest arity accepted");
    }

    function test_RevertWhen_InitialisedTwice() public {
        vm.expectRevert(abi.encodeWithSelector(SortitionSumTree.AlreadyInitialised.selector, 4));
        tree.init(2);
    }

    function test_RevertWhen_UsedBeforeInit() public {
        SortitionSumTreeHarness fresh = new SortitionSumTreeHarness();
        vm.expectRevert(SortitionSumTree.NotInitialised.selector);
        fresh.set(A, 1);
    }

    function test_RevertWhen_KeyIsZero() public {
        vm.expectRevert(SortitionSumTree.ZeroKey.selector);
        tree.set(bytes32(0), 1);
    }

    /*//////////////////////////////////////////////////////////////
                                   SET
    //////////////////////////////////////////////////////////////*/

    function test_InsertUpdateRemoveKeepTheSums() public {
        tree.set(A, 5);
        tree.set(B, 7);
        tree.set(C, 11);
        assertEq(tree.total(), 23, "total after inserts");
        assertEq(tree.size(), 3, "three keys");
        tree.set(B, 2);
        assertEq(tree.total(), 18, "total after a decrease");
        tree.set(A, 105);
        assertEq(tree.total(), 118, "total after an increase");
        assertEq(tree.weightOf(A), 105, "A's weight");
        tree.set(C, 0);
        assertEq(tree.total(), 107, "total after a removal");
        assertEq(tree.size(), 2, "two keys left");
        assertEq(tree.weightOf(C), 0, "C removed");
        assertEq(tree.slotOf(C), type(uint256).max, "C holds no slot");
    }

    function test_SettingAnAbsentKeyToZeroChangesNothing() public {
        tree.set(A, 0);
        (,, uint256 slots) = tree.shape();
        assertEq(slots, 0, "no slot allocated");
        assertEq(tree.size(), 0, "no key");
        tree.set(A, 3);
        tree.set(A, 3);
        assertEq(tree.total(), 3, "same weight twice is one weight");
    }

    function test_RemovedSlotIsReusedByTheNextInsert() public {
        tree.set(A, 1);
        tree.set(B, 2);
        tree.set(C, 3);
        uint256 slotB = tree.slotOf(B);
        tree.set(B, 0);
        bytes32 d = bytes32(uint256(0xd));
        tree.set(d, 4);
        assertEq(tree.slotOf(d), slotB, "new key takes the vacant slot");
        (,, uint256 slots) = tree.shape();
        assertEq(slots, 3, "no new slot allocated");
        assertEq(tree.total(), 8, "sums exact after reuse");
    }

    function test_GrowsALevelWhenTheSlotsAreFull() public {
        SortitionSumTreeHarness binary = new SortitionSumTreeHarness();
        binary.init(2);
        uint256[6] memory heights = [uint256(0), 1, 2, 2, 3, 3];
        for (uint256 i = 0; i < 6; ++i) {
            binary.set(bytes32(i + 1), i + 1);
            (, uint256 height, uint256 slots) = binary.shape();
            assertEq(slots, i + 1, "one slot per key");
            assertEq(height, heights[i], "height = ceil(log2(slots))");
        }
        assertEq(binary.total(), 21, "1 + ... + 6");
        // The root of height 3 holds the total; its first child the first four leaves.
        assertEq(binary.nodeSum(3, 0), 21, "root");
        assertEq(binary.nodeSum(2, 0), 10, "first subtree: 1 + 2 + 3 + 4");
        assertEq(binary.nodeSum(2, 1), 11, "second subtree: 5 + 6");
    }

    function test_RemovingEveryKeyEmptiesTheTree() public {
        tree.set(A, 1);
        tree.set(B, 2);
        tree.set(A, 0);
        tree.set(B, 0);
        assertEq(tree.total(), 0, "total");
        assertEq(tree.size(), 0, "size");
        vm.expectRevert(SortitionSumTree.EmptyTree.selector);
        tree.draw(0);
    }

    function test_RevertWhen_TheTotalWouldOverflow() public {
        tree.set(A, type(uint256).max);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        tree.set(B, 1);
    }

    /*//////////////////////////////////////////////////////////////
                                  DRAW
    //////////////////////////////////////////////////////////////*/

    function test_DrawMapsEachIntervalToItsKey() public {
        tree.set(A, 5); // [0, 5)
        tree.set(B, 7); // [5, 12)
        tree.set(C, 11); // [12, 23)
        assertEq(tree.draw(0), A, "0");
        assertEq(tree.draw(4), A, "4");
        assertEq(tree.draw(5), B, "5");
        assertEq(tree.draw(11), B, "11");
        assertEq(tree.draw(12), C, "12");
        assertEq(tree.draw(22), C, "22");
        vm.expectRevert(abi.encodeWithSelector(SortitionSumTree.PointOutOfRange.selector, 23, 23));
        tree.draw(23);
    }

    function test_DrawSkipsARemovedKey() public {
        tree.set(A, 5);
        tree.set(B, 7);
        tree.set(C, 11);
        tree.set(B, 0);
        for (uint256 p = 0; p < 16; ++p) {
            bytes32 key = tree.draw(p);
            assertTrue(key != B, "removed key drawn");
            assertEq(key, p < 5 ? A : C, "interval after removal");
        }
    }

    function test_RevertWhen_DrawingAnEmptyTree() public {
        vm.expectRevert(SortitionSumTree.EmptyTree.selector);
        tree.draw(0);
    }

    /*//////////////////////////////////////////////////////////////
                                  FUZZ
    //////////////////////////////////////////////////////////////*/

    uint256 internal constant UNIVERSE = 24;

    /// @dev Arbitrary sequences of set (insert, update, remove) over 24 keys on a tree of arity 2 to 8:
    /// after every step the total, each weight, the size and every internal node equal the model's sums.
    function testFuzz_SumsStayExact(uint256 seed, uint8 steps, uint8 arity) public {
        SortitionSumTreeHarness t = _fresh(arity);
        uint256[UNIVERSE] memory model;
        uint256 n = bound(steps, 1, 60);
        for (uint256 i = 0; i < n; ++i) {
            (uint256 key, uint256 weight) = _step(seed, i);
            t.set(bytes32(key + 1), weight);
            model[key] = weight;
            _assertMatches(t, model);
        }
        _assertNodesAreSumsOfChildren(t);
    }

    /// @dev After arbitrary sets, a point drawn anywhere in [0, total) returns the key whose cumulative
    /// interval (in slot order) holds it, and never a key of weight zero.
    function testFuzz_DrawReturnsTheKeyWhoseIntervalHoldsThePoint(uint256 seed, uint8 steps, uint8 arity, uint256 p)
        public
    {
        SortitionSumTreeHarness t = _fresh(arity);
        uint256[UNIVERSE] memory model;
        uint256 n = bound(steps, 1, 60);
        for (uint256 i = 0; i < n; ++i) {
            (uint256 key, uint256 weight) = _step(seed, i);
            t.set(bytes32(key + 1), weight);
            model[key] = weight;
        }
        uint256 sum = t.total();
        vm.assume(sum > 0);
        uint256 point = p % sum;
        bytes32 drawn = t.draw(point);
        assertEq(drawn, _expected(t, point), "key of the interval holding the point");
        assertTrue(model[uint256(drawn) - 1] > 0, "zero-weight key drawn");
        // The first and last point of the drawn key's interval map to it too.
        (uint256 start, uint256 end) = _interval(t, drawn);
        assertEq(t.draw(start), drawn, "interval start");
        assertEq(t.draw(end - 1), drawn, "interval end");
    }

    /// @dev Removing keys and adding others never allocates a slot while one is vacant.
    function testFuzz_RemovingAndReAddingReusesSlots(uint256 seed, uint8 count) public {
        uint256 n = bound(count, 1, 30);
        for (uint256 i = 0; i < n; ++i) {
            tree.set(bytes32(i + 1), 1 + uint256(keccak256(abi.encode(seed, i))) % 1e20);
        }
        (,, uint256 slotsBefore) = tree.shape();
        uint256 removed = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (uint256(keccak256(abi.encode(seed, "remove", i))) % 2 == 0) {
                tree.set(bytes32(i + 1), 0);
                ++removed;
            }
        }
        for (uint256 i = 0; i < removed; ++i) {
            tree.set(bytes32(1000 + i), 1);
        }
        (,, uint256 slotsAfter) = tree.shape();
        assertEq(slotsAfter, slotsBefore, "every vacant slot reused, none added");
        assertEq(tree.size(), n, "as many keys as before");
        tree.set(bytes32(uint256(5000)), 1);
        (,, uint256 slotsNew) = tree.shape();
        assertEq(slotsNew, slotsBefore + 1, "a new slot only once none is vacant");
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    function _fresh(uint8 arity) internal returns (SortitionSumTreeHarness t) {
        t = new SortitionSumTreeHarness();
        t.init(bound(arity, 2, 8));
    }

    /// @dev Step i: a key of the universe and a weight, zero about a third of the time (a removal).
    function _step(uint256 seed, uint256 i) internal pure returns (uint256 key, uint256 weight) {
        uint256 r = uint256(keccak256(abi.encode(seed, i)));
        key = r % UNIVERSE;
        weight = (r >> 64) % 3 == 0 ? 0 : 1 + (r >> 128) % 1e24;
    }

    function _assertMatches(SortitionSumTreeHarness t, uint256[UNIVERSE] memory model) internal view {
        uint256 sum = 0;
        uint256 keys = 0;
        for (uint256 key = 0; key < UNIVERSE; ++key) {
            assertEq(t.weightOf(bytes32(key + 1)), model[key], "weight of a key");
            sum += model[key];
            if (model[key] != 0) ++keys;
        }
        assertEq(t.total(), sum, "total = sum of the weights");
        assertEq(t.size(), keys, "size = keys of non-zero weight");
    }

    function _assertNodesAreSumsOfChildren(SortitionSumTreeHarness t) internal view {
        (uint256 k, uint256 height, uint256 slots) = t.shape();
        uint256 width = slots;
        for (uint256 level = 1; level <= height; ++level) {
            width = (width + k - 1) / k;
            for (uint256 index = 0; index < width; ++index) {
                uint256 children = 0;
                for (uint256 j = 0; j < k; ++j) {
                    children += t.nodeSum(level - 1, index * k + j);
                }
                assertEq(t.nodeSum(level, index), children, "node = sum of its children");
            }
        }
    }

    /// @dev The model's answer: walk the slots in order, accumulating weights.
    function _expected(SortitionSumTreeHarness t, uint256 point) internal view returns (bytes32) {
        (,, uint256 slots) = t.shape();
        uint256 start = 0;
        for (uint256 slot = 0; slot < slots; ++slot) {
            uint256 w = t.nodeSum(0, slot);
            if (point < start + w) return t.keyAt(slot);
            start += w;
        }
        revert("point beyond the total");
    }

    function _interval(SortitionSumTreeHarness t, bytes32 key) internal view returns (uint256 start, uint256 end) {
        uint256 target = t.slotOf(key);
        for (uint256 slot = 0; slot < target; ++slot) {
            start += t.nodeSum(0, slot);
        }
        end = start + t.weightOf(key);
    }
}

/// @notice Gas at 10,000 leaves (arity 4 and 16), built the same way every time so the figures can sit in
/// .gas-snapshot. Each test reports its figures as `log_named_uint` (shown by `forge test -vv`) and asserts a
/// ceiling, so a regression fails here rather than only in the snapshot.
abstract contract SortitionSumTreeGasBase is Test {
    event log_named_uint(string key, uint256 val);

    uint256 internal constant LEAVES = 10_000;

    SortitionSumTreeHarness internal tree;

    function arity() internal pure virtual returns (uint256);

    function setUp() public {
        tree = new SortitionSumTreeHarness();
        tree.init(arity());
        // Keys 1..10,000, in five calls so no call nears a block's gas.
        for (uint256 i = 0; i < 5; ++i) {
            tree.fill(1 + i * 2000, 2000);
        }
    }

    function test_Gas_TreeHas10000Leaves() public view {
        assertEq(tree.size(), LEAVES, "leaves");
        (uint256 k, uint256 height,) = tree.shape();
        uint256 capacity = k ** height;
        assertTrue(capacity >= LEAVES && capacity / k < LEAVES, "height = ceil(log_k(10,000))");
    }

    /// @dev 32 draws at points spread over [0, total): the first (cold, as a draw in its own transaction), the
    /// mean and the worst; each drawn key must have weight.
    function test_Gas_DrawAt10000Leaves() public {
        uint256 sum = tree.total();
        uint256 first = 0;
        uint256 worst = 0;
        uint256 all = 0;
        for (uint256 i = 0; i < 32; ++i) {
            uint256 point = uint256(keccak256(abi.encode("draw", i))) % sum;
            bytes32 key = tree.draw(point);
            uint256 used = vm.lastCallGas().gasTotalUsed;
            if (i == 0) first = used;
            all += used;
            if (used > worst) worst = used;
            assertTrue(tree.weightOf(key) > 0, "drawn key has weight");
        }
        emit log_named_uint("draw gas, first (every node cold)", first);
        emit log_named_uint("draw gas, mean of 32 (upper levels warm after the first)", all / 32);
        emit log_named_uint("draw gas, worst of 32", worst);
        assertTrue(worst < drawCeiling(), "draw gas under its ceiling");
    }

    /// @dev An update of an existing leaf (cold, as in its own transaction), an insert into a new slot, a
    /// removal, and a re-insert into the vacant slot (upper levels warm by then).
    function test_Gas_SetAt10000Leaves() public {
        tree.set(bytes32(uint256(5000)), 123 ether);
        uint256 update = vm.lastCallGas().gasTotalUsed;
        tree.set(bytes32(uint256(LEAVES + 1)), 1 ether);
        uint256 insert = vm.lastCallGas().gasTotalUsed;
        tree.set(bytes32(uint256(42)), 0);
        uint256 remove = vm.lastCallGas().gasTotalUsed;
        tree.set(bytes32(uint256(LEAVES + 2)), 2 ether);
        uint256 reinsert = vm.lastCallGas().gasTotalUsed;
        emit log_named_uint("set gas, update", update);
        emit log_named_uint("set gas, insert (new slot)", insert);
        emit log_named_uint("set gas, remove", remove);
        emit log_named_uint("set gas, insert (reused slot)", reinsert);
        assertEq(tree.slotOf(bytes32(uint256(LEAVES + 2))), 41, "re-insert took the removed slot");
        uint256 ceiling = setCeiling();
        assertTrue(update < ceiling && insert < ceiling && remove < ceiling && reinsert < ceiling, "set gas ceiling");
    }

    function drawCeiling() internal pure virtual returns (uint256);

    function setCeiling() internal pure virtual returns (uint256);
}

contract SortitionSumTreeGasK4Test is SortitionSumTreeGasBase {
    function arity() internal pure override returns (uint256) {
        return 4;
    }

    function drawCeiling() internal pure override returns (uint256) {
        return 100_000;
    }

    function setCeiling() internal pure override returns (uint256) {
        return 250_000;
    }
}

contract SortitionSumTreeGasK16Test is SortitionSumTreeGasBase {
    function arity() internal pure override returns (uint256) {
        return 16;
    }

    function drawCeiling() internal pure override returns (uint256) {
        return 200_000;
    }

    function setCeiling() internal pure override returns (uint256) {
        return 200_000;
    }
}
