//! The treasury's canaries (`[canary]`; issue #12, "Jurors pay for being wrong, absent or lazy"): disputes whose
//! answer the treasury knows, so a juror who votes without re-running ("always acceptable", "always not
//! acceptable") pays the coherence penalty on the canaries it gets wrong, even where lazy jurors are the majority
//! (`ReexecutionCommittee.revealCanary`, docs/ARCHITECTURE.md "As built (step 8): canaries").
//!
//! **One canary** ([`CanaryStep`], each step journaled before the chain write that depends on it):
//! 1. *Planned*: the answer (2 for a `bad_share` of them, else 1), a salt, two fresh keys (a buyer, a
//!    challenger) and an input never used by an earlier canary are written to the journal first, so a crash
//!    loses no key that holds money.
//! 2. The canary key funds the fresh buyer (payment, a licence if the model sells them, gas); the buyer requests
//!    a job of `[canary] model`'s latest version on that input, in ETH, like any buyer. A job nobody claims by
//!    its deadline is cancelled and refunded.
//! 3. This operator claims it as any other job (the claim race is the treasury's own: a canary claimed by
//!    another operator is an ordinary paid job, and the canary is unwound). The job is known as a canary by its
//!    journaled id or, before that is journaled, by its buyer. For a known-bad canary it submits [`known_bad`]:
//!    the true rows rotated by one, every row a real embedding of a real sentence of the input, so shape,
//!    finiteness, norm and the statistics of a row pass and only a re-execution tells; checked to fail the
//!    acceptance rule, or the canary is unwound and the true output served. The operator never appeals a ruling
//!    on its own canary.
//! 4. A random time after the submission (up to `[canary] challenge_delay`), the fresh challenger (funded with
//!    the challenge's cost and gas) challenges it. If someone else opened the job's pool first, the canary is
//!    unwound (our challenger's ticket still collects as any late joiner's).
//! 5. Registration: for every `DisputeOpened` the committee emits (scanned at each poll from the journal's
//!    canary cursor), the canary key registers a commitment: keccak256(abi.encode(disputeId, answer, salt)) for
//!    its own canary, a random 32 bytes (a decoy, never revealed) for a `[canary] decoys` share of the others.
//!    Both go through the same path, sent together (ours first) as soon as the poll sees the dispute, so neither
//!    timing nor order tells canaries from decoys. A registration that lands after the seed block unwinds the
//!    canary (the committee refuses its reveal); a decoy that could only land after it is not sent.
//! 6. Reveal: once the votes are bound (the commit deadline, or every seat committed) and until the first
//!    round's ruling is final, `revealCanary`; a redraw or an appeal unwinds it (the committee judges against
//!    the ruling then).
//! 7. Ruled: the challenger's ticket is collected (on ruling 2) and its desk balance withdrawn, and the buyer's
//!    refund (rulings 0, 2, 3) withdrawn from the market. An unwound canary's keys collect the same way once
//!    the job is final, then it is void.
//!
//! **What stays visible, and is accepted.** The fresh keys are funded from the canary key, in plain transfers:
//! whoever follows the canary key's transfers links its buyers and challengers. A treasury that wants more
//! cover funds them through the gasless relay or an exchange instead; the keys and their leftover ETH stay in
//! the journal (`canaries` table), never lost. Every canary accuses this operator, which pins its input first;
//! canary inputs have at least 2 sentences (a 1-row output has no other row to swap in), so 1-row disputes are
//! never canaries; the payment is the configured one.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::Provider,
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::{SolEvent, SolValue},
};
use anyhow::Context as _;
use cairn_bindings::{
    DisputeDesk, JobMarket, ModelRegistry, ReexecutionCommittee,
    enums::{job_state, phase, ticket},
};
use cairn_chain::Chain;
use cairn_ipfs::AddOptions;
use cairn_protocol::output::{Embeddings, Output};

use super::{
    config::CanarySection,
    journal::{Canary, CanaryStep},
    verify::revert_name,
};

/// Consecutive failed polls after which a canary's request is given up.
const MAX_REQUEST_FAILURES: u32 = 30;

/// 32 bytes from the operating system's random source (a fresh secp256k1 scalar: uniform below the group order,
/// which differs from 2^256 by less than 2^-127 of it).
fn random_word() -> B256 {
    PrivateKeySigner::random().to_bytes()
}

/// A fraction in [0, 1) from 8 random bytes.
fn random_fraction() -> f64 {
    fraction(&random_word()[..8])
}

