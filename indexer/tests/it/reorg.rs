//! Reorgs against a real anvil: `anvil_reorg` (the last blocks re-mined, sometimes with other transactions)
//! and `evm_snapshot`/`evm_revert` (the head goes back) at random depths up to the 64-block window, then the
//! named cases: a reorg that removes an event, a reorg while the indexer is down, three reorgs in quick
//! succession, the head going backwards, a reorg deeper than the window and a chain reset. After each, the
//! followed database must equal a clean index of the final chain, row for row.

use std::{sync::Arc, time::Duration};

use alloy::providers::{DynProvider, Provider};
use cairn_indexer::{
    Error,
    follower::{Follower, FollowerOptions, Step},
    metrics::Metrics,
    store::Store,
};
use serde_json::json;
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    Net,
    r#gen::{Action, Gen, Rng, Scene, assert_same_rows, database_dump, head, mine, reorg, revert, rpc, snapshot},
    sqlite_url,
};

/// Test options: the default window (64) and finality, fast polling.
/// A chain that got shorter (`evm_revert` without new blocks) is rolled back at once (no `behind_grace`).
pub(crate) fn test_options() -> FollowerOptions {
    FollowerOptions {
        poll_interval: Duration::from_millis(20),
        behind_grace: Some(Duration::ZERO),
        ..Default::default()
    }
}

/// A follower of `net` through `rpc_url` into the database `db`, with its metrics.
pub(crate) async fn follower_at(net: &Net, rpc_url: &str, db: &str, opts: FollowerOptions) -> (Follower, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    (net.follower_at(rpc_url, db, opts, metrics.clone()).await, metrics)
}

/// A follower `run`ning in a task, as `cairn-indexer run` does.
pub(crate) struct Running {
    pub(crate) follower: Arc<Follower>,
    pub(crate) metrics: Arc<Metrics>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<cairn_indexer::Result<()>>,
}

impl Running {
    pub(crate) fn start(follower: Follower, metrics: Arc<Metrics>) -> Self {
        Self::resume(Arc::new(follower), metrics)
    }

    pub(crate) fn resume(follower: Arc<Follower>, metrics: Arc<Metrics>) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let f = follower.clone();
        let task = tokio::spawn(async move {
            f.run(async {
                let _ = stopped.await;
            })
            .await
        });
        Self { follower, metrics, stop: Some(stop), task }
    }

    /// Waits until the checkpoint is the head (same hash) of the chain `p` serves; panics when the follower
    /// stopped or after 120 s.
    pub(crate) async fn caught_up(&self, p: &DynProvider) {
        let started = std::time::Instant::now();
        loop {
            let (n, hash) = head(p).await;
            let cp = self.follower.store().checkpoint().await.unwrap();
            if cp.as_ref().is_some_and(|c| c.hash == hash) {
                return;
            }
            assert!(!self.task.is_finished(), "the follower stopped: {:?}", self.metrics.last_error());
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the follower did not reach head {n} in 120 s (checkpoint {cp:?}, last error {:?})",
                self.metrics.last_error()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether `run` has returned.
    pub(crate) fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until caught up, stops `run`, and steps once more to the head. (When the head went back to a block
    /// the follower had already indexed, "caught up" can be seen while a step that fetched the abandoned blocks
    /// is still in flight: it commits them, and only the next step rolls them back.)
    pub(crate) async fn settle(self, p: &DynProvider) -> (Arc<Follower>, Arc<Metrics>) {
        self.caught_up(p).await;
        let (follower, metrics) = (self.follower.clone(), self.metrics.clone());
        self.stop().await.unwrap();
        crate::sync(&follower).await;
        (follower, metrics)
    }

    /// Asks `run` to stop and returns what it returned.
    pub(crate) async fn stop(mut self) -> cairn_indexer::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.task).await.expect("run stops when asked").unwrap()
    }
}

