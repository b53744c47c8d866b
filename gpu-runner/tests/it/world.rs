//! A deployed, seeded devnet with Kubo and the real MiniLM published, and `cairn-runner run` as a process:
//! shared by the service's tests (`run.rs`) and its benchmark (`benches/runner.rs`, through `#[path]`).

// Each user takes what it needs.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256, utils::parse_ether},
    providers::Provider,
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use cairn_bindings::{JobMarket, ModelRegistry, job_market::IJobMarket};
use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
    seed::{devnet_key, devnet_signer_key},
};
use cairn_ipfs::{AddOptions, KuboClient};
use cairn_primitives::Sha256Digest;
use cairn_protocol::{
    ModelManifest, Region, RegionMask, Runtime,
    card::from_folder,
    manifest::{FileEntry, Manifest},
    typed,
};
use cairn_testkit::{Anvil, Kubo, model_digests, model_dir};

pub(crate) const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A deployed, seeded devnet and a Kubo node.
pub(crate) struct World {
    pub(crate) anvil: Anvil,
    pub(crate) _node: Kubo,
    pub(crate) kubo: KuboClient,
    pub(crate) deployer: Chain,
    pub(crate) deployments: Deployments,
    pub(crate) dir: tempfile::TempDir,
}

/// A published model version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Published {
    pub(crate) model_id: U256,
    pub(crate) version: u64,
    pub(crate) price: U256,
}

impl World {
    pub(crate) async fn start() -> Self {
        let (anvil, node) = tokio::join!(Anvil::start(), Kubo::start());
        let (anvil, node) = (anvil.unwrap(), node.unwrap());
        let kubo = KuboClient::new(node.api_url()).unwrap();
        let deployer =
            Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
        let config = DeployConfig::defaults("devnet").unwrap().with_audits_off();
        let dir = tempfile::tempdir().unwrap();
        let deployments_dir = dir.path().join("deployments");
        let options = Options { dir: deployments_dir, mode: Mode::New, root: cairn_testkit::repo_root() };
        let mut deployments = cairn_deploy::deploy::deploy(&deployer, &config, &options, &|_| {}).await.unwrap();
        cairn_deploy::seed::seed(&deployer, &mut deployments, &|_| {}).await.unwrap();
        Self { anvil, _node: node, kubo, deployer, deployments, dir }
    }

    pub(crate) fn address(&self, name: &str) -> Address {
        self.deployments.address(name).unwrap()
    }

    pub(crate) fn market(&self) -> JobMarket::JobMarketInstance<alloy::providers::DynProvider> {
        JobMarket::new(self.address("JobMarket"), self.deployer.provider().clone())
    }

    /// The committee, read through the deployer's connection.
    pub(crate) fn committee(
        &self,
    ) -> cairn_bindings::ReexecutionCommittee::ReexecutionCommitteeInstance<alloy::providers::DynProvider> {
        cairn_bindings::ReexecutionCommittee::new(
            self.address("ReexecutionCommittee"),
            self.deployer.provider().clone(),
        )
    }

    pub(crate) async fn as_key(&self, key: PrivateKeySigner) -> Chain {
        Chain::connect(self.anvil.url(), key, ChainOptions::default()).await.unwrap()
    }

    /// The seller publishes MiniLM: its four runtime files added to Kubo as one folder, a v2 manifest listing
    /// them, the listing signed by the seller and relayed by the deployer. With `tamper`, the folder on Kubo
    /// holds weights with one flipped byte while the manifest and the listing name the real ones.
    pub(crate) async fn publish(&self, tamper: bool) -> Published {
        self.publish_priced(tamper, Address::ZERO, parse_ether("0.002").unwrap()).await
    }

