//! `runner.toml`: what `cairn-runner run` serves and where it keeps its state. Every key but
//! `operator.address` has a default; `deploy/runner.example.toml` is the documented example.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::primitives::{Address, U256};
use anyhow::{Context as _, bail};
use cairn_chain::signer::SignerSource;
use serde::{Deserialize, Deserializer};

use crate::bert::DeviceKind;

/// Reads an amount (wei, or a token's smallest units) as the config writes it: a decimal string, or a TOML
/// integer (TOML's own range is 64-bit signed, about 9.2 ETH in wei; the `toml` crate reads larger ones up to
/// 2^128 − 1, and any amount fits a string). The text is parsed as a `U256` in [`RunnerConfig::resolve`], which
/// names the key when it is not a whole number.
fn amount_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Amount;
    impl serde::de::Visitor<'_> for Amount {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(
                "a whole number of units: an integer such as 5000, or a decimal string such as \"5000000000000000000\"",
            )
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
    }
    d.deserialize_any(Amount)
}

/// [`amount_text`] of an optional key.
fn optional_amount_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    amount_text(d).map(Some)
}

/// [`amount_text`] of each value of a table.
fn amount_texts<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Address, String>, D::Error> {
    #[derive(Deserialize)]
    struct Text(#[serde(deserialize_with = "amount_text")] String);
    Ok(BTreeMap::<Address, Text>::deserialize(d)?.into_iter().map(|(k, Text(v))| (k, v)).collect())
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerConfig {
    /// The chain and the deployment.
    #[serde(default)]
    pub chain: ChainSection,
    /// The operator the runner claims for, and its hot key.
    pub operator: OperatorSection,
    /// Kubo.
    #[serde(default)]
    pub ipfs: IpfsSection,
    /// Where the journal, the outputs and the model cache live.
    #[serde(default)]
    pub storage: StorageSection,
    /// Which jobs to take, and how many at once.
    #[serde(default)]
    pub jobs: JobsSection,
    /// How inference runs.
    #[serde(default)]
    pub engine: EngineSection,
    /// The `/health` and `/metrics` endpoint.
    #[serde(default)]
    pub http: HttpSection,
    /// Watcher mode: re-executing other operators' results and challenging bad ones.
    #[serde(default)]
    pub watch: WatchSection,
    /// Verifier mode: voting as a drawn juror, and the keeper actions disputes need.
    #[serde(default)]
    pub verify: VerifySection,
    /// The gasless relay for browsers.
    #[serde(default)]
    pub relay: RelaySection,
    /// Register and stake on the first start (absent: the operator must be registered already).
    #[serde(default)]
    pub register: Option<RegisterSection>,
    /// Deliberate misbehaviour for the devnet's adversarial scenarios; refused on every chain but anvil's.
    #[serde(default)]
    pub adversary: AdversarySection,
    /// The treasury's canaries (absent: none): jobs with a known answer, disputed from fresh addresses, their
    /// answer committed to the committee before the draw (`service::canary`).
    #[serde(default)]
    pub canary: Option<CanarySection>,
}

/// `[canary]`: this runner also plays the treasury's canaries (issue #12, "Jurors pay for being wrong, absent or
/// lazy"; docs/ARCHITECTURE.md). Every `every`, a fresh buyer key requests a job of `model` on one of `inputs`;
/// this operator claims it and submits a known-good output, or (a `bad_share` of them) a known-bad one that
/// passes every check but a re-execution; a fresh challenger key challenges it, the canary key registers the
/// answer's commitment and reveals it once the votes are bound. Every other dispute gets a decoy registration (a
/// `decoys` share), so registrations do not mark canaries. The committee's `canaryKey` must be `key`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanarySection {
    /// The committee's canary key (set by governance with `setCanaryKey`); it also funds the fresh keys, so it
    /// needs ETH: per canary, `payment` + the challenge's cost + 2 × `gas_money` (+ a licence, if the model sells
    /// them).
    pub key: SignerSource,
    /// The model canary jobs run (one this runner serves, priced in ETH; its latest version at each canary).
    pub model: u64,
    /// Input files in the model's runtime format (a JSON list of at least 2 sentences for bert-embed/v1: a
    /// known-bad output swaps rows), like real buyers'. Each is used once: an input seen again would let a juror
    /// compare against the revealed canary instead of re-running; with every one used, no canary is planned
    /// until more are listed.
    pub inputs: Vec<PathBuf>,
    /// Time between canaries (seconds, or e.g. "6h"). Default one day.
    #[serde(default = "default_canary_every")]
    pub every: cairn_protocol::units::Secs,
    /// Share of canaries with a known-bad output (answer 2), the rest known-good (answer 1). Default 0.5.
    #[serde(default = "default_half")]
    pub bad_share: f64,
    /// Share of the other disputes that get a decoy registration. Default 1 (every one).
    #[serde(default = "default_one")]
    pub decoys: f64,
    /// What each canary job escrows, wei or e.g. "0.01ether". Default 0.01 ETH.
    #[serde(default = "default_canary_payment")]
    pub payment: cairn_protocol::units::Amount,
    /// ETH sent to each fresh key for its gas. Default 0.005 ETH.
    #[serde(default = "default_canary_gas")]
    pub gas_money: cairn_protocol::units::Amount,
    /// The challenge comes a random time after the submission, up to this (seconds, or e.g. "10m"; at most half
    /// the market's challenge window is used), as a watcher's would after re-running. Default 10 minutes.
    #[serde(default = "default_challenge_delay")]
    pub challenge_delay: cairn_protocol::units::Secs,
}

fn default_challenge_delay() -> cairn_protocol::units::Secs {
    cairn_protocol::units::Secs(600)
}

fn default_canary_every() -> cairn_protocol::units::Secs {
    cairn_protocol::units::Secs(86_400)
}

fn default_half() -> f64 {
    0.5
}

fn default_one() -> f64 {
    1.0
}

fn default_canary_payment() -> cairn_protocol::units::Amount {
    cairn_protocol::units::Amount(U256::from(10_000_000_000_000_000u64))
}

fn default_canary_gas() -> cairn_protocol::units::Amount {
    cairn_protocol::units::Amount(U256::from(5_000_000_000_000_000u64))
}

/// The chain id of anvil's devnet, the only chain `[adversary]` may be set on.
pub const DEVNET_CHAIN_ID: u64 = 31337;

/// `[adversary]`: a runner that cheats, for `make demo SCENARIO=…` and the scenario tests (issue #16's
/// adversarial scenarios). The runner refuses to start with any of it set on a chain other than anvil's
/// (chain id 31337): it exists to show that the market catches and punishes each behaviour.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdversarySection {
    /// Added to every value of every output before it is hashed, signed and submitted (0: honest). An offset of
    /// 0.05 drops the cosine to the true rows well below the acceptance rule's 0.999.
    pub perturb: f32,
    /// Claim jobs and never answer them (the claim times out; `reopen` takes part of the bond).
    pub abandon_claims: bool,
    /// As a drawn juror, commit the vote and never reveal it (the committee's non-reveal penalty applies).
    pub silent_juror: bool,
}

