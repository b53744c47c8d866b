//! Interface versions on a real deployment: the deployments file and every versioned contract speak this
//! client's version; a file of another version (or of none: v1) is refused by every path that loads it (the
//! library, `cairn-deploy verify`, `cairn-deploy seed`), and `verify` refuses a contract that reports another
//! version or none, naming what it found.

use alloy::{
    primitives::{Address, Bytes},
    providers::Provider,
};
use cairn_chain::{Deployments, Error as ChainError, INTERFACE_VERSION, declares_interface_version};
use cairn_deploy::Error;

use crate::{Net, read_only::cairn_deploy};

/// Runtime code answering every call with the 32-byte word 9: a "Cairn contract of interface version 9".
const SPEAKS_VERSION_9: &str = "0x600960005260206000f3";

async fn set_code(net: &Net, at: Address, code: Bytes) {
    net.deployer.provider().raw_request::<_, serde_json::Value>("anvil_setCode".into(), (at, code)).await.unwrap();
}

#[tokio::test]
async fn the_deployment_and_every_versioned_contract_speak_this_clients_version() {
    let net = Net::start().await;
    assert_eq!(net.deployments.interface_version, INTERFACE_VERSION);
    let mut versioned = Vec::new();
    for (name, d) in &net.deployments.contracts {
        let found = net.deployer.interface_version(name, d.address).await.unwrap();
        if declares_interface_version(name) {
            // The constant equals what the committed artifacts' code answers.
            assert_eq!(found, Some(INTERFACE_VERSION), "{name}");
            versioned.push(name.as_str());
        } else {
            assert_eq!(found, None, "{name}");
        }
    }
    assert_eq!(
        versioned,
        ["DisputeDesk", "JobMarket", "JurorPool", "ModelRegistry", "OperatorRegistry", "ReexecutionCommittee"]
    );

    let dir = tempfile::tempdir().unwrap();
    let path = net.deployments.save(dir.path()).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(value["interfaceVersion"], INTERFACE_VERSION);
}

#[tokio::test]
async fn verify_refuses_contracts_and_deployments_of_another_version() {
    let net = Net::start().await;

    // JobMarket's address in the file holds code that reports version 9: named as a version, not as foreign
    // code (the version is read before the code is compared).
    let stub = Address::with_last_byte(0x33);
    set_code(&net, stub, SPEAKS_VERSION_9.parse().unwrap()).await;
    let mut other = net.deployments.clone();
    other.contracts.get_mut("JobMarket").unwrap().address = stub;
    let err = cairn_deploy::deploy::verify(&net.deployer, &other).await.unwrap_err();
    assert!(
        matches!(&err, Error::Chain(ChainError::InterfaceVersion { contract, found: Some(9), .. }) if contract == "JobMarket"),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "JobMarket at {stub} on chain 31337 speaks Cairn interface version 9, but this client speaks Cairn \
             interface version {INTERFACE_VERSION}"
        )),
        "{err}"
    );

    // Code without `interfaceVersion()` (a v1 JobMarket answers the same): a clear error, not a panic.
    let v1 = Address::with_last_byte(0x34);
    let token_code = net.deployer.provider().get_code_at(net.address("DevToken")).await.unwrap();
    set_code(&net, v1, token_code).await;
    other.contracts.get_mut("JobMarket").unwrap().address = v1;
    let err = cairn_deploy::deploy::verify(&net.deployer, &other).await.unwrap_err();
    assert!(matches!(&err, Error::Chain(ChainError::InterfaceVersion { found: None, .. })), "{err}");
    assert!(err.to_string().contains("has no `interfaceVersion()` (a contract of Cairn interface version 1"), "{err}");

    // Deployments of another version, however they were obtained.
    let mut old = net.deployments.clone();
    old.interface_version = 1;
    let err = cairn_deploy::deploy::verify(&net.deployer, &old).await.unwrap_err();
    assert!(matches!(&err, Error::Chain(ChainError::DeploymentsVersion { found: Some(1), .. })), "{err}");
}

#[tokio::test]
async fn the_cli_refuses_a_v1_deployments_file_and_contracts_of_another_version() {
    let net = Net::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = Deployments::path(dir.path(), 31337);
    let dir_arg = dir.path().to_str().unwrap();

    // A v1 file (written before interface versions: no `interfaceVersion`).
    let mut v1 = serde_json::to_value(&net.deployments).unwrap();
    v1.as_object_mut().unwrap().remove("interfaceVersion");
    std::fs::write(&path, v1.to_string()).unwrap();
    let out = cairn_deploy(&["verify", "--rpc-url", net.anvil.url(), "--deployments-dir", dir_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "deployments file {}: it records a deployment of Cairn interface version 1 (it has no \
             `interfaceVersion`: it was written before interface versions were recorded), but this client speaks \
             interface version {INTERFACE_VERSION}; redeploy the contracts for version {INTERFACE_VERSION} with `cairn-deploy deploy --force --rpc-url \
             …` (locally: `make devnet`), or use a Cairn client that speaks interface version 1",
            path.display()
        )),
        "{stderr}"
    );
    // `seed` loads it the same way, and sends nothing.
    let nonce = net.deployer.provider().get_transaction_count(net.deployer.account()).await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn-deploy"))
        .args(["seed", "--rpc-url", net.anvil.url(), "--deployments-dir", dir_arg, "--accounts-out"])
        .arg(dir.path().join("accounts.json"))
        .env("CAIRN_PRIVATE_KEY", crate::ANVIL_KEY_0)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("it records a deployment of Cairn interface version 1"), "{stderr}");
    assert_eq!(net.deployer.provider().get_transaction_count(net.deployer.account()).await.unwrap(), nonce);
    assert!(!dir.path().join("accounts.json").exists());

    // A file of this version whose JobMarket address holds code of version 9.
    let stub = Address::with_last_byte(0x33);
    set_code(&net, stub, SPEAKS_VERSION_9.parse().unwrap()).await;
    let mut other = net.deployments.clone();
    other.contracts.get_mut("JobMarket").unwrap().address = stub;
    other.save(dir.path()).unwrap();
    let out = cairn_deploy(&["verify", "--rpc-url", net.anvil.url(), "--deployments-dir", dir_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "speaks Cairn interface version 9, but this client speaks Cairn interface version {INTERFACE_VERSION}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
