//! `cairn-indexer` throughput, lag and API latency (issue's benchmark), all in one run against one chain:
//!
//! 1. A fresh anvil gets the suite (deployed and seeded with `cairn-deploy`, as `make devnet` does) and the
//!    bench helper `contracts/test/bench/EventBurst.sol` (from forge's `out/` artifact), which emits
//!    JobMarket's own event types as whole finalized job lifecycles (9 logs per job, 250 jobs per transaction).
//!    The bench deployments file lists it as `BenchJobMarket`, which the indexer decodes as `JobMarket`.
//! 2. **Ceiling**: `eth_getLogs` over the whole range, in ranges of the follower's size with as many in
//!    flight as the follower, parsed into alloy `Log`s, nothing written: the best the follower could do with
//!    this node. Run before and after the backfills; the faster run counts (so ratios are conservative).
//! 3. **Backfill** into SQLite, then into PostgreSQL (`cairn_testkit::Postgres`, a throwaway cluster with
//!    fsync off, as in the tests): `Follower::sync()` from an empty database to the head. Each ceiling and
//!    backfill runs in a child process (this binary again), which reports its own peak RSS (`VmHWM`).
//! 4. **API**: `/jobs?model=` and `/accounts/{addr}/trail` on the SQLite database just built, p50/p99 of
//!    sequential requests through `cairn_indexer::api::app` (tower `oneshot`, no socket).
//! 5. **Follow lag**: the follower runs on that database with a 100 ms poll while transactions of 5 jobs (45
//!    logs) are sent at a steady ~2,000 logs/s; lag = from the transaction's receipt being available to the
//!    checkpoint covering its block (the checkpoint is read every 5 ms).
//!
//! Run with `CAIRN_BENCH_ONLY=indexer make bench` or `cargo bench -p cairn-indexer --bench indexer`.
//! `CAIRN_BENCH_JOBS` (default 100,000 jobs = 900,000 logs), `CAIRN_BENCH_QUICK` (set: the ceiling and the SQLite
//! backfill only, for a development loop), `CAIRN_BENCH_FOLLOW_SECS` (default 20),
//! `CAIRN_BENCH_API_REQUESTS` (default 300 per endpoint). Writes a Markdown section to `$CAIRN_BENCH_OUT`
//! (or stdout).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{Filter, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol,
    sol_types::SolCall,
};
use cairn_chain::{Chain, ChainOptions, Deployments, deployments::Deployed};
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
};
use cairn_indexer::{
    api::{self, ApiOptions, AppState},
    decode::INDEXED_CONTRACTS,
    follower::{Follower, FollowerOptions},
    metrics::Metrics,
    store::Store,
};
use futures_util::{StreamExt, stream};

sol! {
    /// `contracts/test/bench/EventBurst.sol`.
    interface IEventBurst {
        struct Shape { uint256 models; uint256 buyers; uint256 operators; uint256 sellers; address token; address treasury; }
        function burst(uint256 firstJobId, uint256 count, Shape shape) external;
    }
}

/// anvil's public test account 0 (deploys the suite).
const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil's public test account 1 (sends the bursts, so its nonces never race the deployer's).
const ANVIL_KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const LOGS_PER_JOB: u64 = 9;
const JOBS_PER_TX: u64 = 250;
const MODELS: u64 = 100;
const BUYERS: u64 = 2_000;
const OPERATORS: u64 = 20;
const SELLERS: u64 = 25;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// Peak resident set of this process, KiB (`VmHWM` in `/proc/self/status`; 0 where there is none).
/// This process's CPU seconds (user + system, `/proc/self/stat`).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The machine's busy CPU seconds so far (`/proc/stat`, every state but idle and iowait).
fn machine_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let idle = f.get(3).copied().unwrap_or(0.0) + f.get(4).copied().unwrap_or(0.0);
    (f.iter().sum::<f64>() - idle) / 100.0
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// The helper's actor `index` of `role` (`EventBurst.account`).
fn actor(role: u8, index: u64) -> Address {
    let mut bytes = vec![role];
    bytes.extend_from_slice(&u32::try_from(index).expect("index fits u32").to_be_bytes());
    Address::from_word(keccak256(bytes))
}

