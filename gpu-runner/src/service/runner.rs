//! The operator loop: find open jobs, take those worth taking, run them, settle them (issue #15).
//!
//! Each poll ([`Runner::run`]):
//! 1. **Scan.** `JobRequested`, `ClaimReleased` and `ClaimExpired` of `JobMarket` since the journal's cursor
//!    make a job a candidate (the first start looks `lookback_blocks` back).
//! 2. **Resume.** Every journaled job with something left to do and no task on it gets one: after a restart
//!    this is how a job killed at any step carries on.
//! 3. **Consider.** While fewer than `max_in_flight` jobs are between claim and submission, a candidate is
//!    checked before anything is bonded: still `Requested` and claimable (deadline), a runtime this runner
//!    executes, the operator's region in the job's mask, the model allowed, the operator fee net of gas
//!    (ETH) or above the token's minimum (ERC-20), free stake for the bond, gas in the hot wallet, the model
//!    verified and loaded, and the input fetched (digest checked, size limit) and of the runtime's format.
//!    An input that fails is never claimed: the contract charges the same penalty for a released claim as
//!    for a lapsed one, so not claiming is the only free refusal.
//! 4. **Drive.** A taken job walks the journal's steps, each journaled (and synced) before the chain write
//!    that depends on it: `claiming` → claim → `claimed` → run → `computed` (output file written) → pin
//!    output and input → `pinned` → `submitting` → submit the signed receipt → `submitted` → after the
//!    challenge window, finalize → unpin → `finalized`.
//!
//! A chain write that fails is resolved by re-reading the job (`getProgress`), never by sending again blind:
//! a claim that reverts because another operator was first is a logged lost race (`lost`), a receipt that
//! landed though its answer was lost is recognised by its output digest. A step that fails for a passing
//! reason (Kubo or the RPC down) is tried again on a later poll, backing off; a claim is never left to lapse
//! while it can still be submitted in time. On shutdown ([`Runner::run`]'s `shutdown`) no job is claimed;
//! claimed jobs are finished and submitted, and one whose step fails while draining is released
//! (`releaseClaim`) rather than left to time out.
//!
//! Tests stop the process at a named point with `CAIRN_RUNNER_CRASH_AFTER=<point>` (see [`CRASH_POINTS`]):
//! the process aborts at once, as under `kill -9`. `CAIRN_RUNNER_PAUSE_AFTER=<point>` instead holds the job
//! there for [`PAUSE`], so a test can take Kubo or the RPC away between two steps.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::{
    dyn_abi::Eip712Domain,
    eips::BlockNumberOrTag,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use anyhow::{Context as _, bail};
use cairn_bindings::{
    DisputeDesk, JobMarket, ModelRegistry, OperatorRegistry, ReexecutionCommittee, job_market::IJobMarket,
};
use cairn_chain::{Chain, ChainOptions, NewHeads};
use cairn_ipfs::{AddOptions, KuboClient};
use cairn_primitives::{Cid, Sha256Digest, fs::write_atomic};
use cairn_protocol::{JobReceipt, Runtime, runtime::runner_build, typed};

use super::{
    config::Resolved,
    journal::{Entry, Journal, Step},
    l1fee::L1Fees,
    metrics::{Metrics, Observed},
    models::{HostError, ModelHost, ModelRef},
    verify::revert_name,
    watch::{Submitted, Verdict, sampled},
};
use crate::{
    bert::EmbedOptions,
    cache::ModelCache,
    energy::{EnergyMeter, POWERCAP},
    input::InputLimits,
};

/// The version string whose keccak256 is every receipt's `runnerBuild`.
pub const RUNNER_VERSION: &str = concat!("cairn-runner ", env!("CARGO_PKG_VERSION"));

/// The points `CAIRN_RUNNER_CRASH_AFTER` may name, in the order a job passes them: after each journal write,
/// and after each chain write before its result is journaled.
pub const CRASH_POINTS: &[&str] =
    &["claiming", "claim-sent", "claimed", "computed", "pinned", "submitting", "submit-sent", "submitted"];

/// Blocks per `eth_getLogs` request (many RPC providers refuse wider ranges).
pub const LOG_RANGE: u64 = cairn_chain::client::LOG_RANGE;

/// The points of verifier mode (`service::verify`): `voted` is after the vote and salt are journaled and
/// before the commitment is sent; and of watcher mode (`service::watch`): `challenge-sent` is after the
/// challenge's receipt and before the journal knows it landed (so before its evidence's URI is sent); and of the
/// canaries (`service::canary`): `canary-requested` is after the canary request's receipt and before its job id is
/// journaled.
pub const VERIFY_CRASH_POINTS: &[&str] = &["voted", "challenge-sent", "canary-requested"];

/// How long a shutdown waits for the running duties (verifier, keeper, challenges, canaries) to end their step.
const DUTY_DRAIN: Duration = Duration::from_secs(30);

/// How long `CAIRN_RUNNER_PAUSE_AFTER` holds a job at its point, unless `CAIRN_RUNNER_PAUSE_SECS` says.
pub const PAUSE: Duration = Duration::from_secs(3);

/// `JobMarket`'s job states, as numbered on chain (`IJobMarket.JobState`).
use cairn_bindings::enums::{audit_state, job_state as state};

type Market = JobMarket::JobMarketInstance<DynProvider>;

/// The running service. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
    /// `[http] listen` and `[relay] listen`, bound at start (so a busy port is refused before any state is
    /// written) and served from `run`.
    listeners: Arc<Mutex<Listeners>>,
}

/// `[http] listen` and `[relay] listen`, bound, until `run` serves them.
type Listeners = (Option<tokio::net::TcpListener>, Option<tokio::net::TcpListener>);

pub(crate) struct Inner {
    pub(crate) cfg: Resolved,
    pub(crate) chain: Chain,
    pub(crate) key: PrivateKeySigner,
    pub(crate) operator: Address,
    pub(crate) market: Market,
    /// Held while pins are decided: a job's close (what to unpin, then the job marked closed), the relay's uploads
    /// (journaled, then pinned) and its expiry, so no two of them judge a shared CID from a stale view.
    pub(crate) pins_lock: tokio::sync::Mutex<()>,
    /// Held while the operator's earnings are swept ([`Inner::sweep`]).
    sweep_lock: tokio::sync::Mutex<()>,
    /// The L1 data fees of a job's transactions (an OP Stack L2; none elsewhere).
    pub(crate) l1_fees: L1Fees,
    /// The dispute desk: the watcher's challenges, evidence and tickets.
    pub(crate) desk: DisputeDesk::DisputeDeskInstance<DynProvider>,
    /// The re-execution committee: verifier mode's draws, votes and resolutions.
    pub(crate) committee: ReexecutionCommittee::ReexecutionCommitteeInstance<DynProvider>,
    pub(crate) models: ModelRegistry::ModelRegistryInstance<DynProvider>,
    pub(crate) registry: OperatorRegistry::OperatorRegistryInstance<DynProvider>,
    domain: Eip712Domain,
    pub(crate) deployment_block: u64,
    pub(crate) kubo: KuboClient,
    pub(crate) host: ModelHost,
    pub(crate) journal: Journal,
    /// `[canary]`: the treasury's canary key and settings (none: no canaries).
    pub(crate) canary: Option<super::canary::CanaryRole>,
    outputs: PathBuf,
    crash_after: Option<String>,
    pause_after: Option<String>,
    /// How long `pause_after` holds ([`PAUSE`] or `CAIRN_RUNNER_PAUSE_SECS`).
    pause: Duration,
    draining: AtomicBool,
    /// Whether a task runs each [`Duty`] now (one at a time each).
    duties: [AtomicBool; Duty::COUNT],
    /// Whether this process has scanned once (the first scan looks back `lookback_blocks`).
    scanned: AtomicBool,
    pub(crate) jobs: Mutex<Jobs>,
    pub(crate) metrics: Metrics,
    /// Wakes the loop before its next poll: a job left the in-flight set, so a candidate may be taken now.
    wake: tokio::sync::Notify,
}

impl Observed for Inner {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn cache_stats(&self) -> crate::cache::CacheStats {
        self.host.cache().stats()
    }

    fn stale_after(&self) -> Duration {
        (self.cfg.poll_interval() * 10).max(Duration::from_secs(60))
    }
}

/// Where a submitted job's audit draw stands for the runner (`Inner::evaluate_audit`).
enum AuditDraw {
    /// Look again later.
    Wait,
    /// Cleared, or moot: the job may be finalized after its window.
    Settled,
    /// Drawn (or the job moved on meanwhile): read the job again.
    Audited,
}

/// What the loop knows besides the journal.
#[derive(Default)]
pub(crate) struct Jobs {
    /// Jobs with a task on them now.
    pub(crate) active: HashSet<U256>,
    /// Jobs between considered and submitted (the `max_in_flight` bound).
    working: HashSet<U256>,
    /// Open jobs seen in the logs and not yet decided.
    pub(crate) candidates: BTreeSet<U256>,
    /// Jobs decided against for good, with why (not considered again).
    declined: HashMap<U256, String>,
    /// Jobs not to touch again before a time (after a passing failure), with the failures so far.
    backoff: HashMap<U256, (Instant, u32)>,
    /// Other operators' results drawn for watching and not yet judged.
    watch: BTreeMap<U256, Submitted>,
    /// The job being watched now (one re-execution at a time, beside the operator's own jobs).
    watching: Option<U256>,
    /// Drawn disputes the keeper resolves once their reveal period is over, whoever sits on them (the jurors
    /// may all be silent), with their reveal deadlines, from the `JurorsDrawn` logs scanned (a restart's first
    /// scan looks back `[chain] lookback_blocks`).
    pub(crate) drawn: BTreeMap<U256, u64>,
    /// Disputes the keeper saw deferred for want of seats (the `DrawDeferred` logs scanned, whoever drew), with
    /// when to try `retry` next; journaled too (`waiting_disputes`), and read back once after a start.
    pub(crate) waiting: BTreeMap<U256, Instant>,
    /// Whether the journaled waiting disputes have been read into `waiting` since this process started.
    pub(crate) waiting_loaded: bool,
    /// Input CIDs of the jobs requested in the blocks scanned (else read from the job's `JobRequested` log).
    input_cids: HashMap<U256, String>,
    /// Submitted jobs whose audit draw is settled (cleared, audited or moot); the others are driven at every poll
    /// until it is, not only once their challenge window is over (in memory: after a restart each submitted job
    /// is looked at once).
    audits_settled: HashSet<U256>,
}

