//! The HTTP API (axum): read-only, JSON (and CSV on lists), CORS on, request size, rate and time limits, an
//! OpenAPI 3 document generated from the handlers' types at `/openapi.json`. Every response says up to which
//! block it is indexed (`indexedBlock` in JSON bodies, the `X-Indexed-Block` header everywhere), so a client
//! can wait for its own transaction.
//!
//! Modules: [`common`] (chain view, pagination, parameters, CSV), [`error`], one module per resource
//! ([`models`], [`jobs`], [`operators`], [`disputes`], [`accounts`], [`did`], [`stats`]), [`manifest`]
//! (the IPFS manifest cache), [`doc`] (the OpenAPI document) and [`site`] (the web app at `/app/`).

pub mod accounts;
pub mod common;
pub mod did;
pub mod disputes;
pub mod doc;
pub mod error;
pub mod jobs;
pub mod manifest;
pub mod models;
pub mod operators;
pub mod site;
pub mod stats;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::providers::{DynProvider, Provider};
use axum::{
    Json, Router,
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use sqlx::Row;
use tower_http::{cors::CorsLayer, limit::RequestBodyLimitLayer};
use utoipa::ToSchema;

use self::{common::ChainView, error::ApiError};
use crate::{
    metrics::{Metrics, RouteLabels},
    store::Store,
};

/// Limits and settings of the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The follower is unhealthy when it has not progressed for this long.
    pub stale_after: Duration,
    /// Confirmations after which a row is final (when the node serves no `finalized` tag).
    pub finality_depth: u64,
    /// Per-query database timeout (a query past it answers 503).
    pub query_timeout: Duration,
    /// Whole-request timeout (408 past it).
    pub request_timeout: Duration,
    /// Largest accepted request body, bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Requests per second per client IP (burst = 2 s worth; 429 beyond).
    pub rate_per_second: u32,
    /// Largest manifest fetched from IPFS, bytes.
    pub manifest_max_bytes: u64,
    /// Time limit of one manifest fetch.
    pub manifest_timeout: Duration,
    /// Manifests kept in the in-memory cache.
    pub manifest_cache_entries: usize,
    /// How long a failed manifest fetch is remembered before it is tried again.
    pub manifest_retry_after: Duration,
    /// The API's public base URL (e.g. `https://indexer.example`), for links in DID documents; when unset,
    /// `http://` + the request's `Host` header.
    pub public_url: Option<String>,
    /// The buyers' web app served at `/app/` with its `/app/config.json` ([`site`]); none: not served.
    pub web_app: Option<site::WebApp>,
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
            manifest_cache_entries: 1024,
            manifest_retry_after: Duration::from_secs(60),
            public_url: None,
            web_app: None,
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

/// How long a chain view is reused (the `X-Indexed-Block` of a burst of requests costs one query).
const VIEW_TTL: Duration = Duration::from_millis(100);

/// The router's state: [`AppState`] and what the API keeps in memory (chain view cache, manifest cache, rate
/// limiter). Cheap to clone.
#[derive(Clone)]
pub struct Api {
    /// The configuration given to [`app`].
    pub app: AppState,
    inner: Arc<Inner>,
}

struct Inner {
    view: Mutex<Option<(Instant, ChainView)>>,
    node_head: Mutex<Option<(Instant, i64)>>,
    manifests: manifest::Cache,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    requests: AtomicU64,
    decoder: crate::decode::Decoder,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("app", &self.app).finish_non_exhaustive()
    }
}

