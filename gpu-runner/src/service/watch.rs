//! Watcher mode (`[watch] sample = r`): against the verifier's dilemma (nobody re-runs when nobody cheats, so a
//! cheat would go unseen), the runner re-executes a fraction `r` of other operators' submitted jobs inside
//! their challenge window and challenges those whose output fails the acceptance rule
//! (`cairn_protocol::acceptance`), with ERC-1497 evidence pinned on IPFS: its own output's CID and the
//! failing rows.
//!
//! **Sampling.** A job is watched when `keccak256("cairn-watch/1" ‖ hot key ‖ jobId ‖ outputDigest)`, read as
//! a fraction of 2²⁵⁶, is below `r`. The key makes the choice unpredictable to everyone else (a cheat cannot
//! tell which of its jobs will be re-run), the output digest makes it fall after the output is fixed (it
//! cannot be steered by choosing the output), and each job is drawn on its own, so wash jobs (a cheat's
//! honest decoys) do not lower the chance that any one cheating job is checked.
//!
//! **What counts as not acceptable.** Bytes that do not hash to the receipt's digest, a malformed output,
//! a wrong shape, non-finite values, rows off the unit norm, or a row whose cosine to our own run is below
//! 0.999. An output that cannot be fetched is not challenged by the watcher (Kubo may be slow or partitioned
//! from the operator's node); the job is retried until its window closes. Our own re-execution that fails
//! the rule's checks judges nothing.
//!
//! **Challenge pools (disputes v2).** A job someone else already challenged is still watched: its pool at the
//! `DisputeDesk` takes more challengers until `challengeEnds`, each with the challenge bond alone, and every
//! ticket is paid the same on ruling 2. So a cheat that challenges its own job first (to lose less and shut
//! watchers out, finding 4 of issue #12) still meets the watcher. Once the dispute is ruled the runner collects
//! its ticket and withdraws the desk's pull balance to the hot key.
//!
//! **Crash safety.** Each challenge is journaled (`journal::ChallengeStep`) before it is sent, so a restart
//! finds whether it landed, submits its evidence's URI if that had not gone out, and collects its ticket.

use alloy::primitives::{Address, B256, U256, keccak256};
use anyhow::Context as _;
use cairn_bindings::enums::ticket;
use cairn_ipfs::AddOptions;
use cairn_primitives::Sha256Digest;

use cairn_protocol::acceptance::Report;

use super::{journal::ChallengeStep, models::HostError};
use crate::output::Output;

/// Whether the watcher with hot key `key` re-executes `job` whose receipt has `output_digest`, at sample
/// rate `rate` (0 to 1).
pub fn sampled(key: &B256, job: U256, output_digest: B256, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 {
        return false;
    }
    let mut message = b"cairn-watch/1".to_vec();
    message.extend_from_slice(key.as_slice());
    message.extend_from_slice(&job.to_be_bytes::<32>());
    message.extend_from_slice(output_digest.as_slice());
    let draw = keccak256(&message);
    // The first 8 bytes as a fraction of 2^64 (2^-64 resolution is far below any useful rate).
    let fraction = u64::from_be_bytes(draw[..8].try_into().expect("8 bytes")) as f64 / 18_446_744_073_709_551_616.0;
    fraction < rate
}

/// A submitted result to watch, from its `ResultSubmitted` log.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The job.
    pub job: U256,
    /// Who submitted.
    pub operator: Address,
    /// The receipt's output digest.
    pub output_digest: B256,
    /// The receipt's output CID.
    pub output_cid: String,
}

/// How a watched job ended.
#[derive(Debug)]
pub enum Verdict {
    /// The output passed the acceptance rule.
    Acceptable,
    /// Challenged: the dispute id and the evidence URI.
    Challenged(U256, String),
    /// Nothing to do any more (finalized, already holding a ticket, window closed, model refused).
    Skipped(String),
}

/// What re-executing a submitted job with our own verified weights found (the watcher's and the juror's one
/// judgement of a job).
pub(crate) enum Judgement {
    /// The claimed output passes the acceptance rule.
    Acceptable(Report),
    /// It does not: our own output, the rule's report (none when the bytes at the CID do not hash to the
    /// receipt's digest, or are larger than any output could be), and why, in words.
    NotAcceptable { own: Output, report: Option<Report>, why: String },
    /// This runner cannot judge it: the model or the input is refused by a limit of its own (not a passing
    /// failure).
    CannotJudge(String),
    /// The job's input cannot be had: the bytes at its CID are not the input the receipt binds, or the CID is not
    /// one (a juror votes 3; a Kubo that cannot find the input is a passing failure with `InputUnfetched`).
    InputUnavailable(String),
}

