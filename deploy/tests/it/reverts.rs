//! Reverts decoded into the bindings' typed custom errors and shown readably.

use alloy::primitives::{Address, B256, U256};
use cairn_bindings::{JobMarket, ModelRegistry, OperatorRegistry};
use cairn_chain::Error;

use crate::Net;

fn reverted(err: Error) -> cairn_chain::DecodedRevert {
    match err {
        Error::Reverted { revert, .. } => *revert,
        other => panic!("expected a revert, got: {other}"),
    }
}

#[tokio::test]
async fn custom_errors_are_decoded_typed_and_readable() {
    let net = Net::start().await;
    let market = JobMarket::new(net.address("JobMarket"), net.deployer.provider());

    // 1. JobMarket: UnknownJob.
    let operator0 = cairn_deploy::seed::devnet_key("operator-0").address();
    let err = net
        .deployer
        .send("claim job 999", market.claim(U256::from(999), operator0).into_transaction_request())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("claim job 999 reverted: JobMarket: UnknownJob(jobId 999)"), "{err}");
    let revert = reverted(err);
    assert!(matches!(
        revert.typed::<JobMarket::JobMarketErrors>(),
        Some(JobMarket::JobMarketErrors::UnknownJob(e)) if e.jobId == U256::from(999)
    ));

    // 2. JobMarket: TokenMismatch (paying ETH for a DUSD-priced model; the error now lives in ICairnCommon and
    //    is declared by several artifacts: the called contract's name wins).
    let model = crate::typed_on_chain::register_model(&net, &cairn_deploy::seed::devnet_key("seller")).await;
    let price = U256::from(1_000_000u64); // the model's pricePerCall
    let request = |version: u64, token: Address, max_price: U256| {
        market.requestJob(
            model,
            version,
            B256::repeat_byte(1),
            "bafk".into(),
            token,
            U256::from(10u64.pow(15)),
            max_price,
            4_000_000_000,
            U256::from(1),
        )
    };
    let call = request(1, Address::ZERO, price).value(U256::from(10u64.pow(15)));
    let revert = reverted(net.deployer.send("requestJob", call.into_transaction_request()).await.unwrap_err());
    let dusd = net.address("DevToken");
    assert_eq!(
        revert.to_string(),
        format!(
            "JobMarket: TokenMismatch(modelId {model}, expected {dusd}, got 0x0000000000000000000000000000000000000000)"
        )
    );
    assert!(matches!(revert.typed::<JobMarket::JobMarketErrors>(), Some(JobMarket::JobMarketErrors::TokenMismatch(_))));

    // 2b. The buyer's v2 bounds: a version that is not the latest, a royalty above the buyer's maximum.
    let dusd_request = |version, max_price| request(version, dusd, max_price).into_transaction_request();
    let revert = reverted(net.deployer.send("requestJob", dusd_request(2, price)).await.unwrap_err());
    assert_eq!(revert.to_string(), format!("JobMarket: VersionNotLatest(modelId {model}, latest 1, requested 2)"));
    assert!(matches!(
        revert.typed::<JobMarket::JobMarketErrors>(),
        Some(JobMarket::JobMarketErrors::VersionNotLatest(e)) if e.latest == 1 && e.requested == 2
    ));
    let revert = reverted(net.deployer.send("requestJob", dusd_request(1, price - U256::from(1))).await.unwrap_err());
    assert_eq!(
        revert.to_string(),
        format!("JobMarket: PriceAboveMax(modelId {model}, price 1000000, maxPrice 999999)")
    );
    assert!(matches!(revert.typed::<JobMarket::JobMarketErrors>(), Some(JobMarket::JobMarketErrors::PriceAboveMax(_))));

    // 3. OperatorRegistry: AlreadyRegistered (a seeded operator registering again).
    let operator = net.as_actor("operator-1").await;
    let registry = OperatorRegistry::new(net.address("OperatorRegistry"), operator.provider());
    let call = registry
        .register(operator.account(), 3, B256::ZERO, B256::ZERO, String::new())
        .value(U256::from(10u64.pow(18)));
    let revert = reverted(operator.send("register again", call.into_transaction_request()).await.unwrap_err());
    assert_eq!(revert.to_string(), format!("OperatorRegistry: AlreadyRegistered(operator {})", operator.account()));
    assert!(matches!(
        revert.typed::<OperatorRegistry::OperatorRegistryErrors>(),
        Some(OperatorRegistry::OperatorRegistryErrors::AlreadyRegistered(_))
    ));

    // 4. ModelRegistry: UnknownModel through a view-backed write (deprecating a model that does not exist).
    let models = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());
    let revert = reverted(
        net.deployer.send("deprecate", models.deprecate(U256::from(77)).into_transaction_request()).await.unwrap_err(),
    );
    assert_eq!(revert.to_string(), "ModelRegistry: UnknownModel(modelId 77)");

    // 5. OpenZeppelin's errors inside our contracts decode too (a non-owner changing parameters).
    let stranger = net.as_actor("buyer").await;
    let market_as_buyer = JobMarket::new(net.address("JobMarket"), stranger.provider());
    let revert = reverted(
        stranger
            .send("setTreasury", market_as_buyer.setTreasury(stranger.account()).into_transaction_request())
            .await
            .unwrap_err(),
    );
    assert_eq!(revert.to_string(), format!("JobMarket: OwnableUnauthorizedAccount(account {})", stranger.account()));
}