impl Api {
    /// Wraps `app` with fresh caches and a rate limiter.
    pub fn new(app: AppState) -> Self {
        let rate = NonZeroU32::new(app.options.rate_per_second.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(app.options.rate_per_second.max(1).saturating_mul(2)).expect("at least 2");
        let inner = Inner {
            view: Mutex::new(None),
            node_head: Mutex::new(None),
            manifests: manifest::Cache::new(app.options.manifest_cache_entries),
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            requests: AtomicU64::new(0),
            decoder: crate::decode::Decoder::by_name(),
        };
        Self { app, inner: Arc::new(inner) }
    }

    /// The committed ABIs by contract name: stored logs are decoded when served.
    pub fn decoder(&self) -> &crate::decode::Decoder {
        &self.inner.decoder
    }

    /// Where the index stands (cached for 100 ms). The indexed block is always the database checkpoint (a
    /// reader process sees what the writer committed); the head is the follower's when this process writes,
    /// else the node's (cached 1 s), else the indexed block.
    pub async fn view(&self) -> Result<ChainView, ApiError> {
        if let Some((at, v)) = *self.inner.view.lock().expect("not poisoned")
            && at.elapsed() < VIEW_TTL
        {
            return Ok(v);
        }
        let pool = self.app.store.pool();
        let indexed: Option<i64> =
            self.q(sqlx::query_scalar("SELECT block_number FROM checkpoint WHERE id = 1").fetch_optional(pool)).await?;
        let indexed = indexed.unwrap_or(-1);
        let newest = self
            .q(sqlx::query("SELECT timestamp FROM blocks ORDER BY number DESC LIMIT 1").fetch_optional(pool))
            .await?;
        let now = newest.map_or(0, |r| r.get::<i64, _>(0).max(0) as u64);
        let m = &self.app.metrics;
        let head =
            if m.role() == 1 && m.head.get() > 0 { m.head.get() } else { self.node_head().await.unwrap_or(indexed) };
        let head = head.max(indexed);
        let depth = i64::try_from(self.app.options.finality_depth).unwrap_or(i64::MAX);
        let finalized = m.finalized.get().max(head.saturating_sub(depth)).min(head);
        let v = ChainView { indexed, head, finalized, now };
        *self.inner.view.lock().expect("not poisoned") = Some((Instant::now(), v));
        Ok(v)
    }

    async fn node_head(&self) -> Option<i64> {
        if let Some((at, h)) = *self.inner.node_head.lock().expect("not poisoned")
            && at.elapsed() < Duration::from_secs(1)
        {
            return Some(h);
        }
        let provider = self.app.provider.as_ref()?;
        let head = tokio::time::timeout(Duration::from_secs(1), provider.get_block_number()).await.ok()?.ok()?;
        let head = i64::try_from(head).ok()?;
        *self.inner.node_head.lock().expect("not poisoned") = Some((Instant::now(), head));
        Some(head)
    }

    /// The manifest cache.
    pub fn manifests(&self) -> &manifest::Cache {
        &self.inner.manifests
    }
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
    /// Last indexed block (the database checkpoint; −1 before the first).
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

/// `/health`: 200 while the index is current, 503 otherwise. A writer is `ok` while its follower progresses
/// (`lagging` after an error it is retrying, or when it has not progressed for `stale_after`; `stopped` after a
/// fatal error; `starting` before its first step). A reader (another process writes) is `ok` while the
/// database checkpoint is within `finality_depth` blocks of the node's head, `starting` before any block is
/// indexed.
#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, body = Health, description = "Indexing is current"),
              (status = 503, body = Health, description = "Stopped, lagging or starting")))]
pub async fn health(State(api): State<Api>) -> Result<Response, ApiError> {
    let view = api.view().await?;
    let m = &api.app.metrics;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = m.last_progress();
    let error = m.last_error().map(|(_, e)| e);
    let lag = (view.head - view.indexed).max(0);
    let status = match (m.role(), &error) {
        (-1, _) => "stopped",
        (1, Some(_)) => "lagging",
        (1, None) if last == 0 => "starting",
        (1, None) if now.saturating_sub(last) > api.app.options.stale_after.as_secs() => "lagging",
        (1, None) => "ok",
        _ if view.indexed < 0 => "starting",
        _ if lag > i64::try_from(api.app.options.finality_depth).unwrap_or(i64::MAX) => "lagging",
        _ => "ok",
    };
    let body = Health {
        status: status.into(),
        role: if m.role() == 1 { "writer".into() } else { "reader".into() },
        chain_id: api.app.chain_id,
        head: view.head,
        indexed_block: view.indexed,
        lag,
        finalized_block: view.finalized,
        reorgs: m.reorgs.get(),
        undecodable_logs: m.undecodable.get(),
        last_undecodable: m.last_undecodable(),
        last_error: error,
    };
    let code = if status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Ok((code, Json(body)).into_response())
}

