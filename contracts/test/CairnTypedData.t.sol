// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {JobReceipt, JobRequest, ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {Test} from "./utils/Test.sol";

/// @notice Our EIP-712 hashing reproduces the independent vectors (viem and `cast` agree on them) and
/// recovers their signer through OpenZeppelin's ECDSA; `vm.sign` reproduces each signature.
contract CairnTypedDataTest is Test {
    /// @dev anvil's public test account 0, the vectors' signer.
    uint256 internal constant ANVIL_KEY_0 = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;

    string internal json;

    function setUp() public {
        json = vm.readFile("testdata/vectors/eip712.json");
    }

    function test_ReproducesEveryVector() public view {
        uint256 count;
        while (vm.keyExistsJson(json, _key(count, ""))) {
            _checkVector(count);
            ++count;
        }
        assertEq(count, 5, "vector count");
    }

    /// @notice The vectors' `types` are the structs our type hashes encode; cairn-protocol checks the same
    /// `types` against the Rust types (the contracts' ABI), so a type changed on one side alone fails a test.
    function test_TypeHashesAreTheVectorsTypes() public view {
        _assertTypeHash("ModelManifest", CairnTypedData.MODEL_MANIFEST_TYPEHASH);
        _assertTypeHash("JobRequest", CairnTypedData.JOB_REQUEST_TYPEHASH);
        _assertTypeHash("JobReceipt", CairnTypedData.JOB_RECEIPT_TYPEHASH);
    }

    function test_VmSignReproducesEverySignature() public view {
        for (uint256 i = 0; i < 5; ++i) {
            bytes32 digest = vm.parseJsonBytes32(json, _key(i, ".digest"));
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(ANVIL_KEY_0, digest);
            assertEq(abi.encodePacked(r, s, v), vm.parseJsonBytes(json, _key(i, ".signature")), "vm.sign signature");
        }
    }

    function testFuzz_DigestBindsChainAndContract(uint256 chainA, uint256 chainB, address a, address b) public pure {
        vm.assume(chainA != chainB || a != b);
        JobReceipt memory receipt;
        receipt.jobId = 1;
        bytes32 structHash = CairnTypedData.hash(receipt);
        assertNotEq(
            CairnTypedData.digest(CairnTypedData.domainSeparator(chainA, a), structHash),
            CairnTypedData.digest(CairnTypedData.domainSeparator(chainB, b), structHash),
            "digest must differ across chains or contracts"
        );
    }

    function testFuzz_ManifestHashBindsNonceAndDeadline(uint256 nonce, uint64 deadline, uint256 otherNonce)
        public
        pure
    {
        vm.assume(nonce != otherNonce);
        ModelManifest memory m;
        m.nonce = nonce;
        m.deadline = deadline;
        bytes32 first = CairnTypedData.hash(m);
        m.nonce = otherNonce;
        assertNotEq(first, CairnTypedData.hash(m), "nonce not bound");
        m.nonce = nonce;
        m.deadline = deadline ^ 1;
        assertNotEq(first, CairnTypedData.hash(m), "deadline not bound");
    }

    function test_CommitmentIsAbiEncodeOfTheVote() public pure {
        bytes32 salt = keccak256("salt");
        assertEq(
            CairnTypedData.commitment(7, address(0xBEEF), 2, salt),
            keccak256(abi.encode(uint256(7), address(0xBEEF), uint256(2), salt)),
            "commitment"
        );
    }

    /*//////////////////////////////////////////////////////////////
                                  HELPERS
    //////////////////////////////////////////////////////////////*/

    function _checkVector(uint256 i) internal view {
        string memory primary = vm.parseJsonString(json, _key(i, ".primaryType"));
        bytes32 structHash;
        if (_eq(primary, "ModelManifest")) structHash = CairnTypedData.hash(_manifest(i));
        else if (_eq(primary, "JobRequest")) structHash = CairnTypedData.hash(_request(i));
        else if (_eq(primary, "JobReceipt")) structHash = CairnTypedData.hash(_receipt(i));
        else fail(string.concat("unknown primary type ", primary));
        assertEq(structHash, vm.parseJsonBytes32(json, _key(i, ".structHash")), string.concat(primary, " struct hash"));

        bytes32 domain = CairnTypedData.domainSeparator(
            vm.parseJsonUint(json, _key(i, ".domain.chainId")),
            vm.parseJsonAddress(json, _key(i, ".domain.verifyingContract"))
        );
        assertEq(domain, vm.parseJsonBytes32(json, _key(i, ".domainSeparator")), "domain separator");
        bytes32 digest = CairnTypedData.digest(domain, structHash);
        assertEq(digest, vm.parseJsonBytes32(json, _key(i, ".digest")), "digest");
        address signer = ECDSA.recover(digest, vm.parseJsonBytes(json, _key(i, ".signature")));
        assertEq(signer, vm.parseJsonAddress(json, _key(i, ".signer")), "recovered signer");
    }

    function _assertTypeHash(string memory name, bytes32 typeHash) internal view {
        string memory encoded = _encodeType(name);
        assertEq(
            keccak256(bytes(encoded)),
            typeHash,
            string.concat("CairnTypedData's ", name, " type hash is not keccak256 of the vectors' ", encoded)
        );
    }

    /// @dev EIP-712 encodeType of `name` from the vectors' `types` (the signed structs reference no others).
    function _encodeType(string memory name) internal view returns (string memory encoded) {
        string memory fields = string.concat(".types.", name);
        assertTrue(vm.keyExistsJson(json, fields), string.concat("the vectors define no type ", name));
        encoded = string.concat(name, "(");
        for (uint256 i = 0; vm.keyExistsJson(json, string.concat(fields, "[", vm.toString(i), "]")); ++i) {
            string memory field = string.concat(fields, "[", vm.toString(i), "]");
            encoded = string.concat(
                encoded,
                i == 0 ? "" : ",",
                vm.parseJsonString(json, string.concat(field, ".type")),
                " ",
                vm.parseJsonString(json, string.concat(field, ".name"))
            );
        }
        encoded = string.concat(encoded, ")");
    }

    function _manifest(uint256 i) internal view returns (ModelManifest memory m) {
        m.seller = _addr(i, "seller");
        m.modelId = _uint(i, "modelId");
        m.manifestCid = _str(i, "manifestCid");
        m.manifestDigest = _b32(i, "manifestDigest");
        m.weightsDigest = _b32(i, "weightsDigest");
        m.runtime = _b32(i, "runtime");
        m.paymentToken = _addr(i, "paymentToken");
        m.pricePerCall = _uint(i, "pricePerCall");
        m.licensePrice = _uint(i, "licensePrice");
        m.licensePeriod = uint64(_uint(i, "licensePeriod"));
        m.regionMask = _uint(i, "regionMask");
        m.nonce = _uint(i, "nonce");
        m.deadline = uint64(_uint(i, "deadline"));
    }

    function _request(uint256 i) internal view returns (JobRequest memory r) {
        r.buyer = _addr(i, "buyer");
        r.modelId = _uint(i, "modelId");
        r.inputDigest = _b32(i, "inputDigest");
        r.inputCid = _str(i, "inputCid");
        r.token = _addr(i, "token");
        r.payment = _uint(i, "payment");
        r.deadline = uint64(_uint(i, "deadline"));
        r.regionMask = _uint(i, "regionMask");
        r.nonce = _uint(i, "nonce");
    }

    function _receipt(uint256 i) internal view returns (JobReceipt memory r) {
        r.jobId = _uint(i, "jobId");
        r.weightsDigest = _b32(i, "weightsDigest");
        r.inputDigest = _b32(i, "inputDigest");
        r.runtime = _b32(i, "runtime");
        r.outputDigest = _b32(i, "outputDigest");
        r.outputCid = _str(i, "outputCid");
        r.runnerBuild = _b32(i, "runnerBuild");
        r.energyMillijoules = uint64(_uint(i, "energyMillijoules"));
    }

    /// @notice Signs one message of each type with `vm.sign` (a key and domain of its own) and writes the
    /// ABI-encoded message, domain, our digest and the signature to `target/forge-signed/messages.json`;
    /// cairn-protocol's integration test recomputes each digest in Rust and recovers the signer.
    function test_WriteSignedMessagesForRust() public {
        uint256 key = 0xC0FFEE;
        uint256 chain = 10;
        address verifying = address(0xCA1F);
        bytes32 domain = CairnTypedData.domainSeparator(chain, verifying);

        ModelManifest memory m = ModelManifest({
            seller: vm.addr(key),
            modelId: 77,
            manifestCid: "bafkreimanifest-\u00e9t\u00e9",
            manifestDigest: keccak256("manifest"),
            weightsDigest: 0x53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db,
            runtime: keccak256("candle/bert-embed@1"),
            paymentToken: address(0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48),
            pricePerCall: 1e6,
            licensePrice: type(uint256).max,
            licensePeriod: 30 days,
            regionMask: 0x809,
            nonce: 5,
            deadline: type(uint64).max
        });
        JobRequest memory q = JobRequest({
            buyer: vm.addr(key),
            modelId: 77,
            inputDigest: sha256("inputs"),
            inputCid: "",
            token: address(0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48),
            payment: 12_345_678,
            deadline: 1_900_000_000,
            regionMask: 1,
            nonce: type(uint256).max
        });
        JobReceipt memory r = JobReceipt({
            jobId: 9,
            weightsDigest: m.weightsDigest,
            inputDigest: q.inputDigest,
            runtime: m.runtime,
            outputDigest: sha256("output"),
            outputCid: "bafkreioutput",
            runnerBuild: keccak256("cairn-runner 0.1.0"),
            energyMillijoules: 987_654
        });
        string memory out = string.concat(
            "{\"chainId\":",
            vm.toString(chain),
            ",\"verifyingContract\":\"",
            vm.toString(verifying),
            "\",\"signer\":\"",
            vm.toString(vm.addr(key)),
            "\",\"messages\":["
        );
        out = string.concat(
            out,
            _signed(key, "ModelManifest", abi.encode(m), CairnTypedData.digest(domain, CairnTypedData.hash(m))),
            ","
        );
        out = string.concat(
            out, _signed(key, "JobRequest", abi.encode(q), CairnTypedData.digest(domain, CairnTypedData.hash(q))), ","
        );
        out = string.concat(
            out, _signed(key, "JobReceipt", abi.encode(r), CairnTypedData.digest(domain, CairnTypedData.hash(r))), "]}"
        );
        vm.createDir("target/forge-signed", true);
        vm.writeFile("target/forge-signed/messages.json", out);
    }

    function _signed(uint256 key, string memory kind, bytes memory encoded, bytes32 digest)
        internal
        pure
        returns (string memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return string.concat(
            "{\"type\":\"",
            kind,
            "\",\"encoded\":\"",
            vm.toString(encoded),
            "\",\"digest\":\"",
            vm.toString(digest),
            "\",\"signature\":\"",
            vm.toString(abi.encodePacked(r, s, v)),
            "\"}"
        );
    }

    function _key(uint256 i, string memory rest) internal pure returns (string memory) {
        return string.concat(".vectors[", vm.toString(i), "]", rest);
    }

    function _field(uint256 i, string memory name) internal pure returns (string memory) {
        return _key(i, string.concat(".message.", name));
    }

    function _uint(uint256 i, string memory name) internal view returns (uint256) {
        return vm.parseJsonUint(json, _field(i, name));
    }

    function _addr(uint256 i, string memory name) internal view returns (address) {
        return vm.parseJsonAddress(json, _field(i, name));
    }

    function _b32(uint256 i, string memory name) internal view returns (bytes32) {
        return vm.parseJsonBytes32(json, _field(i, name));
    }

    function _str(uint256 i, string memory name) internal view returns (string memory) {
        return vm.parseJsonString(json, _field(i, name));
    }

    function _eq(string memory a, string memory b) internal pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }
}
