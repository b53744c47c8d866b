// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {DisputeDesk} from "../../src/DisputeDesk.sol";
import {JobMarket} from "../../src/JobMarket.sol";
import {JurorPool} from "../../src/JurorPool.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {OperatorRegistry} from "../../src/OperatorRegistry.sol";
import {ReexecutionCommittee} from "../../src/ReexecutionCommittee.sol";
import {JobReceipt, ModelManifest} from "../../src/interfaces/ICairnTypes.sol";
import {IDisputeDesk} from "../../src/interfaces/IDisputeDesk.sol";
import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";
import {IReexecutionCommittee} from "../../src/interfaces/IReexecutionCommittee.sol";
import {BlockhashRandomness} from "../../src/libraries/BlockhashRandomness.sol";
import {CairnTypedData} from "../../src/libraries/CairnTypedData.sol";
import {MockToken} from "./mocks/Tokens.sol";
import {Test} from "./Test.sol";

/// @notice The whole suite deployed and wired with devnet-like parameters: a seller with one ETH model
/// and one USDC model, three operators (EU, US, JP) and five verifiers with 4 matured seats each in the juror
/// pool (seat 0.5 ETH, maturity 2 h > claim timeout + challenge window).
abstract contract CairnSystem is Test {
    ModelRegistry internal models;
    OperatorRegistry internal operators;
    JurorPool internal pool;
    ReexecutionCommittee internal committee;
    DisputeDesk internal desk;
    JobMarket internal market;
    MockToken internal usdc;

    address internal owner = address(0xA11CE);
    address internal treasury = address(0x7EA5);
    address internal seller;
    uint256 internal sellerKey;
    address internal buyer;
    uint256 internal buyerKey;
    address internal challenger = address(0xC4A1);
    address[3] internal ops;
    uint256[3] internal opSignerKeys;
    address[5] internal verifiers;

    uint256 internal ethModel;
    uint256 internal usdcModel;

    bytes32 internal constant RUNTIME = keccak256("candle/bert-embed@1");
    bytes32 internal constant WEIGHTS = 0x53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db;
    bytes32 internal constant INPUT = keccak256("input");
    uint256 internal constant PRICE = 1e14;
    uint256 internal constant USDC_PRICE = 1e6;

    function setUpSystem() internal {
        vm.warp(1_800_000_000);
        vm.roll(100);
        (seller, sellerKey) = makeAddrAndKey("seller");
        (buyer, buyerKey) = makeAddrAndKey("buyer");
        operators = new OperatorRegistry(owner, 1 ether, 1 days);
        pool = new JurorPool(owner, operators, 0.5 ether, 2 hours, 1 days);
        committee = new ReexecutionCommittee(
            owner,
            operators,
            pool,
            new BlockhashRandomness(),
            IReexecutionCommittee.Params({
                jurors: 3,
                fee: 0.03 ether,
                commitPeriod: 10 minutes,
                revealPeriod: 10 minutes,
                keeperReward: 0.001 ether,
                nonRevealPenalty: 0.1 ether,
                auditReserve: 3,
                appealPeriod: 0,
                coherencePenalty: 0.05 ether
            })
        );
        models = new ModelRegistry(owner);
        // Audits off (rate 0: every result cleared at once) unless a test turns them on with `setAuditParams`.
        desk = new DisputeDesk(owner, committee, address(operators), IDisputeDesk.AuditParams(0, 0));
        market = new JobMarket(owner, models, operators, address(desk), treasury, defaultParams());
        usdc = new MockToken("USDC", 6);
        vm.startPrank(owner);
        operators.setAuthorised(address(market), true);
        pool.setCommittee(committee);
        committee.setArbitrable(address(desk), true);
        desk.setMarket(market);
        // 1 USDC (1e6 units) bonds 0.0005 ETH: rate = 5e14 * 1e18 / 1e6.
        market.setTokenConfig(address(usdc), IJobMarket.TokenConfig({bondRate: 5e26, minOperatorFee: 1000}));
        market.setTokenConfig(address(0), IJobMarket.TokenConfig({bondRate: 0, minOperatorFee: 1e12}));
        vm.stopPrank();

        ethModel = _listModel(address(0), PRICE, 0x1ff); // EU..SG
        usdcModel = _listModel(address(usdc), USDC_PRICE, 0x1ff);

        uint8[3] memory regions = [uint8(0), uint8(3), uint8(6)];
        for (uint256 i = 0; i < 3; ++i) {
            ops[i] = vm.addr(0x0900 + i);
            address signer;
            (signer, opSignerKeys[i]) = makeAddrAndKey(string.concat("op signer ", vm.toString(i)));
            vm.deal(ops[i], 10 ether);
            vm.prank(ops[i]);
            operators.register{value: 5 ether}(signer, regions[i], keccak256("cpu"), bytes32(0), "");
        }
        for (uint256 i = 0; i < 5; ++i) {
            verifiers[i] = vm.addr(0x0a00 + i);
            vm.deal(verifiers[i], 10 ether);
            vm.startPrank(verifiers[i]);
            operators.register{value: 2 ether}(verifiers[i], 0, keccak256("cpu"), bytes32(0), "");
            pool.deposit{value: 2 ether}();
            vm.stopPrank();
        }
        vm.warp(block.timestamp + pool.maturity());
        for (uint256 i = 0; i < 5; ++i) {
            pool.sync(verifiers[i]);
        }
        vm.deal(buyer, 100 ether);
        vm.deal(challenger, 100 ether);
        usdc.mint(buyer, 1000e6);
    }

    /// @dev `who` (a registered operator) deposits `amount` of juror stake, which matures and enters the tree.
    function _joinPool(address who, uint256 amount) internal {
        vm.prank(who);
        pool.deposit{value: amount}();
        vm.warp(block.timestamp + pool.maturity());
        assertTrue(pool.sync(who), "synced");
    }

    /// @dev Each verifier keeps one seat (0.5 ETH) and asks the rest out: a juror drawn once then has no seat
    /// left, so k seats are k distinct jurors.
    function _oneSeatEach() internal {
        for (uint256 i = 0; i < 5; ++i) {
            uint256 extra = pool.jurorInfo(verifiers[i]).stake - pool.seatSize();
            vm.prank(verifiers[i]);
            pool.requestWithdrawal(extra);
            assertEq(pool.seatsOf(verifiers[i]), 1, "one seat each");
        }
    }

    /// @dev `who` asks all its juror stake out; with no draw pending it leaves the tree at once.
    function _leavePool(address who) internal {
        uint256 stake = pool.jurorInfo(who).stake;
        vm.prank(who);
        pool.requestWithdrawal(stake);
    }

    function defaultParams() internal pure returns (IJobMarket.Params memory) {
        return IJobMarket.Params({
            feeBps: 500,
            bondBps: 2000,
            claimPenaltyBps: 1000,
            burnBps: 5000,
            claimTimeout: 10 minutes,
            challengeWindow: 1 hours,
            maxDeadline: 7 days,
            bondFloor: 0.01 ether,
            challengeBond: 0.05 ether
        });
    }

    function _listModel(address token, uint256 price, uint256 regions) internal returns (uint256 modelId) {
        (modelId,) = _register(_manifest(token, price, regions));
    }

    /// @dev The seller's manifest for a new model (modelId 0) with the suite's weights and runtime.
    function _manifest(address token, uint256 price, uint256 regions) internal view returns (ModelManifest memory m) {
        m.seller = seller;
        m.manifestCid = "bafymanifest";
        m.manifestDigest = keccak256("manifest");
        m.weightsDigest = WEIGHTS;
        m.runtime = RUNTIME;
        m.paymentToken = token;
        m.pricePerCall = price;
        m.regionMask = regions;
        m.nonce = models.nonces(seller);
        m.deadline = uint64(block.timestamp + 1 hours);
    }

    /// @dev Registers `m` signed by the seller.
    function _register(ModelManifest memory m) internal returns (uint256 modelId, uint64 version) {
        return models.register(m, _sig(sellerKey, models.manifestDigest(m)));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev What a buyer's client binds a request to: the model's latest version and that version's price.
    /// View calls: read them before a `vm.prank` or `vm.expectRevert`, which the next call consumes.
    function _bounds(uint256 modelId) internal view returns (uint64 version, uint256 maxPricePerCall) {
        version = models.getModel(modelId).latestVersion;
        maxPricePerCall = models.getVersion(modelId, version).pricePerCall;
    }

    function _requestEth(uint256 payment) internal returns (uint256 jobId) {
        (uint64 version, uint256 maxPrice) = _bounds(ethModel);
        vm.prank(buyer);
        jobId = market.requestJob{value: payment}(
            ethModel, version, INPUT, "bafyinput", address(0), payment, maxPrice, uint64(block.timestamp + 1 hours), 0
        );
    }

    function _receipt(uint256 jobId) internal pure returns (JobReceipt memory r) {
        r.jobId = jobId;
        r.weightsDigest = WEIGHTS;
        r.inputDigest = INPUT;
        r.runtime = RUNTIME;
        r.outputDigest = keccak256("output");
        r.outputCid = "bafyoutput";
        r.runnerBuild = keccak256("cairn-runner 0.1.0");
        r.energyMillijoules = 1234;
    }

    function _claimAndSubmit(uint256 jobId, uint256 opIndex) internal {
        vm.prank(ops[opIndex]);
        market.claim(jobId, ops[opIndex]);
        JobReceipt memory r = _receipt(jobId);
        market.submitResult(jobId, r, _sig(opSignerKeys[opIndex], market.receiptDigest(r)));
    }

    /// @dev Draws, has every juror vote `votes[i]` (0 = stay silent; one vote per juror, counted once per seat
    /// it holds), and resolves.
    /// @dev Disputes v2's operator bonds (docs/ARCHITECTURE.md, "Cheating never pays"): floor 0.25 ETH, 4× the
    /// payment above it.
    function _v2Bonds() internal {
        IJobMarket.Params memory p = defaultParams();
        p.bondFloor = 0.25 ether;
        p.bondBps = 40_000;
        vm.prank(owner);
        market.setParams(p);
    }

    /// @dev An ETH job of `payment` wei, claimed and submitted by operator 0.
    function _submitted(uint256 payment) internal returns (uint256 jobId) {
        jobId = _requestEth(payment);
        _claimAndSubmit(jobId, 0);
    }

    /// @dev `who` challenges `jobId` at the desk, paying `challengeCost`; returns the dispute.
    function _challenge(address who, uint256 jobId) internal returns (uint256 disputeId) {
        uint256 cost = desk.challengeCost(jobId);
        vm.prank(who);
        disputeId = desk.challenge{value: cost}(jobId);
    }

    /// @dev Collects and withdraws `who`'s ticket and any desk balance; returns the ETH that reached it.
    function _cashOut(uint256 jobId, address who) internal returns (uint256 received) {
        uint256 before = who.balance;
        if (desk.ticketOf(jobId, who) == IDisputeDesk.Ticket.Held && desk.poolOf(jobId).payout != 0) {
            desk.collect(jobId, who);
        }
        if (desk.balanceOf(who, address(0)) != 0) {
            vm.prank(who);
            desk.withdraw(address(0));
        }
        received = who.balance - before;
    }

    /// @dev `_runDispute` without the resolution: draws, commits and reveals `votes` (0: silent) of the first round,
    /// and moves past the reveal deadline.
    function _drawAndVote(uint256 disputeId, uint256[3] memory votes) internal {
        vm.roll(block.number + 2);
        committee.draw(disputeId);
        address[] memory jurors = committee.jurorsOf(disputeId);
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (votes[i] == 0) continue;
            bytes32 salt = keccak256(abi.encode("salt", i));
            vm.prank(jurors[i]);
            committee.commit(disputeId, jurors[i], CairnTypedData.commitment(disputeId, 0, jurors[i], votes[i], salt));
        }
        (,, uint64 commitDeadline, uint64 revealDeadline,,,,) = committee.disputeInfo(disputeId);
        vm.warp(commitDeadline);
        for (uint256 i = 0; i < jurors.length; ++i) {
            if (votes[i] == 0) continue;
            vm.prank(jurors[i]);
            committee.reveal(disputeId, jurors[i], votes[i], keccak256(abi.encode("salt", i)));
        }
        vm.warp(revealDeadline);
    }

    /// @dev Draws the dispute's first round, commits and reveals `votes` (0: silent), resolves after the reveal.
    function _runDispute(uint256 disputeId, uint256[3] memory votes) internal {
        _drawAndVote(disputeId, votes);
        _resolveFinally(disputeId);
    }

    /// @dev Resolves a round; where an appeal period follows it, lets the period pass unappealed and rules.
    function _resolveFinally(uint256 disputeId) internal {
        committee.resolve(disputeId);
        (IReexecutionCommittee.Phase phase,,,,,, uint64 appealDeadline,) = committee.disputeInfo(disputeId);
        if (phase == IReexecutionCommittee.Phase.Appealable) {
            vm.warp(appealDeadline);
            committee.resolve(disputeId);
        }
    }

    /// @dev Held ETH covers every obligation of the market (escrows, pull balances) and of the desk (challenge
    /// pools, the audit pool, pull balances).
    function _assertMarketSolvent() internal view {
        uint256 owedEth = market.escrowed(address(0)) + market.totalCredited(address(0));
        assertTrue(address(market).balance >= owedEth, "market ETH solvent");
        uint256 deskOwed = desk.challengePoolsHeld() + desk.auditPool() + desk.totalCredited(address(0));
        assertTrue(address(desk).balance >= deskOwed, "desk ETH solvent");
        uint256 owedUsdc = market.escrowed(address(usdc)) + market.totalCredited(address(usdc));
        assertTrue(usdc.balanceOf(address(market)) >= owedUsdc, "market USDC solvent");
        assertEq(address(operators).balance, operators.totalBonded(), "registry holds exactly the stakes");
        assertEq(address(pool).balance, pool.totalHeld(), "pool holds exactly the juror stakes");
    }
}