/// Indexes the chain from scratch into the empty database `db` and dumps it.
pub(crate) async fn clean_dump(net: &Net, db: &str) -> Vec<String> {
    let (f, _) = follower_at(net, net.anvil.url(), db, test_options()).await;
    crate::sync(&f).await;
    let dump = database_dump(f.store().pool()).await;
    f.store().pool().close().await;
    dump
}

/// Asserts `store` holds exactly what a clean index of the chain into `clean_db` holds.
pub(crate) async fn assert_matches_clean(net: &Net, store: &Store, clean_db: &str, context: &str) {
    let followed = database_dump(store.pool()).await;
    let clean = clean_dump(net, clean_db).await;
    assert!(clean.iter().any(|l| l.starts_with("events|")), "{context}: the clean index holds no event");
    assert_same_rows(&followed, &clean, context);
}

/// `n` transactions that can replace blocks of a reorg `depth` deep, at random offsets among the new blocks.
fn replacements(actors: &Gen, rng: &mut Rng, depth: u64, n: u64) -> Vec<(Action, u64)> {
    (0..n).map(|_| (actors.independent(rng), rng.range(0, depth - 1))).collect()
}

/// The random suite: `rounds` rounds of events, a reorg or a revert at a random depth 1–64 (the follower
/// caught up or not), maybe more events, then the followed database against a clean index. `db(name)` makes
/// an empty database and returns its URL.
///
/// anvil 1.7.1 sometimes loses the contracts' state in an `anvil_reorg` after a series of reorgs and reverts
/// (their code is gone at the new head, though `eth_getCode` at the common block still shows it). The suite
/// then continues on a fresh devnet and follower, and says how often that happened.
pub(crate) async fn random_rounds(db: impl Fn(&str) -> String, rounds: usize) {
    let mut rng = Rng::seeded("random reorgs");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let (mut reorgs, mut reverts, mut replaced, mut rolled_back, mut devnets) = (0, 0, 0, 0, 0);
    let mut round = 0;
    while round < rounds {
        devnets += 1;
        let net = Net::start().await;
        let actors = Gen::new(&net).await;
        let p = net.deployer.provider().clone();
        let (f, metrics) =
            follower_at(&net, net.anvil.url(), &db(&format!("followed_{devnets}")), test_options()).await;
        let mut running = Running::start(f, metrics);
        while round < rounds {
            actors.some_events(&mut rng).await;
            mine(&p, if rng.chance(30) { rng.range(1, 30) } else { 0 }).await;
            if rng.chance(50) {
                running.caught_up(&p).await;
            }
            let depth = rng.range(1, 64);
            let what = if rng.chance(60) {
                let n = if rng.chance(60) { rng.range(1, 4) } else { 0 };
                let txs = replacements(&actors, &mut rng, depth, n);
                replaced += txs.len();
                reorgs += 1;
                reorg(&p, depth, &txs).await;
                format!("anvil_reorg depth {depth} with {} new transactions", txs.len())
            } else {
                let id = snapshot(&p).await;
                let base = head(&p).await.0;
                if rng.chance(70) {
                    actors.some_events(&mut rng).await;
                }
                let made = head(&p).await.0 - base;
                mine(&p, depth.saturating_sub(made)).await;
                if rng.chance(50) {
                    running.caught_up(&p).await;
                }
                revert(&p, id).await;
                reverts += 1;
                format!("evm_revert of {} blocks", depth.max(made))
            };
            if rng.chance(50) && !anvil_lost_state(&net, &p, round, &what).await {
                actors.some_events(&mut rng).await;
            }
            eprintln!("round {round}: {what}, head now {}", head(&p).await.0);
            let (follower, metrics) = running.settle(&p).await;
            let context = format!("round {round} ({what})");
            assert_matches_clean(&net, follower.store(), &db(&format!("clean_{round}")), &context).await;
            round += 1;
            if anvil_lost_state(&net, &p, round, &what).await {
                rolled_back += metrics.reorgs.get();
                break;
            }
            if round == rounds {
                rolled_back += metrics.reorgs.get();
                break;
            }
            running = Running::resume(follower, metrics);
        }
    }
    eprintln!(
        "{rounds} rounds on {devnets} devnet(s): {reorgs} reorgs ({replaced} replacement transactions), {reverts} \
         reverts; the followers rolled back {rolled_back} times"
    );
    assert!(rolled_back > 0, "no reorg reached the follower");
}

