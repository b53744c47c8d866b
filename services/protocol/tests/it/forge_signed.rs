//! The Solidity → Rust direction: forge's `test_WriteSignedMessagesForRust` signs one message of each type
//! with `vm.sign` and writes the ABI-encoded message, our Solidity digest and the signature; Rust decodes
//! each message into its own type, recomputes the digest and recovers forge's signer.

use std::process::Command;

use alloy::{
    primitives::{Address, B256, Bytes},
    sol_types::{SolStruct, SolType},
};
use cairn_protocol::typed::{self, JobReceipt, JobRequest, ModelManifest};
use serde_json::Value;

fn check<T: SolStruct + SolType<RustType = T>>(
    entry: &Value,
    domain: &alloy::sol_types::Eip712Domain,
    signer: Address,
) -> T {
    let encoded: Bytes = entry["encoded"].as_str().unwrap().parse().unwrap();
    let message = <T as SolType>::abi_decode(&encoded).unwrap();
    let digest: B256 = entry["digest"].as_str().unwrap().parse().unwrap();
    assert_eq!(typed::digest(&message, domain), digest, "{}: Rust and Solidity digests differ", T::NAME);
    let signature: Bytes = entry["signature"].as_str().unwrap().parse().unwrap();
    assert_eq!(typed::recover(&message, domain, &signature).unwrap(), signer, "{}: signer", T::NAME);
    message
}

#[test]
fn rust_verifies_what_forge_signed() {
    let root = cairn_testkit::repo_root();
    let forge = cairn_testkit::tool("forge").unwrap();
    let out = root.join("target/forge-signed/messages.json");
    let _ = std::fs::remove_file(&out);
    let status = Command::new(&forge)
        .args(["test", "--match-test", "test_WriteSignedMessagesForRust", "--root"])
        .arg(&root)
        .current_dir(&root)
        .env("PATH", format!("{}:{}", cairn_testkit::tools_bin().display(), std::env::var("PATH").unwrap_or_default()))
        .status()
        .unwrap();
    assert!(status.success(), "forge test failed");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let domain =
        typed::domain(file["chainId"].as_u64().unwrap(), file["verifyingContract"].as_str().unwrap().parse().unwrap());
    let signer: Address = file["signer"].as_str().unwrap().parse().unwrap();
    let messages = file["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    let m: ModelManifest = check(&messages[0], &domain, signer);
    assert_eq!(m.manifestCid, "bafkreimanifest-été", "non-ASCII strings hash as UTF-8 on both sides");
    let q: JobRequest = check(&messages[1], &domain, signer);
    assert_eq!(q.nonce, alloy::primitives::U256::MAX);
    let r: JobReceipt = check(&messages[2], &domain, signer);
    assert_eq!(r.energyMillijoules, 987_654);
}