    /// [`World::publish`] in `token` at `price` per call (token base units).
    pub(crate) async fn publish_priced(&self, tamper: bool, token: Address, price: U256) -> Published {
        let src = model_dir();
        let copy = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for name in Runtime::BertEmbedV1.required_files() {
            let mut path = src.join(name);
            if tamper && *name == "model.safetensors" {
                let mut bytes = std::fs::read(&path).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 1;
                path = copy.path().join(name);
                std::fs::write(&path, bytes).unwrap();
            }
            files.push((name.to_string(), path));
        }
        let added = self.kubo.add_files("model", files, AddOptions::default(), None).await.unwrap();
        let real = model_digests();
        let entries: Vec<FileEntry> = added
            .files
            .iter()
            .map(|f| FileEntry { path: f.path.clone(), size: f.size, sha256: real.get(&f.path).unwrap() })
            .collect();
        let card = from_folder(&src, None).unwrap();
        let manifest = Manifest::new(Runtime::BertEmbedV1, "model.safetensors", added.cid.clone(), entries, card);
        manifest.check().unwrap();
        let bytes = manifest.to_json().into_bytes();
        let digest = Sha256Digest::of(&bytes);
        let manifest_cid = self.kubo.add_bytes("manifest.json", bytes, AddOptions::default()).await.unwrap().cid;

        let weights = B256::from(real.get("model.safetensors").unwrap().0);
        self.list(manifest_cid.as_str(), B256::from(digest.0), weights, Runtime::BertEmbedV1.id(), token, price).await
    }

    /// The seeded seller lists a new model whose manifest is `manifest_cid` (sha256 `manifest_digest`), with
    /// `weights` and `runtime` as registered (EIP-712 signed by the seller, relayed by the deployer).
    pub(crate) async fn list(
        &self,
        manifest_cid: &str,
        manifest_digest: B256,
        weights: B256,
        runtime: B256,
        token: Address,
        price: U256,
    ) -> Published {
        let seller = devnet_key("seller");
        let registry = ModelRegistry::new(self.address("ModelRegistry"), self.deployer.provider().clone());
        let listing = ModelManifest {
            seller: seller.address(),
            modelId: U256::ZERO,
            manifestCid: manifest_cid.to_owned(),
            manifestDigest: manifest_digest,
            weightsDigest: weights,
            runtime,
            paymentToken: token,
            pricePerCall: price,
            licensePrice: U256::ZERO,
            licensePeriod: 0,
            regionMask: RegionMask::of(Region::ALL).to_u256(),
            nonce: registry.nonces(seller.address()).call().await.unwrap(),
            deadline: self.now().await + 3600,
        };
        let domain = typed::domain(self.deployer.chain_id(), self.address("ModelRegistry"));
        let signature = typed::sign(&seller, &listing, &domain).await.unwrap();
        let call = registry.register(listing, signature.as_bytes().into());
        let receipt = self.deployer.send("register", call.into_transaction_request()).await.unwrap();
        let event = receipt.decoded_log::<ModelRegistry::ModelRegistered>().unwrap();
        Published { model_id: event.modelId, version: event.version, price }
    }

    /// The buyer adds `input` to Kubo and requests a job on `model`, paying `payment` wei.
    pub(crate) async fn request(&self, model: Published, input: &[u8], payment: U256) -> U256 {
        let added = self.kubo.add_bytes("input.json", input.to_vec(), AddOptions::default()).await.unwrap();
        let buyer = self.as_key(devnet_key("buyer")).await;
        let deadline = self.now().await + 3600;
        request_job(&buyer, self.address("JobMarket"), model, &added, payment, deadline).await
    }

    pub(crate) async fn progress(&self, job: U256) -> IJobMarket::JobProgress {
        self.market().getProgress(job).call().await.unwrap()
    }

    pub(crate) async fn now(&self) -> u64 {
        let p = self.deployer.provider();
        let n = p.get_block_number().await.unwrap();
        p.get_block_by_number(n.into()).await.unwrap().unwrap().header.timestamp
    }