/// Whether anvil lost the contracts' code (see [`random_rounds`]).
async fn anvil_lost_state(net: &Net, p: &DynProvider, round: usize, what: &str) -> bool {
    let lost = p.get_code_at(net.address("JobMarket")).await.unwrap().is_empty();
    if lost {
        eprintln!("round {round}: anvil lost the contracts' state in {what}; going on with a fresh devnet");
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_reorgs_and_reverts_end_equal_to_a_clean_index() {
    let rounds = cairn_testkit::TestProfile::from_env().pick(10, 100);
    let dir = tempfile::tempdir().unwrap();
    random_rounds(|name| sqlite_url(&dir, &format!("{name}.db")), rounds).await;
}

/// The current `stake` of the operator `address` in the projection.
async fn stake_of(store: &Store, address: alloy::primitives::Address) -> String {
    let data: String = sqlx::query_scalar("SELECT data FROM operators WHERE id = $1 AND superseded_block IS NULL")
        .bind(format!("{address:#x}"))
        .fetch_one(store.pool())
        .await
        .unwrap();
    serde_json::from_str::<serde_json::Value>(&data).unwrap()["stake"].as_str().unwrap().to_string()
}

async fn events_of_tx(store: &Store, tx: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE tx_hash = $1").bind(tx).fetch_one(store.pool()).await.unwrap()
}

#[tokio::test]
async fn a_reorg_that_removes_an_event_undoes_it() {
    let net = Net::start().await;
    let actors = Gen::new(&net).await;
    let p = net.deployer.provider().clone();
    let dir = tempfile::tempdir().unwrap();
    let (f, metrics) = follower_at(&net, net.anvil.url(), &sqlite_url(&dir, "ix.db"), test_options()).await;
    let running = Running::start(f, metrics);
    running.caught_up(&p).await;
    let operator = actors.staker(0);
    let before = stake_of(running.follower.store(), operator).await;

    let receipt = actors.send(&actors.add_stake(0, 12_345)).await;
    let tx = receipt.transaction_hash.to_string();
    running.caught_up(&p).await;
    assert_eq!(events_of_tx(running.follower.store(), &tx).await, 1, "the StakeAdded event is indexed");
    assert_ne!(stake_of(running.follower.store(), operator).await, before);

    // The block that held it is replaced by an empty one: no Cairn log any more.
    assert_eq!(head(&p).await.0, receipt.block_number.unwrap());
    reorg(&p, 1, &[]).await;
    running.caught_up(&p).await;
    assert_eq!(events_of_tx(running.follower.store(), &tx).await, 0, "the removed event is gone");
    assert_eq!(stake_of(running.follower.store(), operator).await, before, "the stake is back to what it was");
    assert_eq!(running.metrics.reorgs.get(), 1);
    assert_matches_clean(&net, running.follower.store(), &sqlite_url(&dir, "clean.db"), "after the reorg").await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_reorg_while_the_indexer_is_down_is_found_at_restart() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("reorg while down").await;
    let db = sqlite_url(&dir, "ix.db");
    let (f, _) = follower_at(&net, net.anvil.url(), &db, test_options()).await;
    for _ in 0..3 {
        actors.some_events(&mut rng).await;
    }
    crate::sync(&f).await;
    let stopped_at = f.store().checkpoint().await.unwrap().unwrap();
    drop(f);

    // While it is down: a reorg of the blocks it indexed (other transactions in them), and new events.
    let depth = rng.range(3, 12);
    let txs = replacements(&actors, &mut rng, depth, 3);
    reorg(&p, depth, &txs).await;
    actors.some_events(&mut rng).await;

    let (f, metrics) = follower_at(&net, net.anvil.url(), &db, test_options()).await;
    assert_eq!(f.step().await.unwrap(), Step::Reorged { fork: stopped_at.number - depth, from: stopped_at.number });
    crate::sync(&f).await;
    assert_eq!(metrics.reorgs.get(), 1);
    assert_matches_clean(&net, f.store(), &sqlite_url(&dir, "clean.db"), "after the restart").await;
}

#[tokio::test]
async fn three_reorgs_in_quick_succession_end_equal_to_a_clean_index() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("three reorgs").await;
    let (f, metrics) = follower_at(&net, net.anvil.url(), &sqlite_url(&dir, "ix.db"), test_options()).await;
    let running = Running::start(f, metrics);
    for _ in 0..4 {
        actors.some_events(&mut rng).await;
    }
    running.caught_up(&p).await;
    for i in 0..3 {
        let depth = rng.range(2, 10);
        let n = rng.range(1, 3);
        let txs = replacements(&actors, &mut rng, depth, n);
        reorg(&p, depth, &txs).await;
        eprintln!("reorg {i}: depth {depth}, {} new transactions", txs.len());
        tokio::time::sleep(Duration::from_millis(rng.range(0, 40))).await;
    }
    running.caught_up(&p).await;
    assert!(running.metrics.reorgs.get() >= 1);
    assert_matches_clean(&net, running.follower.store(), &sqlite_url(&dir, "clean.db"), "after three reorgs").await;
    running.stop().await.unwrap();
}

/// A node behind the checkpoint (a load balancer's lagging backend; here an anvil forked from the chain four
/// blocks below the follower's checkpoint: it serves the same blocks up to there and `null` above) is waited
/// for: nothing rolled back, no reorg counted, `node_behind_blocks` set; the follower on the up-to-date node
/// is unaffected. Past `behind_grace` it is taken as a shorter chain and rolled back to its head. A lagging node
/// that mined a block of its own at a stored height has reorged: rolled back at once, whatever the grace.
#[tokio::test]
async fn a_node_behind_the_checkpoint_is_waited_for_and_not_taken_for_a_reorg() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("node behind").await;
    let db = sqlite_url(&dir, "ix.db");
    let (f, _) = follower_at(&net, net.anvil.url(), &db, test_options()).await;
    for _ in 0..3 {
        actors.some_events(&mut rng).await;
    }
    mine(&p, 4).await;
    crate::sync(&f).await;
    let cp = f.store().checkpoint().await.unwrap().unwrap();
    let held = database_dump(f.store().pool()).await;
    let lagging_node = |at: u64| {
        let url = net.anvil.url().to_string();
        async move {
            let at = at.to_string();
            cairn_testkit::Anvil::start_with(31337, &["--fork-url", &url, "--fork-block-number", &at]).await.unwrap()
        }
    };
    let node = lagging_node(cp.number - 4).await;
    let patient = FollowerOptions { behind_grace: None, ..test_options() };
    let (lagging, metrics) = follower_at(&net, node.url(), &db, patient.clone()).await;
    for _ in 0..3 {
        assert_eq!(
            lagging.step().await.unwrap(),
            Step::Behind { head: cp.number - 4, checkpoint: cp.number },
            "a node four blocks behind is waited for"
        );
    }
    assert_eq!(metrics.node_behind.get(), 4, "node_behind_blocks");
    assert_eq!(metrics.reorgs.get(), 0, "no reorg counted");
    assert_same_rows(&database_dump(f.store().pool()).await, &held, "while the node was behind");
    assert_eq!(f.step().await.unwrap(), Step::CaughtUp { head: cp.number }, "the up-to-date node's follower");

    // Past the grace: a shorter chain, rolled back to the lagging node's head (and re-indexed from the real one).
    let (impatient, metrics) =
        follower_at(&net, node.url(), &db, FollowerOptions { behind_grace: Some(Duration::ZERO), ..test_options() })
            .await;
    assert_eq!(impatient.step().await.unwrap(), Step::Reorged { fork: cp.number - 4, from: cp.number });
    assert_eq!((metrics.reorgs.get(), metrics.node_behind.get()), (1, 0), "one reorg; not waiting any more");
    crate::sync(&f).await;
    assert_matches_clean(&net, f.store(), &sqlite_url(&dir, "clean-1.db"), "after the rollback").await;

    // A lagging node that mined a block of its own at a stored height: a reorg, rolled back at once.
    actors.some_events(&mut rng).await;
    mine(&p, 4).await;
    crate::sync(&f).await;
    let cp = f.store().checkpoint().await.unwrap().unwrap();
    let node = lagging_node(cp.number - 4).await;
    let fp = alloy::providers::ProviderBuilder::new().connect_http(node.url().parse().unwrap()).erased();
    let latest = fp.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await.unwrap().expect("a head");
    assert_eq!(latest.header.number, cp.number - 4, "the lagging node's head");
    let later = latest.header.timestamp + 1_000;
    rpc(&fp, "evm_setNextBlockTimestamp", json!([later])).await;
    mine(&fp, 1).await;
    let (lagging, metrics) = follower_at(&net, node.url(), &db, patient).await;
    assert_eq!(lagging.step().await.unwrap(), Step::Reorged { fork: cp.number - 4, from: cp.number });
    assert_eq!(metrics.reorgs.get(), 1, "rolled back without waiting");
    crate::sync(&f).await;
    assert_matches_clean(&net, f.store(), &sqlite_url(&dir, "clean-2.db"), "after the lagging node's reorg").await;
}

