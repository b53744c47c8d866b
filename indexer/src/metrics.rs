//! What `/health` and `/metrics` report: the follower's progress and faults, the API's latency
//! (Prometheus text format through `prometheus-client`).

use std::sync::{
    Mutex,
    atomic::{AtomicI64, AtomicU64, Ordering},
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Labels of the API latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The matched route, e.g. `/jobs/{id}`.
    pub route: String,
    /// HTTP status code.
    pub status: u16,
}

/// The follower's state and the process's metrics, shared by the follower and the API.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Chain head seen, block number.
    pub head: Gauge,
    /// Last indexed block.
    pub indexed: Gauge,
    /// Head − indexed, blocks.
    pub lag: Gauge,
    /// Finalized block (the node's `finalized` tag or head − finality depth).
    pub finalized: Gauge,
    /// Logs stored.
    pub events: Counter,
    /// Reorgs handled.
    pub reorgs: Counter,
    /// Blocks the node's head is below the checkpoint while the follower waits for it (a node behind its peers,
    /// see `FollowerOptions::behind_grace`); 0 otherwise.
    pub node_behind: Gauge,
    /// Logs stored raw because they could not be decoded.
    pub undecodable: Counter,
    /// RPC or database errors the follower retried.
    pub errors: Counter,
    /// Events per second over the last committed range.
    pub events_per_second: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// API latency, seconds, by route and status.
    pub api_latency: Family<RouteLabels, Histogram>,
    last_error: Mutex<Option<(u64, String)>>,
    last_undecodable: Mutex<Option<String>>,
    last_progress: AtomicU64,
    writer: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cairn_indexer");
        let mut m = Self {
            registry: Registry::default(),
            head: Gauge::default(),
            indexed: Gauge::default(),
            lag: Gauge::default(),
            finalized: Gauge::default(),
            events: Counter::default(),
            reorgs: Counter::default(),
            node_behind: Gauge::default(),
            undecodable: Counter::default(),
            errors: Counter::default(),
            events_per_second: Gauge::default(),
            api_latency: Family::new_with_constructor(|| {
                Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
            }),
            last_error: Mutex::new(None),
            last_undecodable: Mutex::new(None),
            last_progress: AtomicU64::new(0),
            writer: AtomicI64::new(0),
        };
        registry.register("head_block", "Chain head seen by the follower", m.head.clone());
        registry.register("indexed_block", "Last block whose logs are all stored", m.indexed.clone());
        registry.register("lag_blocks", "Head minus indexed block", m.lag.clone());
        registry.register("finalized_block", "Finalized block", m.finalized.clone());
        registry.register("events", "Logs stored", m.events.clone());
        registry.register("reorgs", "Reorgs rolled back", m.reorgs.clone());
        registry.register(
            "node_behind_blocks",
            "Blocks the node's head is below the checkpoint while the follower waits for it",
            m.node_behind.clone(),
        );
        registry.register(
            "undecodable_logs",
            "Logs stored raw because they could not be decoded",
            m.undecodable.clone(),
        );
        registry.register("follower_errors", "RPC or database errors the follower retried", m.errors.clone());
        registry.register(
            "events_per_second",
            "Ingest rate over the last committed range",
            m.events_per_second.clone(),
        );
        registry.register("api_request_duration_seconds", "API latency by route and status", m.api_latency.clone());
        m.registry = registry;
        m
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// Records a retried failure (shown on `/health` until progress resumes).
    pub fn error(&self, now: u64, message: String) {
        self.errors.inc();
        *self.last_error.lock().expect("not poisoned") = Some((now, message));
    }

    /// Records progress: clears the last error.
    pub fn progress(&self, now: u64) {
        self.last_progress.store(now, Ordering::Relaxed);
        *self.last_error.lock().expect("not poisoned") = None;
    }

    /// Records an undecodable log.
    pub fn undecodable_log(&self, detail: String) {
        self.undecodable.inc();
        *self.last_undecodable.lock().expect("not poisoned") = Some(detail);
    }

    /// The last retried error, with its time, while the follower has not progressed since.
    pub fn last_error(&self) -> Option<(u64, String)> {
        self.last_error.lock().expect("not poisoned").clone()
    }

    /// The last undecodable log's description.
    pub fn last_undecodable(&self) -> Option<String> {
        self.last_undecodable.lock().expect("not poisoned").clone()
    }

    /// When the follower last committed or found itself caught up, seconds since the epoch (0: never).
    pub fn last_progress(&self) -> u64 {
        self.last_progress.load(Ordering::Relaxed)
    }

    /// Whether this process writes (1), only reads (0), or has stopped on a fatal error (−1).
    pub fn set_role(&self, role: i64) {
        self.writer.store(role, Ordering::Relaxed);
    }

    /// See [`Metrics::set_role`].
    pub fn role(&self) -> i64 {
        self.writer.load(Ordering::Relaxed)
    }
}
