//! Every vector of `testdata/vectors/eip712.json` (typed data v2, viem's output; `cast` agrees): typehash,
//! struct hash, domain separator, digest, and the exact signature bytes (RFC 6979 signing is deterministic),
//! then recovery; the file's `types` are the Rust types' (the forge test checks them against the Solidity
//! type hashes), and Foundry's `cast` derives every hash and signature of the file from its types and
//! messages as committed (`make vectors-check`).

use std::process::Command;

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    signers::local::PrivateKeySigner,
    sol_types::SolStruct,
};
use cairn_protocol::typed::{self, JobReceipt, JobRequest, ModelManifest};
use serde_json::Value;

use crate::repo_root;

/// anvil's public test account 0, the vectors' signer.
const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn u(m: &Value, k: &str) -> U256 {
    U256::from_str_radix(m[k].as_str().unwrap(), 10).unwrap()
}
fn u64_(m: &Value, k: &str) -> u64 {
    m[k].as_str().unwrap().parse().unwrap()
}
fn a(m: &Value, k: &str) -> Address {
    m[k].as_str().unwrap().parse().unwrap()
}
fn b(m: &Value, k: &str) -> B256 {
    m[k].as_str().unwrap().parse().unwrap()
}
fn s(m: &Value, k: &str) -> String {
    m[k].as_str().unwrap().to_string()
}

/// One vector `v` against `message` (built from its `message`); `types` is the file's `types`.
async fn check<T: SolStruct + Sync>(types: &Value, v: &Value, message: T) {
    let d = &v["domain"];
    let domain = typed::domain(d["chainId"].as_u64().unwrap(), a(d, "verifyingContract"));
    assert_eq!(domain.separator(), b(v, "domainSeparator"), "domain separator");
    let encode_type = encode_type(types, T::NAME);
    assert_eq!(
        message.eip712_type_hash(),
        keccak256(&encode_type),
        "type hash of {}: keccak256({encode_type})",
        T::NAME
    );
    assert_eq!(message.eip712_hash_struct(), b(v, "structHash"), "struct hash of {}", T::NAME);
    assert_eq!(typed::digest(&message, &domain), b(v, "digest"), "digest of {}", T::NAME);
    let signer: PrivateKeySigner = ANVIL_KEY_0.parse().unwrap();
    let signature = typed::sign(&signer, &message, &domain).await.unwrap();
    let expected: alloy::primitives::Bytes = v["signature"].as_str().unwrap().parse().unwrap();
    assert_eq!(signature.as_bytes().as_slice(), expected.as_ref(), "signature of {}", T::NAME);
    assert_eq!(typed::recover(&message, &domain, &expected).unwrap(), a(v, "signer"));
}