/// A known-bad output of `output`: its rows rotated by one (row i answers with row i+1's vector, the last with
/// the first's). Same shape, every row a real, unit-norm embedding of one of the input's sentences, so every check
/// that does not re-run the model passes; checked here to fail the acceptance rule against `output`
/// (`cairn_protocol::acceptance`, cosine below 0.999 on some row).
///
/// Errors: `output` is not a canonical embeddings file, has fewer than 2 rows, or its rotation still passes the
/// rule (two sentences of the input embed alike): the canary must not be served as bad then.
pub fn known_bad(output: &Output) -> anyhow::Result<Output> {
    let truth = Embeddings::from_safetensors(&output.bytes).context("reading the output back")?;
    if truth.rows < 2 {
        anyhow::bail!("a {}-row output has no other row to swap in", truth.rows);
    }
    let mut bad = truth.clone();
    bad.data.rotate_left(truth.dim);
    let bad = Output::from(&bad);
    let report = cairn_protocol::acceptance::check_claimed_output(&bad.bytes, bad.sha256, &truth);
    if report.acceptable() {
        anyhow::bail!("the rows rotated still pass the acceptance rule (the input's sentences embed alike)");
    }
    Ok(bad)
}

/// The commitment the canary key registers for `dispute`: keccak256(abi.encode(disputeId, answer, salt)), as
/// `ReexecutionCommittee.revealCanary` recomputes it.
pub fn commitment(dispute: U256, answer: u8, salt: B256) -> B256 {
    keccak256((dispute, U256::from(answer), salt).abi_encode())
}

/// The canary key's side of the service, opened at start.
pub(crate) struct CanaryRole {
    /// `[canary]`.
    pub(crate) cfg: CanarySection,
    /// The canary key's client (registrations, reveals, funding).
    pub(crate) chain: Chain,
    /// Whether "every input used" was logged (once per process).
    spent: std::sync::atomic::AtomicBool,
    /// Consecutive failed steps per canary (in memory: a restart starts counting again).
    failures: std::sync::Mutex<std::collections::HashMap<i64, u32>>,
}

impl CanaryRole {
    /// Loads the canary key and checks that it is the committee's and nobody else's here.
    ///
    /// Errors: the key does not load, is the operator's or its hot key (one address would then sign with two
    /// nonce caches, and mark the operator), or the committee's `canaryKey` is another address (what to do is
    /// named).
    pub(crate) async fn open(
        cfg: &CanarySection,
        chain: &Chain,
        committee: Address,
        operator: Address,
    ) -> anyhow::Result<Self> {
        let key: PrivateKeySigner = cfg.key.load().await.context("loading the canary key ([canary] key)")?;
        let address = key.address();
        if address == operator || Some(address) == chain.signer_address() {
            anyhow::bail!(
                "[canary] key is {address}, the operator's own key: the canary key must be a separate key (the \
                 treasury's), set by governance with ReexecutionCommittee.setCanaryKey"
            );
        }
        let chain = super::runner::chain_as(chain, key).await?;
        let committee = ReexecutionCommittee::new(committee, chain.provider().clone());
        let set = committee.canaryKey().call().await.context("reading the committee's canary key")?;
        if set != address {
            anyhow::bail!(
                "[canary] key is {address}, but the committee's canary key is {set}: governance sets it with \
                 ReexecutionCommittee.setCanaryKey({address}), or remove [canary]"
            );
        }
        Ok(Self { cfg: cfg.clone(), chain, spent: Default::default(), failures: Default::default() })
    }
}

impl super::runner::Inner {
    /// The canaries' share of a poll: registrations for the disputes opened since the last one, a new canary
    /// when `[canary] every` has passed since the last, and one step of each open canary.
    ///
    /// Errors: a passing RPC or journal failure in the registrations; each canary's own step logs its failure
    /// and is tried again at the next poll.
    pub(crate) async fn play_canaries(&self) -> anyhow::Result<()> {
        let Some(role) = &self.canary else { return Ok(()) };
        let registered = self.register_disputes(role).await;
        let canaries = self.journal.canaries().await?;
        // An unwinding canary only waits to collect: it does not hold the next one back.
        let open =
            canaries.iter().any(|c| !matches!(c.step, CanaryStep::Done | CanaryStep::Unwinding | CanaryStep::Void));
        let due = self.journal.since_last_canary().await?.is_none_or(|age| age >= role.cfg.every.0);
        if due && !open {
            self.plan_canary(role, &canaries).await?;
        }
        for c in self.journal.canaries().await? {
            if matches!(c.step, CanaryStep::Done | CanaryStep::Void) {
                continue;
            }
            match self.step_canary(role, &c).await {
                Ok(()) => {
                    role.failures.lock().expect("not poisoned").remove(&c.id);
                }
                Err(e) => {
                    tracing::warn!(
                        canary = c.id,
                        step = c.step.as_str(),
                        error = format!("{e:#}"),
                        "cannot carry the canary on now; trying again later"
                    );
                    let failed = {
                        let mut failures = role.failures.lock().expect("not poisoned");
                        let n = failures.entry(c.id).or_default();
                        *n += 1;
                        *n
                    };
                    // A request that keeps failing (the model repriced in a token or above `payment`, withdrawn)
                    // gives the canary up rather than hold every later one back; its keys stay in the journal.
                    if failed >= MAX_REQUEST_FAILURES && matches!(c.step, CanaryStep::Planned | CanaryStep::Requesting)
                    {
                        let why = format!("the request failed {failed} times in a row, last: {e:#}");
                        self.unwind_canary(c.id, &why).await?;
                    }
                }
            }
        }
        registered
    }

