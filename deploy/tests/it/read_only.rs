//! Read-only commands need no key: `cairn-deploy verify` with no key in its environment, against a real
//! deployment; sending commands and library calls on a read-only connection fail naming the action.

use std::process::{Command, Output};

use alloy::providers::Provider;
use cairn_chain::{Chain, ChainOptions, Error as ChainError};
use cairn_deploy::{Error, config::DeployConfig};

use crate::Net;

/// Runs the cairn-deploy binary with no key, keystore or RPC in its environment.
pub(crate) fn cairn_deploy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn-deploy"))
        .args(args)
        .env_remove("CAIRN_PRIVATE_KEY")
        .env_remove("CAIRN_KEYSTORE")
        .env_remove("CAIRN_PASSWORD_FILE")
        .env_remove("CAIRN_RPC_URL")
        .output()
        .unwrap()
}

#[tokio::test]
async fn verify_needs_no_key_and_seed_says_which_key_it_needs() {
    let net = Net::start().await;
    let dir = tempfile::tempdir().unwrap();
    net.deployments.save(dir.path()).unwrap();
    let dir = dir.path().to_str().unwrap();

    let out = cairn_deploy(&["verify", "--rpc-url", net.anvil.url(), "--deployments-dir", dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify without a key: {stderr}");
    assert!(stderr.contains("8 contracts on chain 31337 match their artifacts"), "{stderr}");

    // Verify takes no key flags at all; seed sends, so it asks for one.
    let out = cairn_deploy(&["verify", "--rpc-url", net.anvil.url(), "--keystore", "k.json"]);
    assert!(!out.status.success());
    let out = cairn_deploy(&["seed", "--rpc-url", net.anvil.url(), "--deployments-dir", dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("CAIRN_PRIVATE_KEY is not set") && stderr.contains("--keystore"), "{stderr}");
}

#[tokio::test]
async fn deploying_on_a_read_only_connection_names_the_action_and_sends_nothing() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = Chain::connect_read_only(anvil.url(), ChainOptions::default()).await.unwrap();
    let config = DeployConfig::defaults("devnet").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = crate::options(dir.path(), cairn_deploy::deploy::Mode::New);
    let err = cairn_deploy::deploy::deploy(&chain, &config, &options, &|_| {}).await.unwrap_err();
    assert!(
        matches!(&err, Error::Chain(ChainError::NoSigner { action }) if action == "deploy OperatorRegistry"),
        "{err}"
    );
    assert!(err.to_string().contains("--keystore"), "{err}");
    assert_eq!(chain.provider().get_block_number().await.unwrap(), 0, "no transaction was mined");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no journal or deployments file was written: {left:?}");
}