/// The follower's options for this chain: defaults, with the first range sized so a range of full blocks
/// returns about `target_logs` (the default 2,000 blocks would ask for the whole chain at once; the follower
/// converges to this size anyway once it sees a dense range).
fn follower_options(range: u64) -> FollowerOptions {
    FollowerOptions { initial_range: range, ..FollowerOptions::default() }
}

fn range_for_density() -> u64 {
    (FollowerOptions::default().target_logs as u64 / (JOBS_PER_TX * LOGS_PER_JOB)).max(1)
}

/// What a child process measured.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Measured {
    events: u64,
    secs: f64,
    peak_kib: u64,
    /// CPU seconds of the child (user + system).
    #[serde(default)]
    cpu_secs: f64,
    /// CPU seconds of the whole machine while the child ran (anvil's share is the difference).
    #[serde(default)]
    machine_cpu_secs: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.events as f64 / self.secs
    }
}

fn indexed_addresses(deployments: &Deployments) -> Vec<Address> {
    let mut v: Vec<Address> = deployments
        .contracts
        .iter()
        .filter(|(name, _)| INDEXED_CONTRACTS.contains(&name.as_str()) || name.starts_with("Bench"))
        .map(|(_, d)| d.address)
        .collect();
    v.sort();
    v
}

/// Child: `eth_getLogs` over the deployment's range, nothing stored.
async fn child_ceiling(rpc: &str, deployments: &Deployments, range: u64) -> Measured {
    let chain =
        Chain::connect_read_only(rpc, ChainOptions { max_retries: 3, ..Default::default() }).await.expect("connect");
    let provider = chain.provider().clone();
    let head = provider.get_block_number().await.expect("head");
    let addresses = indexed_addresses(deployments);
    let mut ranges = Vec::new();
    let mut start = deployments.deployment_block;
    while start <= head {
        let end = (start + range - 1).min(head);
        ranges.push((start, end));
        start = end + 1;
    }
    let in_flight = FollowerOptions::default().in_flight;
    let started = Instant::now();
    let mut events = 0u64;
    let mut fetched = stream::iter(ranges)
        .map(|(a, b)| {
            let provider = provider.clone();
            let filter = Filter::new().address(addresses.clone()).from_block(a).to_block(b);
            async move { provider.get_logs(&filter).await.expect("eth_getLogs") }
        })
        .buffered(in_flight);
    while let Some(logs) = fetched.next().await {
        events += logs.len() as u64;
    }
    Measured {
        events,
        secs: started.elapsed().as_secs_f64(),
        peak_kib: peak_rss_kib(),
        cpu_secs: cpu_secs(),
        machine_cpu_secs: 0.0,
    }
}

/// Child: `Follower::sync()` into `db` from empty.
async fn child_backfill(rpc: &str, deployments: &Deployments, db: &str, range: u64) -> Measured {
    let store = Store::open(db).await.expect("open the store");
    let follower = Follower::new(store, rpc, deployments, follower_options(range), Arc::new(Metrics::new()))
        .await
        .expect("follower");
    let started = Instant::now();
    follower.sync().await.expect("backfill");
    let secs = started.elapsed().as_secs_f64();
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(follower.store().pool()).await.expect("count");
    Measured {
        events: events.max(0) as u64,
        secs,
        peak_kib: peak_rss_kib(),
        cpu_secs: cpu_secs(),
        machine_cpu_secs: 0.0,
    }
}

/// SQLite's own cost of the rows a backfill wrote (`sqlite_floor.py`: the same rows inserted through SQLite's C
/// API, nothing else): a Markdown sentence, or why it was not measured.
fn sqlite_floor(db: &Path) -> String {
    let script = cairn_testkit::repo_root().join("indexer/benches/sqlite_floor.py");
    match Command::new("python3").arg(&script).arg(db).arg("3").output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let floor = text.lines().find_map(|l| l.strip_prefix("floor: ")).unwrap_or("(no figure)");
            eprintln!("indexer bench:   SQLite floor: {floor}");
            format!(
                "SQLite's own cost of these rows (`indexer/benches/sqlite_floor.py`: the backfilled database's rows \
                 inserted again through SQLite's C API, same schema and pragmas, nothing else): {floor}."
            )
        }
        Ok(out) => format!("The SQLite floor was not measured: {}", String::from_utf8_lossy(&out.stderr).trim()),
        Err(e) => format!("The SQLite floor was not measured (python3: {e})."),
    }
}