impl super::runner::Inner {
    /// Re-executes `job` (its model, its input) and judges the claimed output at `output_cid` against the
    /// receipt's `output_digest` by the acceptance rule (`cairn_protocol::acceptance`).
    ///
    /// Errors: a passing failure (Kubo, the RPC, a model still downloading) to retry later.
    pub(crate) async fn judge(&self, job: U256, output_cid: &str, output_digest: B256) -> anyhow::Result<Judgement> {
        let terms = self.market.getTerms(job).call().await.context("reading the job's terms")?;
        let model = self.model_ref(&terms).await?;
        let loaded = match self.host.get(&model).await {
            Ok(m) => m,
            Err(HostError::Refused(why)) => {
                return Ok(Judgement::CannotJudge(format!("cannot judge with this model: {why}")));
            }
            Err(HostError::Unavailable(e)) => return Err(e),
        };
        let input_cid = self.input_cid(job).await?;
        let input = match self.fetch_input(&input_cid, terms.inputDigest).await {
            Ok(bytes) => bytes,
            Err(super::runner::InputError::Refused(why)) => return Ok(Judgement::CannotJudge(why)),
            Err(super::runner::InputError::NotTheInput(why)) => return Ok(Judgement::InputUnavailable(why)),
            Err(super::runner::InputError::Unavailable(e)) => return Err(e.context(super::runner::InputUnfetched)),
        };
        let digest = Sha256Digest(output_digest.0);
        let limit = self.cfg.config.watch.max_output_bytes;
        let claimed = match self.kubo.cat_bytes(output_cid, digest, limit).await {
            Ok(bytes) => Some(bytes.to_vec()),
            // Other bytes than the receipt's digest, or more than any output of this input could be.
            Err(cairn_ipfs::Error::DigestMismatch { .. } | cairn_ipfs::Error::TooLarge { .. }) => None,
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("fetching the claimed output {output_cid}")));
            }
        };
        let judged = loaded.clone();
        let report = tokio::task::spawn_blocking(move || -> crate::Result<_> {
            let own = judged.executor.execute(&input)?;
            let report = match &claimed {
                Some(bytes) => Some(judged.executor.verify(&input, bytes, digest)?),
                None => None,
            };
            Ok((own, report))
        })
        .await
        .context("the re-execution panicked")?;
        let (own, report) = report.context("re-executing the job")?;
        Ok(match report {
            Some(r) if r.acceptable() => Judgement::Acceptable(r),
            Some(r) => Judgement::NotAcceptable { own, why: r.to_string(), report: Some(r) },
            None => Judgement::NotAcceptable {
                own,
                report: None,
                why: format!("the bytes at {output_cid} do not hash to the receipt's output digest {digest}"),
            },
        })
    }

    /// Re-executes `s` and challenges it when its output is not acceptable.
    ///
    /// Errors: a passing failure (Kubo, the RPC) to retry while the window is open.
    pub(crate) async fn watch(&self, s: &Submitted) -> anyhow::Result<Verdict> {
        let job = s.job;
        let me = self.key.address();
        if self.desk.ticketOf(job, me).call().await.context("reading our ticket")? != ticket::NONE {
            // A challenge whose answer (or whose journal row) was lost may still have landed: journaled, so its
            // evidence follows and its ticket is collected once ruled, even when the job is ruled already.
            self.journal.ticket_held(job).await?;
            return Ok(Verdict::Skipped("this key already holds a ticket in the job's challenge pool".into()));
        }
        let progress = self.market.getProgress(job).call().await.context("reading the job")?;
        // Disputed by someone else: the pool takes more challengers.
        use cairn_bindings::enums::job_state::{DISPUTED, SUBMITTED};
        if progress.state != SUBMITTED && progress.state != DISPUTED {
            return Ok(Verdict::Skipped(format!(
                "the job is in state {}, neither submitted nor disputed",
                progress.state
            )));
        }
        if self.chain_time().await? >= progress.challengeEnds {
            return Ok(Verdict::Skipped("its challenge window has closed".into()));
        }
        let (own, report, why) = match self.judge(job, &s.output_cid, s.output_digest).await? {
            Judgement::Acceptable(r) => {
                tracing::info!(job = %job, operator = %s.operator, %r, "watched: the output is acceptable");
                return Ok(Verdict::Acceptable);
            }
            Judgement::CannotJudge(why) | Judgement::InputUnavailable(why) => return Ok(Verdict::Skipped(why)),
            Judgement::NotAcceptable { own, report, why } => (own, report, why),
        };
        let digest = Sha256Digest(s.output_digest.0);
        tracing::warn!(job = %job, operator = %s.operator, %why, "watched: the output is not acceptable; challenging");

        // Evidence first (pinned), then the challenge, then the evidence's URI on chain.
        let own_cid = self
            .kubo
            .add_bytes(&format!("{job}.watcher.safetensors"), own.bytes.clone(), AddOptions::default())
            .await
            .context("pinning our own output")?
            .cid;
        let evidence = serde_json::json!({
            "name": format!("Cairn job {job}: the submitted output is not acceptable"),
            "description": format!(
                "Re-executed by watcher {} with the registered weights; the claimed output {} (sha256 {}) fails \
                 the acceptance rule of DESIGN.md: {why}. Our own output is fileURI (sha256 {}).",
                self.key.address(), s.output_cid, digest, own.sha256
            ),
            "fileURI": format!("ipfs://{own_cid}"),
            "fileTypeExtension": "safetensors",
            "cairn": {
                "jobId": job.to_string(),
                "operator": s.operator,
                "claimedOutputCid": s.output_cid,
                "claimedOutputDigest": s.output_digest,
                "ownOutputCid": own_cid.to_string(),
                "ownOutputDigest": own.sha256.to_string(),
                "rejection": why,
                "worstRow": report.as_ref().and_then(|r| r.worst_row).map(|(row, cosine)| serde_json::json!({"row": row, "cosine": cosine})),
            },
        });
        let evidence_cid = self
            .kubo
            .add_bytes("evidence.json", serde_json::to_vec_pretty(&evidence)?, AddOptions::default())
            .await
            .context("pinning the evidence")?
            .cid;
        let uri = format!("ipfs://{evidence_cid}");
        // Journaled before the challenge is sent: a restart finds out whether it landed and sends the evidence.
        self.journal.challenging(job, &uri).await?;
        // Bond + arbitration fee to open the pool, the bond alone to join it.
        let cost = self.desk.challengeCost(job).call().await.context("reading the challenge's cost")?;
        let call = self.desk.challenge(job).value(cost);
        self.chain.send("challenge", call.into_transaction_request()).await.context("challenging")?;
        self.crash_point("challenge-sent", job).await;
        self.journal.ticket_held(job).await?;
        let dispute = self.desk.poolOf(job).call().await.context("reading the challenge pool")?.disputeId;
        // The challenge stands; the evidence's URI is worth a few tries now, and is tried again at every poll
        // after that (`settle_challenges`) until it lands.
        let mut tries = 0;
        loop {
            match self.submit_evidence(job, &uri).await {
                Ok(()) => break,
                Err(e) if tries < 4 => {
                    tries += 1;
                    tracing::warn!(job = %job, error = format!("{e:#}"), tries, "cannot submit the evidence yet; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(2 * tries)).await;
                }
                Err(e) => {
                    tracing::error!(job = %job, evidence = %uri, error = format!("{e:#}"), "challenged, but the evidence URI could not be submitted yet; trying again at the next polls");
                    break;
                }
            }
        }
        tracing::warn!(job = %job, dispute = %dispute, evidence = %uri, "challenged");
        Ok(Verdict::Challenged(dispute, uri))
    }

    /// Sends `DisputeDesk.submitEvidence(job, uri)` and journals the challenge `evidenced`. Sending it twice (a
    /// crash between the receipt and the journal) only repeats the ERC-1497 `Evidence` event.
    ///
    /// Errors: the RPC or the journal fails.
    async fn submit_evidence(&self, job: U256, uri: &str) -> anyhow::Result<()> {
        let call = self.desk.submitEvidence(job, uri.to_owned());
        self.chain.send("submitEvidence", call.into_transaction_request()).await.context("submitting the evidence")?;
        self.journal.set_challenge(job, ChallengeStep::Evidenced, "evidence submitted").await?;
        tracing::info!(job = %job, evidence = %uri, "evidence submitted");
        Ok(())
    }

    /// Carries every journaled challenge on (the ones a watch task is not busy with): a `challenging` one whose
    /// ticket is on chain goes on, one that never landed is settled once its job cannot be challenged any more;
    /// the evidence of a `challenged` one is submitted; the ticket of an `evidenced` one is collected once its
    /// pool is ruled (bond and share on ruling 2, the bond on 0 and 3, nothing on 1). Then the desk's pull
    /// balance is withdrawn to the hot key.
    ///
    /// Errors: a passing RPC or journal failure; the rest is tried at the next poll.
    pub(crate) async fn settle_challenges(&self) -> anyhow::Result<()> {
        let open = self.journal.open_challenges().await?;
        if open.is_empty() {
            return Ok(());
        }
        for c in open {
            let job = c.job;
            if self.jobs.lock().expect("not poisoned").active.contains(&job) {
                continue;
            }
            // Read again: a watch task that just finished may have moved it on since the list was read.
            let Some(c) = self.journal.challenge(job).await? else { continue };
            if let Err(e) = self.settle_challenge(&c).await {
                tracing::warn!(job = %job, step = c.step.as_str(), error = format!("{e:#}"), "cannot carry the challenge on now; trying again later");
            }
        }
        let me = self.key.address();
        let balance = self.desk.balanceOf(me, Address::ZERO).call().await.context("reading the desk balance")?;
        if balance > U256::ZERO {
            let call = self.desk.withdraw(Address::ZERO);
            self.chain.send("withdraw", call.into_transaction_request()).await.context("withdrawing from the desk")?;
            tracing::info!(amount = %balance, "withdrew the watcher's earnings from the dispute desk");
        }
        Ok(())
    }

    /// One step or more of [`Inner::settle_challenges`] for challenge `c`.
    async fn settle_challenge(&self, c: &super::journal::Challenge) -> anyhow::Result<()> {
        let (job, me) = (c.job, self.key.address());
        let mut step = c.step;
        if step == ChallengeStep::Challenging {
            if self.desk.ticketOf(job, me).call().await.context("reading our ticket")? != ticket::NONE {
                self.journal.ticket_held(job).await?;
                step = ChallengeStep::Challenged;
            } else {
                use cairn_bindings::enums::job_state::{DISPUTED, SUBMITTED};
                let progress = self.market.getProgress(job).call().await.context("reading the job")?;
                let open = (progress.state == SUBMITTED || progress.state == DISPUTED)
                    && self.chain_time().await? < progress.challengeEnds;
                if !open {
                    tracing::info!(job = %job, "the challenge never landed and the job cannot be challenged any more");
                    self.journal.set_challenge(job, ChallengeStep::Settled, "the challenge never landed").await?;
                }
                // Else the job is watched again after a restart's look back, or settled once its window closes.
                return Ok(());
            }
        }
        if step == ChallengeStep::Challenged {
            match &c.evidence_uri {
                Some(uri) => self.submit_evidence(job, uri).await?,
                None => {
                    self.journal
                        .set_challenge(
                            job,
                            ChallengeStep::Evidenced,
                            "a ticket found on chain; its evidence is unknown here",
                        )
                        .await?;
                }
            }
        }
        let pool = self.desk.poolOf(job).call().await.context("reading the challenge pool")?;
        if !pool.ruled {
            return Ok(());
        }
        // Held: not yet collected (by us or by anyone on our behalf).
        let held = self.desk.ticketOf(job, me).call().await.context("reading our ticket")? == ticket::HELD;
        if pool.payout > U256::ZERO && held {
            let call = self.desk.collect(job, me);
            self.chain.send("collect", call.into_transaction_request()).await.context("collecting the ticket")?;
            self.metrics.job("ticket_collected");
        }
        tracing::info!(job = %job, ruling = pool.ruling, payout = %pool.payout, "challenge pool ruled; ticket settled");
        self.journal.set_challenge(job, ChallengeStep::Settled, &format!("ruled {}", pool.ruling)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_rate_is_met_and_the_draw_depends_on_the_key_and_the_output() {
        let key = B256::repeat_byte(7);
        let digest = B256::repeat_byte(1);
        let hits = (0..20_000u64).filter(|j| sampled(&key, U256::from(*j), digest, 0.1)).count();
        assert!((1_700..2_300).contains(&hits), "about 10% of 20,000: {hits}");
        assert!((0..100u64).all(|j| sampled(&key, U256::from(j), digest, 1.0)));
        assert!(!(0..100u64).any(|j| sampled(&key, U256::from(j), digest, 0.0)));
        let other_key = B256::repeat_byte(8);
        let differ = (0..1_000u64)
            .filter(|j| sampled(&key, U256::from(*j), digest, 0.5) != sampled(&other_key, U256::from(*j), digest, 0.5))
            .count();
        assert!(differ > 300, "another watcher draws other jobs: {differ}");
        let other_output = B256::repeat_byte(2);
        let differ = (0..1_000u64)
            .filter(|j| sampled(&key, U256::from(*j), digest, 0.5) != sampled(&key, U256::from(*j), other_output, 0.5))
            .count();
        assert!(differ > 300, "another output, another draw: {differ}");
    }
}
