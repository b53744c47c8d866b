//! `cairn operator`: a new operator registers and stakes, unstakes and withdraws, and moves its signer, through
//! the binary; every refusal sends nothing.

use alloy::{
    primitives::{Address, U256, utils::parse_ether},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use cairn_bindings::OperatorRegistry;

use crate::{Devnet, Run, cairn_in};

/// anvil's public test account 9 (unused by the seed): a newcomer with ETH.
const NEWCOMER_KEY: &str = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

fn run(net: &Devnet, args: &[&str]) -> Run {
    cairn_in(net.root.path(), args, &[("CAIRN_PRIVATE_KEY", NEWCOMER_KEY)])
}

fn raw(v: &serde_json::Value) -> U256 {
    v["raw"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_newcomer_registers_stakes_unstakes_withdraws_and_moves_its_signer() {
    let net = Devnet::start().await;
    let me: PrivateKeySigner = NEWCOMER_KEY.parse().unwrap();
    let me = me.address();
    let hot = PrivateKeySigner::random().address();
    let registry = OperatorRegistry::new(net.address("OperatorRegistry"), net.deployer.provider());
    let balance = || async { net.deployer.balance(me).await.unwrap() };

    let shown = run(&net, &["--json", "operator", "show"]).json();
    assert_eq!(shown["registered"], false);
    let before = balance().await;
    // Refusals before anything is sent.
    run(&net, &["operator", "register", "--region", "EU", "--stake", "1wei", "--yes"])
        .fails(2, &["below the registry's minimum stake"]);
    run(&net, &["operator", "register", "--region", "Atlantis", "--stake", "5ether", "--yes"]).fails(2, &["Atlantis"]);
    run(&net, &["operator", "register", "--region", "EU", "--stake", "5"]).fails(2, &["has no unit"]);
    run(&net, &["operator", "register", "--region", "EU", "--stake", "5ether"]).fails(2, &["--yes"]);
    run(&net, &["operator", "add-stake", "1ether", "--yes"]).fails(1, &["not a registered operator"]);
    assert_eq!(balance().await, before, "nothing moved");

    let hot_text = hot.to_string();
    let registered = run(
        &net,
        &["--json", "operator", "register", "--region", "EU", "--stake", "5ether", "--signer", &hot_text, "--yes"],
    )
    .json();
    let after = &registered["after"];
    assert_eq!((after["registered"].as_bool(), after["region"].as_str()), (Some(true), Some("EU")));
    assert_eq!(after["signer"].as_str().unwrap().parse::<Address>().unwrap(), hot);
    assert_eq!(raw(&after["stake"]), parse_ether("5").unwrap());
    let fee = raw(&registered["transaction"]["fee"]);
    assert_eq!(before - balance().await, parse_ether("5").unwrap() + fee, "the stake and the gas, to the wei");
    let info = registry.operatorInfo(me).call().await.unwrap();
    assert!(info.registered && info.signer == hot);
    run(&net, &["operator", "register", "--region", "US", "--stake", "5ether", "--yes"])
        .fails(1, &["already a registered operator"]);

    // Unstake: never more than is free; withdraw only after the delay.
    run(&net, &["operator", "unstake", "6ether", "--yes"]).fails(1, &["only 5 ETH"]);
    run(&net, &["operator", "unstake", "0ether", "--yes"]).fails(2, &["is zero"]);
    let unstaked = run(&net, &["--json", "operator", "unstake", "1ether", "--yes"]).json();
    assert_eq!(raw(&unstaked["after"]["unbonding"]), parse_ether("1").unwrap());
    run(&net, &["operator", "withdraw-stake", "--yes"]).fails(1, &["becomes withdrawable at", "nothing was sent"]);
    let ready = unstaked["after"]["unbondingReadyAt"].as_u64().unwrap();
    let p = net.deployer.provider();
    let now =
        p.get_block_by_number(p.get_block_number().await.unwrap().into()).await.unwrap().unwrap().header.timestamp;
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(ready - now + 1),)).await.unwrap();
    p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
    let before = balance().await;
    let withdrawn = run(&net, &["--json", "operator", "withdraw-stake", "--yes"]).json();
    assert_eq!(raw(&withdrawn["after"]["unbonding"]), U256::ZERO);
    assert_eq!(raw(&withdrawn["after"]["stake"]), parse_ether("4").unwrap());
    assert_eq!(balance().await + raw(&withdrawn["transaction"]["fee"]) - before, parse_ether("1").unwrap());

    // The signer: the same one is refused, a new one replaces it.
    run(&net, &["operator", "set-signer", &hot_text, "--yes"]).fails(1, &["already"]);
    let next = PrivateKeySigner::random().address();
    let moved = run(&net, &["--json", "operator", "set-signer", &next.to_string(), "--yes"]).json();
    assert_eq!(moved["after"]["signer"].as_str().unwrap().parse::<Address>().unwrap(), next);
    let text = run(&net, &["operator", "show"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("stake      4 ETH") && text.stdout.contains("region     EU"), "{}", text.stdout);
}
