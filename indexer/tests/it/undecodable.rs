//! A log the ABIs cannot decode is stored raw with the reason, counted, and named on the metrics; never
//! skipped. Here the deployments file lists the devnet's DevToken (an ERC-20) as the ModelRegistry: its
//! `Transfer` logs carry topics no Cairn contract declares.

use std::sync::Arc;

use cairn_indexer::{
    follower::{Follower, FollowerOptions},
    metrics::Metrics,
    store::Store,
};
use sqlx::Row;

use crate::{Net, sqlite_url};

#[tokio::test]
async fn undecodable_logs_are_stored_raw_and_reported() {
    let net = Net::start().await;
    let mut deployments = net.deployments.clone();
    let token = deployments.contracts["DevToken"].address;
    deployments.contracts.get_mut("ModelRegistry").unwrap().address = token;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir, "ix.db")).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let follower =
        Follower::new(store, net.anvil.url(), &deployments, FollowerOptions::default(), metrics.clone()).await.unwrap();
    crate::sync(&follower).await;

    let pool = follower.store().pool();
    let rows = sqlx::query("SELECT contract, address, event, error, topics FROM events WHERE error IS NOT NULL")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the seed mints DevToken: its Transfer logs must be stored");
    let transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    for r in &rows {
        assert_eq!(r.get::<String, _>("contract"), "ModelRegistry");
        assert_eq!(r.get::<String, _>("address"), token.to_string().to_lowercase());
        assert_eq!(r.get::<String, _>("event"), "?");
        let error: String = r.get("error");
        assert!(error.contains("ModelRegistry has no event with topic0"), "{error}");
        assert!(r.get::<String, _>("topics").contains(transfer), "raw topics kept");
    }
    assert_eq!(metrics.undecodable.get(), rows.len() as u64, "each one counted once");
    let last = metrics.last_undecodable().expect("named for /health");
    assert!(last.contains("ModelRegistry has no event with topic0"), "{last}");
    assert!(metrics.encode().contains(&format!("cairn_indexer_undecodable_logs_total {}", rows.len())));
    // The decodable logs of the other contracts still land in their projections.
    let operators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operators WHERE superseded_block IS NULL")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(operators >= 2);
}