/// Runs this binary again as a child doing `what`; returns what it measured.
fn in_child(what: &str, rpc: &str, deployments_dir: &Path, db: &str, range: u64) -> Measured {
    let exe = std::env::current_exe().expect("current exe");
    // `CAIRN_BENCH_PERF=FILE`: the SQLite backfill runs under `perf record` (where the time goes).
    let mut command = match std::env::var_os("CAIRN_BENCH_PERF") {
        Some(file) if what == "backfill" && db.starts_with("sqlite") => {
            let mut c = Command::new("perf");
            c.args(["record", "-F", "499", "-g", "-o"]).arg(file).arg("--").arg(exe);
            c
        }
        _ => Command::new(exe),
    };
    let machine_before = machine_cpu_secs();
    let out = command
        .env("CAIRN_BENCH_CHILD", what)
        .env("CAIRN_BENCH_RPC", rpc)
        .env("CAIRN_BENCH_DEPLOYMENTS", deployments_dir)
        .env("CAIRN_BENCH_DB", db)
        .env("CAIRN_BENCH_RANGE", range.to_string())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child {what} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find_map(|l| l.strip_prefix("measured ")).expect("a `measured` line");
    let mut m: Measured = serde_json::from_str(line).expect("child JSON");
    m.machine_cpu_secs = machine_cpu_secs() - machine_before;
    if std::env::var_os("CAIRN_BENCH_QUICK").is_some() {
        eprintln!(
            "indexer bench:   {what}: child CPU {:.1} s, machine CPU {:.1} s, wall {:.1} s",
            m.cpu_secs, m.machine_cpu_secs, m.secs
        );
    }
    m
}

async fn child_main(what: &str) {
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} unset"));
    let rpc = var("CAIRN_BENCH_RPC");
    let deployments = Deployments::load(Path::new(&var("CAIRN_BENCH_DEPLOYMENTS")), 31337).expect("deployments");
    let range: u64 = var("CAIRN_BENCH_RANGE").parse().expect("range");
    let m = match what {
        "ceiling" => child_ceiling(&rpc, &deployments, range).await,
        "backfill" => child_backfill(&rpc, &deployments, &var("CAIRN_BENCH_DB"), range).await,
        other => panic!("unknown child {other}"),
    };
    println!("measured {}", serde_json::to_string(&m).expect("json"));
}

/// A provider that signs with `key` (nonces cached, fees filled).
async fn wallet(url: &str, key: &str) -> DynProvider {
    let signer: PrivateKeySigner = key.parse().expect("key");
    ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect(url).await.expect("connect").erased()
}

/// The chain under test: the suite deployed and seeded, the helper deployed, listed as `BenchJobMarket`.
struct Bench {
    anvil: cairn_testkit::Anvil,
    deployments: Deployments,
    dir: tempfile::TempDir,
    helper: Address,
    shape: IEventBurst::Shape,
    sender: DynProvider,
    next_job: u64,
}

