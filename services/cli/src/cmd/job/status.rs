//! `cairn job status|watch <id>`: the job's live state from the chain (the authority), its history from the
//! indexer when one answers, and the challenge window's countdown.

use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use anyhow::Context as _;
use cairn_bindings::enums::{self, audit_state, close_reason, job_state, phase};
use clap::Args;
use serde::Serialize;

use super::{Indexer, Job, TermsView, human_secs};
use crate::{Context, cmd::Market, output::AmountView};

/// Show a job's state: who claimed it, its result, the challenge window, how it closed.
///
/// The state is read from the chain; the history (every transition with its block and transaction) comes from
/// cairn-indexer when it answers (--indexer-url).
///
/// Examples:
///   cairn job status 7
///   cairn job status 7 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StatusArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
}

/// Follow a job until it closes, printing each change of state (Ctrl-C stops watching, not the job).
///
/// Examples:
///   cairn job watch 7
///   cairn job watch 7 --until submitted --timeout 10m
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
    /// Stop at this state or any later one: claimed, submitted, closed (default: closed).
    #[arg(long, default_value = "closed", value_parser = ["claimed", "submitted", "closed"])]
    pub until: String,
    /// Give up after this long, e.g. 90s, 10m (exit code 1; the job goes on).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Seconds between polls.
    #[arg(long, default_value_t = 1)]
    pub interval: u64,
}

/// A job's state as printed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// The job.
    pub job_id: String,
    /// Its state's name.
    pub state: String,
    /// Why it closed (`None` while open).
    pub close_reason: String,
    /// What it fixed.
    pub terms: TermsView,
    /// The operator holding or having held the claim.
    pub operator: Option<Address>,
    /// The operator's bond (ETH).
    pub bond: AmountView,
    /// Last second (unix) for the result, while claimed.
    pub submit_by: Option<u64>,
    /// sha256 of the output, once submitted.
    pub output_digest: Option<B256>,
    /// First second (unix) the job can be finalized; challenges strictly before.
    pub challenge_ends: Option<u64>,
    /// Seconds of the challenge window left at the latest block.
    pub challenge_seconds_left: Option<u64>,
    /// The first challenger and the dispute, when challenged.
    pub challenger: Option<Address>,
    /// The arbitrator's dispute id.
    pub dispute_id: Option<String>,
    /// The dispute's round and phase while the job is in dispute (`ReexecutionCommittee.disputeInfo`).
    pub dispute: Option<DisputeView>,
    /// The random audit, once the result is submitted (`DisputeDesk.auditOf`).
    pub audit: Option<AuditView>,
    /// The latest block's time (unix seconds) the countdowns count from.
    pub chain_time: u64,
    /// Every transition from the indexer (empty when it cannot be reached).
    pub history: Vec<serde_json::Value>,
    /// Why the history is missing, when it is.
    pub history_note: Option<String>,
    /// The state as numbered on chain (`cairn_bindings::enums::job_state`).
    #[serde(skip)]
    pub state_code: u8,
    /// Whether the job is closed.
    #[serde(skip)]
    pub closed: bool,
}

/// Where a disputed job's dispute stands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeView {
    /// Created (queued for its draw), Waiting (too few seats), Drawn (jurors voting), Appealable, Ruled.
    pub phase: String,
    /// 0, then one per appeal.
    pub round: u8,
    /// The round's ruling while appealable (0 tie, 1 acceptable, 2 not acceptable, 3 input unavailable).
    pub ruling: Option<u8>,
    /// While appealable: appeals strictly before this time (unix seconds).
    pub appeal_deadline: Option<u64>,
    /// While appealable: the next round's fee (`cairn job appeal` pays it).
    pub appeal_cost: Option<AmountView>,
}

/// A submitted job's random audit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    /// Pending (to evaluate), Cleared (not audited) or Audited (the committee re-executes it).
    pub state: String,
    /// Probability of an audit, in percent.
    pub rate_percent: f64,
    /// The premium taken from the operator fee at settlement, in the job's token.
    pub premium: AmountView,
    /// The block whose hash draws it.
    pub seed_block: u64,
}