#[tokio::test]
async fn the_head_going_backwards_rolls_back_to_it() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("head backwards").await;
    let (f, _) = follower_at(&net, net.anvil.url(), &sqlite_url(&dir, "ix.db"), test_options()).await;
    crate::sync(&f).await;
    let id = snapshot(&p).await;
    let (back_to, back_hash) = head(&p).await;
    for _ in 0..3 {
        actors.some_events(&mut rng).await;
    }
    mine(&p, 5).await;
    crate::sync(&f).await;
    let cp = f.store().checkpoint().await.unwrap().unwrap();
    assert!(cp.number > back_to);

    revert(&p, id).await;
    assert_eq!(head(&p).await.0, back_to, "evm_revert moved the head back");
    assert_eq!(f.step().await.unwrap(), Step::Reorged { fork: back_to, from: cp.number });
    crate::sync(&f).await;
    let now = f.store().checkpoint().await.unwrap().unwrap();
    assert_eq!((now.number, now.hash), (back_to, back_hash));
    let above: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE block_number > $1")
        .bind(back_to as i64)
        .fetch_one(f.store().pool())
        .await
        .unwrap();
    assert_eq!(above, 0, "nothing above the new head");
    assert_matches_clean(&net, f.store(), &sqlite_url(&dir, "clean-1.db"), "after the revert").await;

    // Other events at the same heights.
    actors.some_events(&mut rng).await;
    crate::sync(&f).await;
    assert_matches_clean(&net, f.store(), &sqlite_url(&dir, "clean-2.db"), "after new events").await;
}

