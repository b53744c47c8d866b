//! Both directions through forge. Solidity → Rust: forge's `test_WriteSignedMessagesForRust` signs one
//! message of each type (typed data v2) with `vm.sign` and writes the ABI-encoded message, our Solidity
//! digest and the signature; Rust decodes each message into its own type, recomputes the digest and recovers
//! forge's signer. Rust → Solidity: the same forge run includes `test_VerifiesRustSignedMessages`, which
//! accepts `testdata/vectors/rust-signed.json` (what Rust signs, checked by `rust_signed`).

use std::process::Command;

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    sol_types::{SolStruct, SolType},
};
use cairn_protocol::typed::{self, JobReceipt, JobRequest, ModelManifest};
use serde_json::Value;

use crate::repo_root;

fn check<T: SolStruct + SolType<RustType = T>>(
    entry: &Value,
    domain: &alloy::sol_types::Eip712Domain,
    signer: Address,
) -> T {
    assert_eq!(entry["type"], T::NAME, "message order");
    let encoded: Bytes = entry["encoded"].as_str().unwrap().parse().unwrap();
    let message = <T as SolType>::abi_decode(&encoded).unwrap();
    let digest: B256 = entry["digest"].as_str().unwrap().parse().unwrap();
    assert_eq!(typed::digest(&message, domain), digest, "{}: Rust and Solidity digests differ", T::NAME);
    let signature: Bytes = entry["signature"].as_str().unwrap().parse().unwrap();
    assert_eq!(typed::recover(&message, domain, &signature).unwrap(), signer, "{}: signer", T::NAME);
    message
}

#[test]
fn forge_and_rust_verify_each_others_signatures() {
    let root = repo_root();
    let forge = cairn_testkit::tool("forge").unwrap();
    let out = root.join("target/forge-signed/messages.json");
    let _ = std::fs::remove_file(&out);
    // One forge run for both directions: two concurrent runs would share forge's cache and out folders.
    const TESTS: [&str; 2] = ["test_WriteSignedMessagesForRust", "test_VerifiesRustSignedMessages"];
    let run = Command::new(&forge)
        .args([
            "test",
            "--match-path",
            "contracts/test/CairnTypedData.t.sol",
            "--match-test",
            &TESTS.join("|"),
            "--root",
        ])
        .arg(&root)
        .current_dir(&root)
        .env("PATH", format!("{}:{}", cairn_testkit::tools_bin().display(), std::env::var("PATH").unwrap_or_default()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "forge test failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    // forge exits 0 when a filter matches no test, so each one must be seen passing.
    for test in TESTS {
        assert!(stdout.contains(&format!("[PASS] {test}()")), "forge did not run {test}:\n{stdout}");
    }
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let domain =
        typed::domain(file["chainId"].as_u64().unwrap(), file["verifyingContract"].as_str().unwrap().parse().unwrap());
    let signer: Address = file["signer"].as_str().unwrap().parse().unwrap();
    let messages = file["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    let m: ModelManifest = check(&messages[0], &domain, signer);
    assert_eq!(m.manifestCid, "bafkreimanifest-été", "non-ASCII strings hash as UTF-8 on both sides");
    let q: JobRequest = check(&messages[1], &domain, signer);
    assert_eq!(q.nonce, U256::MAX);
    assert_eq!(q.version, u64::MAX - 1, "JobRequest.version (v2) crosses intact");
    assert_eq!(q.maxPricePerCall, U256::from(2_500_001), "JobRequest.maxPricePerCall (v2) crosses intact");
    let r: JobReceipt = check(&messages[2], &domain, signer);
    assert_eq!(r.energyMillijoules, 987_654);
}
