//! The interface-version checks against real code on anvil: a Cairn contract of this version passes; code
//! without `interfaceVersion()` (the devnet's DevToken), code reporting another version, and no code at all
//! are refused with errors that say what was found — also when they come through a deployments file.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, utils::parse_ether},
    providers::Provider,
};
use cairn_bindings::{DevToken, OperatorRegistry};
use cairn_chain::{Chain, Deployments, Error, INTERFACE_VERSION, deployments::Deployed};

use crate::funded;

/// Runtime code answering every call with the 32-byte word 9: a "Cairn contract of interface version 9".
const SPEAKS_VERSION_9: &str = "0x600960005260206000f3";

async fn set_code(chain: &Chain, at: Address, code: &str) {
    chain.provider().raw_request::<_, serde_json::Value>("anvil_setCode".into(), (at, code)).await.unwrap();
}

#[tokio::test]
async fn the_on_chain_check_accepts_this_version_and_names_any_other() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = funded(&anvil).await;
    let me = chain.account();
    let p = chain.provider().clone();

    // A real Cairn contract of the version this client speaks.
    let tx = OperatorRegistry::deploy_builder(&p, me, parse_ether("1").unwrap(), 60).into_transaction_request();
    let registry = chain.deploy("OperatorRegistry", tx).await.unwrap().address;
    assert_eq!(chain.interface_version("OperatorRegistry", registry).await.unwrap(), Some(INTERFACE_VERSION));
    chain.expect_interface_version("OperatorRegistry", registry).await.unwrap();

    // Code without `interfaceVersion()`: an error naming what is missing, never a panic or a decode error.
    let token = chain.deploy("DevToken", DevToken::deploy_builder(&p, me).into_transaction_request()).await.unwrap();
    assert_eq!(chain.interface_version("JobMarket", token.address).await.unwrap(), None);
    let err = chain.expect_interface_version("JobMarket", token.address).await.unwrap_err();
    assert!(matches!(&err, Error::InterfaceVersion { found: None, address, .. } if *address == token.address), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "JobMarket at {} on chain 31337 has no `interfaceVersion()` (a contract of Cairn interface version 1, or \
             not a Cairn contract at all), but this client speaks Cairn interface version {INTERFACE_VERSION}; it cannot talk to that \
             deployment: redeploy the contracts with `cairn-deploy deploy --force --rpc-url …` (locally: `make \
             devnet`) and use the new deployments file, or use a Cairn client that speaks the deployed version",
            token.address
        )
    );

    // Code that reports another version.
    let other = Address::with_last_byte(0x33);
    set_code(&chain, other, SPEAKS_VERSION_9).await;
    assert_eq!(chain.interface_version("JobMarket", other).await.unwrap(), Some(9));
    let err = chain.expect_interface_version("JobMarket", other).await.unwrap_err();
    assert!(matches!(err, Error::InterfaceVersion { found: Some(9), .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "JobMarket at {other} on chain 31337 speaks Cairn interface version 9, but this client speaks Cairn \
             interface version {INTERFACE_VERSION}"
        )),
        "{err}"
    );

    // No code at all is NoCode, not a version problem.
    let err = chain.expect_interface_version("JobMarket", Address::with_last_byte(0x77)).await.unwrap_err();
    assert!(matches!(err, Error::NoCode { .. }), "{err}");
}

#[tokio::test]
async fn a_deployments_file_naming_code_of_another_version_is_refused_on_load() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = funded(&anvil).await;
    let other = Address::with_last_byte(0x33);
    set_code(&chain, other, SPEAKS_VERSION_9).await;
    let deployed = |address| Deployed { address, block: 1, tx: B256::ZERO };
    let file = |contracts: BTreeMap<String, Deployed>| Deployments {
        chain_id: 31337,
        interface_version: INTERFACE_VERSION,
        deployment_block: 1,
        deployer: chain.account(),
        owner: chain.account(),
        git_commit: "x".into(),
        compiler: serde_json::Value::Null,
        contracts,
    };
    let dir = tempfile::tempdir().unwrap();

    // The file says this client's version, the code at JobMarket's address says 9: the file does not describe the chain.
    file(BTreeMap::from([("JobMarket".to_string(), deployed(other))])).save(dir.path()).unwrap();
    let err = chain.deployments(dir.path()).await.unwrap_err();
    assert!(
        matches!(&err, Error::InterfaceVersion { contract, found: Some(9), .. } if contract == "JobMarket"),
        "{err}"
    );

    // Contracts without a version of their own (DevToken, BlockhashRandomness) are not asked for one.
    let p = chain.provider().clone();
    let token = chain.deploy("DevToken", DevToken::deploy_builder(&p, chain.account()).into_transaction_request());
    let token = token.await.unwrap().address;
    file(BTreeMap::from([("DevToken".to_string(), deployed(token))])).save(dir.path()).unwrap();
    let loaded = chain.deployments(dir.path()).await.unwrap();
    assert_eq!(loaded.address("DevToken").unwrap(), token);
}