/// How a driven job stands after a step.
enum Flow {
    /// Go on with the next step now.
    Next,
    /// Nothing to do until a later poll (the challenge window runs, a dispute is open).
    Wait,
}

/// The poll's duties besides jobs. Each runs in a task of its own, one at a time, so the poll (and the claims
/// it makes) never waits for their transactions' receipts: a keeper action, a challenge's settlement or a
/// canary's registrations can each wait up to the chain client's receipt timeout on a congested chain.
#[derive(Debug, Clone, Copy)]
enum Duty {
    /// The verifier's duties (`[verify] enabled`): votes to commit and reveal.
    Verify,
    /// Keeper actions (`[verify] keeper`): lapsed disputes, waiting draws.
    Keeper,
    /// The watcher's challenges, carried to their ruling and withdrawn.
    Challenges,
    /// `[canary]`: registrations and each canary's next step.
    Canaries,
}

impl Duty {
    /// One past the last variant.
    const COUNT: usize = Self::Canaries as usize + 1;

    /// What the warning says when the duty fails (it is tried again at the next poll).
    fn failure(self) -> &'static str {
        match self {
            Self::Verify => "cannot read the verifier's duties now",
            Self::Keeper => "keeper action failed; trying again at the next poll",
            Self::Challenges => "cannot carry the watcher's challenges on now; trying again later",
            Self::Canaries => "cannot play the canaries now; trying again later",
        }
    }
}

/// Marks a duty free again when its task ends, however it ends (a panic too), so the next poll starts it again.
struct DutyGuard(Arc<Inner>, Duty);

impl Drop for DutyGuard {
    fn drop(&mut self) {
        self.0.duties[self.1 as usize].store(false, Ordering::SeqCst);
    }
}

/// Removes a job from `active` (and `working`) when its task ends, however it ends.
struct TaskGuard {
    inner: Arc<Inner>,
    job: U256,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let mut jobs = self.inner.jobs.lock().expect("not poisoned");
        jobs.active.remove(&self.job);
        if jobs.working.remove(&self.job) {
            self.inner.wake.notify_one();
        }
        if jobs.watching == Some(self.job) {
            jobs.watching = None;
        }
    }
}

/// How often the loop looks at the configured sweeps besides after each closed job.
pub(crate) const SWEEP_LOOK: Duration = Duration::from_secs(600);

/// A sweep's price, from [`Inner::sweep_price`].
enum SweepPrice {
    /// Nothing to withdraw any more.
    Nothing,
    /// What the balance is worth (wei; `None`: unvalued) and what sending the sweep costs (wei).
    Priced { worth: Option<U256>, fee: U256 },
}

/// `owed` units of `token` in wei: ETH as it is, an ERC-20 balance at its bond rate in JobMarket (wei per token
/// unit × 10¹⁸, `JobMarket.bondFor`'s conversion); `None` for a token with no bond rate, which cannot be valued.
pub(crate) fn worth_wei(token: Address, owed: U256, bond_rate: U256) -> Option<U256> {
    if token == Address::ZERO {
        Some(owed)
    } else if bond_rate.is_zero() {
        None
    } else {
        Some(owed.saturating_mul(bond_rate) / U256::from(10u64).pow(U256::from(18u64)))
    }
}

/// Whether a sweep worth `worth` wei (`None`: unvalued, the threshold alone decides) pays for its `fee` wei at
/// `[jobs] withdraw_fee_multiple` = `multiple` (0: never weighed): worth ≥ multiple × fee.
pub(crate) fn sweep_pays(worth: Option<U256>, fee: U256, multiple: u64) -> bool {
    match worth {
        None => true,
        Some(_) if multiple == 0 => true,
        Some(worth) => worth >= fee.saturating_mul(U256::from(multiple)),
    }
}

