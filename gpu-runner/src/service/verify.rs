//! Verifier mode (`[verify] enabled`): when the committee draws the operator onto a round of a dispute (its
//! juror stake sits in the JurorPool), the runner judges the disputed job like the watcher does (`Inner::judge`:
//! its own verified weights, the job's input, the claimed output, the acceptance rule), commits its vote (bound
//! to the round), reveals it once the commit period allows and resolves the round after the reveal. Each round
//! (the first, then one per appeal) is its own duty; a redraw of a round's silent seats that seats the operator
//! again after it missed the round is a new vote. With `[verify] keeper` it also draws the jurors of the
//! committee's queue head as soon as its seed block is mined (paid `keeperReward`), reseeds it when the seed
//! lapsed, retries disputes deferred for want of seats and expires those still waiting at their `expiresAt`, and
//! resolves rounds whose reveal or appeal period is over, so disputes never wait on somebody else's keeper. With
//! `[verify] appeal_max_fee` above 0 it appeals a round's ruling against its own side, up to that fee: a ruling
//! of 2 or 3 on a job this operator ran (it computed the output itself and kept its input pinned), a ruling of 1
//! on a job whose challenge pool holds its watcher's ticket.
//!
//! **Crash safety.** A `JurorsDrawn` naming the operator is journaled (a `duties` row) before the scan's
//! cursor moves past it; the vote and its salt are journaled before the commitment is sent, so a restart
//! reveals exactly what was committed. A repeated commit or reveal that the committee refuses with
//! `AlreadyDone` means the earlier one landed. A commit refused after the commit deadline may have landed
//! before it (the committee checks the deadline first), so the reveal decides: `BadReveal` means no commitment
//! of ours is there (`missed`). Reveals and resolutions are served before any new judgement. A redraw that
//! seats the operator again in a round it committed but never revealed (the committee cleared that commitment
//! with the silent seat) is told from the same draw seen again after a restart by the draw's commit deadline,
//! and votes afresh.
//!
//! **What is voted.** 1 when the claimed output passes the acceptance rule, 2 when it does not, 3 when the job's
//! input cannot be had (issue #12, input availability: the bytes at its CID are not the input the receipt binds,
//! or Kubo cannot find it until half the commit period is left; ruling 3 refunds the buyer and charges the
//! operator, who had to keep it pinned, the fee). An output that cannot be fetched, or a job this runner cannot
//! re-execute with the registered weights, counts as not acceptable (issue #15): passing failures (Kubo, the
//! RPC) are retried until half the commit period is left, then voted 2 with the failure as the note. A refusal of this runner's own (a local limit,
//! a model it cannot load) is not the operator's fault: the juror abstains (`missed`, logged as an error).