fn vectors_file() -> Value {
    let path = repo_root().join("testdata/vectors/eip712.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// EIP-712's encodeType of `primary` from a vectors file's `types` (the signed structs reference no others).
fn encode_type(types: &Value, primary: &str) -> String {
    let fields = types[primary].as_array().unwrap_or_else(|| panic!("the vectors define no type {primary}"));
    let fields: Vec<String> =
        fields.iter().map(|f| format!("{} {}", f["type"].as_str().unwrap(), f["name"].as_str().unwrap())).collect();
    format!("{primary}({})", fields.join(","))
}

#[test]
fn vector_types_are_the_rust_types() {
    let file = vectors_file();
    let types = &file["types"];
    let mut names: Vec<&str> =
        types.as_object().unwrap().keys().map(String::as_str).filter(|n| *n != "EIP712Domain").collect();
    names.sort_unstable();
    assert_eq!(names, ["JobReceipt", "JobRequest", "ModelManifest"], "the signed types of the vectors file");
    let rust = [
        ("ModelManifest", ModelManifest::eip712_encode_type()),
        ("JobRequest", JobRequest::eip712_encode_type()),
        ("JobReceipt", JobReceipt::eip712_encode_type()),
    ];
    for (name, encoded) in rust {
        assert_eq!(
            encode_type(types, name),
            encoded,
            "testdata/vectors/eip712.json's {name} is not the Rust type (the contracts' ABI, via cairn-bindings): \
             change the contracts and regenerate the artifacts, or the vectors (`make vectors`), so they agree"
        );
    }
    for v in file["vectors"].as_array().unwrap() {
        assert_eq!(v["domain"]["name"], typed::DOMAIN_NAME, "domain name");
        assert_eq!(v["domain"]["version"], typed::DOMAIN_VERSION, "domain version");
    }
}

#[test]
fn cast_derives_every_committed_hash_and_signature() {
    // scripts/vectors.py recomputes struct hashes, domain separators, digests and signatures with Foundry's
    // cast alone; the file (viem's output) must come out byte-identical.
    let root = repo_root();
    let cast = cairn_testkit::tool("cast").unwrap();
    let out = Command::new("python3")
        .current_dir(&root)
        .env("CAST", cast)
        .args(["scripts/vectors.py", "--check", "testdata/vectors/eip712.json"])
        .output()
        .expect("python3 runs scripts/vectors.py (install python3)");
    assert!(
        out.status.success(),
        "cast disagrees with the committed vectors:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn rust_reproduces_every_shared_vector() {
    let file = vectors_file();
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    let mut checked = Vec::new();
    for v in vectors {
        checked.push(v["primaryType"].as_str().unwrap());
        let m = &v["message"];
        match v["primaryType"].as_str().unwrap() {
            "ModelManifest" => {
                let msg = ModelManifest {
                    seller: a(m, "seller"),
                    modelId: u(m, "modelId"),
                    manifestCid: s(m, "manifestCid"),
                    manifestDigest: b(m, "manifestDigest"),
                    weightsDigest: b(m, "weightsDigest"),
                    runtime: b(m, "runtime"),
                    paymentToken: a(m, "paymentToken"),
                    pricePerCall: u(m, "pricePerCall"),
                    licensePrice: u(m, "licensePrice"),
                    licensePeriod: u64_(m, "licensePeriod"),
                    regionMask: u(m, "regionMask"),
                    nonce: u(m, "nonce"),
                    deadline: u64_(m, "deadline"),
                };
                check(&file["types"], v, msg).await;
            }
            "JobRequest" => {
                let msg = JobRequest {
                    buyer: a(m, "buyer"),
                    modelId: u(m, "modelId"),
                    version: u64_(m, "version"),
                    inputDigest: b(m, "inputDigest"),
                    inputCid: s(m, "inputCid"),
                    token: a(m, "token"),
                    payment: u(m, "payment"),
                    maxPricePerCall: u(m, "maxPricePerCall"),
                    deadline: u64_(m, "deadline"),
                    regionMask: u(m, "regionMask"),
                    nonce: u(m, "nonce"),
                };
                check(&file["types"], v, msg).await;
            }
            "JobReceipt" => {
                let msg = JobReceipt {
                    jobId: u(m, "jobId"),
                    weightsDigest: b(m, "weightsDigest"),
                    inputDigest: b(m, "inputDigest"),
                    runtime: b(m, "runtime"),
                    outputDigest: b(m, "outputDigest"),
                    outputCid: s(m, "outputCid"),
                    runnerBuild: b(m, "runnerBuild"),
                    energyMillijoules: u64_(m, "energyMillijoules"),
                };
                check(&file["types"], v, msg).await;
            }
            other => panic!("unknown primaryType {other}"),
        }
    }
    assert_eq!(
        checked,
        ["ModelManifest", "ModelManifest", "JobRequest", "JobRequest", "JobReceipt"],
        "the vectors, in order"
    );
}

#[test]
fn eip712_type_strings_match_design() {
    // DESIGN.md's "Typed data" (v2: JobRequest binds `version` and `maxPricePerCall`), verbatim; the
    // contracts' type hashes are checked by the forge tests.
    assert_eq!(
        ModelManifest::eip712_encode_type(),
        "ModelManifest(address seller,uint256 modelId,string manifestCid,bytes32 manifestDigest,bytes32 weightsDigest,\
         bytes32 runtime,address paymentToken,uint256 pricePerCall,uint256 licensePrice,uint64 licensePeriod,\
         uint256 regionMask,uint256 nonce,uint64 deadline)"
    );
    assert_eq!(
        JobRequest::eip712_encode_type(),
        "JobRequest(address buyer,uint256 modelId,uint64 version,bytes32 inputDigest,string inputCid,address token,\
         uint256 payment,uint256 maxPricePerCall,uint64 deadline,uint256 regionMask,uint256 nonce)"
    );
    assert_eq!(
        JobReceipt::eip712_encode_type(),
        "JobReceipt(uint256 jobId,bytes32 weightsDigest,bytes32 inputDigest,bytes32 runtime,bytes32 outputDigest,\
         string outputCid,bytes32 runnerBuild,uint64 energyMillijoules)"
    );
}