impl AdversarySection {
    /// Whether any misbehaviour is set.
    pub fn any(&self) -> bool {
        self.perturb != 0.0 || self.abandon_claims || self.silent_juror
    }
}

/// `[register]`: what the first start does when the operator is not registered yet. It needs the stake
/// owner's key on this machine for that one transaction (or two, with `juror_stake_wei`); once registered,
/// the key is not read again and the section may be removed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterSection {
    /// The stake owner's key (its address must be `[operator] address`).
    pub owner: SignerSource,
    /// The region code (EU, US, UK, CA, JP, SG, …).
    pub region: String,
    /// Stake to lock, wei (a decimal string, or an integer below 2^63).
    #[serde(deserialize_with = "amount_text")]
    pub stake_wei: String,
    /// Free-form hardware description; its keccak256 is registered. Default "cpu".
    #[serde(default = "default_hardware")]
    pub hardware: String,
    /// Where the operator can be reached (informational). Default empty.
    #[serde(default)]
    pub endpoint: String,
    /// An attestation document's hash (32 bytes), if any.
    #[serde(default)]
    pub attestation: Option<alloy::primitives::B256>,
    /// Juror stake to deposit in the JurorPool (opting in as a verifier), wei; default none.
    #[serde(default, deserialize_with = "optional_amount_text")]
    pub juror_stake_wei: Option<String>,
}

fn default_hardware() -> String {
    "cpu".into()
}