    /// The id of our open canary with a known-bad answer that `job` (requested by `buyer`) is, if any: matched by
    /// the journaled job id or, when a crash lost the request's receipt before it was journaled, by the fresh
    /// buyer's address.
    ///
    /// Errors: the journal cannot be read.
    pub(crate) async fn bad_canary(&self, job: U256, buyer: Address) -> anyhow::Result<Option<i64>> {
        if self.canary.is_none() {
            return Ok(None);
        }
        let canaries = self.journal.canaries().await?;
        Ok(canaries.iter().find(|c| c.answer == 2 && is_ours(c, job, buyer)).map(|c| c.id))
    }

    /// Whether `job` is one of our canaries (the operator never appeals its ruling).
    ///
    /// Errors: the journal cannot be read.
    pub(crate) async fn is_canary(&self, job: U256) -> anyhow::Result<bool> {
        if self.canary.is_none() {
            return Ok(false);
        }
        Ok(self.journal.canaries().await?.iter().any(|c| c.job == Some(job)))
    }

    /// Journals canary `id`'s next step ([`super::journal::Journal::set_canary`]); a step refused because the canary
    /// was unwound (or ended) meanwhile is logged, not an error.
    async fn canary_step(
        &self,
        id: i64,
        step: CanaryStep,
        job: Option<U256>,
        dispute: Option<U256>,
        note: &str,
    ) -> anyhow::Result<()> {
        if !self.journal.set_canary(id, step, job, dispute, note).await? {
            tracing::info!(
                canary = id,
                step = step.as_str(),
                "the canary was unwound or ended meanwhile; step not taken"
            );
        }
        Ok(())
    }

    /// Canary `id` is no longer one: what its keys are owed is collected once its job is final.
    ///
    /// Errors: the journal cannot be written.
    pub(crate) async fn unwind_canary(&self, id: i64, why: &str) -> anyhow::Result<()> {
        tracing::warn!(canary = id, %why, "canary unwound: an ordinary job from here on");
        self.metrics.job("canary_unwound");
        self.canary_step(id, CanaryStep::Unwinding, None, None, why).await
    }

