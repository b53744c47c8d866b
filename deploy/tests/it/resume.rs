//! `deploy` recording each step and `deploy --resume` finishing an interrupted deployment on a real anvil:
//! a deployer that runs out of funds after two contracts, a creation mined but never recorded, a crash after
//! the last transaction, and what a resume refuses.

use std::{path::PathBuf, sync::Mutex};

use alloy::{
    primitives::{Address, U256, utils::parse_ether},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use cairn_bindings::{
    BlockhashRandomness, JobMarket, JurorPool, ModelRegistry, OperatorRegistry, ReexecutionCommittee,
};
use cairn_chain::{Chain, ChainOptions, Deployments, Error as ChainError};
use cairn_deploy::{
    Error,
    config::DeployConfig,
    deploy::{Mode, SUITE, partial_path},
};
use serde_json::Value;

use crate::{ANVIL_KEY_0, options};

/// The owner the suite is handed to (anvil's account 1; it never signs here).
const OWNER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/// An ERC-20 accepted for jobs (setTokenConfig does not look at the address).
const TOKEN: &str = "0x00000000000000000000000000000000000000d5";

/// Devnet defaults, handed to [`OWNER`], with one token, and `extra` TOML.
fn config(extra: &str) -> DeployConfig {
    DeployConfig::from_toml(&format!(
        "owner = \"{OWNER}\"\n{extra}\n[[tokens]]\naddress = \"{TOKEN}\"\nbond_rate = 5\nmin_operator_fee = 7\n"
    ))
    .unwrap()
}

/// Transactions a complete deployment of [`config`] sends: seven creations, the market's authorisation, the
/// pool's committee, the desk as arbitrable, the desk's market, the audit pool's grant, the ETH and the token
/// config, six ownership hand-offs.
const ALL_TRANSACTIONS: u64 = 7 + 1 + 1 + 1 + 1 + 1 + 2 + 6;

/// A deployment whose deployer ran dry right after its second contract.
struct Interrupted {
    anvil: cairn_testkit::Anvil,
    chain: Chain,
    dir: tempfile::TempDir,
    config: DeployConfig,
    lines: Vec<String>,
}

impl Interrupted {
    async fn start() -> Self {
        let anvil = cairn_testkit::Anvil::start().await.unwrap();
        let key = PrivateKeySigner::random();
        let me = key.address();
        let chain = Chain::connect(anvil.url(), key, ChainOptions::default()).await.unwrap();
        set_balance(&chain, me, parse_ether("100").unwrap()).await;
        let dir = tempfile::tempdir().unwrap();
        let config = config("");
        let (cast, url) = (cairn_testkit::tool("cast").unwrap(), anvil.url().to_string());
        let lines = Mutex::new(Vec::new());
        let progress = |line: &str| {
            lines.lock().unwrap().push(line.to_string());
            // The balance goes to zero after the second contract: the third cannot be paid for.
            if line == "deploying BlockhashRandomness" {
                let status = std::process::Command::new(&cast)
                    .args(["rpc", "anvil_setBalance", &me.to_string(), "0x0", "--rpc-url", &url])
                    .stdout(std::process::Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        };
        let err = cairn_deploy::deploy::deploy(&chain, &config, &options(dir.path(), Mode::New), &progress)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Chain(ChainError::Unfunded { .. })), "{err}");
        let lines = lines.into_inner().unwrap();
        Self { anvil, chain, dir, config, lines }
    }

    fn partial_path(&self) -> PathBuf {
        partial_path(self.dir.path(), 31337)
    }

    fn partial(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.partial_path()).unwrap()).unwrap()
    }

    fn address(&self, name: &str) -> Address {
        self.partial()["contracts"][name]["address"].as_str().unwrap().parse().unwrap()
    }

    async fn deploy(&self, config: &DeployConfig, mode: Mode) -> cairn_deploy::Result<Deployments> {
        self.deploy_as(&self.chain, config, mode).await
    }

    async fn deploy_as(&self, chain: &Chain, config: &DeployConfig, mode: Mode) -> cairn_deploy::Result<Deployments> {
        cairn_deploy::deploy::deploy(chain, config, &options(self.dir.path(), mode), &|_| {}).await
    }

    async fn nonce(&self) -> u64 {
        self.chain.provider().get_transaction_count(self.chain.account()).await.unwrap()
    }

    async fn fund(&self) {
        set_balance(&self.chain, self.chain.account(), parse_ether("100").unwrap()).await;
    }
}

async fn set_balance(chain: &Chain, who: Address, wei: U256) {
    chain.provider().raw_request::<_, Value>("anvil_setBalance".into(), (who, wei)).await.unwrap();
}

