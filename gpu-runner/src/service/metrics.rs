//! What `/health` and `/metrics` report (Prometheus text format through `prometheus-client`): jobs by outcome,
//! claim latency, inference time, queue depth, the model cache, earnings per token and energy by method.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::primitives::{Address, U256};
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::cache::CacheStats;

/// A job outcome label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `claimed`, `submitted`, `finalized`, `lost`, `expired`, `released`, `declined`, `disputed`, `ruled`.
    pub outcome: String,
}

/// A token label (`0x000…0` is ETH).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Token {
    /// The token's address.
    pub token: String,
}

/// An energy method label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Method {
    /// `rapl`, `nvml` or `estimate` (`EnergyMethod::as_str`).
    pub method: String,
}

/// The runner's metrics. Shared by the loop and the HTTP endpoint.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Jobs by outcome.
    pub jobs: Family<Outcome, Counter>,
    /// Seconds from sending a claim to its receipt.
    pub claim_latency: Histogram,
    /// Seconds of inference per job.
    pub inference: Histogram,
    /// Jobs between claim and submission now.
    pub in_flight: Gauge,
    /// 1 while a `newHeads` subscription wakes the loop (a `ws(s)://` RPC), 0 while it polls.
    pub subscribed: Gauge,
    /// Operator fees of finalized jobs, in the token's base units (wei for ETH), by token.
    pub earned: Family<Token, Counter<f64, AtomicU64>>,
    /// Operator earnings the hot key swept to the operator's address (`JobMarket.withdrawFor`), in the token's
    /// base units, by token.
    pub swept: Family<Token, Counter<f64, AtomicU64>>,
    /// Energy of the jobs run, millijoules, by how it was obtained.
    pub energy: Family<Method, Counter>,
    cache_hits: Gauge,
    cache_misses: Gauge,
    cache_refused: Gauge,
    cache_evicted: Gauge,
    cache_bytes: Gauge,
    /// Unix seconds of the last poll that completed (0: none yet).
    last_poll: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric registered under the `cairn_runner` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cairn_runner");
        let buckets = || Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]);
        let m = Self {
            jobs: Family::default(),
            claim_latency: buckets(),
            inference: buckets(),
            in_flight: Gauge::default(),
            subscribed: Gauge::default(),
            earned: Family::default(),
            swept: Family::default(),
            energy: Family::default(),
            cache_hits: Gauge::default(),
            cache_misses: Gauge::default(),
            cache_refused: Gauge::default(),
            cache_evicted: Gauge::default(),
            cache_bytes: Gauge::default(),
            last_poll: AtomicU64::new(0),
            registry: Registry::default(),
        };
        registry.register("jobs", "Jobs by outcome", m.jobs.clone());
        registry.register("claim_latency_seconds", "From sending a claim to its receipt", m.claim_latency.clone());
        registry.register("inference_seconds", "Inference time per job", m.inference.clone());
        registry.register("jobs_in_flight", "Jobs between claim and submission", m.in_flight.clone());
        registry.register(
            "new_heads_subscribed",
            "1 while a newHeads subscription wakes the loop",
            m.subscribed.clone(),
        );
        registry.register("earned", "Operator fees of finalized jobs, token base units, by token", m.earned.clone());
        registry.register(
            "swept",
            "Earnings swept to the operator's address, token base units, by token",
            m.swept.clone(),
        );
        registry.register("energy_millijoules", "Energy of the jobs run, by method", m.energy.clone());
        registry.register("cache_hits", "Model files served from the cache", m.cache_hits.clone());
        registry.register("cache_misses", "Model files downloaded", m.cache_misses.clone());
        registry.register("cache_refused", "Model downloads refused (digest or size)", m.cache_refused.clone());
        registry.register("cache_evicted", "Model files evicted", m.cache_evicted.clone());
        registry.register("cache_bytes", "Bytes in the model cache", m.cache_bytes.clone());
        Self { registry, ..m }
    }

    /// Counts one job reaching `outcome`.
    pub fn job(&self, outcome: &str) {
        self.jobs.get_or_create(&Outcome { outcome: outcome.to_owned() }).inc();
    }

    /// Adds an operator fee earned in `token`.
    pub fn earned(&self, token: Address, amount: U256) {
        self.earned.get_or_create(&Token { token: token.to_string() }).inc_by(f64::from(amount));
    }

    /// Adds earnings swept to the operator in `token`.
    pub fn swept(&self, token: Address, amount: U256) {
        self.swept.get_or_create(&Token { token: token.to_string() }).inc_by(f64::from(amount));
    }

    /// Adds a job's energy figure.
    pub fn energy(&self, method: &str, millijoules: u64) {
        self.energy.get_or_create(&Method { method: method.to_owned() }).inc_by(millijoules);
    }

    /// Records a completed poll.
    pub fn polled(&self) {
        self.last_poll.store(unix_now(), Ordering::Relaxed);
    }

    /// Seconds since the last completed poll, `None` before the first.
    pub fn since_last_poll(&self) -> Option<u64> {
        match self.last_poll.load(Ordering::Relaxed) {
            0 => None,
            at => Some(unix_now().saturating_sub(at)),
        }
    }

    /// The Prometheus text exposition, with the cache's counters as of now.
    pub fn encode(&self, cache: CacheStats) -> String {
        let set = |g: &Gauge, v: u64| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        set(&self.cache_hits, cache.hits);
        set(&self.cache_misses, cache.misses);
        set(&self.cache_refused, cache.refused);
        set(&self.cache_evicted, cache.evicted);
        set(&self.cache_bytes, cache.bytes);
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What the endpoint reads: the metrics, the cache counters and how stale a poll may be before `/health`
/// reports the runner unhealthy.
pub trait Observed: Send + Sync + 'static {
    /// The metrics.
    fn metrics(&self) -> &Metrics;
    /// The model cache's counters now.
    fn cache_stats(&self) -> CacheStats;
    /// The longest gap between polls that is still healthy.
    fn stale_after(&self) -> Duration;
}

/// Serves `/health` (200 while polls complete, else 503; a JSON body either way) and `/metrics` on `listener`
/// (see [`bind`]) until the process ends.
pub fn serve(listener: tokio::net::TcpListener, observed: Arc<dyn Observed>) {
    let listen = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(%listen, "serving /health and /metrics");
    let app = Router::new().route("/health", get(health)).route("/metrics", get(metrics)).with_state(observed);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the /health and /metrics endpoint stopped");
        }
    });
}

/// Binds `listen` for the HTTP server of the config key `key` (`[http] listen`, `[relay] listen`), so a busy or
/// forbidden address is refused at start, before any state is written.
///
/// Errors: the address cannot be bound (in use, not local, a privileged port); the message names the key.
pub async fn bind(listen: SocketAddr, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {listen} ({key}): {e}; free the port or choose another address in {key}")
    })
}

async fn health(State(observed): State<Arc<dyn Observed>>) -> Response {
    let metrics = observed.metrics();
    let since = metrics.since_last_poll();
    let healthy = since.is_some_and(|s| s <= observed.stale_after().as_secs());
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "unhealthy" },
        "secondsSinceLastPoll": since,
        "jobsInFlight": metrics.in_flight.get(),
        "newHeadsSubscribed": metrics.subscribed.get() == 1,
    });
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(observed): State<Arc<dyn Observed>>) -> Response {
    let text = observed.metrics().encode(observed.cache_stats());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
