//! `cairn audit model|job|operator|account`: the auditors' trail from cairn-indexer, readable, `--json` or
//! `--csv`.

use alloy::primitives::{Address, U256};
use clap::{Args, Subcommand};

use crate::{Context, cmd::job::Indexer};

/// Read the market's record from cairn-indexer (what happened, in which block and transaction).
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    Model(ModelArgs),
    Job(JobArgs),
    Operator(OperatorArgs),
    Account(AccountArgs),
}

/// A model: its versions, manifest, digests, seller, signature check, licences and the operators that served
/// it.
///
/// Examples:
///   cairn audit model 1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ModelArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
}

/// A job: every transition with block, transaction and time, its receipt and its dispute.
///
/// Examples:
///   cairn audit job 7 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct JobArgs {
    /// The job.
    #[arg(value_parser = crate::cmd::job::job_id)]
    pub job: U256,
}

/// An operator: stake, region, counters and reputation.
///
/// Examples:
///   cairn audit operator 0x90f79bf6eb2c4f870365e785982e1f101e93b906
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct OperatorArgs {
    /// The operator (its owner address).
    pub address: Address,
}

/// Everything an address did, in order (as seller, buyer, operator, challenger, juror).
///
/// Examples:
///   cairn audit account 0x7099… --csv > trail.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AccountArgs {
    /// The address.
    pub address: Address,
    /// CSV instead of text (the indexer's export).
    #[arg(long)]
    pub csv: bool,
    /// Most entries (1–500).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub limit: u16,
}

impl AuditCommand {
    /// Runs it.
    ///
    /// Errors: the indexer unreachable, or it does not know the id.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let indexer = Indexer::new(ctx)?;
        let (path, title) = match &self {
            Self::Model(a) => (format!("/models/{}", a.model), format!("Model {}", a.model)),
            Self::Job(a) => (format!("/jobs/{}", a.job), format!("Job {}", a.job)),
            Self::Operator(a) => (format!("/operators/{:#x}", a.address), format!("Operator {}", a.address)),
            Self::Account(a) => {
                let path = format!("/accounts/{:#x}/trail?limit={}", a.address, a.limit);
                if a.csv {
                    return crate::output::write_stdout(&indexer.get_text(&format!("{path}&format=csv")).await?);
                }
                (path, format!("Trail of {}", a.address))
            }
        };
        let value = indexer.get(&path).await?;
        ctx.out.print(&value, |v| format!("{title} (cairn-indexer {})\n{}", indexer.url(), readable(v, 1)))
    }
}

/// Entries of a list shown as text (`--json` shows all).
const MAX_SHOWN: usize = 20;

/// JSON as indented `key: value` lines; lists of objects as numbered entries (the first [`MAX_SHOWN`]).
pub fn readable(value: &serde_json::Value, depth: usize) -> String {
    let pad = "  ".repeat(depth);
    let mut text = String::new();
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::Object(m) if !m.is_empty() => {
                        text += &format!("{pad}{k}:\n{}", readable(v, depth + 1));
                    }
                    serde_json::Value::Array(a) if a.iter().any(|x| x.is_object()) => {
                        text += &format!("{pad}{k}: ({} entries)\n", a.len());
                        for (i, x) in a.iter().take(MAX_SHOWN).enumerate() {
                            text += &format!("{pad}  [{i}]\n{}", readable(x, depth + 2));
                        }
                        if a.len() > MAX_SHOWN {
                            text += &format!("{pad}  … {} more (--json shows all)\n", a.len() - MAX_SHOWN);
                        }
                    }
                    serde_json::Value::String(s) => text += &format!("{pad}{k}: {s}\n"),
                    other => text += &format!("{pad}{k}: {other}\n"),
                }
            }
        }
        other => text += &format!("{pad}{other}\n"),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reads_as_indented_lines() {
        let v =
            serde_json::json!({"id": "7", "state": {"name": "Finalized"}, "transitions": [{"event": "JobRequested"}]});
        let text = readable(&v, 0);
        assert!(text.contains("id: 7\n"), "{text}");
        assert!(text.contains("state:\n  name: Finalized\n"), "{text}");
        assert!(text.contains("transitions: (1 entries)\n  [0]\n    event: JobRequested\n"), "{text}");
    }
}
