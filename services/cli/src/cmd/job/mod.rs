//! `cairn job submit|status|watch|result|challenge|cancel|reopen|finalize|list`: the buyers' commands. A job is
//! escrowed in the JobMarket, claimed and answered by an operator, open to challenge for the challenge window,
//! then finalized (the escrow split) or ruled on by the re-execution committee.

pub mod challenge;
pub mod list;
pub mod result;
pub mod status;
pub mod submit;

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEvent,
};
use anyhow::{Context as _, bail};
use cairn_bindings::{
    JobMarket,
    enums::{self, close_reason, job_state},
    job_market::IJobMarket::{JobProgress, JobTerms},
};
use clap::Subcommand;
use serde::Serialize;

use crate::{Context, cmd::Market};

/// Job commands.
// A variant's help is its Args struct's doc comment, Examples included: a doc comment on the variant would
// replace it.
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    Submit(submit::SubmitArgs),
    Status(status::StatusArgs),
    Watch(status::WatchArgs),
    Result(result::ResultArgs),
    Challenge(challenge::ChallengeArgs),
    Appeal(challenge::AppealArgs),
    Cancel(challenge::CancelArgs),
    Reopen(challenge::ReopenArgs),
    Finalize(challenge::FinalizeArgs),
    List(list::ListArgs),
}

impl JobCommand {
    /// Runs it.
    ///
    /// Errors: the command's.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Self::Submit(a) => a.run(ctx).await,
            Self::Status(a) => a.run(ctx).await,
            Self::Watch(a) => a.run(ctx).await,
            Self::Result(a) => a.run(ctx).await,
            Self::Challenge(a) => a.run(ctx).await,
            Self::Appeal(a) => a.run(ctx).await,
            Self::Cancel(a) => a.run(ctx).await,
            Self::Reopen(a) => a.run(ctx).await,
            Self::Finalize(a) => a.run(ctx).await,
            Self::List(a) => a.run(ctx).await,
        }
    }
}

/// A job id from the command line: a positive integer.
pub fn job_id(text: &str) -> Result<U256, String> {
    match text.parse::<U256>() {
        Ok(id) if id > U256::ZERO => Ok(id),
        _ => Err(format!("`{text}` is not a job id: ids are whole numbers from 1 (see `cairn job list`)")),
    }
}

/// A job as the JobMarket holds it.
pub struct Job {
    /// Its id.
    pub id: U256,
    /// What it fixed at request time.
    pub terms: JobTerms,
    /// How it is going.
    pub progress: JobProgress,
}

impl Job {
    /// Reads job `id`.
    ///
    /// Errors: no such job (the market's `UnknownJob`, said plainly); the chain.
    pub async fn read(market: &Market, id: U256) -> anyhow::Result<Self> {
        let jm = JobMarket::new(market.address("JobMarket")?, market.chain.provider());
        let terms = jm.getTerms(id).call().await.map_err(|e| {
            if e.as_decoded_error::<JobMarket::UnknownJob>().is_some() {
                anyhow::anyhow!("job {id} does not exist on chain {} (see `cairn job list`)", market.chain.chain_id())
            } else {
                anyhow::Error::new(e).context(format!("reading job {id}"))
            }
        })?;
        // The market answers an id it never issued with zeroed terms (no buyer) rather than a revert.
        if terms.buyer == Address::ZERO {
            bail!("job {id} does not exist on chain {} (see `cairn job list`)", market.chain.chain_id());
        }
        let progress = jm.getProgress(id).call().await.with_context(|| format!("reading job {id}"))?;
        Ok(Self { id, terms, progress })
    }

    /// The state's name (`Requested`, `Claimed`, `Submitted`, `Disputed`, `Finalized`, `Cancelled`, `Resolved`).
    pub fn state(&self) -> String {
        enums::name(job_state::NAMES, self.progress.state)
    }

    /// Whether the job is closed (finalized, cancelled or resolved).
    pub fn closed(&self) -> bool {
        self.progress.closeReason != close_reason::OPEN
    }

    /// The `ResultSubmitted` event of this job, when a result was submitted.
    ///
    /// Errors: the chain.
    pub async fn submitted(&self, market: &Market) -> anyhow::Result<Option<JobMarket::ResultSubmitted>> {
        let log = market
            .chain
            .last_log(
                market.address("JobMarket")?,
                JobMarket::ResultSubmitted::SIGNATURE_HASH,
                B256::from(self.id),
                market.deployments.deployment_block,
            )
            .await?;
        match log {
            Some(log) => Ok(Some(
                log.log_decode::<JobMarket::ResultSubmitted>().context("decoding a ResultSubmitted log")?.inner.data,
            )),
            None => Ok(None),
        }
    }

