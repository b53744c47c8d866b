//! `cairn job challenge|cancel|finalize <id>`: dispute a result before its challenge window closes, get an
//! unclaimed job's escrow back after its deadline, settle a result after its window.

use std::path::PathBuf;

use alloy::{primitives::U256, providers::Provider as _};
use anyhow::{Context as _, bail};
use cairn_bindings::{
    DisputeDesk, JobMarket,
    enums::{self, audit_state, job_state, phase},
};
use cairn_ipfs::{AddOptions, KuboClient};
use clap::Args;
use serde::Serialize;

use super::{Job, human_secs, require_buyer};
use crate::{
    Context, UsageError,
    cmd::{Market, TxView, with_done},
    output::{AmountView, TokenInfo},
};

/// Largest evidence file pinned (bytes): a statement, a log, a small table.
const MAX_EVIDENCE_BYTES: u64 = 16 << 20;

/// Challenge a job's result: the re-execution committee re-runs the job and rules.
///
/// You send the challenge bond plus the committee's arbitration cost (shown first). If the committee finds the
/// result wrong, the operator's bond is slashed, the buyer refunded, and the challengers share the slashed bond
/// (the opener also gets the arbitration cost back); if it finds the result right, challengers' bonds go to
/// the operator. A job already challenged can be joined (the bond only) until the jury reveals its votes.
/// With --evidence the file is pinned to IPFS and recorded as ERC-1497 evidence for the jurors.
///
/// Examples:
///   cairn --account buyer job challenge 7
///   cairn job challenge 7 --evidence why.txt --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ChallengeArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
    /// A file explaining why the result is wrong (pinned, public), recorded as ERC-1497 evidence.
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
}

/// Cancel your job that no operator claimed before its deadline; the payment is credited back to you
/// (withdraw it with `cairn withdraw`).
///
/// Examples:
///   cairn --account buyer job cancel 7
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CancelArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
}

/// Appeal a disputed job's ruling to a larger jury before it becomes final. When a round of the committee
/// rules, anyone may appeal within the appeal period by paying the next round's fee (juries of 3, then 7, then
/// 15 seats; each round's fee doubles per seat); the earlier votes stay, and once the final round (or an
/// unappealed one) rules, seats that voted against the final ruling pay the coherence penalty. Your fee is
/// refunded when the final ruling differs from the one you appealed; otherwise it goes to the coherent jurors.
///
/// Examples:
///   cairn --account buyer job appeal 7
///   cairn --account operator job appeal 7 --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AppealArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
}

/// Reopen a job whose claim timed out (the operator did not submit by its deadline): the job is open to
/// operators again and part of the late operator's bond goes to the treasury. Anyone may call it.
///
/// Examples:
///   cairn --account buyer job reopen 7
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReopenArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
}

/// Finalize a result whose challenge window is over: the escrow is split between the seller (royalty), the
/// treasury (fee), the audit pool (the job's audit premium) and the operator, and the operator's bond is
/// released. Anyone may call it. A job whose random audit draw was not evaluated yet is evaluated first
/// (`DisputeDesk.evaluateAudit`, one more transaction); if the draw sends it to the committee, nothing is
/// finalized and the escrow settles with the committee's ruling.
///
/// Examples:
///   cairn job finalize 7
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct FinalizeArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Done {
    job_id: String,
    action: String,
    paid: Option<AmountView>,
    dispute_id: Option<String>,
    evidence_uri: Option<String>,
    transactions: Vec<TxView>,
}

