use std::path::PathBuf;

use anyhow::Context as _;
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
};
use clap::Args;

use super::ChainArgs;

/// Deploy the suite, wire roles and parameters, verify the code, write deployments/<chainId>.json.
///
/// Parameters come from a TOML file (every key optional; `deploy/config/example.toml` documents them all);
/// without one, the `devnet` profile's defaults apply. A network profile (`network = "base"`, …) checks the
/// chain id and refuses challenge windows below that L2's force-inclusion delay.
///
/// Each step is recorded in deployments/<chainId>.partial.json as soon as it is mined (each address is
/// printed too); deployments/<chainId>.json is written once everything is done. If a step fails (no
/// funds, a dropped RPC, a crash), fix the cause and run again with --resume: it refuses if the chain,
/// the deployer, the config or the artifacts changed, and otherwise skips every contract and setting the
/// chain already has, so nothing is deployed or sent twice.
///
/// Examples:
///   CAIRN_PRIVATE_KEY=0xac09… cairn-deploy deploy                      # local anvil, devnet defaults
///   cairn-deploy deploy --rpc-url https://mainnet.base.org --config deploy/config/base.toml \
///       --keystore ~/.foundry/keystores/deployer --password-file ~/.deployer-pass
///   cairn-deploy deploy --resume --rpc-url https://mainnet.base.org --config deploy/config/base.toml \
///       --keystore ~/.foundry/keystores/deployer --password-file ~/.deployer-pass   # after a failure
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct DeployArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Deploy configuration (TOML).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Folder for deployments/<chainId>.json (and <chainId>.partial.json while deploying).
    #[arg(long, default_value = "deployments")]
    deployments_dir: PathBuf,
    /// Repository root, for the git commit recorded in the deployments file.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Deploy a new suite even if this chain already has a complete or an interrupted deployment (its
    /// contracts are abandoned; the files are replaced).
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Finish the interrupted deployment in <chainId>.partial.json, with the same config, artifacts and key.
    #[arg(long)]
    resume: bool,
}

impl DeployArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let config = match &self.config {
            Some(p) => DeployConfig::load(p)?,
            None => DeployConfig::defaults("devnet")?,
        };
        let chain = self.chain.connect().await?;
        let mode = match (self.resume, self.force) {
            (true, _) => Mode::Resume,
            (false, true) => Mode::Force,
            (false, false) => Mode::New,
        };
        super::say(&format!(
            "{} chain {} ({}) from {} with the `{}` profile",
            if mode == Mode::Resume { "resuming the deployment to" } else { "deploying to" },
            chain.chain_id(),
            chain.url(),
            chain.account(),
            config.network.name
        ));
        let root = super::find_root(self.root).unwrap_or_else(|_| PathBuf::from("."));
        let options = Options { dir: self.deployments_dir.clone(), mode, root };
        let deployments =
            cairn_deploy::deploy::deploy(&chain, &config, &options, &super::say).await.context("deploying")?;
        for (name, d) in &deployments.contracts {
            println!("{name:<22} {} (block {})", d.address, d.block);
        }
        super::say(&format!(
            "deployments in {}",
            cairn_chain::Deployments::path(&self.deployments_dir, chain.chain_id()).display()
        ));
        Ok(())
    }
}
