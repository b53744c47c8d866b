//! The HTTP API (axum): read-only, JSON (and CSV on lists), CORS on, request size, rate and time limits, an
//! OpenAPI 3 document generated from the handlers' types at `/openapi.json`. Every response says up to which
//! block it is indexed (`indexedBlock` in JSON bodies, the `X-Indexed-Block` header everywhere), so a client
//! can wait for its own transaction.

use std::{sync::Arc, time::Duration};

use alloy::providers::DynProvider;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{metrics::Metrics, store::Store};

/// Limits and settings of the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The follower is unhealthy when it has not progressed for this long.
    pub stale_after: Duration,
    /// Confirmations after which a row is final (when the node serves no `finalized` tag).
    pub finality_depth: u64,
    /// Per-query database timeout.
    pub query_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Requests per second per client IP (burst = 2 s worth).
    pub rate_per_second: u32,
    /// Largest manifest fetched from IPFS, bytes.
    pub manifest_max_bytes: u64,
    /// Time limit of one manifest fetch.
    pub manifest_timeout: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            stale_after: Duration::from_secs(60),
            finality_depth: 64,
            query_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 16 * 1024,
            rate_per_second: 50,
            manifest_max_bytes: 1024 * 1024,
            manifest_timeout: Duration::from_secs(10),
        }
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Follower state and metrics.
    pub metrics: Arc<Metrics>,
    /// The chain id.
    pub chain_id: u64,
    /// The deployment (addresses by contract name, deployment block).
    pub deployments: Arc<cairn_chain::Deployments>,
    /// A read-only provider (head, `finalized`), when one is configured.
    pub provider: Option<DynProvider>,
    /// Kubo's RPC client, for manifests.
    pub ipfs: Option<cairn_ipfs::KuboClient>,
    /// Limits.
    pub options: ApiOptions,
}

/// `/health`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, `lagging`, `stopped` or `starting`.
    pub status: String,
    /// Whether this process writes (`writer`) or only serves (`reader`).
    pub role: String,
    /// Chain id.
    pub chain_id: u64,
    /// Head seen, block number.
    pub head: i64,
    /// Last indexed block.
    pub indexed_block: i64,
    /// head − indexed, blocks.
    pub lag: i64,
    /// Finalized block.
    pub finalized_block: i64,
    /// Reorgs handled since start.
    pub reorgs: u64,
    /// Undecodable logs stored since start.
    pub undecodable_logs: u64,
    /// The last undecodable log.
    pub last_undecodable: Option<String>,
    /// The last error, while the follower has not progressed since.
    pub last_error: Option<String>,
}

/// `/health`: 200 while the follower progresses, 503 when it is stopped, erroring or stale.
pub async fn health(State(s): State<AppState>) -> impl IntoResponse {
    let m = &s.metrics;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = m.last_progress();
    let error = m.last_error().map(|(_, e)| e);
    let status = match (m.role(), &error) {
        (-1, _) => "stopped",
        (_, Some(_)) => "lagging",
        _ if last == 0 => "starting",
        _ if now.saturating_sub(last) > s.options.stale_after.as_secs() => "lagging",
        _ => "ok",
    };
    let body = Health {
        status: status.into(),
        role: if m.role() == 1 { "writer".into() } else { "reader".into() },
        chain_id: s.chain_id,
        head: m.head.get(),
        indexed_block: m.indexed.get(),
        lag: m.lag.get(),
        finalized_block: m.finalized.get(),
        reorgs: m.reorgs.get(),
        undecodable_logs: m.undecodable.get(),
        last_undecodable: m.last_undecodable(),
        last_error: error,
    };
    let code = if status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body))
}

/// `/metrics`: Prometheus text.
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], s.metrics.encode())
}

/// The router.
pub fn app(state: AppState) -> Router {
    Router::new().route("/health", get(health)).route("/metrics", get(metrics)).with_state(state)
}
