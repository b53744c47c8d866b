//! The treasury's canaries (`[canary]`; issue #12, "Jurors pay for being wrong, absent or lazy"): disputes whose
//! answer the treasury knows, so a juror who votes without re-running ("always acceptable", "always not
//! acceptable") pays the coherence penalty on the canaries it gets wrong, even where lazy jurors are the majority
//! (`ReexecutionCommittee.revealCanary`, docs/ARCHITECTURE.md "As built (step 8): canaries").
//!
//! **One canary** ([`CanaryStep`], each step journaled before the chain write that depends on it):
//! 1. *Planned*: the answer (2 for a `bad_share` of them, else 1), a salt and two fresh keys (a buyer, a
//!    challenger) are written to the journal first, so a crash loses no key that holds money.
//! 2. The canary key funds the fresh buyer (payment, a licence if the model sells them, gas); the buyer requests
//!    a job of `[canary] model` on the next of `[canary] inputs`, in ETH, like any buyer.
//! 3. This operator claims it as any other job (the claim race is the treasury's own: a canary claimed by
//!    another operator is an ordinary paid job, and the canary is void). For a known-bad canary it submits
//!    [`known_bad`]: every row's values in reverse order, so shape, finiteness and unit norm pass and only a
//!    re-execution tells. The operator never appeals a ruling on its own canary.
//! 4. Once submitted, the fresh challenger (funded with the challenge's cost and gas) challenges it.
//! 5. Registration: for every `DisputeOpened` the committee emits (scanned from the journal's canary cursor), the
//!    canary key registers a commitment: keccak256(abi.encode(disputeId, answer, salt)) for its own canary, a
//!    random 32 bytes (a decoy, never revealed) for a `[canary] decoys` share of the others. Both go through the
//!    same path, after the dispute exists and before its seed block is mined, so their timing does not tell
//!    canaries from decoys. A registration that lands after the seed block voids the canary (the committee
//!    refuses its reveal).
//! 6. Reveal: once the votes are bound (the commit deadline, or every seat committed) and until the first
//!    round's ruling is final, `revealCanary`; a redraw or an appeal voids it (the committee judges against the
//!    ruling then).
//! 7. Ruled: the challenger's ticket is collected (on ruling 2) and its desk balance withdrawn to it.
//!
//! **What stays visible, and is accepted.** The fresh keys are funded from the canary key, in plain transfers:
//! whoever follows the canary key's transfers links its buyers and challengers. A treasury that wants more
//! cover funds them through the gasless relay or an exchange instead; the keys and their leftover ETH stay in
//! the journal (`canaries` table), never lost.

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

/// 32 bytes from the operating system's random source (a fresh secp256k1 scalar: uniform below the group order,
/// which differs from 2^256 by less than 2^-127 of it).
fn random_word() -> B256 {
    PrivateKeySigner::random().to_bytes()
}

/// A fraction in [0, 1) from 8 random bytes.
fn random_fraction() -> f64 {
    let bytes = random_word();
    u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")) as f64 / 18_446_744_073_709_551_616.0
}

/// A known-bad output of `output`: every row's values in reverse order. Same shape, finite, unit norm (so every
/// check that does not re-run the model passes), but the cosine to the true row is far below the acceptance
/// rule's 0.999 (a row of a real model is not symmetric under reversal).
///
/// Errors: `output` is not a canonical embeddings file.
pub fn known_bad(output: &Output) -> anyhow::Result<Output> {
    let mut e = Embeddings::from_safetensors(&output.bytes).context("reading the output back")?;
    let dim = e.dim;
    e.data.chunks_mut(dim).for_each(<[f32]>::reverse);
    Ok(Output::from(&e))
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
}

impl CanaryRole {
    /// Loads the canary key and checks that it is the committee's.
    ///
    /// Errors: the key does not load, or the committee's `canaryKey` is another address (what to do is named).
    pub(crate) async fn open(cfg: &CanarySection, chain: &Chain, committee: Address) -> anyhow::Result<Self> {
        let key: PrivateKeySigner = cfg.key.load().await.context("loading the canary key ([canary] key)")?;
        let address = key.address();
        let chain = super::runner::chain_as(chain, key).await?;
        let committee = ReexecutionCommittee::new(committee, chain.provider().clone());
        let set = committee.canaryKey().call().await.context("reading the committee's canary key")?;
        if set != address {
            anyhow::bail!(
                "[canary] key is {address}, but the committee's canary key is {set}: governance sets it with \
                 ReexecutionCommittee.setCanaryKey({address}), or remove [canary]"
            );
        }
        Ok(Self { cfg: cfg.clone(), chain })
    }
}

