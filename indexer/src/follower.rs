//! The follower: backfills Cairn's logs from the deployment block with `eth_getLogs` over adaptive block
//! ranges (several in flight), then follows the head (a WS
//! subscription to new heads when the URL is `ws://`/`wss://`, polling otherwise), and undoes reorgs.
//!
//! Reorgs are detected by hash, never by height: every step first checks that the chain still holds the
//! checkpoint's block hash. When it does not, the fork point is the highest stored block whose hash the chain
//! still has (a block's hash commits to all its ancestors, so every stored block at or below it is still
//! canonical); everything above it is rolled back in one transaction and re-ingested. Headers of the last
//! `reorg_window` blocks are kept (and, below them, those of blocks that hold a Cairn log), and the parent-hash
//! links of each new range are checked against them. A reorg deeper than the window, or a chain that lost the
//! deployment block (an anvil restart, a redeploy), stops the follower with an error that says so.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::Address,
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
};
use cairn_chain::{Chain, ChainOptions, Deployments, NewHeads};
use futures_util::{StreamExt, stream};

use crate::{
    decode::{Decoder, INDEXED_CONTRACTS, lower_hex},
    error::{Error, Result, db},
    metrics::Metrics,
    project::{self, Batch, LogContext},
    store::{BlockRow, Checkpoint, Store, Val, insert_rows},
};

/// Tunables of the follower.
#[derive(Debug, Clone)]
pub struct FollowerOptions {
    /// Blocks of recent headers kept to find a fork point (default 64).
    pub reorg_window: u64,
    /// Confirmations after which a row is final when the node serves no `finalized` block (default 64).
    pub finality_depth: u64,
    /// How often to poll for a new head over HTTP (and the longest wait between WS notifications).
    pub poll_interval: Duration,
    /// First `eth_getLogs` range, blocks.
    pub initial_range: u64,
    /// Largest range, blocks.
    pub max_range: u64,
    /// A range returning fewer than half this many logs is grown (doubled); one returning more than twice as
    /// many is shrunk so the next ranges return about this many.
    pub target_logs: usize,
    /// Ranges fetched concurrently during backfill.
    pub in_flight: usize,
    /// How long a node that lacks the checkpoint's block (its head below it, or `null` for it) is waited for
    /// before that is taken as a chain that got shorter and rolled back; `None` (the default): as long as it
    /// takes. A node behind its peers (a load balancer's lagging backend, a restarted node syncing) answers `null`
    /// above its head; a chain only gets shorter without replacement blocks on a devnet (`evm_revert`), where
    /// `cairn-indexer run` waits 60 s. A node whose head block differs from the one stored at that height has
    /// reorged, which is rolled back at once.
    pub behind_grace: Option<Duration>,
}

