// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {JobReceipt, ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {IDisputeDesk} from "../src/interfaces/IDisputeDesk.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../src/interfaces/IOperatorRegistry.sol";
import {CairnSystem} from "../test/utils/CairnSystem.sol";

/// @notice Gas of each user-facing operation as its own transaction (`forge test --isolate`), beside its
/// floor: intrinsic 21,000 + calldata (4/16 per zero/non-zero byte) + the EIP-2929/2200 cost of every slot
/// it must read or write + cold accounts + logs (sized from the real event data) + precompiles. Writes of zero
/// to a zero slot are not in the floor (a tighter layout would skip them). Scenarios are steady state:
/// counters, balances and locks already non-zero, as on a live market. Run by `make bench` (scripts/bench.sh),
/// not by `make test`.
contract GasBench is CairnSystem {
    // EIP-2929 / EIP-2200 (Cancun)
    uint256 internal constant TX = 21_000;
    uint256 internal constant COLD_SLOAD = 2100;
    uint256 internal constant NEW_SLOT = 22_100; // cold, zero -> non-zero
    uint256 internal constant UPDATE = 5000; // cold, non-zero -> non-zero
    uint256 internal constant WARM_UPDATE = 2900; // already read this tx
    uint256 internal constant COLD_ACCOUNT = 2600;
    uint256 internal constant ECRECOVER = 3000;
    /// A CALL that moves ETH costs 9,000 and hands the callee a 2,300 stipend back out of it; the callee's own
    /// reads, writes and logs are counted separately, so the call itself needs only the difference.
    uint256 internal constant VALUE_CALL = 9000 - 2300;

    string internal out;
    uint256 internal jobId;

    function setUp() public {
        setUpSystem();
        // Random audits as deployed (s = 1.25), with a funded pool.
        vm.prank(owner);
        desk.setAuditParams(IDisputeDesk.AuditParams(12_500, 0));
        desk.fundAuditPool{value: 1 ether}();
        // Steady state: one job already run through, so counters, balances and locks are non-zero.
        uint256 warm = _requestEth(0.01 ether);
        _claimAndSubmit(warm, 0);
        _notDrawn(warm);
        desk.evaluateAudit(warm);
        vm.warp(block.timestamp + 1 hours);
        market.finalize(warm);
        uint256 open = _requestEth(0.01 ether);
        vm.prank(ops[0]);
        market.claim(open, ops[0]); // ops[0] keeps a lock, as an operator with work in flight
        vm.prank(buyer);
        usdc.approve(address(market), type(uint256).max);
        vm.prank(buyer);
        usdc.approve(address(models), type(uint256).max);
        // An open USDC job and an open dispute: escrows, bonds held, fees held and counters are non-zero.
        vm.prank(buyer);
        market.requestJob(
            usdcModel, 1, INPUT, "bafyinput", address(usdc), 5e6, USDC_PRICE, uint64(block.timestamp + 1 hours), 0
        );
        uint256 disputed = _requestEth(0.01 ether);
        _claimAndSubmit(disputed, 2);
        uint256 cost = desk.challengeCost(disputed);
        vm.prank(challenger);
        desk.challenge{value: cost}(disputed);
    }

    /// Moves to the block after `job`'s audit seed block, whose hash is set to one that does not draw the job.
    function _notDrawn(uint256 job) internal {
        IDisputeDesk.Audit memory a = desk.auditOf(job);
        uint256 salt = uint256(keccak256(abi.encode("cairn.audit", job)));
        for (uint256 i = 1;; ++i) {
            bytes32 h = keccak256(abi.encode("block", i));
            if (uint256(keccak256(abi.encode(h, salt))) % 1e18 >= a.rate) {
                vm.roll(a.seedBlock + 1);
                vm.setBlockhash(a.seedBlock, h);
                return;
            }
        }
    }

    function _log(uint256 topics, uint256 dataBytes) internal pure returns (uint256) {
        return 375 + 375 * topics + 8 * dataBytes;
    }

    /// Slots a stored string needs: one if shorter than 32 bytes, else a length slot plus its data slots.
    function _stringSlots(string memory text) internal pure returns (uint256) {
        uint256 n = bytes(text).length;
        return n < 32 ? 1 : 1 + (n + 31) / 32;
    }

    function _calldata(bytes memory data) internal pure returns (uint256 cost) {
        for (uint256 i = 0; i < data.length; ++i) {
            cost += data[i] == 0 ? 4 : 16;
        }
    }

    /// ERC-20 transferFrom into the contract with the balance-delta check: token account, balanceOf
    /// before (cold) and after, allowance (max: read only), both balances, Transfer log.
    function _tokenIn() internal pure returns (uint256) {
        return COLD_ACCOUNT + COLD_SLOAD + COLD_SLOAD + UPDATE + WARM_UPDATE + _log(3, 32);
    }

    function _row(string memory op, uint256 used, uint256 floor, string memory why) internal {
        out = string.concat(
            out, '{"op":"', op, '","gas":', vm.toString(used), ',"floor":', vm.toString(floor), ',"why":"', why, '"}\n'
        );
    }

    function test_GasTable() public {
        _benchRegister();
        _benchLicenses();
        _benchRequests();
        _benchClaim();
        _benchSubmit();
        _benchEvaluate();
        _benchFinalize();
        _benchRelease();
        _benchChallenge();
        vm.writeFile("bench/results/gas.jsonl", out);
    }

    function _benchRegister() internal {
        // ---- register a model (second model of the seller) ----
        ModelManifest memory m;
        (m.seller, m.manifestCid, m.manifestDigest) =
        (seller, "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylq", bytes32("m"));
        (m.weightsDigest, m.runtime, m.pricePerCall, m.regionMask) = (WEIGHTS, RUNTIME, PRICE, 0x9);
        (m.nonce, m.deadline) = (models.nonces(seller), uint64(block.timestamp + 1 hours));
        bytes memory sig = _sig(sellerKey, models.manifestDigest(m));
        models.register(m, sig);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        // ModelRegistered carries the stored listing, the nonce, the deadline and the signature.
        IModelRegistry.ModelVersion memory listing = IModelRegistry.ModelVersion({
            manifestCid: m.manifestCid,
            manifestDigest: m.manifestDigest,
            weightsDigest: m.weightsDigest,
            runtime: m.runtime,
            paymentToken: m.paymentToken,
            pricePerCall: m.pricePerCall,
            licensePrice: m.licensePrice,
            licensePeriod: m.licensePeriod,
            regionMask: m.regionMask,
            registeredAt: uint64(block.timestamp)
        });
        uint256 floor = TX + _calldata(abi.encodeCall(models.register, (m, sig))) + COLD_SLOAD /*paused*/
            + UPDATE /*nonce*/ + UPDATE /*modelCount*/ + NEW_SLOT /*model*/ + 6 * NEW_SLOT /*non-zero version fields*/
            + _stringSlots(m.manifestCid) * NEW_SLOT + ECRECOVER
            + _log(4, abi.encode(listing, m.nonce, m.deadline, sig).length);
        _row("register a model", used, floor, "also writes the 3 zero fields (ETH token, no license)");
    }

    function _benchLicenses() internal {
        // ---- buy a license, ETH and ERC-20 (models listed with a license) ----
        uint256 ethLicensed = _licensedModel(address(0));
        uint256 usdcLicensed = _licensedModel(address(usdc));
        vm.prank(buyer);
        uint64 expiry = models.buyLicense{value: 1 ether}(ethLicensed, address(0), 1 ether, 30 days);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        // Reads: paused, model, token, price, period. Writes: expiry, seller balance, total credited.
        uint256 licenseReads = COLD_SLOAD + COLD_SLOAD + 3 * COLD_SLOAD;
        uint256 licenseWrites = NEW_SLOT + UPDATE + UPDATE;
        // LicenseBought: version, token, price, period, expiry.
        uint256 bought = _log(3, abi.encode(uint64(1), address(0), 1 ether, uint64(30 days), expiry).length);
        uint256 floor = TX + _calldata(abi.encodeCall(models.buyLicense, (ethLicensed, address(0), 1 ether, 30 days)))
            + licenseReads + licenseWrites + _log(3, 32) + bought;
        _row("buy a license (ETH)", used, floor, "");
        vm.prank(buyer);
        models.buyLicense(usdcLicensed, address(usdc), 10e6, 30 days);
        used = vm.lastCallGas().gasTotalUsed;
        floor = TX + _calldata(abi.encodeCall(models.buyLicense, (usdcLicensed, address(usdc), 10e6, 30 days)))
            + licenseReads + licenseWrites + _log(3, 32) + bought + _tokenIn();
        _row("buy a license (ERC-20)", used, floor, "");
    }

    function _benchRequests() internal {
        // ---- request a job, ETH and ERC-20 ----
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.prank(buyer);
        jobId = market.requestJob{value: 0.01 ether}(
            ethModel, 1, INPUT, "bafyinput", address(0), 0.01 ether, PRICE, deadline, 0
        );
        uint256 used = vm.lastCallGas().gasTotalUsed;
        bytes memory data = abi.encodeCall(
            market.requestJob, (ethModel, 1, INPUT, "bafyinput", address(0), 0.01 ether, PRICE, deadline, 0)
        );
        _row(
            "request a job (ETH)",
            used,
            TX + _calldata(data) + _requestFloor(jobId),
            "reads the whole version struct through getVersion"
        );
        _benchRequestUsdc(deadline);
    }

    function _benchRequestUsdc(uint64 deadline) internal {
        vm.prank(buyer);
        uint256 usdcJob =
            market.requestJob(usdcModel, 1, INPUT, "bafyinput", address(usdc), 5e6, USDC_PRICE, deadline, 0);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        bytes memory data = abi.encodeCall(
            market.requestJob, (usdcModel, 1, INPUT, "bafyinput", address(usdc), 5e6, USDC_PRICE, deadline, 0)
        );
        uint256 floor = TX + _calldata(data) + _requestFloor(usdcJob) + NEW_SLOT /*the token slot is non-zero now*/
            + COLD_SLOAD /*bond rate*/ + _tokenIn();
        _row("request a job (ERC-20)", used, floor, "");
    }

    /// What every request does besides its calldata and payment, for a job paid in ETH.
    function _requestFloor(uint256 job) internal view returns (uint256) {
        // JobRequested carries every term the job fixed, and the input's CID.
        uint256 requested = _log(4, abi.encode(market.getTerms(job), "bafyinput").length);
        return COLD_SLOAD /*paused*/ + UPDATE /*jobCount*/ + COLD_ACCOUNT /*models*/
            + 7 * COLD_SLOAD /*model + version fields used*/ + 3 * COLD_SLOAD /*params, bondFloor, min fee*/
            + 11 * NEW_SLOT /*non-zero terms*/ + NEW_SLOT /*state*/ + UPDATE /*escrowed*/ + requested + _log(2, 96);
    }

    function _benchClaim() internal {
        // ---- claim, submit, finalize, challenge (ETH job; ops[0] already holds a lock) ----
        vm.prank(ops[0]);
        market.claim(jobId, ops[0]);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 floor = TX + _calldata(abi.encodeCall(market.claim, (jobId, ops[0]))) + COLD_SLOAD /*paused*/
            + 5 * COLD_SLOAD /*state, deadline, mask, token, payment*/ + 2 * COLD_SLOAD /*params, floor*/
            + COLD_ACCOUNT /*operators*/ + COLD_SLOAD /*registered, region, signer*/ + COLD_SLOAD /*authorised*/
            + COLD_SLOAD /*stake*/ + UPDATE /*locked*/ + UPDATE /*lockedBy*/ + WARM_UPDATE /*state, operator*/
            + 2 * NEW_SLOT /*bond, submitBy*/ + _log(3, 64) + _log(3, 64);
        _row("claim", used, floor, "");
    }

    function _benchSubmit() internal {
        JobReceipt memory r = _receipt(jobId);
        bytes memory rsig = _sig(opSignerKeys[0], market.receiptDigest(r));
        market.submitResult(jobId, r, rsig);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 floor = TX + _calldata(abi.encodeCall(market.submitResult, (jobId, r, rsig)));
        floor += 2 * COLD_SLOAD /*state, submitBy*/ + 3 * COLD_SLOAD; /*weights, input, runtime*/
        floor += COLD_ACCOUNT + COLD_SLOAD /*signer*/ + ECRECOVER + COLD_SLOAD; /*window*/
        floor += WARM_UPDATE /*state*/ + 2 * NEW_SLOT /*output, challengeEnds*/ + _submittedLog(r, rsig);
        // The audit's schedule: the terms it is priced from (token, payment, royalty, fee, bond), the desk (its
        // market, the audit parameters), the committee's fee, the audit's one slot and AuditScheduled.
        floor += 5 * COLD_SLOAD + COLD_ACCOUNT + 2 * COLD_SLOAD + COLD_ACCOUNT + COLD_SLOAD + NEW_SLOT + _log(2, 96);
        _row("submit result", used, floor, "schedules the job's random audit at the desk");
    }

    function _benchEvaluate() internal {
        _notDrawn(jobId);
        desk.evaluateAudit(jobId);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 floor = TX + _calldata(abi.encodeCall(desk.evaluateAudit, (jobId)));
        // The audit's slot (read, then its state written), the committee's randomness and the seed (blockhash),
        // AuditEvaluated.
        floor += COLD_SLOAD + WARM_UPDATE + 2 * COLD_ACCOUNT + _log(2, 64);
        _row("evaluate an audit draw (not drawn)", used, floor, "");
    }

    /// ResultSubmitted carries the whole receipt, the signer it was checked against and the signature.
    function _submittedLog(JobReceipt memory r, bytes memory rsig) internal view returns (uint256) {
        uint64 challengeEnds = uint64(block.timestamp + 1 hours);
        return _log(3, abi.encode(r, vm.addr(opSignerKeys[0]), rsig, challengeEnds).length);
    }

    function _benchFinalize() internal {
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 floor = TX + _calldata(abi.encodeCall(market.finalize, (jobId))) + 3 * COLD_SLOAD /*state, bond, ends*/
            + 5 * COLD_SLOAD /*seller, token, payment, royalty, fee*/ + COLD_SLOAD /*treasury*/ + WARM_UPDATE /*state*/
            + UPDATE /*escrowed*/ + 3 * UPDATE /*three balances*/ + UPDATE /*total credited*/
            + COLD_ACCOUNT + COLD_SLOAD /*authorised*/ + 2 * UPDATE /*lockedBy, locked*/ + COLD_SLOAD /*registered*/
            + UPDATE /*jobsCompleted*/ + 3 * _log(3, 32) + _log(2, 128) + _log(2, 64) + _log(3, 64) + _log(2, 32);
        // The desk's audit (cleared, and its premium), the premium's credit to the audit pool and its Credited.
        floor += COLD_ACCOUNT + COLD_SLOAD + UPDATE + _log(3, 32);
        _row("finalize", used, floor, "");
    }

    function _benchRelease() internal {
        // ---- release a claim, sent by the operator's signer key (ops[0] keeps its other lock) ----
        uint256 released = _requestEth(0.01 ether);
        vm.prank(ops[0]);
        market.claim(released, ops[0]);
        vm.prank(vm.addr(opSignerKeys[0]));
        market.releaseClaim(released);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 refunded = uint256(int256(vm.lastCallGas().gasRefunded));
        uint256 floor = TX + _calldata(abi.encodeCall(market.releaseClaim, (released)));
        // The market reads the claim (state + operator, submitBy, bond), the caller's signer key in the registry
        // and the penalty rate, and reopens the job (state + operator, one slot).
        floor += 3 * COLD_SLOAD + COLD_ACCOUNT + COLD_SLOAD + COLD_SLOAD + WARM_UPDATE;
        // The registry slashes the penalty from the market's own lock (authorised; lockedBy, locked, stake,
        // totalBonded) and sends it to the market; then the treasury's credit (treasury; balance, total).
        floor += COLD_SLOAD + 4 * UPDATE + VALUE_CALL + COLD_SLOAD + 2 * UPDATE;
        // Slashed (with the balances after), Credited, StakeUnlocked, ClaimReleased. The unlock rewrites slots
        // the slash already wrote.
        floor += _slashedLog(market.bondFor(address(0), 0.01 ether) * defaultParams().claimPenaltyBps / 10_000);
        floor += _log(3, 32) + _log(3, 64) + _log(3, 32);
        string memory why = string.concat(
            "above 1.10x: the gas column is before refunds; clearing bond and submitBy costs 2 x 2,900 here and ",
            _thousands(refunded),
            " comes back after the call (",
            _thousands(used - refunded),
            " net); slash also reads and rewrites unbonding with nothing left to take (2,200)"
        );
        _row("release a claim", used, floor, why);
    }

    /// `n` with a comma every three digits, as the table prints gas.
    function _thousands(uint256 n) internal pure returns (string memory) {
        if (n < 1000) return vm.toString(n);
        string memory low = vm.toString(n % 1000);
        while (bytes(low).length < 3) low = string.concat("0", low);
        return string.concat(_thousands(n / 1000), ",", low);
    }

    /// Slashed carries the amount, the recipient (the market) and the operator's balances after it.
    function _slashedLog(uint256 amount) internal view returns (uint256) {
        IOperatorRegistry.Operator memory o = operators.getOperator(ops[0]);
        return _log(3, abi.encode(amount, address(market), o.stake, o.locked, o.unbonding).length);
    }

    function _benchChallenge() internal {
        uint256 second = _requestEth(0.01 ether);
        _claimAndSubmit(second, 1);
        uint256 cost = desk.challengeCost(second);
        vm.prank(challenger);
        desk.challenge{value: cost}(second);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 floor = TX + _calldata(abi.encodeCall(desk.challenge, (second)));
        // The desk: its market, the job there (state and operator; challengeEnds), the pool's dispute and the
        // ticket (each read, then written), the burn share and challenge bond, the committee's fee; the pool
        // (first/tickets/burn, bond, fee) and what the pools hold.
        floor += COLD_SLOAD + COLD_ACCOUNT + 2 * COLD_SLOAD + 2 * NEW_SLOT + 2 * COLD_SLOAD + COLD_ACCOUNT + COLD_SLOAD;
        floor += 3 * NEW_SLOT + UPDATE;
        // The committee: the fee's value call, arbitrable, seats, penalty, appeal period and coherence penalty, the
        // count, the 5-slot record (rounds and appeals: the fifth holds the snapshots an appeal prices from), the
        // fees held, the draw queue's entry and tail, DisputeCreation and DisputeOpened.
        floor += VALUE_CALL + 5 * COLD_SLOAD + UPDATE + 5 * NEW_SLOT + UPDATE + NEW_SLOT + UPDATE + _log(3, 0);
        floor += _log(2, 160);
        // jobOfDispute and ERC-1497's Dispute; the market marks the job (state, challenger; bond, dispute id) and
        // emits JobChallenged.
        floor += NEW_SLOT + _log(3, 64) + 2 * WARM_UPDATE + 2 * NEW_SLOT + _log(3, 64);
        _row(
            "challenge (DisputeDesk)", used, floor, "the value call to the committee counts 9,000 less the 2,300 stipend"
        );
    }

    function _licensedModel(address token) internal returns (uint256 modelId) {
        ModelManifest memory m;
        (m.seller, m.manifestCid, m.manifestDigest, m.weightsDigest) = (seller, "bafy", bytes32("m"), WEIGHTS);
        (m.runtime, m.paymentToken, m.regionMask) = (RUNTIME, token, 0x9);
        (m.licensePrice, m.licensePeriod) = (token == address(0) ? 1 ether : 10e6, 30 days);
        (m.nonce, m.deadline) = (models.nonces(seller), uint64(block.timestamp + 1 hours));
        (modelId,) = models.register(m, _sig(sellerKey, models.manifestDigest(m)));
        // A first sale, so the seller's balance is non-zero (steady state) before the measured one.
        address first = address(0xF1257);
        vm.deal(first, 1 ether);
        usdc.mint(first, 10e6);
        vm.startPrank(first);
        usdc.approve(address(models), 10e6);
        models.buyLicense{value: token == address(0) ? 1 ether : 0}(modelId, token, m.licensePrice, 30 days);
        vm.stopPrank();
    }
}