/// Everything a complete deployment of [`config`] leaves on chain, checked by reading it.
async fn assert_fully_wired(chain: &Chain, d: &Deployments) {
    let p = chain.provider();
    let me = chain.account();
    let owner: Address = OWNER.parse().unwrap();
    let addr = |name: &str| d.address(name).unwrap();
    let registry = OperatorRegistry::new(addr("OperatorRegistry"), p);
    let committee = ReexecutionCommittee::new(addr("ReexecutionCommittee"), p);
    let models = ModelRegistry::new(addr("ModelRegistry"), p);
    let market = JobMarket::new(addr("JobMarket"), p);
    assert!(registry.authorised(addr("JobMarket")).call().await.unwrap());
    assert!(!registry.authorised(addr("ReexecutionCommittee")).call().await.unwrap());
    let pool = JurorPool::new(addr("JurorPool"), p);
    assert_eq!(pool.committee().call().await.unwrap(), addr("ReexecutionCommittee"));
    assert_eq!((pool.owner().call().await.unwrap(), pool.pendingOwner().call().await.unwrap()), (me, owner));
    assert!(committee.arbitrable(addr("DisputeDesk")).call().await.unwrap());
    let desk = cairn_bindings::DisputeDesk::new(addr("DisputeDesk"), p);
    assert_eq!(desk.market().call().await.unwrap(), addr("JobMarket"));
    assert_eq!((desk.owner().call().await.unwrap(), desk.pendingOwner().call().await.unwrap()), (me, owner));
    assert_eq!(
        market.tokenConfig(Address::ZERO).call().await.unwrap().minOperatorFee,
        U256::from(1_000_000_000_000u64)
    );
    let token = market.tokenConfig(TOKEN.parse().unwrap()).call().await.unwrap();
    assert_eq!((token.bondRate, token.minOperatorFee), (U256::from(5), U256::from(7)));
    // Ownable2Step: the deployer still owns each contract until the configured owner accepts.
    assert_eq!((registry.owner().call().await.unwrap(), registry.pendingOwner().call().await.unwrap()), (me, owner));
    assert_eq!((committee.owner().call().await.unwrap(), committee.pendingOwner().call().await.unwrap()), (me, owner));
    assert_eq!((models.owner().call().await.unwrap(), models.pendingOwner().call().await.unwrap()), (me, owner));
    assert_eq!((market.owner().call().await.unwrap(), market.pendingOwner().call().await.unwrap()), (me, owner));
    assert_eq!(d.owner, owner);
    assert_eq!(d.deployer, me);
}

#[tokio::test]
async fn an_interrupted_deploy_resumes_with_one_copy_of_each_contract() {
    let t = Interrupted::start().await;
    let me = t.chain.account();

    // The two contracts mined before the failure are recorded and were printed, each at the deployer's next
    // creation address; the third is pending, its nonce unused.
    let partial = t.partial();
    assert_eq!(partial["complete"], false);
    let recorded: Vec<&String> = partial["contracts"].as_object().unwrap().keys().collect();
    assert_eq!(recorded, ["JurorPool", "OperatorRegistry"]);
    let first_two = [t.address("OperatorRegistry"), t.address("JurorPool")];
    assert_eq!(first_two, [me.create(0), me.create(1)]);
    for (name, address) in SUITE.iter().zip(first_two) {
        assert!(t.lines.iter().any(|l| l.starts_with(&format!("{name} deployed at {address}"))), "{:?}", t.lines);
    }
    assert_eq!(partial["pending"]["contract"], "BlockhashRandomness");
    assert_eq!(partial["pending"]["nonce"], 2);
    assert_eq!(t.nonce().await, 2);
    assert!(!Deployments::path(t.dir.path(), 31337).exists(), "no complete file for a half-deployed suite");

    // A plain deploy refuses to start another suite over it, and sends nothing.
    let err = t.deploy(&t.config, Mode::New).await.unwrap_err();
    assert!(matches!(&err, Error::Interrupted { contracts, .. } if contracts.len() == 2), "{err}");
    assert!(err.to_string().contains("--resume"), "{err}");

    t.fund().await;
    let d = t.deploy(&t.config, Mode::Resume).await.unwrap();

    // Exactly one copy of each contract: every transaction of the deployer is accounted for, each contract is
    // at the creation address of its place in the order, and the first two did not move.
    assert_eq!(t.nonce().await, ALL_TRANSACTIONS);
    for (i, name) in SUITE.iter().enumerate() {
        assert_eq!(d.address(name).unwrap(), me.create(i as u64), "{name}");
    }
    assert_eq!(d.contracts.len(), 7);
    assert_eq!(d.deployment_block, d.contracts["OperatorRegistry"].block);
    assert_fully_wired(&t.chain, &d).await;
    let saved = Deployments::load(t.dir.path(), 31337).unwrap();
    assert_eq!(saved, d);
    cairn_deploy::deploy::verify(&t.chain, &saved).await.unwrap();
    assert!(!t.partial_path().exists(), "the partial file is gone once the complete one is written");

    // Resuming a complete deployment checks it and sends nothing; the file is left as it is.
    let bytes = std::fs::read(Deployments::path(t.dir.path(), 31337)).unwrap();
    let again = t.deploy(&t.config, Mode::Resume).await.unwrap();
    assert_eq!(again, d);
    assert_eq!(t.nonce().await, ALL_TRANSACTIONS);
    assert_eq!(std::fs::read(Deployments::path(t.dir.path(), 31337)).unwrap(), bytes);
    // And a plain deploy refuses to replace it.
    let err = t.deploy(&t.config, Mode::New).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyDeployed { .. }), "{err}");
    // --force deploys a new suite and replaces the file.
    let fresh = t.deploy(&t.config, Mode::Force).await.unwrap();
    assert_eq!(fresh.address("OperatorRegistry").unwrap(), me.create(ALL_TRANSACTIONS));
    assert_eq!(t.nonce().await, 2 * ALL_TRANSACTIONS);
    assert_eq!(Deployments::load(t.dir.path(), 31337).unwrap(), fresh);
}

