//! The devnet's seeded stakes serve 50 concurrent jobs under the deployed parameters (issue #12): one seeded
//! operator holds 50 claimed jobs at once, each with a bond at the market's floor, and keeps its minimum unlocked.

use alloy::primitives::{B256, U256};
use cairn_bindings::{DevToken, JobMarket, OperatorRegistry};
use cairn_deploy::seed::{CONCURRENT_JOBS, devnet_key, devnet_signer_key, operator_stake};
use cairn_protocol::{Region, RegionMask};

use crate::{
    Net,
    typed_on_chain::{now, register_model},
};

#[tokio::test]
async fn seeded_operators_hold_fifty_jobs_at_once() {
    let net = Net::start().await;
    let market_address = net.address("JobMarket");
    let registry = OperatorRegistry::new(net.address("OperatorRegistry"), net.deployer.provider());
    let market = JobMarket::new(market_address, net.deployer.provider());
    let floor = market.params().call().await.unwrap().bondFloor;
    let min_stake = registry.minStake().call().await.unwrap();
    let operator = devnet_key("operator-0").address();
    let before = registry.getOperator(operator).call().await.unwrap();
    assert_eq!(before.stake, operator_stake(min_stake, floor), "seeded for 50 jobs at the floor above the minimum");
    assert_eq!(before.locked, U256::ZERO);

    // DUSD jobs of 2 DUSD (price 1 DUSD): their bond is the floor.
    let model = register_model(&net, &devnet_key("seller")).await;
    let dusd = net.address("DevToken");
    let payment = U256::from(2_000_000u64);
    assert_eq!(market.bondFor(dusd, payment).call().await.unwrap(), floor, "each job's bond is the floor");
    let buyer = net.as_actor("buyer").await;
    let token = DevToken::new(dusd, buyer.provider());
    buyer.send("approve DUSD", token.approve(market_address, U256::MAX).into_transaction_request()).await.unwrap();
    let as_buyer = JobMarket::new(market_address, buyer.provider());
    let signer = net.as_key(devnet_signer_key("operator-0")).await;
    let as_signer = JobMarket::new(market_address, signer.provider());
    let deadline = now(&net).await + 3600;
    let eu = RegionMask::of([Region::Eu]).to_u256();
    for i in 0..CONCURRENT_JOBS {
        let request = as_buyer.requestJob(
            model,
            1,
            B256::from(U256::from(i + 1)),
            "bafkinput".into(),
            dusd,
            payment,
            U256::from(1_000_000u64),
            deadline,
            eu,
        );
        let receipt = buyer.send(&format!("request job {i}"), request.into_transaction_request()).await.unwrap();
        let job = receipt.decoded_log::<JobMarket::JobRequested>().expect("JobRequested").jobId;
        let claim = as_signer.claim(job, operator).into_transaction_request();
        signer.send(&format!("claim job {job}"), claim).await.unwrap_or_else(|e| panic!("claim {i}: {e}"));
    }
    let after = registry.getOperator(operator).call().await.unwrap();
    assert_eq!(after.locked, floor * U256::from(CONCURRENT_JOBS), "50 bonds locked at once");
    assert!(after.stake - after.locked >= min_stake, "the minimum stays unlocked");
}
