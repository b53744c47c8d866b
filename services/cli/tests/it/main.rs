//! `cairn` as its users run it: the real binary against a real anvil with the suite deployed and seeded, laid
//! out as `make devnet` lays it out (`.devnet/state.json`, `.devnet/accounts.json`, `deployments/`), so every
//! command runs with no flags; keystores checked against the real `cast`.

mod config;
mod jobs;
mod licenses;
mod models;
mod oms;
mod operators;
mod publish;
mod wallet;

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use alloy::{
    primitives::{Address, U256, keccak256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use cairn_bindings::ModelRegistry;
use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
    seed::devnet_key,
};
use cairn_protocol::{ModelManifest, Region, RegionMask, Runtime, typed};

/// anvil's public test account 0.
const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A devnet as `make devnet` leaves it, in a temporary checkout folder.
pub(crate) struct Devnet {
    pub(crate) anvil: cairn_testkit::Anvil,
    pub(crate) kubo: Option<cairn_testkit::Kubo>,
    pub(crate) root: tempfile::TempDir,
    pub(crate) deployer: Chain,
    pub(crate) deployments: Deployments,
}

impl Devnet {
    pub(crate) async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A devnet whose state names a running Kubo, as `make devnet`'s does.
    pub(crate) async fn with_kubo() -> Self {
        let kubo = cairn_testkit::Kubo::start().await.expect("start Kubo (run `make setup` first)");
        Self::start_with(Some(kubo)).await
    }

    async fn start_with(kubo: Option<cairn_testkit::Kubo>) -> Self {
        let anvil = cairn_testkit::Anvil::start().await.unwrap();
        let deployer =
            Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("deployments");
        let options = Options { dir: dir.clone(), mode: Mode::New, root: cairn_testkit::repo_root() };
        let config = DeployConfig::defaults("devnet").unwrap().with_audits_off();
        let mut deployments = cairn_deploy::deploy::deploy(&deployer, &config, &options, &|_| {}).await.unwrap();
        let actors = cairn_deploy::seed::seed(&deployer, &mut deployments, &|_| {}).await.unwrap();
        deployments.save(&dir).unwrap(); // with DevToken, as `cairn-deploy seed` saves it
        std::fs::create_dir_all(root.path().join(".devnet")).unwrap();
        std::fs::write(root.path().join(".devnet/accounts.json"), serde_json::to_vec_pretty(&actors).unwrap()).unwrap();
        let state = serde_json::json!({
            "chain_id": 31337,
            "anvil_url": anvil.url(),
            // Without a Kubo, a URL where nothing listens.
            "kubo_url": kubo.as_ref().map_or("http://127.0.0.1:9", |k| k.api_url()),
        });
        std::fs::write(root.path().join(".devnet/state.json"), state.to_string()).unwrap();
        Self { anvil, kubo, root, deployer, deployments }
    }

    pub(crate) fn address(&self, name: &str) -> Address {
        self.deployments.address(name).unwrap()
    }

    /// Runs `cairn args…` in the devnet's folder with a clean environment (no CAIRN_* of the caller, a
    /// private HOME so no user config is read).
    pub(crate) fn cairn(&self, args: &[&str]) -> Run {
        cairn_in(self.root.path(), args, &[])
    }

    /// Lists a model as `seller` with the given licence terms, paid in `token`.
    pub(crate) async fn register(&self, seller: &PrivateKeySigner, token: Address, license: (U256, u64)) -> U256 {
        let registry = ModelRegistry::new(self.address("ModelRegistry"), self.deployer.provider());
        let now = self.deployer.provider().get_block_number().await.unwrap();
        let block = self.deployer.provider().get_block_by_number(now.into()).await.unwrap().unwrap();
        let manifest = ModelManifest {
            seller: seller.address(),
            modelId: U256::ZERO,
            manifestCid: "bafkreimanifest".into(),
            manifestDigest: keccak256("manifest bytes"),
            weightsDigest: keccak256("weights"),
            runtime: Runtime::BertEmbedV1.id(),
            paymentToken: token,
            pricePerCall: U256::from(1_000u64),
            licensePrice: license.0,
            licensePeriod: license.1,
            regionMask: RegionMask::of([Region::Eu, Region::Us]).to_u256(),
            nonce: registry.nonces(seller.address()).call().await.unwrap(),
            deadline: block.header.timestamp + 3600,
        };
        let domain = typed::domain(self.deployer.chain_id(), self.address("ModelRegistry"));
        let signature = typed::sign(seller, &manifest, &domain).await.unwrap();
        let receipt = self
            .deployer
            .send("register", registry.register(manifest, signature.as_bytes().into()).into_transaction_request())
            .await
            .unwrap();
        receipt.decoded_log::<ModelRegistry::ModelRegistered>().unwrap().modelId
    }
}

/// The result of one run of the binary.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn of(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success and parses stdout as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "exit {}\nstdout: {}\nstderr: {}", self.code, self.stdout, self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// Asserts success.
    pub(crate) fn succeeds(&self) {
        assert_eq!(self.code, 0, "exit {}\nstdout: {}\nstderr: {}", self.code, self.stdout, self.stderr);
    }

    /// Asserts exit `code` and that stderr contains every one of `needles`.
    pub(crate) fn fails(&self, code: i32, needles: &[&str]) {
        assert_eq!(self.code, code, "exit {}\nstdout: {}\nstderr: {}", self.code, self.stdout, self.stderr);
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}: {}", self.stderr);
        }
    }
}

/// Runs the binary in `dir` with only `env` (plus PATH) set and a private HOME.
pub(crate) fn cairn_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = dir.join(".test-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args).current_dir(dir).env_clear().env("HOME", &home).env("PATH", std::env::var_os("PATH").unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::of(cmd.output().unwrap())
}

/// The real cast from the toolchain.
pub(crate) fn cast() -> PathBuf {
    cairn_testkit::tool("cast").unwrap()
}

pub(crate) fn buyer() -> PrivateKeySigner {
    devnet_key("buyer")
}

pub(crate) fn seller() -> PrivateKeySigner {
    devnet_key("seller")
}
