//! [`NewHeads`]: what wakes a loop that follows the chain — a `newHeads` subscription (`eth_subscribe`,
//! Ethereum JSON-RPC pub/sub, served over `ws(s)://`) when the URL allows one, a timer otherwise.
//!
//! A loop that polls every `p` seconds sees a new block `p/2` late on average; with the subscription it looks
//! as soon as the node announces the block, and the timer stays as a fallback (a missed notification, a node
//! that does not announce). A subscription that ends (the socket dropped beyond alloy's own reconnects) is
//! asked for again, at most once per [`RESUBSCRIBE_AFTER`], while the loop falls back to the timer.

use std::{
    pin::Pin,
    time::{Duration, Instant},
};

use alloy::{
    providers::{DynProvider, Provider},
    rpc::types::Header,
};
use futures_util::{FutureExt, Stream, StreamExt};

/// How long after a failed or ended subscription the next `eth_subscribe` is tried.
pub const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(5);

type Heads = Pin<Box<dyn Stream<Item = Header> + Send>>;

/// Wakes a follower when a new block arrives (see the module docs).
pub struct NewHeads {
    provider: DynProvider,
    /// Whether the transport can subscribe at all (`ws://`, `wss://`).
    pubsub: bool,
    stream: Option<Heads>,
    /// Not before this instant is a subscription asked for (again).
    next_try: Option<Instant>,
}

impl NewHeads {
    /// Heads of `provider`, connected to `url`: subscribed now when `url` is `ws(s)://` (so no block mined after
    /// this returns is missed), a plain timer otherwise. Never fails (see [`NewHeads::wait`]).
    pub async fn new(provider: DynProvider, url: &str) -> Self {
        let pubsub = url.starts_with("ws://") || url.starts_with("wss://");
        let mut heads = Self { provider, pubsub, stream: None, next_try: None };
        heads.ensure_subscribed().await;
        heads
    }

    /// Whether a `newHeads` subscription is live now.
    pub fn subscribed(&self) -> bool {
        self.stream.is_some()
    }

    /// Waits until the node announces a new block (returns its number) or `max` has passed (returns `None`),
    /// whichever comes first (plus, at most every [`RESUBSCRIBE_AFTER`], up to that long for a subscription
    /// asked for again). Never fails: a subscription that cannot be made or ends is logged and the wait becomes
    /// a timer until the next try. Cancel-safe: no head is lost when the wait is dropped.
    pub async fn wait(&mut self, max: Duration) -> Option<u64> {
        self.ensure_subscribed().await;
        let Some(stream) = self.stream.as_mut() else {
            tokio::time::sleep(max).await;
            return None;
        };
        tokio::select! {
            head = stream.next() => match head {
                Some(head) => {
                    // Heads that queued while the loop was busy wake it once, not once each.
                    let mut latest = head.number;
                    while let Some(Some(head)) = stream.next().now_or_never() {
                        latest = latest.max(head.number);
                    }
                    Some(latest)
                }
                None => {
                    tracing::warn!(retry_in = ?RESUBSCRIBE_AFTER, "the newHeads subscription ended; polling until it is back");
                    self.stream = None;
                    self.next_try = Some(Instant::now() + RESUBSCRIBE_AFTER);
                    None
                }
            },
            () = tokio::time::sleep(max) => None,
        }
    }

    async fn ensure_subscribed(&mut self) {
        if !self.pubsub || self.stream.is_some() || self.next_try.is_some_and(|at| Instant::now() < at) {
            return;
        }
        // A node that never answers `eth_subscribe` must not hold the loop past its poll.
        match tokio::time::timeout(RESUBSCRIBE_AFTER, self.provider.subscribe_blocks()).await {
            Err(_) => {
                tracing::warn!(retry_in = ?RESUBSCRIBE_AFTER, "eth_subscribe did not answer; polling");
                self.next_try = Some(Instant::now() + RESUBSCRIBE_AFTER);
            }
            Ok(Ok(sub)) => {
                tracing::debug!("subscribed to newHeads");
                self.stream = Some(Box::pin(sub.into_stream()));
                self.next_try = None;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, retry_in = ?RESUBSCRIBE_AFTER, "no newHeads subscription; polling");
                self.next_try = Some(Instant::now() + RESUBSCRIBE_AFTER);
            }
        }
    }
}