#[tokio::test]
async fn a_creation_mined_but_never_recorded_is_adopted_not_repeated() {
    let t = Interrupted::start().await;
    t.fund().await;
    // What a run that crashed between the receipt and the file write leaves: the pending creation was mined
    // (sent here with the same nonce), the partial file never learned its address.
    let me = t.chain.account();
    let tx = BlockhashRandomness::deploy_builder(t.chain.provider()).into_transaction_request();
    let mined = t.chain.deploy("BlockhashRandomness", tx).await.unwrap();
    assert_eq!(mined.address, me.create(2));
    assert!(t.partial()["contracts"].get("BlockhashRandomness").is_none());

    let d = t.deploy(&t.config, Mode::Resume).await.unwrap();
    assert_eq!(d.contracts["BlockhashRandomness"], mined, "adopted with its own block and transaction");
    assert_eq!(t.nonce().await, ALL_TRANSACTIONS, "nothing deployed twice");
    for (i, name) in SUITE.iter().enumerate() {
        assert_eq!(d.address(name).unwrap(), me.create(i as u64), "{name}");
    }
    assert_fully_wired(&t.chain, &d).await;
    cairn_deploy::deploy::verify(&t.chain, &d).await.unwrap();
}

#[tokio::test]
async fn resume_refuses_changed_inputs_another_deployer_and_another_chain() {
    let t = Interrupted::start().await;
    t.fund().await;
    let before = std::fs::read(t.partial_path()).unwrap();
    let unchanged = |t: &Interrupted| assert_eq!(std::fs::read(t.partial_path()).unwrap(), before);

    // The config changed.
    let err = t.deploy(&config("[market]\nfee_bps = 250"), Mode::Resume).await.unwrap_err();
    assert!(matches!(&err, Error::ResumeRefused { problems, .. } if problems.len() == 1), "{err}");
    let text = err.to_string();
    assert!(text.contains("the config changed") && text.contains("market.fee_bps: 500 → 250"), "{text}");
    assert!(text.contains("--force") && text.contains("nothing was sent"), "{text}");
    assert_eq!(t.nonce().await, 2);
    unchanged(&t);

    // An artifact changed (the partial file recorded another JobMarket creation code).
    let mut tampered = t.partial();
    tampered["artifactsSha256"]["JobMarket"] = "00".repeat(32).into();
    std::fs::write(t.partial_path(), serde_json::to_vec(&tampered).unwrap()).unwrap();
    let err = t.deploy(&t.config, Mode::Resume).await.unwrap_err();
    assert!(err.to_string().contains("the committed artifact of JobMarket changed"), "{err}");
    assert_eq!(t.nonce().await, 2);
    std::fs::write(t.partial_path(), &before).unwrap();

    // Another deployer.
    let other = Chain::connect(t.anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
    let err = t.deploy_as(&other, &t.config, Mode::Resume).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("started by deployer {}", t.chain.account())), "{text}");
    assert_eq!(other.provider().get_transaction_count(other.account()).await.unwrap(), 0);
    unchanged(&t);

    // Another chain: the record of chain 31337 under the name of chain 4242.
    let elsewhere = cairn_testkit::Anvil::start_with(4242, &[]).await.unwrap();
    let on_4242 = Chain::connect(elsewhere.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
    std::fs::copy(t.partial_path(), partial_path(t.dir.path(), 4242)).unwrap();
    let custom = DeployConfig::from_toml(&format!(
        "network = \"custom\"\nowner = \"{OWNER}\"\n[[tokens]]\naddress = \"{TOKEN}\"\nbond_rate = 5\nmin_operator_fee = 7\n"
    ))
    .unwrap();
    let err = t.deploy_as(&on_4242, &custom, Mode::Resume).await.unwrap_err();
    assert!(err.to_string().contains("it records chain 31337, but the RPC"), "{err}");
    assert_eq!(on_4242.provider().get_transaction_count(on_4242.account()).await.unwrap(), 0);

    // With the inputs it began with, the same deployment resumes.
    t.deploy(&t.config, Mode::Resume).await.unwrap();
    assert_eq!(t.nonce().await, ALL_TRANSACTIONS);
}

