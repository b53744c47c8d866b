//! `cairn-runner run` against the real market: anvil with the contracts deployed and seeded, a real Kubo, the
//! real MiniLM weights, and the real binary (so `kill -9` and SIGTERM are real too). The seller publishes
//! through the chain client (manifest + files on Kubo, the listing signed as the seller); the buyer requests
//! with ETH; `operator-0` runs the service with its hot key only.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256, utils::parse_ether},
    providers::Provider,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use cairn_bindings::{DisputeDesk, JobMarket, OperatorRegistry, dispute_desk::IDisputeDesk::Pool, enums::ticket};
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_ipfs::{AddOptions, KuboClient};
use cairn_primitives::{Cid, Sha256Digest};
use cairn_protocol::{
    Region, Runtime,
    card::from_folder,
    manifest::{FileEntry, Manifest},
    typed,
};
use cairn_runner::{
    BertEmbedExecutor, Executor,
    bert::EmbedOptions,
    input::InputLimits,
    service::{
        journal::{ChallengeStep, Journal, Step},
        runner::CRASH_POINTS,
    },
};
use cairn_testkit::{model_digests, model_dir};

use crate::world::{RunnerProcess, World, spawn_runner, state, wait_log};

const INPUT: &str = r#"["A man is eating food.", "A cairn marks the trail.", "Ünïcödé and emoji 🚀"]"#;