#[tokio::test]
async fn a_reorg_as_deep_as_the_window_after_a_jump_is_rolled_back() {
    // The follower indexes 100 new blocks in one step (it was behind), then exactly the window's 64 blocks
    // are replaced: the fork point, 65th from the head, must still be among the stored headers.
    let Scene { mut rng, net, actors, p, dir } = Scene::start("window-deep reorg").await;
    let (f, _) = follower_at(&net, net.anvil.url(), &sqlite_url(&dir, "ix.db"), test_options()).await;
    crate::sync(&f).await;
    actors.some_events(&mut rng).await;
    mine(&p, 100).await;
    crate::sync(&f).await;
    let cp = f.store().checkpoint().await.unwrap().unwrap();
    // A transaction in the first new block, so every replaced block differs (anvil re-mines empty blocks of
    // the same parent and time identically).
    let mut txs = replacements(&actors, &mut rng, 64, 2);
    txs[0].1 = 0;
    reorg(&p, 64, &txs).await;
    assert_eq!(f.step().await.unwrap(), Step::Reorged { fork: cp.number - 64, from: cp.number });
    crate::sync(&f).await;
    assert_matches_clean(&net, f.store(), &sqlite_url(&dir, "clean.db"), "after a 64-block reorg").await;
}

/// Everything the follower stored, checkpoint included.
async fn whole_dump(store: &Store) -> (Vec<String>, Option<cairn_indexer::store::Checkpoint>) {
    (database_dump(store.pool()).await, store.checkpoint().await.unwrap())
}

