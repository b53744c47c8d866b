use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::ChainArgs;

/// Fund and register devnet actors: a seller, a buyer, three staked operators (EU, US, JP) and five
/// opted-in verifiers, each operator and verifier with a funded hot signer key separate from its owner key
/// (the signer claims, submits and votes for it); DevToken (DUSD) deployed, accepted for jobs, 10,000 minted to
/// the buyer. Devnet chains only (the keys are derived from public labels).
///
/// Examples:
///   CAIRN_PRIVATE_KEY=0xac09… cairn-deploy seed --accounts-out .devnet/accounts.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct SeedArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Folder holding deployments/<chainId>.json.
    #[arg(long, default_value = "deployments")]
    deployments_dir: PathBuf,
    /// Where to write the actors (addresses and devnet keys) as JSON.
    #[arg(long, default_value = ".devnet/accounts.json")]
    accounts_out: PathBuf,
}

impl SeedArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let chain = self.chain.connect().await?;
        let mut deployments = chain.deployments(&self.deployments_dir).await?;
        let actors = cairn_deploy::seed::seed(&chain, &mut deployments, &super::say).await.context("seeding")?;
        deployments.save(&self.deployments_dir)?;
        if let Some(parent) = self.accounts_out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Devnet keys: owner-only, and never a half-written file for `make devnet` to read.
        let text = serde_json::to_string_pretty(&actors)? + "\n";
        cairn_primitives::fs::write_atomic_private(&self.accounts_out, text.as_bytes())
            .with_context(|| format!("writing {}", self.accounts_out.display()))?;
        super::say(&format!("{} actors ready; their devnet keys are in {}", actors.len(), self.accounts_out.display()));
        Ok(())
    }
}
