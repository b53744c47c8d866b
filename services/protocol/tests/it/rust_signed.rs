//! The Rust → Solidity direction: `testdata/vectors/rust-signed.json` holds one message of each type
//! (typed data v2) signed by `typed::sign`, ABI-encoded, with Rust's digest and the signature. Forge's
//! `test_VerifiesRustSignedMessages` decodes each one, recomputes the digest with `CairnTypedData` and
//! requires OpenZeppelin's `SignatureChecker` to accept it (run by `forge test`, and from cargo by
//! `forge_signed`). This test keeps the committed file exactly what Rust signs today: RFC 6979 signing is
//! deterministic, so any change to Rust's hashing or signing shows here as a diff.

use alloy::{
    primitives::{Address, Bytes, U256, address, b256, keccak256},
    signers::local::PrivateKeySigner,
    sol_types::{Eip712Domain, SolStruct, SolValue},
};
use cairn_protocol::{
    Runtime,
    runtime::runner_build,
    typed::{self, JobReceipt, JobRequest, ModelManifest},
};
use serde_json::{Value, json};

use crate::repo_root;

/// The fixture, relative to the repository root.
const FIXTURE: &str = "testdata/vectors/rust-signed.json";
/// Set to rewrite the fixture from what Rust signs (then review the diff and commit it).
const WRITE_ENV: &str = "CAIRN_WRITE_RUST_SIGNED";

/// A test key of this fixture alone (not an anvil account, so no other test's signature can stand in).
fn signer() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&b256!("0x00000000000000000000000000000000000000000000000000000000000decaf")).unwrap()
}

const CHAIN_ID: u64 = 8453;
const VERIFYING_CONTRACT: Address = address!("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
const USDC: Address = address!("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");

/// Distinct values in every field, so that two fields swapped on one side cannot pass; v2's `version` and
/// `maxPricePerCall` at values no other field holds.
fn messages(signer: Address) -> (ModelManifest, JobRequest, JobReceipt) {
    let weights = b256!("0x53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
    let manifest = ModelManifest {
        seller: signer,
        modelId: U256::from(42),
        manifestCid: "bafkreirust-manifest-ünïcode".into(),
        manifestDigest: keccak256("rust manifest bytes"),
        weightsDigest: weights,
        runtime: Runtime::BertEmbedV1.id(),
        paymentToken: USDC,
        pricePerCall: U256::from(2_500_000),
        licensePrice: U256::from(1_000_000_000),
        licensePeriod: 2_592_000,
        regionMask: U256::from(0b1001),
        nonce: U256::from(7),
        deadline: 1_900_000_000,
    };
    let request = JobRequest {
        buyer: signer,
        modelId: U256::from(42),
        version: 3,
        inputDigest: keccak256("rust input bytes"),
        inputCid: "bafkreirustinput".into(),
        token: USDC,
        payment: U256::from(5_000_000),
        maxPricePerCall: U256::from(2_600_000),
        deadline: u64::MAX,
        regionMask: U256::from(1),
        nonce: U256::MAX - U256::from(1),
    };
    let receipt = JobReceipt {
        jobId: U256::from(5),
        weightsDigest: weights,
        inputDigest: request.inputDigest,
        runtime: manifest.runtime,
        outputDigest: keccak256("rust output bytes"),
        outputCid: String::new(),
        runnerBuild: runner_build("cairn-runner 0.1.0"),
        energyMillijoules: u64::MAX - 2,
    };
    (manifest, request, receipt)
}

async fn entry<T: SolStruct + SolValue + Sync>(signer: &PrivateKeySigner, message: &T, domain: &Eip712Domain) -> Value {
    let digest = typed::digest(message, domain);
    let signature = typed::sign(signer, message, domain).await.unwrap().as_bytes();
    // What Solidity will check, checked here first: the signature recovers the signer under the contracts'
    // rules.
    assert_eq!(typed::recover(message, domain, &signature).unwrap(), signer.address(), "{}", T::NAME);
    json!({
        "type": T::NAME,
        "encoded": Bytes::from(message.abi_encode()),
        "digest": digest,
        "signature": Bytes::from(signature.to_vec()),
    })
}

/// The fixture's text as Rust produces it now.
async fn render() -> String {
    let signer = signer();
    let domain = typed::domain(CHAIN_ID, VERIFYING_CONTRACT);
    let (manifest, request, receipt) = messages(signer.address());
    let file = json!({
        "about": "Typed data v2 signed by cairn-protocol (typed::sign) for the Solidity side to verify: each \
                  message ABI-encoded (abi.decode(encoded, (Type))), Rust's EIP-712 digest and the 65-byte \
                  signature r||s||v. Written by `CAIRN_WRITE_RUST_SIGNED=1 cargo test -p cairn-protocol \
                  --test it rust_signed::`; do not edit by hand.",
        "chainId": CHAIN_ID,
        "verifyingContract": VERIFYING_CONTRACT,
        "signer": signer.address(),
        "messages": [
            entry(&signer, &manifest, &domain).await,
            entry(&signer, &request, &domain).await,
            entry(&signer, &receipt, &domain).await,
        ],
    });
    serde_json::to_string_pretty(&file).unwrap() + "\n"
}

#[tokio::test]
async fn rust_signed_fixture_is_what_rust_signs() {
    let path = repo_root().join(FIXTURE);
    let expected = render().await;
    if std::env::var_os(WRITE_ENV).is_some() {
        // Through a rename, so a forge run reading the file meanwhile sees the old or the new one, whole.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, &expected).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{FIXTURE}: {e}; `{WRITE_ENV}=1 cargo test -p cairn-protocol --test it rust_signed::` writes it")
    });
    // Compared as JSON values: key order depends on serde_json's `preserve_order` feature, which another
    // crate of the workspace may switch on.
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    assert!(
        parse(&committed) == parse(&expected),
        "{FIXTURE} is not what Rust signs now; if Rust's typed data changed on purpose, run \
         `{WRITE_ENV}=1 cargo test -p cairn-protocol --test it rust_signed::`, review the diff and commit it.\n\
         expected:\n{expected}"
    );
}
