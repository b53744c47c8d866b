//! The subcommands, one file each.

mod deploy;
mod seed;
mod verify;

use std::path::PathBuf;

use anyhow::Context as _;
use cairn_chain::{Chain, RpcArgs, SignerArgs};
use clap::{Args, Parser, Subcommand};

/// Deploy, verify and seed Cairn's contracts.
#[derive(Debug, Parser)]
#[command(name = "cairn-deploy", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Deploy(deploy::DeployArgs),
    Verify(verify::VerifyArgs),
    Seed(seed::SeedArgs),
}

impl Cli {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Deploy(a) => a.run().await,
            Command::Verify(a) => a.run().await,
            Command::Seed(a) => a.run().await,
        }
    }
}

/// Where the chain is and who signs: cairn-chain's shared `--rpc-url`/`--receipt-timeout` and
/// `--keystore`/`--password-file`/`--private-key-env` arguments.
#[derive(Debug, Args)]
pub(crate) struct ChainArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    signer: SignerArgs,
}

impl ChainArgs {
    /// A signing connection (the RPC is reached before the key is loaded).
    pub(crate) async fn connect(&self) -> anyhow::Result<Chain> {
        self.rpc.connect(&self.signer.source()).await.context("connecting")
    }
}

/// The repository root: `--root`, else the nearest ancestor of the current directory with a foundry.toml.
pub(crate) fn find_root(root: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(r) = root {
        return Ok(r);
    }
    let cwd = std::env::current_dir()?;
    cwd.ancestors().find(|d| d.join("foundry.toml").is_file()).map(PathBuf::from).with_context(|| {
        format!("no foundry.toml in {} or above; run inside the Cairn checkout or pass --root", cwd.display())
    })
}

pub(crate) fn say(line: &str) {
    eprintln!("==> {line}");
}