impl Runner {
    /// Connects and checks everything the loop needs before it takes a job: the hot key loads, the RPC answers
    /// with a chain that has the deployments, the operator is registered and the hot key is its signer (or the
    /// operator itself), Kubo answers, and the journal and model cache open.
    ///
    /// Errors: each names the setting at fault and what to do.
    pub async fn start(cfg: Resolved) -> anyhow::Result<Self> {
        let c = &cfg.config;
        let http = match c.http.listen {
            Some(listen) => Some(super::metrics::bind(listen, "[http] listen").await?),
            None => None,
        };
        let relay = match c.relay.listen {
            Some(listen) => Some(super::metrics::bind(listen, "[relay] listen").await?),
            None => None,
        };
        // Opened at start, not at the first job: a CPU-only build asked for cuda, or a GPU that is not there, is
        // refused before anything is written (and `status`, which only reads the config, never opens it).
        cfg.device.open().map_err(|e| anyhow::anyhow!("[engine] device = {:?}: {e}", c.engine.device))?;
        let key: PrivateKeySigner =
            c.operator.signer.load().await.context("loading the hot signer key ([operator] signer)")?;
        let hot = key.address();
        let options = ChainOptions {
            receipt_timeout: Duration::from_secs(c.chain.receipt_timeout_secs),
            poll_interval: cfg.poll_interval().min(Duration::from_millis(250)),
            ..ChainOptions::default()
        };
        let chain = Chain::connect(&c.chain.rpc_url, key.clone(), options).await.context("[chain] rpc_url")?;
        let deployments = chain.deployments(&c.chain.deployments).await.context("[chain] deployments")?;
        let provider = chain.provider().clone();
        let market_address = deployments.address("JobMarket")?;
        let market = JobMarket::new(market_address, provider.clone());
        let desk = DisputeDesk::new(deployments.address("DisputeDesk")?, provider.clone());
        let committee = ReexecutionCommittee::new(deployments.address("ReexecutionCommittee")?, provider.clone());
        let models = ModelRegistry::new(deployments.address("ModelRegistry")?, provider.clone());
        let registry = OperatorRegistry::new(deployments.address("OperatorRegistry")?, provider.clone());
        let l1_fees = L1Fees::detect(&provider, chain.chain_id(), market_address).await?;
        if c.adversary.any() {
            if chain.chain_id() != super::config::DEVNET_CHAIN_ID {
                bail!(
                    "[adversary] is set, but chain {} is not anvil's devnet ({}): remove the section; it exists only \
                     for the devnet's adversarial scenarios",
                    chain.chain_id(),
                    super::config::DEVNET_CHAIN_ID
                );
            }
            tracing::warn!(adversary = ?c.adversary, "[adversary] is set: this runner misbehaves on purpose (devnet only)");
        }
        let operator = c.operator.address;
        let mut info = registry.operatorInfo(operator).call().await.context("reading the operator's registration")?;
        if !info.registered
            && let Some(register) = &c.register
        {
            register_operator(&chain, &deployments, register, operator, hot).await?;
            info = registry.operatorInfo(operator).call().await.context("reading the operator's registration")?;
        }
        if !info.registered {
            bail!(
                "[operator] address {operator} is not a registered operator on chain {}: register and stake it first \
                 (with the owner's key), then start the runner",
                chain.chain_id()
            );
        }
        if hot != operator && hot != info.signer {
            bail!(
                "the hot key ({hot}) is not the signer of operator {operator} (its signer is {}): set it with \
                 OperatorRegistry.setSigner({hot}) from the owner's key, or configure the signer's key in [operator] signer",
                info.signer
            );
        }
        let canary = match &c.canary {
            Some(section) => {
                Some(super::canary::CanaryRole::open(section, &chain, *committee.address(), operator).await?)
            }
            None => None,
        };
        let kubo = KuboClient::new(&c.ipfs.api).context("[ipfs] api")?;
        if let Err(e) = kubo.version().await {
            // Not fatal: every step that needs Kubo waits for it (and a job needs it before it is claimed).
            tracing::warn!(api = %c.ipfs.api, error = %e, "Kubo does not answer ([ipfs] api); jobs wait until it does");
        }
        let state_dir = &c.storage.state_dir;
        let journal = Journal::open(state_dir).await?;
        let outputs = state_dir.join("outputs");
        std::fs::create_dir_all(&outputs).with_context(|| format!("cannot create {}", outputs.display()))?;
        let cache = Arc::new(ModelCache::open(&cfg.cache_dir, c.storage.cache_limit_bytes)?);
        if let Some(threads) = c.engine.threads {
            crate::init_cpu_threads(threads)?;
        }
        let options = EmbedOptions { device: cfg.device, batch_size: c.engine.batch, ..EmbedOptions::default() };
        let limits = InputLimits {
            max_total_bytes: usize::try_from(c.jobs.max_input_bytes).unwrap_or(usize::MAX),
            ..InputLimits::default()
        };
        let host =
            ModelHost::new(kubo.clone(), cache, state_dir.join("views"), options, limits, c.engine.loaded_models);
        let hook = |var: &str| -> anyhow::Result<Option<String>> {
            let point = std::env::var(var).ok().filter(|p| !p.is_empty());
            if let Some(point) = &point
                && !CRASH_POINTS.contains(&point.as_str())
                && !VERIFY_CRASH_POINTS.contains(&point.as_str())
            {
                let points = [CRASH_POINTS, VERIFY_CRASH_POINTS].concat().join(", ");
                bail!("{var}={point} names no point; the points are {points}");
            }
            Ok(point)
        };
        let (crash_after, pause_after) = (hook("CAIRN_RUNNER_CRASH_AFTER")?, hook("CAIRN_RUNNER_PAUSE_AFTER")?);
        let pause = match std::env::var("CAIRN_RUNNER_PAUSE_SECS") {
            Ok(secs) => Duration::from_secs(
                secs.parse().with_context(|| format!("CAIRN_RUNNER_PAUSE_SECS={secs:?} is not a number of seconds"))?,
            ),
            Err(_) => PAUSE,
        };
        let meter = EnergyMeter::start_on(cfg.device, std::path::Path::new(POWERCAP), c.engine.watts_per_core);
        tracing::info!(
            operator = %operator, hot = %hot, region = info.region, chain = chain.chain_id(), market = %market_address,
            energy = meter.method().as_str(), energy_note = meter.note(), l1_data_fee = l1_fees.charged(),
            "runner ready"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                domain: typed::domain(chain.chain_id(), market_address),
                deployment_block: deployments.deployment_block,
                cfg,
                chain,
                key,
                operator,
                market,
                desk,
                committee,
                models,
                registry,
                pins_lock: tokio::sync::Mutex::new(()),
                sweep_lock: tokio::sync::Mutex::new(()),
                l1_fees,
                kubo,
                host,
                journal,
                canary,
                outputs,
                crash_after,
                pause_after,
                pause,
                draining: AtomicBool::new(false),
                duties: Default::default(),
                scanned: AtomicBool::new(false),
                jobs: Mutex::default(),
                metrics: Metrics::new(),
                wake: tokio::sync::Notify::new(),
            }),
            listeners: Arc::new(Mutex::new((http, relay))),
        })
    }

    /// The journal (for `status` and tests).
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// Polls until `shutdown` completes, then drains: no new claim, every claimed job finished and submitted
    /// (or released if a step fails), and returns once none is left between claim and submission. Jobs that
    /// wait out their challenge window stay in the journal for the next start.
    ///
    /// Errors: none from a poll (each failure is logged and retried); only the journal failing at the end.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let (http, relay) = std::mem::take(&mut *self.listeners.lock().expect("not poisoned"));
        if let Some(listener) = http {
            super::metrics::serve(listener, self.inner.clone());
        }
        if let Some(listener) = relay {
            super::relay::serve(listener, self.inner.clone());
        }
        let poll = self.inner.cfg.poll_interval();
        // Over ws(s):// a new block wakes the loop at once; the poll interval is then only the fallback.
        let mut heads = NewHeads::new(self.inner.chain.provider().clone(), self.inner.chain.url()).await;
        tokio::pin!(shutdown);
        let mut swept_at: Option<Instant> = None;
        loop {
            if !self.inner.cfg.withdraw_above.is_empty() && swept_at.is_none_or(|t| t.elapsed() >= SWEEP_LOOK) {
                swept_at = Some(Instant::now());
                let inner = self.inner.clone();
                tokio::spawn(async move { inner.sweep_all().await });
            }
            self.inner.metrics.subscribed.set(i64::from(heads.subscribed()));
            if let Err(e) = self.poll().await {
                tracing::warn!(error = format!("{e:#}"), "poll failed; trying again");
            }
            tokio::select! {
                () = &mut shutdown => break,
                _ = heads.wait(poll) => {}
                () = self.inner.wake.notified() => {}
            }
        }
        self.inner.draining.store(true, Ordering::SeqCst);
        let working = self.inner.jobs.lock().expect("not poisoned").working.len();
        tracing::info!(in_flight = working, "shutting down: no new claims; finishing the jobs in flight");
        loop {
            // Claimed work is what the journal says is between claim and submission; a candidate still being
            // checked is never claimed once draining.
            if self.pre_submit_jobs().await? == 0 {
                break;
            }
            if let Err(e) = self.poll().await {
                tracing::warn!(error = format!("{e:#}"), "poll failed while draining");
            }
            tokio::time::sleep(poll.min(Duration::from_millis(200))).await;
        }
        tracing::info!("drained: nothing left between claim and submission");
        // The duties the last polls started (none starts while draining) finish their step: a transaction they
        // sent is seen to its receipt and journaled rather than cut off (which their journal would survive too).
        let waiting = Instant::now();
        while self.inner.duties.iter().any(|d| d.load(Ordering::SeqCst)) {
            if waiting.elapsed() >= DUTY_DRAIN {
                tracing::warn!(
                    waited = ?DUTY_DRAIN,
                    "a duty is still running; stopping anyway (the next start carries it on from the journal)"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Journaled jobs between claim and submission.
    async fn pre_submit_jobs(&self) -> anyhow::Result<usize> {
        Ok(self.inner.journal.open_jobs().await?.iter().filter(|e| pre_submit(e.step)).count())
    }

    /// Starts `duty` in a task of its own unless it is running already; a failure is logged (and the duty tried
    /// again at the next poll).
    fn spawn_duty<F, Fut>(&self, duty: Duty, run: F)
    where
        F: FnOnce(Arc<Inner>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        if self.inner.duties[duty as usize].swap(true, Ordering::SeqCst) {
            return;
        }
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let _free = DutyGuard(inner.clone(), duty);
            if let Err(e) = run(inner).await {
                tracing::warn!(error = format!("{e:#}"), duty = ?duty, "{}", duty.failure());
            }
        });
    }

    /// One poll: scan the logs, resume journaled jobs, consider candidates.
    pub async fn poll(&self) -> anyhow::Result<()> {
        let inner = &self.inner;
        // A failing scan must not stop claimed jobs from being driven and finalized.
        if let Err(e) = inner.scan().await {
            tracing::warn!(error = format!("{e:#}"), "cannot read new jobs now; driving the journaled ones");
        }
        let now = inner.chain_time().await?;
        for entry in inner.journal.open_jobs().await? {
            let due = match entry.step {
                Step::Submitted => {
                    entry.challenge_ends.is_none_or(|ends| now >= ends)
                        || !inner.jobs.lock().expect("not poisoned").audits_settled.contains(&entry.job)
                }
                _ => true,
            };
            if due && inner.take(entry.job, false) {
                let inner = self.inner.clone();
                let guard = TaskGuard { inner: inner.clone(), job: entry.job };
                if pre_submit(entry.step) {
                    inner.jobs.lock().expect("not poisoned").working.insert(entry.job);
                }
                tokio::spawn(async move {
                    let _guard = guard;
                    inner.drive(entry.job).await;
                });
            }
        }
        let in_flight = inner.jobs.lock().expect("not poisoned").working.len();
        inner.metrics.in_flight.set(i64::try_from(in_flight).unwrap_or(i64::MAX));
        inner.metrics.polled();
        if inner.draining.load(Ordering::SeqCst) {
            return Ok(());
        }
        let verify = &inner.cfg.config.verify;
        if verify.enabled {
            self.spawn_duty(Duty::Verify, |inner| async move { inner.serve_duties().await });
        }
        if verify.keeper {
            self.spawn_duty(Duty::Keeper, |inner| async move { inner.keep().await });
        }
        self.spawn_duty(Duty::Challenges, |inner| async move { inner.settle_challenges().await });
        if inner.canary.is_some() {
            self.spawn_duty(Duty::Canaries, |inner| async move { inner.play_canaries().await });
        }
        if let Err(e) = inner.expire_relay_pins().await {
            tracing::warn!(error = format!("{e:#}"), "cannot release the relay's expired pins now; trying again later");
        }
        let next_watch = {
            let mut jobs = inner.jobs.lock().expect("not poisoned");
            let next = if jobs.watching.is_none() {
                jobs.watch
                    .iter()
                    .find(|(j, _)| !jobs.active.contains(j) && !backing_off(&jobs, **j))
                    .map(|(_, s)| s.clone())
            } else {
                None
            };
            if let Some(s) = &next {
                jobs.watching = Some(s.job);
                jobs.active.insert(s.job);
            }
            next
        };
        if let Some(submitted) = next_watch {
            let inner = self.inner.clone();
            let guard = TaskGuard { inner: inner.clone(), job: submitted.job };
            tokio::spawn(async move {
                let _guard = guard;
                let job = submitted.job;
                match inner.watch(&submitted).await {
                    Ok(verdict) => {
                        match &verdict {
                            Verdict::Acceptable => inner.metrics.job("watched_acceptable"),
                            Verdict::Challenged(..) => inner.metrics.job("challenged"),
                            Verdict::Skipped(why) => tracing::info!(job = %job, %why, "not watching the job"),
                        }
                        inner.jobs.lock().expect("not poisoned").watch.remove(&job);
                    }
                    Err(e) => {
                        tracing::warn!(job = %job, error = format!("{e:#}"), "cannot watch the job now; trying again later");
                        inner.retry_later(job, false);
                    }
                }
            });
        }
        // A verifier-only or watcher-only service (`[jobs] claim = false`) never takes a job.
        if !inner.cfg.config.jobs.claim {
            return Ok(());
        }
        loop {
            let job = {
                let mut jobs = inner.jobs.lock().expect("not poisoned");
                if jobs.working.len() >= inner.cfg.config.jobs.max_in_flight {
                    break;
                }
                let Some(job) =
                    jobs.candidates.iter().copied().find(|j| !jobs.active.contains(j) && !backing_off(&jobs, *j))
                else {
                    break;
                };
                jobs.candidates.remove(&job);
                job
            };
            // A job we lost or let lapse may come back (released, expired): it is a candidate again.
            let journaled = inner.journal.get(job).await?.map(|e| e.step);
            if journaled.is_some_and(|step| !matches!(step, Step::Lost | Step::Expired)) || !inner.take(job, true) {
                continue;
            }
            let inner = self.inner.clone();
            let guard = TaskGuard { inner: inner.clone(), job };
            tokio::spawn(async move {
                let _guard = guard;
                inner.consider(job).await;
            });
        }
        Ok(())
    }
}