    /// Journals a new canary on the first input no canary has used, if any is left.
    async fn plan_canary(&self, role: &CanaryRole, canaries: &[Canary]) -> anyhow::Result<()> {
        let unused = role.cfg.inputs.iter().find(|i| {
            let path = i.display().to_string();
            canaries.iter().all(|c| c.input != path)
        });
        let Some(input) = unused else {
            if !role.spent.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    inputs = role.cfg.inputs.len(),
                    "every [canary] input has been used (an input used twice would let jurors compare instead of \
                     re-running): list new ones in [canary] inputs; no canary until then"
                );
            }
            return Ok(());
        };
        let answer = if random_fraction() < role.cfg.bad_share { 2 } else { 1 };
        let canary = Canary {
            id: 0,
            step: CanaryStep::Planned,
            answer,
            salt: random_word(),
            buyer_key: PrivateKeySigner::random().to_bytes(),
            challenger_key: PrivateKeySigner::random().to_bytes(),
            input: input.display().to_string(),
            from_block: self.chain.provider().get_block_number().await.context("reading the chain head")?,
            job: None,
            dispute: None,
            note: None,
        };
        let id = self.journal.plan_canary(&canary).await?;
        self.metrics.job("canary_planned");
        tracing::info!(canary = id, input = %input.display(), "canary planned");
        Ok(())
    }

    /// Sends ETH from the canary key until `to` holds `want` wei.
    async fn top_up(&self, role: &CanaryRole, to: Address, want: U256) -> anyhow::Result<()> {
        let have = self.chain.provider().get_balance(to).await.context("reading a fresh key's balance")?;
        if have < want {
            let tx = alloy::rpc::types::TransactionRequest::default().to(to).value(want - have);
            role.chain.send("fund", tx).await.context("funding a fresh canary key from the canary key")?;
        }
        Ok(())
    }

    /// One step of canary `c`.
    async fn step_canary(&self, role: &CanaryRole, c: &Canary) -> anyhow::Result<()> {
        let buyer = PrivateKeySigner::from_bytes(&c.buyer_key).context("the journaled buyer key")?;
        let challenger = PrivateKeySigner::from_bytes(&c.challenger_key).context("the journaled challenger key")?;
        match c.step {
            CanaryStep::Planned | CanaryStep::Requesting => {
                if c.step == CanaryStep::Requesting
                    && let Some(job) = self.requested_by(buyer.address(), c.from_block).await?
                {
                    return self.canary_step(c.id, CanaryStep::Requested, Some(job), None, "requested").await;
                }
                self.request_canary(role, c, buyer).await
            }
            CanaryStep::Requested => {
                let job = c.job.context("a requested canary without a job")?;
                let progress = self.market.getProgress(job).call().await.context("reading the canary's job")?;
                match progress.state {
                    job_state::REQUESTED => {
                        let deadline = self.market.getTerms(job).call().await.context("reading the terms")?.deadline;
                        if self.chain_time().await? > deadline {
                            return self.cancel_canary(c, job, buyer).await;
                        }
                        // Ours to claim: considered at once rather than at the next scan.
                        self.jobs.lock().expect("not poisoned").candidates.insert(job);
                        Ok(())
                    }
                    job_state::CLAIMED if progress.operator == self.operator => Ok(()),
                    job_state::SUBMITTED if progress.operator == self.operator => {
                        let params = self.market.params().call().await.context("reading the market's parameters")?;
                        let submitted = progress.challengeEnds.saturating_sub(params.challengeWindow);
                        let delay = role.cfg.challenge_delay.0.min(params.challengeWindow / 2);
                        // A random share of the delay, fixed by the (secret) salt so restarts keep it.
                        let due = submitted + (delay as f64 * fraction(&c.salt[8..16])) as u64;
                        if self.chain_time().await? < due {
                            return Ok(());
                        }
                        self.canary_step(c.id, CanaryStep::Challenging, None, None, "submitted").await?;
                        self.challenge_canary(role, c, job, challenger).await
                    }
                    job_state::CANCELLED => self.unwind_canary(c.id, "cancelled: nobody claimed it in time").await,
                    state => {
                        let why = format!(
                            "job {job} is in state {} with operator {}: an ordinary job, not a canary",
                            job_state::NAMES.get(usize::from(state)).unwrap_or(&"?"),
                            progress.operator
                        );
                        self.unwind_canary(c.id, &why).await
                    }
                }
            }
            CanaryStep::Challenging => {
                let job = c.job.context("a challenging canary without a job")?;
                if self.desk.ticketOf(job, challenger.address()).call().await.context("reading the ticket")?
                    != ticket::NONE
                {
                    return self.challenged(c, job, challenger.address()).await;
                }
                self.challenge_canary(role, c, job, challenger).await
            }
            // Registered by `register_disputes`, from the dispute's own log; unwound if the scan passed its seed
            // block without registering it.
            CanaryStep::Challenged => {
                let dispute = c.dispute.context("a challenged canary without a dispute")?;
                let seed = self.committee.disputeInfo(dispute).call().await.context("reading the dispute")?.seedBlock;
                if self.journal.canary_cursor().await?.is_some_and(|next| next > seed) {
                    let why = format!("dispute {dispute} was not registered by its seed block {seed}");
                    return self.unwind_canary(c.id, &why).await;
                }
                Ok(())
            }
            CanaryStep::Registered => self.reveal_canary(role, c).await,
            CanaryStep::Revealed | CanaryStep::Unwinding => self.settle_canary(role, c, buyer, challenger).await,
            CanaryStep::Done | CanaryStep::Void => Ok(()),
        }
    }

    /// The job `buyer` requested since block `from`, if any (a request whose receipt a crash lost), scanned in
    /// ranges of [`super::runner::LOG_RANGE`] blocks.
    async fn requested_by(&self, buyer: Address, from: u64) -> anyhow::Result<Option<U256>> {
        let head = self.chain.provider().get_block_number().await.context("reading the chain head")?;
        let mut lo = from;
        while lo <= head {
            let hi = head.min(lo + super::runner::LOG_RANGE - 1);
            let filter = Filter::new()
                .address(*self.market.address())
                .event_signature(JobMarket::JobRequested::SIGNATURE_HASH)
                .topic2(buyer.into_word())
                .from_block(lo)
                .to_block(hi);
            let logs = self.chain.provider().get_logs(&filter).await.context("looking for the canary's request")?;
            if let Some(log) = logs.first() {
                return Ok(Some(U256::from_be_bytes(log.topics()[1].0)));
            }
            lo = hi + 1;
        }
        Ok(None)
    }

    async fn request_canary(&self, role: &CanaryRole, c: &Canary, buyer: PrivateKeySigner) -> anyhow::Result<()> {
        let cfg = &role.cfg;
        let model = U256::from(cfg.model);
        let registry = ModelRegistry::new(*self.models.address(), self.chain.provider().clone());
        let version = registry.getModel(model).call().await.context("reading the canary model")?.latestVersion;
        let v = registry.getVersion(model, version).call().await.context("reading the canary model's version")?;
        if v.paymentToken != Address::ZERO {
            anyhow::bail!(
                "[canary] model {model} version {version} is priced in token {}: canary jobs pay in ETH; choose an \
                 ETH-priced model",
                v.paymentToken
            );
        }
        let bytes = std::fs::read(&c.input).with_context(|| format!("reading the canary input {}", c.input))?;
        let added = self
            .kubo
            .add_bytes("input.json", bytes, AddOptions::default())
            .await
            .context("pinning the canary input")?;
        let licence = if registry.canUse(model, buyer.address()).call().await.context("reading the licence")? {
            U256::ZERO
        } else {
            v.licensePrice
        };
        self.top_up(role, buyer.address(), cfg.payment.0 + licence + cfg.gas_money.0).await?;
        self.canary_step(c.id, CanaryStep::Requesting, None, None, "funded").await?;
        let as_buyer = super::runner::chain_as(&self.chain, buyer).await?;
        if !licence.is_zero() {
            let registry = ModelRegistry::new(*self.models.address(), as_buyer.provider().clone());
            let call = registry.buyLicense(model, Address::ZERO, licence, 0).value(licence);
            as_buyer.send("buyLicense", call.into_transaction_request()).await.context("buying the canary licence")?;
        }
        let market = JobMarket::new(*self.market.address(), as_buyer.provider().clone());
        let params = market.params().call().await.context("reading the market's parameters")?;
        // A buyer's deadline, from 30 minutes to 2 hours (within the market's maximum), not a fixed mark.
        let span = 1_800 + (5_400.0 * fraction(&c.salt[16..24])) as u64;
        let deadline = self.chain_time().await? + params.maxDeadline.min(span);
        let call = market
            .requestJob(
                model,
                version,
                B256::from(added.sha256.0),
                added.cid.to_string(),
                Address::ZERO,
                cfg.payment.0,
                v.pricePerCall,
                deadline,
                U256::ZERO,
            )
            .value(cfg.payment.0);
        let receipt =
            as_buyer.send("requestJob", call.into_transaction_request()).await.context("requesting the canary job")?;
        let job = receipt.decoded_log::<JobMarket::JobRequested>().context("no JobRequested in the receipt")?.jobId;
        self.crash_point("canary-requested", job).await;
        self.canary_step(c.id, CanaryStep::Requested, Some(job), None, "requested").await?;
        self.jobs.lock().expect("not poisoned").candidates.insert(job);
        tracing::info!(canary = c.id, job = %job, "canary job requested");
        Ok(())
    }

    /// Nobody claimed the canary by its deadline: the buyer cancels it (its refund is collected by the unwinding).
    async fn cancel_canary(&self, c: &Canary, job: U256, buyer: PrivateKeySigner) -> anyhow::Result<()> {
        let as_buyer = super::runner::chain_as(&self.chain, buyer).await?;
        let market = JobMarket::new(*self.market.address(), as_buyer.provider().clone());
        as_buyer.send("cancel", market.cancel(job).into_transaction_request()).await.context("cancelling")?;
        self.unwind_canary(c.id, "cancelled: nobody claimed it by its deadline").await
    }

    async fn challenge_canary(
        &self,
        role: &CanaryRole,
        c: &Canary,
        job: U256,
        challenger: PrivateKeySigner,
    ) -> anyhow::Result<()> {
        let progress = self.market.getProgress(job).call().await.context("reading the canary's job")?;
        if progress.state != job_state::SUBMITTED || self.chain_time().await? >= progress.challengeEnds {
            let why = format!(
                "job {job} can no longer be opened to a challenge (state {})",
                job_state::NAMES.get(usize::from(progress.state)).unwrap_or(&"?")
            );
            return self.unwind_canary(c.id, &why).await;
        }
        let cost = self.desk.challengeCost(job).call().await.context("reading the challenge's cost")?;
        self.top_up(role, challenger.address(), cost + role.cfg.gas_money.0).await?;
        let as_challenger = super::runner::chain_as(&self.chain, challenger.clone()).await?;
        let desk = DisputeDesk::new(*self.desk.address(), as_challenger.provider().clone());
        as_challenger
            .send("challenge", desk.challenge(job).value(cost).into_transaction_request())
            .await
            .context("challenging the canary job")?;
        // Registered at the next poll, through the same path as every other dispute's decoy.
        self.challenged(c, job, challenger.address()).await
    }

    /// The challenge landed: the canary goes on only if our challenger opened the pool (a dispute someone else
    /// opened is theirs, its `DisputeOpened` names them and gets no canary registration).
    async fn challenged(&self, c: &Canary, job: U256, challenger: Address) -> anyhow::Result<()> {
        let pool = self.desk.poolOf(job).call().await.context("reading the pool")?;
        if pool.first != challenger {
            let why = format!("{} opened the pool first: an ordinary dispute", pool.first);
            return self.unwind_canary(c.id, &why).await;
        }
        self.canary_step(c.id, CanaryStep::Challenged, None, Some(pool.disputeId), "challenged").await?;
        tracing::info!(canary = c.id, job = %job, dispute = %pool.disputeId, "canary challenged");
        Ok(())
    }

    /// Registers a commitment for every `DisputeOpened` since the canary cursor: our canary's (matched by its
    /// challenger) or, for a `[canary] decoys` share of the others that can still land by their seed block, a
    /// random one. A range's registrations are sent together, ours first, so one does not wait for another's
    /// receipt.
    ///
    /// Errors: the RPC or the journal fails (the cursor stays, so the range is registered again: a repeated
    /// canary commitment is refused as registered, a repeated decoy is another random one).
    async fn register_disputes(&self, role: &CanaryRole) -> anyhow::Result<()> {
        let head = self.chain.provider().get_block_number().await.context("reading the chain head")?;
        let from = match self.journal.canary_cursor().await? {
            Some(next) => next,
            // The first start registers from now on: older disputes are past their seed blocks.
            None => head,
        };
        if from > head {
            return Ok(());
        }
        let to = head.min(from + super::runner::LOG_RANGE - 1);
        let filter = Filter::new()
            .address(*self.committee.address())
            .event_signature(ReexecutionCommittee::DisputeOpened::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = self.chain.provider().get_logs(&filter).await.context("reading DisputeOpened logs")?;
        let canaries = self.journal.canaries().await?;
        let mut ours = Vec::new();
        let mut decoys = 0;
        for log in logs {
            let opened =
                ReexecutionCommittee::DisputeOpened::decode_log_data(log.data()).context("decoding DisputeOpened")?;
            let canary = canaries.iter().find(|c| {
                // Challenging too: a challenge that landed before a crash (or a lost receipt) let it be journaled.
                matches!(c.step, CanaryStep::Challenging | CanaryStep::Challenged)
                    && PrivateKeySigner::from_bytes(&c.challenger_key).is_ok_and(|k| k.address() == opened.challenger)
            });
            match canary {
                Some(c) => ours.push((c, opened.disputeId, opened.seedBlock)),
                // A decoy that could only land after the seed block is gas spent on nothing (catching up after
                // downtime).
                None if U256::from(head) < opened.seedBlock && random_fraction() < role.cfg.decoys => decoys += 1,
                None => {}
            }
        }
        let sends = ours
            .iter()
            .map(|(c, dispute, seed)| futures_util::future::Either::Left(self.register(role, c, *dispute, *seed)))
            .chain((0..decoys).map(|_| futures_util::future::Either::Right(self.register_decoy(role))));
        for result in futures_util::future::join_all(sends).await {
            result?;
        }
        self.journal.set_canary_cursor(to + 1).await
    }

    /// Registers a random commitment (a decoy, never revealed).
    async fn register_decoy(&self, role: &CanaryRole) -> anyhow::Result<()> {
        let committee = ReexecutionCommittee::new(*self.committee.address(), role.chain.provider().clone());
        let call = committee.registerCanary(random_word());
        role.chain
            .send("registerCanary", call.into_transaction_request())
            .await
            .map_err(not_the_key)
            .context("registering a decoy")?;
        self.metrics.job("canary_registration");
        Ok(())
    }

    /// Registers canary `c`'s commitment for `dispute`; unwinds it when the registration lands after `seed_block`.
    async fn register(&self, role: &CanaryRole, c: &Canary, dispute: U256, seed_block: U256) -> anyhow::Result<()> {
        let committee = ReexecutionCommittee::new(*self.committee.address(), role.chain.provider().clone());
        let call = committee.registerCanary(commitment(dispute, c.answer, c.salt));
        let landed = match role.chain.send("registerCanary", call.into_transaction_request()).await {
            Ok(receipt) => receipt.block_number,
            // Registered before a crash lost the answer.
            Err(e) if revert_name(&e) == Some("BadCanaryCommitment") => None,
            Err(e) => return Err(not_the_key(e)).context("registering the canary"),
        };
        self.metrics.job("canary_registration");
        if let Some(block) = landed
            && U256::from(block) > seed_block
        {
            let why = format!("registered in block {block}, after the seed block {seed_block}: its reveal is refused");
            return self.unwind_canary(c.id, &why).await;
        }
        self.canary_step(c.id, CanaryStep::Registered, None, Some(dispute), "registered").await
    }

    /// Reveals canary `c` once its votes are bound; unwinds it when the committee refuses for good.
    async fn reveal_canary(&self, role: &CanaryRole, c: &Canary) -> anyhow::Result<()> {
        let dispute = c.dispute.context("a registered canary without a dispute")?;
        let info = self.committee.disputeInfo(dispute).call().await.context("reading the canary's dispute")?;
        if info.phase != phase::DRAWN && info.phase != phase::APPEALABLE {
            if info.phase == phase::RULED {
                return self.revealed_or_unwound(c, dispute, "ruled before the reveal").await;
            }
            return Ok(());
        }
        let committee = ReexecutionCommittee::new(*self.committee.address(), role.chain.provider().clone());
        let call = committee.revealCanary(dispute, U256::from(c.answer), c.salt);
        match role.chain.send("revealCanary", call.into_transaction_request()).await {
            Ok(_) => {
                self.metrics.job("canary_revealed");
                tracing::info!(canary = c.id, dispute = %dispute, answer = c.answer, "canary revealed");
                self.canary_step(c.id, CanaryStep::Revealed, None, None, "revealed").await
            }
            // The votes are not bound yet.
            Err(e) if revert_name(&e) == Some("OutsidePeriod") => Ok(()),
            Err(e) if matches!(revert_name(&e), Some("CanaryRefused" | "WrongPhase")) => {
                let why = format!(
                    "the committee refused the reveal ({}): a redraw or an appeal",
                    revert_name(&e).unwrap_or("")
                );
                self.revealed_or_unwound(c, dispute, &why).await
            }
            Err(e) => Err(not_the_key(e)).context("revealing the canary"),
        }
    }

    /// Revealed already (before a crash lost the receipt), or unwound for `why`.
    async fn revealed_or_unwound(&self, c: &Canary, dispute: U256, why: &str) -> anyhow::Result<()> {
        let revealed = self.committee.canaryAnswer(dispute).call().await.context("reading the answer")?;
        if revealed == c.answer {
            return self.canary_step(c.id, CanaryStep::Revealed, None, None, "revealed").await;
        }
        self.unwind_canary(c.id, why).await
    }

    /// Once the job is final (ruled, finalized or cancelled): the challenger's ticket collected where it pays, and
    /// the challenger's desk balance and the buyer's market balance (a refund) withdrawn to them; then `done` for
    /// a revealed canary, `void` for an unwound one.
    async fn settle_canary(
        &self,
        role: &CanaryRole,
        c: &Canary,
        buyer: PrivateKeySigner,
        challenger: PrivateKeySigner,
    ) -> anyhow::Result<()> {
        let Some(job) = c.job else {
            return self.canary_step(c.id, CanaryStep::Void, None, None, &note(c)).await;
        };
        let progress = self.market.getProgress(job).call().await.context("reading the canary's job")?;
        let now = self.chain_time().await?;
        let gas = role.cfg.gas_money.0;
        // An unwound job left where nobody moves it on: the buyer reopens a late claim and cancels an unclaimed
        // job past its deadline (both open to anyone; the buyer's refund is collected below).
        if c.step == CanaryStep::Unwinding {
            let deadline = self.market.getTerms(job).call().await.context("reading the terms")?.deadline;
            let action = match progress.state {
                job_state::CLAIMED if now > progress.submitBy => Some("reopen"),
                job_state::REQUESTED if now > deadline => Some("cancel"),
                _ => None,
            };
            if let Some(action) = action {
                self.top_up(role, buyer.address(), gas).await?;
                let as_buyer = super::runner::chain_as(&self.chain, buyer).await?;
                let market = JobMarket::new(*self.market.address(), as_buyer.provider().clone());
                let call = if action == "reopen" {
                    market.reopen(job).into_transaction_request()
                } else {
                    market.cancel(job).into_transaction_request()
                };
                as_buyer.send(action, call).await.with_context(|| format!("{action} job {job}"))?;
                return Ok(());
            }
        }
        let pool = self.desk.poolOf(job).call().await.context("reading the pool")?;
        let disputed = !pool.disputeId.is_zero();
        let final_state = matches!(progress.state, job_state::FINALIZED | job_state::CANCELLED | job_state::RESOLVED);
        if !final_state || (disputed && !pool.ruled) {
            return Ok(());
        }
        let me = challenger.address();
        let committee = ReexecutionCommittee::new(*self.committee.address(), self.chain.provider().clone());
        let ticket = if disputed { self.desk.ticketOf(job, me).call().await? } else { ticket::NONE };
        let collect = pool.payout > U256::ZERO && ticket == ticket::HELD;
        let at_desk = self.desk.balanceOf(me, Address::ZERO).call().await? > U256::ZERO;
        // The committee pays the challenger itself when no seat matched what was judged (the fee and penalties).
        let at_committee = committee.balanceOf(me, Address::ZERO).call().await? > U256::ZERO;
        if collect || at_desk || at_committee {
            self.top_up(role, me, gas).await?;
            let as_challenger = super::runner::chain_as(&self.chain, challenger).await?;
            let desk = DisputeDesk::new(*self.desk.address(), as_challenger.provider().clone());
            if collect {
                let call = desk.collect(job, me);
                as_challenger.send("collect", call.into_transaction_request()).await.context("collecting")?;
            }
            if collect || at_desk {
                let call = desk.withdraw(Address::ZERO);
                as_challenger.send("withdraw", call.into_transaction_request()).await.context("withdrawing")?;
            }
            if at_committee {
                let committee = ReexecutionCommittee::new(*self.committee.address(), as_challenger.provider().clone());
                let call = committee.withdraw(Address::ZERO);
                as_challenger
                    .send("withdraw", call.into_transaction_request())
                    .await
                    .context("withdrawing from the committee")?;
            }
        }
        if self.market.balanceOf(buyer.address(), Address::ZERO).call().await? > U256::ZERO {
            self.top_up(role, buyer.address(), gas).await?;
            let as_buyer = super::runner::chain_as(&self.chain, buyer).await?;
            let market = JobMarket::new(*self.market.address(), as_buyer.provider().clone());
            let call = market.withdraw(Address::ZERO);
            as_buyer.send("withdraw", call.into_transaction_request()).await.context("withdrawing the refund")?;
        }
        if c.step == CanaryStep::Unwinding {
            return self.canary_step(c.id, CanaryStep::Void, None, None, &note(c)).await;
        }
        let judged = self.committee.canaryAnswer(pool.disputeId).call().await.context("reading the answer")?;
        let note = format!("ruled {}; seats judged against the answer {judged}", pool.ruling);
        tracing::info!(canary = c.id, job = %job, ruling = pool.ruling, answer = c.answer, "canary ruled");
        self.metrics.job("canary_done");
        self.canary_step(c.id, CanaryStep::Done, None, None, &note).await
    }
}

