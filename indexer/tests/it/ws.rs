//! Following over WebSocket: with a `ws://` URL the follower subscribes to new heads, so a new block is
//! indexed at once, not at the next poll (the poll interval here is a minute).

use std::{sync::Arc, time::Duration};

use alloy::{primitives::U256, providers::Provider};
use cairn_indexer::{follower::FollowerOptions, metrics::Metrics};

use crate::{Net, drive, sqlite_url};

#[tokio::test]
async fn a_ws_url_follows_new_heads_without_polling() {
    let net = Net::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ws = net.anvil.url().replacen("http://", "ws://", 1);
    let opts = FollowerOptions { poll_interval: Duration::from_secs(60), ..Default::default() };
    let db = sqlite_url(&dir, "ix.db");
    let follower = Arc::new(net.follower_at(&ws, &db, opts, Arc::new(Metrics::new())).await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let follower = follower.clone();
        async move { follower.run(async { stopped.await.unwrap_or(()) }).await }
    });
    let head = net.deployer.provider().get_block_number().await.unwrap();
    let caught_up = |target: u64| {
        let follower = follower.clone();
        async move {
            for _ in 0..200 {
                if follower.store().checkpoint().await.unwrap().is_some_and(|c| c.number >= target) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(caught_up(head).await, "the backfill reaches the head");
    // A new block well inside the 60 s poll interval: only the subscription can wake the follower.
    drive::add_stake(&net, "operator-0", U256::from(1u64)).await;
    let mined = net.deployer.provider().get_block_number().await.unwrap();
    assert!(caught_up(mined).await, "block {mined} indexed within 10 s through the newHeads subscription");
    let stake_events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event = 'StakeAdded'")
        .fetch_one(follower.store().pool())
        .await
        .unwrap();
    assert_eq!(stake_events, 1);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