    /// Moves the chain's clock `secs` forward and mines a block.
    pub(crate) async fn advance(&self, secs: u64) {
        let p = self.deployer.provider();
        p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(secs),)).await.unwrap();
        p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
    }

    /// Moves the clock past `job`'s challenge window, waits for `runner` to finalize it, and returns the
    /// operator fee (wei) its `PaymentSplit` paid.
    pub(crate) async fn finalized_fee(&self, job: U256, runner: &mut RunnerProcess) -> U256 {
        let ends = self.progress(job).await.challengeEnds;
        self.advance(ends - self.now().await + 1).await;
        self.wait_state(job, state::FINALIZED, runner).await;
        let split = self.logs_of::<JobMarket::PaymentSplit>(job).await;
        JobMarket::PaymentSplit::decode_log(&split[0].inner).unwrap().data.operatorFee
    }

    /// Waits (up to 3 minutes) until `job` is in `state`.
    pub(crate) async fn wait_state(&self, job: U256, state: u8, runner: &mut RunnerProcess) {
        let started = Instant::now();
        loop {
            let now = self.progress(job).await.state;
            if now == state {
                return;
            }
            if let Ok(Some(status)) = runner.child.try_wait() {
                panic!("the runner exited ({status}) with job {job} in state {now}:\n{}", runner.shown());
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "job {job} stayed in state {now}, not {state}:\n{}",
                runner.shown()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Logs of `event` about `job`.
    pub(crate) async fn logs_of<E: SolEvent>(&self, job: U256) -> Vec<alloy::rpc::types::Log> {
        self.logs(
            &Filter::new()
                .address(self.address("JobMarket"))
                .event_signature(E::SIGNATURE_HASH)
                .topic1(B256::from(job)),
        )
        .await
    }

    /// Every `event` the deployed `contract` emitted, decoded.
    pub(crate) async fn events<E: SolEvent>(&self, contract: &str) -> Vec<E> {
        let logs = self.logs(&Filter::new().address(self.address(contract)).event_signature(E::SIGNATURE_HASH)).await;
        logs.iter().map(|l| E::decode_log(&l.inner).unwrap().data).collect()
    }

    pub(crate) async fn logs(&self, filter: &Filter) -> Vec<alloy::rpc::types::Log> {
        self.deployer.provider().get_logs(&filter.clone().from_block(0)).await.unwrap()
    }

    /// A runner config for the seeded operator `label`, its state in `state`, reaching the chain and Kubo at
    /// `urls` (default: directly).
    pub(crate) fn config(&self, label: &str, state: &Path, urls: Option<(&str, &str)>, extra: &str) -> PathBuf {
        let (rpc, kubo) = urls.unwrap_or((self.anvil.url(), self.kubo.url()));
        let path = state.with_extension("toml");
        let text = format!(
            "[chain]\nrpc_url = \"{}\"\ndeployments = \"{}\"\npoll_interval_ms = 100\n\n\
             [operator]\naddress = \"{}\"\nsigner = {{ env = \"CAIRN_RUNNER_KEY\" }}\n\n\
             [ipfs]\napi = \"{}\"\n\n[storage]\nstate_dir = \"{}\"\n\n[engine]\nthreads = 1\n\n{extra}",
            rpc,
            self.dir.path().join("deployments").display(),
            devnet_key(label).address(),
            kubo,
            state.display(),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts `cairn-runner run` for `label` (its hot key in the environment), crashing at `crash` if given.
    pub(crate) fn runner(&self, label: &str, state: &Path, crash: Option<&str>) -> RunnerProcess {
        self.runner_with(label, state, crash.map(|p| ("CAIRN_RUNNER_CRASH_AFTER", p)), None, "")
    }

    /// [`World::runner`] with a test hook (`CAIRN_RUNNER_CRASH_AFTER` or `CAIRN_RUNNER_PAUSE_AFTER`) and other
    /// URLs for the chain and Kubo.
    pub(crate) fn runner_with(
        &self,
        label: &str,
        state: &Path,
        hook: Option<(&str, &str)>,
        urls: Option<(&str, &str)>,
        extra_toml: &str,
    ) -> RunnerProcess {
        let config = self.config(label, state, urls, extra_toml);
        let log = state.with_extension(format!("{}.log", hook.map_or("run", |(_, p)| p)));
        let key = format!("0x{}", alloy::hex::encode(devnet_signer_key(label).to_bytes()));
        let mut env = vec![("CAIRN_RUNNER_KEY".to_owned(), key)];
        if let Some((var, point)) = hook {
            env.push((var.to_owned(), point.to_owned()));
        }
        spawn_runner(&config, &log, &env)
    }
}

/// `buyer` requests a job on `model` for the pinned input `added`, paying `payment` wei in ETH, claimable until
/// `deadline`; returns the job id.
pub(crate) async fn request_job(
    buyer: &Chain,
    market: Address,
    model: Published,
    added: &cairn_ipfs::AddedFile,
    payment: U256,
    deadline: u64,
) -> U256 {
    let market = JobMarket::new(market, buyer.provider().clone());
    let call = market
        .requestJob(
            model.model_id,
            model.version,
            B256::from(added.sha256.0),
            added.cid.to_string(),
            Address::ZERO,
            payment,
            model.price,
            deadline,
            U256::ZERO,
        )
        .value(payment);
    let receipt = buyer.send("requestJob", call.into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JobMarket::JobRequested>().unwrap().jobId
}

/// Starts `cairn-runner run --config config`, logging to `log`, with `env` (and no test hook but those).
pub(crate) fn spawn_runner(config: &Path, log: &Path, env: &[(String, String)]) -> RunnerProcess {
    let file = std::fs::File::create(log).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn-runner"));
    command
        .args(["run", "--config"])
        .arg(config)
        .env("CAIRN_LOG", "cairn_runner=info,cairn_chain=info")
        .env_remove("CAIRN_RUNNER_CRASH_AFTER")
        .env_remove("CAIRN_RUNNER_PAUSE_AFTER")
        .env_remove("CAIRN_RUNNER_PAUSE_SECS")
        .stdout(Stdio::null())
        .stderr(file);
    for (k, v) in env {
        command.env(k, v);
    }
    RunnerProcess { child: command.spawn().unwrap(), log: log.to_path_buf() }
}

/// A running `cairn-runner run`, killed on drop.
pub(crate) struct RunnerProcess {
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl RunnerProcess {
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log for a failure message, short enough for a truncated CI report: first a count of the lines left
    /// out, then the log where a line whose message and error (timestamp aside, each cut at 300 characters) was
    /// seen three times already is left out, so a retry loop cannot push out the lines that tell what happened.
    pub(crate) fn shown(&self) -> String {
        let log = self.log();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let (mut kept, mut left_out) = (String::new(), 0usize);
        for line in log.lines() {
            let message = line.split_once(' ').map_or(line, |(_, rest)| rest);
            let key: String = message.chars().take(300).collect();
            let count = seen.entry(key).or_insert(0);
            *count += 1;
            if *count <= 3 {
                kept.extend(line.chars().take(600));
                kept.push('\n');
            } else {
                left_out += 1;
            }
        }
        format!("[{left_out} repeated lines left out]\n{kept}")
    }

    /// Waits (up to 3 minutes) for the process to exit by itself.
    pub(crate) async fn wait_exit(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < Duration::from_secs(180), "the runner did not exit:\n{}", self.shown());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM once the runner is up (a signal before its handler exists would kill it), then waits for the
    /// drain to end.
    pub(crate) async fn terminate(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        while !self.log().contains("runner ready") {
            assert!(started.elapsed() < Duration::from_secs(120), "the runner never got ready:\n{}", self.shown());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.wait_exit().await
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (up to 2 minutes) until the runner has logged `text`.
pub(crate) async fn wait_log(runner: &RunnerProcess, text: &str) {
    let started = Instant::now();
    while !runner.log().contains(text) {
        assert!(started.elapsed() < Duration::from_secs(120), "never logged {text:?}:\n{}", runner.shown());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) use cairn_bindings::enums::job_state as state;
