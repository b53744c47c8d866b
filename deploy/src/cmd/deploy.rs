use std::path::PathBuf;

use anyhow::Context as _;
use cairn_deploy::config::DeployConfig;
use clap::Args;

use super::ChainArgs;

/// Deploy the suite, wire roles and parameters, verify the code, write deployments/<chainId>.json.
///
/// Parameters come from a TOML file (every key optional; `deploy/config/example.toml` documents them all);
/// without one, the `devnet` profile's defaults apply. A network profile (`network = "base"`, …) checks the
/// chain id and refuses challenge windows below that L2's force-inclusion delay.
///
/// Examples:
///   CAIRN_PRIVATE_KEY=0xac09… cairn-deploy deploy                      # local anvil, devnet defaults
///   cairn-deploy deploy --rpc-url https://mainnet.base.org --config deploy/config/base.toml \
///       --keystore ~/.foundry/keystores/deployer --password-file ~/.deployer-pass
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct DeployArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Deploy configuration (TOML).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Folder for deployments/<chainId>.json.
    #[arg(long, default_value = "deployments")]
    deployments_dir: PathBuf,
    /// Repository root, for the git commit recorded in the deployments file.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Replace an existing deployments file of this chain.
    #[arg(long)]
    force: bool,
}

impl DeployArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let config = match &self.config {
            Some(p) => DeployConfig::load(p)?,
            None => DeployConfig::defaults("devnet")?,
        };
        let chain = self.chain.connect().await?;
        let path = cairn_chain::Deployments::path(&self.deployments_dir, chain.chain_id());
        if path.exists() && !self.force {
            anyhow::bail!(
                "{} exists: chain {} already has a deployment; pass --force to replace it",
                path.display(),
                chain.chain_id()
            );
        }
        super::say(&format!(
            "deploying to chain {} ({}) from {} with the `{}` profile",
            chain.chain_id(),
            chain.url(),
            chain.account(),
            config.network.name
        ));
        let root = super::find_root(self.root).unwrap_or_else(|_| PathBuf::from("."));
        let deployments =
            cairn_deploy::deploy::deploy(&chain, &config, &root, &super::say).await.context("deploying")?;
        let written = deployments.save(&self.deployments_dir)?;
        for (name, d) in &deployments.contracts {
            println!("{name:<22} {} (block {})", d.address, d.block);
        }
        super::say(&format!("wrote {}", written.display()));
        Ok(())
    }
}