impl Bench {
    async fn start() -> Self {
        let root = cairn_testkit::repo_root();
        let forge = cairn_testkit::tool("forge").expect("forge (make setup)");
        let built = Command::new(forge).arg("build").current_dir(&root).env("FOUNDRY_PROFILE", "default").output();
        let built = built.expect("run forge build");
        assert!(built.status.success(), "forge build: {}", String::from_utf8_lossy(&built.stderr));
        let artifact: serde_json::Value = serde_json::from_slice(
            &std::fs::read(root.join("out/EventBurst.sol/EventBurst.json")).expect("EventBurst artifact"),
        )
        .expect("artifact JSON");
        let code: Bytes = artifact["bytecode"]["object"].as_str().expect("bytecode").parse().expect("hex");

        let anvil = cairn_testkit::Anvil::start().await.expect("start anvil");
        let deployer = Chain::connect(anvil.url(), ANVIL_KEY_0.parse().expect("key"), ChainOptions::default())
            .await
            .expect("connect");
        let dir = tempfile::tempdir().expect("tempdir");
        let options = Options { dir: dir.path().to_path_buf(), mode: Mode::New, root: root.clone() };
        let config = DeployConfig::defaults("devnet").expect("devnet config");
        let mut deployments =
            cairn_deploy::deploy::deploy(&deployer, &config, &options, &|_| {}).await.expect("deploy");
        cairn_deploy::seed::seed(&deployer, &mut deployments, &|_| {}).await.expect("seed");
        let receipt = deployer
            .send("deploy EventBurst", TransactionRequest::default().with_deploy_code(code))
            .await
            .expect("deploy");
        let helper = receipt.contract_address.expect("a contract address");
        deployments.contracts.insert(
            "BenchJobMarket".into(),
            Deployed { address: helper, block: receipt.block_number.expect("mined"), tx: receipt.transaction_hash },
        );
        deployments.save(dir.path()).expect("save the bench deployments file");
        let market =
            cairn_bindings::JobMarket::new(deployments.address("JobMarket").expect("JobMarket"), deployer.provider());
        let treasury = market.treasury().call().await.expect("treasury");
        let shape = IEventBurst::Shape {
            models: U256::from(MODELS),
            buyers: U256::from(BUYERS),
            operators: U256::from(OPERATORS),
            sellers: U256::from(SELLERS),
            token: deployments.address("DevToken").unwrap_or(Address::ZERO),
            treasury,
        };
        let sender = wallet(anvil.url(), ANVIL_KEY_1).await;
        Self { anvil, deployments, dir, helper, shape, sender, next_job: 1_000_000 }
    }

    fn burst_tx(&mut self, jobs: u64) -> TransactionRequest {
        let call = IEventBurst::burstCall {
            firstJobId: U256::from(self.next_job),
            count: U256::from(jobs),
            shape: self.shape.clone(),
        };
        self.next_job += jobs;
        TransactionRequest::default()
            .with_to(self.helper)
            .with_input(call.abi_encode())
            .with_gas_limit(60_000 * jobs + 1_000_000)
    }

