//! Integration tests of cairn-indexer against a real anvil (and Kubo, SQLite, PostgreSQL).

mod api;
mod api_market;
mod compare;
mod crash;
mod drive;
mod r#gen;
mod lifecycle;
mod postgres;
mod reorg;
mod smoke;
mod undecodable;
mod ws;

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
};
use cairn_indexer::{
    follower::{Follower, FollowerOptions},
    metrics::Metrics,
    store::Store,
};

/// `Follower::sync` with a deadline: a follower that never catches up (a livelock between reorg and refetch)
/// fails its test with a message instead of hanging the suite. Returns the head it synced to.
pub(crate) async fn sync(follower: &Follower) -> u64 {
    tokio::time::timeout(std::time::Duration::from_secs(180), follower.sync())
        .await
        .expect("the follower did not catch up with the chain within 180 s (a livelock?)")
        .unwrap()
}

pub(crate) const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A deployed and seeded devnet.
pub(crate) struct Net {
    pub(crate) anvil: cairn_testkit::Anvil,
    pub(crate) deployer: Chain,
    pub(crate) deployments: Deployments,
    _dir: tempfile::TempDir,
}

impl Net {
    pub(crate) async fn start() -> Self {
        let anvil = cairn_testkit::Anvil::start().await.unwrap();
        let deployer =
            Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
        let config = DeployConfig::defaults("devnet").unwrap().with_audits_off();
        let dir = tempfile::tempdir().unwrap();
        let options = Options { dir: dir.path().to_path_buf(), mode: Mode::New, root: cairn_testkit::repo_root() };
        let mut deployments = cairn_deploy::deploy::deploy(&deployer, &config, &options, &|_| {}).await.unwrap();
        cairn_deploy::seed::seed(&deployer, &mut deployments, &|_| {}).await.unwrap();
        Self { anvil, deployer, deployments, _dir: dir }
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

    /// A follower of this net into `db`, polling fast.
    pub(crate) async fn follower(&self, db: &str) -> Follower {
        self.follower_with(db, Arc::new(Metrics::new())).await
    }

    /// [`Net::follower`] reporting into `metrics` (shared with an API under test).
    pub(crate) async fn follower_with(&self, db: &str, metrics: Arc<Metrics>) -> Follower {
        let opts = FollowerOptions { poll_interval: std::time::Duration::from_millis(50), ..Default::default() };
        self.follower_at(self.anvil.url(), db, opts, metrics).await
    }

    /// A follower of this net's deployment through `rpc_url` (a proxy, a `ws://` URL) into `db`.
    pub(crate) async fn follower_at(
        &self,
        rpc_url: &str,
        db: &str,
        opts: FollowerOptions,
        metrics: Arc<Metrics>,
    ) -> Follower {
        let store = Store::open(db).await.unwrap();
        Follower::new(store, rpc_url, &self.deployments, opts, metrics).await.unwrap()
    }
}

/// A fresh SQLite file URL in `dir`.
pub(crate) fn sqlite_url(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}", dir.path().join(name).display())
}