/// Whether canary `c`, still before its challenge, is `job` (by id, or by its fresh buyer when the id is not
/// journaled yet).
fn is_ours(c: &Canary, job: U256, buyer: Address) -> bool {
    let open = matches!(c.step, CanaryStep::Requesting | CanaryStep::Requested | CanaryStep::Challenging);
    open && (c.job == Some(job)
        || (c.job.is_none() && PrivateKeySigner::from_bytes(&c.buyer_key).is_ok_and(|k| k.address() == buyer)))
}

/// A fraction in [0, 1) from 8 bytes (of a secret salt: a delay or a deadline that restarts keep).
fn fraction(bytes: &[u8]) -> f64 {
    u64::from_be_bytes(bytes.try_into().expect("8 bytes")) as f64 / 18_446_744_073_709_551_616.0
}

/// The journal note kept when an unwound canary turns void.
fn note(c: &Canary) -> String {
    c.note.clone().unwrap_or_default()
}

/// `NotCanaryKey` told as what to do.
fn not_the_key(e: cairn_chain::Error) -> anyhow::Error {
    if revert_name(&e) == Some("NotCanaryKey") {
        return anyhow::Error::new(e).context(
            "the committee's canary key is no longer [canary] key: governance rotated it (setCanaryKey); configure \
             the new key or remove [canary]",
        );
    }
    anyhow::Error::new(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_bad_output_rotates_real_rows_and_fails_the_acceptance_rule() {
        let row = |seed: f32| {
            let v: Vec<f32> = (0..8).map(|i| (i as f32 + seed).sin()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect::<Vec<_>>()
        };
        let e = Embeddings { rows: 2, dim: 8, data: [row(0.3), row(1.7)].concat() };
        let good = Output::from(&e);
        let bad = Embeddings::from_safetensors(&known_bad(&good).unwrap().bytes).unwrap();
        assert_eq!((bad.rows, bad.dim), (2, 8), "same shape");
        for r in 0..2 {
            let (t, b) = (e.row(r), bad.row(r));
            let norm: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "unit norm: {norm}");
            let cosine: f32 = t.iter().zip(b).map(|(x, y)| x * y).sum();
            assert!(cosine < 0.999, "row {r} fails the acceptance rule's cosine: {cosine}");
            assert_eq!(b, e.row((r + 1) % 2), "row {r} answers with the next row's true vector");
        }
        let one = Output::from(&Embeddings { rows: 1, dim: 8, data: row(0.3) });
        assert!(known_bad(&one).unwrap_err().to_string().contains("no other row"), "a 1-row output has no bad twin");
        let alike = Output::from(&Embeddings { rows: 2, dim: 8, data: [row(0.3), row(0.3)].concat() });
        let err = known_bad(&alike).unwrap_err().to_string();
        assert!(err.contains("still pass the acceptance rule"), "sentences that embed alike: {err}");
    }

    #[test]
    fn a_canary_is_known_by_its_job_or_before_that_by_its_buyer() {
        let buyer = PrivateKeySigner::random();
        let mut c = Canary {
            id: 1,
            step: CanaryStep::Requesting,
            answer: 2,
            salt: B256::ZERO,
            buyer_key: buyer.to_bytes(),
            challenger_key: PrivateKeySigner::random().to_bytes(),
            input: "in.json".into(),
            from_block: 0,
            job: None,
            dispute: None,
            note: None,
        };
        let (job, other) = (U256::from(7), PrivateKeySigner::random().address());
        assert!(is_ours(&c, job, buyer.address()), "a crash lost the job id: known by its buyer");
        assert!(!is_ours(&c, job, other), "another buyer's job is not ours");
        c.job = Some(U256::from(8));
        assert!(!is_ours(&c, job, buyer.address()), "once the id is journaled, only that job");
        assert!(is_ours(&c, U256::from(8), other), "by its id");
        c.step = CanaryStep::Unwinding;
        assert!(!is_ours(&c, U256::from(8), buyer.address()), "an unwound canary is served true");
    }

    #[test]
    fn the_commitment_is_what_the_committee_recomputes() {
        // keccak256(abi.encode(uint256 7, uint256 2, bytes32 salt)): three 32-byte words.
        let salt = B256::repeat_byte(0xAB);
        let mut words = Vec::new();
        words.extend_from_slice(&U256::from(7).to_be_bytes::<32>());
        words.extend_from_slice(&U256::from(2).to_be_bytes::<32>());
        words.extend_from_slice(salt.as_slice());
        assert_eq!(commitment(U256::from(7), 2, salt), keccak256(&words));
        assert_ne!(commitment(U256::from(7), 1, salt), commitment(U256::from(7), 2, salt), "the answer is bound");
    }
}