impl StatusView {
    /// Reads job `id` (and its history from the indexer, when `with_history`).
    ///
    /// Errors: no such job; the chain.
    pub async fn read(ctx: &Context, market: &Market, id: U256, with_history: bool) -> anyhow::Result<Self> {
        let job = Job::read(market, id).await?;
        let token = market.token(job.terms.token).await?;
        let now = market.now().await?;
        let p = &job.progress;
        let submitted = p.state >= job_state::SUBMITTED && p.outputDigest != B256::ZERO;
        let audit = if submitted {
            let desk = market.desk()?;
            let a = desk.auditOf(id).call().await.context("reading the job's audit")?;
            (a.state != audit_state::NONE).then(|| AuditView {
                state: enums::name(audit_state::NAMES, a.state),
                rate_percent: a.rate as f64 / 1e16,
                premium: token.amount(U256::from(a.premium)),
                seed_block: a.seedBlock,
            })
        } else {
            None
        };
        let dispute = if p.state == job_state::DISPUTED && !p.disputeId.is_zero() {
            let committee = market.committee()?;
            let info = committee.disputeInfo(p.disputeId).call().await.context("reading the dispute")?;
            let appealable = info.phase == phase::APPEALABLE;
            let cost = if appealable {
                Some(committee.appealCost(p.disputeId).call().await.context("reading the appeal's cost")?)
            } else {
                None
            };
            Some(DisputeView {
                phase: enums::name(phase::NAMES, info.phase),
                round: info.round,
                ruling: appealable.then_some(info.ruling),
                appeal_deadline: appealable.then_some(info.appealDeadline),
                appeal_cost: cost.map(|c| crate::output::TokenInfo::eth().amount(c)),
            })
        } else {
            None
        };
        let (history, history_note) = if with_history {
            match Indexer::new(ctx)?.get(&format!("/jobs/{id}")).await {
                Ok(v) => (v["transitions"].as_array().cloned().unwrap_or_default(), None),
                Err(e) => (Vec::new(), Some(format!("{e:#}"))),
            }
        } else {
            (Vec::new(), None)
        };
        Ok(Self {
            job_id: id.to_string(),
            state: job.state(),
            close_reason: enums::name(close_reason::NAMES, p.closeReason),
            terms: TermsView::of(&job.terms, &token),
            operator: (p.operator != Address::ZERO).then_some(p.operator),
            bond: crate::output::TokenInfo::eth().amount(p.bond),
            submit_by: (p.state == job_state::CLAIMED).then_some(p.submitBy),
            output_digest: submitted.then_some(p.outputDigest),
            challenge_ends: submitted.then_some(p.challengeEnds),
            challenge_seconds_left: (p.state == job_state::SUBMITTED).then(|| p.challengeEnds.saturating_sub(now)),
            challenger: (p.challenger != Address::ZERO).then_some(p.challenger),
            dispute_id: (p.state >= job_state::DISPUTED && p.challenger != Address::ZERO)
                .then(|| p.disputeId.to_string()),
            dispute,
            audit,
            chain_time: now,
            history,
            history_note,
            state_code: p.state,
            closed: job.closed(),
        })
    }

    /// One line: `Job 7: Submitted by 0x…; challenge window 4 min 10 s left`.
    pub fn line(&self) -> String {
        let mut line = format!("Job {}: {}", self.job_id, self.state);
        if let Some(op) = self.operator {
            line += &format!(" (operator {op})");
        }
        match self.state.as_str() {
            "Requested" if self.chain_time > self.terms.deadline => {
                line += &format!("; nobody claimed it in time: `cairn job cancel {}` refunds it", self.job_id);
            }
            "Requested" => {
                let left = self.terms.deadline - self.chain_time;
                line += &format!("; claimable for {}", human_secs(left));
            }
            "Claimed" => {
                if let Some(by) = self.submit_by {
                    line += &format!("; result due in {}", human_secs(by.saturating_sub(self.chain_time)));
                }
            }
            "Submitted" => match self.challenge_seconds_left {
                Some(0) => line += "; challenge window over: `cairn job finalize` settles it",
                Some(left) => line += &format!("; challenge window {} left", human_secs(left)),
                None => {}
            },
            "Disputed" => {
                if let Some(d) = &self.dispute_id {
                    line += &format!("; dispute {d} before the committee");
                }
                match &self.dispute {
                    Some(v) if v.phase == "Appealable" => {
                        let left = v.appeal_deadline.unwrap_or(0).saturating_sub(self.chain_time);
                        line += &format!(
                            ", round {} ruled {}; appealable for {} (`cairn job appeal {}`, {})",
                            v.round,
                            v.ruling.unwrap_or(0),
                            human_secs(left),
                            self.job_id,
                            v.appeal_cost.as_ref().map_or("", |c| c.human.as_str())
                        );
                    }
                    Some(v) => line += &format!(", round {}: {}", v.round, v.phase),
                    None => {}
                }
            }
            _ => line += &format!(" ({})", self.close_reason),
        }
        line
    }

