// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {JobReceipt, JobRequest, ModelManifest} from "../src/interfaces/ICairnTypes.sol";
import {CairnTypedData} from "../src/libraries/CairnTypedData.sol";
import {Test} from "./utils/Test.sol";

/// @notice Typed data v2 (JobRequest binds `version` and `maxPricePerCall`). Our EIP-712 hashing reproduces
/// the independent vectors (viem and `cast` agree on them) and recovers their signer through OpenZeppelin's
/// ECDSA; `vm.sign` reproduces each signature. Both directions with cairn-protocol: messages Rust signed
/// (testdata/vectors/rust-signed.json) verify here, and messages signed here with `vm.sign` are written for
/// Rust to verify.
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

    /// @notice v2: the request's hash binds the model version and the highest royalty the buyer accepts, so a
    /// request signed for one version or price cap serves no other.
    function testFuzz_RequestHashBindsVersionAndMaxPrice(uint64 version, uint256 maxPrice, uint64 otherVersion)
        public
        pure
    {
        vm.assume(version != otherVersion);
        JobRequest memory q;
        q.version = version;
        q.maxPricePerCall = maxPrice;
        bytes32 first = CairnTypedData.hash(q);
        q.version = otherVersion;
        assertNotEq(first, CairnTypedData.hash(q), "version not bound");
        q.version = version;
        q.maxPricePerCall = maxPrice ^ 1;
        assertNotEq(first, CairnTypedData.hash(q), "maxPricePerCall not bound");
    }

    /// @notice The Rust → Solidity direction: each message cairn-protocol signed (`typed::sign`; its
    /// `rust_signed` test keeps testdata/vectors/rust-signed.json equal to what Rust signs) decodes into our
    /// struct, hashes to Rust's digest, and carries a signature that OpenZeppelin's `SignatureChecker` (what
    /// ModelRegistry and JobMarket call) accepts for the signer, and for no changed v2 field.
    function test_VerifiesRustSignedMessages() public view {
        string memory signed = vm.readFile("testdata/vectors/rust-signed.json");
        assertTrue(!vm.keyExistsJson(signed, ".messages[3]"), "one message of each type");
        bytes32 domain = CairnTypedData.domainSeparator(
            vm.parseJsonUint(signed, ".chainId"), vm.parseJsonAddress(signed, ".verifyingContract")
        );
        address signer = vm.parseJsonAddress(signed, ".signer");

        ModelManifest memory m = abi.decode(_rustEncoded(signed, 0, "ModelManifest"), (ModelManifest));
        assertEq(m.seller, signer, "the manifest's seller signed it");
        _assertRustSigned(signed, 0, CairnTypedData.digest(domain, CairnTypedData.hash(m)), signer);

        JobRequest memory q = abi.decode(_rustEncoded(signed, 1, "JobRequest"), (JobRequest));
        assertEq(q.buyer, signer, "the request's buyer signed it");
        assertEq(q.version, 3, "JobRequest.version crosses intact");
        assertEq(q.maxPricePerCall, 2_600_000, "JobRequest.maxPricePerCall crosses intact");
        _assertRustSigned(signed, 1, CairnTypedData.digest(domain, CairnTypedData.hash(q)), signer);
        bytes memory signature = vm.parseJsonBytes(signed, ".messages[1].signature");
        q.version += 1;
        assertTrue(
            !SignatureChecker.isValidSignatureNow(
                signer, CairnTypedData.digest(domain, CairnTypedData.hash(q)), signature
            ),
            "the signature binds the version"
        );
        q.version -= 1;
        q.maxPricePerCall += 1;
        assertTrue(
            !SignatureChecker.isValidSignatureNow(
                signer, CairnTypedData.digest(domain, CairnTypedData.hash(q)), signature
            ),
            "the signature binds maxPricePerCall"
        );

        JobReceipt memory r = abi.decode(_rustEncoded(signed, 2, "JobReceipt"), (JobReceipt));
        assertEq(r.inputDigest, q.inputDigest, "the receipt is for the request's input");
        _assertRustSigned(signed, 2, CairnTypedData.digest(domain, CairnTypedData.hash(r)), signer);
    }

    function test_CommitmentIsAbiEncodeOfTheVoteAndBindsTheRound() public pure {
        bytes32 salt = keccak256("salt");
        assertEq(
            CairnTypedData.commitment(7, 1, address(0xBEEF), 2, salt),
            keccak256(abi.encode(uint256(7), uint256(1), address(0xBEEF), uint256(2), salt)),
            "commitment"
        );
        assertTrue(
            CairnTypedData.commitment(7, 0, address(0xBEEF), 2, salt)
                != CairnTypedData.commitment(7, 1, address(0xBEEF), 2, salt),
            "a round's commitment does not serve another"
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
        r.version = uint64(_uint(i, "version"));
        r.inputDigest = _b32(i, "inputDigest");
        r.inputCid = _str(i, "inputCid");
        r.token = _addr(i, "token");
        r.payment = _uint(i, "payment");
        r.maxPricePerCall = _uint(i, "maxPricePerCall");
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
            version: type(uint64).max - 1,
            inputDigest: sha256("inputs"),
            inputCid: "",
            token: address(0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48),
            payment: 12_345_678,
            maxPricePerCall: 2_500_001,
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

    /// @dev The ABI-encoded message `i` of the Rust-signed file, checked to be of type `kind`.
    function _rustEncoded(string memory signed, uint256 i, string memory kind) internal pure returns (bytes memory) {
        string memory entry = string.concat(".messages[", vm.toString(i), "]");
        assertEq(vm.parseJsonString(signed, string.concat(entry, ".type")), kind, "message order");
        return vm.parseJsonBytes(signed, string.concat(entry, ".encoded"));
    }

    /// @dev Message `i`'s digest is `digest` (ours) and its signature is `signer`'s, as the contracts check it.
    function _assertRustSigned(string memory signed, uint256 i, bytes32 digest, address signer) internal view {
        string memory entry = string.concat(".messages[", vm.toString(i), "]");
        assertEq(
            digest, vm.parseJsonBytes32(signed, string.concat(entry, ".digest")), "Rust and Solidity digests differ"
        );
        bytes memory signature = vm.parseJsonBytes(signed, string.concat(entry, ".signature"));
        assertTrue(SignatureChecker.isValidSignatureNow(signer, digest, signature), "SignatureChecker refuses it");
        assertEq(ECDSA.recover(digest, signature), signer, "recovered signer");
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