impl Default for FollowerOptions {
    fn default() -> Self {
        Self {
            reorg_window: 64,
            finality_depth: 64,
            poll_interval: Duration::from_millis(1000),
            initial_range: 2_000,
            max_range: 100_000,
            target_logs: 20_000,
            in_flight: 3,
            behind_grace: None,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Stored the logs of blocks `from..=to`.
    Advanced {
        /// First block.
        from: u64,
        /// Last block.
        to: u64,
        /// Logs stored.
        events: usize,
    },
    /// Nothing new: the checkpoint is the head.
    CaughtUp {
        /// The head.
        head: u64,
    },
    /// Rolled back to `fork` after a reorg.
    Reorged {
        /// The fork point: the highest block kept.
        fork: u64,
        /// The checkpoint before.
        from: u64,
    },
    /// The chain changed while a range was fetched; nothing stored, try again.
    Raced,
    /// The node lacks the checkpoint's block but holds the chain below it: waiting for it to catch up
    /// (within `FollowerOptions::behind_grace`); nothing changed.
    Behind {
        /// The node's head.
        head: u64,
        /// The checkpoint, the block the node lacks.
        checkpoint: u64,
    },
}

/// The logs and headers of a block range, fetched but not yet stored, with their raw rows prepared.
#[derive(Debug)]
struct Fetched {
    from: u64,
    to: u64,
    logs: Vec<Log>,
    /// Headers fetched, by number.
    headers: BTreeMap<u64, BlockRow>,
    /// The rows of `logs`.
    prepared: Prepared,
}

/// A range being fetched (and prepared) in the background while the previous one is written: backfill is a
/// pipeline, the node and the decoding work beside the database instead of waiting for it.
#[derive(Debug)]
struct Prefetch {
    from: u64,
    to: u64,
    /// The reorg window's first block when it was spawned: blocks below it were fetched without parent-link
    /// checks, so a head that moved back (a lower window) makes the prefetch unusable.
    window_start: u64,
    task: tokio::task::JoinHandle<Result<Option<Fetched>>>,
}

/// A background fetch awaited by a step: aborted if the step is cancelled meanwhile (a shutdown), instead of
/// running on detached.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Follows one deployment into one store.
#[derive(Debug)]
pub struct Follower {
    store: Store,
    src: Arc<Source>,
    deployment_key: String,
    prefetch: tokio::sync::Mutex<Option<Prefetch>>,
    /// Since when the node has lacked the checkpoint's block (see [`FollowerOptions::behind_grace`]).
    behind_since: std::sync::Mutex<Option<Instant>>,
}

/// The chain side of a follower (node, decoder, range sizes), shared with its background fetches.
#[derive(Debug)]
struct Source {
    provider: DynProvider,
    url: String,
    chain_id: u64,
    deployment_block: u64,
    decoder: Arc<Decoder>,
    opts: FollowerOptions,
    metrics: Arc<Metrics>,
    range: AtomicU64,
}

impl Drop for Follower {
    fn drop(&mut self) {
        if let Some(p) = self.prefetch.get_mut().take() {
            p.task.abort();
        }
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Follower {
    /// Connects to `rpc_url` and checks it against `deployments` (same chain) and the store (same
    /// deployment, same deployment block hash).
    pub async fn new(
        store: Store,
        rpc_url: &str,
        deployments: &Deployments,
        opts: FollowerOptions,
        metrics: Arc<Metrics>,
    ) -> Result<Self> {
        let chain = Chain::connect_read_only(rpc_url, ChainOptions { max_retries: 3, ..Default::default() }).await?;
        if chain.chain_id() != deployments.chain_id {
            return Err(Error::WrongChain { node: chain.chain_id(), file: deployments.chain_id });
        }
        let contracts: Vec<(String, Address)> = deployments
            .contracts
            .iter()
            .filter(|(name, _)| INDEXED_CONTRACTS.contains(&name.as_str()) || name.starts_with("Bench"))
            .map(|(name, d)| (bench_alias(name), d.address))
            .collect();
        let mut key_parts: Vec<String> = contracts.iter().map(|(n, a)| format!("{n}={a:#x}")).collect();
        key_parts.sort();
        let deployment_key = format!(
            "chain {} from block {} ({})",
            deployments.chain_id,
            deployments.deployment_block,
            key_parts.join(", ")
        );
        if let Some(held) = store.meta("deployment").await?
            && held != deployment_key
        {
            return Err(Error::OtherDeployment { held, wanted: deployment_key });
        }
        let follower = Self {
            store,
            src: Arc::new(Source {
                provider: chain.provider().clone(),
                url: rpc_url.to_string(),
                chain_id: deployments.chain_id,
                deployment_block: deployments.deployment_block,
                decoder: Arc::new(Decoder::new(contracts)),
                range: AtomicU64::new(opts.initial_range.max(1)),
                opts,
                metrics,
            }),
            deployment_key,
            prefetch: tokio::sync::Mutex::new(None),
            behind_since: std::sync::Mutex::new(None),
        };
        follower.check_deployment_block().await?;
        Ok(follower)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.src.chain_id
    }

    /// The provider (read-only).
    pub fn provider(&self) -> &DynProvider {
        &self.src.provider
    }

    /// The options.
    pub fn options(&self) -> &FollowerOptions {
        &self.src.opts
    }

    /// Refuses a chain that no longer holds the block the history was built on.
    async fn check_deployment_block(&self) -> Result<()> {
        let Some(held) = self.store.meta("deployment_block_hash").await? else { return Ok(()) };
        let now = self.src.header(self.src.deployment_block).await?;
        match now {
            Some(h) if h.hash == held => Ok(()),
            other => Err(Error::ChainReset {
                url: self.src.url.clone(),
                block: self.src.deployment_block,
                now: other.map_or_else(|| "missing (the chain is shorter)".into(), |h| h.hash),
                held,
            }),
        }
    }

    /// The finalized block: the node's `finalized` tag where it serves one (OP Stack does), else head − depth.
    pub async fn finalized(&self, head: u64) -> u64 {
        let by_depth = head.saturating_sub(self.src.opts.finality_depth);
        let tagged = match self.src.provider.get_block_by_number(BlockNumberOrTag::Finalized).await {
            Ok(Some(b)) => b.header.number,
            _ => 0,
        };
        let f = by_depth.max(tagged).min(head);
        self.src.metrics.finalized.set(i64::try_from(f).unwrap_or(i64::MAX));
        f
    }

    /// One step: a reorg check, then the next range (or, far behind the head, a group of ranges).
    pub async fn step(&self) -> Result<Step> {
        let head = self.src.head().await?;
        let cp = self.store.checkpoint().await?;
        if let Some(cp) = &cp {
            match self.src.header(cp.number).await? {
                Some(h) if h.hash == cp.hash => self.caught_up_with_node(),
                Some(_) => return self.unwind(cp).await,
                None if self.node_behind(cp, head).await? => {
                    return Ok(Step::Behind { head, checkpoint: cp.number });
                }
                None => return self.unwind(cp).await,
            }
        }
        let from = cp.as_ref().map_or(self.src.deployment_block, |c| c.number + 1);
        if from > head {
            self.src.metrics.lag.set(0);
            self.src.metrics.progress(now());
            return Ok(Step::CaughtUp { head });
        }
        // The window's headers: the last `reorg_window` blocks and the one below them, the fork point of a reorg
        // that replaces all of them (`unwind` and `prune_blocks` count the same way).
        let window_start = head.saturating_sub(self.src.opts.reorg_window);
        let group_end = self.src.group_end(from, head, window_start);
        let mut prefetch = self.prefetch.lock().await;
        let fetched = match prefetch.take() {
            // Fetched while the previous range was written, linked to its last block (now the checkpoint).
            Some(p) if p.from == from && p.to <= head && window_start >= p.window_start => {
                let to = p.to;
                let mut task = AbortOnDrop(p.task);
                (&mut task.0).await.map_err(|e| Error::Prefetch { from, to, detail: e.to_string() })??
            }
            other => {
                if let Some(p) = other {
                    p.task.abort();
                }
                self.src.fetch(from, group_end, window_start, cp).await?
            }
        };
        let Some(fetched) = fetched else { return Ok(Step::Raced) };
        // Behind the head, the next range is fetched and prepared while this one is written (a pipeline: the node
        // and the decoding work beside the database). It is checked as a foreground fetch is, against this range's
        // last header as the checkpoint it will follow.
        let next_from = fetched.to + 1;
        if next_from <= head {
            let next_end = self.src.group_end(next_from, head, window_start);
            let link =
                fetched.headers.get(&fetched.to).map(|h| Checkpoint { number: fetched.to, hash: h.hash.clone() });
            let src = self.src.clone();
            let task = tokio::spawn(async move { src.fetch(next_from, next_end, window_start, link).await });
            *prefetch = Some(Prefetch { from: next_from, to: next_end, window_start, task });
        }
        drop(prefetch);
        let to = fetched.to;
        let events = self.commit(fetched, head).await?;
        Ok(Step::Advanced { from, to, events })
    }

    /// Stores a fetched range: raw events, accounts, projections, headers and the checkpoint, in one
    /// transaction.
    async fn commit(&self, f: Fetched, head: u64) -> Result<usize> {
        let started = Instant::now();
        let mut tx = self.store.pool().begin().await.map_err(db("begin"))?;
        if self.store.meta("deployment").await?.is_none() {
            Store::set_meta(&mut tx, "deployment", &self.deployment_key).await?;
            Store::set_meta(&mut tx, "chain_id", &self.src.chain_id.to_string()).await?;
            Store::set_meta(&mut tx, "deployment_block", &self.src.deployment_block.to_string()).await?;
            let hash = match f.headers.get(&self.src.deployment_block) {
                Some(h) => Some(h.hash.clone()),
                None => self.src.header(self.src.deployment_block).await?.map(|h| h.hash),
            };
            if let Some(hash) = hash {
                Store::set_meta(&mut tx, "deployment_block_hash", &hash).await?;
            }
        }
        let count = apply_prepared(
            &self.src.decoder,
            self.src.chain_id,
            &mut tx,
            &f.logs,
            f.prepared,
            &f.headers,
            &self.src.metrics,
            true,
        )
        .await?;
        let mut blocks: Vec<BlockRow> = f.headers.values().cloned().collect();
        // Blocks with logs whose header was not fetched (their logs carried the timestamp).
        let mut seen: BTreeSet<u64> = f.headers.keys().copied().collect();
        for log in &f.logs {
            if let (Some(n), Some(hash), Some(ts)) = (log.block_number, log.block_hash, log.block_timestamp)
                && seen.insert(n)
            {
                blocks.push(BlockRow { number: n, hash: hash.to_string(), parent_hash: String::new(), timestamp: ts });
            }
        }
        Store::put_blocks(&mut tx, &blocks).await?;
        let last = f.headers.get(&f.to).expect("fetch checks the last header");
        Store::set_checkpoint(&mut tx, &Checkpoint { number: f.to, hash: last.hash.clone() }, now()).await?;
        Store::prune_blocks(&mut tx, head.saturating_sub(self.src.opts.reorg_window)).await?;
        tx.commit().await.map_err(db("commit"))?;
        let n = i64::try_from(f.to).unwrap_or(i64::MAX);
        self.src.metrics.indexed.set(n);
        self.src.metrics.lag.set(i64::try_from(head.saturating_sub(f.to)).unwrap_or(i64::MAX));
        self.src.metrics.events.inc_by(count as u64);
        let secs = started.elapsed().as_secs_f64();
        if count > 0 && secs > 0.0 {
            self.src.metrics.events_per_second.set(count as f64 / secs);
        }
        self.src.metrics.progress(now());
        tracing::debug!(from = f.from, to = f.to, events = count, "stored");
        Ok(count)
    }

    /// Whether a node that answered `null` for the checkpoint's block is to be waited for: it holds the chain
    /// below (its head block, when that height is stored, has the stored hash) and has lacked the block for
    /// less than `behind_grace`. Otherwise the caller rolls back: the chain changed, or got shorter.
    async fn node_behind(&self, cp: &Checkpoint, head: u64) -> Result<bool> {
        if head < cp.number
            && let Some(stored) = self.store.blocks_desc(head, head).await?.pop()
            && self.src.header(head).await?.is_none_or(|h| h.hash != stored.hash)
        {
            return Ok(false);
        }
        let since = *self.behind_since.lock().expect("not poisoned").get_or_insert_with(|| {
            tracing::warn!(head, checkpoint = cp.number, "the node lacks the checkpoint's block; waiting for it");
            Instant::now()
        });
        let waiting = self.src.opts.behind_grace.is_none_or(|grace| since.elapsed() < grace);
        self.src.metrics.node_behind.set(i64::try_from(cp.number.saturating_sub(head).max(1)).unwrap_or(i64::MAX));
        self.src.metrics.lag.set(0);
        if !waiting {
            tracing::warn!(
                head,
                checkpoint = cp.number,
                waited = ?since.elapsed(),
                "the node still lacks the checkpoint's block: taken as a shorter chain"
            );
        }
        Ok(waiting)
    }

    /// The node holds the checkpoint's block again.
    fn caught_up_with_node(&self) {
        if let Some(since) = self.end_wait() {
            tracing::info!(waited = ?since.elapsed(), "the node caught up with the checkpoint");
        }
    }

    /// Ends a wait for the node (it caught up, or a rollback was committed); returns since when it waited.
    fn end_wait(&self) -> Option<Instant> {
        let since = self.behind_since.lock().expect("not poisoned").take();
        if since.is_some() {
            self.src.metrics.node_behind.set(0);
        }
        since
    }

    /// Finds the fork point below the checkpoint and rolls everything above it back.
    async fn unwind(&self, cp: &Checkpoint) -> Result<Step> {
        let lowest = cp.number.saturating_sub(self.src.opts.reorg_window);
        let stored = self.store.blocks_desc(cp.number, lowest).await?;
        let mut fork = None;
        for b in &stored {
            if b.number < self.src.deployment_block {
                break;
            }
            if self.src.header(b.number).await?.is_some_and(|h| h.hash == b.hash) {
                fork = Some(b.clone());
                break;
            }
        }
        let fork = match fork {
            Some(f) => f,
            None => {
                self.check_deployment_block().await?;
                // The deployment block is still there: the chain forked below our window, or we are at the very
                // start (no stored block kept).
                if cp.number < self.src.deployment_block + self.src.opts.reorg_window {
                    let before = self.src.deployment_block.saturating_sub(1);
                    let mut tx = self.store.pool().begin().await.map_err(db("begin"))?;
                    Store::rollback(&mut tx, before).await?;
                    sqlx::query("DELETE FROM checkpoint").execute(&mut *tx).await.map_err(db("roll back"))?;
                    tx.commit().await.map_err(db("commit"))?;
                    self.end_wait();
                    self.src.metrics.reorgs.inc();
                    tracing::warn!(
                        from = cp.number,
                        fork = before,
                        "reorg: rolled back to before the deployment block"
                    );
                    return Ok(Step::Reorged { fork: before, from: cp.number });
                }
                return Err(Error::DeepReorg { window: self.src.opts.reorg_window, from: cp.number, to: lowest });
            }
        };
        let below = self.window_below(&fork).await?;
        let mut tx = self.store.pool().begin().await.map_err(db("begin"))?;
        Store::rollback(&mut tx, fork.number).await?;
        Store::put_blocks(&mut tx, &below).await?;
        Store::set_checkpoint(&mut tx, &Checkpoint { number: fork.number, hash: fork.hash.clone() }, now()).await?;
        tx.commit().await.map_err(db("commit"))?;
        self.end_wait();
        self.src.metrics.reorgs.inc();
        self.src.metrics.indexed.set(i64::try_from(fork.number).unwrap_or(i64::MAX));
        tracing::warn!(from = cp.number, fork = fork.number, depth = cp.number - fork.number, "reorg: rolled back");
        Ok(Step::Reorged { fork: fork.number, from: cp.number })
    }

    /// The headers of the `reorg_window` blocks below the fork point, when some are missing: a head that went
    /// back (a revert, a reorg to a shorter chain) had pruned them relative to its own higher number, and the
    /// next reorg needs them to find its fork point. They are canonical as `fork` is (fetched by number, kept
    /// only when their parent links lead to `fork`'s hash; none when the chain moved meanwhile).
    async fn window_below(&self, fork: &BlockRow) -> Result<Vec<BlockRow>> {
        let lo = fork.number.saturating_sub(self.src.opts.reorg_window).max(self.src.deployment_block);
        if lo >= fork.number || self.store.blocks_desc(fork.number - 1, lo).await?.len() as u64 == fork.number - lo {
            return Ok(Vec::new());
        }
        let headers = self.src.headers(lo..=fork.number).await?;
        let mut expect = fork.hash.clone();
        for n in (lo..=fork.number).rev() {
            match headers.get(&n) {
                Some(h) if h.hash == expect => expect.clone_from(&h.parent_hash),
                _ => {
                    tracing::debug!(fork = fork.number, at = n, "the chain moved while the window was refilled");
                    return Ok(Vec::new());
                }
            }
        }
        tracing::debug!(fork = fork.number, from = lo, "refilled the window below the fork point");
        Ok(headers.into_values().filter(|h| h.number < fork.number).collect())
    }

    /// Steps until block `target` is indexed (tests and `reindex`); errors are returned, not retried.
    pub async fn sync_to(&self, target: u64) -> Result<()> {
        loop {
            match self.step().await? {
                Step::CaughtUp { head } if head >= target => return Ok(()),
                Step::CaughtUp { .. } | Step::Behind { .. } => tokio::time::sleep(self.src.opts.poll_interval).await,
                Step::Advanced { to, .. } if to >= target => {
                    // Check once more for a reorg of what was just stored.
                }
                _ => {}
            }
        }
    }

    /// Steps until caught up with the head as it is now.
    pub async fn sync(&self) -> Result<u64> {
        let head = self.src.head().await?;
        self.sync_to(head).await?;
        Ok(head)
    }

    /// Runs until `shutdown` resolves: retries transient RPC and database failures with backoff (reported on
    /// `/health` and in metrics), returns on a fatal one (a chain reset, a reorg deeper than the window).
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let mut heads = NewHeads::new(self.src.provider.clone(), &self.src.url).await;
        let mut backoff = Duration::from_millis(250);
        loop {
            let outcome = tokio::select! {
                () = &mut shutdown => return Ok(()),
                r = self.step() => r,
            };
            let wait = match outcome {
                Ok(Step::CaughtUp { .. }) => {
                    backoff = Duration::from_millis(250);
                    Some(self.src.opts.poll_interval)
                }
                // The chain moved under the range (a reorg in progress, a node behind its peers): look again
                // at the next block or poll, not in a tight loop.
                Ok(Step::Raced) => Some(self.src.opts.poll_interval),
                // The node lacks the checkpoint's block: poll until it catches up or the grace ends.
                Ok(Step::Behind { .. }) => {
                    backoff = Duration::from_millis(250);
                    Some(self.src.opts.poll_interval)
                }
                Ok(_) => {
                    backoff = Duration::from_millis(250);
                    None
                }
                Err(e) if is_fatal(&e) => {
                    self.src.metrics.set_role(-1);
                    self.src.metrics.error(now(), e.to_string());
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "follower step failed; retrying");
                    self.src.metrics.error(now(), e.to_string());
                    let w = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    Some(w)
                }
            };
            if let Some(wait) = wait {
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    _ = heads.wait(wait) => {}
                }
            }
        }
    }
}

impl Source {
    /// The last block of the step that starts at `from`: one range inside the reorg window; far behind the head, a
    /// group of ranges fetched concurrently, none inside the window.
    fn group_end(&self, from: u64, head: u64, window_start: u64) -> u64 {
        let range = self.range.load(Ordering::Relaxed);
        if from + range <= window_start {
            (from + range * self.opts.in_flight as u64 - 1).min(window_start - 1)
        } else {
            (from + range - 1).min(head)
        }
    }