    /// The input's CID, from the job's `JobRequested` event.
    ///
    /// Errors: the chain; the event is missing (a node that pruned its logs).
    pub async fn input_cid(&self, market: &Market) -> anyhow::Result<String> {
        let log = market
            .chain
            .last_log(
                market.address("JobMarket")?,
                JobMarket::JobRequested::SIGNATURE_HASH,
                B256::from(self.id),
                market.deployments.deployment_block,
            )
            .await?
            .with_context(|| format!("job {} has no JobRequested log on this node (pruned history?)", self.id))?;
        Ok(log.log_decode::<JobMarket::JobRequested>().context("decoding a JobRequested log")?.inner.data.inputCid)
    }
}

/// The buyer the job belongs to must be the signer, for commands only the buyer may run.
///
/// Errors: another account signs.
pub fn require_buyer(job: &Job, account: Address, what: &str) -> anyhow::Result<()> {
    if job.terms.buyer != account {
        bail!("job {} belongs to {}, not to {account}: only its buyer may {what}", job.id, job.terms.buyer);
    }
    Ok(())
}

/// `cairn-indexer`'s API, for what the chain cannot answer cheaply (a buyer's jobs, a job's history, trails).
pub struct Indexer {
    url: String,
    http: reqwest::Client,
}

impl Indexer {
    /// The indexer the settings name (`--indexer-url`, the devnet's, or the default).
    ///
    /// Errors: the HTTP client cannot be built (a bug).
    pub fn new(ctx: &Context) -> anyhow::Result<Self> {
        let url = ctx.settings.indexer_url.value.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?;
        Ok(Self { url, http })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET {url}{path}` as JSON (`path` starts with `/` and may carry a query).
    ///
    /// Errors: as [`Indexer::get_text`]; a body that is not JSON.
    pub async fn get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let text = self.get_text(path).await?;
        serde_json::from_str(&text).with_context(|| format!("{}{path} did not answer JSON", self.url))
    }

    /// `GET {url}{path}` as text (CSV exports).
    ///
    /// Errors: the indexer is unreachable (what to do is said); an error status (its JSON `error` message, or
    /// the body, is shown).
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.url);
        let response = self.http.get(&url).send().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach cairn-indexer at {} ({e}); start it (`make devnet` runs one) or pass --indexer-url",
                self.url
            )
        })?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("reading {url}"))?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or(text);
            bail!("cairn-indexer answered {status} for {path}: {message}");
        }
        Ok(text)
    }
}

/// Seconds as people read them: `59 s`, `4 min 10 s`, `2 h 5 min`.
pub fn human_secs(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// A job's terms as commands print them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsView {
    /// The buyer.
    pub buyer: Address,
    /// The model and its version.
    pub model_id: String,
    /// Its version at request time.
    pub model_version: u64,
    /// The payment escrowed.
    pub payment: crate::output::AmountView,
    /// sha256 of the input.
    pub input_digest: B256,
    /// Last second (unix) the job may be claimed.
    pub deadline: u64,
    /// The regions operators may claim from.
    pub regions: Vec<String>,
}

impl TermsView {
    /// The view of `terms`, amounts in `token`.
    pub fn of(terms: &JobTerms, token: &crate::output::TokenInfo) -> Self {
        let mask = u64::try_from(terms.regionMask).unwrap_or(u64::MAX);
        let regions = cairn_protocol::RegionMask::from_bits(mask)
            .map(|m| m.regions().iter().map(|r| r.code().to_owned()).collect())
            .unwrap_or_else(|_| vec![format!("{mask:#x}")]);
        Self {
            buyer: terms.buyer,
            model_id: terms.modelId.to_string(),
            model_version: terms.modelVersion,
            payment: token.amount(terms.payment),
            input_digest: terms.inputDigest,
            deadline: terms.deadline,
            regions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_positive_integers() {
        assert_eq!(job_id("7").unwrap(), U256::from(7));
        assert!(job_id("0").unwrap_err().contains("from 1"));
        assert!(job_id("x").unwrap_err().contains("not a job id"));
    }

    #[test]
    fn seconds_read_as_people_write_them() {
        assert_eq!(human_secs(59), "59 s");
        assert_eq!(human_secs(250), "4 min 10 s");
        assert_eq!(human_secs(7500), "2 h 5 min");
    }
}