/// `[relay]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelaySection {
    /// Where to serve `/relay/inputs` and `/relay/job-request`. Default: not served.
    pub listen: Option<std::net::SocketAddr>,
    /// Requests per second per client IP (burst twice that). Default 5.
    pub rate_per_second: u32,
    /// Origins allowed by CORS; `"*"` for any. Default `["*"]`.
    pub allowed_origins: Vec<String>,
    /// How long an uploaded input stays pinned when no job is requested with it, seconds of chain time; a job
    /// requested with it keeps it pinned until the job's claim deadline, and a job this runner claimed keeps it
    /// until the job is finalized or ruled. At least 60. Default 3,600.
    pub input_ttl_secs: u64,
}

impl Default for RelaySection {
    fn default() -> Self {
        Self { listen: None, rate_per_second: 5, allowed_origins: vec!["*".into()], input_ttl_secs: 3600 }
    }
}

/// `[verify]`: verifier mode, the committee's side of disputes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifySection {
    /// Serve as a juror: when the committee draws the operator, re-execute the disputed job, commit the vote,
    /// reveal it and resolve the dispute (an operator with no juror stake in the JurorPool is never drawn).
    /// Default true.
    pub enabled: bool,
    /// Keeper actions, each paid or needed for liveness: draw the jurors of the committee's queue head once its
    /// seed block is mined (the committee pays `keeperReward` to the drawer), reseed it once its seed is no
    /// longer served, retry any dispute deferred for want of seats (whoever drew it) every 30 s and expire it
    /// once it is still waiting at its `expiresAt`, resolve any drawn dispute 30 s after its reveal deadline (a
    /// jury that never reveals would otherwise hold the job forever), and make a round's ruling final once its
    /// appeal period is over. Default true.
    pub keeper: bool,
    /// The most this runner pays to appeal a round's ruling that goes against it to a larger jury (3, 7, then 15
    /// seats; the committee's `appealCost`, wei or e.g. "0.2ether"): a ruling of 2 or 3 on a job it ran, or of 1 on a
    /// job its watcher challenged. A successful appeal's fee is refunded. "0" never appeals. Default 0.2 ETH
    /// (the devnet's first appeal costs 0.14 ETH).
    pub appeal_max_fee: cairn_protocol::units::Amount,
}

impl Default for VerifySection {
    fn default() -> Self {
        Self {
            enabled: true,
            keeper: true,
            appeal_max_fee: cairn_protocol::units::Amount(alloy::primitives::U256::from(200_000_000_000_000_000u64)),
        }
    }
}

/// `[watch]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchSection {
    /// Fraction of other operators' submitted jobs to re-execute inside their challenge window, 0 to 1
    /// (`service::watch` explains the draw). Default 0: no watching.
    pub sample: f64,
    /// Largest claimed output fetched, bytes. Default 64 MiB.
    pub max_output_bytes: u64,
}

impl Default for WatchSection {
    fn default() -> Self {
        Self { sample: 0.0, max_output_bytes: 64 << 20 }
    }
}

/// `[http]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Where to serve `/health` and `/metrics`, e.g. `0.0.0.0:9464` in a container. Default: not served.
    pub listen: Option<std::net::SocketAddr>,
}

/// `[chain]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainSection {
    /// JSON-RPC URL: `http(s)://` is polled; `ws(s)://` also subscribes to new blocks (`eth_subscribe`
    /// `newHeads`), so each block is looked at as it arrives. Default: the devnet's `http://127.0.0.1:8545`.
    pub rpc_url: String,
    /// The deployments folder written by `cairn-deploy` (it holds `<chain id>.json`). Default: `deployments`.
    pub deployments: PathBuf,
    /// How often the chain is polled for new jobs and deadlines, milliseconds (over `ws(s)://`, the fallback when
    /// no block arrives). Default 500.
    pub poll_interval_ms: u64,
    /// How many blocks before the head the first start looks back for open jobs. Default 10,000.
    pub lookback_blocks: u64,
    /// Seconds to wait for a transaction's receipt. Default 120.
    pub receipt_timeout_secs: u64,
}

impl Default for ChainSection {
    fn default() -> Self {
        Self {
            rpc_url: "http://127.0.0.1:8545".into(),
            deployments: "deployments".into(),
            poll_interval_ms: 500,
            lookback_blocks: 10_000,
            receipt_timeout_secs: 120,
        }
    }
}

/// `[operator]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSection {
    /// The registered operator (its stake owner's address) the runner claims jobs for.
    pub address: Address,
    /// The operator's hot signer key (registered with `setSigner`): it claims, submits and finalizes. It never
    /// holds stake; the owner key stays off this machine. `{ env = "VAR" }` or `{ keystore = "…",
    /// password_file = "…" }`. Default: `{ env = "CAIRN_RUNNER_KEY" }`.
    #[serde(default = "default_signer")]
    pub signer: SignerSource,
}