    /// Emits `jobs` job lifecycles, `JOBS_PER_TX` per transaction; returns the last block.
    async fn emit(&mut self, jobs: u64) -> u64 {
        let mut left = jobs;
        let mut last = None;
        let started = Instant::now();
        while left > 0 {
            let n = left.min(JOBS_PER_TX);
            let tx = self.burst_tx(n);
            last = Some(*self.sender.send_transaction(tx).await.expect("send a burst").tx_hash());
            left -= n;
            let done = jobs - left;
            if done.is_multiple_of(JOBS_PER_TX * 40) || left == 0 {
                eprintln!(
                    "indexer bench: {done}/{jobs} jobs emitted ({} logs, {:.0} s)",
                    done * LOGS_PER_JOB,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        let hash = last.expect("at least one burst");
        // Sent faster than anvil mines, bursts share blocks, and one that no longer fits waits for the next
        // transaction to trigger a block: mine it explicitly.
        let receipt = loop {
            match tokio::time::timeout(Duration::from_millis(500), self.receipt(hash)).await {
                Ok(r) => break r,
                Err(_) => {
                    let _: String = self.sender.raw_request("evm_mine".into(), ()).await.expect("evm_mine");
                }
            }
        };
        assert!(receipt.1, "the last burst reverted");
        receipt.0
    }

    /// Waits for `hash`'s receipt (polled every millisecond): its block and success.
    async fn receipt(&self, hash: B256) -> (u64, bool) {
        loop {
            if let Some(r) = self.sender.get_transaction_receipt(hash).await.expect("receipt") {
                return (r.block_number.expect("mined"), r.status());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Follow mode: the follower on `db` (already caught up) with a 100 ms poll while bursts of 5 jobs are sent at
/// ~`rate` logs/s for `secs`. Returns (lags in ms sorted, logs/s achieved, transactions).
async fn follow_lag(bench: &mut Bench, db: &str, rate: f64, secs: u64) -> (Vec<f64>, f64, usize) {
    let store = Store::open(db).await.expect("open the store");
    let opts = FollowerOptions { poll_interval: Duration::from_millis(100), ..follower_options(range_for_density()) };
    let follower = Arc::new(
        Follower::new(store.clone(), bench.anvil.url(), &bench.deployments, opts, Arc::new(Metrics::new()))
            .await
            .expect("follower"),
    );
    follower.sync().await.expect("catch up before following");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let follower = follower.clone();
        tokio::spawn(async move { follower.run(async { stop_rx.await.unwrap_or(()) }).await })
    };
    // Checkpoint watcher: when each checkpoint number was first seen.
    let seen: Arc<Mutex<BTreeMap<u64, Instant>>> = Arc::default();
    let (watch_stop_tx, mut watch_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let seen = seen.clone();
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(Some(cp)) = store.checkpoint().await {
                    seen.lock().expect("lock").entry(cp.number).or_insert_with(Instant::now);
                }
                tokio::select! {
                    _ = &mut watch_stop_rx => return,
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
            }
        })
    };
    const JOBS: u64 = 5;
    let period = Duration::from_secs_f64((JOBS * LOGS_PER_JOB) as f64 / rate);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut mined: Vec<(u64, Instant)> = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        let tx = bench.burst_tx(JOBS);
        let hash = *bench.sender.send_transaction(tx).await.expect("send").tx_hash();
        let (block, ok) = bench.receipt(hash).await;
        assert!(ok, "a follow-mode burst reverted");
        mined.push((block, Instant::now()));
    }
    let sent_secs = started.elapsed().as_secs_f64();
    let last = mined.last().expect("sent something").0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.checkpoint().await.expect("checkpoint").is_none_or(|c| c.number < last) {
        assert!(Instant::now() < deadline, "the follower did not reach block {last} within 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _ = watch_stop_tx.send(());
    watcher.await.expect("watcher");
    let _ = stop_tx.send(());
    runner.await.expect("follower task").expect("follower");
    let seen = seen.lock().expect("lock").clone();
    let mut lags: Vec<f64> = mined
        .iter()
        .map(|(block, at)| {
            let covered = seen.range(block..).map(|(_, t)| *t).min().expect("a checkpoint covers it");
            covered.saturating_duration_since(*at).as_secs_f64() * 1000.0
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    (lags, (mined.len() as u64 * JOBS * LOGS_PER_JOB) as f64 / sent_secs, mined.len())
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// mimalloc: see indexer/Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    if let Ok(what) = std::env::var("CAIRN_BENCH_CHILD") {
        child_main(&what).await;
        return;
    }
    let jobs = env_u64("CAIRN_BENCH_JOBS", 100_000);
    let follow_secs = env_u64("CAIRN_BENCH_FOLLOW_SECS", 20);
    let api_requests = env_u64("CAIRN_BENCH_API_REQUESTS", 300);
    let range = range_for_density();

    eprintln!("indexer bench: fresh anvil, suite deployed and seeded, EventBurst deployed as BenchJobMarket");
    let mut bench = Bench::start().await;
    let emit_started = Instant::now();
    let head = bench.emit(jobs).await;
    let emit_secs = emit_started.elapsed().as_secs_f64();
    let url = bench.anvil.url().to_string();
    let dir = bench.dir.path().to_path_buf();

    eprintln!("indexer bench: ceiling (eth_getLogs, {range}-block ranges, nothing stored)");
    let ceiling_a = in_child("ceiling", &url, &dir, "", range);
    eprintln!("indexer bench:   {:.0} logs/s", ceiling_a.rate());
    let sqlite_url = format!("sqlite://{}", dir.join("bench.db").display());
    eprintln!("indexer bench: backfill into SQLite");
    let sqlite = in_child("backfill", &url, &dir, &sqlite_url, range);
    eprintln!("indexer bench:   {} logs in {:.1} s: {:.0} logs/s", sqlite.events, sqlite.secs, sqlite.rate());
    if std::env::var_os("CAIRN_BENCH_QUICK").is_some() {
        // A development loop: the ceiling and the SQLite backfill only, nothing written.
        eprintln!("indexer bench: SQLite {:.2}x the ceiling", sqlite.rate() / ceiling_a.rate());
        let store = Store::open(&sqlite_url).await.expect("open");
        for t in ["events", "event_accounts", "jobs", "operators", "balances", "blocks"] {
            let n: i64 =
                sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(store.pool()).await.expect("count");
            eprintln!("indexer bench:   {t}: {n} rows");
        }
        let size = std::fs::metadata(dir.join("bench.db")).map(|m| m.len()).unwrap_or(0);
        eprintln!("indexer bench:   database {} MiB", size >> 20);
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await.expect("checkpoint");
        sqlite_floor(&dir.join("bench.db"));
        if let Some(keep) = std::env::var_os("CAIRN_BENCH_KEEP_DB") {
            std::fs::copy(dir.join("bench.db"), keep).expect("copy the database");
        }
        return;
    }
    let pg = cairn_testkit::Postgres::start().await.expect("start PostgreSQL (make setup installs it)");
    let pg_url = pg.fresh_database("bench").expect("create the database");
    eprintln!("indexer bench: backfill into PostgreSQL");
    let postgres = in_child("backfill", &url, &dir, &pg_url, range);
    eprintln!("indexer bench:   {} logs in {:.1} s: {:.0} logs/s", postgres.events, postgres.secs, postgres.rate());
    drop(pg);
    eprintln!("indexer bench: ceiling again");
    let ceiling_b = in_child("ceiling", &url, &dir, "", range);
    eprintln!("indexer bench:   {:.0} logs/s", ceiling_b.rate());
    let ceiling = if ceiling_a.rate() >= ceiling_b.rate() { ceiling_a } else { ceiling_b };
    assert_eq!(sqlite.events, ceiling.events, "SQLite stored every log the ceiling fetched");
    assert_eq!(postgres.events, ceiling.events, "PostgreSQL stored every log the ceiling fetched");

    let store = Store::open(&sqlite_url).await.expect("open");
    let job_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs").fetch_one(store.pool()).await.expect("count");
    let current_jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE superseded_block IS NULL")
        .fetch_one(store.pool())
        .await
        .expect("count");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await.expect("checkpoint");
    let floor = sqlite_floor(&dir.join("bench.db"));
    let api = api_latency(&store, &bench, api_requests).await;

    eprintln!("indexer bench: follow mode for {follow_secs} s at ~2,000 logs/s");
    let (lags, follow_rate, follow_txs) = follow_lag(&mut bench, &sqlite_url, 2_000.0, follow_secs).await;

    let machine = format!(
        "{} cores, load average {} at the end",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    let ratio = |m: &Measured| m.rate() / ceiling.rate();
    let section = format!(
        "## Indexer throughput, lag and API latency (`cairn-indexer`)\n\n\
         One run on one chain ({machine}): a fresh anvil with the suite deployed and seeded, then {jobs} finalized \
         job lifecycles from `contracts/test/bench/EventBurst.sol` (JobMarket's own event types, 9 logs per job, \
         {JOBS_PER_TX} jobs per transaction, {MODELS} models, {BUYERS} buyers, {OPERATORS} operators; listed as \
         `BenchJobMarket` in the bench deployments file): {} logs up to block {head}, emitted in {emit_secs:.0} s. \
         Ranges of {range} blocks (~{} logs per burst block; anvil packs up to two bursts in a block when they arrive faster than it mines), {} in flight, as the follower uses them. Ceiling: the same \
         `eth_getLogs` calls parsed into alloy `Log`s with nothing stored (best of a run before and one after the \
         backfills). Backfills: `Follower::sync()` from an empty database to the head (decode, raw rows, account \
         rows, versioned projections, checkpoint; one transaction per group of ranges). Ceiling and backfills each \
         run in a child process whose peak RSS (`VmHWM`) is reported. PostgreSQL: a throwaway local cluster \
         (fsync off, as in the tests). Goal: SQLite ≥ 0.60× the ceiling (binding) and ≥ 50,000 logs/s where the \
         ceiling allows (Envio's published best is ~15,000/s).\n\n\
         | measure | logs | time | logs/s | ratio to ceiling | peak RSS |\n|---|---|---|---|---|---|\n\
         | ceiling: `eth_getLogs` only | {} | {:.1} s | {:.0} | 1.00× | {} |\n\
         | backfill into SQLite | {} | {:.1} s | {:.0} | **{:.2}×** | {} |\n\
         | backfill into PostgreSQL | {} | {:.1} s | {:.0} | {:.2}× | {} |\n\n{floor}\n\n\
         Follow mode (SQLite, 100 ms poll, HTTP): {follow_txs} transactions of 45 logs at {follow_rate:.0} logs/s for \
         {follow_secs} s; lag from a transaction's receipt to the checkpoint covering its block: p50 {:.0} ms, p95 \
         {:.0} ms, max {:.0} ms.\n\nAfter the backfill the `jobs` projection holds {job_rows} rows ({current_jobs} \
         jobs and their earlier versions). {api}",
        jobs * LOGS_PER_JOB,
        range * JOBS_PER_TX * LOGS_PER_JOB,
        FollowerOptions::default().in_flight,
        ceiling.events,
        ceiling.secs,
        ceiling.rate(),
        mib(ceiling.peak_kib),
        sqlite.events,
        sqlite.secs,
        sqlite.rate(),
        ratio(&sqlite),
        mib(sqlite.peak_kib),
        postgres.events,
        postgres.secs,
        postgres.rate(),
        ratio(&postgres),
        mib(postgres.peak_kib),
        percentile(&lags, 0.5),
        percentile(&lags, 0.95),
        lags.last().copied().unwrap_or(f64::NAN),
    );
    match std::env::var_os("CAIRN_BENCH_OUT") {
        Some(out) => std::fs::write(PathBuf::from(out), &section).expect("write bench section"),
        None => print!("{section}"),
    }
}

/// API latency on the backfilled SQLite database: sequential GETs over a real listener (reqwest, keep-alive),
/// each request a different model / account (round-robin over the shape), after a warm-up. Returns the
/// Markdown table, or a line saying which endpoint is not served yet.
async fn api_latency(store: &Store, bench: &Bench, requests: u64) -> String {
    let state = AppState {
        store: store.clone(),
        metrics: Arc::new(Metrics::new()),
        chain_id: bench.deployments.chain_id,
        deployments: Arc::new(bench.deployments.clone()),
        provider: None,
        ipfs: None,
        // The rate limit protects a public server; here one client measures latency.
        options: ApiOptions { rate_per_second: 1_000_000, ..ApiOptions::default() },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move {
        axum::serve(listener, api::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    let client = reqwest::Client::new();
    type Target = fn(u64) -> String;
    let cases: [(&str, Target); 3] = [
        ("`/jobs?model={id}` (one of 100 models)", |i| format!("/jobs?model={}", 1 + i % MODELS)),
        ("`/accounts/{buyer}/trail` (one of 2,000 buyers)", |i| format!("/accounts/{}/trail", actor(b'b', i % BUYERS))),
        ("`/accounts/{operator}/trail` (one of 20 operators)", |i| {
            format!("/accounts/{}/trail", actor(b'o', i % OPERATORS))
        }),
    ];
    let mut rows = Vec::new();
    for (label, target) in cases {
        let mut times = Vec::new();
        let mut bytes = Vec::new();
        for i in 0..requests + 10 {
            let url = format!("{base}{}", target(i));
            let started = Instant::now();
            let response = client.get(&url).send().await.expect("GET");
            let status = response.status();
            let body = response.bytes().await.expect("body");
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if status == reqwest::StatusCode::NOT_FOUND && i == 0 {
                server.abort();
                return format!("API latency: TODO, `{}` answered 404 (not served by this build).\n", target(0));
            }
            assert!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
            if i >= 10 {
                times.push(ms);
                bytes.push(body.len() as f64);
            }
        }
        times.sort_by(f64::total_cmp);
        bytes.sort_by(f64::total_cmp);
        rows.push(format!(
            "| {label} | {requests} | {:.1} ms | {:.1} ms | {:.1} KiB |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&bytes, 0.5) / 1024.0
        ));
    }
    server.abort();
    format!(
        "API on the SQLite database just built, sequential requests over HTTP/1.1 on loopback (keep-alive), \
         each to another model or account, after 10 warm-up requests:\n\n\
         | request | requests | p50 | p99 | median body |\n|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    )
}
