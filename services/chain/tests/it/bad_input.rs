//! Every bad input of the issue: a clear error naming it and what to do.

use std::process::Command;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    rpc::types::TransactionRequest,
};
use cairn_chain::{Chain, ChainOptions, Deployments, Error, PasswordSource, SignerSource};

use crate::{funded, random_signer};

#[tokio::test]
async fn wrong_rpc_url_names_the_url() {
    // Nothing listens on port 9 (discard) on loopback.
    let err =
        Chain::connect("http://127.0.0.1:9", random_signer(), ChainOptions { max_retries: 0, ..Default::default() })
            .await
            .unwrap_err();
    assert!(matches!(err, Error::Rpc { .. }), "{err}");
    assert!(err.to_string().contains("http://127.0.0.1:9") && err.to_string().contains("check the URL"), "{err}");
    let err = Chain::connect("ftp://example.invalid", random_signer(), ChainOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::Rpc { .. }), "{err}");
}

#[tokio::test]
async fn chain_id_mismatch_and_missing_deployments_are_named() {
    let anvil = cairn_testkit::Anvil::start_with(4242, &[]).await.unwrap();
    let chain = funded(&anvil).await;
    assert_eq!(chain.chain_id(), 4242);
    let err = chain.expect_chain("deployments/31337.json", 31337).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("says chain 31337") && text.contains("serves chain 4242"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let err = chain.deployments(dir.path()).await.unwrap_err();
    assert!(matches!(err, Error::NoDeployments { chain_id: 4242, .. }), "{err}");
    assert!(err.to_string().contains("cairn-deploy deploy"), "{err}");

    // A file of another chain under this chain's name.
    let other = Deployments {
        chain_id: 10,
        interface_version: cairn_chain::INTERFACE_VERSION,
        deployment_block: 1,
        deployer: Address::ZERO,
        owner: Address::ZERO,
        git_commit: "x".into(),
        compiler: serde_json::Value::Null,
        contracts: Default::default(),
    };
    let written = other.save(dir.path()).unwrap();
    std::fs::rename(written, Deployments::path(dir.path(), 4242)).unwrap();
    let err = chain.deployments(dir.path()).await.unwrap_err();
    assert!(err.to_string().contains("describes chain 10, not chain 4242"), "{err}");
}

#[tokio::test]
async fn no_code_at_an_address_is_named() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = funded(&anvil).await;
    let nobody = Address::with_last_byte(0x77);
    let err = chain.ensure_code("JobMarket", nobody).await.unwrap_err();
    assert!(matches!(err, Error::NoCode { .. }), "{err}");
    assert!(err.to_string().contains("JobMarket is not deployed there"), "{err}");
}

#[tokio::test]
async fn unfunded_account_is_named_with_its_balance() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let signer = random_signer();
    let address = signer.address();
    let chain = Chain::connect(anvil.url(), signer, ChainOptions::default()).await.unwrap();
    let tx = TransactionRequest::default().with_to(Address::left_padding_from(&[0x10, 0x01])).with_value(U256::from(1));
    let err = chain.send("pay one wei", tx).await.unwrap_err();
    assert!(matches!(err, Error::Unfunded { balance, .. } if balance.is_zero()), "{err}");
    assert!(err.to_string().contains(&address.to_string()) && err.to_string().contains("fund it"), "{err}");
}

#[tokio::test]
async fn keystores_written_by_cast_load_and_a_wrong_password_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cast = cairn_testkit::tool("cast").unwrap();
    let out = Command::new(cast)
        .args(["wallet", "new"])
        .arg(dir.path())
        .args(["--unsafe-password", "correct horse", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "cast wallet new: {}", String::from_utf8_lossy(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = std::path::PathBuf::from(made[0]["path"].as_str().unwrap());
    let address: Address = made[0]["address"].as_str().unwrap().parse().unwrap();

    let password_file = dir.path().join("pass");
    std::fs::write(&password_file, "correct horse\n").unwrap();
    let good = SignerSource::Keystore { path: path.clone(), password: PasswordSource::File(password_file) };
    assert_eq!(good.load().await.unwrap().address(), address);

    let bad = SignerSource::Keystore { path: path.clone(), password: PasswordSource::Literal("wrong".into()) };
    let err = bad.load().await.unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
    assert!(err.to_string().contains("wrong password"), "{err}");
    assert!(!format!("{bad:?}").contains("wrong"), "passwords never reach Debug output");

    let missing = SignerSource::Keystore { path: dir.path().join("nope"), password: PasswordSource::Prompt };
    assert!(missing.load().await.unwrap_err().to_string().contains("cast wallet new"));
}

#[test]
fn env_keys_are_checked_and_never_echoed() {
    let var = "CAIRN_TEST_KEY_NOT_SET_ANYWHERE";
    let err = SignerSource::Env(var.into()).load_blocking().unwrap_err();
    assert!(err.to_string().contains(var) && err.to_string().contains("--keystore"), "{err}");
}