    fn rpc(&self, method: &'static str) -> impl Fn(alloy::transports::TransportError) -> Error + '_ {
        move |e| Error::Rpc { url: self.url.clone(), method, detail: e.to_string() }
    }

    async fn header(&self, number: u64) -> Result<Option<BlockRow>> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(self.rpc("eth_getBlockByNumber"))?;
        Ok(block.map(|b| BlockRow {
            number: b.header.number,
            hash: b.header.hash.to_string(),
            parent_hash: b.header.parent_hash.to_string(),
            timestamp: b.header.timestamp,
        }))
    }

    async fn headers(&self, numbers: impl IntoIterator<Item = u64>) -> Result<BTreeMap<u64, BlockRow>> {
        let fetched: Vec<Result<(u64, Option<BlockRow>)>> =
            stream::iter(numbers).map(|n| async move { Ok((n, self.header(n).await?)) }).buffered(16).collect().await;
        let mut out = BTreeMap::new();
        for r in fetched {
            let (n, h) = r?;
            // A block missing at a number below the head: the head moved back meanwhile; the caller re-checks.
            if let Some(h) = h {
                out.insert(n, h);
            }
        }
        Ok(out)
    }

    async fn head(&self) -> Result<u64> {
        let head = self.provider.get_block_number().await.map_err(self.rpc("eth_blockNumber"))?;
        self.metrics.head.set(i64::try_from(head).unwrap_or(i64::MAX));
        Ok(head)
    }