use std::time::{Duration, Instant};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{B256, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use anyhow::Context as _;
use cairn_bindings::{
    JobMarket, ReexecutionCommittee,
    enums::{phase, ticket},
};

use super::{
    journal::{Duty, DutyStep},
    watch::Judgement,
};

/// The error's name when `e` is a contract revert the client decoded (`AlreadyDone`, `OutsidePeriod`, …).
pub(crate) fn revert_name(e: &cairn_chain::Error) -> Option<&str> {
    match e {
        cairn_chain::Error::Reverted { revert, .. } => Some(revert.name.as_str()),
        _ => None,
    }
}

/// Seconds a keeper waits after a dispute's reveal deadline before resolving it itself (the jurors go first).
pub const KEEPER_GRACE_SECS: u64 = 30;

/// How often a keeper tries `retry` on a dispute that waits for seats.
const RETRY_EVERY: Duration = Duration::from_secs(30);

impl super::runner::Inner {
    /// Keeper actions on the committee's queue head: draws it once its seed block is mined (the committee pays
    /// the drawer `keeperReward`), reseeds it once its seed is no longer served. Another keeper's draw landing
    /// first is not an error.
    ///
    /// Errors: the RPC fails, or the committee refuses for another reason (the decoded error).
    pub(crate) async fn keep(&self) -> anyhow::Result<()> {
        self.resolve_lapsed().await?;
        self.retry_waiting().await?;
        let head = self.committee.queueHeadDispute().call().await.context("reading the committee's queue")?;
        if head.is_zero() {
            return Ok(());
        }
        let info = self.committee.disputeInfo(head).call().await.context("reading the queue's head")?;
        let block = self.chain.provider().get_block_number().await.context("reading the chain head")?;
        if info.phase != phase::CREATED || block <= info.seedBlock {
            return Ok(());
        }
        match self.chain.send("draw", self.committee.draw(head).into_transaction_request()).await {
            Ok(receipt) => {
                // A deferral is taken up by `scan_draws`, like anyone else's.
                let drawn = receipt.decoded_log::<ReexecutionCommittee::JurorsDrawn>().is_some();
                tracing::info!(dispute = %head, drawn, "keeper: drew the dispute's jurors (or deferred it for want of seats)");
                self.metrics.job("keeper_draw");
            }
            Err(e) if revert_name(&e) == Some("SeedLapsed") => {
                let call = self.committee.reseed(head);
                match self.chain.send("reseed", call.into_transaction_request()).await {
                    Ok(_) => tracing::info!(dispute = %head, "keeper: the seed lapsed; reseeded"),
                    Err(e) if matches!(revert_name(&e), Some("ReseedRefused" | "WrongPhase" | "NotQueueHead")) => {}
                    Err(e) => return Err(e).with_context(|| format!("reseeding dispute {head}")),
                }
            }
            // Another keeper drew it first, or the queue moved on.
            Err(e) if matches!(revert_name(&e), Some("NotQueueHead" | "WrongPhase")) => {}
            Err(e) => return Err(e).with_context(|| format!("drawing dispute {head}")),
        }
        Ok(())
    }

    /// Queues again the disputes it saw deferred (`DrawDeferred`, whoever drew: too few seats, or an audit held back by
    /// the reserve kept for challenges) once the pool has the seats: `retry` every [`RETRY_EVERY`]; a refusal for want
    /// of seats is the expected answer until then, and a dispute that moved on (retried by someone else, expired) is
    /// dropped. A dispute still refused for want of seats at its `expiresAt` (its opening plus the waits the bonds of
    /// every dispute waiting with it buy, `ReexecutionCommittee.waitingDays`: 30 to 365 days of chain time) is
    /// `expire`d: without that call it would hold the escrow, both bonds and the fee for good. The disputes are
    /// journaled, so a restarted keeper takes them up again (due at once).
    ///
    /// Errors: the journal cannot be read or written; a failed RPC is logged and tried again later.
    async fn retry_waiting(&self) -> anyhow::Result<()> {
        let now = Instant::now();
        // The journal is read once after a start; later deferrals are added to both as they happen.
        let loaded = self.jobs.lock().expect("not poisoned").waiting_loaded;
        let journaled = if loaded { Vec::new() } else { self.journal.waiting_disputes().await? };
        let due: Vec<U256> = {
            let mut jobs = self.jobs.lock().expect("not poisoned");
            for dispute in journaled {
                jobs.waiting.entry(dispute).or_insert(now);
            }
            jobs.waiting_loaded = true;
            jobs.waiting.iter().filter(|(_, t)| **t <= now).map(|(d, _)| *d).collect()
        };
        for dispute in due {
            let keep_waiting = match self
                .chain
                .send("retry", self.committee.retry(dispute).into_transaction_request())
                .await
            {
                Ok(_) => {
                    tracing::info!(dispute = %dispute, "keeper: the pool has the seats again; the dispute is queued for its draw");
                    false
                }
                Err(e) if revert_name(&e) == Some("NotEnoughFreeSeats") => !self.expire_if_due(dispute).await,
                Err(e) if revert_name(&e) == Some("WrongPhase") => false,
                Err(e) => {
                    tracing::warn!(dispute = %dispute, error = format!("{e:#}"), "keeper: retry failed; trying again later");
                    true
                }
            };
            if keep_waiting {
                self.jobs.lock().expect("not poisoned").waiting.insert(dispute, now + RETRY_EVERY);
            } else {
                self.journal.remove_waiting(dispute).await?;
                self.jobs.lock().expect("not poisoned").waiting.remove(&dispute);
            }
        }
        Ok(())
    }

    /// Expires `dispute`, which waits for seats, once the chain's clock has reached its `expiresAt`; returns
    /// whether it is over (expired now, or by someone else first). A failed RPC is logged and answers `false`
    /// (tried again at the next retry).
    async fn expire_if_due(&self, dispute: U256) -> bool {
        let due = async {
            let ends = self.committee.expiresAt(dispute).call().await.context("reading the dispute's expiry")?;
            let p = self.chain.provider();
            let head = p.get_block_by_number(BlockNumberOrTag::Latest).await.context("reading the chain head")?;
            let now = head.context("the node has no latest block")?.header.timestamp;
            anyhow::Ok(U256::from(now) >= ends)
        };
        match due.await {
            Ok(false) => return false,
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(dispute = %dispute, error = format!("{e:#}"), "keeper: cannot tell whether the wait ended");
                return false;
            }
        }
        match self.chain.send("expire", self.committee.expire(dispute).into_transaction_request()).await {
            Ok(_) => {
                tracing::info!(dispute = %dispute, "keeper: the dispute waited for seats until its expiry; expired it");
                self.metrics.job("keeper_expire");
                true
            }
            // Someone else expired it first, or it was drawn after all.
            Err(e) if revert_name(&e) == Some("WrongPhase") => true,
            Err(e) => {
                tracing::warn!(dispute = %dispute, error = format!("{e:#}"), "keeper: expire failed; trying again later");
                false
            }
        }
    }

    /// Resolves every round whose reveal period (a drawn round) or appeal period (an appealable one) is over,
    /// whoever its jurors are: `resolve` is open to anyone then, and without it a jury that never reveals (absent
    /// or silent on purpose) would hold the job, the bonds and the locked seats forever, and an unappealed ruling
    /// would never become final. The non-reveal penalties fall on the silent jurors.
    ///
    /// Errors: the RPC fails, or the committee refuses for another reason than the dispute having moved on.
    async fn resolve_lapsed(&self) -> anyhow::Result<()> {
        let due: Vec<(U256, u64)> =
            self.jobs.lock().expect("not poisoned").drawn.iter().map(|(d, r)| (*d, *r)).collect();
        if due.is_empty() {
            return Ok(());
        }
        let now = self.chain_time().await?;
        // The jurors resolve their own rounds as soon as the period allows; a keeper waits a grace period more,
        // so keepers do not all race the jurors (and each other) with transactions that revert.
        for (dispute, deadline) in due {
            if now < deadline.saturating_add(KEEPER_GRACE_SECS) {
                continue;
            }
            let info = match self.committee.disputeInfo(dispute).call().await {
                Ok(info) => info,
                Err(e) => {
                    tracing::warn!(dispute = %dispute, error = %e, "keeper: cannot read the dispute; trying again later");
                    continue;
                }
            };
            // A round that ruled since it was noted: resolve once its appeal period is over too.
            if info.phase == phase::APPEALABLE && now < info.appealDeadline.saturating_add(KEEPER_GRACE_SECS) {
                self.jobs.lock().expect("not poisoned").drawn.insert(dispute, info.appealDeadline);
                continue;
            }
            if info.phase == phase::DRAWN || info.phase == phase::APPEALABLE {
                match self.chain.send("resolve", self.committee.resolve(dispute).into_transaction_request()).await {
                    Ok(_) => {
                        tracing::info!(dispute = %dispute, "keeper: resolved the dispute's round after its period")
                    }
                    Err(e) if matches!(revert_name(&e), Some("WrongPhase")) => {}
                    // One dispute that cannot be resolved must not hold up the draws: logged, dropped (a restart's
                    // scan finds it again).
                    Err(e) => tracing::warn!(dispute = %dispute, error = format!("{e:#}"), "keeper: resolve refused"),
                }
            }
            // Whatever comes next (a redraw, an appeal round, the ruling) is noted again from its own log; a note the
            // scan made meanwhile (this `resolve`'s own `RoundRuled`, with its appeal deadline) stays.
            let mut jobs = self.jobs.lock().expect("not poisoned");
            if jobs.drawn.get(&dispute) == Some(&deadline) {
                jobs.drawn.remove(&dispute);
            }
        }
        Ok(())
    }

    /// Appeals `dispute`'s round `round`, ruled `ruling`, when the ruling goes against this runner's side and the
    /// fee is within `[verify] appeal_max_fee`: a ruling of 2 or 3 on a job this operator ran, or of 1 on a job
    /// whose challenge pool holds its watcher's ticket. Another appeal landing first is not an error.
    ///
    /// Errors: the RPC fails, or the committee refuses for another reason than the round having moved on.
    async fn maybe_appeal(&self, dispute: U256, round: u8, ruling: u8) -> anyhow::Result<()> {
        let max = self.cfg.config.verify.appeal_max_fee.0;
        if max.is_zero() || ruling == 0 {
            return Ok(());
        }
        let job = self.desk.jobOfDispute(dispute).call().await.context("reading the dispute's job")?;
        // Never a canary of ours: its ruling is the treasury's own affair, and an appeal would void it.
        let ours = self.journal.get(job).await?.is_some() && !self.is_canary(job).await?;
        let me = self.key.address();
        let holds_ticket = self.desk.ticketOf(job, me).call().await.context("reading our ticket")? == ticket::HELD;
        // On its own job, 3 (the input could not be fetched) costs the operator the fee: it kept the input pinned.
        let against_us = (ours && (ruling == 2 || ruling == 3)) || (holds_ticket && ruling == 1);
        if !against_us {
            return Ok(());
        }
        let cost = self.committee.appealCost(dispute).call().await.context("reading the appeal's cost")?;
        if cost.is_zero() {
            return Ok(());
        }
        if cost > max {
            tracing::warn!(dispute = %dispute, round, ruling, cost = %cost, max = %max,
                "the ruling goes against this runner, but the appeal costs more than [verify] appeal_max_fee: not appealing");
            return Ok(());
        }
        let call = self.committee.appeal(dispute).value(cost);
        match self.chain.send("appeal", call.into_transaction_request()).await {
            Ok(_) => {
                tracing::info!(dispute = %dispute, round, ruling, fee = %cost, %job,
                    "appealed a ruling against this runner to a larger jury");
                self.metrics.job("appealed");
            }
            Err(e) if matches!(revert_name(&e), Some("WrongPhase" | "OutsidePeriod")) => {}
            Err(e) => return Err(e).with_context(|| format!("appealing dispute {dispute}")),
        }
        Ok(())
    }

    /// Journals the rounds of `JurorsDrawn` logs in `from..=to` that seat the operator, notes every drawn or
    /// ruled round and every deferred dispute (`DrawDeferred`, whoever drew it) for the keeper, and appeals rulings
    /// against this runner's side (`maybe_appeal`).
    ///
    /// Errors: the RPC or the journal fails (the scan's cursor then stays where it was).
    pub(crate) async fn scan_draws(&self, from: u64, to: u64) -> anyhow::Result<()> {
        let filter = Filter::new()
            .address(*self.committee.address())
            .event_signature(vec![
                ReexecutionCommittee::JurorsDrawn::SIGNATURE_HASH,
                ReexecutionCommittee::RoundRuled::SIGNATURE_HASH,
                ReexecutionCommittee::DrawDeferred::SIGNATURE_HASH,
            ])
            .from_block(from)
            .to_block(to);
        let logs =
            self.chain.provider().get_logs(&filter).await.with_context(|| format!("reading draws {from}..={to}"))?;
        for log in logs {
            if let Ok(event) = ReexecutionCommittee::DrawDeferred::decode_log(&log.inner) {
                if self.cfg.config.verify.keeper {
                    // Journaled first: a restarted keeper takes it up again. A dispute that moved on since is
                    // dropped at its first retry (`WrongPhase`).
                    let dispute = event.data.disputeId;
                    self.journal.add_waiting(dispute).await?;
                    let next = Instant::now() + RETRY_EVERY;
                    self.jobs.lock().expect("not poisoned").waiting.entry(dispute).or_insert(next);
                    tracing::info!(dispute = %dispute, free_seats = %event.data.freeSeats, "keeper: a dispute waits for seats; retrying it every 30 s");
                }
                continue;
            }
            if let Ok(event) = ReexecutionCommittee::RoundRuled::decode_log(&log.inner) {
                let e = event.data;
                if self.cfg.config.verify.keeper {
                    self.jobs.lock().expect("not poisoned").drawn.insert(e.disputeId, e.appealDeadline);
                }
                let ruling = u8::try_from(e.ruling).unwrap_or(0);
                // A failed appeal attempt is logged, not fatal: the scan must move on.
                if let Err(err) = self.maybe_appeal(e.disputeId, e.round, ruling).await {
                    tracing::warn!(dispute = %e.disputeId, error = format!("{err:#}"), "cannot appeal the ruling");
                }
                continue;
            }
            let Ok(event) = ReexecutionCommittee::JurorsDrawn::decode_log(&log.inner) else { continue };
            let e = event.data;
            if self.cfg.config.verify.keeper {
                self.jobs.lock().expect("not poisoned").drawn.insert(e.disputeId, e.revealDeadline);
            }
            let seats = e.jurors.iter().filter(|j| **j == self.operator).count();
            if seats > 0 && self.cfg.config.verify.enabled {
                tracing::info!(dispute = %e.disputeId, round = e.round, seats, commit_deadline = e.commitDeadline, "drawn as a juror");
                self.journal.add_duty(e.disputeId, e.round, e.commitDeadline).await?;
            }
        }
        Ok(())
    }

    /// Moves every open duty as far as the chain allows now (one dispute after another).
    ///
    /// Errors: the journal cannot be read; a dispute's own failures are logged and retried at the next poll.
    pub(crate) async fn serve_duties(&self) -> anyhow::Result<()> {
        // Commitments, reveals and resolutions first (a few chain calls each), then the judgements (a model load
        // or a slow Kubo may take long), so one dispute's re-execution never makes another miss its deadline.
        let (waiting, undecided): (Vec<Duty>, Vec<Duty>) =
            self.journal.open_duties().await?.into_iter().partition(|d| d.step != DutyStep::Drawn);
        for duty in waiting.into_iter().chain(undecided) {
            if let Err(e) = self.serve(duty.clone()).await {
                tracing::warn!(dispute = %duty.dispute, error = format!("{e:#}"), "cannot act on the dispute now; trying again later");
            }
        }
        Ok(())
    }

    /// One duty (a round of a dispute): vote, commit, reveal, resolve, each step journaled, as far as the periods
    /// allow now.
    async fn serve(&self, mut duty: Duty) -> anyhow::Result<()> {
        let (dispute, round) = (duty.dispute, duty.round);
        let juror = self.operator;
        loop {
            let info = self.committee.disputeInfo(dispute).call().await.context("reading the dispute")?;
            if info.phase == phase::RULED {
                self.journal.set_duty(dispute, round, DutyStep::Done, "ruled").await?;
                return Ok(());
            }
            if info.round > round {
                let note = format!("appealed: round {} runs now", info.round);
                if duty.step == DutyStep::Revealed {
                    self.journal.set_duty(dispute, round, DutyStep::Done, &note).await?;
                } else {
                    self.journal.set_duty(dispute, round, DutyStep::Missed, &note).await?;
                }
                return Ok(());
            }
            if info.phase != phase::DRAWN {
                // The round ruled (appealable) or redraws its silent seats: a revealed vote stands, so this
                // duty is over.
                if duty.step == DutyStep::Revealed {
                    self.journal.set_duty(dispute, round, DutyStep::Done, "round ruled or redrawn").await?;
                }
                return Ok(());
            }
            let now = self.chain_time().await?;
            let next = match (duty.step, duty.vote, duty.salt) {
                (DutyStep::Drawn, ..) => {
                    if now >= info.commitDeadline {
                        tracing::error!(dispute = %dispute, "the commit period ended before a vote was decided");
                        self.journal.set_duty(dispute, round, DutyStep::Missed, "commit period over").await?;
                        return Ok(());
                    }
                    let Some((vote, note)) = self.decide(dispute, now, info.commitDeadline).await? else {
                        return Ok(());
                    };
                    if vote == 0 {
                        self.journal.set_duty(dispute, round, DutyStep::Missed, &format!("abstained: {note}")).await?;
                        return Ok(());
                    }
                    let mut salt = B256::ZERO;
                    getrandom::fill(salt.as_mut_slice()).context("drawing the commitment's salt")?;
                    self.journal.voted(dispute, round, vote, salt, &note).await?;
                    tracing::info!(dispute = %dispute, vote, %note, "vote decided");
                    self.crash_point("voted", dispute).await;
                    self.metrics.job("voted");
                    duty.vote = Some(vote);
                    duty.salt = Some(salt);
                    DutyStep::Voted
                }
                (DutyStep::Voted, Some(vote), Some(salt)) => {
                    let commitment = cairn_protocol::typed::commitment(dispute, round, juror, U256::from(vote), salt);
                    let call = self.committee.commit(dispute, juror, commitment);
                    match self.chain.send("commit", call.into_transaction_request()).await {
                        Ok(_) => {}
                        // The commitment from before a restart landed.
                        Err(e) if revert_name(&e) == Some("AlreadyDone") => {}
                        // Past the commit deadline the commitment may still have landed before it (the committee
                        // checks the deadline before `AlreadyDone`): the reveal decides, failing with `BadReveal`
                        // only if no commitment of ours is there.
                        Err(e) if revert_name(&e) == Some("OutsidePeriod") && now >= info.commitDeadline => {}
                        Err(e) => return Err(e).context("committing the vote"),
                    }
                    self.journal.set_duty(dispute, round, DutyStep::Committed, "").await?;
                    DutyStep::Committed
                }
                (DutyStep::Committed, Some(_), Some(_)) if self.cfg.config.adversary.silent_juror => {
                    tracing::debug!(dispute = %dispute, "[adversary] silent_juror: the vote is never revealed");
                    return Ok(());
                }
                (DutyStep::Committed, Some(vote), Some(salt)) => {
                    let call = self.committee.reveal(dispute, juror, U256::from(vote), salt);
                    match self.chain.send("reveal", call.into_transaction_request()).await {
                        Ok(_) => tracing::info!(dispute = %dispute, vote, "vote revealed"),
                        Err(e) if revert_name(&e) == Some("AlreadyDone") => {}
                        Err(e) if revert_name(&e) == Some("BadReveal") => {
                            tracing::error!(dispute = %dispute, "no commitment of ours is on chain: the commit period ended first");
                            self.journal.set_duty(dispute, round, DutyStep::Missed, "commit period over").await?;
                            return Ok(());
                        }
                        Err(e) if revert_name(&e) == Some("OutsidePeriod") => {
                            if now >= info.revealDeadline {
                                tracing::error!(dispute = %dispute, "the reveal period ended before the vote was revealed");
                                self.journal.set_duty(dispute, round, DutyStep::Missed, "reveal period over").await?;
                            }
                            // Otherwise the reveal opens at the commit deadline (or once every seat committed).
                            return Ok(());
                        }
                        Err(e) => return Err(e).context("revealing the vote"),
                    }
                    self.journal.set_duty(dispute, round, DutyStep::Revealed, "").await?;
                    self.metrics.job("revealed");
                    DutyStep::Revealed
                }
                (DutyStep::Revealed, ..) => {
                    match self.chain.send("resolve", self.committee.resolve(dispute).into_transaction_request()).await {
                        Ok(_) => tracing::info!(dispute = %dispute, round, "resolved the round"),
                        // Before the reveal deadline, unless every seat revealed.
                        Err(e) if revert_name(&e) == Some("OutsidePeriod") => return Ok(()),
                        Err(e) if revert_name(&e) == Some("WrongPhase") => {}
                        Err(e) => return Err(e).context("resolving the dispute"),
                    }
                    self.journal.set_duty(dispute, round, DutyStep::Done, "resolved").await?;
                    return Ok(());
                }
                (step, ..) => anyhow::bail!("journal: dispute {dispute} at {} has no vote or salt", step.as_str()),
            };
            duty.step = next;
        }
    }

    /// The vote on `dispute` and why: 1 acceptable, 2 not, 3 the input cannot be fetched, 0 abstain (this runner
    /// cannot judge the job).
    /// `None`: not decided yet (a passing failure with more than half the commit period left).
    async fn decide(&self, dispute: U256, now: u64, commit_deadline: u64) -> anyhow::Result<Option<(u8, String)>> {
        let judged = async {
            let job = self.desk.jobOfDispute(dispute).call().await.context("reading the dispute's job")?;
            let (cid, digest) = self.submitted_output(job).await?;
            self.judge(job, &cid, digest).await
        };
        Ok(Some(match judged.await {
            Ok(Judgement::Acceptable(report)) => (1, report.to_string()),
            Ok(Judgement::NotAcceptable { why, .. }) => (2, why),
            Ok(Judgement::InputUnavailable(why)) => (3, why),
            Ok(Judgement::CannotJudge(why)) => {
                // A refusal of this runner's own (a local limit, a model it cannot load) says nothing about the
                // operator's output: a juror that cannot judge does not guess. It abstains (the committee's
                // non-reveal penalty is the price of a misconfigured verifier, paid by it alone).
                tracing::error!(dispute = %dispute, %why, "cannot judge the disputed job; abstaining (fix the runner's limits or model access)");
                return Ok(Some((0, why)));
            }
            Err(e) => {
                let period = self.committee.params().call().await.context("reading the commit period")?.commitPeriod;
                if now.saturating_add(period / 2) < commit_deadline {
                    return Err(e);
                }
                if e.downcast_ref::<super::runner::InputUnfetched>().is_some() {
                    (3, format!("could not fetch the job's input in time: {e:#}"))
                } else {
                    (2, format!("could not fetch or re-execute it in time: {e:#}"))
                }
            }
        }))
    }

    /// The claimed output's CID and digest: the job's latest `ResultSubmitted` receipt.
    ///
    /// Errors: the RPC fails, or the job has no result.
    async fn submitted_output(&self, job: U256) -> anyhow::Result<(String, B256)> {
        let log = self
            .last_job_log(JobMarket::ResultSubmitted::SIGNATURE_HASH, job)
            .await
            .context("reading the job's receipt")?
            .with_context(|| format!("job {job} has no submitted result"))?;
        let event = JobMarket::ResultSubmitted::decode_log(&log.inner).context("decoding the job's receipt")?;
        Ok((event.data.receipt.outputCid.clone(), event.data.receipt.outputDigest))
    }
}
