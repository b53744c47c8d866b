//! `/accounts/{addr}/trail`: everything an address did or was named in, in chain order.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Serialize;
use sqlx::Row as _;
use utoipa::ToSchema;

use super::{
    Api,
    common::{ListParams, Page, Params, address, list_response},
    error::{ApiError, ApiResult, ErrorBody},
};

/// One event that names the address.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrailItem {
    /// Block number.
    pub block_number: i64,
    /// Log index in the block.
    pub log_index: i64,
    /// Transaction hash.
    pub tx_hash: String,
    /// Block timestamp, seconds since the epoch.
    pub timestamp: Option<u64>,
    /// The contract (deployments-file name).
    pub contract: String,
    /// The event.
    pub event: String,
    /// The address's roles in it: the names of the event fields that hold it (e.g. `buyer`, `operator`).
    pub roles: Vec<String>,
    /// The event's fields (addresses and hashes 0x-hex, integers decimal strings), decoded from the stored log
    /// through the contract's committed ABI.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// head − blockNumber + 1.
    pub confirmations: i64,
    /// At or below the finalized block.
    pub r#final: bool,
}

/// `/accounts/{addr}/trail`: every event naming the address (as buyer, seller, operator, signer, juror,
/// challenger, account …), oldest first.
#[utoipa::path(get, path = "/accounts/{addr}/trail", tag = "accounts",
    params(("addr" = String, Path, description = "Any address"), ListParams),
    responses((status = 200, body = Page<TrailItem>, description = "A page of events (CSV with format=csv)"),
              (status = 400, body = ErrorBody, description = "A malformed parameter, named"),
              (status = 404, body = ErrorBody, description = "No indexed event names the address")))]
pub async fn trail(
    State(api): State<Api>,
    Path(addr): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let p = Params::new(q, &[], true)?;
    if p.get("order").is_some_and(|o| o != "asc") {
        return Err(ApiError::bad("order", "a trail is in chain order only", &["asc"]));
    }
    let (limit, cursor, format) = (p.limit()?, p.cursor()?, p.format()?);
    let addr = address("addr", &addr)?;
    let view = api.view().await?;
    let pool = api.app.store.pool();
    let (cb, cl) = cursor.unwrap_or((-1, -1));
    let keys = api
        .q(sqlx::query(
            "SELECT DISTINCT block_number, log_index FROM event_accounts WHERE account = $1 \
             AND (block_number > $2 OR (block_number = $2 AND log_index > $3)) \
             ORDER BY block_number, log_index LIMIT $4",
        )
        .bind(&addr)
        .bind(cb)
        .bind(cl)
        .bind((limit + 1) as i64)
        .fetch_all(pool))
        .await?;
    if keys.is_empty() && cursor.is_none() {
        return Err(ApiError::NotFound(format!(
            "no indexed event names {addr} (indexed up to block {})",
            view.indexed
        )));
    }
    let keys: Vec<(i64, i64)> = keys.iter().map(|r| (r.get(0), r.get(1))).collect();
    let next = (keys.len() > limit).then(|| format!("{}-{}", keys[limit - 1].0, keys[limit - 1].1));
    let mut items: Vec<TrailItem> = Vec::new();
    if let (Some(first), Some(last)) = (keys.first(), keys.get(keys.len().min(limit).saturating_sub(1))) {
        let rows = api
            .q(sqlx::query(
                "SELECT a.block_number, a.log_index, a.role, e.tx_hash, e.contract, e.event, e.topics, e.data, b.timestamp \
                 FROM event_accounts a JOIN events e ON e.block_number = a.block_number AND e.log_index = a.log_index \
                 LEFT JOIN blocks b ON b.number = a.block_number WHERE a.account = $1 \
                 AND (a.block_number > $2 OR (a.block_number = $2 AND a.log_index >= $3)) \
                 AND (a.block_number < $4 OR (a.block_number = $4 AND a.log_index <= $5)) \
                 ORDER BY a.block_number, a.log_index",
            )
            .bind(&addr)
            .bind(first.0)
            .bind(first.1)
            .bind(last.0)
            .bind(last.1)
            .fetch_all(pool))
            .await?;
        for r in &rows {
            let (block, log): (i64, i64) = (r.get(0), r.get(1));
            let roles: String = r.get(2);
            let contract: String = r.get(4);
            let fields = crate::decode::stored_log(&r.get::<String, _>(6), &r.get::<String, _>(7))
                .and_then(|data| api.decoder().decode_named(&contract, &data).ok())
                .map_or(serde_json::Value::Null, |d| d.fields);
            let meta = view.meta(block);
            items.push(TrailItem {
                block_number: block,
                log_index: log,
                tx_hash: r.get(3),
                timestamp: r.get::<Option<i64>, _>(8).map(|t| t.max(0) as u64),
                contract,
                event: r.get(5),
                roles: roles.split(',').map(str::to_string).collect(),
                fields,
                confirmations: meta.confirmations,
                r#final: meta.r#final,
            });
        }
    }
    list_response(Page { items, next_cursor: next, indexed: view.indexed() }, format)
}