/// The first start's registration (`[register]`): the owner key registers `operator` with `hot` as its
/// signer and the configured stake, then deposits the juror stake if one is set.
///
/// Errors: the owner key does not load or is not `operator`'s; a transaction is refused (the decoded error).
async fn register_operator(
    chain: &Chain,
    deployments: &cairn_chain::Deployments,
    register: &super::config::RegisterSection,
    operator: Address,
    hot: Address,
) -> anyhow::Result<()> {
    let key = register.owner.load().await.context("loading the owner key ([register] owner)")?;
    if key.address() != operator {
        bail!(
            "[register] owner is the key of {}, not of [operator] address {operator}: the stake owner registers",
            key.address()
        );
    }
    let owner = chain_as(chain, key).await?;
    let region: cairn_protocol::Region = register.region.parse()?;
    let stake: U256 = register.stake_wei.trim().parse()?;
    let registry = OperatorRegistry::new(deployments.address("OperatorRegistry")?, owner.provider().clone());
    let call = registry
        .register(
            hot,
            region.bit(),
            alloy::primitives::keccak256(register.hardware.as_bytes()),
            register.attestation.unwrap_or_default(),
            register.endpoint.clone(),
        )
        .value(stake);
    let sent = owner.send("register operator", call.into_transaction_request()).await.context("registering")?;
    tracing::info!(operator = %operator, signer = %hot, %region, stake = %stake, tx = %sent.transaction_hash, "registered the operator");
    if let Some(juror) = &register.juror_stake_wei {
        let juror: U256 = juror.trim().parse()?;
        let pool = cairn_bindings::JurorPool::new(deployments.address("JurorPool")?, owner.provider().clone());
        let sent = owner
            .send("deposit juror stake", pool.deposit().value(juror).into_transaction_request())
            .await
            .context("depositing the juror stake")?;
        tracing::info!(operator = %operator, stake = %juror, tx = %sent.transaction_hash, "opted in as a verifier");
    }
    Ok(())
}

/// A second connection to `chain`'s RPC signing with `key`.
pub(crate) async fn chain_as(chain: &Chain, key: PrivateKeySigner) -> anyhow::Result<Chain> {
    Ok(Chain::connect(chain.url(), key, ChainOptions::default()).await?)
}

/// Whether a failed send provably broadcast nothing (refused at the gas estimate or by the node), so its
/// transaction can never land; any other failure may have reached the chain.
fn not_sent(error: &cairn_chain::Error) -> bool {
    matches!(
        error,
        cairn_chain::Error::Reverted { .. }
            | cairn_chain::Error::Unfunded { .. }
            | cairn_chain::Error::NoSigner { .. }
            | cairn_chain::Error::NonceTaken { .. }
    )
}

fn pre_submit(step: Step) -> bool {
    matches!(step, Step::Claiming | Step::Claimed | Step::Computed | Step::Pinned | Step::Submitting)
}

fn backing_off(jobs: &Jobs, job: U256) -> bool {
    jobs.backoff.get(&job).is_some_and(|(until, _)| Instant::now() < *until)
}

impl Inner {
    /// Marks `job` active (and working when `working`) unless a task is on it or it is backing off.
    fn take(&self, job: U256, working: bool) -> bool {
        let mut jobs = self.jobs.lock().expect("not poisoned");
        if jobs.active.contains(&job) || backing_off(&jobs, job) {
            return false;
        }
        jobs.active.insert(job);
        if working {
            jobs.working.insert(job);
        }
        true
    }

    /// Reads new `JobRequested`, `ClaimReleased` and `ClaimExpired` logs into the candidates.
    async fn scan(&self) -> anyhow::Result<()> {
        let provider = self.chain.provider();
        let head = provider.get_block_number().await.context("reading the chain head")?;
        let lookback = head.saturating_sub(self.cfg.config.chain.lookback_blocks).max(self.deployment_block);
        // The first scan of a process also looks back: candidates seen before a restart lived in memory only.
        let first = !self.scanned.swap(true, Ordering::SeqCst);
        let mut from = match self.journal.cursor().await? {
            Some(next) if first => next.min(lookback),
            Some(next) => next,
            None => lookback,
        };
        while from <= head {
            let to = head.min(from + LOG_RANGE - 1);
            let mut events = vec![
                JobMarket::JobRequested::SIGNATURE_HASH,
                JobMarket::ClaimReleased::SIGNATURE_HASH,
                JobMarket::ClaimExpired::SIGNATURE_HASH,
            ];
            let rate = self.cfg.config.watch.sample;
            if rate > 0.0 {
                events.push(JobMarket::ResultSubmitted::SIGNATURE_HASH);
            }
            let filter =
                Filter::new().address(*self.market.address()).event_signature(events).from_block(from).to_block(to);
            let logs = provider.get_logs(&filter).await.with_context(|| format!("reading logs {from}..={to}"))?;
            // Inputs the relay pinned stay pinned until the claim deadline of every job requested with them.
            let mut requested_inputs = Vec::new();
            {
                let mut jobs = self.jobs.lock().expect("not poisoned");
                for log in &logs {
                    if log.topic0() == Some(&JobMarket::ResultSubmitted::SIGNATURE_HASH) {
                        let Ok(event) = JobMarket::ResultSubmitted::decode_log(&log.inner) else { continue };
                        let e = event.data;
                        if e.operator != self.operator
                            && sampled(&self.key.to_bytes(), e.jobId, e.receipt.outputDigest, rate)
                        {
                            jobs.watch.insert(
                                e.jobId,
                                Submitted {
                                    job: e.jobId,
                                    operator: e.operator,
                                    output_digest: e.receipt.outputDigest,
                                    output_cid: e.receipt.outputCid,
                                },
                            );
                        }
                        continue;
                    }
                    if log.topic0() == Some(&JobMarket::JobRequested::SIGNATURE_HASH)
                        && let Ok(event) = JobMarket::JobRequested::decode_log(&log.inner)
                    {
                        requested_inputs.push((event.data.inputCid.clone(), event.data.terms.deadline));
                        jobs.input_cids.insert(event.data.jobId, event.data.inputCid);
                    }
                    if let Some(topic) = log.topics().get(1) {
                        let job = U256::from_be_bytes(topic.0);
                        if !jobs.declined.contains_key(&job) {
                            jobs.candidates.insert(job);
                        }
                    }
                }
            }
            // (Whoever sent the request: a browser may post it itself after uploading through the relay.)
            if self.cfg.config.relay.listen.is_some() {
                for (cid, deadline) in requested_inputs {
                    self.journal.extend_relay_pin(&cid, deadline).await?;
                }
            }
            // Draws seat the juror, drawn and ruled rounds are the keeper's, and rulings against this operator's
            // jobs are what it appeals.
            let v = &self.cfg.config.verify;
            if v.enabled || v.keeper || !v.appeal_max_fee.0.is_zero() {
                self.scan_draws(from, to).await?;
            }
            self.journal.set_cursor(to + 1).await?;
            from = to + 1;
        }
        Ok(())
    }

    /// The latest block's timestamp, seconds.
    pub(crate) async fn chain_time(&self) -> anyhow::Result<u64> {
        let block = self
            .chain
            .provider()
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .context("reading the latest block")?
            .context("the node has no latest block")?;
        Ok(block.header.timestamp)
    }

    /// Aborts the process at `point` when `CAIRN_RUNNER_CRASH_AFTER` names it, or holds the job there for
    /// [`PAUSE`] when `CAIRN_RUNNER_PAUSE_AFTER` does (tests of crash safety and outages).
    pub(crate) async fn crash_point(&self, point: &str, job: U256) {
        if self.crash_after.as_deref() == Some(point) {
            eprintln!("CAIRN_RUNNER_CRASH_AFTER={point}: aborting at job {job}");
            std::process::abort();
        }
        if self.pause_after.as_deref() == Some(point) {
            tracing::info!(job = %job, point, "CAIRN_RUNNER_PAUSE_AFTER: holding the job");
            tokio::time::sleep(self.pause).await;
        }
    }

    /// Declines `job` for good.
    fn decline(&self, job: U256, why: String) {
        tracing::info!(job = %job, %why, "not taking the job");
        self.metrics.job("declined");
        self.jobs.lock().expect("not poisoned").declined.insert(job, why);
    }

    /// Puts `job` back as a candidate after a passing failure, backing off; returns the failures so far.
    fn retry_later(&self, job: U256, candidate: bool) -> u32 {
        let base = self.cfg.poll_interval().max(Duration::from_millis(500));
        let mut jobs = self.jobs.lock().expect("not poisoned");
        let failures = jobs.backoff.get(&job).map_or(0, |(_, n)| *n) + 1;
        let wait = (base * 2u32.saturating_pow(failures.min(6))).min(Duration::from_secs(60));
        jobs.backoff.insert(job, (Instant::now() + wait, failures));
        if candidate {
            jobs.candidates.insert(job);
        }
        failures
    }