impl ChallengeArgs {
    /// Runs it.
    ///
    /// Errors: no such job; a job with no result or already settled; the window closed; you already challenged
    /// it; an unreadable evidence file; short funds; the confirmation refused; a transaction that fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let evidence = match &self.evidence {
            Some(path) => {
                let size = std::fs::metadata(path)
                    .with_context(|| format!("reading the evidence file {}", path.display()))?
                    .len();
                if size > MAX_EVIDENCE_BYTES {
                    bail!(UsageError(format!(
                        "the evidence file {} is {size} bytes, more than {MAX_EVIDENCE_BYTES}; pin large material \
                         yourself and give a short file that points to it",
                        path.display()
                    )));
                }
                Some(std::fs::read(path).with_context(|| format!("reading the evidence file {}", path.display()))?)
            }
            None => None,
        };
        let market = Market::signing(ctx).await?;
        let job = Job::read(&market, self.job).await?;
        let id = self.job;
        let p = &job.progress;
        if !matches!(p.state, job_state::SUBMITTED | job_state::DISPUTED) {
            bail!(
                "job {id} is {}: only a submitted result can be challenged{}",
                job.state(),
                if p.state < job_state::SUBMITTED { " (`cairn job watch` waits for it)" } else { "" }
            );
        }
        let desk = market.desk()?;
        let me = market.account();
        // The evidence is pinned before anything is paid: a Kubo that is down stops the command here.
        let evidence_uri = match (&evidence, &self.evidence) {
            (Some(bytes), Some(path)) => Some(pin_evidence(ctx, id, bytes, path).await?),
            _ => None,
        };
        if desk.ticketOf(id, me).call().await.context("reading your challenge")? != 0 {
            // A challenger adds evidence (e.g. after a failed attempt) without paying again.
            let Some(uri) = evidence_uri else {
                bail!("{me} already challenged job {id}; one ticket per challenger (--evidence adds evidence)");
            };
            let tx = desk.submitEvidence(id, uri.clone()).into_transaction_request();
            let summary = format!("Record evidence on job {id}: {uri}\n");
            let (sent, _) = market.confirm_send(ctx, "record the evidence", &summary, tx).await?;
            let done = Done {
                job_id: id.to_string(),
                action: "evidence".into(),
                paid: None,
                dispute_id: Some(p.disputeId.to_string()),
                evidence_uri: Some(uri),
                transactions: vec![sent],
            };
            return ctx.out.print(&done, |d| format!("Evidence on job {} recorded", d.job_id));
        }
        let now = market.now().await?;
        if now >= p.challengeEnds {
            bail!(
                "the challenge window of job {id} closed {} ago (at {}, unix seconds); a result can no longer be \
                 disputed",
                human_secs(now - p.challengeEnds),
                p.challengeEnds
            );
        }
        let cost = desk.challengeCost(id).call().await.context("reading the challenge's cost")?;
        let have = market.chain.balance(me).await?;
        if have < cost {
            bail!("{me} holds {}, less than the challenge's {}; fund it first", format_eth(have), format_eth(cost));
        }
        let joining = p.state == job_state::DISPUTED;
        let action = if joining { format!("join the challenge of job {id}") } else { format!("challenge job {id}") };
        let tx = desk.challenge(id).value(cost).into_transaction_request();
        let quote = market.quote(&action, &tx).await?;
        let summary = format!(
            "{} {id} (operator {})\n  you send   {} ({})\n  window     closes in {}\n  tx         {action}: {}\n",
            if joining { "Join the challenge pool of job" } else { "Challenge the result of job" },
            p.operator,
            format_eth(cost),
            if joining {
                "the bond; lost if the committee upholds the result"
            } else {
                "bond + arbitration cost; the bond is lost if the committee upholds the result"
            },
            human_secs(p.challengeEnds - now),
            quote.line()
        );
        ctx.out.confirm(ctx.yes, &summary)?;
        let (sent, receipt) = market.send(ctx, &action, tx).await?;
        ctx.out.note(&sent.line());
        let mut transactions = vec![sent];
        let dispute_id = receipt
            .decoded_log::<JobMarket::JobChallenged>()
            .map(|e| e.disputeId)
            .or_else(|| receipt.decoded_log::<DisputeDesk::ChallengeJoined>().map(|_| p.disputeId));
        if let Some(uri) = &evidence_uri {
            let tx = desk.submitEvidence(id, uri.clone()).into_transaction_request();
            let (sent, _) = market.send(ctx, "record the evidence", tx).await.map_err(|e| {
                with_done(
                    e.context(format!("the challenge is in; `cairn job challenge {id} --evidence …` records it again")),
                    &transactions,
                )
            })?;
            ctx.out.note(&sent.line());
            transactions.push(sent);
        }
        let done = Done {
            job_id: id.to_string(),
            action: if joining { "joined".into() } else { "challenged".into() },
            paid: Some(TokenInfo::eth().amount(cost)),
            dispute_id: dispute_id.map(|d| d.to_string()),
            evidence_uri,
            transactions,
        };
        ctx.out.print(&done, |d| {
            format!(
                "Job {} {}: dispute {}; `cairn job watch {}` follows the ruling",
                d.job_id,
                d.action,
                d.dispute_id.as_deref().unwrap_or("?"),
                d.job_id
            )
        })
    }
}

