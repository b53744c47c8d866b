//! cairn-deploy against a real anvil (and the real solc adapter): the whole suite deployed, verified and
//! seeded; typed data signed in Rust accepted by the contracts; reverts decoded; read-only commands without
//! a key; an interrupted deployment resumed; interface versions refused; an operator acting through its hot
//! signer key only; the seeded stakes holding 50 jobs at once; a job and a model rebuilt from events alone.
//! (The artifacts' drift check is tested in the xtask.)

mod from_events;
mod hot_keys;
mod interface_version;
mod read_only;
mod resume;
mod reverts;
mod seed_capacity;
mod suite;
mod typed_on_chain;

use alloy::signers::local::PrivateKeySigner;
use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
};

/// anvil's public test account 0.
pub(crate) const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Deploy options writing into `dir`, recording this checkout's git commit.
pub(crate) fn options(dir: &std::path::Path, mode: Mode) -> Options {
    Options { dir: dir.to_path_buf(), mode, root: cairn_testkit::repo_root() }
}

/// A fresh anvil with the suite deployed (devnet defaults) and seeded.
pub(crate) struct Net {
    pub(crate) anvil: cairn_testkit::Anvil,
    pub(crate) deployer: Chain,
    pub(crate) deployments: Deployments,
}

impl Net {
    pub(crate) async fn start() -> Self {
        let anvil = cairn_testkit::Anvil::start().await.unwrap();
        let deployer =
            Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
        let config = DeployConfig::defaults("devnet").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut deployments =
            cairn_deploy::deploy::deploy(&deployer, &config, &options(dir.path(), Mode::New), &|_| {}).await.unwrap();
        cairn_deploy::seed::seed(&deployer, &mut deployments, &|_| {}).await.unwrap();
        Self { anvil, deployer, deployments }
    }

    /// A connection signing as the devnet actor `label` (see `cairn_deploy::seed`).
    pub(crate) async fn as_actor(&self, label: &str) -> Chain {
        self.as_key(cairn_deploy::seed::devnet_key(label)).await
    }

    pub(crate) async fn as_key(&self, key: PrivateKeySigner) -> Chain {
        let chain = Chain::connect(self.anvil.url(), key, ChainOptions::default()).await.unwrap();
        for (name, d) in &self.deployments.contracts {
            chain.name_address(d.address, name);
        }
        chain
    }

    pub(crate) fn address(&self, name: &str) -> alloy::primitives::Address {
        self.deployments.address(name).unwrap()
    }
}
