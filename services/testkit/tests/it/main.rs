//! The test support starts real services and cleans up after itself; the model is what we pinned.

use std::path::Path;

use cairn_primitives::Sha256Digest;
use cairn_testkit::{Anvil, Kubo, TestNet, model_digests, model_dir};

mod postgres;

async fn rpc(url: &str, method: &str) -> serde_json::Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []});
    reqwest::Client::new().post(url).json(&body).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn testnet_starts_both_services_and_stops_them_on_drop() {
    let net = TestNet::start().await.unwrap();
    assert_eq!(rpc(net.anvil.url(), "eth_chainId").await["result"], "0x7a69");
    let accounts = rpc(net.anvil.url(), "eth_accounts").await;
    assert_eq!(accounts["result"].as_array().unwrap().len(), 10, "anvil's funded dev accounts");
    let version = reqwest::Client::new().post(format!("{}/api/v0/version", net.kubo.api_url())).send().await.unwrap();
    assert!(version.status().is_success());

    let (anvil_url, kubo_url, repo) =
        (net.anvil.url().to_owned(), net.kubo.api_url().to_owned(), net.kubo.repo().to_owned());
    assert!(repo.join("config").exists());
    drop(net);
    for url in [anvil_url, kubo_url] {
        let gone = reqwest::Client::new().post(&url).send().await;
        assert!(gone.is_err_and(|e| e.is_connect()), "{url} still answers after drop");
    }
    assert!(!repo.exists(), "temporary IPFS repo removed on drop");
}

#[tokio::test]
async fn two_nodes_run_side_by_side_on_their_own_ports() {
    let (a, b) = tokio::join!(Anvil::start_with(10, &[]), Anvil::start_with(8453, &[]));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.url(), b.url());
    assert_eq!(rpc(a.url(), "eth_chainId").await["result"], "0xa");
    assert_eq!(rpc(b.url(), "eth_chainId").await["result"], "0x2105");
    let (k1, k2) = tokio::join!(Kubo::start(), Kubo::start());
    assert_ne!(k1.unwrap().api_url(), k2.unwrap().api_url());
}

#[test]
fn model_files_match_their_pinned_digests() {
    let dir = model_dir();
    assert!(dir.join("model.safetensors").exists(), "{} missing: run `make setup`", dir.display());
    let digests = model_digests();
    assert!(digests.len() >= 4, "the digest list names the model files");
    let weights = digests.get("model.safetensors").unwrap().to_hex();
    assert!(weights.starts_with("53aa5117") && weights.ends_with("d9db"), "pinned weights digest changed");
    for (name, expected) in digests.iter() {
        let (actual, _) = Sha256Digest::of_file(&dir.join(Path::new(name))).unwrap();
        assert_eq!(actual, expected, "{name}");
    }
}