impl super::runner::Inner {
    /// The canaries' share of a poll: registrations for the disputes opened since the last one, a new canary
    /// when `[canary] every` has passed since the last, and one step of each open canary.
    ///
    /// Errors: a passing RPC or journal failure; the rest is tried at the next poll.
    pub(crate) async fn play_canaries(&self) -> anyhow::Result<()> {
        let Some(role) = &self.canary else { return Ok(()) };
        self.register_disputes(role).await?;
        let canaries = self.journal.canaries().await?;
        let open = canaries.iter().any(|c| !matches!(c.step, CanaryStep::Done | CanaryStep::Void));
        let due = self.journal.since_last_canary().await?.is_none_or(|age| age >= role.cfg.every.0);
        if due && !open {
            self.plan_canary(role, canaries.len()).await?;
        }
        for c in self.journal.canaries().await? {
            if matches!(c.step, CanaryStep::Done | CanaryStep::Void) {
                continue;
            }
            if let Err(e) = self.step_canary(role, &c).await {
                tracing::warn!(
                    canary = c.id,
                    step = c.step.as_str(),
                    error = format!("{e:#}"),
                    "cannot carry the canary on now; trying again later"
                );
            }
        }
        Ok(())
    }

    /// Whether `job` is one of our canaries with a known-bad answer (its output is [`known_bad`]).
    ///
    /// Errors: the journal cannot be read.
    pub(crate) async fn bad_canary(&self, job: U256) -> anyhow::Result<bool> {
        if self.canary.is_none() {
            return Ok(false);
        }
        Ok(self.journal.canaries().await?.iter().any(|c| c.job == Some(job) && c.answer == 2))
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

    async fn plan_canary(&self, role: &CanaryRole, count: usize) -> anyhow::Result<()> {
        let inputs = &role.cfg.inputs;
        let input = &inputs[count % inputs.len()];
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
                    return self.journal.set_canary(c.id, CanaryStep::Requested, Some(job), None, "requested").await;
                }
                self.request_canary(role, c, buyer).await
            }
            CanaryStep::Requested => {
                let job = c.job.context("a requested canary without a job")?;
                let progress = self.market.getProgress(job).call().await.context("reading the canary's job")?;
                match progress.state {
                    job_state::REQUESTED => {
                        // Ours to claim: considered at once rather than at the next scan.
                        self.jobs.lock().expect("not poisoned").candidates.insert(job);
                        Ok(())
                    }
                    job_state::CLAIMED if progress.operator == self.operator => Ok(()),
                    job_state::SUBMITTED if progress.operator == self.operator => {
                        self.journal.set_canary(c.id, CanaryStep::Challenging, None, None, "submitted").await?;
                        self.challenge_canary(role, c, job, challenger).await
                    }
                    state => {
                        let why = format!(
                            "job {job} is in state {state} with operator {}: an ordinary job, not a canary",
                            progress.operator
                        );
                        tracing::info!(canary = c.id, %why, "canary void");
                        self.journal.set_canary(c.id, CanaryStep::Void, None, None, &why).await
                    }
                }
            }
            CanaryStep::Challenging => {
                let job = c.job.context("a challenging canary without a job")?;
                if self.desk.ticketOf(job, challenger.address()).call().await.context("reading the ticket")?
                    != ticket::NONE
                {
                    let dispute = self.desk.poolOf(job).call().await.context("reading the pool")?.disputeId;
                    return self
                        .journal
                        .set_canary(c.id, CanaryStep::Challenged, None, Some(dispute), "challenged")
                        .await;
                }
                self.challenge_canary(role, c, job, challenger).await
            }
            // Registered by `register_disputes`, from the dispute's own log.
            CanaryStep::Challenged => Ok(()),
            CanaryStep::Registered => self.reveal_canary(role, c).await,
            CanaryStep::Revealed => self.settle_canary(c, challenger).await,
            CanaryStep::Done | CanaryStep::Void => Ok(()),
        }
    }

    /// The job `buyer` requested since block `from`, if any (a request whose answer a crash lost).
    async fn requested_by(&self, buyer: Address, from: u64) -> anyhow::Result<Option<U256>> {
        let filter = Filter::new()
            .address(*self.market.address())
            .event_signature(JobMarket::JobRequested::SIGNATURE_HASH)
            .topic2(buyer.into_word())
            .from_block(from);
        let logs = self.chain.provider().get_logs(&filter).await.context("looking for the canary's request")?;
        Ok(logs.first().map(|l| U256::from_be_bytes(l.topics()[1].0)))
    }

    async fn request_canary(&self, role: &CanaryRole, c: &Canary, buyer: PrivateKeySigner) -> anyhow::Result<()> {
        let cfg = &role.cfg;
        let model = U256::from(cfg.model);
        let registry = ModelRegistry::new(*self.models.address(), self.chain.provider().clone());
        let version = match cfg.version {
            Some(v) => v,
            None => registry.getModel(model).call().await.context("reading the canary model")?.latestVersion,
        };
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
        self.journal.set_canary(c.id, CanaryStep::Requesting, None, None, "funded").await?;
        let as_buyer = super::runner::chain_as(&self.chain, buyer).await?;
        if !licence.is_zero() {
            let registry = ModelRegistry::new(*self.models.address(), as_buyer.provider().clone());
            let call = registry.buyLicense(model, Address::ZERO, licence, 0).value(licence);
            as_buyer.send("buyLicense", call.into_transaction_request()).await.context("buying the canary licence")?;
        }
        let market = JobMarket::new(*self.market.address(), as_buyer.provider().clone());
        let params = market.params().call().await.context("reading the market's parameters")?;
        let deadline = self.chain_time().await? + params.maxDeadline.min(3_600);
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
        self.journal.set_canary(c.id, CanaryStep::Requested, Some(job), None, "requested").await?;
        self.jobs.lock().expect("not poisoned").candidates.insert(job);
        tracing::info!(canary = c.id, job = %job, "canary job requested");
        Ok(())
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
            let why = format!("job {job} can no longer be challenged (state {})", progress.state);
            return self.journal.set_canary(c.id, CanaryStep::Void, None, None, &why).await;
        }
        let cost = self.desk.challengeCost(job).call().await.context("reading the challenge's cost")?;
        self.top_up(role, challenger.address(), cost + role.cfg.gas_money.0).await?;
        let as_challenger = super::runner::chain_as(&self.chain, challenger).await?;
        let desk = DisputeDesk::new(*self.desk.address(), as_challenger.provider().clone());
        as_challenger
            .send("challenge", desk.challenge(job).value(cost).into_transaction_request())
            .await
            .context("challenging the canary job")?;
        let dispute = self.desk.poolOf(job).call().await.context("reading the pool")?.disputeId;
        self.journal.set_canary(c.id, CanaryStep::Challenged, None, Some(dispute), "challenged").await?;
        tracing::info!(canary = c.id, job = %job, dispute = %dispute, "canary challenged");
        // Registered through the same path as every other dispute's decoy, at once.
        self.register_disputes(role).await
    }

    /// Registers a commitment for every `DisputeOpened` since the canary cursor: our canary's (matched by its
    /// challenger) or, for a `[canary] decoys` share of the others, a random one.
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
        if !logs.is_empty() {
            let canaries = self.journal.canaries().await?;
            for log in logs {
                let opened = ReexecutionCommittee::DisputeOpened::decode_log_data(log.data())
                    .context("decoding DisputeOpened")?;
                let ours = canaries.iter().find(|c| {
                    matches!(c.step, CanaryStep::Challenging | CanaryStep::Challenged)
                        && PrivateKeySigner::from_bytes(&c.challenger_key)
                            .is_ok_and(|k| k.address() == opened.challenger)
                });
                // A decoy that could only land after the seed block is gas spent on nothing (catching up after
                // downtime); our own canary is still sent, and voided if it lands late.
                if ours.is_none() && U256::from(head) >= opened.seedBlock {
                    continue;
                }
                self.register(role, ours, opened.disputeId, opened.seedBlock).await?;
            }
        }
        self.journal.set_canary_cursor(to + 1).await
    }

    /// Registers canary `ours`'s commitment for `dispute`, or a decoy's.
    async fn register(
        &self,
        role: &CanaryRole,
        ours: Option<&Canary>,
        dispute: U256,
        seed_block: U256,
    ) -> anyhow::Result<()> {
        let committee = ReexecutionCommittee::new(*self.committee.address(), role.chain.provider().clone());
        let Some(c) = ours else {
            if random_fraction() >= role.cfg.decoys {
                return Ok(());
            }
            let call = committee.registerCanary(random_word());
            role.chain.send("registerCanary", call.into_transaction_request()).await.context("registering a decoy")?;
            self.metrics.job("canary_decoy");
            return Ok(());
        };
        let call = committee.registerCanary(commitment(dispute, c.answer, c.salt));
        let landed = match role.chain.send("registerCanary", call.into_transaction_request()).await {
            Ok(receipt) => receipt.block_number,
            // Registered before a crash lost the answer.
            Err(e) if revert_name(&e) == Some("BadCanaryCommitment") => None,
            Err(e) => return Err(e).context("registering the canary"),
        };
        if let Some(block) = landed
            && U256::from(block) > seed_block
        {
            let why =
                format!("registered in block {block}, after the seed block {seed_block}: the reveal would be refused");
            tracing::warn!(canary = c.id, dispute = %dispute, %why, "canary void");
            return self.journal.set_canary(c.id, CanaryStep::Void, None, Some(dispute), &why).await;
        }
        self.metrics.job("canary_registered");
        self.journal.set_canary(c.id, CanaryStep::Registered, None, Some(dispute), "registered").await
    }

    /// Reveals canary `c` once its votes are bound; voids it when the committee refuses for good.
    async fn reveal_canary(&self, role: &CanaryRole, c: &Canary) -> anyhow::Result<()> {
        let dispute = c.dispute.context("a registered canary without a dispute")?;
        let info = self.committee.disputeInfo(dispute).call().await.context("reading the canary's dispute")?;
        if info.phase != phase::DRAWN && info.phase != phase::APPEALABLE {
            if info.phase == phase::RULED {
                return self
                    .journal
                    .set_canary(c.id, CanaryStep::Void, None, None, "ruled before the votes were bound")
                    .await;
            }
            return Ok(());
        }
        let committee = ReexecutionCommittee::new(*self.committee.address(), role.chain.provider().clone());
        let call = committee.revealCanary(dispute, U256::from(c.answer), c.salt);
        match role.chain.send("revealCanary", call.into_transaction_request()).await {
            Ok(_) => {
                self.metrics.job("canary_revealed");
                tracing::info!(canary = c.id, dispute = %dispute, answer = c.answer, "canary revealed");
                self.journal.set_canary(c.id, CanaryStep::Revealed, None, None, "revealed").await
            }
            // The votes are not bound yet.
            Err(e) if revert_name(&e) == Some("OutsidePeriod") => Ok(()),
            Err(e) if matches!(revert_name(&e), Some("CanaryRefused" | "WrongPhase")) => {
                let revealed = self.committee.canaryAnswer(dispute).call().await.context("reading the answer")?;
                if revealed == c.answer {
                    // Revealed before a crash lost the answer.
                    return self.journal.set_canary(c.id, CanaryStep::Revealed, None, None, "revealed").await;
                }
                let why = format!(
                    "the committee refused the reveal ({}): a redraw or an appeal",
                    revert_name(&e).unwrap_or("")
                );
                tracing::warn!(canary = c.id, dispute = %dispute, %why, "canary void");
                self.journal.set_canary(c.id, CanaryStep::Void, None, None, &why).await
            }
            Err(e) => Err(e).context("revealing the canary"),
        }
    }

    /// Once ruled: the challenger's ticket collected and its desk balance withdrawn to it.
    async fn settle_canary(&self, c: &Canary, challenger: PrivateKeySigner) -> anyhow::Result<()> {
        let job = c.job.context("a revealed canary without a job")?;
        let pool = self.desk.poolOf(job).call().await.context("reading the pool")?;
        if !pool.ruled {
            return Ok(());
        }
        let me = challenger.address();
        let as_challenger = super::runner::chain_as(&self.chain, challenger).await?;
        let desk = DisputeDesk::new(*self.desk.address(), as_challenger.provider().clone());
        if pool.payout > U256::ZERO && self.desk.ticketOf(job, me).call().await? == ticket::HELD {
            as_challenger
                .send("collect", desk.collect(job, me).into_transaction_request())
                .await
                .context("collecting")?;
        }
        if self.desk.balanceOf(me, Address::ZERO).call().await? > U256::ZERO {
            as_challenger
                .send("withdraw", desk.withdraw(Address::ZERO).into_transaction_request())
                .await
                .context("withdrawing")?;
        }
        let judged = self.committee.canaryAnswer(pool.disputeId).call().await.context("reading the answer")?;
        let note = format!("ruled {}; seats judged against the answer {judged}", pool.ruling);
        tracing::info!(canary = c.id, job = %job, ruling = pool.ruling, answer = c.answer, "canary ruled");
        self.metrics.job("canary_done");
        self.journal.set_canary(c.id, CanaryStep::Done, None, None, &note).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_bad_output_keeps_shape_and_norm_but_fails_the_cosine() {
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
        }
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
