// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title SortitionSumTree
/// @notice A K-ary sum tree over (bytes32 key → uint256 weight): `set` inserts, updates or removes a key in
/// O(log_K n) writes and `draw` finds the key whose cumulative interval holds a point in O(K · log_K n) reads,
/// so a stake-weighted draw among 10,000+ verifiers stays cheap (docs/ARCHITECTURE.md, "Disputes v2").
/// The idea is Kleros' `SortitionSumTreeFactory` (a K-ary tree whose internal nodes hold the sums of their
/// children); this layout is our own: leaves are slots 0, 1, 2, … at level 0, the parent of node i at level l
/// is node i / K at level l + 1, and the root is node 0 of the top level. The tree grows by adding a level on
/// top when the leaf slots are full, so leaves never move and a key's slot is fixed while it has weight.
/// Units: weights are whatever the caller sums (the juror pool uses wei of free juror stake); a point is in the
/// same unit, in [0, total). Intervals: the leaves in slot order tile [0, total); slot s holds
/// [sum of the weights of slots < s, that + weight(s)). Zero-weight keys hold no slot, so they are never drawn.
/// Sums use checked arithmetic: a total above 2²⁵⁶ − 1 reverts with the compiler's overflow panic.
library SortitionSumTree {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The arity is outside [MIN_ARITY, MAX_ARITY].
    /// @param k The arity asked.
    /// @param min Smallest allowed.
    /// @param max Largest allowed.
    error InvalidArity(uint256 k, uint256 min, uint256 max);
    /// @notice `init` on a tree that already has an arity.
    /// @param k Its arity.
    error AlreadyInitialised(uint256 k);
    /// @notice The tree was used before `init`.
    error NotInitialised();
    /// @notice The zero key is reserved (it marks a vacant slot).
    error ZeroKey();
    /// @notice `draw` on a tree whose total weight is zero.
    error EmptyTree();
    /// @notice The drawn point is not below the total weight.
    /// @param point The point.
    /// @param total The total weight.
    error PointOutOfRange(uint256 point, uint256 total);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice Smallest arity (a binary tree).
    uint256 internal constant MIN_ARITY = 2;
    /// @notice Largest arity: a draw reads up to K nodes per level, so a wide tree makes draws dearer.
    uint256 internal constant MAX_ARITY = 64;

    /// @dev One slot: arity, levels above the leaves, leaf slots ever allocated.
    struct Shape {
        uint64 k;
        uint64 height;
        uint128 leafSlots;
    }

    /// @notice A tree; create it in storage and call `init` once.
    /// @dev `sums` is keyed by `_node(level, index)`; level 0 holds the leaves' weights.
    struct Tree {
        Shape shape;
        uint256[] vacant;
        mapping(bytes32 key => uint256 slotPlusOne) slotOf;
        mapping(uint256 slot => bytes32 key) keyAt;
        mapping(uint256 node => uint256 sum) sums;
    }

    /*//////////////////////////////////////////////////////////////
                                  WRITE
    //////////////////////////////////////////////////////////////*/

    /// @notice Gives the tree its arity K (children per node).
    /// @param tree The tree.
    /// @param k Arity, 2 to 64.
    function init(Tree storage tree, uint256 k) internal {
        if (tree.shape.k != 0) revert AlreadyInitialised(tree.shape.k);
        if (k < MIN_ARITY || k > MAX_ARITY) revert InvalidArity(k, MIN_ARITY, MAX_ARITY);
        // k ≤ 64 was just checked, so the cast keeps it whole.
        // forge-lint: disable-next-line(unsafe-typecast)
        tree.shape.k = uint64(k);
    }

    /// @notice Sets `key`'s weight: inserts it (weight > 0, no slot yet), updates it, or removes it
    /// (weight 0: its slot becomes vacant and is reused by the next insert). Setting an absent key to 0
    /// changes nothing.
    /// @param tree The tree.
    /// @param key The key (not zero).
    /// @param weight The new weight, in the caller's unit.
    function set(Tree storage tree, bytes32 key, uint256 weight) internal {
        if (key == bytes32(0)) revert ZeroKey();
        Shape memory shape = tree.shape;
        if (shape.k == 0) revert NotInitialised();
        uint256 slotPlusOne = tree.slotOf[key];
        if (slotPlusOne == 0) {
            if (weight == 0) return;
            uint256 newSlot = _allocate(tree, shape);
            tree.slotOf[key] = newSlot + 1;
            tree.keyAt[newSlot] = key;
            _add(tree, newSlot, weight);
            return;
        }
        uint256 slot = slotPlusOne - 1;
        uint256 old = tree.sums[_node(0, slot)];
        if (weight == 0) {
            delete tree.slotOf[key];
            delete tree.keyAt[slot];
            tree.vacant.push(slot);
            _subtract(tree, slot, old);
        } else if (weight > old) {
            _add(tree, slot, weight - old);
        } else if (weight < old) {
            _subtract(tree, slot, old - weight);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                  READ
    //////////////////////////////////////////////////////////////*/

    /// @notice The sum of every weight.
    /// @param tree The tree.
    /// @return The root's sum (0 for an empty tree).
    function total(Tree storage tree) internal view returns (uint256) {
        return tree.sums[_node(tree.shape.height, 0)];
    }

    /// @notice A key's weight (0 when absent).
    /// @param tree The tree.
    /// @param key The key.
    /// @return Its weight.
    function weightOf(Tree storage tree, bytes32 key) internal view returns (uint256) {
        uint256 slotPlusOne = tree.slotOf[key];
        return slotPlusOne == 0 ? 0 : tree.sums[_node(0, slotPlusOne - 1)];
    }

    /// @notice Keys with a non-zero weight.
    /// @param tree The tree.
    /// @return How many.
    function size(Tree storage tree) internal view returns (uint256) {
        return tree.shape.leafSlots - tree.vacant.length;
    }

    /// @notice The key whose interval holds `point`: the leaves in slot order tile [0, total).
    /// @param tree The tree.
    /// @param point A number in [0, total), e.g. a random word modulo `total(tree)`.
    /// @return key The key drawn (never one of weight 0).
    function draw(Tree storage tree, uint256 point) internal view returns (bytes32 key) {
        Shape memory shape = tree.shape;
        uint256 level = shape.height;
        uint256 sum = tree.sums[_node(level, 0)];
        if (sum == 0) revert EmptyTree();
        if (point >= sum) revert PointOutOfRange(point, sum);
        uint256 index = 0;
        while (level > 0) {
            --level;
            // point < the parent's sum = the sum of its children, so one child takes it before the last.
            uint256 child = index * shape.k;
            while (true) {
                uint256 weight = tree.sums[_node(level, child)];
                if (point < weight) break;
                point -= weight;
                ++child;
            }
            index = child;
        }
        key = tree.keyAt[index];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev A vacant slot if there is one, else the next new slot, growing the tree by a level on top when
    /// every slot of the current height is taken (the old root becomes the new root's first child).
    function _allocate(Tree storage tree, Shape memory shape) private returns (uint256 slot) {
        uint256 vacancies = tree.vacant.length;
        if (vacancies != 0) {
            slot = tree.vacant[vacancies - 1];
            tree.vacant.pop();
            return slot;
        }
        slot = shape.leafSlots;
        if (slot == uint256(shape.k) ** shape.height) {
            tree.sums[_node(shape.height + 1, 0)] = tree.sums[_node(shape.height, 0)];
            ++shape.height;
        }
        ++shape.leafSlots;
        tree.shape = shape;
    }

    function _add(Tree storage tree, uint256 slot, uint256 amount) private {
        (uint256 k, uint256 height) = (tree.shape.k, tree.shape.height);
        for (uint256 level = 0; level <= height; ++level) {
            tree.sums[_node(level, slot)] += amount;
            slot /= k;
        }
    }

    function _subtract(Tree storage tree, uint256 slot, uint256 amount) private {
        (uint256 k, uint256 height) = (tree.shape.k, tree.shape.height);
        for (uint256 level = 0; level <= height; ++level) {
            tree.sums[_node(level, slot)] -= amount;
            slot /= k;
        }
    }

    /// @dev Level in the top byte, index below: a tree of K ≥ 2 never has 2²⁴⁸ slots.
    function _node(uint256 level, uint256 index) private pure returns (uint256) {
        return (level << 248) | index;
    }
}
