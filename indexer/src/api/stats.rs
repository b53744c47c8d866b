//! `/stats` (jobs per state, volume per token, median settle time) and `/params` (protocol parameters now).

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::U256;
use axum::{
    Json,
    extract::{Query, State},
    response::Response,
};
use serde::Serialize;
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};

use super::{
    Api,
    common::{Indexed, ListParams, Page, Params, Row, decode, list_response},
    error::{ApiResult, ErrorBody},
};
use crate::{
    entity::{Job, Param},
    store::Val,
};

/// `/stats`' answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Jobs by current state.
    pub jobs_by_state: BTreeMap<String, i64>,
    /// Sum of the payments of jobs in state `Finalized`, by token address (0x0 = ETH), decimal strings in the
    /// token's smallest unit.
    pub volume_by_token: BTreeMap<String, String>,
    /// Jobs in state `Finalized`.
    pub finalized_jobs: u64,
    /// Median of closedAt − requestedAt over jobs in state `Finalized`, seconds (absent when none).
    pub median_settle_seconds: Option<f64>,
    /// Models registered.
    pub models: i64,
    /// Operators registered.
    pub operators: i64,
    /// Disputes opened.
    pub disputes: i64,
    /// Chain view.
    #[serde(flatten)]
    pub indexed: Indexed,
}

/// Rows read per query while summing.
const CHUNK: i64 = 5000;

/// `/stats`: jobs per state, volume per token, median settle time, counts.
#[utoipa::path(get, path = "/stats", tag = "service",
    responses((status = 200, body = Stats), (status = 503, body = ErrorBody, description = "The database timed out")))]
pub async fn stats(State(api): State<Api>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Json<Stats>> {
    Params::new(q, &[], false)?;
    let view = api.view().await?;
    let pool = api.app.store.pool();
    let rows = api
        .q(sqlx::query("SELECT state, COUNT(*) FROM jobs WHERE superseded_block IS NULL GROUP BY state")
            .fetch_all(pool))
        .await?;
    let jobs_by_state = rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1))).collect();
    let mut volume: BTreeMap<String, U256> = BTreeMap::new();
    let mut durations: Vec<u64> = Vec::new();
    let mut after = (-1i64, -1i64);
    loop {
        let rows = api
            .q(sqlx::query(
                "SELECT created_block, created_log, data FROM jobs WHERE superseded_block IS NULL AND state = $1 \
                 AND (created_block > $2 OR (created_block = $2 AND created_log > $3)) \
                 ORDER BY created_block, created_log LIMIT $4",
            )
            .bind("Finalized")
            .bind(after.0)
            .bind(after.1)
            .bind(CHUNK)
            .fetch_all(pool))
            .await?;
        for r in &rows {
            after = (r.get(0), r.get(1));
            let job: Job = decode("jobs", &r.get::<String, _>(2))?;
            let paid: U256 = job.payment.parse().unwrap_or_default();
            let sum = volume.entry(job.token.clone()).or_default();
            *sum = sum.saturating_add(paid);
            if let Some(closed) = job.closed_at {
                durations.push(closed.saturating_sub(job.requested_at));
            }
        }
        if (rows.len() as i64) < CHUNK {
            break;
        }
    }
    let finalized_jobs = durations.len() as u64;
    durations.sort_unstable();
    let median_settle_seconds = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2] as f64),
        n => Some((durations[n / 2 - 1] as f64 + durations[n / 2] as f64) / 2.0),
    };
    let count = async |table: &str| -> ApiResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE superseded_block IS NULL");
        api.q(sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool)).await
    };
    Ok(Json(Stats {
        jobs_by_state,
        volume_by_token: volume.into_iter().map(|(t, v)| (t, v.to_string())).collect(),
        finalized_jobs,
        median_settle_seconds,
        models: count("models").await?,
        operators: count("operators").await?,
        disputes: count("disputes").await?,
        indexed: view.indexed(),
    }))
}

/// Filters of `/params`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParamFilters {
    /// Only this contract's parameters: JobMarket, ModelRegistry, OperatorRegistry or ReexecutionCommittee.
    pub contract: Option<String>,
}

/// `/params`: every protocol parameter now (fees, bonds, periods, token configs, treasury, authorisations,
/// pause state), oldest first.
#[utoipa::path(get, path = "/params", tag = "service", params(ParamFilters, ListParams),
    responses((status = 200, body = Page<Row<Param>>, description = "A page of parameters (CSV with format=csv)"),
              (status = 400, body = ErrorBody, description = "A malformed parameter, named")))]
pub async fn params(State(api): State<Api>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let p = Params::new(q, &["contract"], true)?;
    let (limit, cursor, format) = (p.limit()?, p.seek()?, p.format()?);
    let mut filters = Vec::new();
    if let Some(c) = p.one_of("contract", crate::decode::INDEXED_CONTRACTS)? {
        filters.push(("contract =", Val::from(c)));
    }
    let view = api.view().await?;
    let (rows, next) = api.page::<Param>("params", &filters, cursor, limit).await?;
    let items = rows.into_iter().map(|(item, b)| Row { item, meta: view.meta(b) }).collect();
    list_response(Page { items, next_cursor: next, indexed: view.indexed() }, format)
}