#[tokio::test]
async fn a_reorg_deeper_than_the_window_stops_the_follower_and_changes_nothing() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("deep reorg").await;
    let opts = FollowerOptions { reorg_window: 8, ..test_options() };
    let (f, metrics) = follower_at(&net, net.anvil.url(), &sqlite_url(&dir, "ix.db"), opts).await;
    for _ in 0..3 {
        actors.some_events(&mut rng).await;
    }
    crate::sync(&f).await;
    let before = whole_dump(f.store()).await;
    let cp = before.1.clone().unwrap();

    let txs = replacements(&actors, &mut rng, 20, 2);
    reorg(&p, 20, &txs).await;
    match f.step().await {
        Err(Error::DeepReorg { window: 8, from, to }) => assert_eq!((from, to), (cp.number, cp.number - 8)),
        other => panic!("expected DeepReorg, got {other:?}"),
    }
    assert_eq!(whole_dump(f.store()).await, before, "nothing changed");
    // `run` stops on it too, and says so.
    let running = Running::start(f, metrics);
    let started = std::time::Instant::now();
    while !running.is_finished() {
        assert!(started.elapsed() < Duration::from_secs(30), "run did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = running.metrics.clone();
    let err = running.stop().await.unwrap_err();
    assert!(matches!(err, Error::DeepReorg { .. }), "{err}");
    assert!(err.to_string().contains("--reorg-window"), "the error says what to do: {err}");
    assert_eq!(metrics.role(), -1);
    assert!(metrics.last_error().is_some_and(|(_, e)| e.contains("deeper than the 8-block window")));
}

#[tokio::test]
async fn a_chain_reset_stops_the_follower_and_a_restarted_anvil_is_refused() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("chain reset").await;
    let db = sqlite_url(&dir, "ix.db");
    let (f, metrics) = follower_at(&net, net.anvil.url(), &db, test_options()).await;
    let running = Running::start(f, metrics);
    actors.some_events(&mut rng).await;
    running.caught_up(&p).await;
    let before = whole_dump(running.follower.store()).await;

    // anvil_reset: the same node, a new chain from genesis.
    rpc(&p, "anvil_reset", json!([])).await;
    mine(&p, 3).await;
    let started = std::time::Instant::now();
    while !running.is_finished() {
        assert!(started.elapsed() < Duration::from_secs(30), "run did not stop on a chain reset");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = running.follower.store().clone();
    let err = running.stop().await.unwrap_err();
    assert!(matches!(err, Error::ChainReset { .. }), "{err}");
    assert!(err.to_string().contains("cairn-indexer reset"), "the error says what to do: {err}");
    assert_eq!(whole_dump(&store).await, before, "nothing changed");

    // A restarted anvil (another process, a fresh chain longer than the deployment block) is refused at start.
    let other = cairn_testkit::Anvil::start().await.unwrap();
    let other_p = alloy::providers::ProviderBuilder::new().connect_http(other.url().parse().unwrap()).erased();
    mine(&other_p, net.deployments.deployment_block + 10).await;
    let store = Store::open(&db).await.unwrap();
    match Follower::new(store.clone(), other.url(), &net.deployments, test_options(), Arc::new(Metrics::new())).await {
        Err(Error::ChainReset { block, .. }) => assert_eq!(block, net.deployments.deployment_block),
        other => panic!("expected ChainReset, got {:?}", other.map(|_| ())),
    }
    assert_eq!(whole_dump(&store).await, before, "nothing changed");
}
