// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {OperatorRegistry} from "../src/OperatorRegistry.sol";
import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {EthRefuser} from "./utils/mocks/Wallets.sol";
import {Test} from "./utils/Test.sol";

/// @dev Re-enters withdrawUnstaked from its receive hook: on every payment, or only on the first (`once`;
/// later payments are then simply accepted).
contract Reenterer {
    OperatorRegistry internal immutable registry;
    bool internal immutable once;
    bool internal entered;

    constructor(OperatorRegistry registry_, bool once_) {
        registry = registry_;
        once = once_;
    }

    function join() external payable {
        registry.register{value: msg.value}(address(this), 0, bytes32(0), bytes32(0), "");
    }

    function leave(uint256 amount) external {
        registry.requestUnstake(amount);
    }

    function withdraw() external {
        registry.withdrawUnstaked();
    }

    receive() external payable {
        if (once && entered) return;
        entered = true;
        registry.withdrawUnstaked();
    }
}

contract OperatorRegistryTest is Test {
    OperatorRegistry internal registry;
    address internal owner = address(0xA11CE);
    address internal market = address(0x3A4);
    address internal committee = address(0xC0C);
    address internal op = address(0x0B1);
    address internal signer = address(0x516);
    address internal treasury = address(0x7EA);

    uint256 internal constant MIN = 1 ether;
    uint64 internal constant DELAY = 7 days;

    function setUp() public {
        vm.warp(1_800_000_000);
        registry = new OperatorRegistry(owner, MIN, DELAY);
        vm.startPrank(owner);
        registry.setAuthorised(market, true);
        registry.setAuthorised(committee, true);
        vm.stopPrank();
        vm.deal(op, 100 ether);
    }

    function _join(uint256 stake) internal {
        vm.prank(op);
        registry.register{value: stake}(signer, 3, keccak256("nvidia-h100"), bytes32(0), "https://op.example");
    }

    /// @dev Every stake movement and profile change is announced with its resulting totals.
    function test_EventsOfEveryStateChange() public {
        _join(MIN);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.StakeAdded(op, 2 ether, MIN + 2 ether);
        vm.prank(op);
        registry.addStake{value: 2 ether}();

        vm.expectEmit(address(registry));
        emit IOperatorRegistry.StakeLocked(op, market, 1 ether, 1 ether);
        vm.prank(market);
        registry.lockBond(op, 1 ether);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.StakeUnlocked(op, market, 0.4 ether, 0.6 ether);
        vm.prank(market);
        registry.unlock(op, 0.4 ether);
        assertEq(registry.lockedBy(op, market), 0.6 ether, "the market's lock after a partial release");
        assertEq(registry.getOperator(op).locked, 0.6 ether, "total lock after a partial release");

        vm.expectEmit(address(registry));
        emit IOperatorRegistry.UnstakeRequested(op, 0.5 ether, 2.5 ether, 0.5 ether, uint64(block.timestamp) + DELAY);
        vm.prank(op);
        registry.requestUnstake(0.5 ether);
        vm.warp(block.timestamp + DELAY);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.UnstakeWithdrawn(op, 0.5 ether);
        vm.prank(op);
        registry.withdrawUnstaked();

        vm.expectEmit(address(registry));
        emit IOperatorRegistry.ProfileUpdated(op, 6, keccak256("h200"), keccak256("quote"), "https://jp.example");
        vm.prank(op);
        registry.updateProfile(6, keccak256("h200"), keccak256("quote"), "https://jp.example");
        IOperatorRegistry.Operator memory o = registry.getOperator(op);
        assertEq(o.region, 6, "region updated");
        assertEq(o.hardwareTag, keccak256("h200"), "hardware updated");
        assertEq(o.attestationHash, keccak256("quote"), "attestation updated");
        assertEq(o.endpoint, "https://jp.example", "endpoint updated");
    }

    function test_GovernanceChangesAreAnnouncedAndBounded() public {
        vm.startPrank(owner);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.AuthorisationSet(treasury, true);
        registry.setAuthorised(treasury, true);
        vm.expectEmit(address(registry));
        emit ICairnCommon.ParameterUpdated("minStake", MIN, 3 ether);
        registry.setMinStake(3 ether);
        vm.expectEmit(address(registry));
        emit ICairnCommon.ParameterUpdated("unbondingDelay", DELAY, 2 days);
        registry.setUnbondingDelay(2 days);
        assertEq(registry.minStake(), 3 ether, "min stake");
        assertEq(registry.unbondingDelay(), 2 days, "delay");
        uint256 max = registry.MAX_STAKE_PARAM();
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "minStake", max + 1, 0, max));
        registry.setMinStake(max + 1);
        vm.stopPrank();
    }

    /// @dev A slash's recipient cannot re-enter the registry while it is paid (withdrawUnstaked here).
    function test_RevertWhen_SlashRecipientReenters() public {
        _join(MIN);
        Reenterer attacker = new Reenterer(registry, true);
        vm.deal(address(attacker), 10 ether);
        attacker.join{value: 2 ether}();
        attacker.leave(1 ether);
        vm.warp(block.timestamp + DELAY);
        vm.prank(market);
        vm.expectRevert();
        registry.slash(op, 0.5 ether, address(attacker));
        assertEq(registry.getOperator(op).stake, MIN, "nothing slashed");
    }

    function test_RegisterStoresTheAttestation() public {
        vm.prank(op);
        registry.register{value: MIN}(signer, 1, keccak256("tpu"), keccak256("attestation report"), "grpc://x");
        IOperatorRegistry.Operator memory o = registry.getOperator(op);
        assertEq(o.attestationHash, keccak256("attestation report"), "attestation stored");
        assertEq(o.hardwareTag, keccak256("tpu"), "hardware tag");
        assertEq(o.endpoint, "grpc://x", "endpoint");
    }

    function test_RegisterAtMinimumStake() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.StakeTooLow.selector, MIN - 1, MIN));
        vm.prank(op);
        registry.register{value: MIN - 1}(signer, 3, bytes32(0), bytes32(0), "");
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.OperatorRegistered(op, signer, 3, keccak256("nvidia-h100"), 0, "https://op.example", MIN);
        _join(MIN);
        IOperatorRegistry.Operator memory o = registry.getOperator(op);
        assertTrue(o.registered, "registered");
        assertEq(o.signer, signer, "signer");
        assertEq(o.region, 3, "region");
        assertEq(o.stake, MIN, "stake");
        assertEq(o.hardwareTag, keccak256("nvidia-h100"), "hardware tag stored");
        assertEq(o.attestationHash, bytes32(0), "no attestation");
        assertEq(o.endpoint, "https://op.example", "endpoint stored");
        assertEq(registry.totalBonded(), MIN, "bonded");
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.AlreadyRegistered.selector, op));
        _join(MIN);
    }

    function test_RevertWhen_RegisterWithBadProfile() public {
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidRegion.selector, 12));
        vm.prank(op);
        registry.register{value: MIN}(signer, 12, bytes32(0), bytes32(0), "");
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidRegion.selector, 200));
        vm.prank(op);
        registry.register{value: MIN}(signer, 200, bytes32(0), bytes32(0), "");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "signer"));
        vm.prank(op);
        registry.register{value: MIN}(address(0), 1, bytes32(0), bytes32(0), "");
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotRegistered.selector, op));
        vm.prank(op);
        registry.addStake{value: 1}();
    }

    function test_UnbondingDelayEdges() public {
        _join(3 ether);
        vm.prank(op);
        registry.requestUnstake(1 ether);
        uint64 readyAt = uint64(block.timestamp) + DELAY;
        assertEq(registry.getOperator(op).unbonding, 1 ether, "unbonding");
        vm.warp(readyAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.UnbondingNotReady.selector, op, readyAt, readyAt - 1));
        vm.prank(op);
        registry.withdrawUnstaked();
        vm.warp(readyAt);
        uint256 before = op.balance;
        vm.prank(op);
        registry.withdrawUnstaked();
        assertEq(op.balance - before, 1 ether, "paid at the exact second");
        assertEq(registry.totalBonded(), 2 ether, "bonded");
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NothingUnbonding.selector, op));
        vm.prank(op);
        registry.withdrawUnstaked();
    }

    function test_RepeatedUnstakesAndLocksAddUp() public {
        _join(4 ether);
        vm.startPrank(op);
        registry.requestUnstake(1 ether);
        registry.requestUnstake(1 ether);
        vm.stopPrank();
        assertEq(registry.getOperator(op).unbonding, 2 ether, "unbonding adds up");
        vm.startPrank(market);
        registry.lockBond(op, 1 ether);
        registry.lockBond(op, 1 ether);
        vm.stopPrank();
        assertEq(registry.lockedBy(op, market), 2 ether, "one locker's locks add up");
        assertEq(registry.freeStake(op), 0, "nothing free");
        vm.warp(block.timestamp + DELAY);
        uint256 before = op.balance;
        vm.prank(op);
        registry.withdrawUnstaked();
        assertEq(op.balance - before, 2 ether, "both unstakes paid");
    }

    function test_ProfileChecksAndGovernanceEdges() public {
        _join(MIN);
        vm.startPrank(op);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "signer"));
        registry.setSigner(address(0));
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidRegion.selector, 12));
        registry.updateProfile(12, bytes32(0), bytes32(0), "");
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.InvalidRegion.selector, 13));
        registry.updateProfile(13, bytes32(0), bytes32(0), "");
        registry.updateProfile(11, bytes32(0), bytes32(0), ""); // the last region
        vm.stopPrank();
        assertEq(registry.getOperator(op).region, 11, "last region accepted");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "to"));
        vm.prank(market);
        registry.slash(op, 1, address(0));
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.ZeroAddress.selector, "account"));
        registry.setAuthorised(address(0), true);
        registry.setMinStake(1000 ether);
        registry.setUnbondingDelay(90 days);
        vm.stopPrank();
        assertEq(registry.minStake(), 1000 ether, "highest min stake");
        assertEq(registry.unbondingDelay(), 90 days, "longest delay");
    }

    function test_WithdrawLongAfterTheDelay() public {
        _join(2 ether);
        vm.prank(op);
        registry.requestUnstake(1 ether);
        vm.warp(block.timestamp + DELAY + 30 days);
        vm.prank(op);
        registry.withdrawUnstaked();
        assertEq(registry.getOperator(op).unbonding, 0, "paid out");
    }

    function test_LockedStakeCannotLeave() public {
        _join(2 ether);
        vm.prank(market);
        registry.lockBond(op, 1.5 ether);
        assertEq(registry.freeStake(op), 0.5 ether, "free");
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.InsufficientFreeStake.selector, op, 0.5 ether, 1 ether)
        );
        vm.prank(op);
        registry.requestUnstake(1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.InsufficientFreeStake.selector, op, 0.5 ether, 1 ether)
        );
        vm.prank(committee);
        registry.lockBond(op, 1 ether);
        vm.prank(market);
        registry.unlock(op, 1.5 ether);
        vm.prank(op);
        registry.requestUnstake(2 ether);
    }

    function test_RevertWhen_UnauthorisedOrUnlockingAnothersLock() public {
        _join(2 ether);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAuthorised.selector, op));
        vm.prank(op);
        registry.lockBond(op, 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAuthorised.selector, op));
        vm.prank(op);
        registry.slash(op, 1, op);
        vm.prank(market);
        registry.lockBond(op, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.LockExceeded.selector, op, 0, 1 ether));
        vm.prank(committee);
        registry.unlock(op, 1 ether);
        vm.prank(owner);
        registry.setAuthorised(market, false);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAuthorised.selector, market));
        vm.prank(market);
        registry.unlock(op, 1 ether);
    }

    function test_SlashTakesLockThenFreeThenUnbonding() public {
        _join(4 ether);
        vm.prank(op);
        registry.requestUnstake(1 ether); // stake 3, unbonding 1
        vm.prank(market);
        registry.lockBond(op, 1 ether);
        vm.prank(committee);
        registry.lockBond(op, 1 ether); // free 1
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.Slashed(op, market, 2.5 ether, treasury, 1 ether, 1 ether, 0.5 ether);
        vm.prank(market);
        uint256 slashed = registry.slash(op, 2.5 ether, treasury);
        assertEq(slashed, 2.5 ether, "slashed");
        IOperatorRegistry.Operator memory o = registry.getOperator(op);
        assertEq(registry.lockedBy(op, market), 0, "market lock used first");
        assertEq(registry.lockedBy(op, committee), 1 ether, "committee lock untouched");
        assertEq(o.stake, 1 ether, "free stake used next");
        assertEq(o.locked, 1 ether, "locked");
        assertEq(o.unbonding, 0.5 ether, "then unbonding");
        assertEq(treasury.balance, 2.5 ether, "sent to the recipient");
        assertEq(registry.totalBonded(), 1.5 ether, "bonded");
        assertEq(address(registry).balance, registry.totalBonded(), "held = owed");
    }

    /// @dev A bond lock needs the operator to still hold the minimum stake (issue #12, finding 10).
    function test_LockBondNeedsTheMinimumStake() public {
        _join(3 ether);
        vm.prank(market);
        registry.lockBond(op, 0.5 ether);
        assertEq(registry.lockedBy(op, market), 0.5 ether, "bond locked at the minimum and above");
        vm.prank(op);
        registry.requestUnstake(2.1 ether); // stake 0.9 < MIN
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.StakeTooLow.selector, 0.9 ether, MIN));
        vm.prank(market);
        registry.lockBond(op, 0.1 ether);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotAuthorised.selector, op));
        vm.prank(op);
        registry.lockBond(op, 0.1 ether);
        vm.prank(op);
        registry.addStake{value: 0.2 ether}(); // stake 1.1 ≥ MIN again, locked 0.5: free 0.6
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.InsufficientFreeStake.selector, op, 0.6 ether, 0.6 ether + 1)
        );
        vm.prank(market);
        registry.lockBond(op, 0.6 ether + 1);
    }

    function test_SlashingAnEmptyStakeTakesNothing() public {
        vm.prank(market);
        assertEq(registry.slash(address(0xDEAD), 1 ether, treasury), 0, "unknown operator");
        _join(MIN);
        vm.prank(market);
        registry.slash(op, 5 ether, treasury);
        vm.recordLogs();
        vm.prank(market);
        assertEq(registry.slash(op, 1, treasury), 0, "already empty");
        assertEq(vm.getRecordedLogs().length, 0, "an empty slash emits no Slashed event");
        assertEq(treasury.balance, MIN, "only what existed");
    }

    /// @dev Exactly the minimum stake is enough to lock a bond (the rule is "at least", not "above").
    function test_LockBondAtExactlyTheMinimumStake() public {
        _join(MIN);
        vm.prank(market);
        registry.lockBond(op, 0.1 ether);
        assertEq(registry.lockedBy(op, market), 0.1 ether, "locked at exactly the minimum");
    }

    function test_RevertWhen_SlashRecipientRefusesEth() public {
        _join(MIN);
        EthRefuser refuser = new EthRefuser();
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.EthTransferFailed.selector, address(refuser), MIN));
        vm.prank(market);
        registry.slash(op, MIN, address(refuser));
    }

    function test_RevertWhen_ZeroAmounts() public {
        _join(MIN + 1 ether);
        vm.expectRevert(IOperatorRegistry.ZeroAmount.selector);
        vm.prank(op);
        registry.addStake{value: 0}();
        vm.expectRevert(IOperatorRegistry.ZeroAmount.selector);
        vm.prank(op);
        registry.requestUnstake(0);
    }

    function test_ProfileSignerAndCounters() public {
        _join(MIN);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.SignerChanged(op, signer, address(0x5160));
        vm.prank(op);
        registry.setSigner(address(0x5160));
        vm.prank(op);
        registry.updateProfile(0, keccak256("rtx-4090"), keccak256("attestation"), "https://eu.example");
        IOperatorRegistry.Operator memory o = registry.getOperator(op);
        assertEq(o.signer, address(0x5160), "signer");
        assertEq(o.region, 0, "region");
        assertEq(o.attestationHash, keccak256("attestation"), "attestation");
        vm.startPrank(market);
        registry.recordJobCompleted(op);
        registry.recordJobCompleted(op);
        registry.recordDisputeLost(op);
        vm.stopPrank();
        o = registry.getOperator(op);
        assertEq(o.jobsCompleted, 2, "jobs");
        assertEq(o.disputesLost, 1, "disputes");
    }

    function test_GovernanceBoundsAndPause() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, op));
        vm.prank(op);
        registry.setMinStake(0);
        vm.startPrank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(ICairnCommon.ParameterOutOfBounds.selector, "unbondingDelay", 59, 60, 90 days)
        );
        registry.setUnbondingDelay(59);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICairnCommon.ParameterOutOfBounds.selector, "minStake", 1000 ether + 1, 0, 1000 ether
            )
        );
        registry.setMinStake(1000 ether + 1);
        registry.setUnbondingDelay(60);
        registry.setMinStake(0.5 ether);
        assertEq(registry.minStake(), 0.5 ether, "min stake");
        registry.setMinStake(MIN);
        registry.pause();
        vm.stopPrank();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        _join(MIN);
        vm.prank(owner);
        registry.unpause();
        _join(MIN);
        vm.prank(owner);
        registry.pause();
        vm.prank(op);
        registry.requestUnstake(MIN);
        vm.warp(block.timestamp + 60);
        vm.prank(op);
        registry.withdrawUnstaked();
        assertEq(registry.totalBonded(), 0, "unstaking works while paused");
    }

    function test_RevertWhen_ReenteringWithdraw() public {
        Reenterer attacker = new Reenterer(registry, false);
        vm.deal(address(attacker), 0);
        attacker.join{value: 2 ether}();
        attacker.leave(2 ether);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.EthTransferFailed.selector, address(attacker), 2 ether));
        attacker.withdraw();
        assertEq(address(registry).balance, 2 ether, "nothing left");
    }

    function testFuzz_StakeAccounting(uint96 deposit, uint96 extra, uint96 out, uint96 locked, uint96 cut) public {
        uint256 d = bound(deposit, MIN, 40 ether);
        uint256 e = bound(extra, 1, 40 ether);
        _join(d);
        vm.prank(op);
        registry.addStake{value: e}();
        uint256 l = bound(locked, 0, d + e);
        vm.prank(market);
        registry.lockBond(op, l);
        uint256 o = bound(out, 0, d + e - l);
        if (o > 0) {
            vm.prank(op);
            registry.requestUnstake(o);
        }
        uint256 c = bound(cut, 0, 2 * (d + e));
        vm.prank(market);
        uint256 slashed = registry.slash(op, c, treasury);
        IOperatorRegistry.Operator memory s = registry.getOperator(op);
        assertEq(slashed, c < d + e ? c : d + e, "slashes what was asked, up to everything");
        assertEq(s.stake + s.unbonding, d + e - slashed, "stake = deposits - slashed");
        assertEq(address(registry).balance, registry.totalBonded(), "held = owed");
        assertEq(treasury.balance, slashed, "every slashed wei delivered");
        assertTrue(s.locked <= s.stake, "locked within stake");
    }
}
