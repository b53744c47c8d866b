use std::path::PathBuf;

use anyhow::Context as _;
use cairn_chain::RpcArgs;
use clap::Args;

/// Check that every address in deployments/<chainId>.json holds the committed artifact's code, and that the
/// file and every Cairn contract in it speak this client's interface version (`interfaceVersion()`).
///
/// A deployment of another interface version (a file without `interfaceVersion` is version 1) is refused with
/// what was found; redeploy with `cairn-deploy deploy --force` (`make devnet` locally) or use a matching client.
/// Read-only: no key is needed.
///
/// Examples:
///   cairn-deploy verify                                  # local anvil
///   cairn-deploy verify --rpc-url https://sepolia.base.org
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Folder holding deployments/<chainId>.json.
    #[arg(long, default_value = "deployments")]
    deployments_dir: PathBuf,
}

impl VerifyArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let chain = self.rpc.connect_read_only().await.context("connecting")?;
        let deployments = chain.deployments(&self.deployments_dir).await?;
        cairn_deploy::deploy::verify(&chain, &deployments).await?;
        super::say(&format!(
            "{} contracts on chain {} match their artifacts",
            deployments.contracts.len(),
            chain.chain_id()
        ));
        Ok(())
    }
}
