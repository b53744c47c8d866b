// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnCommon} from "../src/interfaces/ICairnCommon.sol";
import {JobReceipt} from "../src/interfaces/ICairnTypes.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IJurorPool} from "../src/interfaces/IJurorPool.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {IReexecutionCommittee} from "../src/interfaces/IReexecutionCommittee.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {CairnSystem} from "./utils/CairnSystem.sol";

/// @notice Issue #11, item 2: an operator's signer key works for it (claims, releases claims, signs and
/// submits receipts, commits and reveals as a drawn juror) so that the stake owner's key can stay offline;
/// it can never move the stake, change the operator or take its money; nobody else can act for the operator;
/// and after `setSigner` the old key can do nothing at all.
contract HotKeysTest is CairnSystem {
    uint256 internal constant PAY = 0.01 ether;
    uint256 internal constant FEE = PAY * 500 / 10_000;
    bytes32 internal constant SALT = keccak256("hot key salt");

    /// The stake owner: registers and opts in as a verifier in `setUp`, then (in the first test) never acts.
    address internal cold;
    /// Its signer key.
    address internal hot;
    uint256 internal hotKey;
    address internal stranger = address(0x5757);

    function setUp() public {
        setUpSystem();
        cold = address(0xC01D);
        (hot, hotKey) = makeAddrAndKey("hot key");
        vm.deal(cold, 10 ether);
        vm.startPrank(cold);
        operators.register{value: 5 ether}(hot, 0, keccak256("h100"), bytes32(0), "https://cold.example");
        vm.stopPrank();
        _joinPool(cold, 1.5 ether);
    }

    /*//////////////////////////////////////////////////////////////
                                 HELPERS
    //////////////////////////////////////////////////////////////*/

    function _notOperatorOrSigner(address operator, address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ICairnCommon.NotOperatorOrSigner.selector, operator, caller);
    }

    /// @dev A dispute over a job of ops[1] whose three seats are all `cold`'s: the verifiers leave the pool
    /// first, so `cold`'s three seats are the only ones.
    function _disputeWithColdJuror() internal returns (uint256 disputeId) {
        for (uint256 i = 0; i < 5; ++i) {
            _leavePool(verifiers[i]);
        }
        uint256 jobId = _requestEth(PAY);
        _claimAndSubmit(jobId, 1);
        vm.prank(challenger);
        disputeId = desk.challenge{value: 0.08 ether}(jobId);
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        address[] memory jurors = committee.jurorsOf(disputeId);
        bool drawn;
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (jurors[i] == cold) drawn = true;
        }
        assertTrue(drawn, "the operator sits on the committee");
    }

    /// @dev Every juror but `cold` commits (and later reveals) `vote` with its own key.
    function _othersCommit(uint256 disputeId, uint256 vote) internal {
        address[] memory jurors = committee.jurorsOf(disputeId);
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (jurors[i] == cold) continue;
            vm.prank(jurors[i]);
            committee.commit(disputeId, jurors[i], CairnTypedData.commitment(disputeId, 0, jurors[i], vote, SALT));
        }
    }

    function _othersReveal(uint256 disputeId, uint256 vote) internal {
        address[] memory jurors = committee.jurorsOf(disputeId);
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (jurors[i] == cold) continue;
            vm.prank(jurors[i]);
            committee.reveal(disputeId, jurors[i], vote, SALT);
        }
    }

    /// @dev The signer key runs a job for `cold` end to end and the job is finalized: `cold` earns its fee.
    function _earnWithTheSignerKey() internal returns (uint256 jobId) {
        jobId = _requestEth(PAY);
        vm.prank(hot);
        market.claim(jobId, cold);
        JobReceipt memory r = _receipt(jobId);
        vm.prank(hot);
        market.submitResult(jobId, r, _sig(hotKey, market.receiptDigest(r)));
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
    }

    /*//////////////////////////////////////////////////////////////
                      THE SIGNER KEY ACTS FOR ITS OPERATOR
    //////////////////////////////////////////////////////////////*/

    /// @dev After registering and opting in, `cold` never sends a transaction here: every action is the
    /// signer key's (or anyone's, for the permissionless steps), and every effect lands on `cold`.
    function test_TheSignerKeyRunsTheOperatorWhileTheOwnerKeyStaysOffline() public {
        uint256 jobId = _requestEth(PAY);
        uint256 bond = market.bondFor(address(0), PAY);
        uint256 penalty = bond * 1000 / 10_000;
        vm.expectEmit(address(market));
        emit IJobMarket.JobClaimed(jobId, cold, bond, uint64(block.timestamp + 10 minutes));
        vm.prank(hot);
        market.claim(jobId, cold);
        assertEq(market.getProgress(jobId).operator, cold, "claimed for the operator, not the key");
        assertEq(operators.lockedBy(cold, address(market)), bond, "the operator's stake is bonded");

        vm.expectEmit(address(market));
        emit IJobMarket.ClaimReleased(jobId, cold, penalty);
        vm.prank(hot);
        market.releaseClaim(jobId);
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Requested, "released");
        assertEq(operators.getOperator(cold).stake, 5 ether - penalty, "the penalty is the operator's");

        vm.prank(hot);
        market.claim(jobId, cold);
        JobReceipt memory r = _receipt(jobId);
        bytes memory sig = _sig(hotKey, market.receiptDigest(r));
        vm.expectEmit(address(market));
        emit IJobMarket.ResultSubmitted(jobId, cold, r, hot, sig, uint64(block.timestamp + 1 hours));
        vm.prank(hot);
        market.submitResult(jobId, r, sig);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        assertEq(market.balanceOf(cold, address(0)), PAY - PRICE - FEE, "the fee is the operator's");
        assertEq(market.balanceOf(hot, address(0)), 0, "nothing is the key's");
        assertEq(operators.lockedBy(cold, address(market)), 0, "bond released");

        uint256 disputeId = _disputeWithColdJuror();
        assertEq(pool.jurorInfo(cold).locked, 1.5 ether, "the juror's three seats are locked");
        bytes32 commitment = CairnTypedData.commitment(disputeId, 0, cold, 1, SALT);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.VoteCommitted(disputeId, 0, cold, commitment);
        vm.prank(hot);
        committee.commit(disputeId, cold, commitment);
        _othersCommit(disputeId, 1);
        vm.expectEmit(address(committee));
        emit IReexecutionCommittee.VoteRevealed(disputeId, 0, cold, 1);
        vm.prank(hot);
        committee.reveal(disputeId, cold, 1, SALT);
        _othersReveal(disputeId, 1);
        committee.resolve(disputeId);
        assertEq(committee.balanceOf(cold, address(0)), 0.029 ether, "the fee less the keeper's, the operator's");
        assertEq(committee.balanceOf(hot, address(0)), 0, "nothing is the key's");
        assertEq(pool.jurorInfo(cold).locked, 0, "the juror's stake released");
        assertEq(pool.jurorInfo(cold).stake, 1.5 ether, "a revealing juror is not slashed");
    }

    function test_RevertWhen_TheSignerKeyMovesStakeChangesTheOperatorOrWithdraws() public {
        _earnWithTheSignerKey();
        uint256 disputeId = _disputeWithColdJuror();
        vm.prank(hot);
        committee.commit(disputeId, cold, CairnTypedData.commitment(disputeId, 0, cold, 1, SALT));
        _othersCommit(disputeId, 1);
        vm.prank(hot);
        committee.reveal(disputeId, cold, 1, SALT);
        _othersReveal(disputeId, 1);
        committee.resolve(disputeId);
        IOperatorRegistry.Operator memory before = operators.getOperator(cold);
        uint256 earned = market.balanceOf(cold, address(0));
        uint256 reward = committee.balanceOf(cold, address(0));
        assertTrue(earned > 0 && reward > 0, "the operator has money in both contracts");

        bytes memory notRegistered = abi.encodeWithSelector(IOperatorRegistry.NotRegistered.selector, hot);
        vm.startPrank(hot);
        vm.expectRevert(notRegistered);
        operators.requestUnstake(1 ether);
        vm.expectRevert(notRegistered);
        operators.withdrawUnstaked();
        vm.expectRevert(notRegistered);
        operators.setSigner(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.WithdrawalTooLarge.selector, hot, 0, 1 ether));
        pool.requestWithdrawal(1 ether);
        vm.expectRevert(abi.encodeWithSelector(IJurorPool.NothingUnbonding.selector, hot));
        pool.withdrawUnbonded();
        vm.expectRevert(notRegistered);
        operators.updateProfile(3, keccak256("elsewhere"), bytes32(0), "https://attacker.example");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NothingToWithdraw.selector, hot, address(0)));
        market.withdraw(address(0));
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NothingToWithdraw.selector, hot, address(0)));
        committee.withdraw(address(0));
        vm.stopPrank();

        IOperatorRegistry.Operator memory after_ = operators.getOperator(cold);
        assertEq(keccak256(abi.encode(after_)), keccak256(abi.encode(before)), "the operator's record is untouched");
        assertEq(after_.signer, hot, "signer kept");
        assertEq(pool.jurorInfo(cold).stake, 1.5 ether, "juror stake kept");
        assertEq(market.balanceOf(cold, address(0)), earned, "market balance kept");
        assertEq(committee.balanceOf(cold, address(0)), reward, "committee balance kept");
        assertEq(hot.balance, 0, "the key received nothing");

        // The owner's key does what the signer key cannot.
        vm.startPrank(cold);
        market.withdraw(address(0));
        committee.withdraw(address(0));
        operators.requestUnstake(1 ether);
        vm.stopPrank();
        assertEq(cold.balance, 3.5 ether + earned + reward, "paid to the owner (10 less 5 staked, 1.5 juror stake)");
        assertEq(operators.getOperator(cold).unbonding, 1 ether, "the owner unbonds");
    }

    /// @dev `withdrawFor` (interface v6): the signer key sweeps the operator's market earnings, and they can only
    /// go to the operator's own address; the operator may call it too; a second sweep finds nothing.
    function test_TheSignerKeySweepsTheOperatorsEarningsToTheOperatorOnly() public {
        _earnWithTheSignerKey();
        uint256 earned = market.balanceOf(cold, address(0));
        uint256 credited = market.totalCredited(address(0));
        uint256 held = address(market).balance;
        uint256 coldBefore = cold.balance;
        assertTrue(earned > 0, "the operator earned");
        vm.expectEmit(address(market));
        emit ICairnCommon.Withdrawn(cold, address(0), earned);
        vm.prank(hot);
        market.withdrawFor(cold, address(0));
        assertEq(cold.balance - coldBefore, earned, "paid to the operator");
        assertEq(hot.balance, 0, "the key received nothing");
        assertEq(market.balanceOf(cold, address(0)), 0, "the balance is spent");
        assertEq(market.totalCredited(address(0)), credited - earned, "the credits fall by what was paid");
        assertEq(held - address(market).balance, earned, "the market paid exactly that");
        vm.expectRevert(abi.encodeWithSelector(ICairnCommon.NothingToWithdraw.selector, cold, address(0)));
        vm.prank(hot);
        market.withdrawFor(cold, address(0));

        // The operator itself may ask the same, for the same result.
        _earnWithTheSignerKey();
        earned = market.balanceOf(cold, address(0));
        coldBefore = cold.balance;
        vm.prank(cold);
        market.withdrawFor(cold, address(0));
        assertEq(cold.balance - coldBefore, earned, "the operator's own sweep");
        assertEq(market.balanceOf(cold, address(0)), 0, "spent again");
    }

    /*//////////////////////////////////////////////////////////////
                        NOBODY ELSE ACTS FOR IT
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_SomeoneElseActsForTheOperator() public {
        uint256 jobId = _requestEth(PAY);
        address otherSigner = vm.addr(opSignerKeys[1]);
        address[3] memory others = [stranger, ops[1], otherSigner];
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(_notOperatorOrSigner(cold, others[i]));
            vm.prank(others[i]);
            market.claim(jobId, cold);
        }
        vm.prank(hot);
        market.claim(jobId, cold);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(_notOperatorOrSigner(cold, others[i]));
            vm.prank(others[i]);
            market.releaseClaim(jobId);
        }
        // The buyer cannot hand the job back either.
        vm.expectRevert(_notOperatorOrSigner(cold, buyer));
        vm.prank(buyer);
        market.releaseClaim(jobId);
        // Nor sweep the operator's earnings: refused whether there is a balance or not (the caller is checked
        // before the balance is looked at).
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(_notOperatorOrSigner(cold, others[i]));
            vm.prank(others[i]);
            market.withdrawFor(cold, address(0));
        }
        _earnWithTheSignerKey();
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(_notOperatorOrSigner(cold, others[i]));
            vm.prank(others[i]);
            market.withdrawFor(cold, address(0));
        }
        assertTrue(market.balanceOf(cold, address(0)) > 0, "the earnings stay");

        uint256 disputeId = _disputeWithColdJuror();
        bytes32 commitment = CairnTypedData.commitment(disputeId, 0, cold, 2, SALT);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(_notOperatorOrSigner(cold, others[i]));
            vm.prank(others[i]);
            committee.commit(disputeId, cold, commitment);
        }
        // A signer key acting for its own operator who is not on the committee is not a juror.
        vm.expectRevert(abi.encodeWithSelector(IReexecutionCommittee.NotJuror.selector, disputeId, ops[1]));
        vm.prank(otherSigner);
        committee.commit(disputeId, ops[1], commitment);
        vm.prank(hot);
        committee.commit(disputeId, cold, commitment);
        (,, uint64 commitDeadline,,,,,) = committee.disputeInfo(disputeId);
        vm.warp(commitDeadline);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(_notOperatorOrSigner(cold, others[i]));
            vm.prank(others[i]);
            committee.reveal(disputeId, cold, 2, SALT);
        }
        vm.prank(hot);
        committee.reveal(disputeId, cold, 2, SALT);
        assertEq(market.getProgress(jobId).operator, cold, "the claim stayed the operator's");
    }

    function test_RevertWhen_ClaimingForAnUnregisteredOperator() public {
        uint256 jobId = _requestEth(PAY);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.NotOperator.selector, stranger));
        vm.prank(stranger);
        market.claim(jobId, stranger);
        // Being some operator's signer key does not make another account an operator.
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.NotOperator.selector, stranger));
        vm.prank(hot);
        market.claim(jobId, stranger);
        // Nor is the signer key itself one.
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.NotOperator.selector, hot));
        vm.prank(hot);
        market.claim(jobId, hot);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.NotOperator.selector, address(0)));
        market.claim(jobId, address(0));
        assertTrue(market.getProgress(jobId).state == IJobMarket.JobState.Requested, "still open");
    }

    /*//////////////////////////////////////////////////////////////
                      AFTER SETSIGNER, THE OLD KEY IS OUT
    //////////////////////////////////////////////////////////////*/

    function test_RevertWhen_TheOldSignerKeyActsAfterSetSigner() public {
        uint256 jobId = _requestEth(PAY);
        vm.prank(hot);
        market.claim(jobId, cold);
        uint256 disputeId = _disputeWithColdJuror();
        (address newHot, uint256 newKey) = makeAddrAndKey("new hot key");
        vm.expectEmit(address(operators));
        emit IOperatorRegistry.SignerChanged(cold, hot, newHot);
        vm.prank(cold);
        operators.setSigner(newHot);

        // Release, and a receipt signed by the old key for the claim it made.
        vm.expectRevert(_notOperatorOrSigner(cold, hot));
        vm.prank(hot);
        market.releaseClaim(jobId);
        JobReceipt memory r = _receipt(jobId);
        bytes32 digest = market.receiptDigest(r);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.BadReceiptSignature.selector, jobId, newHot));
        market.submitResult(jobId, r, _sig(hotKey, digest));
        vm.expectEmit(address(market));
        emit IJobMarket.ResultSubmitted(jobId, cold, r, newHot, _sig(newKey, digest), uint64(block.timestamp + 1 hours));
        market.submitResult(jobId, r, _sig(newKey, digest));

        // Claim, then release with the new key.
        uint256 second = _requestEth(PAY);
        vm.expectRevert(_notOperatorOrSigner(cold, hot));
        vm.prank(hot);
        market.claim(second, cold);
        vm.prank(newHot);
        market.claim(second, cold);
        vm.expectRevert(_notOperatorOrSigner(cold, hot));
        vm.prank(hot);
        market.releaseClaim(second);
        vm.prank(newHot);
        market.releaseClaim(second);
        assertTrue(market.getProgress(second).state == IJobMarket.JobState.Requested, "released by the new key");

        // Commit and reveal.
        bytes32 commitment = CairnTypedData.commitment(disputeId, 0, cold, 1, SALT);
        vm.expectRevert(_notOperatorOrSigner(cold, hot));
        vm.prank(hot);
        committee.commit(disputeId, cold, commitment);
        vm.prank(newHot);
        committee.commit(disputeId, cold, commitment);
        _othersCommit(disputeId, 1);
        vm.expectRevert(_notOperatorOrSigner(cold, hot));
        vm.prank(hot);
        committee.reveal(disputeId, cold, 1, SALT);
        vm.prank(newHot);
        committee.reveal(disputeId, cold, 1, SALT);
        _othersReveal(disputeId, 1);
        committee.resolve(disputeId);
        assertEq(committee.balanceOf(cold, address(0)), 0.029 ether, "the new key's vote counted for the operator");

        // Sweeping the earnings of the first job, finalized: the new key only.
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        uint256 earned = market.balanceOf(cold, address(0));
        assertTrue(earned > 0, "earned");
        vm.expectRevert(_notOperatorOrSigner(cold, hot));
        vm.prank(hot);
        market.withdrawFor(cold, address(0));
        uint256 coldBefore = cold.balance;
        vm.prank(newHot);
        market.withdrawFor(cold, address(0));
        assertEq(cold.balance - coldBefore, earned, "swept by the new key to the operator");
    }
}