fn default_signer() -> SignerSource {
    SignerSource::Env("CAIRN_RUNNER_KEY".into())
}

/// `[ipfs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpfsSection {
    /// Kubo's RPC API. Default `http://127.0.0.1:5001`.
    pub api: String,
}

impl Default for IpfsSection {
    fn default() -> Self {
        Self { api: "http://127.0.0.1:5001".into() }
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// The journal (`journal.sqlite`) and the outputs of jobs in flight. Default `runner-state`.
    pub state_dir: PathBuf,
    /// The content-addressed model cache. Default `<state_dir>/models`.
    pub cache_dir: Option<PathBuf>,
    /// The model cache's size limit, bytes. Default 20 GiB.
    pub cache_limit_bytes: u64,
}

impl Default for StorageSection {
    fn default() -> Self {
        Self { state_dir: "runner-state".into(), cache_dir: None, cache_limit_bytes: 20 << 30 }
    }
}

/// `[jobs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsSection {
    /// Jobs claimed and not yet submitted at once. Default 2.
    pub max_in_flight: usize,
    /// Least operator fee (payment − royalty − protocol fee) of an ETH job, net of the gas the runner pays for
    /// claim, submit and finalize at the current gas price, in wei (a decimal string, or an integer below 2^63).
    /// Default "0".
    #[serde(deserialize_with = "amount_text")]
    pub min_fee_wei: String,
    /// ERC-20 jobs taken: token address → least operator fee in the token's units (decimal string). A token
    /// not listed is not served. Default: none.
    #[serde(deserialize_with = "amount_texts")]
    pub min_fee_tokens: BTreeMap<Address, String>,
    /// Gas the runner pays per job (claim + submit + finalize), used to net the fee of gas; on an OP Stack L2
    /// the transactions' L1 data fee (read from its `GasPriceOracle`) is netted too. Default 400,000.
    pub gas_per_job: u64,
    /// Only these model ids (empty: every model). Default empty.
    pub models_allow: Vec<u64>,
    /// Never these model ids. Default empty.
    pub models_deny: Vec<u64>,
    /// Largest job input fetched, bytes (checked with Kubo's stat before the download). Default 8 MiB.
    pub max_input_bytes: u64,
    /// Below this hot-wallet balance (wei, decimal string) every job considered logs a warning to top it up
    /// (a job is skipped only when the balance cannot pay its gas). Default "10000000000000000" (0.01 ETH).
    #[serde(deserialize_with = "amount_text")]
    pub min_gas_balance_wei: String,
    /// Once the operator's ETH balance in JobMarket reaches this many wei (a decimal string, or an integer below
    /// 2^63), the hot key sweeps it to the operator's own address (`JobMarket.withdrawFor`, interface version 6;
    /// the money can go nowhere else), looked at after each of its jobs closes (finalized or ruled). Default: never
    /// (the owner
    /// withdraws, e.g. `cairn withdraw`).
    #[serde(default, deserialize_with = "optional_amount_text")]
    pub withdraw_above_wei: Option<String>,
    /// The same per ERC-20 token: token address → threshold in the token's units. Default: none.
    #[serde(deserialize_with = "amount_texts")]
    pub withdraw_above_tokens: BTreeMap<Address, String>,
    /// A sweep is sent only when the balance is worth at least this many times the sweep's own fee (its L2 gas
    /// at the current price plus an OP Stack L1 data fee; an ERC-20 balance valued at the token's bond rate in
    /// JobMarket, unvalued when that is 0). Below it the sweep waits (looked at again after the next job closes
    /// and every 10 minutes). 0: never weigh. Default 10.
    pub withdraw_fee_multiple: u64,
    /// Finalize our jobs once their challenge window has ended. Default true.
    pub finalize: bool,
    /// Claim and run jobs (the operator role). False: a verifier-only (or watcher-only) service that never
    /// claims. Default true.
    pub claim: bool,
}