    fn human(&self) -> String {
        let mut text = format!(
            "{}\n  model      {} version {}\n  buyer      {}\n  payment    {}\n  input      sha256 {}\n  regions    {}\n",
            self.line(),
            self.terms.model_id,
            self.terms.model_version,
            self.terms.buyer,
            self.terms.payment.human,
            self.terms.input_digest,
            self.terms.regions.join(",")
        );
        if let Some(d) = self.output_digest {
            text += &format!("  output     sha256 {d} (`cairn job result {}` fetches it)\n", self.job_id);
        }
        if let Some(c) = self.challenger {
            text += &format!("  challenger {c}\n");
        }
        if let Some(a) = &self.audit {
            text += &format!(
                "  audit      {} (probability {:.2}%, premium {} from the operator fee)\n",
                a.state, a.rate_percent, a.premium.human
            );
        }
        if !self.history.is_empty() {
            text += "  history (cairn-indexer):\n";
            for t in &self.history {
                text += &format!(
                    "    block {:>6}  {:<18} → {:<10} tx {}\n",
                    t["blockNumber"],
                    t["event"].as_str().unwrap_or("?"),
                    t["state"].as_str().unwrap_or("?"),
                    t["txHash"].as_str().unwrap_or("?")
                );
            }
        } else if let Some(note) = &self.history_note {
            text += &format!("  history    not shown: {note}\n");
        }
        text
    }
}

impl StatusArgs {
    /// Runs it.
    ///
    /// Errors: no such job; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let view = StatusView::read(ctx, &market, self.job, true).await?;
        ctx.out.print(&view, StatusView::human)
    }
}

impl WatchArgs {
    /// Runs it.
    ///
    /// Errors: no such job; the chain; the timeout passed first.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let timeout = match &self.timeout {
            Some(t) => {
                Some(cairn_protocol::units::parse_secs(t).map_err(|e| crate::UsageError(format!("--timeout: {e}")))?)
            }
            None => None,
        };
        let target = match self.until.as_str() {
            "claimed" => job_state::CLAIMED,
            "submitted" => job_state::SUBMITTED,
            _ => u8::MAX,
        };
        let started = std::time::Instant::now();
        let mut last = String::new();
        loop {
            let view = StatusView::read(ctx, &market, self.job, false).await?;
            let line = view.line();
            // The countdown changes every poll; print a line when the state does.
            let key = format!("{}{}", view.state, view.close_reason);
            if key != last {
                ctx.out.note(&line);
                last = key;
            }
            let reached = view.closed || (target != u8::MAX && view.state_code >= target);
            if reached && target != u8::MAX && view.closed && view.output_digest.is_none() {
                anyhow::bail!("job {} closed ({}) without reaching {}", self.job, view.close_reason, self.until);
            }
            if reached {
                let view = StatusView::read(ctx, &market, self.job, true).await?;
                return ctx.out.print(&view, StatusView::human);
            }
            if let Some(t) = timeout
                && started.elapsed() >= Duration::from_secs(t)
            {
                anyhow::bail!(
                    "job {} is still {} after {}; it goes on (`cairn job watch {}` again)",
                    self.job,
                    view.state,
                    human_secs(t),
                    self.job
                );
            }
            let mut pause = Duration::from_secs(self.interval.clamp(1, 3600));
            if let Some(t) = timeout {
                pause =
                    pause.min(Duration::from_secs(t).saturating_sub(started.elapsed()).max(Duration::from_millis(100)));
            }
            tokio::time::sleep(pause).await;
        }
    }
}