/// Pins `bytes` and an ERC-1497 evidence document pointing at them; returns the document's `ipfs://` URI.
async fn pin_evidence(ctx: &Context, job: U256, bytes: &[u8], path: &std::path::Path) -> anyhow::Result<String> {
    let kubo = KuboClient::new(&ctx.settings.ipfs_api.value)
        .with_context(|| format!("the IPFS API {}", ctx.settings.ipfs_api.value))?;
    let name = path.file_name().map_or("evidence".into(), |n| n.to_string_lossy().into_owned());
    let file = kubo.add_bytes(&name, bytes.to_vec(), AddOptions::default()).await.context("pinning the evidence")?;
    // ERC-1497's evidence JSON: name, description, fileURI (+ its hash).
    let doc = serde_json::json!({
        "name": format!("Evidence on job {job}: {name}"),
        "description": format!("Submitted with the challenge of job {job} by cairn job challenge."),
        "fileURI": format!("ipfs://{}", file.cid),
        "fileHash": file.sha256.to_hex(),
    });
    let added = kubo
        .add_bytes("evidence.json", serde_json::to_vec_pretty(&doc)?, AddOptions::default())
        .await
        .context("pinning the evidence document")?;
    Ok(format!("ipfs://{}", added.cid))
}

fn format_eth(wei: U256) -> String {
    TokenInfo::eth().format(wei)
}

impl AppealArgs {
    /// Runs it.
    ///
    /// Errors: no such job; a job not in dispute; a round not ruled yet, or the appeal period over, or the last
    /// round; short funds; the confirmation refused; the transaction fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let job = Job::read(&market, self.job).await?;
        let id = self.job;
        let dispute = job.progress.disputeId;
        if job.progress.state != job_state::DISPUTED || dispute.is_zero() {
            bail!("job {id} is {}: only a job in dispute has rulings to appeal", job.state());
        }
        let committee = market.committee()?;
        let info = committee.disputeInfo(dispute).call().await.context("reading the dispute")?;
        if info.phase != phase::APPEALABLE {
            bail!(
                "dispute {dispute} (job {id}) is {} in round {}: a ruling can be appealed only once its round has ruled \
                 and before the ruling is final (`cairn job watch {id}` follows it)",
                enums::name(phase::NAMES, info.phase),
                info.round
            );
        }
        let now = market.now().await?;
        if now >= info.appealDeadline {
            bail!(
                "the appeal period of dispute {dispute} (job {id}) closed {} ago; anyone may now make round {}'s \
                 ruling ({}) final",
                human_secs(now - info.appealDeadline),
                info.round,
                ruling_name(info.ruling)
            );
        }
        let cost = committee.appealCost(dispute).call().await.context("reading the appeal's cost")?;
        let me = market.account();
        let have = market.chain.balance(me).await?;
        if have < cost {
            bail!("{me} holds {}, less than the appeal's {}; fund it first", format_eth(have), format_eth(cost));
        }
        let next_seats = 2 * u32::from(info.seats) + 1;
        let action = format!("appeal dispute {dispute}");
        let tx = committee.appeal(dispute).value(cost).into_transaction_request();
        let quote = market.quote(&action, &tx).await?;
        let summary = format!(
            "Appeal round {}'s ruling on job {id} (dispute {dispute}): {}\n  you send   {} (refunded if the final \
             ruling differs; else it pays the coherent jurors)\n  next round {} seats\n  period     closes in {}\n  \
             tx         {action}: {}\n",
            info.round,
            ruling_name(info.ruling),
            format_eth(cost),
            next_seats,
            human_secs(info.appealDeadline - now),
            quote.line()
        );
        ctx.out.confirm(ctx.yes, &summary)?;
        let (sent, _) = market.send(ctx, &action, tx).await?;
        ctx.out.note(&sent.line());
        let done = Done {
            job_id: id.to_string(),
            action: "appealed".into(),
            paid: Some(TokenInfo::eth().amount(cost)),
            dispute_id: Some(dispute.to_string()),
            evidence_uri: None,
            transactions: vec![sent],
        };
        ctx.out.print(&done, |d| {
            format!(
                "Dispute {} appealed: a jury of {next_seats} seats is drawn next; `cairn job watch {}` follows it",
                d.dispute_id.as_deref().unwrap_or("?"),
                d.job_id
            )
        })
    }
}