impl Default for JobsSection {
    fn default() -> Self {
        Self {
            max_in_flight: 2,
            min_fee_wei: "0".into(),
            min_fee_tokens: BTreeMap::new(),
            gas_per_job: 400_000,
            models_allow: Vec::new(),
            models_deny: Vec::new(),
            max_input_bytes: 8 << 20,
            min_gas_balance_wei: "10000000000000000".into(),
            withdraw_above_wei: None,
            withdraw_above_tokens: BTreeMap::new(),
            withdraw_fee_multiple: 10,
            finalize: true,
            claim: true,
        }
    }
}

/// `[engine]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// `cpu`, `cuda` or `cuda:N` (cuda needs a build with `--features cuda`). Default `cpu`.
    pub device: String,
    /// CPU threads for inference. Default: every core.
    pub threads: Option<usize>,
    /// Inputs per forward pass. Default 32.
    pub batch: usize,
    /// Watts per busy core for the energy estimate where RAPL cannot be read. Default 10.
    pub watts_per_core: f64,
    /// Models kept loaded at once (least recently used unloaded beyond). Default 2.
    pub loaded_models: usize,
}

impl Default for EngineSection {
    fn default() -> Self {
        Self {
            device: "cpu".into(),
            threads: None,
            batch: 32,
            watts_per_core: crate::energy::DEFAULT_WATTS_PER_CORE,
            loaded_models: 2,
        }
    }
}

/// The parts of the configuration the service uses, parsed and checked.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// As read.
    pub config: RunnerConfig,
    /// `[jobs] min_fee_wei`.
    pub min_fee_wei: U256,
    /// `[jobs] min_fee_tokens`.
    pub min_fee_tokens: BTreeMap<Address, U256>,
    /// `[relay] allowed_origins` as CORS header values; `None` when `"*"` allows any.
    pub relay_origins: Option<Vec<axum::http::HeaderValue>>,
    /// `[jobs] withdraw_above_wei` (under `Address::ZERO`) and `withdraw_above_tokens`: the balance at which
    /// earnings are swept to the operator, by token.
    pub withdraw_above: BTreeMap<Address, U256>,
    /// `[jobs] min_gas_balance_wei`.
    pub min_gas_balance: U256,
    /// `[engine] device`.
    pub device: DeviceKind,
    /// `[storage] cache_dir`, defaulted.
    pub cache_dir: PathBuf,
}