    /// Fetches `from..=to`: logs over adaptive ranges, headers of the window part (checked link by link and
    /// against the checkpoint), of blocks whose logs carry no timestamp, and of `to`. `None` when the chain
    /// changed meanwhile.
    ///
    /// Below the window no header is linked to the next, so the range is held to one chain by hashes: `to`'s,
    /// read before the logs and again after them (a block's hash commits to all its ancestors, so the logs
    /// read in between come from its chain), and the checkpoint's, read after them (canonical together with
    /// `to`, it is `to`'s ancestor). A reorg deeper than the window in the middle of a fetch thus returns
    /// `None`, and the next step finds the checkpoint gone and stops with `DeepReorg` instead of storing logs
    /// of two chains.
    async fn fetch(&self, from: u64, to: u64, window_start: u64, cp: Option<Checkpoint>) -> Result<Option<Fetched>> {
        let in_window = to >= window_start;
        let mut window_headers = BTreeMap::new();
        let mut before = None;
        if in_window {
            window_headers = self.headers(from.max(window_start)..=to).await?;
        } else {
            let Some(h) = self.header(to).await? else { return Ok(None) };
            before = Some(h.hash);
        }
        let range = self.range.load(Ordering::Relaxed).max(1);
        let mut ranges = Vec::new();
        let mut start = from;
        while start <= to {
            let end = (start + range - 1).min(to);
            ranges.push((start, end));
            start = end + 1;
        }
        let results: Vec<Result<Vec<Log>>> = stream::iter(ranges)
            .map(|(a, b)| self.logs_adaptive(a, b))
            .buffered(self.opts.in_flight.max(1))
            .collect()
            .await;
        let mut logs = Vec::new();
        for r in results {
            match r {
                Ok(l) => logs.extend(l),
                // The head went back below `to` meanwhile (nodes refuse ranges past their head): a race, not a
                // fault to report; the next step finds the reorg.
                Err(_) if self.head().await? < to => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        // Timestamps: from the logs when the node includes them (`blockTimestamp`), else from headers.
        let mut need: BTreeSet<u64> = logs
            .iter()
            .filter(|l| l.block_timestamp.is_none())
            .filter_map(|l| l.block_number)
            .filter(|n| !window_headers.contains_key(n))
            .collect();
        need.insert(to);
        let mut headers = self.headers(need).await?;
        headers.extend(window_headers);
        // Consistency: one chain from the checkpoint through `to`.
        let Some(last) = headers.get(&to) else { return Ok(None) };
        if before.is_some_and(|h| h != last.hash) {
            tracing::debug!(from, to, "the range's last block changed while its logs were read; fetching again");
            return Ok(None);
        }
        if from < window_start
            && let Some(cp) = &cp
            && self.header(cp.number).await?.is_none_or(|h| h.hash != cp.hash)
        {
            tracing::debug!(from, to, checkpoint = cp.number, "the checkpoint changed while the range was read");
            return Ok(None);
        }
        if in_window {
            let again = self.header(to).await?;
            if again.as_ref().map(|h| &h.hash) != Some(&last.hash) {
                return Ok(None);
            }
            if !one_chain(&headers, from, to, window_start, cp.as_ref()) {
                tracing::debug!(from, to, "the range's headers are not one chain from the checkpoint; fetching again");
                return Ok(None);
            }
        }
        for log in &logs {
            let (Some(n), Some(hash)) = (log.block_number, log.block_hash) else { return Ok(None) };
            if let Some(h) = headers.get(&n)
                && h.hash != hash.to_string()
            {
                return Ok(None);
            }
        }
        // CPU work: off the async workers, which the API shares.
        let (decoder, chain_id) = (self.decoder.clone(), self.chain_id);
        let (logs, prepared) = tokio::task::spawn_blocking(move || {
            let prepared = prepare(&decoder, chain_id, &logs);
            (logs, prepared)
        })
        .await
        .map_err(|e| Error::Prefetch { from, to, detail: e.to_string() })?;
        Ok(Some(Fetched { from, to, logs, headers, prepared }))
    }

    /// `eth_getLogs` over `from..=to`, halving the range while the node refuses it as too large, and growing
    /// the next ranges while answers are small.
    async fn logs_adaptive(&self, from: u64, to: u64) -> Result<Vec<Log>> {
        let mut pending = vec![(from, to)];
        let mut out = Vec::new();
        while let Some((a, b)) = pending.pop() {
            let filter = Filter::new().address(self.decoder.addresses()).from_block(a).to_block(b);
            match self.provider.get_logs(&filter).await {
                Ok(logs) => {
                    let span = b - a + 1;
                    if logs.len() > self.opts.target_logs.saturating_mul(2) && span > 1 {
                        // Dense blocks (a node that caps no response, e.g. anvil or a self-hosted node): aim the
                        // next ranges at `target_logs`, so memory and transaction size stay bounded.
                        let aimed = u128::from(span) * self.opts.target_logs as u128 / logs.len() as u128;
                        self.range.fetch_min(u64::try_from(aimed).unwrap_or(1).max(1), Ordering::Relaxed);
                    } else if logs.len() < self.opts.target_logs / 2 && span >= self.range.load(Ordering::Relaxed) {
                        let grown = (span * 2).min(self.opts.max_range);
                        self.range.fetch_max(grown, Ordering::Relaxed);
                    }
                    out.extend(logs);
                }
                Err(e) if a < b && too_large(&e.to_string()) => {
                    let mid = a + (b - a) / 2;
                    self.range.store((b - a + 1).div_ceil(2).max(1), Ordering::Relaxed);
                    // Popped last-in first: push the upper half first so blocks stay in order.
                    pending.push((mid + 1, b));
                    pending.push((a, mid));
                    tracing::debug!(from = a, to = b, "eth_getLogs range too large; halving");
                }
                Err(e) => return Err(self.rpc("eth_getLogs")(e)),
            }
        }
        out.sort_by_key(|l| (l.block_number, l.log_index));
        Ok(out)
    }
}

/// Whether `headers` hold every block of the range's window part (`from.max(window_start)..=to`), each the
/// parent of the next, and the first a child of the checkpoint `cp` when `cp` is its parent (a range that starts
/// inside the window; one straddling the window's start is checked from there, where the checkpoint is not the
/// parent). A missing header fails the check: a node answers `null` for a number above its head, as anvil does
/// while `anvil_reorg` rebuilds the last blocks, and skipping the gap would accept a range that follows the new
/// chain while the checkpoint's block (and everything stored below it) is from the old one; the reorg would then
/// never be seen.
fn one_chain(
    headers: &BTreeMap<u64, BlockRow>,
    from: u64,
    to: u64,
    window_start: u64,
    cp: Option<&Checkpoint>,
) -> bool {
    let first = from.max(window_start);
    let mut parent = cp.filter(|c| c.number + 1 == first).map(|c| c.hash.as_str());
    for n in first..=to {
        let Some(h) = headers.get(&n) else { return false };
        if parent.is_some_and(|p| p != h.parent_hash) {
            return false;
        }
        parent = Some(&h.hash);
    }
    true
}

/// Whether the follower must stop (the operator has to act) rather than retry.
pub fn is_fatal(e: &Error) -> bool {
    matches!(
        e,
        Error::ChainReset { .. }
            | Error::DeepReorg { .. }
            | Error::WrongChain { .. }
            | Error::OtherDeployment { .. }
            | Error::Corrupt { .. }
            | Error::Migrate(_)
    )
}

/// `BenchJobMarket` in a bench deployments file is decoded as `JobMarket` (the helper emits JobMarket's own
/// event types, see `indexer/benches`).
fn bench_alias(name: &str) -> String {
    name.strip_prefix("Bench").unwrap_or(name).to_string()
}

/// The texts nodes use for an `eth_getLogs` range that is too large (geth, anvil, Erigon, Alchemy, Infura,
/// QuickNode, OP Stack's proxyd).
fn too_large(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "query returned more than",
        "too many",
        "response size",
        "limit exceeded",
        "exceeds",
        "range is too large",
        "block range",
        "query timeout",
        "request timed out",
        "log response size",
        "more than 10000 results",
    ]
    .iter()
    .any(|p| t.contains(p))
}

const EVENT_COLUMNS: &[&str] = &[
    "chain_id",
    "block_number",
    "block_hash",
    "tx_hash",
    "tx_index",
    "log_index",
    "address",
    "contract",
    "event",
    "topics",
    "data",
    "error",
];

/// The raw rows of some logs (events and the accounts they name), built apart from the database: during a
/// backfill this runs beside the previous range's commit.
#[derive(Debug, Default)]
pub struct Prepared {
    /// `events` rows ([`EVENT_COLUMNS`]).
    events: Vec<Vec<Val>>,
    /// `event_accounts` rows.
    accounts: Vec<Vec<Val>>,
    /// Per log: the event's name (empty when undecodable or pending).
    names: Vec<String>,
    /// Logs that did not decode, described (counted when they are stored).
    undecodable: Vec<String>,
}

/// Decodes `logs` into their raw rows. Pending logs (no block) are skipped: a mined range has none.
pub fn prepare(decoder: &Decoder, chain_id: u64, logs: &[Log]) -> Prepared {
    let mut p = Prepared { events: Vec::with_capacity(logs.len()), ..Default::default() };
    for log in logs {
        let (Some(block), Some(block_hash), Some(tx_hash), Some(log_index)) =
            (log.block_number, log.block_hash, log.transaction_hash, log.log_index)
        else {
            p.names.push(String::new());
            continue;
        };
        let pos = (i64::try_from(block).unwrap_or(i64::MAX), i64::try_from(log_index).unwrap_or(i64::MAX));
        let address = log.address();
        let contract = decoder.contract(&address).unwrap_or("unknown");
        let (event, error) = match decoder.accounts(address, log.data()) {
            Ok((event, accounts)) => {
                for (roles, account) in accounts {
                    p.accounts.push(vec![lower_hex(&account).into(), pos.0.into(), pos.1.into(), roles.into()]);
                }
                (event.to_string(), None)
            }
            Err(e) => {
                p.undecodable.push(format!("block {block} tx {tx_hash} log {log_index}: {e}"));
                ("?".to_string(), Some(e.to_string()))
            }
        };
        let mut topics = String::with_capacity(2 + 69 * log.topics().len());
        topics.push('[');
        for (i, t) in log.topics().iter().enumerate() {
            if i > 0 {
                topics.push(',');
            }
            topics.push_str("\"0x");
            topics.push_str(&hex::encode(t));
            topics.push('"');
        }
        topics.push(']');
        p.names.push(if error.is_some() { String::new() } else { event.clone() });
        p.events.push(vec![
            Val::from(chain_id),
            pos.0.into(),
            format!("{block_hash:#x}").into(),
            format!("{tx_hash:#x}").into(),
            log.transaction_index.unwrap_or(0).into(),
            pos.1.into(),
            lower_hex(&address).into(),
            contract.into(),
            event.into(),
            topics.into(),
            format!("0x{}", hex::encode(&log.data().data)).into(),
            Val::T(error),
        ]);
    }
    p
}

/// Decodes and stores `logs` (raw rows, account rows, projections) inside `conn`'s transaction. Shared by the
/// follower and `reindex` (which passes `store_raw = false`: the raw rows are already there). Returns how
/// many logs were applied.
pub async fn apply_logs(
    decoder: &Decoder,
    chain_id: u64,
    conn: &mut sqlx::AnyConnection,
    logs: &[Log],
    headers: &BTreeMap<u64, BlockRow>,
    metrics: &Metrics,
    store_raw: bool,
) -> Result<usize> {
    let prepared = prepare(decoder, chain_id, logs);
    apply_prepared(decoder, chain_id, conn, logs, prepared, headers, metrics, store_raw).await
}

/// [`apply_logs`] with the raw rows already prepared ([`prepare`]).
#[allow(clippy::too_many_arguments)]
async fn apply_prepared(
    decoder: &Decoder,
    chain_id: u64,
    conn: &mut sqlx::AnyConnection,
    logs: &[Log],
    prepared: Prepared,
    headers: &BTreeMap<u64, BlockRow>,
    metrics: &Metrics,
    store_raw: bool,
) -> Result<usize> {
    let Prepared { events, mut accounts, names, undecodable } = prepared;
    for detail in undecodable {
        tracing::warn!("undecodable log: {detail}");
        metrics.undecodable_log(detail);
    }
    let mut batch = Batch::default();
    for (log, event) in logs.iter().zip(&names) {
        let (Some(block), Some(log_index)) = (log.block_number, log.log_index) else { continue };
        if event.is_empty() {
            continue; // undecodable: stored raw, projected nowhere
        }
        let time = log.block_timestamp.or_else(|| headers.get(&block).map(|h| h.timestamp)).unwrap_or(0);
        let pos = (i64::try_from(block).unwrap_or(i64::MAX), i64::try_from(log_index).unwrap_or(i64::MAX));
        let address = log.address();
        let contract = decoder.contract(&address).unwrap_or("unknown");
        let cx = LogContext { contract, address, chain_id, pos, time, event };
        project::apply(&mut batch, conn, &cx, log.topics(), &log.data().data).await?;
    }
    batch.flush(conn).await?;
    if store_raw {
        insert_rows(conn, "events", EVENT_COLUMNS, &events).await?;
    }
    // One row per (account, event): `prepare` joins the roles of an address named twice.
    accounts.sort();
    accounts.dedup();
    insert_rows(conn, "event_accounts", &["account", "block_number", "log_index", "role"], &accounts).await?;
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use alloy::{
        primitives::{B256, U256},
        providers::ProviderBuilder,
        rpc::types::{Block, Header},
        transports::mock::Asserter,
    };

    use super::*;

    /// A `Source` over alloy's mocked transport: each RPC call takes the next queued answer.
    fn mocked_source(asserter: &Asserter) -> Source {
        Source {
            provider: ProviderBuilder::new().connect_mocked_client(asserter.clone()).erased(),
            url: "mock".into(),
            chain_id: 31337,
            deployment_block: 1,
            decoder: Arc::new(Decoder::new([("JobMarket".to_string(), Address::repeat_byte(1))])),
            opts: FollowerOptions::default(),
            metrics: Arc::new(Metrics::new()),
            range: AtomicU64::new(1000),
        }
    }

    /// Block `number` of the chain `tag` (its hash and its parent's derived from both).
    fn block(tag: u8, number: u64) -> Block {
        let hash = |n: u64| B256::from(U256::from(n) + U256::from(tag) * U256::from(1u64 << 32));
        let inner =
            alloy::consensus::Header { number, parent_hash: hash(number - 1), timestamp: number, ..Default::default() };
        Block { header: Header { hash: hash(number), inner, ..Default::default() }, ..Default::default() }
    }

    /// Issue #14: a range below the reorg window (blocks 10 to 20, the window from 100) is stored only when its
    /// last block kept its hash while the logs were read and the checkpoint it follows is still canonical; a reorg
    /// deeper than the window in the middle of the fetch makes it fetch again (`None`), never store logs of two
    /// chains. The calls in order: `to`'s header, the logs, `to`'s header again, the checkpoint's header.
    #[tokio::test]
    async fn a_range_below_the_window_is_held_to_one_chain_by_hashes() {
        let asserter = Asserter::new();
        let src = mocked_source(&asserter);
        let checkpoint = Some(Checkpoint { number: 9, hash: block(0, 9).header.hash.to_string() });
        let no_logs: Vec<Log> = Vec::new();

        for (answers, stored, what) in [
            ([block(0, 20), block(0, 20), block(0, 9)], true, "one chain"),
            ([block(0, 20), block(1, 20), block(0, 9)], false, "the last block changed during the logs"),
            ([block(1, 20), block(1, 20), block(1, 9)], false, "the checkpoint is gone"),
        ] {
            asserter.push_success(&answers[0]);
            asserter.push_success(&no_logs);
            asserter.push_success(&answers[1]);
            // Not asked when the last block already changed.
            if stored || answers[0].header.hash == answers[1].header.hash {
                asserter.push_success(&answers[2]);
            }
            let fetched = src.fetch(10, 20, 100, checkpoint.clone()).await.unwrap();
            assert_eq!(fetched.is_some(), stored, "{what}");
            assert!(asserter.read_q().is_empty(), "{what}: every queued answer read, no other call");
        }
    }

    /// Blocks `numbers` of one chain: block n's hash is `{tag}n`, its parent's `{tag}(n-1)`.
    fn chain(tag: &str, numbers: impl IntoIterator<Item = u64>) -> BTreeMap<u64, BlockRow> {
        numbers
            .into_iter()
            .map(|n| {
                let row = BlockRow {
                    number: n,
                    hash: format!("{tag}{n}"),
                    parent_hash: format!("{tag}{}", n - 1),
                    timestamp: n,
                };
                (n, row)
            })
            .collect()
    }

    fn cp(hash: &str, number: u64) -> Checkpoint {
        Checkpoint { number, hash: hash.to_string() }
    }

    #[test]
    fn a_range_is_one_chain_only_when_every_header_is_there_and_linked() {
        let old = cp("old340", 340);
        let check = |headers: &BTreeMap<u64, BlockRow>, cp: Option<&Checkpoint>| one_chain(headers, 341, 363, 300, cp);
        assert!(check(&chain("old", 341..=363), Some(&old)), "the old chain continues the checkpoint");
        assert!(!check(&chain("new", 341..=363), Some(&old)), "the new chain does not link to it");
        // The case the random reorg suite met on PostgreSQL: block 341 answered `null` while anvil_reorg rebuilt
        // the chain, the rest came from the new chain. Without 341 nothing links 342 to the checkpoint.
        let mut gap = chain("new", 342..=363);
        assert!(!check(&gap, Some(&old)), "a missing first header is refused");
        gap.extend(chain("old", 341..=341));
        assert!(!check(&gap, Some(&old)), "an old header under new ones is refused");
        let mut hole = chain("old", 341..=363);
        hole.remove(&350);
        assert!(!check(&hole, Some(&old)), "a missing header inside the range is refused");
        assert!(check(&chain("new", 341..=363), None), "without a checkpoint only the links count");
    }

    #[test]
    fn a_range_straddling_the_window_start_is_checked_from_there_without_the_checkpoint_link() {
        // From 300 (checkpoint 299) to 363 with the window from 320: headers exist from 320 only (below the
        // window `fetch` asks for none), and 320's parent is 319, not the checkpoint.
        let checkpoint = cp("old299", 299);
        let window = chain("old", 320..=363);
        assert!(one_chain(&window, 300, 363, 320, Some(&checkpoint)), "the window part, linked within");
        let mut broken = window.clone();
        broken.extend(chain("new", 340..=363));
        assert!(!one_chain(&broken, 300, 363, 320, Some(&checkpoint)), "a break inside the window part");
        // From 320 exactly, the checkpoint (319) is the parent again and must match.
        assert!(one_chain(&window, 320, 363, 320, Some(&cp("old319", 319))), "linked to its checkpoint");
        assert!(!one_chain(&window, 320, 363, 320, Some(&cp("new319", 319))), "not linked to another");
    }
}
