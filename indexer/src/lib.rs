//! `cairn-indexer`: the auditors' record of Cairn's market. It follows the chain without a key, stores every
//! log of the Cairn contracts raw (decoded through the committed ABIs, or kept undecoded and reported), builds
//! projections of models, licences, operators, jobs, disputes, pull balances and parameters from the events
//! alone, survives reorgs (rollback by block hash to the fork point, in one transaction) and crashes (the
//! checkpoint moves in the transaction that stored what it covers), and serves it all over HTTP.
//!
//! Modules: [`store`] (SQLite or PostgreSQL, one schema), [`decode`] (logs → fields), [`entity`] and
//! [`project`] (the projections), [`follower`] (backfill, follow, reorgs), [`metrics`], [`reputation`], [`api`], [`reindex`].

pub mod api;
pub mod decode;
pub mod entity;
pub mod error;
pub mod follower;
pub mod metrics;
pub mod project;
pub mod reputation;
pub mod store;

use std::collections::BTreeMap;

use alloy::{primitives::Address, rpc::types::Log};
use sqlx::Row;

pub use error::{Error, Result};

use crate::{
    decode::Decoder,
    error::db,
    metrics::Metrics,
    store::{BlockRow, Store},
};

/// Rebuilds every projection from the stored raw events, in one transaction (the API keeps serving the old
/// projections until it commits). The same code as the follower applies them, so a re-index equals what
/// following produced. Returns the number of events applied.
pub async fn reindex(store: &Store, decoder: &Decoder, chain_id: u64, metrics: &Metrics) -> Result<usize> {
    let mut tx = store.pool().begin().await.map_err(db("begin"))?;
    Store::clear_projections(&mut tx).await?;
    let headers: BTreeMap<u64, BlockRow> = sqlx::query("SELECT number, hash, parent_hash, timestamp FROM blocks")
        .fetch_all(&mut *tx)
        .await
        .map_err(db("read blocks"))?
        .iter()
        .map(|r| {
            let b = BlockRow {
                number: r.get::<i64, _>(0).max(0) as u64,
                hash: r.get(1),
                parent_hash: r.get(2),
                timestamp: r.get::<i64, _>(3).max(0) as u64,
            };
            (b.number, b)
        })
        .collect();
    let mut total = 0;
    // Whole blocks at a time (projections keep one version per entity and block, as the follower writes
    // them): about 10,000 events, never part of a block.
    const CHUNK: i64 = 10_000;
    let columns = "block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data";
    let mut after: i64 = -1;
    loop {
        let mut rows = sqlx::query(&format!(
            "SELECT {columns} FROM events WHERE block_number > $1 ORDER BY block_number, log_index LIMIT $2"
        ))
        .bind(after)
        .bind(CHUNK)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("read events"))?;
        let (Some(first), Some(last)) =
            (rows.first().map(|r| r.get::<i64, _>(0)), rows.last().map(|r| r.get::<i64, _>(0)))
        else {
            break;
        };
        if rows.len() as i64 == CHUNK {
            if first == last {
                // One block of more than CHUNK events: all of it.
                rows = sqlx::query(&format!("SELECT {columns} FROM events WHERE block_number = $1 ORDER BY log_index"))
                    .bind(first)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db("read events"))?;
            } else {
                rows.retain(|r| r.get::<i64, _>(0) < last);
            }
        }
        after = rows.last().map_or(after, |r| r.get::<i64, _>(0));
        let mut logs = Vec::with_capacity(rows.len());
        for r in &rows {
            let corrupt = |what: &str| Error::Corrupt { what: format!("event {what}"), detail: "unparsable".into() };
            let block: i64 = r.get(0);
            let log_index: i64 = r.get(4);
            let data = decode::stored_log(&r.get::<String, _>(6), &r.get::<String, _>(7))
                .ok_or_else(|| corrupt("topics or data"))?;
            let address: Address = r.get::<String, _>(5).parse().map_err(|_| corrupt("address"))?;
            let number = block.max(0) as u64;
            logs.push(Log {
                inner: alloy::primitives::Log { address, data },
                block_hash: r.get::<String, _>(1).parse().ok(),
                block_number: Some(number),
                block_timestamp: headers.get(&number).map(|h| h.timestamp),
                transaction_hash: r.get::<String, _>(2).parse().ok(),
                transaction_index: Some(r.get::<i64, _>(3).max(0) as u64),
                log_index: Some(log_index.max(0) as u64),
                removed: false,
            });
        }
        total += follower::apply_logs(decoder, chain_id, &mut tx, &logs, &headers, metrics, false).await?;
    }
    tx.commit().await.map_err(db("commit"))?;
    Ok(total)
}