/// `/metrics`: Prometheus text (head, indexed block, lag, events/s, reorgs, undecodable logs, follower
/// errors, API latency by route and status).
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus text format")))]
pub async fn metrics(State(api): State<Api>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], api.app.metrics.encode())
}

/// Every route the API serves, as the OpenAPI document names them.
pub const ROUTES: &[&str] = &[
    "/health",
    "/metrics",
    "/openapi.json",
    "/models",
    "/models/{id}",
    "/jobs",
    "/jobs/{id}",
    "/operators",
    "/operators/{addr}",
    "/disputes",
    "/disputes/{id}",
    "/params",
    "/accounts/{addr}/trail",
    "/did/{did}",
    "/stats",
];

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}: the API serves GET {}", uri.path(), ROUTES.join(", ")))
}

/// Records latency by matched route (the `/jobs/{id}` pattern, not the URL) and status.
async fn record_latency(State(api): State<Api>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    let labels = RouteLabels { route, status: response.status().as_u16() };
    api.app.metrics.api_latency.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

/// Per-client-IP rate limit (the connection's address; 127.0.0.1 when there is none, as in tests).
async fn rate_limit(State(api): State<Api>, req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    let limiter = &api.inner.limiter;
    // Forget idle clients now and then, so the limiter's map stays small.
    if api.inner.requests.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
    if limiter.check_key(&ip).is_err() {
        return ApiError::RateLimited(api.app.options.rate_per_second).into_response();
    }
    next.run(req).await
}

/// Answers 408 (the JSON error body) when the request runs past `request_timeout`.
async fn request_timeout(State(api): State<Api>, req: Request, next: Next) -> Response {
    let limit = api.app.options.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout(limit.as_millis()).into_response(),
    }
}

/// Sets `X-Indexed-Block` (the database checkpoint, as cached by [`Api::view`]) on every response.
async fn indexed_header(State(api): State<Api>, req: Request, next: Next) -> Response {
    let view = api.view().await;
    let mut response = next.run(req).await;
    if let Ok(v) = view {
        let value = HeaderValue::from(v.indexed);
        response.headers_mut().insert("x-indexed-block", value);
    }
    response
}

/// The router: every route of [`ROUTES`], read-only (GET and HEAD; OPTIONS for CORS preflights).
pub fn app(state: AppState) -> Router {
    let api = Api::new(state);
    let opts = api.app.options.clone();
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(doc::openapi_json))
        .route("/models", get(models::list))
        .route("/models/{id}", get(models::one))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::one))
        .route("/operators", get(operators::list))
        .route("/operators/{addr}", get(operators::one))
        .route("/disputes", get(disputes::list))
        .route("/disputes/{id}", get(disputes::one))
        .route("/params", get(stats::params))
        .route("/accounts/{addr}/trail", get(accounts::trail))
        .route("/did/{did}", get(did::document))
        .route("/stats", get(stats::stats))
        .merge(site::routes(opts.web_app.as_ref()))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(opts.max_body_bytes))
        // Inside the request timeout: the header's checkpoint query counts against it too, so a stuck database
        // answers 408 after `request_timeout`, not after `query_timeout` + `request_timeout`.
        .layer(middleware::from_fn_with_state(api.clone(), indexed_header))
        .layer(middleware::from_fn_with_state(api.clone(), request_timeout))
        // Outside the timeout, so 408s are measured too.
        .layer(middleware::from_fn_with_state(api.clone(), record_latency))
        .layer(middleware::from_fn_with_state(api.clone(), rate_limit))
        .layer(
            CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
                .allow_headers(tower_http::cors::Any)
                .expose_headers([
                    axum::http::HeaderName::from_static("x-indexed-block"),
                    axum::http::HeaderName::from_static("x-next-cursor"),
                ]),
        )
        .with_state(api)
}