impl RunnerConfig {
    /// Reads and checks `path`. Relative paths in it are relative to its folder.
    ///
    /// Errors: unreadable, not TOML, an unknown key, or a value out of range (each named).
    pub fn load(path: &Path) -> anyhow::Result<Resolved> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the config {}", path.display()))?;
        let mut config: RunnerConfig =
            toml::from_str(&text).with_context(|| format!("{} is not a valid runner config", path.display()))?;
        // Absolute: the model cache links files into views by path, and a relative link target would point
        // nowhere from inside the view's folder.
        let absolute = std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))?;
        let base = absolute.parent().unwrap_or(Path::new("/"));
        config.chain.deployments = base.join(&config.chain.deployments);
        config.storage.state_dir = base.join(&config.storage.state_dir);
        config.storage.cache_dir = config.storage.cache_dir.map(|d| base.join(d));
        config.operator.signer = config.operator.signer.relative_to(base);
        if let Some(register) = &mut config.register {
            register.owner = register.owner.clone().relative_to(base);
        }
        if let Some(canary) = &mut config.canary {
            canary.key = canary.key.clone().relative_to(base);
            canary.inputs = canary.inputs.iter().map(|i| base.join(i)).collect();
        }
        config.resolve().with_context(|| format!("in {}", path.display()))
    }

    /// Checks the values and parses the amounts.
    ///
    /// Errors: a value out of range or an amount that is not a decimal number of units.
    pub fn resolve(self) -> anyhow::Result<Resolved> {
        let amount = |key: &str, text: &str| -> anyhow::Result<U256> {
            text.trim().parse::<U256>().with_context(|| format!("{key} = {text:?} is not a whole number of units"))
        };
        if self.jobs.max_in_flight == 0 {
            bail!("[jobs] max_in_flight must be at least 1");
        }
        if self.engine.batch == 0 || self.engine.loaded_models == 0 {
            bail!("[engine] batch and loaded_models must be at least 1");
        }
        if !(self.engine.watts_per_core.is_finite() && self.engine.watts_per_core >= 0.0) {
            bail!("[engine] watts_per_core must be a non-negative number");
        }
        if !(0.0..=1.0).contains(&self.watch.sample) {
            bail!("[watch] sample must be a fraction from 0 to 1 (e.g. 0.05 re-runs one job in twenty)");
        }
        if self.engine.threads == Some(0) {
            bail!("[engine] threads must be at least 1 (leave it out to use every core)");
        }
        check_url("[chain] rpc_url", &self.chain.rpc_url, &["http", "https", "ws", "wss"])?;
        check_url("[ipfs] api", &self.ipfs.api, &["http", "https"])?;
        if self.chain.poll_interval_ms == 0 {
            bail!("[chain] poll_interval_ms must be at least 1");
        }
        if self.relay.input_ttl_secs < 60 {
            bail!(
                "[relay] input_ttl_secs = {} is too short: a browser needs time to sign and send its request after the \
                 upload; use at least 60 (default 3600)",
                self.relay.input_ttl_secs
            );
        }
        if let Some(register) = &self.register {
            register.region.parse::<cairn_protocol::Region>().map_err(|e| anyhow::anyhow!("[register] region: {e}"))?;
            amount("[register] stake_wei", &register.stake_wei)?;
            if let Some(juror) = &register.juror_stake_wei {
                amount("[register] juror_stake_wei", juror)?;
            }
        }
        if let Some(canary) = &self.canary {
            for (key, share) in [("bad_share", canary.bad_share), ("decoys", canary.decoys)] {
                if !(0.0..=1.0).contains(&share) {
                    bail!(
                        "[canary] {key} = {share} must be a fraction from 0 to 1 (defaults: bad_share 0.5, decoys 1)"
                    );
                }
            }
            if canary.decoys == 0.0 {
                bail!(
                    "[canary] decoys = 0 would make every registration a canary's, so jurors could tell them: keep it \
                     at 1 (the default) or at least well above the canary rate"
                );
            }
            if canary.inputs.is_empty() {
                bail!(
                    "[canary] inputs is empty: list input files in the model's runtime format (many, like real buyers')"
                );
            }
            let limits = cairn_protocol::input::InputLimits::default();
            for input in &canary.inputs {
                let bytes = std::fs::read(input)
                    .with_context(|| format!("[canary] inputs: {} is not a readable file", input.display()))?;
                let texts = cairn_protocol::input::parse_texts(&bytes, &limits)
                    .map_err(|e| anyhow::anyhow!("[canary] inputs: {} is not a job input: {}", input.display(), e.0))?;
                if texts.len() < 2 {
                    bail!(
                        "[canary] inputs: {} has {} sentence; a canary input needs at least 2 (a known-bad output \
                         swaps rows)",
                        input.display(),
                        texts.len()
                    );
                }
            }
            if canary.every.0 == 0 || canary.payment.0.is_zero() || canary.gas_money.0.is_zero() {
                bail!("[canary] every, payment and gas_money must be above 0 (remove the section to play no canaries)");
            }
            if !self.jobs.claim {
                bail!("[canary] needs [jobs] claim = true: this operator serves the canary jobs itself");
            }
        }
        let device: DeviceKind = self
            .engine
            .device
            .parse()
            .map_err(|e| anyhow::anyhow!("[engine] device = {:?}: {e}", self.engine.device))?;
        let mut min_fee_tokens = BTreeMap::new();
        for (token, fee) in &self.jobs.min_fee_tokens {
            min_fee_tokens.insert(*token, amount(&format!("[jobs.min_fee_tokens] {token}"), fee)?);
        }
        let relay_origins = match self.relay.allowed_origins.iter().any(|o| o == "*") {
            true => None,
            false => Some(
                self.relay
                    .allowed_origins
                    .iter()
                    .map(|origin| {
                        axum::http::HeaderValue::from_str(origin).map_err(|_| {
                            anyhow::anyhow!(
                                "[relay] allowed_origins: {origin:?} is not a valid origin (e.g. \"https://app.example\", or \"*\")"
                            )
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?,
            ),
        };
        let mut withdraw_above = BTreeMap::new();
        if let Some(wei) = &self.jobs.withdraw_above_wei {
            withdraw_above.insert(Address::ZERO, amount("[jobs] withdraw_above_wei", wei)?);
        }
        for (token, units) in &self.jobs.withdraw_above_tokens {
            withdraw_above.insert(*token, amount(&format!("[jobs.withdraw_above_tokens] {token}"), units)?);
        }
        Ok(Resolved {
            relay_origins,
            withdraw_above,
            min_fee_wei: amount("[jobs] min_fee_wei", &self.jobs.min_fee_wei)?,
            min_gas_balance: amount("[jobs] min_gas_balance_wei", &self.jobs.min_gas_balance_wei)?,
            min_fee_tokens,
            device,
            cache_dir: self.storage.cache_dir.clone().unwrap_or_else(|| self.storage.state_dir.join("models")),
            config: self,
        })
    }
}

/// Checks that `url` parses and has one of `schemes` (`127.0.0.1:8545` without `http://` would otherwise fail only
/// at the first request, with a less telling error).
fn check_url(key: &str, url: &str, schemes: &[&str]) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("{key} = {url:?} is not a URL ({e}); write it as {}://host:port", schemes[0]))?;
    if !schemes.contains(&parsed.scheme()) {
        bail!(
            "{key} = {url:?}: the scheme must be one of {}:// (e.g. {}://127.0.0.1:PORT)",
            schemes.join("://, "),
            schemes[0]
        );
    }
    Ok(())
}

impl Resolved {
    /// The poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.config.chain.poll_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Resolved> {
        toml::from_str::<RunnerConfig>(text)?.resolve()
    }

    #[test]
    fn only_the_operator_address_is_required() {
        let r = parse("[operator]\naddress = \"0x00000000000000000000000000000000000000aa\"\n").unwrap();
        assert_eq!(r.config.jobs.max_in_flight, 2);
        assert_eq!(r.min_gas_balance, U256::from(10u64.pow(16)));
        assert_eq!(r.config.operator.signer, SignerSource::Env("CAIRN_RUNNER_KEY".into()));
        assert_eq!(r.cache_dir, PathBuf::from("runner-state/models"));
        assert!(parse("[jobs]\nmax_in_flight = 1\n").unwrap_err().to_string().contains("operator"));
    }

    #[test]
    fn the_documented_example_parses_to_the_defaults() {
        let text = include_str!("../../../deploy/runner.example.toml");
        let example = parse(text).unwrap();
        let op = "[operator]\naddress = \"0x0000000000000000000000000000000000000000\"\n";
        let defaults = parse(op).unwrap();
        // Every key the example sets is the default it documents.
        assert_eq!(format!("{:?}", example.config), format!("{:?}", defaults.config));
        assert_eq!(example.min_gas_balance, defaults.min_gas_balance);
    }

    #[test]
    fn bad_values_are_named() {
        let op = "[operator]\naddress = \"0x00000000000000000000000000000000000000aa\"\n";
        let err = |extra: &str| format!("{:#}", parse(&format!("{op}{extra}")).unwrap_err());
        assert!(err("[jobs]\nmax_in_flight = 0\n").contains("max_in_flight"));
        assert!(err("[jobs]\nmin_fee_wei = \"1.5\"\n").contains("min_fee_wei"));
        assert!(err("[engine]\ndevice = \"tpu\"\n").contains("device"));
        assert!(err("[jobs]\nmax_inflight = 3\n").contains("unknown field"));
        assert!(err("[adversary]\nlie = true\n").contains("unknown field"));
        assert!(err("[relay]\ninput_ttl_secs = 10\n").contains("input_ttl_secs = 10 is too short"));
        assert!(err("[engine]\nthreads = 0\n").contains("threads must be at least 1"));
        assert!(err("[jobs]\nmin_fee_wei = 1.5\n").contains("a whole number of units"));
        assert!(err("[jobs]\nmin_fee_wei = -5\n").contains("min_fee_wei = \"-5\" is not a whole number"));
        let schemeless = err("[chain]\nrpc_url = \"127.0.0.1:8545\"\n");
        assert!(schemeless.contains("[chain] rpc_url = \"127.0.0.1:8545\""), "{schemeless}");
        assert!(err("[chain]\nrpc_url = \"ftp://127.0.0.1:8545\"\n").contains("scheme must be one of http://"));
        assert!(err("[ipfs]\napi = \"localhost\"\n").contains("[ipfs] api"));
        assert!(err("[relay]\nallowed_origins = [\"https://a.example\\u0007\"]\n").contains("not a valid origin"));
        assert!(err("[jobs]\nwithdraw_fee_multiple = -1\n").contains("withdraw_fee_multiple"));
        let off = parse(&format!("{op}[jobs]\nwithdraw_fee_multiple = 0\n")).unwrap();
        assert_eq!(off.config.jobs.withdraw_fee_multiple, 0, "0 turns the weighing off");
    }

    #[test]
    fn amounts_are_integers_or_decimal_strings() {
        let op = "[operator]\naddress = \"0x00000000000000000000000000000000000000aa\"\n";
        let r = parse(&format!("{op}[jobs]\nmin_fee_wei = 0\nmin_gas_balance_wei = 5000\n")).unwrap();
        assert_eq!((r.min_fee_wei, r.min_gas_balance), (U256::ZERO, U256::from(5000)));
        let big = "[jobs]\nmin_fee_wei = \"100000000000000000000\"\n";
        assert_eq!(parse(&format!("{op}{big}")).unwrap().min_fee_wei, U256::from(10u128.pow(20)));
        let token = "[jobs.min_fee_tokens]\n\"0x00000000000000000000000000000000000000bb\" = 7\n";
        assert_eq!(parse(&format!("{op}{token}")).unwrap().min_fee_tokens.values().next(), Some(&U256::from(7)));
    }

    #[test]
    fn a_canary_section_takes_defaults_and_names_its_bad_values() {
        let op = "[operator]\naddress = \"0x00000000000000000000000000000000000000aa\"\n";
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.json");
        std::fs::write(&input, r#"["one sentence", "another sentence"]"#).unwrap();
        let input = input.display();
        let canary = |extra: &str| format!("{op}[canary]\nkey = {{ env = \"K\" }}\nmodel = 1\n{extra}");
        let ok = parse(&canary(&format!("inputs = [\"{input}\"]\n"))).unwrap().config.canary.unwrap();
        assert_eq!((ok.every.0, ok.bad_share, ok.decoys), (86_400, 0.5, 1.0));
        assert_eq!((ok.payment.0, ok.gas_money.0), (U256::from(10u64.pow(16)), U256::from(5 * 10u64.pow(15))));
        let err =
            |extra: &str| format!("{:#}", parse(&canary(&format!("inputs = [\"{input}\"]\n{extra}"))).unwrap_err());
        assert!(err("bad_share = 1.5\n").contains("bad_share = 1.5 must be a fraction"));
        assert!(err("decoys = -0.1\n").contains("decoys = -0.1 must be a fraction"));
        assert!(err("every = 0\n").contains("every, payment and gas_money must be above 0"));
        assert!(err("payment = 0\n").contains("every, payment and gas_money must be above 0"));
        assert!(err("gas_money = 0\n").contains("every, payment and gas_money must be above 0"));
        assert!(err("decoys = 0\n").contains("decoys = 0 would make every registration a canary's"));
        assert!(err("version = 1\n").contains("unknown field `version`"));
        assert_eq!(ok.challenge_delay.0, 600);
        let single = dir.path().join("single.json");
        std::fs::write(&single, r#"["only one"]"#).unwrap();
        let one = format!("{:#}", parse(&canary(&format!("inputs = [\"{}\"]\n", single.display()))).unwrap_err());
        assert!(one.contains("has 1 sentence; a canary input needs at least 2"), "{one}");
        let not_json = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let bad = format!("{:#}", parse(&canary(&format!("inputs = [\"{not_json}\"]\n"))).unwrap_err());
        assert!(bad.contains("is not a job input"), "{bad}");
        assert!(err("[jobs]\nclaim = false\n").contains("needs [jobs] claim = true"));
        let empty = format!("{:#}", parse(&canary("inputs = []\n")).unwrap_err());
        assert!(empty.contains("inputs is empty"), "{empty}");
        let missing = format!("{:#}", parse(&canary("inputs = [\"/nonexistent/in.json\"]\n")).unwrap_err());
        assert!(missing.contains("/nonexistent/in.json is not a readable file"), "{missing}");
        let no_model =
            format!("{:#}", parse(&format!("{op}[canary]\nkey = {{ env = \"K\" }}\ninputs = []\n")).unwrap_err());
        assert!(no_model.contains("missing field `model`"), "{no_model}");
    }

    #[test]
    fn the_adversary_is_off_unless_set() {
        let op = "[operator]\naddress = \"0x00000000000000000000000000000000000000aa\"\n";
        assert!(!parse(op).unwrap().config.adversary.any());
        let cheat = parse(&format!("{op}[adversary]\nperturb = 0.05\n")).unwrap();
        assert!(cheat.config.adversary.any() && cheat.config.adversary.perturb == 0.05);
        assert!(parse(&format!("{op}[adversary]\nsilent_juror = true\n")).unwrap().config.adversary.any());
    }
}
