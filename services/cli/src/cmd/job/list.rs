//! `cairn job list`: your jobs (or anyone's), from cairn-indexer's `/jobs`.

use alloy::primitives::Address;
use clap::Args;

use super::Indexer;
use crate::{Context, UsageError};

/// List jobs from cairn-indexer: by default the signer's own; the newest --limit, newest first.
///
/// Examples:
///   cairn --account buyer job list
///   cairn job list --buyer 0x70997970c51812dc3a010c7d01b50e0d17dc79c8 --state Submitted
///   cairn job list --model 1 --all --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Whose jobs (default: the configured signer's).
    #[arg(long)]
    pub buyer: Option<Address>,
    /// Every buyer's jobs.
    #[arg(long, conflicts_with = "buyer")]
    pub all: bool,
    /// Only this model's.
    #[arg(long, value_parser = crate::cmd::model_id)]
    pub model: Option<alloy::primitives::U256>,
    /// Only jobs in this state.
    #[arg(long, value_parser = ["Requested", "Claimed", "Submitted", "Disputed", "Finalized", "Cancelled", "Resolved"])]
    pub state: Option<String>,
    /// How many of the newest jobs to show (1–500).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub limit: u16,
}

impl ListArgs {
    /// Runs it.
    ///
    /// Errors: no buyer given or configured (without --all); the indexer unreachable or refusing a filter.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let mut query = vec![format!("limit={}", self.limit)];
        if !self.all {
            let buyer = self.buyer.or_else(|| ctx.account_hint()).ok_or_else(|| {
                UsageError("whose jobs? pass --buyer <address> or --all, or configure a signer (--account)".into())
            })?;
            query.push(format!("buyer={buyer:#x}"));
        }
        if let Some(m) = self.model {
            query.push(format!("model={m}"));
        }
        if let Some(s) = &self.state {
            query.push(format!("state={s}"));
        }
        query.push("order=desc".into());
        let indexer = Indexer::new(ctx)?;
        let page = indexer.get(&format!("/jobs?{}", query.join("&"))).await?;
        ctx.out.print(&page, |p| {
            let items = p["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return "No jobs.".to_owned();
            }
            let mut text =
                format!("{:>6}  {:>5}  {:<10}  {:<24}  {}\n", "job", "model", "state", "payment (wei)", "buyer");
            for j in &items {
                text += &format!(
                    "{:>6}  {:>5}  {:<10}  {:<24}  {}\n",
                    j["id"].as_str().unwrap_or("?"),
                    j["modelId"].as_str().unwrap_or("?"),
                    j["state"].as_str().unwrap_or("?"),
                    j["payment"].as_str().unwrap_or("?"),
                    j["buyer"].as_str().unwrap_or("?")
                );
            }
            text
        })
    }
}
