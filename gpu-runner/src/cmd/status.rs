//! `cairn-runner status`: the runner's journal and its operator's standing on chain.

use std::{collections::BTreeMap, path::PathBuf};

use alloy::primitives::{Address, U256};
use anyhow::Context as _;
use cairn_bindings::{JobMarket, OperatorRegistry};
use cairn_chain::{Chain, ChainOptions};
use cairn_runner::service::{config::RunnerConfig, journal::Journal};
use serde::Serialize;

/// Show where the runner stands: its operator's stake (locked and free), the hot signer's gas, the operator
/// fees waiting to be withdrawn, the jobs in its journal by step, with those still open, and, in verifier mode,
/// the disputes it was drawn onto, by step.
///
/// Reads the journal and the chain only: it needs no key and can run beside `cairn-runner run`.
///
/// Examples:
///   cairn-runner status --config runner.toml
///   cairn-runner status --config runner.toml --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct StatusArgs {
    /// The runner's TOML config.
    #[arg(long, value_name = "FILE", env = "CAIRN_RUNNER_CONFIG")]
    config: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// What `status` prints (amounts in wei, decimal strings).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    /// The journal read; `null` before the runner's first start with this config.
    journal: Option<PathBuf>,
    operator: Address,
    registered: bool,
    signer: Address,
    signer_balance_wei: String,
    stake_wei: String,
    locked_wei: String,
    free_wei: String,
    /// Operator fees credited in JobMarket and not yet withdrawn, by token (`0x000…0` is ETH).
    earnings: BTreeMap<Address, String>,
    /// Journaled jobs by step.
    jobs: BTreeMap<&'static str, usize>,
    /// Jobs with something left to do.
    open: Vec<OpenJob>,
    /// Verifier mode: disputes the operator was drawn onto, by step.
    duties: BTreeMap<&'static str, usize>,
    /// Watcher mode: jobs this runner challenged, by step (`challenging` … `settled`).
    challenges: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenJob {
    job: String,
    step: &'static str,
    challenge_ends: Option<u64>,
}

impl StatusArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let resolved = RunnerConfig::load(&self.config)?;
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let status = runtime.block_on(status(&resolved))?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&status)?);
        } else {
            println!("{}", human(&status));
        }
        Ok(())
    }
}

async fn status(resolved: &cairn_runner::service::config::Resolved) -> anyhow::Result<Status> {
    let c = &resolved.config;
    let state_dir = &c.storage.state_dir;
    // Before the first run there is no journal: the chain's side is still worth showing, and status writes
    // nothing (opening the journal would create it).
    let journal_file = Journal::file(state_dir);
    let journal = match journal_file.exists() {
        true => Some(Journal::open(state_dir).await?),
        false => None,
    };
    let chain = Chain::connect_read_only(&c.chain.rpc_url, ChainOptions::default()).await.context("[chain] rpc_url")?;
    let deployments = chain.deployments(&c.chain.deployments).await.context("[chain] deployments")?;
    let registry = OperatorRegistry::new(deployments.address("OperatorRegistry")?, chain.provider().clone());
    let market = JobMarket::new(deployments.address("JobMarket")?, chain.provider().clone());
    let operator = c.operator.address;
    let o = registry.getOperator(operator).call().await.context("reading the operator")?;
    let free = registry.freeStake(operator).call().await.context("reading the free stake")?;
    let mut earnings = BTreeMap::new();
    for token in std::iter::once(Address::ZERO).chain(c.jobs.min_fee_tokens.keys().copied()) {
        let owed: U256 = market.balanceOf(operator, token).call().await.context("reading the operator's balance")?;
        earnings.insert(token, owed.to_string());
    }
    let (mut jobs, mut open, mut duties, mut challenges) = Default::default();
    if let Some(journal) = &journal {
        let entries = journal.all().await?;
        jobs = tally(entries.iter().map(|e| e.step.as_str()));
        open = entries
            .iter()
            .filter(|e| !e.step.is_terminal())
            .map(|e| OpenJob { job: e.job.to_string(), step: e.step.as_str(), challenge_ends: e.challenge_ends })
            .collect();
        duties = tally(journal.all_duties().await?.iter().map(|d| d.step.as_str()));
        challenges = tally(journal.all_challenges().await?.iter().map(|c| c.step.as_str()));
    }
    Ok(Status {
        journal: journal.is_some().then_some(journal_file),
        duties,
        challenges,
        operator,
        registered: o.registered,
        signer: o.signer,
        signer_balance_wei: chain.balance(o.signer).await?.to_string(),
        stake_wei: o.stake.to_string(),
        locked_wei: o.locked.to_string(),
        free_wei: free.to_string(),
        earnings,
        jobs,
        open,
    })
}

fn human(s: &Status) -> String {
    let eth = |wei: &str| wei.parse::<U256>().map_or(wei.to_owned(), cairn_protocol::units::format_eth);
    let mut text = format!(
        "operator   {}{}\nsigner     {} (the registered hot key; gas {})\nstake      {} (locked {}, free {})\n",
        s.operator,
        if s.registered { "" } else { " (NOT REGISTERED)" },
        s.signer,
        eth(&s.signer_balance_wei),
        eth(&s.stake_wei),
        eth(&s.locked_wei),
        eth(&s.free_wei),
    );
    for (token, owed) in &s.earnings {
        let (amount, key) = match token.is_zero() {
            true => (eth(owed), "withdraw_above_wei"),
            false => (format!("{owed} (token {token})"), "withdraw_above_tokens"),
        };
        text += &format!("earned     {amount} to withdraw (`cairn withdraw` with the owner key, or [jobs] {key})\n");
    }
    let jobs = match &s.journal {
        None => "none yet (no journal: the runner has not started with this config)".to_owned(),
        Some(_) if s.jobs.is_empty() => "none yet".to_owned(),
        Some(_) => by_step(&s.jobs),
    };
    text += &format!("jobs       {jobs}\n");
    for job in &s.open {
        text += &format!("  job {} at {}", job.job, job.step);
        if let Some(ends) = job.challenge_ends {
            text += &format!(" (challenge window ends at {ends})");
        }
        text.push('\n');
    }
    if !s.duties.is_empty() {
        text += &format!("disputes   {} (drawn as a juror)\n", by_step(&s.duties));
    }
    if !s.challenges.is_empty() {
        text += &format!("challenges {} (as a watcher)\n", by_step(&s.challenges));
    }
    text.trim_end().to_owned()
}

/// How many of `steps` are at each step.
fn tally(steps: impl Iterator<Item = &'static str>) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for step in steps {
        *counts.entry(step).or_insert(0) += 1;
    }
    counts
}

/// `3 finalized, 1 submitted`: the counts by step, steps in alphabetical order.
fn by_step(counts: &BTreeMap<&'static str, usize>) -> String {
    counts.iter().map(|(step, n)| format!("{n} {step}")).collect::<Vec<_>>().join(", ")
}
