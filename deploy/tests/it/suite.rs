//! Deploy → verify → seed on anvil, and what verify and deploy refuse.

use alloy::{
    primitives::{Address, U256, utils::parse_ether},
    providers::Provider,
};
use cairn_bindings::{DevToken, JobMarket, JurorPool, OperatorRegistry, ReexecutionCommittee};
use cairn_chain::Error as ChainError;
use cairn_deploy::{
    Error,
    config::DeployConfig,
    deploy::Mode,
    seed::{SIGNER_ETH, devnet_signer_key},
};

use crate::{Net, options};

#[tokio::test]
async fn deploy_wires_verifies_and_seeds_the_suite() {
    let net = Net::start().await;
    let p = net.deployer.provider();
    // Code at every address is the committed artifact's.
    cairn_deploy::deploy::verify(&net.deployer, &net.deployments).await.unwrap();
    assert_eq!(net.deployments.contracts.len(), 8, "seven contracts + DevToken");
    let first = net.deployments.contracts.values().map(|d| d.block).min().unwrap();
    assert_eq!(net.deployments.deployment_block, first);

    // Roles and parameters.
    let registry = OperatorRegistry::new(net.address("OperatorRegistry"), p);
    assert!(registry.authorised(net.address("JobMarket")).call().await.unwrap());
    assert!(
        !registry.authorised(net.address("ReexecutionCommittee")).call().await.unwrap(),
        "jurors' stake is the pool's"
    );
    let committee = ReexecutionCommittee::new(net.address("ReexecutionCommittee"), p);
    assert!(committee.arbitrable(net.address("DisputeDesk")).call().await.unwrap());
    assert!(!committee.arbitrable(net.address("JobMarket")).call().await.unwrap(), "disputes go through the desk");
    let desk = cairn_bindings::DisputeDesk::new(net.address("DisputeDesk"), p);
    assert_eq!(desk.market().call().await.unwrap(), net.address("JobMarket"));
    assert_eq!(desk.arbitrator().call().await.unwrap(), net.address("ReexecutionCommittee"));
    assert_eq!(desk.operators().call().await.unwrap(), net.address("OperatorRegistry"));
    let pool = JurorPool::new(net.address("JurorPool"), p);
    assert_eq!(pool.committee().call().await.unwrap(), net.address("ReexecutionCommittee"));
    assert_eq!(committee.pool().call().await.unwrap(), net.address("JurorPool"));
    // The config's seat-size bounds and maturity ceiling are the contract's.
    let (min_seat, max_seat) = cairn_deploy::config::seat_size_bounds();
    assert_eq!(pool.MIN_SEAT_SIZE().call().await.unwrap(), min_seat);
    assert_eq!(pool.MAX_SEAT_SIZE().call().await.unwrap(), max_seat);
    assert_eq!(pool.MAX_DELAY().call().await.unwrap(), cairn_deploy::config::MAX_JUROR_DELAY);
    assert_eq!(pool.seatSize().call().await.unwrap(), parse_ether("0.5").unwrap());
    assert_eq!(pool.maturity().call().await.unwrap(), 7200);
    let market = JobMarket::new(net.address("JobMarket"), p);
    let params = market.params().call().await.unwrap();
    assert_eq!(params.feeBps, 500);
    assert_eq!(params.challengeWindow, 3600);
    assert_eq!(market.owner().call().await.unwrap(), net.deployer.account());

    // Seeded actors: three operators in three regions, five verifiers with four matured seats each in the
    // pool, a buyer holding DUSD.
    assert_eq!(pool.jurorCount().call().await.unwrap(), U256::from(5));
    assert_eq!(pool.freeSeats().call().await.unwrap(), U256::from(20));
    for i in 0..5 {
        let verifier = cairn_deploy::seed::devnet_key(&format!("verifier-{i}")).address();
        assert_eq!(pool.seatsOf(verifier).call().await.unwrap(), U256::from(4), "verifier-{i}");
    }
    let mut regions = Vec::new();
    for i in 0..3 {
        let op = cairn_deploy::seed::devnet_key(&format!("operator-{i}")).address();
        let info = registry.operatorInfo(op).call().await.unwrap();
        assert!(info.registered);
        assert_eq!(info.signer, cairn_deploy::seed::devnet_key(&format!("operator-{i}/signer")).address());
        regions.push(info.region);
    }
    assert_eq!(regions, vec![0, 3, 6], "EU, US, JP");
    // Every operator and verifier acts through a hot signer key of its own, separate from its owner key and
    // funded for gas (interface v2: the signer claims, submits and votes).
    for label in (0..3).map(|i| format!("operator-{i}")).chain((0..5).map(|i| format!("verifier-{i}"))) {
        let owner = cairn_deploy::seed::devnet_key(&label).address();
        let signer = devnet_signer_key(&label).address();
        assert_ne!(signer, owner, "{label}");
        assert_eq!(registry.operatorInfo(owner).call().await.unwrap().signer, signer, "{label}");
        assert!(net.deployer.balance(signer).await.unwrap() >= parse_ether(SIGNER_ETH).unwrap(), "{label}");
    }
    let token = DevToken::new(net.address("DevToken"), p);
    let buyer = cairn_deploy::seed::devnet_key("buyer").address();
    assert_eq!(token.balanceOf(buyer).call().await.unwrap(), U256::from(10_000_000_000u64));
    assert!(market.tokenConfig(net.address("DevToken")).call().await.unwrap().bondRate > U256::ZERO);

    // Seeding again changes nothing that is already there, and returns (for accounts.json) each operator's and
    // verifier's signer key beside its owner key.
    let mut again = net.deployments.clone();
    let before = net.deployer.provider().get_transaction_count(net.deployer.account()).await.unwrap();
    let actors = cairn_deploy::seed::seed(&net.deployer, &mut again, &|_| {}).await.unwrap();
    assert_eq!(net.deployer.provider().get_transaction_count(net.deployer.account()).await.unwrap(), before);
    assert_eq!(again.contracts, net.deployments.contracts);
    assert_eq!(pool.freeSeats().call().await.unwrap(), U256::from(20));
    assert_eq!(actors.len(), 10);
    for actor in &actors {
        let staking = actor.role.starts_with("operator-") || actor.role.starts_with("verifier-");
        let key = devnet_signer_key(&actor.role);
        if staking {
            assert_eq!(actor.signer, Some(key.address()), "{}", actor.role);
            assert_eq!(actor.signer_key, Some(key.to_bytes()), "{}", actor.role);
            let json = serde_json::to_value(actor).unwrap();
            assert_eq!(json["signer"].as_str().unwrap().parse::<Address>().unwrap(), key.address(), "{json}");
            assert!(json["signerKey"].is_string(), "{json}");
        } else {
            assert_eq!(actor.signer, None, "{}", actor.role);
        }
    }

    // A devnet seeded before verifiers had signer keys of their own (the verifier signing for itself) gets
    // them on the next seed.
    let verifier = net.as_actor("verifier-2").await;
    let as_verifier = OperatorRegistry::new(net.address("OperatorRegistry"), verifier.provider());
    verifier
        .send("sign for itself", as_verifier.setSigner(verifier.account()).into_transaction_request())
        .await
        .unwrap();
    cairn_deploy::seed::seed(&net.deployer, &mut again, &|_| {}).await.unwrap();
    let info = registry.operatorInfo(verifier.account()).call().await.unwrap();
    assert_eq!(info.signer, devnet_signer_key("verifier-2").address());
}