    /// Leaves `job` alone for `wait` (a job with nothing to do but wait: a dispute, say).
    fn rest(&self, job: U256, wait: Duration) {
        self.jobs.lock().expect("not poisoned").backoff.insert(job, (Instant::now() + wait, 0));
    }

    /// Checks a candidate, and claims and drives it when it passes.
    async fn consider(self: &Arc<Self>, job: U256) {
        let input_cid = match self.check(job).await {
            Ok(Some(cid)) => cid,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(job = %job, error = format!("{e:#}"), "cannot decide on the job now; trying again later");
                self.retry_later(job, true);
                return;
            }
        };
        if self.draining.load(Ordering::SeqCst) {
            return;
        }
        // Journaled before the claim is sent: a restart knows a claim may be on chain.
        if let Err(e) = self.journal.insert(job, Step::Claiming, &input_cid).await {
            tracing::error!(job = %job, error = format!("{e:#}"), "cannot journal the claim; not claiming");
            self.retry_later(job, true);
            return;
        }
        self.crash_point("claiming", job).await;
        self.drive(job).await;
    }

    /// Whether to take `job`: `Some(input CID)` when every check passes. A job refused for good is declined
    /// (logged, never considered again); one that is not open any more is dropped.
    ///
    /// Errors: a passing failure (RPC or Kubo), to try again later.
    async fn check(&self, job: U256) -> anyhow::Result<Option<String>> {
        let jobs = &self.cfg.config.jobs;
        // Independent reads go out together: a candidate costs one round trip per stage, not one per read.
        let (terms, progress, now) = tokio::try_join!(
            async { self.market.getTerms(job).call().await.context("reading the job's terms") },
            async { self.market.getProgress(job).call().await.context("reading the job's progress") },
            self.chain_time(),
        )?;
        if progress.state != state::REQUESTED {
            tracing::debug!(job = %job, state = progress.state, "not open");
            return Ok(None);
        }
        if now > terms.deadline {
            tracing::debug!(job = %job, deadline = terms.deadline, "past its claim deadline");
            return Ok(None);
        }
        let decline = |why: String| {
            self.decline(job, why);
            Ok(None)
        };
        let Some(runtime) = Runtime::from_id(terms.runtime) else {
            return decline(format!("runtime id {} is none this runner executes", terms.runtime));
        };
        if runtime != Runtime::BertEmbedV1 {
            return decline(format!("runtime {runtime} is not served"));
        }
        let model_id = u64::try_from(terms.modelId).unwrap_or(u64::MAX);
        if (!jobs.models_allow.is_empty() && !jobs.models_allow.contains(&model_id))
            || jobs.models_deny.contains(&model_id)
        {
            return decline(format!("model {} is not allowed by [jobs] models_allow / models_deny", terms.modelId));
        }
        let hot = self.key.address();
        let (info, gas_price, l1_fee, bond, free, balance, model, input_cid) = tokio::try_join!(
            async { self.registry.operatorInfo(self.operator).call().await.context("reading the operator") },
            async { self.chain.provider().get_gas_price().await.context("reading the gas price") },
            self.l1_fees.per_job(),
            async { self.market.bondFor(terms.token, terms.payment).call().await.context("reading the bond") },
            async { self.registry.freeStake(self.operator).call().await.context("reading the free stake") },
            async { Ok(self.chain.balance(hot).await?) },
            self.model_ref(&terms),
            self.input_cid(job),
        )?;
        if !terms.regionMask.bit(usize::from(info.region)) {
            return decline(format!(
                "the operator's region (bit {}) is not in the job's region mask {:#x}",
                info.region, terms.regionMask
            ));
        }
        let fee = terms.payment.saturating_sub(terms.royalty).saturating_sub(terms.protocolFee);
        // L2 gas, plus the L1 data fee of an OP Stack L2 (`service::l1fee`; 0 elsewhere).
        let gas_cost = U256::from(jobs.gas_per_job) * U256::from(gas_price) + l1_fee;
        if terms.token == Address::ZERO {
            let net = fee.saturating_sub(gas_cost);
            if net < self.cfg.min_fee_wei {
                return decline(format!(
                    "the operator fee {fee} wei less gas {gas_cost} wei ({} gas at {gas_price} wei, plus an L1 data \
                     fee of at most {l1_fee} wei) is {net} wei, below [jobs] min_fee_wei {}",
                    jobs.gas_per_job, self.cfg.min_fee_wei
                ));
            }
        } else {
            let Some(min) = self.cfg.min_fee_tokens.get(&terms.token) else {
                return decline(format!("token {} is not in [jobs.min_fee_tokens]", terms.token));
            };
            if fee < *min {
                return decline(format!("the operator fee {fee} of token {} is below its minimum {min}", terms.token));
            }
        }
        if free < bond {
            bail!(
                "out of free stake: the bond is {bond} wei and {free} wei is free (add stake, or wait for jobs to settle)"
            );
        }
        if balance < self.cfg.min_gas_balance {
            tracing::warn!(hot = %hot, balance = %balance, "the hot wallet is low on gas; top it up");
        }
        if balance < gas_cost {
            bail!("the hot wallet {hot} holds {balance} wei, less than a job's gas ({gas_cost} wei); top it up");
        }
        let loaded = match self.host.get(&model).await {
            Ok(m) => m,
            Err(HostError::Refused(why)) => {
                return decline(format!("model {} version {}: {why}", terms.modelId, terms.modelVersion));
            }
            Err(HostError::Unavailable(e)) => return Err(e),
        };
        let input = match self.fetch_input(&input_cid, terms.inputDigest).await {
            Ok(bytes) => bytes,
            Err(InputError::Refused(why) | InputError::NotTheInput(why)) => return decline(why),
            Err(InputError::Unavailable(e)) => return Err(e),
        };
        if let Err(e) = loaded.executor.check_input(&input) {
            return decline(format!("the input {input_cid}: {e}"));
        }
        tracing::info!(job = %job, model = %terms.modelId, fee = %fee, token = %terms.token, bond = %bond, "taking the job");
        Ok(Some(input_cid))
    }

    /// The model version a job runs.
    pub(crate) async fn model_ref(&self, terms: &IJobMarket::JobTerms) -> anyhow::Result<ModelRef> {
        let version = self
            .models
            .getVersion(terms.modelId, terms.modelVersion)
            .call()
            .await
            .context("reading the model version")?;
        Ok(ModelRef {
            manifest_cid: version.manifestCid,
            manifest_digest: version.manifestDigest,
            weights_digest: terms.weightsDigest,
            runtime: terms.runtime,
        })
    }

    /// The input CID of `job`, from its `JobRequested` log.
    pub(crate) async fn input_cid(&self, job: U256) -> anyhow::Result<String> {
        if let Some(cid) = self.jobs.lock().expect("not poisoned").input_cids.get(&job) {
            return Ok(cid.clone());
        }
        let log = self
            .last_job_log(JobMarket::JobRequested::SIGNATURE_HASH, job)
            .await
            .context("reading the job's JobRequested log")?
            .with_context(|| format!("no JobRequested log for job {job}"))?;
        let event = JobMarket::JobRequested::decode_log(&log.inner).context("decoding JobRequested")?;
        Ok(event.data.inputCid)
    }

    /// The latest JobMarket log of `event` about `job` (topic 1), searched backwards from the head in ranges of
    /// [`LOG_RANGE`] blocks down to the deployment block (RPC providers refuse `eth_getLogs` over a whole
    /// chain).
    ///
    /// Errors: the RPC fails.
    pub(crate) async fn last_job_log(&self, event: B256, job: U256) -> anyhow::Result<Option<alloy::rpc::types::Log>> {
        Ok(self.chain.last_log(*self.market.address(), event, B256::from(job), self.deployment_block).await?)
    }

    /// The job input: its sha256 checked while it streams, at most `[jobs] max_input_bytes`.
    pub(crate) async fn fetch_input(&self, cid: &str, digest: B256) -> Result<Vec<u8>, InputError> {
        let limit = self.cfg.config.jobs.max_input_bytes;
        match self.kubo.cat_bytes(cid, Sha256Digest(digest.0), limit).await {
            Ok(bytes) => Ok(bytes.to_vec()),
            Err(e @ cairn_ipfs::Error::TooLarge { .. }) => Err(InputError::Refused(format!("the input {cid}: {e}"))),
            Err(e @ cairn_ipfs::Error::DigestMismatch { .. }) => {
                Err(InputError::NotTheInput(format!("the input {cid}: {e}")))
            }
            Err(e @ (cairn_ipfs::Error::InvalidCid { .. } | cairn_ipfs::Error::UnsupportedPath { .. })) => {
                Err(InputError::NotTheInput(format!("the input CID {cid:?}: {e}")))
            }
            Err(e) => Err(InputError::Unavailable(anyhow::Error::new(e).context(format!("fetching the input {cid}")))),
        }
    }

    /// Walks `job` through its steps until it is done or must wait; a failing step is logged and tried again
    /// on a later poll (while draining, a claimed job whose step fails is released instead).
    async fn drive(&self, job: U256) {
        loop {
            let entry = match self.journal.get(job).await {
                Ok(Some(e)) if !e.step.is_terminal() => e,
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(job = %job, error = format!("{e:#}"), "cannot read the journal");
                    self.retry_later(job, false);
                    return;
                }
            };
            match self.step(&entry).await {
                Ok(Flow::Next) => {
                    self.jobs.lock().expect("not poisoned").backoff.remove(&job);
                }
                Ok(Flow::Wait) => return,
                Err(e) => {
                    tracing::warn!(job = %job, step = entry.step.as_str(), error = format!("{e:#}"), "step failed; trying again later");
                    let failures = self.retry_later(job, false);
                    // Draining: a claimed job that keeps failing is handed back rather than left to lapse. Never
                    // one at `submitting`: its receipt may be pending, and a release behind it would revert.
                    if self.draining.load(Ordering::SeqCst)
                        && failures >= 3
                        && matches!(entry.step, Step::Claimed | Step::Computed | Step::Pinned)
                        && let Err(e) = self.release(&entry, "shutting down after a step failed three times").await
                    {
                        tracing::error!(job = %job, error = format!("{e:#}"), "cannot release the claim");
                    }
                    return;
                }
            }
        }
    }

    /// One step of a journaled job.
    async fn step(&self, entry: &Entry) -> anyhow::Result<Flow> {
        let job = entry.job;
        let progress = self.market.getProgress(job).call().await.context("reading the job's progress")?;
        let ours = progress.operator == self.operator;
        let claimed_by_us = progress.state == state::CLAIMED && ours;
        let lapsed = claimed_by_us
            && matches!(entry.step, Step::Claimed | Step::Computed | Step::Pinned | Step::Submitting)
            && self.chain_time().await? > progress.submitBy;
        match entry.step {
            Step::Claiming => self.claim(entry, &progress).await,
            Step::Claimed | Step::Computed | Step::Pinned if !claimed_by_us => self.reconcile(entry, &progress).await,
            Step::Claimed | Step::Computed | Step::Pinned | Step::Submitting if lapsed => {
                tracing::error!(job = %job, submit_by = progress.submitBy, "the claim lapsed before the result was ready");
                self.metrics.job("expired");
                self.close(entry, Step::Expired).await
            }
            Step::Claimed => self.compute(entry).await,
            Step::Computed => self.pin(entry).await,
            Step::Pinned => self.submit(entry).await,
            Step::Submitting => {
                if progress.state == state::SUBMITTED
                    && ours
                    && Some(progress.outputDigest.0) == entry.output_digest.map(|d| d.0)
                {
                    self.journal.submitted(job, progress.challengeEnds).await?;
                    return Ok(Flow::Next);
                }
                if claimed_by_us { self.submit(entry).await } else { self.reconcile(entry, &progress).await }
            }
            Step::Submitted | Step::Disputed => self.settle(entry, &progress).await,
            Step::Finalized | Step::Lost | Step::Expired | Step::Closed => Ok(Flow::Wait),
        }
    }

    /// `claiming`: the claim, unless it already landed.
    async fn claim(&self, entry: &Entry, progress: &IJobMarket::JobProgress) -> anyhow::Result<Flow> {
        let job = entry.job;
        if progress.state == state::CLAIMED && progress.operator == self.operator {
            self.journal.set_step(job, Step::Claimed).await?;
            self.crash_point("claimed", job).await;
            return Ok(Flow::Next);
        }
        if progress.state != state::REQUESTED {
            return self.reconcile(entry, progress).await;
        }
        if self.draining.load(Ordering::SeqCst) {
            self.journal.forget(job).await?;
            return Ok(Flow::Wait);
        }
        let started = Instant::now();
        let sent = self.chain.send("claim", self.market.claim(job, self.operator).into_transaction_request()).await;
        match sent {
            Ok(receipt) => {
                self.crash_point("claim-sent", job).await;
                let submit_by = receipt.decoded_log::<JobMarket::JobClaimed>().map(|e| e.submitBy);
                tracing::info!(job = %job, tx = %receipt.transaction_hash, ?submit_by, latency_ms = started.elapsed().as_millis() as u64, "claimed");
                self.metrics.claim_latency.observe(started.elapsed().as_secs_f64());
                self.metrics.job("claimed");
                self.journal.set_step(job, Step::Claimed).await?;
                self.crash_point("claimed", job).await;
                Ok(Flow::Next)
            }
            Err(error) => {
                // Resolved by what the chain says, never by sending again.
                let now = self.market.getProgress(job).call().await.context("reading the job after a failed claim")?;
                if now.state == state::CLAIMED && now.operator == self.operator {
                    self.journal.set_step(job, Step::Claimed).await?;
                    return Ok(Flow::Next);
                }
                if now.state == state::REQUESTED {
                    if not_sent(&error) {
                        // Refused before broadcast: nothing can land. Forget it; it may be considered again.
                        self.journal.forget(job).await?;
                        self.retry_later(job, true);
                        return Ok(Flow::Wait);
                    }
                    // Broadcast, or maybe: it may still land. Keep the `claiming` row and look again later.
                    return Err(anyhow::Error::new(error).context("the claim's fate is not known yet"));
                }
                tracing::info!(job = %job, winner = %now.operator, error = %error, "lost the race for the job: another operator claimed it first");
                self.metrics.job("lost");
                self.journal.set_step(job, Step::Lost).await?;
                Ok(Flow::Wait)
            }
        }
    }

    /// `claimed`: run the job and write its output.
    async fn compute(&self, entry: &Entry) -> anyhow::Result<Flow> {
        let job = entry.job;
        if self.cfg.config.adversary.abandon_claims {
            // The claim stays on chain until someone reopens it; this runner forgets the job and never takes it
            // again.
            tracing::warn!(job = %job, "[adversary] abandon_claims: the claim is left to time out");
            self.jobs.lock().expect("not poisoned").declined.insert(job, "[adversary] abandoned".into());
            return self.close(entry, Step::Lost).await;
        }
        let terms = self.market.getTerms(job).call().await.context("reading the job's terms")?;
        let model = self.model_ref(&terms).await?;
        let loaded = match self.host.get(&model).await {
            Ok(m) => m,
            Err(HostError::Refused(why)) => return self.release(entry, &why).await,
            Err(HostError::Unavailable(e)) => return Err(e),
        };
        let input = match self.fetch_input(&entry.input_cid, terms.inputDigest).await {
            Ok(bytes) => bytes,
            Err(InputError::Refused(why) | InputError::NotTheInput(why)) => return self.release(entry, &why).await,
            Err(InputError::Unavailable(e)) => return Err(e),
        };
        let (watts, device) = (self.cfg.config.engine.watts_per_core, self.cfg.device);
        let started = Instant::now();
        let (result, energy) = tokio::task::spawn_blocking(move || {
            let meter = EnergyMeter::start_on(device, std::path::Path::new(POWERCAP), watts);
            let result = loaded.executor.execute(&input);
            (result, meter.finish())
        })
        .await
        .context("the inference task panicked")?;
        let output = match result {
            Ok(output) if self.cfg.config.adversary.perturb != 0.0 => {
                let mut e = cairn_protocol::output::Embeddings::from_safetensors(&output.bytes)
                    .context("reading back the output")?;
                let offset = self.cfg.config.adversary.perturb;
                e.data.iter_mut().for_each(|x| *x += offset);
                tracing::warn!(job = %job, offset, "[adversary] perturb: submitting altered embeddings");
                cairn_protocol::output::Output::from(&e)
            }
            Ok(output) => match self.bad_canary(job, terms.buyer).await? {
                Some(id) => match super::canary::known_bad(&output) {
                    Ok(bad) => {
                        tracing::info!(job = %job, "[canary] submitting the known-bad output of a bad canary");
                        bad
                    }
                    Err(e) => {
                        // Served true: the canary is unwound before anyone can challenge it as bad.
                        self.unwind_canary(id, &format!("no known-bad output for this input: {e:#}")).await?;
                        output
                    }
                },
                None => output,
            },
            Err(e @ (crate::Error::Input(_) | crate::Error::UnacceptableOutput { .. })) => {
                return self.release(entry, &e.to_string()).await;
            }
            Err(e) => return Err(anyhow::Error::new(e).context("running the job")),
        };
        let path = self.output_path(job);
        write_atomic(&path, &output.bytes).with_context(|| format!("writing the output {}", path.display()))?;
        self.metrics.inference.observe(started.elapsed().as_secs_f64());
        self.metrics.energy(energy.method.as_str(), energy.millijoules);
        tracing::info!(
            job = %job, sha256 = %output.sha256, rows = output.shape[0], ms = started.elapsed().as_millis() as u64,
            energy_mj = energy.millijoules, energy_method = energy.method.as_str(), "computed"
        );
        self.journal.computed(job, output.sha256, energy.millijoules).await?;
        self.crash_point("computed", job).await;
        Ok(Flow::Next)
    }

    /// `computed`: pin the output (and the input, unless this node already pins it).
    async fn pin(&self, entry: &Entry) -> anyhow::Result<Flow> {
        let job = entry.job;
        let path = self.output_path(job);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) if Some(Sha256Digest::of(&bytes)) == entry.output_digest => bytes,
            other => {
                // Lost or altered since it was journaled: compute again rather than pin other bytes.
                tracing::warn!(job = %job, path = %path.display(), found = other.is_ok(), "the output file is not the one computed; computing again");
                self.journal.set_step(job, Step::Claimed).await?;
                return Ok(Flow::Next);
            }
        };
        let added = self
            .kubo
            .add_bytes(&format!("{job}.safetensors"), bytes, AddOptions::default())
            .await
            .context("pinning the output")?;
        let pinned_input = match entry.input_cid.parse::<Cid>() {
            Ok(input) if !self.kubo.is_pinned(&input).await.context("reading the input's pin")? => {
                self.kubo.pin(&input).await.context("pinning the input")?;
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(job = %job, cid = %entry.input_cid, error = %e, "the input CID cannot be pinned by itself");
                false
            }
        };
        self.journal.pinned(job, added.cid.as_str(), pinned_input).await?;
        tracing::info!(job = %job, output = %added.cid, "pinned");
        self.crash_point("pinned", job).await;
        Ok(Flow::Next)
    }

    /// `pinned` / `submitting`: sign the receipt and submit it.
    async fn submit(&self, entry: &Entry) -> anyhow::Result<Flow> {
        let job = entry.job;
        let (Some(digest), Some(cid), Some(energy)) = (entry.output_digest, entry.output_cid.clone(), entry.energy_mj)
        else {
            bail!("journal row of job {job} at {} lacks its output (a bug)", entry.step.as_str());
        };
        let terms = self.market.getTerms(job).call().await.context("reading the job's terms")?;
        let receipt = JobReceipt {
            jobId: job,
            weightsDigest: terms.weightsDigest,
            inputDigest: terms.inputDigest,
            runtime: terms.runtime,
            outputDigest: B256::from(digest.0),
            outputCid: cid,
            runnerBuild: runner_build(RUNNER_VERSION),
            energyMillijoules: energy,
        };
        let signature = typed::sign(&self.key, &receipt, &self.domain).await.context("signing the receipt")?;
        if entry.step != Step::Submitting {
            self.journal.set_step(job, Step::Submitting).await?;
            self.crash_point("submitting", job).await;
        }
        let call = self.market.submitResult(job, receipt, signature.as_bytes().into());
        match self.chain.send("submitResult", call.into_transaction_request()).await {
            Ok(sent) => {
                self.crash_point("submit-sent", job).await;
                let ends = sent
                    .decoded_log::<JobMarket::ResultSubmitted>()
                    .map(|e| e.challengeEnds)
                    .context("the receipt's transaction has no ResultSubmitted event")?;
                self.journal.submitted(job, ends).await?;
                tracing::info!(job = %job, tx = %sent.transaction_hash, challenge_ends = ends, "submitted");
                self.metrics.job("submitted");
                self.crash_point("submitted", job).await;
                Ok(Flow::Next)
            }
            Err(error) => {
                let now = self.market.getProgress(job).call().await.context("reading the job after a failed submit")?;
                if now.state == state::SUBMITTED && now.operator == self.operator && now.outputDigest.0 == digest.0 {
                    self.journal.submitted(job, now.challengeEnds).await?;
                    return Ok(Flow::Next);
                }
                Err(anyhow::Error::new(error).context("submitting the receipt"))
            }
        }
    }

    /// `submitted` / `disputed`: finalize after the window, follow a dispute to its ruling, release the pins.
    async fn settle(&self, entry: &Entry, progress: &IJobMarket::JobProgress) -> anyhow::Result<Flow> {
        let job = entry.job;
        match progress.state {
            state::SUBMITTED => {
                // The audit draw first, whoever finalizes: a seed left to lapse means audited.
                match self.evaluate_audit(job).await? {
                    AuditDraw::Wait => return Ok(Flow::Wait),
                    // Read the job again: it is disputed now, which the next step journals and follows.
                    AuditDraw::Audited => return Ok(Flow::Next),
                    AuditDraw::Settled => {}
                }
                if !self.cfg.config.jobs.finalize {
                    // Someone else finalizes: look now and then.
                    self.rest(job, Duration::from_secs(30));
                    return Ok(Flow::Wait);
                }
                if self.chain_time().await? < progress.challengeEnds {
                    return Ok(Flow::Wait);
                }
                let call = self.market.finalize(job);
                if let Err(error) = self.chain.send("finalize", call.into_transaction_request()).await {
                    let now = self.market.getProgress(job).call().await.context("reading the job after finalize")?;
                    if now.state == state::SUBMITTED {
                        return Err(anyhow::Error::new(error).context("finalizing"));
                    }
                }
                Ok(Flow::Next)
            }
            state::DISPUTED => {
                // Nothing to do until the ruling: look again every half minute, not every poll.
                self.rest(job, Duration::from_secs(30));
                if entry.step != Step::Disputed {
                    tracing::warn!(job = %job, challenger = %progress.challenger, dispute = %progress.disputeId, "challenged: the output and input stay pinned until the ruling");
                    self.metrics.job("disputed");
                    self.journal.set_step(job, Step::Disputed).await?;
                }
                Ok(Flow::Wait)
            }
            state::FINALIZED => {
                let terms = self.market.getTerms(job).call().await.context("reading the job's terms")?;
                let premium = self.desk.auditOf(job).call().await.context("reading the job's audit")?.premium;
                let fee = terms.payment - terms.royalty - terms.protocolFee - U256::from(premium);
                tracing::info!(job = %job, fee = %fee, token = %terms.token, "finalized: the operator fee is credited to the operator's balance");
                let flow = self.close(entry, Step::Finalized).await?;
                self.metrics.job("finalized");
                self.metrics.earned(terms.token, fee);
                self.sweep(terms.token).await;
                Ok(flow)
            }
            state::RESOLVED => {
                tracing::info!(job = %job, reason = progress.closeReason, "ruled");
                self.metrics.job("ruled");
                let flow = self.close(entry, Step::Closed).await?;
                // A ruling for the operator credits its fee as a finalize does (the terms read only when a sweep
                // is configured).
                if !self.cfg.withdraw_above.is_empty()
                    && let Ok(terms) = self.market.getTerms(job).call().await
                {
                    self.sweep(terms.token).await;
                }
                Ok(flow)
            }
            _ => self.reconcile(entry, progress).await,
        }
    }

    /// Sweeps the operator's balance of `token` in JobMarket to the operator's own address once it reached
    /// `[jobs] withdraw_above_wei` (or the token's `withdraw_above_tokens`): `JobMarket.withdrawFor`, sent by the
    /// hot key (interface version 6). Looked at after each job that closes. Never fatal: a failure is logged and
    /// the balance stays credited for the next look; another task's sweep landing first (`NothingToWithdraw`) is
    /// no failure.
    async fn sweep(&self, token: Address) {
        let Some(&threshold) = self.cfg.withdraw_above.get(&token) else { return };
        // One sweep at a time: jobs closing together would each read the same balance and send, and all but the
        // first would revert on chain (paying gas).
        let _one = self.sweep_lock.lock().await;
        let owed = match self.market.balanceOf(self.operator, token).call().await {
            Ok(owed) => owed,
            Err(e) => {
                tracing::warn!(token = %token, error = %e, "cannot read the operator's balance to sweep it; trying after the next job");
                return;
            }
        };
        if owed.is_zero() || owed < threshold {
            return;
        }
        let tx = self.market.withdrawFor(self.operator, token).into_transaction_request();
        let multiple = self.cfg.config.jobs.withdraw_fee_multiple;
        if multiple != 0 {
            match self.sweep_price(token, owed, &tx).await {
                Ok(SweepPrice::Nothing) => return,
                Ok(SweepPrice::Priced { worth, fee }) if !sweep_pays(worth, fee, multiple) => {
                    tracing::info!(
                        token = %token, owed = %owed, worth_wei = ?worth, fee_wei = %fee, multiple,
                        "sweep deferred: the balance is worth less than [jobs] withdraw_fee_multiple times the sweep's fee"
                    );
                    return;
                }
                Ok(SweepPrice::Priced { .. }) => {}
                Err(e) => {
                    tracing::warn!(token = %token, error = %format!("{e:#}"), "cannot price the sweep; looking again later");
                    return;
                }
            }
        }
        match self.chain.send("withdrawFor", tx).await {
            Ok(receipt) => {
                let paid = receipt.decoded_log::<JobMarket::Withdrawn>().map_or(owed, |l| l.amount);
                tracing::info!(token = %token, amount = %paid, to = %self.operator, "swept the operator's earnings to its address");
                self.metrics.swept(token, paid);
            }
            Err(e) if revert_name(&e) == Some("NothingToWithdraw") => {}
            Err(e) => {
                tracing::warn!(token = %token, error = %e, "sweeping the operator's earnings failed; trying after the next job");
            }
        }
    }

    /// What a sweep of `owed` units of `token` is worth and what it costs, in wei: the worth as [`worth_wei`]
    /// values it (the token's bond rate in JobMarket), the fee the sweep's estimated L2 gas at the current gas
    /// price plus its L1 data fee bound (`service::l1fee`). [`SweepPrice::Nothing`] when the estimate finds
    /// nothing to withdraw (another sweep or the owner's `withdraw` came first).
    ///
    /// Errors: an RPC failure, or the estimate reverts for another reason (decoded, e.g. `NotOperatorOrSigner`).
    async fn sweep_price(
        &self,
        token: Address,
        owed: U256,
        tx: &alloy::rpc::types::TransactionRequest,
    ) -> anyhow::Result<SweepPrice> {
        let rate = if token == Address::ZERO {
            U256::ZERO
        } else {
            self.market.tokenConfig(token).call().await.context("reading the token's bond rate")?.bondRate
        };
        let provider = self.chain.provider();
        let (gas, price, l1) = tokio::try_join!(
            async { Ok(self.chain.estimate("withdrawFor", tx.clone()).await) },
            async { provider.get_gas_price().await.context("reading the gas price") },
            self.l1_fees.per_sweep(),
        )?;
        let gas = match gas {
            Ok(gas) => gas,
            Err(e) if revert_name(&e) == Some("NothingToWithdraw") => return Ok(SweepPrice::Nothing),
            Err(e) => return Err(anyhow::Error::new(e).context("estimating the sweep's gas")),
        };
        let fee = U256::from(gas).saturating_mul(U256::from(price)).saturating_add(l1);
        Ok(SweepPrice::Priced { worth: worth_wei(token, owed, rate), fee })
    }

    /// Looks at every configured sweep (`[jobs] withdraw_above_*`), one token after another: at start and
    /// every [`SWEEP_LOOK`], so a sweep deferred for its fee, or whose pricing failed, is not left waiting for
    /// the next job in that token.
    async fn sweep_all(&self) {
        for token in self.cfg.withdraw_above.keys().copied().collect::<Vec<_>>() {
            self.sweep(token).await;
        }
    }

    /// Evaluates the job's random audit draw (`DisputeDesk.evaluateAudit`) once its seed block is mined, as soon
    /// as it can: a seed nobody evaluated while it was served means audited. Says whether the draw is settled for
    /// this job (cleared, or moot because it was challenged first), was just drawn (the job is disputed now), or
    /// must be looked at again later (the seed block is not behind the node's head yet, or the audit pool cannot
    /// pay and waits for funds).
    ///
    /// Errors: the RPC fails, or the desk refuses for another reason (the decoded error).
    async fn evaluate_audit(&self, job: U256) -> anyhow::Result<AuditDraw> {
        if self.jobs.lock().expect("not poisoned").audits_settled.contains(&job) {
            return Ok(AuditDraw::Settled);
        }
        let settled = |draw: AuditDraw| {
            self.jobs.lock().expect("not poisoned").audits_settled.insert(job);
            Ok(draw)
        };
        let audit = self.desk.auditOf(job).call().await.context("reading the job's audit")?;
        if audit.state != audit_state::PENDING {
            return settled(AuditDraw::Settled);
        }
        let head = self.chain.provider().get_block_number().await.context("reading the chain head")?;
        if head <= audit.seedBlock {
            return Ok(AuditDraw::Wait);
        }
        match self.chain.send("evaluateAudit", self.desk.evaluateAudit(job).into_transaction_request()).await {
            Ok(receipt) => {
                let audited = receipt.decoded_log::<DisputeDesk::AuditEvaluated>().is_some_and(|e| e.audited);
                if audited {
                    tracing::warn!(job = %job, "randomly audited: the committee re-executes the job; output and input stay pinned");
                    self.metrics.job("audited");
                    settled(AuditDraw::Audited)
                } else {
                    tracing::info!(job = %job, rate = audit.rate, "audit draw evaluated: not audited");
                    settled(AuditDraw::Settled)
                }
            }
            // Someone else evaluated it, or a challenge came first (the committee already looks): read the job again.
            Err(e) if matches!(revert_name(&e), Some("AuditNotPending" | "NotChallengeable")) => {
                settled(AuditDraw::Audited)
            }
            // The node that estimated the transaction was a block behind the head read above.
            Err(e) if revert_name(&e) == Some("AuditSeedNotMined") => Ok(AuditDraw::Wait),
            Err(e) if revert_name(&e) == Some("AuditPoolShort") => {
                tracing::warn!(job = %job, error = %e, "the audit pool cannot pay this job's audit; evaluating again in a minute (fund it with DisputeDesk.fundAuditPool)");
                self.rest(job, Duration::from_secs(60));
                Ok(AuditDraw::Wait)
            }
            Err(e) => Err(anyhow::Error::new(e).context("evaluating the job's audit draw")),
        }
    }

    /// A job found in a state its step does not expect: it left us (lost, reopened, cancelled) or moved on.
    async fn reconcile(&self, entry: &Entry, progress: &IJobMarket::JobProgress) -> anyhow::Result<Flow> {
        let ours = progress.operator == self.operator;
        let to = match (progress.state, ours) {
            (state::SUBMITTED, true) => {
                self.journal.submitted(entry.job, progress.challengeEnds).await?;
                return Ok(Flow::Next);
            }
            (state::DISPUTED, true) => {
                self.journal.set_step(entry.job, Step::Disputed).await?;
                return Ok(Flow::Wait);
            }
            (state::FINALIZED, true) => Step::Finalized,
            (state::RESOLVED, true) => Step::Closed,
            (state::REQUESTED, _) => Step::Expired,
            (state::CANCELLED, _) => Step::Closed,
            _ => Step::Lost,
        };
        tracing::warn!(job = %entry.job, state = progress.state, operator = %progress.operator, step = entry.step.as_str(), "the job is no longer ours");
        self.close(entry, to).await
    }

    /// Hands a claimed job back (`releaseClaim`) because it cannot be run (`why`), then closes it.
    async fn release(&self, entry: &Entry, why: &str) -> anyhow::Result<Flow> {
        let job = entry.job;
        tracing::error!(job = %job, %why, "releasing the claim");
        self.metrics.job("released");
        let call = self.market.releaseClaim(job);
        if let Err(error) = self.chain.send("releaseClaim", call.into_transaction_request()).await {
            let now = self.market.getProgress(job).call().await.context("reading the job after releaseClaim")?;
            if now.state == state::CLAIMED && now.operator == self.operator {
                return Err(anyhow::Error::new(error).context("releasing the claim"));
            }
            if now.state != state::REQUESTED {
                // Not released by us: it moved on (our own receipt landed first, say). Follow the chain.
                return self.reconcile(entry, &now).await;
            }
        }
        self.decline(job, why.to_owned());
        self.close(entry, Step::Closed).await
    }

    /// Releases what the job holds (its pins, its output file) and journals `to`.
    async fn close(&self, entry: &Entry, to: Step) -> anyhow::Result<Flow> {
        self.jobs.lock().expect("not poisoned").audits_settled.remove(&entry.job);
        let _pins = self.pins_lock.lock().await;
        let mut cids = Vec::new();
        if let Some(cid) = &entry.output_cid {
            cids.push(cid.as_str());
        }
        if entry.input_pinned {
            cids.push(entry.input_cid.as_str());
        }
        // Identical inputs share a CID, and so do their identical outputs: keep what another open job uses, or what
        // the relay still holds for a browser. The input is unpinned by the last job to close if any job of ours
        // pinned it (the first may have pinned it and closed while another ran on it); a pin the relay made is
        // released by the relay's expiry (`expire_relay_pins`), once no open job runs on it.
        let others = self.journal.open_jobs().await?;
        let relay_pins = self.journal.relay_pins().await?;
        let in_use = |cid: &str| {
            others.iter().any(|o| o.job != entry.job && (o.input_cid == cid || o.output_cid.as_deref() == Some(cid)))
                || relay_pins.iter().any(|(pin, _)| pin == cid)
        };
        if !entry.input_pinned && self.journal.input_pinned_by_us(&entry.input_cid).await? {
            cids.push(entry.input_cid.as_str());
        }
        for cid in cids {
            if in_use(cid) {
                continue;
            }
            let cid: Cid = cid.parse().with_context(|| format!("journaled CID {cid:?}"))?;
            if self.kubo.is_pinned(&cid).await.context("reading a pin")? {
                self.kubo.unpin(&cid).await.with_context(|| format!("unpinning {cid}"))?;
            }
        }
        match std::fs::remove_file(self.output_path(entry.job)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(anyhow::Error::new(e).context("removing the output file"));
            }
            _ => {}
        }
        self.journal.set_step(entry.job, to).await?;
        Ok(Flow::Wait)
    }

    fn output_path(&self, job: U256) -> PathBuf {
        self.outputs.join(format!("{job}.safetensors"))
    }
}