/// A TCP proxy in front of a service, to take the service away and bring it back: while down it refuses
/// nothing but closes every connection at once, open ones included.
struct Proxy {
    url: String,
    up: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target_url: &str) -> Self {
        let target = target_url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (up, watch) = tokio::sync::watch::channel(true);
        let task = tokio::spawn(async move {
            loop {
                // A failed accept (a full file table, an aborted handshake) must not end the proxy for good.
                let Ok((mut inbound, _)) = listener.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { url, up, task }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The output MiniLM gives for `input` here, for comparison with what the runner pinned.
fn expected_output(input: &[u8]) -> cairn_runner::output::Output {
    let executor =
        BertEmbedExecutor::load(&model_dir(), &model_digests(), EmbedOptions::default(), InputLimits::default())
            .unwrap();
    executor.execute(input).unwrap()
}

async fn pinned(kubo: &KuboClient, cid: &str) -> bool {
    kubo.is_pinned(&cid.parse::<Cid>().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_claimed_computed_submitted_and_finalized_exact_to_the_wei() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let market = world.market();
    let registry = OperatorRegistry::new(world.address("OperatorRegistry"), world.deployer.provider().clone());
    let (operator, hot, seller) =
        (devnet_key("operator-0").address(), devnet_signer_key("operator-0").address(), devnet_key("seller").address());
    let treasury = market.treasury().call().await.unwrap();
    let balance = |who: Address| {
        let market = market.clone();
        async move { market.balanceOf(who, Address::ZERO).call().await.unwrap() }
    };
    let (op_before, seller_before, treasury_before) =
        (balance(operator).await, balance(seller).await, balance(treasury).await);
    let free_before = registry.freeStake(operator).call().await.unwrap();
    let hot_before = world.deployer.balance(hot).await.unwrap();

    let state_dir = world.dir.path().join("operator-0");
    // Before the first start: `status` shows the chain's side and writes nothing; a busy `[http] listen` port is
    // refused before any state is written.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config =
        world.config("operator-0", &state_dir, None, &format!("[http]\nlisten = \"{}\"\n", busy.local_addr().unwrap()));
    let before = status_json(&config);
    assert_eq!(
        (&before["journal"], &before["registered"]),
        (&serde_json::Value::Null, &serde_json::json!(true)),
        "{before}"
    );
    assert_eq!(before["freeWei"], free_before.to_string(), "{before}");
    let key = format!("0x{}", alloy::hex::encode(devnet_signer_key("operator-0").to_bytes()));
    // `cairn-runner run` with `config` exits refused, saying `says`, with nothing written.
    let refused_at_start = |says: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn-runner"))
            .args(["run", "--config"])
            .arg(&config)
            .env("CAIRN_RUNNER_KEY", &key)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{stderr}");
        assert!(!state_dir.exists(), "nothing written when refused for {says}");
    };
    refused_at_start("([http] listen)");
    drop(busy);
    // A device this build cannot open: refused at start too.
    #[cfg(not(feature = "cuda"))]
    {
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, text.replace("[engine]\n", "[engine]\ndevice = \"cuda\"\n")).unwrap();
        refused_at_start("no CUDA support");
    }

    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut runner = world.runner_with("operator-0", &state_dir, None, None, &format!("[http]\nlisten = \"{http}\"\n"));
    let payment = parse_ether("0.01").unwrap();
    let job = world.request(model, INPUT.as_bytes(), payment).await;
    world.wait_state(job, state::SUBMITTED, &mut runner).await;

    // The receipt: the job's own terms, and the output MiniLM gives, pinned with the input.
    let submitted = world.logs_of::<JobMarket::ResultSubmitted>(job).await;
    assert_eq!(submitted.len(), 1);
    let event = JobMarket::ResultSubmitted::decode_log(&submitted[0].inner).unwrap().data;
    let terms = market.getTerms(job).call().await.unwrap();
    let expected = expected_output(INPUT.as_bytes());
    assert_eq!((event.operator, event.signer), (operator, hot));
    assert_eq!(event.receipt.outputDigest, B256::from(expected.sha256.0));
    assert_eq!((event.receipt.weightsDigest, event.receipt.inputDigest), (terms.weightsDigest, terms.inputDigest));
    assert_eq!(
        event.receipt.runnerBuild,
        cairn_protocol::runtime::runner_build(cairn_runner::service::runner::RUNNER_VERSION)
    );
    let output = world.kubo.cat_bytes(&event.receipt.outputCid, expected.sha256, 1 << 20).await.unwrap();
    assert_eq!(output.as_ref(), expected.bytes.as_slice(), "the pinned output is the canonical one");
    assert!(pinned(&world.kubo, &event.receipt.outputCid).await, "the output stays pinned in the window");
    assert!(registry.freeStake(operator).call().await.unwrap() < free_before, "the bond is locked");

    // After the window the runner finalizes by itself and releases its pins.
    world.advance(event.challengeEnds - world.now().await + 1).await;
    world.wait_state(job, state::FINALIZED, &mut runner).await;
    let split = world.logs_of::<JobMarket::PaymentSplit>(job).await;
    let split = JobMarket::PaymentSplit::decode_log(&split[0].inner).unwrap().data;
    assert_eq!(split.royalty, terms.royalty);
    assert_eq!(split.royalty, model.price);
    assert_eq!(split.protocolFee, terms.protocolFee);
    assert_eq!(split.operatorFee, payment - terms.royalty - terms.protocolFee);
    assert_eq!(balance(operator).await - op_before, split.operatorFee);
    assert_eq!(balance(seller).await - seller_before, split.royalty);
    assert_eq!(balance(treasury).await - treasury_before, split.protocolFee);
    assert_eq!(registry.freeStake(operator).call().await.unwrap(), free_before, "the bond is free again");

    // The hot key paid exactly the gas of its three transactions: claim, submit, finalize.
    let mut txs = Vec::new();
    txs.extend(world.logs_of::<JobMarket::JobClaimed>(job).await);
    txs.extend(submitted);
    txs.extend(world.logs_of::<JobMarket::JobClosed>(job).await);
    let mut gas = U256::ZERO;
    for log in &txs {
        let r =
            world.deployer.provider().get_transaction_receipt(log.transaction_hash.unwrap()).await.unwrap().unwrap();
        assert_eq!(r.from, hot, "sent by the hot key");
        gas += U256::from(r.gas_used) * U256::from(r.effective_gas_price);
    }
    assert_eq!(txs.len(), 3);
    // Unpinning happens just after the finalize is mined: give it a moment.
    let started = Instant::now();
    while pinned(&world.kubo, &event.receipt.outputCid).await {
        assert!(started.elapsed() < Duration::from_secs(30), "the output stays pinned after finalization");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        hot_before - world.deployer.balance(hot).await.unwrap(),
        gas,
        "every wei of the hot wallet accounted for"
    );
    assert!(pinned(&world.kubo, &terms_input_cid(&world, job).await).await, "the buyer's own pin of the input is kept");
    assert!(!state_dir.join("outputs").join(format!("{job}.safetensors")).exists(), "the output file is removed");

    // What the operator sees: healthy, and the job counted with its fee and energy.
    let (status, body) = http_get(http, "/health").await;
    assert!(status.contains("200") && body.contains("\"status\":\"ok\""), "{status} {body}");
    let expected = [
        "cairn_runner_jobs_total{outcome=\"claimed\"} 1".to_owned(),
        "cairn_runner_jobs_total{outcome=\"finalized\"} 1".to_owned(),
        format!("cairn_runner_earned_total{{token=\"{}\"}} {}", Address::ZERO, f64::from(split.operatorFee)),
        "cairn_runner_cache_misses 4".to_owned(),
    ];
    // The runner counts the finalization once it has journaled it, a moment after the chain shows it.
    let started = Instant::now();
    let metrics = loop {
        let (_, metrics) = http_get(http, "/metrics").await;
        let missing: Vec<&String> = expected
            .iter()
            .filter(|line| !metrics.lines().any(|l| l == line.as_str() || l == format!("{line}.0")))
            .collect();
        if missing.is_empty() {
            break metrics;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{missing:?} not in:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(metrics.contains("cairn_runner_energy_millijoules_total{method="), "{metrics}");

    // `status` reads the same from the journal and the chain.
    let status = status_json(&state_dir.with_extension("toml"));
    assert_eq!(status["journal"], state_dir.join("journal.sqlite").display().to_string(), "{status}");
    assert_eq!(status["jobs"]["finalized"], 1, "{status}");
    assert_eq!(status["open"].as_array().map(Vec::len), Some(0), "{status}");
    assert_eq!(status["earnings"][Address::ZERO.to_string()], balance(operator).await.to_string(), "{status}");
    assert_eq!(status["freeWei"], free_before.to_string(), "{status}");

    // SIGTERM with nothing in flight: a clean exit.
    let status = runner.terminate().await;
    assert!(status.success(), "{status}:\n{}", runner.log());
    assert!(runner.log().contains("drained"), "{}", runner.log());
}

/// `cairn-runner status --json --config <config>`, which must succeed.
fn status_json(config: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn-runner"))
        .args(["status", "--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Over a `ws://` RPC the runner subscribes to new blocks: with a two-minute poll interval, a job requested after
/// its first poll is claimed and submitted well before the next poll, because the request's block wakes the loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_ws_url_each_new_block_wakes_the_runner_without_polling() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let state_dir = world.dir.path().join("operator-0");
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let ws = world.anvil.url().replacen("http://", "ws://", 1);
    let config = world.config(
        "operator-0",
        &state_dir,
        Some((&ws, world.kubo.url())),
        &format!("[http]\nlisten = \"{http}\"\n"),
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("poll_interval_ms = 100", "poll_interval_ms = 120000")).unwrap();
    let key = format!("0x{}", alloy::hex::encode(devnet_signer_key("operator-0").to_bytes()));
    let mut runner =
        spawn_runner(&config, &state_dir.with_extension("ws.log"), &[("CAIRN_RUNNER_KEY".to_owned(), key)]);
    // Its first poll is done (healthy) and the subscription is live.
    let started = Instant::now();
    loop {
        let (status, body) =
            tokio::time::timeout(Duration::from_secs(5), http_get_lenient(http, "/health")).await.unwrap_or_default();
        if status.contains("200") && body.contains("\"newHeadsSubscribed\":true") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never healthy and subscribed: {body}\n{}", runner.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, metrics) = http_get(http, "/metrics").await;
    assert!(metrics.lines().any(|l| l == "cairn_runner_new_heads_subscribed 1"), "{metrics}");

    let requested = Instant::now();
    let job = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    world.wait_state(job, state::SUBMITTED, &mut runner).await;
    assert!(
        requested.elapsed() < Duration::from_secs(90),
        "submitted {:?} after the request: woken by the block, not by the 2-minute poll",
        requested.elapsed()
    );
    let submitted = world.logs_of::<JobMarket::ResultSubmitted>(job).await;
    assert_eq!(submitted.len(), 1, "one receipt");
    let status = runner.terminate().await;
    assert!(status.success(), "{status}:\n{}", runner.log());
}

/// [`http_get`] that answers an empty status while nothing listens yet.
async fn http_get_lenient(at: std::net::SocketAddr, path: &str) -> (String, String) {
    if tokio::net::TcpStream::connect(at).await.is_err() {
        return (String::new(), String::new());
    }
    http_get(at, path).await
}

/// Waits (up to 30 s) until `cid` is not pinned on `kubo`.
async fn wait_unpinned(kubo: &KuboClient, cid: &str, runner: &RunnerProcess) {
    let started = Instant::now();
    while pinned(kubo, cid).await {
        assert!(started.elapsed() < Duration::from_secs(30), "{cid} is still pinned:\n{}", runner.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A plain HTTP/1.0 GET: (status line, body).
async fn http_get(at: std::net::SocketAddr, path: &str) -> (String, String) {
    let (head, body) = http(at, "GET", path, &[], b"").await;
    (head.lines().next().unwrap_or_default().to_owned(), body)
}

/// A plain HTTP/1.0 request: (status line and headers, body).
async fn http(at: std::net::SocketAddr, method: &str, path: &str, headers: &[&str], body: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(at).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {at}\r\nContent-Length: {}\r\n", body.len());
    for h in headers {
        request += &format!("{h}\r\n");
    }
    request += "\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    // A refusal may come before the whole body is read: a failed write is not the test's concern.
    let _ = stream.write_all(body).await;
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_owned(), body.to_owned())
}

/// Waits (up to 3 minutes) until the runner's journal has `job` at `step`.
async fn wait_journal(state_dir: &Path, job: U256, step: Step, runner: &RunnerProcess) {
    let journal = Journal::open(state_dir).await.unwrap();
    let started = Instant::now();
    loop {
        let now = journal.get(job).await.unwrap().map(|e| e.step);
        if now == Some(step) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "job {job} journaled at {now:?}:\n{}", runner.shown());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn terms_input_cid(world: &World, job: U256) -> String {
    let logs = world.logs_of::<JobMarket::JobRequested>(job).await;
    JobMarket::JobRequested::decode_log(&logs[0].inner).unwrap().data.inputCid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_weights_and_bad_inputs_are_never_claimed() {
    let world = World::start().await;
    let tampered = world.publish(true).await;
    let state_dir = world.dir.path().join("operator-0");
    let mut runner = world.runner("operator-0", &state_dir, None);
    let payment = parse_ether("0.01").unwrap();
    // Weights on IPFS that are not the registered ones: refused while they stream, never kept, never claimed.
    // (First, with an empty cache: a cache that already holds the registered bytes would serve those.)
    let on_tampered = world.request(tampered, INPUT.as_bytes(), payment).await;
    let started = Instant::now();
    while !runner.log().contains("model refused") {
        assert!(started.elapsed() < Duration::from_secs(120), "no refusal logged:\n{}", runner.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(runner.log().contains("digest mismatch"), "{}", runner.log());
    let cached = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir.join("models/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".tmp"))
            .collect()
    };
    let real = model_digests().get("model.safetensors").unwrap().to_hex();
    assert!(!cached(&state_dir).contains(&real), "the tampered download is not in the cache");

    let honest = world.publish(false).await;
    let not_json = world.request(honest, b"not json", payment).await;
    let not_a_list = world.request(honest, br#"{"texts": ["a"]}"#, payment).await;
    // A good job after them: once it is submitted, the runner has long decided on the others.
    let good = world.request(honest, INPUT.as_bytes(), payment).await;
    world.wait_state(good, state::SUBMITTED, &mut runner).await;
    for job in [on_tampered, not_json, not_a_list] {
        assert_eq!(world.progress(job).await.state, state::REQUESTED, "job {job} must not be claimed");
        assert!(world.logs_of::<JobMarket::JobClaimed>(job).await.is_empty());
    }
    let log = runner.log();
    assert!(log.contains("not JSON") && log.contains("expected a JSON list of strings"), "{log}");
    assert_eq!(log.matches("model refused").count(), 1, "a refused version is remembered, not fetched again:\n{log}");
    // Only the four real files are cached.
    let files = cached(&state_dir);
    let digests: Vec<String> = model_digests().iter().map(|(_, d)| d.to_hex()).collect();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files.iter().all(|c| digests.contains(c)), "{files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_at_every_step_resumes_without_claiming_or_submitting_twice() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let state_dir = world.dir.path().join("operator-0");
    let payment = parse_ether("0.01").unwrap();
    let mut jobs = Vec::new();
    for point in CRASH_POINTS {
        let job = world.request(model, INPUT.as_bytes(), payment).await;
        let mut crashing = world.runner("operator-0", &state_dir, Some(point));
        let status = crashing.wait_exit().await;
        assert!(!status.success(), "{point}: the runner must abort:\n{}", crashing.log());
        assert!(
            crashing.log().contains(&format!("CAIRN_RUNNER_CRASH_AFTER={point}: aborting at job {job}")),
            "{point}:\n{}",
            crashing.log()
        );
        let mut runner = world.runner("operator-0", &state_dir, None);
        world.wait_state(job, state::SUBMITTED, &mut runner).await;
        wait_journal(&state_dir, job, Step::Submitted, &runner).await;
        let status = runner.terminate().await;
        assert!(status.success(), "{point}:\n{}", runner.log());
        assert_eq!(world.logs_of::<JobMarket::JobClaimed>(job).await.len(), 1, "{point}: one claim");
        assert_eq!(world.logs_of::<JobMarket::ResultSubmitted>(job).await.len(), 1, "{point}: one receipt");
        jobs.push(job);
    }
    // All of them finalize after the window, from the journal alone.
    let ends = world.progress(*jobs.last().unwrap()).await.challengeEnds;
    world.advance(ends - world.now().await + 1).await;
    let mut runner = world.runner("operator-0", &state_dir, None);
    for job in &jobs {
        world.wait_state(*job, state::FINALIZED, &mut runner).await;
        assert_eq!(world.logs_of::<JobMarket::JobClaimed>(*job).await.len(), 1);
    }
    let log = runner.log();
    assert!(!log.contains("ERROR"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_racing_for_one_job_end_with_one_claim() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let mut a = world.runner("operator-0", &world.dir.path().join("operator-0"), None);
    let mut b = world.runner("operator-1", &world.dir.path().join("operator-1"), None);
    // Both have loaded nothing yet and see the job in the same poll or the next.
    let job = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    world.wait_state(job, state::SUBMITTED, &mut a).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(world.logs_of::<JobMarket::JobClaimed>(job).await.len(), 1);
    let winner = world.progress(job).await.operator;
    assert!(winner == devnet_key("operator-0").address() || winner == devnet_key("operator-1").address());
    for runner in [&mut a, &mut b] {
        assert!(runner.terminate().await.success(), "{}", runner.log());
        assert!(!runner.log().contains("ERROR"), "a lost race is no error:\n{}", runner.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubo_or_the_rpc_going_away_mid_job_delays_it_but_loses_nothing() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let (rpc, kubo) = (Proxy::start(world.anvil.url()).await, Proxy::start(world.kubo.url()).await);
    let urls = Some((rpc.url.as_str(), kubo.url.as_str()));
    let state_dir = world.dir.path().join("operator-0");
    let payment = parse_ether("0.01").unwrap();

    // Kubo goes away once the job is claimed: the run cannot fetch the input; the claim is kept, the service
    // keeps running and retries, and the job completes when Kubo is back.
    let mut runner =
        world.runner_with("operator-0", &state_dir, Some(("CAIRN_RUNNER_PAUSE_AFTER", "claimed")), urls, "");
    let job = world.request(model, INPUT.as_bytes(), payment).await;
    wait_journal(&state_dir, job, Step::Claimed, &runner).await;
    kubo.set_up(false);
    wait_log(&runner, "step failed").await;
    assert!(runner.log().contains("fetching the input"), "{}", runner.log());
    assert!(runner.child.try_wait().unwrap().is_none(), "the service keeps running");
    assert_eq!(world.progress(job).await.state, 2, "still claimed by us");
    kubo.set_up(true);
    world.wait_state(job, state::SUBMITTED, &mut runner).await;
    wait_journal(&state_dir, job, Step::Submitted, &runner).await;
    assert!(runner.terminate().await.success(), "{}", runner.log());

    // The RPC goes away once the output is computed: nothing is sent blind; the job is pinned and submitted
    // when the RPC is back.
    let mut runner =
        world.runner_with("operator-0", &state_dir, Some(("CAIRN_RUNNER_PAUSE_AFTER", "computed")), urls, "");
    let second = world.request(model, INPUT.as_bytes(), payment).await;
    wait_journal(&state_dir, second, Step::Computed, &runner).await;
    rpc.set_up(false);
    wait_log(&runner, "step failed").await;
    assert!(runner.child.try_wait().unwrap().is_none(), "the service keeps running");
    rpc.set_up(true);
    world.wait_state(second, state::SUBMITTED, &mut runner).await;
    wait_journal(&state_dir, second, Step::Submitted, &runner).await;
    assert!(runner.terminate().await.success(), "{}", runner.log());
    for job in [job, second] {
        assert_eq!(world.logs_of::<JobMarket::JobClaimed>(job).await.len(), 1);
        assert_eq!(world.logs_of::<JobMarket::ResultSubmitted>(job).await.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_bond_exceeds_the_free_stake_is_left_and_the_next_one_is_taken() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let market = world.market();
    let registry = OperatorRegistry::new(world.address("OperatorRegistry"), world.deployer.provider().clone());
    let free = registry.freeStake(devnet_key("operator-0").address()).call().await.unwrap();
    let mut payment = parse_ether("0.01").unwrap();
    while market.bondFor(Address::ZERO, payment).call().await.unwrap() <= free {
        payment *= U256::from(2);
    }
    let state_dir = world.dir.path().join("operator-0");
    let mut runner = world.runner("operator-0", &state_dir, None);
    let big = world.request(model, INPUT.as_bytes(), payment).await;
    wait_log(&runner, "out of free stake").await;
    let small = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    world.wait_state(small, state::SUBMITTED, &mut runner).await;
    assert_eq!(world.progress(big).await.state, state::REQUESTED, "the big job is left for others");
    assert!(runner.terminate().await.success(), "{}", runner.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_the_chain_rejects_is_retried_until_the_claim_lapses_then_released_from_the_journal() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let state_dir = world.dir.path().join("operator-0");
    let mut runner =
        world.runner_with("operator-0", &state_dir, Some(("CAIRN_RUNNER_PAUSE_AFTER", "pinned")), None, "");
    let job = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    wait_journal(&state_dir, job, Step::Pinned, &runner).await;
    // The owner moves the operator to another signer key: the hot key's receipt no longer counts.
    let owner = world.as_key(devnet_key("operator-0")).await;
    let registry = OperatorRegistry::new(world.address("OperatorRegistry"), owner.provider().clone());
    let other = PrivateKeySigner::random().address();
    owner.send("setSigner", registry.setSigner(other).into_transaction_request()).await.unwrap();
    wait_log(&runner, "submitting the receipt").await;
    let log = runner.log();
    assert!(log.contains("step failed") && log.contains("BadReceiptSignature"), "the revert is named:\n{log}");
    assert!(runner.child.try_wait().unwrap().is_none(), "the service keeps running");
    // Past the submit deadline the runner gives the job up and releases what it pinned.
    let output_cid = Journal::open(&state_dir).await.unwrap().get(job).await.unwrap().unwrap().output_cid.unwrap();
    let submit_by = world.progress(job).await.submitBy;
    world.advance(submit_by - world.now().await + 1).await;
    wait_journal(&state_dir, job, Step::Expired, &runner).await;
    assert!(!pinned(&world.kubo, &output_cid).await, "the output is unpinned");
    assert!(runner.log().contains("the claim lapsed"), "{}", runner.log());
    assert!(world.logs_of::<JobMarket::ResultSubmitted>(job).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_at_rate_one_passes_an_honest_result_and_challenges_perturbed_embeddings_with_evidence() {
    let world = World::start().await;
    let model = world.publish(false).await;
    // operator-1 only watches here: it serves no model of this market as an operator. It is killed right after
    // its challenge's receipt, before its journal knows the challenge landed and before the evidence's URI is
    // sent: the restart finds its ticket and sends the URI journaled before the challenge.
    let state_dir = world.dir.path().join("operator-1");
    let extra = "[jobs]\nmodels_allow = [999]\n\n[watch]\nsample = 1.0\n";
    let mut watcher =
        world.runner_with("operator-1", &state_dir, Some(("CAIRN_RUNNER_CRASH_AFTER", "challenge-sent")), None, extra);
    let payment = parse_ether("0.01").unwrap();
    let expected = expected_output(INPUT.as_bytes());

    // operator-0, driven by the test, submits the honest output first, then a perturbed one.
    let honest = world.request(model, INPUT.as_bytes(), payment).await;
    submit_as_operator_0(&world, honest, expected.bytes.clone()).await;
    wait_log(&watcher, "watched: the output is acceptable").await;
    assert_eq!(world.progress(honest).await.state, state::SUBMITTED, "an honest result is not challenged");

    let mut embeddings = cairn_runner::output::Embeddings::from_safetensors(&expected.bytes).unwrap();
    let dim = embeddings.dim;
    let row1 = embeddings.row(1).to_vec();
    embeddings.data[..dim].copy_from_slice(&row1); // row 0 answers with row 1's vector: unit norm, wrong
    let perturbed = cairn_runner::output::Output::from(&embeddings);
    let cheat = world.request(model, INPUT.as_bytes(), payment).await;
    submit_as_operator_0(&world, cheat, perturbed.bytes.clone()).await;
    let crashed = watcher.wait_exit().await;
    assert!(!crashed.success(), "killed after the challenge: {crashed}\n{}", watcher.log());
    assert_eq!(world.progress(cheat).await.state, state::DISPUTED);
    let progress = world.progress(cheat).await;
    assert_eq!(progress.challenger, devnet_signer_key("operator-1").address());
    assert!(world.events::<DisputeDesk::Evidence>("DisputeDesk").await.is_empty(), "no evidence before the restart");
    let journal = Journal::open(&state_dir).await.unwrap();
    let row = journal.open_challenges().await.unwrap();
    assert_eq!(row.len(), 1, "the challenge is journaled");
    assert_eq!((row[0].job, row[0].step), (cheat, ChallengeStep::Challenging), "sent, not known to have landed");
    assert!(row[0].evidence_uri.as_deref().is_some_and(|u| u.starts_with("ipfs://")), "the evidence journaled first");
    drop(journal);
    // The restart sends the evidence's URI journaled before the challenge, once.
    let mut watcher = world.runner_with("operator-1", &state_dir, None, None, extra);
    wait_log(&watcher, "evidence submitted").await;

    // The evidence: ERC-1497 JSON on IPFS naming the failing row and our own output, which is the real one.
    let evidence = world.events::<DisputeDesk::Evidence>("DisputeDesk").await;
    assert_eq!(evidence.len(), 1);
    let uri = evidence[0].evidence.clone();
    let cid = uri.strip_prefix("ipfs://").unwrap();
    // Its digest is not on chain: read it with the ipfs CLI.
    let out = world._node.cli().unwrap().args(["cat", cid]).output().unwrap();
    let evidence: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(evidence["description"].as_str().unwrap().contains("row 0"), "{evidence}");
    let own_cid = evidence["fileURI"].as_str().unwrap().strip_prefix("ipfs://").unwrap().to_owned();
    let own = world.kubo.cat_bytes(&own_cid, expected.sha256, 1 << 20).await.unwrap();
    assert_eq!(own.as_ref(), expected.bytes.as_slice(), "the watcher's own output is the canonical one");
    assert_eq!(evidence["cairn"]["claimedOutputDigest"], B256::from(perturbed.sha256.0).to_string());
    assert!(watcher.terminate().await.success(), "{}", watcher.log());
    let journal = Journal::open(&state_dir).await.unwrap();
    let row = journal.open_challenges().await.unwrap();
    assert_eq!(row.len(), 1);
    assert_eq!(
        (row[0].step, row[0].evidence_uri.as_deref()),
        (ChallengeStep::Evidenced, Some(uri.as_str())),
        "the ticket waits for the ruling, its evidence on chain"
    );
}

/// operator-0's hot key claims `job` and submits `output` (pinned on Kubo) with a signed receipt, as a runner
/// would: the test plays an operator that may cheat.
async fn submit_as_operator_0(world: &World, job: U256, output: Vec<u8>) {
    let key = devnet_signer_key("operator-0");
    let chain = world.as_key(key.clone()).await;
    let market = JobMarket::new(world.address("JobMarket"), chain.provider().clone());
    let operator = devnet_key("operator-0").address();
    chain.send("claim", market.claim(job, operator).into_transaction_request()).await.unwrap();
    let digest = Sha256Digest::of(&output);
    let cid = world.kubo.add_bytes("output.safetensors", output, AddOptions::default()).await.unwrap().cid;
    let terms = market.getTerms(job).call().await.unwrap();
    let receipt = cairn_protocol::JobReceipt {
        jobId: job,
        weightsDigest: terms.weightsDigest,
        inputDigest: terms.inputDigest,
        runtime: terms.runtime,
        outputDigest: B256::from(digest.0),
        outputCid: cid.to_string(),
        runnerBuild: cairn_protocol::runtime::runner_build("cheat 1.0"),
        energyMillijoules: 1,
    };
    let domain = typed::domain(world.deployer.chain_id(), world.address("JobMarket"));
    let signature = typed::sign(&key, &receipt, &domain).await.unwrap();
    let call = market.submitResult(job, receipt, signature.as_bytes().into());
    chain.send("submitResult", call.into_transaction_request()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_pins_checked_inputs_and_posts_only_good_signed_requests_it_would_run() {
    let world = World::start().await;
    let dusd = world.address("DevToken");
    let price = U256::from(2_000_000u64); // 2 DUSD
    let model = world.publish_priced(false, dusd, price).await;
    let state_dir = world.dir.path().join("operator-0");
    let relay = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let extra = format!(
        "[jobs]\nmax_input_bytes = 4096\n[jobs.min_fee_tokens]\n\"{dusd}\" = \"1000000\"\n\n[relay]\nlisten = \"{relay}\"\nrate_per_second = 5\ninput_ttl_secs = 60\n"
    );
    let mut runner = world.runner_with("operator-0", &state_dir, None, None, &extra);
    wait_log(&runner, "serving the relay").await;
    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap_or_else(|e| panic!("{e}: {body}"));

    // Inputs: checked (size before the body, then format, then runtime), then pinned.
    let (head, body) = http(relay, "POST", "/relay/inputs", &[], INPUT.as_bytes()).await;
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    let answer = json(&body);
    let cid = answer["cid"].as_str().unwrap().to_owned();
    let digest: B256 = answer["sha256"].as_str().unwrap().parse().unwrap();
    assert_eq!(digest, B256::from(Sha256Digest::of(INPUT.as_bytes()).0));
    assert!(pinned(&world.kubo, &cid).await);
    let (head, body) = http(relay, "POST", "/relay/inputs", &[], b"not json").await;
    assert!(head.contains(" 400 ") && body.contains("not JSON"), "{head}\n{body}");
    let (head, body) = http(relay, "POST", "/relay/inputs?runtime=candle/llama@9", &[], INPUT.as_bytes()).await;
    assert!(head.contains(" 400 ") && body.contains("unknown runtime"), "{head}\n{body}");
    let big = format!("[\"{}\"]", "x".repeat(5000));
    let (head, _) = http(relay, "POST", "/relay/inputs", &[], big.as_bytes()).await;
    assert!(head.contains(" 413 "), "larger than max_input_bytes: {head}");
    let (head, _) = http(
        relay,
        "OPTIONS",
        "/relay/job-request",
        &["Origin: https://app.example", "Access-Control-Request-Method: POST"],
        b"",
    )
    .await;
    assert!(head.to_ascii_lowercase().contains("access-control-allow-origin: *"), "CORS preflight: {head}");

    // Job requests: the buyer signs; the relay refuses what it would not run, then posts the good one.
    let buyer = devnet_key("buyer");
    let owner = world.as_key(buyer.clone()).await;
    let token = cairn_bindings::DevToken::new(dusd, owner.provider().clone());
    owner
        .send("approve", token.approve(world.address("JobMarket"), U256::MAX).into_transaction_request())
        .await
        .unwrap();
    let market = world.market();
    let request = |payment: U256, deadline: u64, nonce: U256| cairn_protocol::JobRequest {
        buyer: buyer.address(),
        modelId: model.model_id,
        version: model.version,
        inputDigest: digest,
        inputCid: cid.clone(),
        token: dusd,
        payment,
        maxPricePerCall: price,
        deadline,
        regionMask: U256::ZERO,
        nonce,
    };
    let domain = typed::domain(world.deployer.chain_id(), world.address("JobMarket"));
    let post = |req: cairn_protocol::JobRequest, signer: PrivateKeySigner| {
        let domain = domain.clone();
        async move {
            let signature = typed::sign(&signer, &req, &domain).await.unwrap();
            let body = serde_json::json!({
                "request": {
                    "buyer": req.buyer, "modelId": req.modelId.to_string(), "version": req.version,
                    "inputDigest": req.inputDigest, "inputCid": req.inputCid, "token": req.token,
                    "payment": req.payment.to_string(), "maxPricePerCall": req.maxPricePerCall.to_string(),
                    "deadline": req.deadline, "regionMask": "0", "nonce": req.nonce.to_string(),
                },
                "signature": format!("0x{}", alloy::hex::encode(signature.as_bytes())),
            });
            http(relay, "POST", "/relay/job-request", &["Content-Type: application/json"], body.to_string().as_bytes())
                .await
        }
    };
    let now = world.now().await;
    let nonce = market.requestNonces(buyer.address()).call().await.unwrap();
    let payment = U256::from(10_000_000u64);
    let buyer_before = token.balanceOf(buyer.address()).call().await.unwrap();
    for (req, signer, expected) in [
        (request(payment, now + 3600, nonce), devnet_key("seller"), "not the buyer"),
        (request(payment, now - 1, nonce), buyer.clone(), "has passed"),
        (request(payment, now + 10, nonce), buyer.clone(), "leaves less than 120 s"),
        (request(payment, now + 3600, nonce + U256::from(1)), buyer.clone(), "is not the buyer's next"),
        (request(price + U256::from(1), now + 3600, nonce), buyer.clone(), "below this runner's minimum"),
    ] {
        let (head, body) = post(req, signer).await;
        assert!(head.contains(" 400 ") && body.contains(expected), "{expected}: {head}\n{body}");
    }
    assert_eq!(token.balanceOf(buyer.address()).call().await.unwrap(), buyer_before, "nothing moved");
    let (head, body) = post(request(payment, now + 3600, nonce), buyer.clone()).await;
    assert!(head.contains(" 200 "), "{head}\n{body}");
    let job: U256 = json(&body)["jobId"].as_str().unwrap().parse().unwrap();
    assert_eq!(buyer_before - token.balanceOf(buyer.address()).call().await.unwrap(), payment, "escrowed");
    // The runner behind the relay runs it.
    world.wait_state(job, state::SUBMITTED, &mut runner).await;

    // The relay's pins expire: an input no job was requested with, `input_ttl_secs` (60) of chain time after its
    // upload; the requested one stays through its claim deadline, then with the job, until it is finalized.
    let unused = r#"["An input nobody asks a job for."]"#;
    let (head, body) = http(relay, "POST", "/relay/inputs", &[], unused.as_bytes()).await;
    assert!(head.contains(" 200 "), "{head}\n{body}");
    let unused_cid = json(&body)["cid"].as_str().unwrap().to_owned();
    assert!(pinned(&world.kubo, &unused_cid).await);
    world.advance(61).await;
    wait_unpinned(&world.kubo, &unused_cid, &runner).await;
    assert!(pinned(&world.kubo, &cid).await, "the requested input stays pinned until its claim deadline");
    let ends = world.progress(job).await.challengeEnds.max(now + 3600);
    world.advance(ends - world.now().await + 1).await;
    world.wait_state(job, state::FINALIZED, &mut runner).await;
    wait_unpinned(&world.kubo, &cid, &runner).await;

    // Past the rate (5/s, burst 10), 429.
    let mut limited = 0;
    for _ in 0..25 {
        let (head, _) = http(relay, "POST", "/relay/inputs?runtime=x", &[], b"[]").await;
        limited += usize::from(head.contains(" 429 "));
    }
    assert!(limited > 0, "no request was rate limited");
    assert!(runner.terminate().await.success(), "{}", runner.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_registers_stakes_and_opts_in_when_the_config_asks_then_runs_jobs() {
    let world = World::start().await;
    let model = world.publish(false).await;
    // A newcomer: anvil's account 9 (unused by the seed) owns the stake; a fresh hot key is funded for gas.
    let owner_key = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";
    let owner: PrivateKeySigner = owner_key.parse().unwrap();
    let hot = PrivateKeySigner::random();
    let fund = alloy::rpc::types::TransactionRequest::default().to(hot.address()).value(parse_ether("1").unwrap());
    world.deployer.send("fund the hot key", fund).await.unwrap();
    let state = world.dir.path().join("newcomer");
    let config = state.with_extension("toml");
    let write = |owner_env: &str, jobs: &str| {
        let text = format!(
            "[chain]\nrpc_url = \"{}\"\ndeployments = \"{}\"\npoll_interval_ms = 100\n\n\
             [operator]\naddress = \"{}\"\n\n[ipfs]\napi = \"{}\"\n\n[storage]\nstate_dir = \"{}\"\n\n\
             [register]\nowner = {{ env = \"{owner_env}\" }}\nregion = \"US\"\nstake_wei = \"5000000000000000000\"\n\
             hardware = \"test box\"\njuror_stake_wei = \"1000000000000000000\"\n\n\
             [jobs]\nwithdraw_above_wei = 1\n{jobs}",
            world.anvil.url(),
            world.dir.path().join("deployments").display(),
            owner.address(),
            world.kubo.url(),
            state.display(),
        );
        std::fs::write(&config, text).unwrap();
    };
    let hot_hex = format!("0x{}", alloy::hex::encode(hot.to_bytes()));
    let seller_hex = format!("0x{}", alloy::hex::encode(devnet_key("seller").to_bytes()));
    let env = |owner: &str| {
        vec![("CAIRN_RUNNER_KEY".to_owned(), hot_hex.clone()), ("CAIRN_OWNER_KEY".to_owned(), owner.to_owned())]
    };

    // The wrong owner key: refused at start, nothing sent.
    write("CAIRN_OWNER_KEY", "");
    let mut wrong = spawn_runner(&config, &state.with_extension("wrong.log"), &env(&seller_hex));
    assert!(!wrong.wait_exit().await.success());
    assert!(wrong.log().contains("not of [operator] address"), "{}", wrong.log());
    let registry = OperatorRegistry::new(world.address("OperatorRegistry"), world.deployer.provider().clone());
    assert!(!registry.operatorInfo(owner.address()).call().await.unwrap().registered);

    let pool_before = world.deployer.balance(world.address("JurorPool")).await.unwrap();
    let mut runner = spawn_runner(&config, &state.with_extension("run.log"), &env(owner_key));
    wait_log(&runner, "runner ready").await;
    let log = runner.log();
    assert!(log.contains("registered the operator") && log.contains("opted in as a verifier"), "{log}");
    let info = registry.operatorInfo(owner.address()).call().await.unwrap();
    assert!(info.registered && info.signer == hot.address() && info.region == Region::Us.bit());
    assert_eq!(registry.getOperator(owner.address()).call().await.unwrap().stake, parse_ether("5").unwrap());
    assert_eq!(
        world.deployer.balance(world.address("JurorPool")).await.unwrap() - pool_before,
        parse_ether("1").unwrap(),
        "the juror stake is in the pool"
    );
    let job = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    world.wait_state(job, state::SUBMITTED, &mut runner).await;
    assert_eq!(world.progress(job).await.operator, owner.address());
    assert!(runner.terminate().await.success(), "{}", runner.log());

    // A second start finds it registered: the owner key is not even read. It finalizes the job after the window
    // and, its earnings above `withdraw_above_wei`, sweeps them to the owner's address with the hot key.
    let mut again = spawn_runner(&config, &state.with_extension("again.log"), &env("not a key"));
    wait_log(&again, "runner ready").await;
    assert!(!again.log().contains("registered the operator"), "{}", again.log());
    let owner_before = world.deployer.balance(owner.address()).await.unwrap();
    let fee = world.finalized_fee(job, &mut again).await;
    wait_log(&again, "swept the operator's earnings").await;
    assert!(fee > U256::ZERO);
    assert_eq!(world.deployer.balance(owner.address()).await.unwrap() - owner_before, fee, "the fee, to the owner");
    assert_eq!(world.market().balanceOf(owner.address(), Address::ZERO).call().await.unwrap(), U256::ZERO);
    assert!(again.terminate().await.success(), "{}", again.log());

    // A sweep worth less than `withdraw_fee_multiple` times its own fee waits: here the multiple is absurd, so the
    // next job's fee stays credited in the market.
    write("CAIRN_OWNER_KEY", "withdraw_fee_multiple = 1000000000000\n");
    let mut thrifty = spawn_runner(&config, &state.with_extension("thrifty.log"), &env("not a key"));
    wait_log(&thrifty, "runner ready").await;
    let second = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    world.wait_state(second, state::SUBMITTED, &mut thrifty).await;
    let fee = world.finalized_fee(second, &mut thrifty).await;
    wait_log(&thrifty, "sweep deferred").await;
    assert_eq!(world.market().balanceOf(owner.address(), Address::ZERO).call().await.unwrap(), fee, "still credited");
    assert!(!thrifty.log().contains("swept the operator's earnings"), "{}", thrifty.log());
    assert!(thrifty.terminate().await.success(), "{}", thrifty.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_runtimes_and_broken_manifests_are_refused_before_any_claim() {
    let world = World::start().await;
    let price = parse_ether("0.002").unwrap();
    let weights = B256::from(model_digests().get("model.safetensors").unwrap().0);
    let add = |bytes: Vec<u8>| {
        let kubo = world.kubo.clone();
        async move {
            let added = kubo.add_bytes("manifest.json", bytes, AddOptions::default()).await.unwrap();
            (added.cid.to_string(), B256::from(added.sha256.0))
        }
    };
    // A runtime nobody serves; a manifest that is not JSON; a valid manifest that lacks the tokenizer.
    let (cid, digest) = add(b"{}".to_vec()).await;
    let llama = alloy::primitives::keccak256("candle/llama@9");
    let unknown = world.list(&cid, digest, weights, llama, Address::ZERO, price).await;
    let (cid, digest) = add(b"not json at all".to_vec()).await;
    let not_json = world.list(&cid, digest, weights, Runtime::BertEmbedV1.id(), Address::ZERO, price).await;
    let real = model_digests();
    let files: Vec<FileEntry> = ["model.safetensors", "config.json", "sentence_bert_config.json"]
        .iter()
        .map(|p| FileEntry { path: (*p).to_owned(), size: 1, sha256: real.get(p).unwrap() })
        .collect();
    let card = from_folder(&model_dir(), None).unwrap();
    let root: Cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".parse().unwrap();
    let manifest = Manifest::new(Runtime::BertEmbedV1, "model.safetensors", root, files, card);
    let (cid, digest) = add(manifest.to_json().into_bytes()).await;
    let lacking = world.list(&cid, digest, weights, Runtime::BertEmbedV1.id(), Address::ZERO, price).await;

    let mut runner = world.runner("operator-0", &world.dir.path().join("operator-0"), None);
    let payment = parse_ether("0.01").unwrap();
    let jobs = [
        (world.request(unknown, INPUT.as_bytes(), payment).await, "none this runner executes"),
        (world.request(not_json, INPUT.as_bytes(), payment).await, "the manifest is invalid"),
        (world.request(lacking, INPUT.as_bytes(), payment).await, "lists no `tokenizer.json`"),
    ];
    for (job, why) in jobs {
        wait_log(&runner, why).await;
        assert_eq!(world.progress(job).await.state, state::REQUESTED, "{why}: never claimed");
    }
    assert!(runner.child.try_wait().unwrap().is_none(), "the service keeps running");
    assert!(runner.terminate().await.success(), "{}", runner.log());

    // A model larger than the whole cache can never fit: refused once, not retried forever.
    let model = world.publish(false).await;
    let small = world.dir.path().join("small-cache");
    let config = world.config("operator-0", &small, None, "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("[engine]", "cache_limit_bytes = 1000000\n\n[engine]")).unwrap();
    let key = format!("0x{}", alloy::hex::encode(devnet_signer_key("operator-0").to_bytes()));
    let mut runner = spawn_runner(&config, &small.with_extension("log"), &[("CAIRN_RUNNER_KEY".into(), key)]);
    let job = world.request(model, INPUT.as_bytes(), payment).await;
    // (This runner also sees the jobs above again: wait for this refusal's own words.)
    wait_log(&runner, "model cache cannot hold").await;
    assert_eq!(world.progress(job).await.state, state::REQUESTED);
    assert!(runner.terminate().await.success(), "{}", runner.log());
}

/// Verifier-only service `i` (the seeded operator `verifier-{i}`, `[jobs] claim = false`), its state in
/// `verifier-{i}/`, optionally killed at test hook `crash`.
fn verifier_service(world: &World, i: usize, crash: Option<&str>) -> RunnerProcess {
    let label = format!("verifier-{i}");
    let hook = crash.map(|p| ("CAIRN_RUNNER_CRASH_AFTER", p));
    world.runner_with(&label, &world.dir.path().join(&label), hook, None, "[jobs]\nclaim = false\n")
}

/// A dispute that cannot be seated ends when its wait does: every verifier asks for all its juror stake back
/// (the pool keeps no free seat), a griefer challenges an honest result, and the keeper's draw defers it. Retried
/// every 30 s and refused for want of seats, it is still waiting when the chain's clock reaches its `expiresAt`
/// (the opening plus the wait the operator's bond buys: nothing else waits), and the keeper expires it: ruling 0, the buyer refunded,
/// the griefer's bond back, nothing stuck. The keeper is restarted while the dispute waits: the journal hands the
/// dispute to the new process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_expires_a_dispute_still_waiting_for_seats_at_its_expiry() {
    let world = World::start().await;
    let committee = world.committee();
    let (job, dispute, _, before) = unseatable_dispute(&world).await;
    let mut keeper = verifier_service(&world, 0, None);
    let started = Instant::now();
    while committee.disputeInfo(dispute).call().await.unwrap().phase != cairn_bindings::enums::phase::WAITING {
        assert!(started.elapsed() < Duration::from_secs(60), "the keeper never drew it:\n{}", keeper.shown());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_log(&keeper, "drew the dispute's jurors").await;
    assert!(keeper.terminate().await.success(), "{}", keeper.shown());
    let mut keeper = verifier_service(&world, 0, None);
    let ends: u64 = committee.expiresAt(dispute).call().await.unwrap().to();
    let now = world.now().await;
    assert!(ends >= before + 30 * 86_400, "at least the shortest wait from the opening: {ends} vs {before}");
    world.advance(ends - now).await;
    let pool = wait_ruled(&world, job, std::slice::from_mut(&mut keeper)).await;
    assert_eq!(pool.ruling, 0, "expired unseated: refused");
    let params = world.market().params().call().await.unwrap();
    assert_eq!(pool.payout, params.challengeBond, "the griefer's ticket gets its bond back");
    let progress = world.progress(job).await;
    assert_eq!(progress.state, state::RESOLVED, "the job is closed");
    wait_log(&keeper, "expired it").await;
    assert!(!keeper.log().contains("expire failed"), "no early or failed expire:\n{}", keeper.shown());
    assert!(keeper.terminate().await.success(), "{}", keeper.shown());
}

/// A keeper takes up a dispute someone else's draw deferred: the griefer of the test above draws its own dispute
/// (and takes the keeper reward) before any keeper runs. A keeper started afterwards finds the `DrawDeferred` in
/// the committee's logs, retries the dispute and expires it at its `expiresAt`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_takes_up_a_dispute_another_draw_deferred() {
    let world = World::start().await;
    let committee = world.committee();
    let (job, dispute, griefer, _) = unseatable_dispute(&world).await;
    let chain = world.as_key(griefer).await;
    let own = cairn_bindings::ReexecutionCommittee::new(*committee.address(), chain.provider().clone());
    chain.send("draw", own.draw(dispute).into_transaction_request()).await.unwrap();
    assert_eq!(committee.disputeInfo(dispute).call().await.unwrap().phase, cairn_bindings::enums::phase::WAITING);
    let mut keeper = verifier_service(&world, 0, None);
    wait_log(&keeper, "a dispute waits for seats").await;
    let ends: u64 = committee.expiresAt(dispute).call().await.unwrap().to();
    let now = world.now().await;
    world.advance(ends - now).await;
    let pool = wait_ruled(&world, job, std::slice::from_mut(&mut keeper)).await;
    assert_eq!(pool.ruling, 0, "expired unseated: refused");
    wait_log(&keeper, "expired it").await;
    assert!(!keeper.log().contains("drew the dispute's jurors"), "the keeper never drew:\n{}", keeper.shown());
    assert!(keeper.terminate().await.success(), "{}", keeper.shown());
}

/// Every verifier asks for all its juror stake back (the pool keeps no free seat), operator 0 submits an honest
/// result and a griefer challenges it; returns the job, its dispute (not drawn yet), the griefer's key and the chain
/// time just before the challenge (seconds; the dispute opened at or after it).
async fn unseatable_dispute(world: &World) -> (U256, U256, PrivateKeySigner, u64) {
    let model = world.publish(false).await;
    for i in 0..5 {
        let chain = world.as_key(devnet_key(&format!("verifier-{i}"))).await;
        let pool = cairn_bindings::JurorPool::new(world.address("JurorPool"), chain.provider().clone());
        let juror = pool.jurorInfo(chain.account()).call().await.unwrap();
        let all = U256::from(juror.stake) + U256::from(juror.pendingDeposit);
        chain.send("requestWithdrawal", pool.requestWithdrawal(all).into_transaction_request()).await.unwrap();
    }
    let job = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    submit_as_operator_0(world, job, expected_output(INPUT.as_bytes()).bytes).await;
    let griefer = funded_stranger(world, "1").await;
    let before = world.now().await;
    let dispute = challenge_as(world, &griefer, job).await;
    (job, dispute, griefer, before)
}

/// Which of the five verifier services `juror` is.
fn verifier_index(juror: Address) -> usize {
    (0..5).find(|i| devnet_key(&format!("verifier-{i}")).address() == juror).expect("jurors are the verifiers")
}

/// A key that is nobody's operator, funded by the deployer with `eth` ETH (a cheat's second address, a
/// griefer).
async fn funded_stranger(world: &World, eth: &str) -> PrivateKeySigner {
    let key = PrivateKeySigner::random();
    let tx = alloy::rpc::types::TransactionRequest::default().to(key.address()).value(parse_ether(eth).unwrap());
    world.deployer.send("fund", tx).await.unwrap();
    key
}

/// `key` challenges `job` at the dispute desk, paying what `challengeCost` asks, then two blocks are mined (the
/// devnet's anvil mines only on transactions; a draw needs its seed block mined and one more); returns the
/// dispute id.
async fn challenge_as(world: &World, key: &PrivateKeySigner, job: U256) -> U256 {
    let chain = world.as_key(key.clone()).await;
    let desk = DisputeDesk::new(world.address("DisputeDesk"), chain.provider().clone());
    let cost = desk.challengeCost(job).call().await.unwrap();
    chain.send("challenge", desk.challenge(job).value(cost).into_transaction_request()).await.unwrap();
    let p = world.deployer.provider();
    p.raw_request::<_, serde_json::Value>("anvil_mine".into(), (U256::from(2),)).await.unwrap();
    desk.poolOf(job).call().await.unwrap().disputeId
}

/// Waits (up to 4 minutes) until `job`'s challenge pool is ruled; returns the pool. A round that ruled is left
/// appealable for 5 s (a runner on the losing side may appeal), then devnet time moves past its appeal period and
/// the keepers' grace, so the runners' keepers make the ruling final.
async fn wait_ruled(world: &World, job: U256, runners: &mut [RunnerProcess]) -> Pool {
    let desk = DisputeDesk::new(world.address("DisputeDesk"), world.deployer.provider().clone());
    let committee = world.committee();
    let p = world.deployer.provider();
    let started = Instant::now();
    let mut appealable_since: Option<Instant> = None;
    loop {
        let pool = desk.poolOf(job).call().await.unwrap();
        if pool.ruled {
            return pool;
        }
        let info = committee.disputeInfo(pool.disputeId).call().await.unwrap();
        if info.phase == cairn_bindings::enums::phase::APPEALABLE {
            let since = *appealable_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(5) {
                let now = p.get_block_by_number(Default::default()).await.unwrap().unwrap().header.timestamp;
                let secs = info.appealDeadline.saturating_sub(now) + 31;
                p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(secs),)).await.unwrap();
                p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
                appealable_since = None;
            }
        }
        for r in runners.iter_mut() {
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("a runner exited ({status}) before job {job} was ruled:\n{}", r.log());
            }
        }
        let logs: Vec<String> = runners.iter().map(|r| r.log()).collect();
        assert!(started.elapsed() < Duration::from_secs(240), "job {job} was never ruled:\n{}", logs.join("\n----\n"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Verifier mode end to end: five verifier-only services (`[jobs] claim = false`) and a watcher. A griefer
/// challenges an honest result: the drawn verifiers re-execute, vote 1 and the griefer's ticket pays nothing.
/// Then operator-0 cheats and challenges its own job first from a second address, hoping to lose less: the
/// watcher still joins the pool, the drawn verifiers vote 2 (each crashing right after journaling its vote, and
/// committing and revealing that vote after a restart), the first keeper to see the seed block draws, the last
/// reveal resolves, and the watcher collects and withdraws its bond plus its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifiers_rule_on_disputes_and_the_watcher_collects_from_a_pool_the_cheat_opened() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let payment = parse_ether("0.01").unwrap();
    let expected = expected_output(INPUT.as_bytes());
    let verifier = |i: usize, crash: Option<&str>| verifier_service(&world, i, crash);
    let committee = world.committee();
    let desk = DisputeDesk::new(world.address("DisputeDesk"), world.deployer.provider().clone());

    // 1. A griefer disputes an honest result: ruled acceptable, nothing for the griefer's ticket.
    let mut verifiers: Vec<RunnerProcess> = (0..5).map(|i| verifier(i, None)).collect();
    let honest = world.request(model, INPUT.as_bytes(), payment).await;
    submit_as_operator_0(&world, honest, expected.bytes.clone()).await;
    let griefer = funded_stranger(&world, "1").await;
    let dispute = challenge_as(&world, &griefer, honest).await;
    let pool = wait_ruled(&world, honest, &mut verifiers).await;
    assert_eq!((pool.ruling, pool.payout), (1, U256::ZERO), "acceptable: the griefer's bond is lost");
    for juror in committee.jurorsOf(dispute).call().await.unwrap() {
        let i = verifier_index(juror);
        let duties = Journal::open(&world.dir.path().join(format!("verifier-{i}"))).await.unwrap();
        let duty = duties.all_duties().await.unwrap().into_iter().find(|d| d.dispute == dispute).unwrap();
        assert_eq!(duty.vote, Some(1), "verifier-{i} voted acceptable:\n{}", verifiers[i].log());
    }
    for v in &mut verifiers {
        assert!(v.terminate().await.success(), "{}", v.log());
    }

    // 2. The cheat: a perturbed output, challenged first by the cheat's own second address.
    let mut embeddings = cairn_runner::output::Embeddings::from_safetensors(&expected.bytes).unwrap();
    let dim = embeddings.dim;
    let row1 = embeddings.row(1).to_vec();
    embeddings.data[..dim].copy_from_slice(&row1);
    let perturbed = cairn_runner::output::Output::from(&embeddings);
    let cheat = world.request(model, INPUT.as_bytes(), payment).await;
    submit_as_operator_0(&world, cheat, perturbed.bytes.clone()).await;
    let sybil = funded_stranger(&world, "1").await;
    let dispute = challenge_as(&world, &sybil, cheat).await;
    // The watcher comes after the cheat's own challenge: it joins the pool (operator-1 claims nothing here).
    let watcher_dir = world.dir.path().join("operator-1");
    let mut watcher =
        world.runner_with("operator-1", &watcher_dir, None, None, "[jobs]\nclaim = false\n\n[watch]\nsample = 1.0\n");
    let watcher_key = devnet_signer_key("operator-1").address();
    wait_log(&watcher, "challenged").await;
    assert_eq!(desk.ticketOf(cheat, watcher_key).call().await.unwrap(), ticket::HELD, "the watcher holds a ticket");
    assert_eq!(desk.poolOf(cheat).call().await.unwrap().tickets, 2);

    // The verifiers, each crashing once right after journaling its vote; the drawn ones are restarted.
    let mut verifiers: Vec<RunnerProcess> = (0..5).map(|i| verifier(i, Some("voted"))).collect();
    let started = Instant::now();
    let jurors = loop {
        let info = committee.disputeInfo(dispute).call().await.unwrap();
        if info.phase == cairn_bindings::enums::phase::DRAWN {
            break committee.jurorsOf(dispute).call().await.unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never drawn:\n{}", verifiers[0].log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut drawn: Vec<usize> = jurors.iter().map(|j| verifier_index(*j)).collect();
    drawn.sort_unstable();
    drawn.dedup();
    for &i in &drawn {
        let status = verifiers[i].wait_exit().await;
        assert!(!status.success(), "verifier-{i} aborted at the crash point:\n{}", verifiers[i].log());
        let dir = world.dir.path().join(format!("verifier-{i}"));
        let duty = Journal::open(&dir).await.unwrap().all_duties().await.unwrap();
        let duty = duty.into_iter().find(|d| d.dispute == dispute).unwrap();
        assert_eq!((duty.step.as_str(), duty.vote), ("voted", Some(2)), "the vote is journaled before the commit");
        assert!(duty.salt.is_some());
        verifiers[i] = verifier(i, None);
    }
    let mut all: Vec<RunnerProcess> = verifiers;
    let pool = wait_ruled(&world, cheat, &mut all).await;
    assert_eq!(pool.ruling, 2, "not acceptable");
    let progress = world.progress(cheat).await;
    assert_eq!(
        (progress.state, progress.closeReason),
        (state::RESOLVED, cairn_bindings::enums::close_reason::OPERATOR_WRONG),
        "resolved, operator wrong"
    );
    assert_eq!(progress.challenger, sybil.address(), "the cheat's address came first");

    // What each ticket gets: its bond and an equal share of the slashed bond after the fee refund and the burn.
    let params = world.market().params().call().await.unwrap();
    let fee = committee.params().call().await.unwrap().fee;
    let rest = progress.bond.saturating_sub(fee);
    let share = (rest - rest * U256::from(params.burnBps) / U256::from(10_000)) / U256::from(2);
    assert_eq!(pool.payout, params.challengeBond + share);
    wait_log(&watcher, "withdrew the watcher's earnings").await;
    assert_eq!(desk.ticketOf(cheat, watcher_key).call().await.unwrap(), ticket::COLLECTED, "collected");
    assert_eq!(
        desk.ticketOf(cheat, sybil.address()).call().await.unwrap(),
        ticket::HELD,
        "the sybil's ticket is its own affair"
    );
    assert_eq!(desk.balanceOf(watcher_key, Address::ZERO).call().await.unwrap(), U256::ZERO, "withdrawn");
    let paid = world.events::<DisputeDesk::ChallengerPaid>("DisputeDesk").await;
    assert_eq!(paid.len(), 1);
    assert_eq!((paid[0].challenger, paid[0].amount), (watcher_key, pool.payout));
    // Each juror sees the ruling on its next poll of the chain and closes its duty then.
    for &i in &drawn {
        let dir = world.dir.path().join(format!("verifier-{i}"));
        let started = Instant::now();
        loop {
            let duty = Journal::open(&dir).await.unwrap().all_duties().await.unwrap();
            let duty = duty.into_iter().find(|d| d.dispute == dispute).unwrap();
            if duty.step.as_str() == "done" || started.elapsed() > Duration::from_secs(30) {
                assert_eq!((duty.step.as_str(), duty.vote), ("done", Some(2)), "verifier-{i}:\n{}", all[i].log());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for (i, v) in all.iter_mut().enumerate() {
        assert!(v.terminate().await.success(), "verifier-{i}:\n{}", v.log());
    }
    assert!(watcher.terminate().await.success(), "{}", watcher.log());
}

/// Input availability (issue #12): a job whose input CID does not hold the input its terms and receipt bind.
/// The operator (played by the test) submitted a result anyway; a stranger challenges; the drawn verifiers
/// cannot get the input (the bytes at the CID hash to another digest), vote 3, and the ruling refunds the buyer,
/// returns the challenger's bond and fee, and charges the operator the fee plus what a ruling of 2 would burn
/// out of its bond.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifiers_rule_an_input_nobody_can_fetch_unavailable() {
    let world = World::start().await;
    let model = world.publish(false).await;
    let payment = parse_ether("0.01").unwrap();
    let expected = expected_output(INPUT.as_bytes());
    let input = world.kubo.add_bytes("input.json", INPUT.as_bytes().to_vec(), AddOptions::default()).await.unwrap();
    let elsewhere = br#"["Not the input the job binds."]"#.to_vec();
    let other = world.kubo.add_bytes("other.json", elsewhere, AddOptions::default()).await.unwrap();
    let hidden = cairn_ipfs::AddedFile { cid: other.cid, ..input };
    let buyer = world.as_key(devnet_key("buyer")).await;
    let deadline = world.now().await + 3600;
    let job = crate::world::request_job(&buyer, world.address("JobMarket"), model, &hidden, payment, deadline).await;
    submit_as_operator_0(&world, job, expected.bytes.clone()).await;
    let operator = devnet_key("operator-0").address();
    let registry = OperatorRegistry::new(world.address("OperatorRegistry"), world.deployer.provider().clone());
    let stake_before = registry.getOperator(operator).call().await.unwrap().stake;

    let challenger = funded_stranger(&world, "1").await;
    let dispute = challenge_as(&world, &challenger, job).await;
    let mut verifiers: Vec<RunnerProcess> = (0..5).map(|i| verifier_service(&world, i, None)).collect();
    let pool = wait_ruled(&world, job, &mut verifiers).await;
    assert_eq!(pool.ruling, 3, "input unavailable");
    let progress = world.progress(job).await;
    assert_eq!(
        (progress.state, progress.closeReason),
        (state::RESOLVED, cairn_bindings::enums::close_reason::INPUT_UNAVAILABLE),
        "resolved, input unavailable"
    );
    let committee = world.committee();
    let fee = committee.params().call().await.unwrap().fee;
    let params = world.market().params().call().await.unwrap();
    assert_eq!(pool.payout, params.challengeBond, "the ticket gets its bond back");
    let desk = DisputeDesk::new(world.address("DisputeDesk"), world.deployer.provider().clone());
    assert_eq!(
        desk.balanceOf(challenger.address(), Address::ZERO).call().await.unwrap(),
        fee,
        "the challenger's fee back, paid by the operator"
    );
    let after = registry.getOperator(operator).call().await.unwrap();
    let burned = (progress.bond - fee) * U256::from(pool.burnBps) / U256::from(10_000);
    assert_eq!(after.stake, stake_before - fee - burned, "the operator charged the fee and the burn");
    assert_eq!(after.disputesLost, 0);
    assert_eq!(
        world.market().balanceOf(devnet_key("buyer").address(), Address::ZERO).call().await.unwrap(),
        payment,
        "the buyer refunded in full"
    );
    for juror in committee.jurorsOf(dispute).call().await.unwrap() {
        let i = verifier_index(juror);
        let dir = world.dir.path().join(format!("verifier-{i}"));
        let duty = Journal::open(&dir).await.unwrap().all_duties().await.unwrap();
        let duty = duty.into_iter().find(|d| d.dispute == dispute).unwrap();
        assert_eq!(duty.vote, Some(3), "verifier-{i} voted 3:\n{}", verifiers[i].log());
    }
    for (i, v) in verifiers.iter_mut().enumerate() {
        assert!(v.terminate().await.success(), "verifier-{i}:\n{}", v.log());
    }
}

/// Canaries (issue #12, "Jurors pay for being wrong, absent or lazy"): operator-0 also plays the treasury's
/// canaries (`[canary]`, every one known-bad here). A fresh buyer funded by the canary key requests a job;
/// operator-0 claims it and submits the known-bad output (rows reversed: shape and norm pass); a fresh challenger
/// challenges it; the canary key registers keccak256(disputeId, 2, salt) by the seed block, through the same path
/// as a decoy, and reveals it once the votes are bound. The five verifiers re-run, vote 2 and are judged against
/// the answer; the challenger's ticket is collected and withdrawn. Then a griefer disputes an honest job of
/// operator-0: the canary key registers a decoy for it by its seed block, which is never revealed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_canary_is_served_challenged_committed_revealed_and_ruled_and_other_disputes_get_decoys() {
    plays_a_canary(2).await;
}

/// The known-good half: operator-0 serves the true output, the fresh challenger challenges it anyway, the key
/// reveals answer 1, the verifiers vote 1; the challenger's ticket pays nothing (it stays held, nothing to
/// withdraw), and other disputes still get decoys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_canary_is_challenged_and_ruled_acceptable_against_its_revealed_answer() {
    plays_a_canary(1).await;
}

/// A canary step that waits does not hold the jobs back: the poll runs the canaries in a task of their own.
/// Here the canary is held for 25 s right after its request's receipt (`CAIRN_RUNNER_PAUSE_AFTER`), and its own
/// job, a job like any other to the runner, is claimed and its result submitted meanwhile. (While the poll ran
/// the canaries itself, nothing was claimed until the canary's step ended.) A shutdown then lets the held step
/// end (its job id journaled) before the process exits.
#[tokio::test]
async fn a_canary_step_that_waits_does_not_hold_the_jobs_back() {
    use cairn_runner::service::journal::CanaryStep;
    let world = World::start().await;
    let model = world.publish(false).await;
    let committee = world.committee();
    let canary_key = funded_stranger(&world, "5").await;
    let call = committee.setCanaryKey(canary_key.address());
    world.deployer.send("setCanaryKey", call.into_transaction_request()).await.unwrap();
    let input = world.dir.path().join("canary-input.json");
    std::fs::write(&input, INPUT).unwrap();
    let operator_dir = world.dir.path().join("operator-0");
    let canary = format!(
        "[canary]\nkey = {{ env = \"CAIRN_CANARY_KEY\" }}\nmodel = {}\ninputs = [\"{}\"]\nevery = \"1h\"\n\
         bad_share = 0.0\nchallenge_delay = 0\n",
        model.model_id,
        input.display(),
    );
    let config = world.config("operator-0", &operator_dir, None, &canary);
    let hex = |key: &PrivateKeySigner| format!("0x{}", alloy::hex::encode(key.to_bytes()));
    let env = [
        ("CAIRN_RUNNER_KEY", hex(&devnet_signer_key("operator-0"))),
        ("CAIRN_CANARY_KEY", hex(&canary_key)),
        ("CAIRN_RUNNER_PAUSE_AFTER", "canary-requested".to_owned()),
        ("CAIRN_RUNNER_PAUSE_SECS", "25".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let mut runner = spawn_runner(&config, &operator_dir.with_extension("run.log"), &env);
    wait_log(&runner, "CAIRN_RUNNER_PAUSE_AFTER: holding the job").await;
    let held = Instant::now();
    let c = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap().remove(0);
    let buyer = PrivateKeySigner::from_bytes(&c.buyer_key).unwrap().address();
    let requests = world.events::<JobMarket::JobRequested>("JobMarket").await;
    let job = requests.iter().find(|r| r.buyer == buyer).expect("the canary's request landed").jobId;
    world.wait_state(job, state::SUBMITTED, &mut runner).await;
    assert!(held.elapsed() < Duration::from_secs(25), "submitted only after the hold:\n{}", runner.log());
    let c = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap().remove(0);
    assert_eq!((c.step, c.job), (CanaryStep::Requesting, None), "the canary's step is still held");
    assert_eq!(world.progress(job).await.operator, devnet_key("operator-0").address(), "claimed by operator-0");
    let status = runner.terminate().await;
    assert!(status.success(), "a clean shutdown: {status}\n{}", runner.log());
    let c = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap().remove(0);
    assert_eq!(c.job, Some(job), "the held step ended before the exit:\n{}", runner.log());
}

/// One canary with `answer` (1: known-good, every canary so; 2: known-bad), played end to end, then a griefer's
/// dispute that gets a decoy registration.
async fn plays_a_canary(answer: u8) {
    use cairn_runner::service::{canary::commitment, journal::CanaryStep};
    let world = World::start().await;
    let model = world.publish(false).await;
    let committee = world.committee();
    let desk = DisputeDesk::new(world.address("DisputeDesk"), world.deployer.provider().clone());
    let canary_key = funded_stranger(&world, "5").await;
    let call = committee.setCanaryKey(canary_key.address());
    world.deployer.send("setCanaryKey", call.into_transaction_request()).await.unwrap();

    let mut runners: Vec<RunnerProcess> = (0..5).map(|i| verifier_service(&world, i, None)).collect();
    let input = world.dir.path().join("canary-input.json");
    std::fs::write(&input, INPUT).unwrap();
    let operator_dir = world.dir.path().join("operator-0");
    let canary = format!(
        "[canary]\nkey = {{ env = \"CAIRN_CANARY_KEY\" }}\nmodel = {}\ninputs = [\"{}\"]\nevery = \"1h\"\nbad_share = {}\n\
         challenge_delay = 0\n",
        model.model_id,
        input.display(),
        if answer == 2 { "1.0" } else { "0.0" }
    );
    let config = world.config("operator-0", &operator_dir, None, &canary);
    let hex = |key: &PrivateKeySigner| format!("0x{}", alloy::hex::encode(key.to_bytes()));
    let keys = vec![
        ("CAIRN_RUNNER_KEY".to_owned(), hex(&devnet_signer_key("operator-0"))),
        ("CAIRN_CANARY_KEY".to_owned(), hex(&canary_key)),
    ];
    if answer == 2 {
        // Killed right after the request's receipt, before its job id is journaled: the restart must still know
        // the job as its bad canary (by its buyer) when it serves it, and find the request.
        let crash =
            [keys.clone(), vec![("CAIRN_RUNNER_CRASH_AFTER".to_owned(), "canary-requested".to_owned())]].concat();
        let mut crashing = spawn_runner(&config, &operator_dir.with_extension("crash.log"), &crash);
        let status = crashing.wait_exit().await;
        assert!(!status.success(), "killed after the request: {status}\n{}", crashing.log());
        assert!(crashing.log().contains("CAIRN_RUNNER_CRASH_AFTER=canary-requested"), "{}", crashing.log());
        let c = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap().remove(0);
        assert_eq!((c.step, c.job), (CanaryStep::Requesting, None), "the request is sent, its job not journaled");
        let buyer = PrivateKeySigner::from_bytes(&c.buyer_key).unwrap().address();
        let requests = world.events::<JobMarket::JobRequested>("JobMarket").await;
        assert!(requests.iter().any(|r| r.buyer == buyer), "the request landed before the crash");
    }
    runners.push(spawn_runner(&config, &operator_dir.with_extension("run.log"), &keys));

    // The canary's job and dispute, from operator-0's journal.
    let started = Instant::now();
    let (job, dispute) = loop {
        let canaries = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap();
        if let Some(c) = canaries.first()
            && let (Some(job), Some(dispute)) = (c.job, c.dispute)
            && matches!(c.step, CanaryStep::Registered | CanaryStep::Revealed | CanaryStep::Done)
        {
            break (job, dispute);
        }
        assert!(
            canaries.first().is_none_or(|c| !matches!(c.step, CanaryStep::Unwinding | CanaryStep::Void)),
            "the canary was unwound ({:?}):\n{}",
            canaries.first().map(|c| c.note.clone()),
            runners[5].log()
        );
        assert!(started.elapsed() < Duration::from_secs(180), "no canary registered:\n{}", runners[5].log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The devnet's anvil mines only on transactions: the seed block and one more, so the keepers can draw.
    let p = world.deployer.provider();
    p.raw_request::<_, serde_json::Value>("anvil_mine".into(), (U256::from(2),)).await.unwrap();
    let pool = wait_ruled(&world, job, &mut runners).await;
    assert_eq!(pool.ruling, answer, "ruled as the canary's answer");
    assert_eq!(committee.canaryAnswer(dispute).call().await.unwrap(), answer, "revealed:\n{}", runners[5].log());

    let c = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap().remove(0);
    assert_eq!(c.answer, answer);
    let registered =
        world.events::<cairn_bindings::ReexecutionCommittee::CanaryRegistered>("ReexecutionCommittee").await;
    assert_eq!(registered.len(), 1, "one registration so far");
    assert_eq!(registered[0].commitment, commitment(dispute, answer, c.salt), "the answer's commitment");
    let progress = world.progress(job).await;
    let buyer = PrivateKeySigner::from_bytes(&c.buyer_key).unwrap().address();
    let challenger = PrivateKeySigner::from_bytes(&c.challenger_key).unwrap().address();
    assert_eq!(progress.operator, devnet_key("operator-0").address(), "served by the canary's own operator");
    assert_eq!(progress.challenger, challenger, "challenged by the fresh challenger");
    let requests = world.logs_of::<JobMarket::JobRequested>(job).await;
    assert_eq!(requests[0].topics()[2], buyer.into_word(), "requested by the fresh buyer");
    for juror in committee.jurorsOf(dispute).call().await.unwrap() {
        let i = verifier_index(juror);
        let duties = Journal::open(&world.dir.path().join(format!("verifier-{i}"))).await.unwrap();
        let duty = duties.all_duties().await.unwrap().into_iter().find(|d| d.dispute == dispute).unwrap();
        assert_eq!(duty.vote, Some(answer), "verifier-{i} re-ran and voted the answer");
    }
    // The challenger's ticket is collected and withdrawn, the buyer's refund withdrawn, and the canary is done.
    let started = Instant::now();
    loop {
        let c = Journal::open(&operator_dir).await.unwrap().canaries().await.unwrap().remove(0);
        if c.step == CanaryStep::Done {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never done ({:?}):\n{}", c, runners[5].log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expected = if answer == 2 { ticket::COLLECTED } else { ticket::HELD };
    assert_eq!(desk.ticketOf(job, challenger).call().await.unwrap(), expected, "collected where it pays");
    assert_eq!(desk.balanceOf(challenger, Address::ZERO).call().await.unwrap(), U256::ZERO, "withdrawn");
    let at_committee = committee.balanceOf(challenger, Address::ZERO).call().await.unwrap();
    assert_eq!(at_committee, U256::ZERO, "nothing left at the committee");
    let market = world.market();
    assert_eq!(market.balanceOf(buyer, Address::ZERO).call().await.unwrap(), U256::ZERO, "nothing left in the market");
    let withdrawals = world
        .logs(
            &alloy::rpc::types::Filter::new()
                .address(world.address("JobMarket"))
                .event_signature(JobMarket::Withdrawn::SIGNATURE_HASH)
                .topic1(buyer.into_word()),
        )
        .await;
    assert_eq!(withdrawals.len(), usize::from(answer == 2), "the buyer's refund (ruling 2 only) withdrawn");

    // A griefer disputes an honest job of operator-0: a decoy registration follows, never revealed.
    let honest = world.request(model, INPUT.as_bytes(), parse_ether("0.01").unwrap()).await;
    world.wait_state(honest, cairn_bindings::enums::job_state::SUBMITTED, &mut runners[5]).await;
    // Challenged without mining more blocks, so the decoy can still land by the seed block.
    let griefer = world.as_key(funded_stranger(&world, "1").await).await;
    let griefer_desk = DisputeDesk::new(world.address("DisputeDesk"), griefer.provider().clone());
    let cost = griefer_desk.challengeCost(honest).call().await.unwrap();
    griefer.send("challenge", griefer_desk.challenge(honest).value(cost).into_transaction_request()).await.unwrap();
    let other = desk.poolOf(honest).call().await.unwrap().disputeId;
    let started = Instant::now();
    let registered = loop {
        let registered = world
            .logs(
                &alloy::rpc::types::Filter::new()
                    .address(world.address("ReexecutionCommittee"))
                    .event_signature(cairn_bindings::ReexecutionCommittee::CanaryRegistered::SIGNATURE_HASH),
            )
            .await;
        if registered.len() == 2 {
            break registered;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no decoy:\n{}", runners[5].log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Both registrations landed by their dispute's seed block, the same way: timing does not tell them apart.
    let opened = world.events::<cairn_bindings::ReexecutionCommittee::DisputeOpened>("ReexecutionCommittee").await;
    for (registration, id) in registered.iter().zip([dispute, other]) {
        let seed = opened.iter().find(|o| o.disputeId == id).unwrap().seedBlock;
        assert!(
            U256::from(registration.block_number.unwrap()) <= seed,
            "dispute {id}: registered after its seed block"
        );
    }
    // The griefer's dispute is ruled by the votes (1: the honest output), its decoy never revealed.
    p.raw_request::<_, serde_json::Value>("anvil_mine".into(), (U256::from(2),)).await.unwrap();
    let ruled = wait_ruled(&world, honest, &mut runners).await;
    assert_eq!(ruled.ruling, 1, "the honest output stands");
    assert_eq!(committee.canaryAnswer(other).call().await.unwrap(), 0, "the decoy is never revealed");
    let registrations =
        world.events::<cairn_bindings::ReexecutionCommittee::CanaryRegistered>("ReexecutionCommittee").await;
    assert_eq!(registrations.len(), 2, "one registration per dispute, no more");
    for r in &mut runners {
        assert!(r.terminate().await.success(), "{}", r.log());
    }
}