#[tokio::test]
async fn a_journal_of_another_interface_version_is_never_resumed() {
    let t = Interrupted::start().await;
    t.fund().await;
    assert_eq!(
        t.partial()["interfaceVersion"],
        cairn_chain::INTERFACE_VERSION,
        "the journal records the version it deploys"
    );

    // A journal written by a cairn-deploy of interface version 1 (it has no `interfaceVersion`).
    let mut v1 = t.partial();
    v1.as_object_mut().unwrap().remove("interfaceVersion");
    std::fs::write(t.partial_path(), serde_json::to_vec(&v1).unwrap()).unwrap();
    let err = t.deploy(&t.config, Mode::Resume).await.unwrap_err();
    assert!(matches!(&err, Error::JournalVersion { found: None, contracts, .. } if contracts.len() == 2), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the interrupted deployment recorded there (JurorPool, OperatorRegistry) is of Cairn \
             interface version 1 (it records no `interfaceVersion`), but this cairn-deploy deploys interface version \
             {}, so it cannot be resumed; nothing was sent. Start over with --force (new contracts; those recorded are \
             abandoned), or finish it with the cairn-deploy it was started with",
            t.partial_path().display(),
            cairn_chain::INTERFACE_VERSION
        )
    );
    // A plain deploy refuses it the same way.
    let err = t.deploy(&t.config, Mode::New).await.unwrap_err();
    assert!(matches!(err, Error::JournalVersion { .. }), "{err}");

    // A later version's journal, in a layout this cairn-deploy cannot read: named by its version, not as a
    // broken file.
    let later = cairn_chain::INTERFACE_VERSION + 1;
    let mut newer = v1.clone();
    newer["interfaceVersion"] = later.into();
    newer["steps"] = serde_json::json!([{"what": "something new"}]);
    newer.as_object_mut().unwrap().remove("configSha256");
    std::fs::write(t.partial_path(), serde_json::to_vec(&newer).unwrap()).unwrap();
    let err = t.deploy(&t.config, Mode::Resume).await.unwrap_err();
    assert!(matches!(err, Error::JournalVersion { found: Some(f), .. } if f == later), "{err}");
    assert_eq!(t.nonce().await, 2, "nothing was sent");

    // --force starts over with new contracts of this version.
    let d = t.deploy(&t.config, Mode::Force).await.unwrap();
    assert_eq!(d.interface_version, cairn_chain::INTERFACE_VERSION);
    assert_eq!(t.nonce().await, 2 + ALL_TRANSACTIONS);
    assert!(!t.partial_path().exists());
}

#[tokio::test]
async fn a_resume_after_the_last_transaction_sends_nothing() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config("");
    // A crash after every transaction is mined, before the complete file is written.
    let crashed = {
        let (config, options) = (config.clone(), options(dir.path(), Mode::New));
        let url = anvil.url().to_string();
        tokio::spawn(async move {
            let chain = Chain::connect(&url, ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
            let crash = |line: &str| assert!(!line.starts_with("verifying"), "simulated crash");
            cairn_deploy::deploy::deploy(&chain, &config, &options, &crash).await
        })
        .await
    };
    assert!(crashed.unwrap_err().is_panic());
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), ALL_TRANSACTIONS);
    assert!(!Deployments::path(dir.path(), 31337).exists());

    let lines = Mutex::new(Vec::new());
    let progress = |line: &str| lines.lock().unwrap().push(line.to_string());
    let d = cairn_deploy::deploy::deploy(&chain, &config, &options(dir.path(), Mode::Resume), &progress).await.unwrap();
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), ALL_TRANSACTIONS);
    let lines = lines.into_inner().unwrap();
    assert_eq!(lines.iter().filter(|l| l.ends_with("already done")).count(), 13, "{lines:#?}");
    assert!(lines.iter().any(|l| l == "deployment complete: 0 transaction(s) sent by this run"), "{lines:#?}");
    assert_fully_wired(&chain, &d).await;
    assert_eq!(Deployments::load(dir.path(), 31337).unwrap(), d);
    assert!(!partial_path(dir.path(), 31337).exists());
}
