// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";
import {HookToken, NoReturnToken, RebasingToken, RevertingToken, MockToken} from "./utils/mocks/Tokens.sol";

/// @notice Jobs paid in awkward tokens: USDT-style (no return value), 6 decimals, reverting, and an
/// ERC-777-style token whose transfer hook tries to re-enter.
contract TokensTest is CairnSystem {
    function setUp() public {
        setUpSystem();
    }

    /// @dev `bondRate`: wei of bond per token unit, scaled by 1e18.
    function _modelFor(address token, uint256 bondRate) internal returns (uint256 modelId) {
        modelId = _listModel(token, 100, 0x1ff);
        vm.prank(owner);
        market.setTokenConfig(token, IJobMarket.TokenConfig({bondRate: bondRate, minOperatorFee: 0}));
    }

    function _request(address token, uint256 modelId, uint256 payment) internal returns (uint256 jobId) {
        vm.prank(buyer);
        jobId = market.requestJob(
            modelId, 1, INPUT, "bafyinput", token, payment, 100, uint64(block.timestamp + 1 hours), 0
        );
    }

    function test_NoReturnTokenWorksEndToEnd() public {
        NoReturnToken usdt = new NoReturnToken();
        uint256 modelId = _modelFor(address(usdt), 1e27);
        usdt.mint(buyer, 10e6);
        vm.prank(buyer);
        usdt.approve(address(market), 10e6);
        uint256 jobId = _request(address(usdt), modelId, 10e6);
        _claimAndSubmit(jobId, 0);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        vm.prank(ops[0]);
        market.withdraw(address(usdt));
        assertEq(usdt.balanceOf(ops[0]), 10e6 - 100 - 10e6 * 500 / 10_000, "operator paid in USDT");
        assertEq(usdt.balanceOf(address(market)), market.totalCredited(address(usdt)), "rest owed");
    }

    /// @dev A bond rate of 0 stays allowed where no job can depend on it: ETH (whose bond uses `bondBps`) and a
    /// token never listed. A minimum operator fee just under `type(uint256).max` is a payment too low, stated as
    /// such (the sum saturates), not an overflow panic.
    function test_ARateOfZeroWhereNoJobDependsOnItAndASaturatedFloor() public {
        MockToken tok = new MockToken("TOK", 18);
        vm.startPrank(owner);
        // ETH's rate is never read (its bond uses bondBps): it may go back to 0.
        market.setTokenConfig(address(0), IJobMarket.TokenConfig({bondRate: 7, minOperatorFee: 1}));
        market.setTokenConfig(address(0), IJobMarket.TokenConfig({bondRate: 0, minOperatorFee: 1}));
        market.setTokenConfig(address(tok), IJobMarket.TokenConfig({bondRate: 0, minOperatorFee: 5}));
        vm.stopPrank();
        assertEq(market.tokenConfig(address(tok)).minOperatorFee, 5, "an unlisted token configured");
        assertEq(market.tokenConfig(address(0)).minOperatorFee, 1, "ETH configured");
        assertEq(market.tokenConfig(address(0)).bondRate, 0, "ETH's rate back at 0");

        uint256 modelId = _modelFor(address(tok), 1e18);
        vm.prank(owner);
        market.setTokenConfig(
            address(tok), IJobMarket.TokenConfig({bondRate: 1e18, minOperatorFee: type(uint256).max - 1})
        );
        tok.mint(buyer, 1e18);
        vm.prank(buyer);
        tok.approve(address(market), 1e18);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.InsufficientPayment.selector, 1e18, type(uint256).max));
        _request(address(tok), modelId, 1e18);
    }

    /// @dev Issue #12, finding 10a: token listing excludes rebasing tokens (`setTokenConfig`'s NatSpec). Listed
    /// anyway, a negative rebase leaves the market short by the rebase: its books (escrows and pull balances) no
    /// longer match what it holds, the first withdrawers are paid in full and the last cannot withdraw.
    function test_ANegativeRebaseLeavesTheLastWithdrawersShort() public {
        RebasingToken reb = new RebasingToken();
        uint256 modelId = _modelFor(address(reb), 1e15);
        reb.mint(buyer, 1000);
        vm.prank(buyer);
        reb.approve(address(market), 1000);
        uint256 jobId = _request(address(reb), modelId, 1000); // delivered exactly: the transfer check passes
        _claimAndSubmit(jobId, 0);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        uint256 owed = market.totalCredited(address(reb)) + market.escrowed(address(reb));
        assertEq(reb.balanceOf(address(market)), owed, "held = owed before the rebase");
        uint256 operatorFee = market.balanceOf(ops[0], address(reb));
        assertEq(operatorFee, 1000 - 100 - 50, "royalty 100, fee 5%");

        reb.rebase(0.5e18); // -50%, no transfer (exact shares, so no rounding blurs the amounts)
        assertEq(reb.balanceOf(address(market)), owed / 2, "the market is short by the rebase");
        vm.prank(seller);
        market.withdraw(address(reb));
        assertEq(reb.balanceOf(seller), 100, "the first withdrawer is paid in full");
        vm.prank(ops[0]);
        vm.expectRevert(bytes("balance too low"));
        market.withdraw(address(reb));
        assertEq(market.balanceOf(ops[0], address(reb)), operatorFee, "the last withdrawer's credit stays, unpayable");
    }

    function test_SixDecimalsBondUsesTheTokenRate() public {
        MockToken six = new MockToken("SIX", 6);
        // Rate 1e27: one unit (1e-6 token) bonds 1e9 wei, so one token bonds 0.001 ETH and 50 bond 0.05 ETH.
        uint256 modelId = _modelFor(address(six), 1e27);
        assertEq(market.bondFor(address(six), 50e6), 0.05 ether, "bond");
        six.mint(buyer, 50e6);
        vm.prank(buyer);
        six.approve(address(market), 50e6);
        uint256 jobId = _request(address(six), modelId, 50e6);
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        assertEq(operators.lockedBy(ops[0], address(market)), 0.05 ether, "locked");
    }

    function test_RevertingTokenFailsTheRequestAndChangesNothing() public {
        RevertingToken bad = new RevertingToken();
        uint256 modelId = _modelFor(address(bad), 1e15);
        bad.mint(buyer, 1e18);
        vm.prank(buyer);
        bad.approve(address(market), 1e18);
        vm.expectRevert(bytes("RevertingToken: transfers disabled"));
        _request(address(bad), modelId, 1e18);
        assertEq(market.jobCount(), 0, "no job");
        assertEq(market.escrowed(address(bad)), 0, "no escrow");
    }

    function test_ReentrantHookCannotWithdrawTwice() public {
        HookToken hook = new HookToken();
        uint256 modelId = _modelFor(address(hook), 1e15);
        hook.mint(buyer, 10e18);
        vm.prank(buyer);
        hook.approve(address(market), 10e18);
        uint256 jobId = _request(address(hook), modelId, 10e18);
        _claimAndSubmit(jobId, 0);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        // On the payout transfer the hook calls withdraw again: the guard stops it, so the whole
        // withdrawal reverts and the balance stays owed.
        hook.setHook(address(market), abi.encodeCall(market.withdraw, (address(hook))));
        vm.expectRevert();
        vm.prank(ops[0]);
        market.withdraw(address(hook));
        assertEq(market.balanceOf(ops[0], address(hook)), 10e18 - 100 - 10e18 * 500 / 10_000, "still owed");
        hook.setHook(address(0), "");
        vm.prank(ops[0]);
        market.withdraw(address(hook));
        assertEq(hook.balanceOf(address(market)), market.totalCredited(address(hook)), "accounted");
    }

    function test_ReseedAfter256Blocks() public {
        uint256 jobId = _requestEth(0.01 ether);
        _claimAndSubmit(jobId, 0);
        vm.prank(challenger);
        uint256 disputeId = desk.challenge{value: 0.08 ether}(jobId);
        (, uint64 seedBlock,,,,,,) = committee.disputeInfo(disputeId);
        vm.roll(uint256(seedBlock) + 257);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.SeedLapsed.selector, disputeId, seedBlock));
        committee.draw(disputeId);
        committee.reseed(disputeId);
        (, uint64 newSeed,,,,,,) = committee.disputeInfo(disputeId);
        assertEq(newSeed, block.number + 1, "new seed block");
        vm.roll(newSeed + 1);
        committee.draw(disputeId);
        (IReexecutionCommittee.Phase phase,,,,,,,) = committee.disputeInfo(disputeId);
        assertTrue(phase == IReexecutionCommittee.Phase.Drawn, "drawn");
    }

    function test_RevertWhen_NonJurorOrLateCommit() public {
        uint256 jobId = _requestEth(0.01 ether);
        _claimAndSubmit(jobId, 0);
        vm.prank(challenger);
        uint256 disputeId = desk.challenge{value: 0.08 ether}(jobId);
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotJuror.selector, disputeId, address(this)));
        committee.commit(disputeId, address(this), bytes32(uint256(1)));
        (,, uint64 commitDeadline,,,,,) = committee.disputeInfo(disputeId);
        vm.warp(commitDeadline);
        address juror = committee.jurorsOf(disputeId)[0];
        vm.expectRevert(
            abi.encodeWithSelector(
                IReexecutionCommittee.OutsidePeriod.selector, disputeId, commitDeadline, commitDeadline
            )
        );
        vm.prank(juror);
        committee.commit(disputeId, juror, bytes32(uint256(1)));
    }
}
