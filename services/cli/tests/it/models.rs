//! Reading models and a seller's changes to its own.

use alloy::primitives::{Address, U256};
use cairn_bindings::ModelRegistry;

use crate::{Devnet, seller};

#[tokio::test]
async fn a_seller_lists_updates_and_deprecates_its_model_and_others_cannot() {
    let net = Devnet::start().await;
    let id = net.register(&seller(), Address::ZERO, (U256::ZERO, 0)).await;
    let id_arg = id.to_string();
    let registry = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());

    let list = net.cairn(&["--json", "model", "list"]).json();
    assert_eq!(list[0]["modelId"], id_arg);
    assert_eq!(list[0]["latest"]["regions"], "EU,US");
    assert_eq!(list[0]["latest"]["runtime"], "candle/bert-embed@1");
    let shown = net.cairn(&["--json", "model", "show", &id_arg]).json();
    assert_eq!(shown["sellerDid"], format!("did:pkh:eip155:31337:{}", seller().address()));
    net.cairn(&["model", "show", "99"]).fails(1, &["model 99 does not exist"]);

    let updated = net
        .cairn(&[
            "--json",
            "--account",
            "seller",
            "model",
            "update-terms",
            &id_arg,
            "--price-per-call",
            "0.0002ether",
            "--yes",
        ])
        .json();
    assert_eq!(updated["after"]["pricePerCall"]["raw"], "200000000000000");
    let v = registry.getVersion(id, 1).call().await.unwrap();
    assert_eq!(v.pricePerCall, U256::from(200_000_000_000_000u64));

    net.cairn(&["--account", "seller", "model", "set-regions", &id_arg, "EU,XX", "--yes"]).fails(2, &["XX"]);
    net.cairn(&["--json", "--account", "seller", "model", "set-regions", &id_arg, "eu,uk,ch", "--yes"]).json();
    assert_eq!(registry.getVersion(id, 1).call().await.unwrap().regionMask, U256::from(0b111));

    // Another account is refused before anything is sent.
    net.cairn(&["--account", "buyer", "model", "deprecate", &id_arg, "--yes"])
        .fails(1, &["is sold by", "seller's key"]);
    net.cairn(&["--account", "seller", "model", "update-terms", &id_arg, "--yes"]).fails(2, &["nothing to change"]);
    net.cairn(&["--json", "--account", "seller", "model", "deprecate", &id_arg, "--yes"]).json();
    assert!(registry.getModel(id).call().await.unwrap().deprecated);
    let versions = net.cairn(&["--json", "model", "versions", &id_arg]).json();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    assert!(net.cairn(&["--json", "model", "list"]).json().as_array().unwrap().is_empty(), "deprecated models hide");
    assert_eq!(net.cairn(&["--json", "model", "list", "--all"]).json().as_array().unwrap().len(), 1);
}