/// A ruling's meaning in words.
fn ruling_name(ruling: u8) -> &'static str {
    match ruling {
        1 => "1, the result is acceptable (operator upheld)",
        2 => "2, the result is not acceptable (operator wrong)",
        3 => "3, the job's input could not be fetched (buyer refunded, the operator pays the fee)",
        _ => "0, a tie: no ruling",
    }
}

impl CancelArgs {
    /// Runs it.
    ///
    /// Errors: no such job; not your job; a job already claimed or closed; the claim deadline not passed yet;
    /// the confirmation refused; the transaction fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let job = Job::read(&market, self.job).await?;
        let id = self.job;
        require_buyer(&job, market.account(), "cancel it")?;
        if job.progress.state != job_state::REQUESTED {
            bail!(
                "job {id} is {}: only a job nobody claimed can be cancelled{}",
                job.state(),
                if job.progress.state == job_state::CLAIMED {
                    " (a claim that is never answered is reopened by `reopen` after its submit deadline)"
                } else {
                    ""
                }
            );
        }
        let now = market.now().await?;
        if now <= job.terms.deadline {
            bail!(UsageError(format!(
                "job {id} may still be claimed for {} (its deadline is {}, unix seconds); cancel after that",
                human_secs(job.terms.deadline - now + 1),
                job.terms.deadline
            )));
        }
        let token = market.token(job.terms.token).await?;
        let jm = JobMarket::new(market.address("JobMarket")?, market.chain.provider());
        let action = format!("cancel job {id}");
        let tx = jm.cancel(id).into_transaction_request();
        let summary =
            format!("Cancel job {id}: {} is credited back to you in the JobMarket\n", token.format(job.terms.payment));
        let (sent, _) = market.confirm_send(ctx, &action, &summary, tx).await?;
        let done = Done {
            job_id: id.to_string(),
            action: "cancelled".into(),
            paid: Some(token.amount(job.terms.payment)),
            dispute_id: None,
            evidence_uri: None,
            transactions: vec![sent],
        };
        ctx.out.print(&done, |d| {
            format!(
                "Job {} cancelled: {} credited back; `cairn withdraw` moves it to your wallet",
                d.job_id,
                d.paid.as_ref().map_or("", |p| p.human.as_str())
            )
        })
    }
}

