//! Crashes and faults. `kill -9` of the real `cairn-indexer run` at random instants while a history of more
//! than 10,000 events is built: after every kill the database holds exactly the chain's logs up to its
//! checkpoint (no partial range, no duplicate, no gap), and in the end it equals a clean index. Then the
//! faults: the RPC node unreachable and back, a deployments file of another chain, a locked and a missing
//! database, and two writers on one database.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use cairn_indexer::{Error, follower::Follower, metrics::Metrics, store::Store};
use sqlx::{Connection, Row};
use tokio::{
    net::{TcpListener, TcpSocket, TcpStream},
    task::JoinHandle,
};

use crate::{
    Net,
    r#gen::{Gen, Rng, Scene, chain_logs, head},
    reorg::{Running, assert_matches_clean, follower_at, test_options},
    sqlite_url,
};

// ---------------------------------------------------------------------------------------------------------------
// kill -9

/// The `cairn-indexer run` binary on `db`, its log appended to `log`.
fn spawn_indexer(net: &Net, deployments: &Path, db: &str, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_cairn-indexer"))
        .args(["run", "--rpc-url", net.anvil.url(), "--db", db, "--listen", "127.0.0.1:0"])
        .arg("--deployments")
        .arg(deployments)
        .args(["--poll-interval-ms", "20"])
        .env("CAIRN_LOG", "info,cairn_indexer=debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// `net`'s deployments as a file in `dir`.
fn deployments_file(net: &Net, dir: &Path) -> PathBuf {
    let path = dir.join("deployments.json");
    std::fs::write(&path, serde_json::to_string_pretty(&net.deployments).unwrap()).unwrap();
    path
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The stored events, as `(block, log index)` in order, and the checkpoint's block.
async fn stored(store: &Store) -> (Vec<(u64, u64)>, Option<u64>) {
    let rows = sqlx::query("SELECT block_number, log_index FROM events ORDER BY block_number, log_index")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let events = rows.iter().map(|r| (r.get::<i64, _>(0) as u64, r.get::<i64, _>(1) as u64)).collect();
    (events, store.checkpoint().await.unwrap().map(|c| c.number))
}

/// After a crash: the database holds exactly the chain's logs from the deployment block to its checkpoint.
async fn assert_whole(net: &Net, db: &str, context: &str) -> usize {
    let store = Store::open(db).await.unwrap();
    let (events, cp) = stored(&store).await;
    store.pool().close().await;
    let Some(cp) = cp else {
        assert!(events.is_empty(), "{context}: events stored without a checkpoint");
        return 0;
    };
    let chain = chain_logs(net, cp).await;
    if events != chain {
        let missing = chain.iter().filter(|e| events.binary_search(e).is_err()).count();
        let extra = events.iter().filter(|e| chain.binary_search(e).is_err()).count();
        panic!(
            "{context}: checkpoint {cp}: {} events stored, the chain has {} up to it ({missing} missing, {extra} \
             not on the chain or duplicated)",
            events.len(),
            chain.len()
        );
    }
    events.len()
}

/// Waits until the database's checkpoint is the chain's head; panics after `limit`.
async fn wait_indexed(net: &Net, db: &str, child: &mut Child, log: &Path, limit: Duration) {
    let store = Store::open(db).await.unwrap();
    let started = Instant::now();
    loop {
        let (_, hash) = head(net.deployer.provider()).await;
        if store.checkpoint().await.unwrap().is_some_and(|c| c.hash == hash) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("cairn-indexer exited ({status}):\n{}", tail(log));
        }
        assert!(started.elapsed() < limit, "not caught up in {limit:?}:\n{}", tail(log));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.pool().close().await;
}

/// The kill suite on `db`: a first 1,000 events, then `rounds` runs of the binary killed at random instants
/// while the rest (to 10,000) arrives, then a last run to the head, compared with a clean index into
/// `clean_db`.
pub(crate) async fn kill_rounds(db: &str, clean_db: &str, rounds: usize) {
    const FIRST: usize = 1_000;
    const TOTAL: usize = 10_000;
    let mut rng = Rng::seeded("kill -9");
    let net = Net::start().await;
    let actors = Gen::new(&net).await;
    let dir = tempfile::tempdir().unwrap();
    let deployments = deployments_file(&net, dir.path());
    let log = dir.path().join("indexer.log");
    let started = Instant::now();
    actors.flood(FIRST, 100, Duration::ZERO).await;
    eprintln!("{FIRST} events in {:?}", started.elapsed());
    let flood = |txs: usize| {
        let actors = actors.clone();
        tokio::spawn(async move { actors.flood(txs, 40, Duration::from_millis(20)).await })
    };
    let mut floods = vec![flood(TOTAL - FIRST)];
    let mut killed_with = Vec::new();
    // Even rounds kill at a blind instant up to `span` (doubled after a run that stored nothing: a debug build
    // on a busy machine takes seconds for its first thousands of events); odd rounds just after a commit.
    let (mut span, mut stored_before) = (4_000, 0);
    for round in 0..rounds {
        let mut child = spawn_indexer(&net, &deployments, db, &log);
        let started = Instant::now();
        if round % 2 == 1 {
            // Once it has committed something new, while it follows the flood (a commit every few blocks); the
            // chain keeps moving after the main flood ended.
            if floods.iter().all(|f| f.is_finished()) {
                floods.push(flood(400));
            }
            let reader = Store::open(db).await.unwrap();
            let before = reader.checkpoint().await.unwrap().map(|c| c.number);
            while reader.checkpoint().await.unwrap().map(|c| c.number) == before {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!("round {round}: cairn-indexer exited by itself ({status}):\n{}", tail(&log));
                }
                assert!(started.elapsed() < Duration::from_secs(180), "round {round}: no commit:\n{}", tail(&log));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            reader.pool().close().await;
            tokio::time::sleep(Duration::from_millis(rng.range(0, 400))).await;
        } else {
            // At a blind instant: during start-up (migrations, the writer lock), a backfill or a commit.
            let after = if rng.chance(20) { rng.range(0, 500) } else { rng.range(500, span) };
            tokio::time::sleep(Duration::from_millis(after)).await;
        }
        let after = started.elapsed().as_millis();
        if let Some(status) = child.try_wait().unwrap() {
            panic!("round {round}: cairn-indexer exited by itself ({status}):\n{}", tail(&log));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let n = assert_whole(&net, db, &format!("round {round}, killed after {after} ms")).await;
        killed_with.push((after, n));
        if n == stored_before && !floods.iter().all(|f| f.is_finished()) {
            span = (span * 2).min(30_000);
        }
        stored_before = n;
        tokio::time::sleep(Duration::from_millis(rng.range(0, 300))).await;
    }
    eprintln!("killed after (ms, events stored): {killed_with:?}");
    if std::env::var_os("CAIRN_TEST_SHOW_LOG").is_some() {
        eprintln!("{}", std::fs::read_to_string(&log).unwrap_or_default());
    }
    for f in floods {
        f.await.unwrap();
    }
    let mut child = spawn_indexer(&net, &deployments, db, &log);
    wait_indexed(&net, db, &mut child, &log, Duration::from_secs(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let (head_number, _) = head(net.deployer.provider()).await;
    let n = assert_whole(&net, db, "at the end").await;
    assert_eq!(n, chain_logs(&net, head_number).await.len(), "every log of the chain is stored, once");
    assert!(n >= TOTAL, "a history of at least {TOTAL} events, got {n}");
    let store = Store::open(db).await.unwrap();
    assert_matches_clean(&net, &store, clean_db, "after the kills").await;
    eprintln!("{n} events; the whole suite took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_instants_loses_and_repeats_nothing() {
    let rounds = cairn_testkit::TestProfile::from_env().pick(3, 20);
    let dir = tempfile::tempdir().unwrap();
    kill_rounds(&sqlite_url(&dir, "ix.db"), &sqlite_url(&dir, "clean.db"), rounds).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Faults

/// A TCP proxy in front of the RPC node that can be stopped (connections refused, open ones cut) and started
/// again on the same port.
struct Proxy {
    addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: &str) -> Self {
        let target: SocketAddr = target.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self { addr: listener.local_addr().unwrap(), target, tasks: Default::default() };
        proxy.serve(listener);
        proxy
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the port and every open connection.
    fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens on the same port again.
    async fn resume(&self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        self.serve(socket.listen(64).unwrap());
    }
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_unreachable_rpc_node_is_reported_and_followed_again_when_back() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("rpc down").await;
    let proxy = Proxy::start(net.anvil.url()).await;
    let (f, metrics) = follower_at(&net, &proxy.url(), &sqlite_url(&dir, "ix.db"), test_options()).await;
    let running = Running::start(f, metrics.clone());
    actors.some_events(&mut rng).await;
    running.caught_up(&p).await;
    assert!(metrics.last_error().is_none());

    proxy.stop();
    actors.some_events(&mut rng).await;
    wait_for("an error reported", Duration::from_secs(20), || metrics.last_error().is_some()).await;
    let (_, error) = metrics.last_error().unwrap();
    assert!(error.contains(&proxy.url()), "the error names the node: {error}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!running.is_finished(), "the follower keeps retrying");
    assert!(metrics.last_error().is_some(), "still reported while the node is down");

    proxy.resume().await;
    running.caught_up(&p).await;
    assert!(metrics.last_error().is_none(), "progress clears the error");
    assert!(metrics.errors.get() >= 1);
    assert_matches_clean(&net, running.follower.store(), &sqlite_url(&dir, "clean.db"), "after the outage").await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_deployments_file_of_another_chain_is_refused() {
    let net = Net::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut other = net.deployments.clone();
    other.chain_id = 10;
    let store = Store::open(&sqlite_url(&dir, "ix.db")).await.unwrap();
    match Follower::new(store, net.anvil.url(), &other, test_options(), Arc::new(Metrics::new())).await {
        Err(e @ Error::WrongChain { node: 31337, file: 10 }) => {
            assert!(e.to_string().contains("deployments/31337.json"), "it says which file to use: {e}")
        }
        other => panic!("expected WrongChain, got {:?}", other.map(|_| ())),
    }
    // The binary stops with that message.
    let file = dir.path().join("other.json");
    std::fs::write(&file, serde_json::to_string(&other).unwrap()).unwrap();
    let log = dir.path().join("indexer.log");
    let mut child = spawn_indexer(&net, &file, &sqlite_url(&dir, "bin.db"), &log);
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "it did not stop:\n{}", tail(&log));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    assert!(
        tail(&log).contains("the RPC node serves chain 31337, but the deployments file is for chain 10"),
        "{}",
        tail(&log)
    );
}

#[tokio::test]
async fn a_locked_database_is_retried_and_reported_until_released() {
    let Scene { mut rng, net, actors, p, dir } = Scene::start("locked db").await;
    let db = sqlite_url(&dir, "ix.db");
    let (f, metrics) = follower_at(&net, net.anvil.url(), &db, test_options()).await;
    crate::sync(&f).await;

    // Another connection holds the write lock.
    let mut locker = sqlx::AnyConnection::connect(&db).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut locker).await.unwrap();
    let running = Running::start(f, metrics.clone());
    actors.some_events(&mut rng).await;
    wait_for("the lock reported", Duration::from_secs(30), || {
        metrics.last_error().is_some_and(|(_, e)| e.contains("database is locked"))
    })
    .await;
    assert!(!running.is_finished(), "the follower keeps retrying");

    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    running.caught_up(&p).await;
    assert!(metrics.last_error().is_none(), "progress clears the error");
    assert_matches_clean(&net, running.follower.store(), &sqlite_url(&dir, "clean.db"), "after the lock").await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_missing_or_unreadable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database any more (overwritten).
    let path = dir.path().join("ix.db");
    let store = Store::open(&sqlite_url(&dir, "ix.db")).await.unwrap();
    store.pool().close().await;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("ix.db{suffix}")));
    }
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Store::open(&sqlite_url(&dir, "ix.db")).await.unwrap_err();
    assert!(err.to_string().contains("file is not a database"), "{err}");
    // Its folder cannot exist (a file is in the way).
    let blocked = format!("sqlite://{}/sub/ix.db", path.display());
    let err = Store::open(&blocked).await.unwrap_err();
    assert!(err.to_string().contains("create the database directory"), "{err}");
    // A folder where the file should be.
    std::fs::create_dir(dir.path().join("folder.db")).unwrap();
    let err = Store::open(&sqlite_url(&dir, "folder.db")).await.unwrap_err();
    assert!(err.to_string().contains("unable to open database file"), "{err}");
}

#[tokio::test]
async fn a_second_writer_on_a_sqlite_file_is_refused_until_the_first_lets_go() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ix.db");
    let a = Store::open(&sqlite_url(&dir, "ix.db")).await.unwrap();
    let b = Store::open(&sqlite_url(&dir, "ix.db")).await.unwrap();
    let lock = a.try_writer_lock(Some(&path)).await.unwrap();
    assert!(lock.is_some(), "the first writer takes the lock");
    assert!(b.try_writer_lock(Some(&path)).await.unwrap().is_none(), "the second is refused");
    drop(lock);
    assert!(b.try_writer_lock(Some(&path)).await.unwrap().is_some(), "the lock is free once dropped");
}
