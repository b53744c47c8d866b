//! `cairn`, the market's command line: sellers publish and manage models, buyers buy licences, everyone reads
//! balances and withdraws. One file per subcommand under [`cmd`]; the shared options, the layered
//! configuration and the devnet defaults live in [`context`]; printing (human or `--json`) in [`output`].
//!
//! Exit codes: 0 success, 1 failure (the message says what was wrong and what to do), 2 usage error.

pub mod cmd;
pub mod context;
pub mod oms;
pub mod output;

use clap::{Parser, Subcommand};

pub use context::{Context, GlobalArgs, Settings};

/// The examples shown under `cairn --help`.
const EXAMPLES: &str = "\
Examples:
  make devnet                               # a local chain + Kubo, deployed and seeded; then no flags needed
  cairn config show                         # where every setting comes from
  cairn --account seller model list         # models on the devnet, as the seeded seller
  cairn --account buyer license buy 1       # buy a licence at the terms shown, after confirming
  cairn --account seller balance            # pull balances in every contract
  cairn --account seller withdraw --yes     # withdraw them all, no prompt
  cairn --account operator-0 operator show  # an operator's stake, signer and jobs
  cairn --json model show 1                 # machine-readable output

Settings come from flags, then CAIRN_* environment variables, then ~/.config/cairn/config.toml, then the
devnet started by `make devnet` when one is found in this directory or above.";

/// The Cairn market's command line.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
// A variant's help is its Args struct's doc comment, Examples included: a doc comment on the variant would
// replace it.
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Models: publish, publish a version, verify, pull, list, show, versions, update terms, set regions,
    /// deprecate.
    #[command(subcommand)]
    Model(cmd::model::ModelCommand),
    /// Licences: buy one at the terms you saw, or show yours.
    #[command(subcommand)]
    License(cmd::license::LicenseCommand),
    /// Operators (the stake owner's key): register and stake, add stake, unstake, withdraw stake, set the
    /// runner's hot signer, show. Earnings are pull balances: `cairn balance`, `cairn withdraw`.
    #[command(subcommand)]
    Operator(cmd::operator::OperatorCommand),
    /// Jobs (buyers): submit an input and pay, status, watch, fetch and check the result, challenge, cancel,
    /// reopen, finalize, list.
    #[command(subcommand)]
    Job(cmd::job::JobCommand),
    /// The auditors' record from cairn-indexer: a model, a job, an operator, an account's trail.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    Balance(cmd::balance::BalanceArgs),
    Withdraw(cmd::withdraw::WithdrawArgs),
    /// Keystores: new, import, address, list (cast-compatible).
    #[command(subcommand)]
    Wallet(cmd::wallet::WalletCommand),
    /// The resolved configuration.
    #[command(subcommand)]
    Config(cmd::config::ConfigCommand),
}

impl Cli {
    /// Runs the command.
    ///
    /// Errors: whatever the command reports; [`exit_code`] maps them to the process's exit status.
    pub async fn run(self) -> anyhow::Result<()> {
        let ctx = Context::new(self.global)?;
        match self.command {
            Command::Model(c) => c.run(&ctx).await,
            Command::License(c) => c.run(&ctx).await,
            Command::Operator(c) => c.run(&ctx).await,
            Command::Job(c) => c.run(&ctx).await,
            Command::Audit(c) => c.run(&ctx).await,
            Command::Balance(a) => a.run(&ctx).await,
            Command::Withdraw(a) => a.run(&ctx).await,
            Command::Wallet(c) => c.run(&ctx).await,
            Command::Config(c) => c.run(&ctx).await,
        }
    }
}

/// A usage mistake found after parsing (a value clap could not judge, e.g. a model id that is not a number
/// in a file). Exits 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status for a failed command: 2 for a [`UsageError`] anywhere in the chain, else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<UsageError>()) { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every command that runs something (a leaf) teaches by example in its `--help`.
    #[test]
    fn every_leaf_command_has_examples_in_its_help() {
        fn walk(cmd: &mut clap::Command, path: String, leaves: &mut Vec<(String, String)>) {
            let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_owned()).collect();
            if subs.is_empty() || subs == ["help"] {
                leaves.push((path, cmd.render_long_help().to_string()));
                return;
            }
            for name in subs.into_iter().filter(|n| n != "help") {
                let sub = cmd.find_subcommand_mut(&name).expect("listed");
                walk(sub, format!("{path} {name}"), leaves);
            }
        }
        let mut leaves = Vec::new();
        walk(&mut Cli::command(), "cairn".into(), &mut leaves);
        assert!(leaves.len() >= 19, "{}", leaves.len());
        for (path, help) in leaves {
            assert!(help.contains("Examples:"), "`{path} --help` has no Examples block:\n{help}");
        }
    }
}