/// Why a job input cannot be used.
pub(crate) enum InputError {
    /// Larger than this runner's `[jobs] max_input_bytes`: never retried (a limit of ours).
    Refused(String),
    /// The bytes at the CID are not the job's input (another digest), or the CID is not one: never retried. A
    /// juror votes 3 (the input cannot be fetched) on it.
    NotTheInput(String),
    /// Kubo failed: tried again later.
    Unavailable(anyhow::Error),
}

/// The context of a failure to fetch a disputed job's input (Kubo could not find or serve it), so a juror can
/// tell it from other passing failures and vote 3 once it runs out of time.
#[derive(Debug)]
pub(crate) struct InputUnfetched;

impl std::fmt::Display for InputUnfetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the job's input could not be fetched")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_is_sent_when_its_worth_reaches_the_multiple_of_its_fee() {
        let fee = U256::from(1_000u64);
        assert!(sweep_pays(Some(U256::from(10_000u64)), fee, 10), "exactly ten times the fee");
        assert!(!sweep_pays(Some(U256::from(9_999u64)), fee, 10), "a wei short");
        assert!(sweep_pays(Some(U256::ZERO), fee, 0), "0: never weighed");
        assert!(sweep_pays(None, fee, 10), "unvalued: the threshold alone decides");
        // Wrapping, MAX × 2 would be MAX − 1 and the sweep would pass.
        assert!(!sweep_pays(Some(U256::MAX - U256::from(1u64)), U256::MAX, 2), "saturates, never wraps");
    }

    #[test]
    fn an_erc20_balance_is_worth_its_bond_rate() {
        let usdc = Address::repeat_byte(1);
        // 50 USDC (5e7 units) at 5e26 (1 USDC bonds 0.0005 ETH): 0.025 ETH.
        let rate = U256::from(5u64) * U256::from(10u64).pow(U256::from(26u64));
        assert_eq!(worth_wei(usdc, U256::from(50_000_000u64), rate), Some(U256::from(25_000_000_000_000_000u64)));
        assert_eq!(worth_wei(usdc, U256::from(1u64), U256::ZERO), None, "no bond rate: unvalued");
        assert_eq!(worth_wei(Address::ZERO, U256::from(7u64), U256::ZERO), Some(U256::from(7u64)), "ETH as it is");
        assert_eq!(worth_wei(usdc, U256::MAX, U256::MAX), Some(U256::MAX / U256::from(10u64).pow(U256::from(18u64))));
    }
}