impl ReopenArgs {
    /// Runs it.
    ///
    /// Errors: no such job; a job not claimed; the submit deadline not passed; the confirmation refused; the
    /// transaction fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let job = Job::read(&market, self.job).await?;
        let id = self.job;
        if job.progress.state != job_state::CLAIMED {
            bail!("job {id} is {}: only a claimed job whose result is late can be reopened", job.state());
        }
        let now = market.now().await?;
        if now <= job.progress.submitBy {
            bail!(UsageError(format!(
                "job {id}'s operator has {} left to submit (until {}, unix seconds); reopen after that",
                human_secs(job.progress.submitBy - now + 1),
                job.progress.submitBy
            )));
        }
        let jm = JobMarket::new(market.address("JobMarket")?, market.chain.provider());
        let action = format!("reopen job {id}");
        let tx = jm.reopen(id).into_transaction_request();
        let summary = format!("Reopen job {id}: operator {} missed its deadline\n", job.progress.operator);
        let (sent, receipt) = market.confirm_send(ctx, &action, &summary, tx).await?;
        let penalty = receipt
            .decoded_log::<JobMarket::ClaimExpired>()
            .map(|e| e.penalty)
            .context("the reopen's receipt has no ClaimExpired event")?;
        let done = Done {
            job_id: id.to_string(),
            action: "reopened".into(),
            paid: Some(TokenInfo::eth().amount(penalty)),
            dispute_id: None,
            evidence_uri: None,
            transactions: vec![sent],
        };
        ctx.out.print(&done, |d| {
            format!(
                "Job {} reopened: the late operator's penalty {} went to the treasury",
                d.job_id,
                d.paid.as_ref().map_or("", |p| p.human.as_str())
            )
        })
    }
}

impl FinalizeArgs {
    /// Runs it.
    ///
    /// Errors: no such job; a job without a result or already settled; the window still open; the
    /// confirmation refused; the transaction fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let job = Job::read(&market, self.job).await?;
        let id = self.job;
        if job.progress.state != job_state::SUBMITTED {
            bail!("job {id} is {}: only a submitted, unchallenged result is finalized", job.state());
        }
        let now = market.now().await?;
        if now < job.progress.challengeEnds {
            bail!(UsageError(format!(
                "job {id}'s challenge window is open for {} more; finalize after it",
                human_secs(job.progress.challengeEnds - now)
            )));
        }
        let desk = market.desk()?;
        let audit = desk.auditOf(id).call().await.context("reading the job's audit")?;
        let mut transactions = Vec::new();
        if audit.state == audit_state::PENDING {
            let head = market.chain.provider().get_block_number().await.context("reading the chain head")?;
            if head <= audit.seedBlock {
                bail!(UsageError(format!(
                    "job {id}'s audit draw uses block {}'s hash, which is the chain's head: try again after the next \
                     block",
                    audit.seedBlock
                )));
            }
            let action = format!("evaluate job {id}'s audit draw");
            let tx = desk.evaluateAudit(id).into_transaction_request();
            let summary = format!("Job {id}'s random audit draw is not evaluated yet; it must be before finalizing\n");
            let (sent, receipt) = market.confirm_send(ctx, &action, &summary, tx).await?;
            transactions.push(sent);
            if let Some(e) = receipt.decoded_log::<DisputeDesk::AuditEvaluated>().filter(|e| e.audited) {
                let done = Done {
                    job_id: id.to_string(),
                    action: "audited".into(),
                    paid: None,
                    dispute_id: Some(e.disputeId.to_string()),
                    evidence_uri: None,
                    transactions,
                };
                return ctx.out.print(&done, |d| {
                    format!(
                        "Job {} was drawn for a random audit (dispute {}): the committee re-executes it and the escrow \
                         settles with its ruling (`cairn job watch {}`)",
                        d.job_id,
                        d.dispute_id.as_deref().unwrap_or("?"),
                        d.job_id
                    )
                });
            }
        } else if audit.state == audit_state::AUDITED {
            bail!("job {id} was drawn for a random audit: the committee's ruling settles it");
        }
        let jm = JobMarket::new(market.address("JobMarket")?, market.chain.provider());
        let action = format!("finalize job {id}");
        let tx = jm.finalize(id).into_transaction_request();
        let (sent, _) = market.confirm_send(ctx, &action, &format!("Finalize job {id}\n"), tx).await?;
        transactions.push(sent);
        let done = Done {
            job_id: id.to_string(),
            action: "finalized".into(),
            paid: None,
            dispute_id: None,
            evidence_uri: None,
            transactions,
        };
        ctx.out.print(&done, |d| format!("Job {} finalized: the escrow is split", d.job_id))
    }
}
