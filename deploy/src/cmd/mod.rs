//! The subcommands, one file each.

mod deploy;
mod seed;
mod verify;

use std::path::PathBuf;

use anyhow::Context as _;
use cairn_chain::{Chain, ChainOptions, PasswordSource, SignerSource};
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

/// Where the chain is and who signs.
#[derive(Debug, Args)]
pub(crate) struct ChainArgs {
    /// JSON-RPC endpoint: http(s):// or ws(s)://.
    #[arg(long, env = "CAIRN_RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Web3 Secret Storage keystore of the sending account (as `cast wallet new` writes). Without it the key
    /// is read from the environment variable named by --private-key-env (development only).
    #[arg(long, env = "CAIRN_KEYSTORE")]
    keystore: Option<PathBuf>,
    /// File whose first line is the keystore's password; without it you are prompted.
    #[arg(long, env = "CAIRN_PASSWORD_FILE", requires = "keystore")]
    password_file: Option<PathBuf>,
    /// Environment variable holding a hex private key, used when no --keystore is given.
    #[arg(long, default_value = "CAIRN_PRIVATE_KEY")]
    private_key_env: String,
    /// Seconds to wait for each transaction's receipt.
    #[arg(long, default_value_t = 120)]
    receipt_timeout: u64,
}

impl ChainArgs {
    pub(crate) async fn connect(&self) -> anyhow::Result<Chain> {
        let source = match &self.keystore {
            Some(path) => SignerSource::Keystore {
                path: path.clone(),
                password: self.password_file.clone().map_or(PasswordSource::Prompt, PasswordSource::File),
            },
            None => SignerSource::Env(self.private_key_env.clone()),
        };
        let signer = source.load()?;
        let options = ChainOptions {
            receipt_timeout: std::time::Duration::from_secs(self.receipt_timeout),
            ..Default::default()
        };
        Chain::connect(&self.rpc_url, signer, options).await.context("connecting")
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
