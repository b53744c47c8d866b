//! Buying licences at the terms seen, balances and withdrawals, through the binary.

use alloy::primitives::{Address, U256, utils::parse_ether};
use cairn_bindings::{DevToken, ModelRegistry};

use crate::{Devnet, buyer, seller};

#[tokio::test]
async fn an_eth_licence_is_bought_at_the_terms_seen_and_the_seller_withdraws_the_fee() {
    let net = Devnet::start().await;
    let price = parse_ether("0.01").unwrap();
    let id = net.register(&seller(), Address::ZERO, (price, 86_400)).await;
    let registry = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());
    let id_arg = id.to_string();

    // A bound below the price is refused before anything is sent.
    let before = net.deployer.balance(buyer().address()).await.unwrap();
    net.cairn(&["--account", "buyer", "license", "buy", &id_arg, "--max-price", "0.009ether", "--yes"])
        .fails(1, &["above your --max-price", "0.009 ETH"]);
    net.cairn(&[
        "--account",
        "buyer",
        "license",
        "buy",
        &id_arg,
        "--max-price",
        "0.01ether",
        "--min-period",
        "2d",
        "--yes",
    ])
    .fails(1, &["shorter than your --min-period"]);
    net.cairn(&["--account", "buyer", "license", "buy", &id_arg, "--max-price", "1", "--yes"])
        .fails(2, &["has no unit"]);
    assert_eq!(net.deployer.balance(buyer().address()).await.unwrap(), before, "nothing moved");
    assert_eq!(registry.licenseExpiry(id, buyer().address()).call().await.unwrap(), 0);

    // Without --yes and without a terminal, it asks for --yes instead of sending.
    net.cairn(&["--account", "buyer", "license", "buy", &id_arg]).fails(2, &["--yes"]);

    // With --yes nobody sees the price: a bound is required.
    net.cairn(&["--account", "buyer", "license", "buy", &id_arg, "--yes"]).fails(2, &["--max-price", "0.01 ETH"]);
    let bought = net
        .cairn(&["--json", "--account", "buyer", "license", "buy", &id_arg, "--max-price", "0.01ether", "--yes"])
        .json();
    assert_eq!(bought["price"]["raw"], price.to_string());
    let expiry = registry.licenseExpiry(id, buyer().address()).call().await.unwrap();
    assert_eq!(bought["expiry"].as_u64(), Some(expiry));
    assert!(registry.hasLicense(id, buyer().address()).call().await.unwrap());

    let shown = net.cairn(&["--json", "--account", "buyer", "license", "show", &id_arg]).json();
    assert_eq!(shown["active"], true);

    // The seller sees the fee as withdrawable, withdraws it, and it lands in its wallet.
    let balances = net.cairn(&["--json", "--account", "seller", "balance", "--token", "ETH"]).json();
    let pull = &balances["withdrawable"][0];
    assert_eq!(
        (pull["contract"].as_str(), pull["amount"]["raw"].as_str()),
        (Some("ModelRegistry"), Some("10000000000000000"))
    );
    let wallet_before = net.deployer.balance(seller().address()).await.unwrap();
    let done = net.cairn(&["--json", "--account", "seller", "withdraw", "--token", "eth", "--yes"]).json();
    let fee: U256 = done["transactions"][0]["fee"]["raw"].as_str().unwrap().parse().unwrap();
    assert_eq!(net.deployer.balance(seller().address()).await.unwrap(), wallet_before + price - fee, "to the wei");
    net.cairn(&["--account", "seller", "withdraw", "--yes"]).fails(1, &["nothing to withdraw"]);
}

#[tokio::test]
async fn an_erc20_licence_is_bought_by_approval_or_by_permit() {
    let net = Devnet::start().await;
    let token = net.address("DevToken");
    let dusd = DevToken::new(token, net.deployer.provider());
    let price = U256::from(25_000_000u64); // 25 DUSD
    let id = net.register(&seller(), token, (price, 3600)).await;
    let id_arg = id.to_string();
    let registry = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());

    // Whole tokens without a unit; a bound in whole tokens below the price is refused.
    net.cairn(&["--account", "buyer", "license", "buy", &id_arg, "--max-price", "24.99", "--yes"])
        .fails(1, &["above your --max-price", "24.99 DUSD"]);
    let held = dusd.balanceOf(buyer().address()).call().await.unwrap();
    let bought =
        net.cairn(&["--json", "--account", "buyer", "license", "buy", &id_arg, "--max-price", "30", "--yes"]).json();
    assert_eq!(bought["transactions"].as_array().unwrap().len(), 2, "an approve, then the purchase");
    assert_eq!(dusd.balanceOf(buyer().address()).call().await.unwrap(), held - price, "the price, not the bound");
    let first = registry.licenseExpiry(id, buyer().address()).call().await.unwrap();

    // Extending with a permit: one transaction; the licence runs on from the old expiry.
    let bought = net
        .cairn(&["--json", "--account", "buyer", "license", "buy", &id_arg, "--permit", "--max-price", "25", "--yes"])
        .json();
    assert_eq!(bought["transactions"].as_array().unwrap().len(), 1);
    assert_eq!(registry.licenseExpiry(id, buyer().address()).call().await.unwrap(), first + 3600);
    let pulls = net.cairn(&["--json", "--account", "seller", "balance", "--token", "DUSD"]).json();
    assert_eq!(pulls["withdrawable"][0]["amount"]["raw"], (price * U256::from(2)).to_string());

    net.cairn(&["--account", "buyer", "license", "buy", &id_arg, "--permit", "--token", "x"]).fails(2, &["--token"]);
    net.cairn(&["--account", "buyer", "balance", "--token", "NOPE"]).fails(2, &["unknown token `NOPE`", "DUSD"]);
}

#[tokio::test]
async fn balances_cover_tokens_that_only_a_model_names() {
    let net = Devnet::start().await;
    // A second DevToken, deployed outside the deployments file: only the model's listing names it.
    let tx = DevToken::deploy_builder(net.deployer.provider(), net.deployer.account()).into_transaction_request();
    let other = net.deployer.deploy("DevToken", tx).await.unwrap().address;
    let token = DevToken::new(other, net.deployer.provider());
    net.deployer
        .send("mint", token.mint(buyer().address(), U256::from(10_000_000u64)).into_transaction_request())
        .await
        .unwrap();
    let id = net.register(&seller(), other, (U256::from(1_000_000u64), 60)).await;
    let b = DevToken::new(other, net.deployer.provider());
    let buyer_chain =
        cairn_chain::Chain::connect(net.anvil.url(), buyer(), cairn_chain::ChainOptions::default()).await.unwrap();
    buyer_chain
        .send("approve", b.approve(net.address("ModelRegistry"), U256::MAX).into_transaction_request())
        .await
        .unwrap();
    let registry = ModelRegistry::new(net.address("ModelRegistry"), buyer_chain.provider());
    buyer_chain
        .send("buy", registry.buyLicense(id, other, U256::from(1_000_000u64), 60).into_transaction_request())
        .await
        .unwrap();
    let balances = net.cairn(&["--json", "--account", "seller", "balance"]).json();
    let found = balances["withdrawable"].as_array().unwrap().iter().any(|p| {
        p["amount"]["token"].as_str().unwrap().eq_ignore_ascii_case(&other.to_string())
            && p["amount"]["raw"] == "1000000"
    });
    assert!(found, "{balances}");
}