#[tokio::test]
async fn verify_refuses_foreign_code_and_missing_contracts() {
    let net = Net::start().await;
    // Swap two addresses: the code is there, but it is not the named contract's.
    let mut wrong = net.deployments.clone();
    let models = wrong.contracts["ModelRegistry"].clone();
    wrong.contracts.insert("JobMarket".into(), models);
    let err = cairn_deploy::deploy::verify(&net.deployer, &wrong).await.unwrap_err();
    assert!(matches!(&err, Error::CodeMismatch { contract, .. } if contract == "JobMarket"), "{err}");

    let mut missing = net.deployments.clone();
    missing.contracts.get_mut("JobMarket").unwrap().address = Address::with_last_byte(0x42);
    let err = cairn_deploy::deploy::verify(&net.deployer, &missing).await.unwrap_err();
    assert!(matches!(err, Error::Chain(ChainError::NoCode { .. })), "{err}");
}

#[tokio::test]
async fn a_network_profile_refuses_the_wrong_chain() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = cairn_chain::Chain::connect(anvil.url(), crate::ANVIL_KEY_0.parse().unwrap(), Default::default())
        .await
        .unwrap();
    let config = DeployConfig::defaults("base").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err =
        cairn_deploy::deploy::deploy(&chain, &config, &options(dir.path(), Mode::New), &|_| {}).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("network profile `base` says chain 8453") && text.contains("serves chain 31337"), "{text}");
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), 0, "nothing was sent");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
}

#[tokio::test]
async fn arbitrum_production_needs_its_own_randomness() {
    // A custom anvil serving Arbitrum One's chain id.
    let anvil = cairn_testkit::Anvil::start_with(42161, &[]).await.unwrap();
    let chain = cairn_chain::Chain::connect(anvil.url(), crate::ANVIL_KEY_0.parse().unwrap(), Default::default())
        .await
        .unwrap();
    let config = DeployConfig::load(&cairn_testkit::repo_root().join("deploy/config/arbitrum-one.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err =
        cairn_deploy::deploy::deploy(&chain, &config, &options(dir.path(), Mode::New), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("blockhash is not cryptographically secure"), "{err}");
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), 0, "nothing was sent");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
}
