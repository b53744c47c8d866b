//! Deploying the suite in order, wiring roles and parameters, handing ownership over, verifying the code at
//! each address, and writing `deployments/<chainId>.json` — resumably.
//!
//! Every step is recorded as it happens in `deployments/<chainId>.partial.json` (a [`Journal`], marked
//! `"complete": false`), written durably with [`cairn_primitives::fs::write_atomic`]:
//! - before a creation transaction is sent: the contract and the deployer nonce it will use
//!   ([`PendingCreation`]);
//! - once it is mined: the contract's address, block and transaction (and the address is printed).
//!
//! The complete `<chainId>.json` is written last and the partial file removed, so readers of `<chainId>.json`
//! never see a half-wired suite.
//!
//! [`Mode::Resume`] (`deploy --resume`) continues from the partial file. Before sending anything it refuses
//! when the chain, the deployer, the config or the artifacts differ from what the file recorded when the
//! deployment began, or when a recorded address does not hold the artifact's code. It then judges every
//! remaining step by the chain's state, never by the file: a creation that was mined but not recorded (a
//! crash between the receipt and the write) is found at `create(deployer, nonce)` and adopted; roles,
//! parameters and ownership hand-offs already in place are not sent again. A resume after a crash anywhere
//! therefore ends with one copy of each contract and each setting applied once.
//!
//! Both files record the interface version of the contracts ([`INTERFACE_VERSION`]): a journal of another
//! version is never resumed ([`Error::JournalVersion`]), and [`verify`] — run at the end of every deployment
//! and by `cairn-deploy verify` — reads `interfaceVersion()` of every contract that declares it and refuses
//! one that differs from the file and this client.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use alloy::{
    consensus::Transaction as ConsensusTransaction,
    network::TransactionResponse,
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use cairn_bindings::{
    BlockhashRandomness, DisputeDesk, JobMarket, JurorPool, ModelRegistry, OperatorRegistry, ReexecutionCommittee,
    job_market,
};
use cairn_chain::{Chain, Deployments, INTERFACE_VERSION, deployments::Deployed};
use cairn_primitives::Sha256Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    Error, Result,
    config::{
        Amount, AuditParams, CommitteeParams, DeployConfig, JurorParams, MarketParams, OperatorParams, TokenSetting,
    },
};

/// Progress lines go through this (the binary prints them; tests stay quiet).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// What [`deploy`] does with an earlier deployment of the same chain in the deployments folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Deploy a new suite; refuse when a complete or an interrupted deployment of the chain is recorded.
    New,
    /// Deploy a new suite whatever is recorded (`--force`): the records are replaced when the new suite is
    /// done, and the contracts they name are abandoned (they stay on chain, unused).
    Force,
    /// Finish the interrupted deployment recorded in `<chainId>.partial.json` (`--resume`). When only a
    /// complete `<chainId>.json` exists, its code is verified and nothing is sent (that file records no
    /// config or artifact digests, so a changed config is not detected there).
    Resume,
}

/// Where [`deploy`] keeps its records and how it treats earlier ones.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder of `<chainId>.json` and `<chainId>.partial.json` (created when missing).
    pub dir: PathBuf,
    /// What to do with an earlier deployment recorded there.
    pub mode: Mode,
    /// Repository root, for the git commit recorded in the deployments file.
    pub root: PathBuf,
}

/// `dir/<chainId>.partial.json`: the [`Journal`] of a deployment that is running or was interrupted.
pub fn partial_path(dir: &Path, chain_id: u64) -> PathBuf {
    dir.join(format!("{chain_id}.partial.json"))
}

/// The contracts [`deploy`] creates, in deployment order (`BlockhashRandomness` only when the config names
/// no `randomness`).
pub const SUITE: [&str; 7] = [
    "OperatorRegistry",
    "JurorPool",
    "BlockhashRandomness",
    "ReexecutionCommittee",
    "DisputeDesk",
    "ModelRegistry",
    "JobMarket",
];

/// `<chainId>.partial.json`: what a deployment has done so far, and what it was started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    /// Always `false`: the suite is not usable yet (a reader mistaking this file for `<chainId>.json` can tell;
    /// `Deployments::load` refuses it).
    pub complete: bool,
    /// The interface version of the contracts being deployed ([`INTERFACE_VERSION`]; a journal without it was
    /// written by a cairn-deploy of version 1). Only a journal of this version is resumed.
    pub interface_version: u16,
    /// The chain.
    pub chain_id: u64,
    /// The signing account that deploys and, until the hand-off, owns the contracts.
    pub deployer: Address,
    /// The owner the contracts are handed to (the config's `owner`, else the deployer).
    pub owner: Address,
    /// `git rev-parse HEAD` when the deployment began, with `-dirty` when the sources had uncommitted changes.
    pub git_commit: String,
    /// Compiler and settings, as recorded in the artifacts.
    pub compiler: Value,
    /// sha256 of [`Journal::config`] as compact JSON: the config the deployment was started with.
    pub config_sha256: Sha256Digest,
    /// That config as parsed, every default filled in ([`normalised_config`]), so a refusal can name what
    /// changed.
    pub config: Value,
    /// sha256 of the creation code of each contract to deploy, from the committed artifacts.
    pub artifacts_sha256: BTreeMap<String, Sha256Digest>,
    /// The creation transaction being sent, written before it is sent and cleared once it is recorded.
    #[serde(default)]
    pub pending: Option<PendingCreation>,
    /// The contracts deployed so far, by name.
    pub contracts: BTreeMap<String, Deployed>,
}

/// A creation about to be sent: if its nonce is used when the deployment resumes, the contract may be at
/// `create(deployer, nonce)` without being in [`Journal::contracts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingCreation {
    /// The contract.
    pub contract: String,
    /// The deployer's nonce for it (its pending transaction count just before sending).
    pub nonce: u64,
    /// The latest block just before sending: the transaction, if mined, is in a later block.
    pub from_block: u64,
}

impl Journal {
    /// Reads `path`; `None` when there is no such file. A journal of another interface version than
    /// [`INTERFACE_VERSION`] (none recorded: version 1) is [`Error::JournalVersion`], whatever else it holds.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let bad = |e: serde_json::Error| Error::BadPartial { path: path.to_path_buf(), detail: e.to_string() };
        let value: Value = serde_json::from_str(&text).map_err(bad)?;
        let found = match value.get("interfaceVersion") {
            None => None,
            Some(v) => Some(v.as_u64().and_then(|v| u16::try_from(v).ok()).ok_or_else(|| Error::BadPartial {
                path: path.to_path_buf(),
                detail: format!("`interfaceVersion` is {v}, not a version number (0 to 65535)"),
            })?),
        };
        if found != Some(INTERFACE_VERSION) {
            let contracts = value["contracts"].as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default();
            return Err(Error::JournalVersion { path: path.to_path_buf(), found, contracts });
        }
        serde_json::from_value(value).map(Some).map_err(bad)
    }

    /// Writes it to `path` atomically and durably (creating the folder).
    fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut text = serde_json::to_string_pretty(self).expect("a journal always serialises");
        text.push('\n');
        cairn_primitives::fs::write_atomic(path, text.as_bytes()).map_err(|e| Error::io(path, e))
    }

    /// Every contract recorded, as `Name at 0x…` in deployment order.
    fn recorded(&self) -> Vec<String> {
        SUITE.iter().filter_map(|name| self.contracts.get(*name).map(|d| format!("{name} at {}", d.address))).collect()
    }
}

/// Deploys `name` from its creation transaction, records it in `contracts`, prints its address and returns it.
pub(crate) async fn deploy_into(
    chain: &Chain,
    contracts: &mut BTreeMap<String, Deployed>,
    name: &str,
    tx: TransactionRequest,
    progress: Progress<'_>,
) -> Result<Address> {
    progress(&format!("deploying {name}"));
    let deployed = chain.deploy(name, tx).await?;
    let address = deployed.address;
    progress(&format!("{name} deployed at {address} (block {}, tx {})", deployed.block, deployed.tx));
    contracts.insert(name.to_string(), deployed);
    Ok(address)
}

/// `git rev-parse HEAD` of `root`, `-dirty` when `contracts/` or `foundry.toml` has uncommitted changes,
/// `unknown` outside git. `git` runs on tokio's blocking pool, never on the async runtime's threads.
pub async fn git_commit(root: &Path) -> String {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || git_commit_blocking(&root)).await.unwrap_or_else(|_| "unknown".into())
}

fn git_commit_blocking(root: &Path) -> String {
    let run =
        |args: &[&str]| Command::new("git").args(args).current_dir(root).output().ok().filter(|o| o.status.success());
    let Some(head) = run(&["rev-parse", "HEAD"]) else { return "unknown".into() };
    let mut commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
    if run(&["status", "--porcelain", "--", "contracts", "foundry.toml"]).is_some_and(|o| !o.stdout.is_empty()) {
        commit.push_str("-dirty");
    }
    commit
}

/// The config as the deployment uses it (the TOML parsed, the profile's defaults filled in), as JSON with
/// amounts in wei (decimal strings) and durations in seconds; its sha256 is [`Journal::config_sha256`].
pub fn normalised_config(config: &DeployConfig) -> Value {
    // Destructured without `..`: a new config field does not compile until it is part of the record.
    let DeployConfig {
        network,
        owner,
        treasury,
        randomness,
        operators,
        jurors: pool,
        committee,
        market,
        audits,
        tokens,
    } = config;
    let AuditParams { safety_bps, min_rate_bps, pool_grant } = audits;
    let OperatorParams { min_stake, unbonding_delay } = operators;
    let JurorParams { seat_size, maturity, withdrawal_delay } = pool;
    let CommitteeParams {
        jurors,
        fee,
        commit_period,
        reveal_period,
        keeper_reward,
        non_reveal_penalty,
        audit_reserve_seats,
        appeal_period,
        coherence_penalty,
        canary_key,
    } = committee;
    let MarketParams {
        fee_bps,
        bond_bps,
        claim_penalty_bps,
        burn_bps,
        claim_timeout,
        challenge_window,
        max_deadline,
        bond_floor,
        challenge_bond,
        eth_min_operator_fee,
    } = market;
    let wei = |a: &Amount| a.0.to_string();
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|TokenSetting { address, bond_rate, min_operator_fee }| {
            json!({"address": address, "bond_rate": wei(bond_rate), "min_operator_fee": wei(min_operator_fee)})
        })
        .collect();
    let mut value = json!({
        "network": network.name,
        "owner": owner,
        "treasury": treasury,
        "randomness": randomness,
        "operators": {
            "min_stake": wei(min_stake),
            "unbonding_delay": unbonding_delay.0,
        },
        "jurors": {
            "seat_size": wei(seat_size),
            "maturity": maturity.0,
            "withdrawal_delay": withdrawal_delay.0,
        },
        "committee": {
            "jurors": jurors,
            "fee": wei(fee),
            "commit_period": commit_period.0,
            "reveal_period": reveal_period.0,
            "keeper_reward": wei(keeper_reward),
            "non_reveal_penalty": wei(non_reveal_penalty),
            "audit_reserve_seats": audit_reserve_seats,
            "appeal_period": appeal_period.0,
            "coherence_penalty": wei(coherence_penalty),
        },
        "market": {
            "fee_bps": fee_bps,
            "bond_bps": bond_bps,
            "claim_penalty_bps": claim_penalty_bps,
            "burn_bps": burn_bps,
            "claim_timeout": claim_timeout.0,
            "challenge_window": challenge_window.0,
            "max_deadline": max_deadline.0,
            "bond_floor": wei(bond_floor),
            "challenge_bond": wei(challenge_bond),
            "eth_min_operator_fee": wei(eth_min_operator_fee),
        },
        "audits": {
            "safety_bps": safety_bps,
            "min_rate_bps": min_rate_bps,
            "pool_grant": wei(pool_grant),
        },
        "tokens": tokens,
    });
    // Only when set, so the digest of a config without it (every deployment before canaries) stays the same.
    if let Some(key) = canary_key {
        value["committee"]["canary_key"] = json!(key);
    }
    value
}

fn digest_of(value: &Value) -> Sha256Digest {
    Sha256Digest::of(&serde_json::to_vec(value).expect("JSON values always serialise"))
}

/// `path → value` for every leaf of `value` (`market.fee_bps`, `tokens[0].address`).
fn leaves(prefix: String, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaves(format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix, s.clone());
        }
        other => {
            out.insert(prefix, other.to_string());
        }
    }
}

/// `key: recorded → now` for each setting that differs.
fn config_changes(recorded: &Value, now: &Value) -> Vec<String> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    leaves(String::new(), recorded, &mut a);
    leaves(String::new(), now, &mut b);
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let absent = "(absent)".to_string();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {} → {}", a.get(k).unwrap_or(&absent), b.get(k).unwrap_or(&absent)))
        .collect()
}

/// The journal a new deployment of `config` by `chain`'s account starts with.
async fn new_journal(chain: &Chain, config: &DeployConfig, root: &Path) -> Result<Journal> {
    let config_value = normalised_config(config);
    let mut artifacts_sha256 = BTreeMap::new();
    for name in SUITE.into_iter().filter(|n| *n != "BlockhashRandomness" || config.randomness.is_none()) {
        let artifact = cairn_bindings::artifact(name)
            .ok_or_else(|| Error::Config(format!("no committed artifact for `{name}`; regenerate the artifacts")))?;
        artifacts_sha256.insert(name.to_string(), Sha256Digest::of(&artifact.bytecode));
    }
    let compiler = serde_json::from_str::<Value>(cairn_bindings::ARTIFACTS[0].json)
        .map(|v| v["compiler"].clone())
        .unwrap_or_default();
    Ok(Journal {
        complete: false,
        interface_version: INTERFACE_VERSION,
        chain_id: chain.chain_id(),
        deployer: chain.account(),
        owner: config.owner.unwrap_or(chain.account()),
        git_commit: git_commit(root).await,
        compiler,
        config_sha256: digest_of(&config_value),
        config: config_value,
        artifacts_sha256,
        pending: None,
        contracts: BTreeMap::new(),
    })
}

fn read_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Chain(cairn_chain::Error::Transport { action: format!("read {what}"), detail: e.to_string() })
}

/// The deployer's transaction count: `pending` counts those sent but not mined.
async fn nonce(chain: &Chain, pending: bool) -> Result<u64> {
    let count = chain.provider().get_transaction_count(chain.account());
    let count = if pending { count.pending().await } else { count.latest().await };
    count.map_err(|e| read_err("the deployer's nonce", e))
}

/// Why `recorded` cannot be resumed by `chain`'s account with the inputs of `expected` (empty: it can).
async fn resume_problems(chain: &Chain, recorded: &Journal, expected: &Journal) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    if recorded.chain_id != chain.chain_id() {
        problems.push(format!(
            "it records chain {}, but the RPC at {} serves chain {}; resume against chain {}",
            recorded.chain_id,
            chain.url(),
            chain.chain_id(),
            recorded.chain_id
        ));
    }
    if recorded.deployer != chain.account() {
        problems.push(format!(
            "it was started by deployer {}, but you sign as {}; resume with {}'s key (it owns the contracts so far)",
            recorded.deployer,
            chain.account(),
            recorded.deployer
        ));
    }
    if recorded.config_sha256 != expected.config_sha256 {
        let mut changes = config_changes(&recorded.config, &expected.config);
        if changes.is_empty() {
            changes.push("the recorded config does not match its recorded sha256 (was the file edited?)".into());
        }
        problems.push(format!(
            "the config changed since the deployment began (sha256 {} → {}): {}; revert the change",
            recorded.config_sha256,
            expected.config_sha256,
            changes.join("; ")
        ));
    }
    let names: BTreeSet<&String> = recorded.artifacts_sha256.keys().chain(expected.artifacts_sha256.keys()).collect();
    for name in names {
        match (recorded.artifacts_sha256.get(name), expected.artifacts_sha256.get(name)) {
            (Some(was), Some(now)) if was != now => problems.push(format!(
                "the committed artifact of {name} changed since the deployment began (creation code sha256 {was} → \
                 {now}); check out the artifacts it began with"
            )),
            (Some(_), None) | (None, Some(_)) => problems.push(format!(
                "{name} was {} the contracts to deploy when the deployment began; revert the change",
                if recorded.artifacts_sha256.contains_key(name) { "among" } else { "not among" }
            )),
            _ => {}
        }
    }
    let (mined, sent) = (nonce(chain, false).await?, nonce(chain, true).await?);
    if sent > mined {
        problems.push(format!(
            "{} has {} transaction(s) sent but not mined (nonces {mined} to {}); wait until they are mined or \
             dropped, then resume",
            chain.account(),
            sent - mined,
            sent - 1
        ));
    }
    if recorded.chain_id == chain.chain_id() {
        for (name, d) in &recorded.contracts {
            let code = chain.provider().get_code_at(d.address).await.map_err(|e| read_err("eth_getCode", e))?;
            let artifact = cairn_bindings::artifact(name);
            if code.is_empty() {
                problems.push(format!(
                    "{name} is recorded at {} (block {}), but there is no code there on chain {} (a devnet that \
                     was reset, or another chain with the same id)",
                    d.address,
                    d.block,
                    chain.chain_id()
                ));
            } else if !artifact.is_some_and(|a| a.matches_runtime_code(&code)) {
                problems.push(format!(
                    "{name} is recorded at {}, but the code there ({} bytes) is not the committed artifact's",
                    d.address,
                    code.len()
                ));
            }
        }
    }
    Ok(problems)
}

/// A deployment in progress: the journal, written after every change.
struct Run<'a> {
    chain: &'a Chain,
    path: PathBuf,
    journal: Journal,
    progress: Progress<'a>,
    /// Transactions sent by this run.
    sent: usize,
}

impl Run<'_> {
    fn save(&self) -> Result<()> {
        self.journal.save(&self.path)
    }

    /// `name`'s address: the recorded one, else a new deployment from `tx` (recorded before and after).
    async fn contract(&mut self, name: &str, tx: TransactionRequest) -> Result<Address> {
        if let Some(d) = self.journal.contracts.get(name) {
            (self.progress)(&format!("{name}: already deployed at {} (block {})", d.address, d.block));
            self.chain.name_address(d.address, name);
            return Ok(d.address);
        }
        let nonce = nonce(self.chain, true).await?;
        let from_block =
            self.chain.provider().get_block_number().await.map_err(|e| read_err("the latest block number", e))?;
        self.journal.pending = Some(PendingCreation { contract: name.into(), nonce, from_block });
        self.save()?;
        let address = deploy_into(self.chain, &mut self.journal.contracts, name, tx, self.progress).await?;
        self.sent += 1;
        self.journal.pending = None;
        self.save()?;
        Ok(address)
    }

    /// Sends `tx` unless `done` (read from the chain) says the step is already in place.
    async fn step(&mut self, what: &str, done: bool, tx: TransactionRequest) -> Result<()> {
        if done {
            (self.progress)(&format!("{what}: already done"));
            return Ok(());
        }
        let receipt = self.chain.send(what, tx).await?;
        self.sent += 1;
        (self.progress)(&format!(
            "{what}: done (block {}, tx {})",
            receipt.block_number.unwrap_or_default(),
            receipt.transaction_hash
        ));
        Ok(())
    }

    /// Settles a creation that was about to be sent when the last run stopped: adopts the contract when its
    /// nonce was used to create it, forgets it otherwise (it is then deployed again).
    async fn settle_pending(&mut self) -> Result<()> {
        let Some(p) = self.journal.pending.clone() else { return Ok(()) };
        let mined = nonce(self.chain, false).await?;
        let address = self.chain.account().create(p.nonce);
        let code = if mined > p.nonce {
            self.chain.provider().get_code_at(address).await.map_err(|e| read_err("eth_getCode", e))?
        } else {
            Default::default()
        };
        let matches = cairn_bindings::artifact(&p.contract).is_some_and(|a| a.matches_runtime_code(&code));
        if matches && !self.journal.contracts.contains_key(&p.contract) {
            (self.progress)(&format!(
                "{}: its creation (nonce {}) was mined but not recorded; adopting {address}",
                p.contract, p.nonce
            ));
            let (block, tx) = self.find_creation(&p, address).await?;
            self.chain.name_address(address, &p.contract);
            self.journal.contracts.insert(p.contract.clone(), Deployed { address, block, tx });
        } else if mined > p.nonce {
            (self.progress)(&format!(
                "{}: nonce {} was used without creating it (the creation failed, or another transaction took the \
                 nonce); it will be deployed again",
                p.contract, p.nonce
            ));
        } else {
            (self.progress)(&format!("{}: its creation was never mined; it will be deployed", p.contract));
        }
        self.journal.pending = None;
        self.save()
    }

    /// The block and hash of the deployer's transaction with `p.nonce`, searched from `p.from_block` on (the
    /// creation was sent after that block, and a receipt came back soon after, so this is a few blocks).
    async fn find_creation(&self, p: &PendingCreation, address: Address) -> Result<(u64, B256)> {
        let provider = self.chain.provider();
        let latest = provider.get_block_number().await.map_err(|e| read_err("the latest block number", e))?;
        let me = self.chain.account();
        for number in p.from_block..=latest {
            if number > p.from_block && (number - p.from_block).is_multiple_of(1000) {
                (self.progress)(&format!("searching for {}'s creation: block {number} of {latest}", p.contract));
            }
            let block = provider
                .get_block_by_number(number.into())
                .full()
                .await
                .map_err(|e| read_err(&format!("block {number}"), e))?;
            let Some(block) = block else { continue };
            let ours = |tx: &&alloy::rpc::types::Transaction| {
                TransactionResponse::from(*tx) == me && ConsensusTransaction::nonce(*tx) == p.nonce
            };
            if let Some(tx) = block.transactions.txns().find(ours) {
                return Ok((number, TransactionResponse::tx_hash(tx)));
            }
        }
        Err(Error::Wiring {
            step: format!("adopt {} at {address}", p.contract),
            detail: format!(
                "the code is there, but no transaction from {me} with nonce {} is in blocks {} to {latest}; find it \
                 (e.g. on a block explorer), add `\"{}\": {{\"address\", \"block\", \"tx\"}}` to `contracts` in {}, \
                 remove `pending`, and resume",
                p.nonce,
                p.from_block,
                p.contract,
                self.path.display()
            ),
        })
    }
}

/// Deploys and wires the whole suite with `chain`'s account as deployer, then hands ownership to
/// `config.owner` (who must call `acceptOwnership` on each contract: Ownable2Step). Each step is recorded in
/// `<chainId>.partial.json` as it happens; the result is written to `<chainId>.json` in `options.dir` and
/// returned. See the module docs for what [`Mode::Resume`] skips and refuses.
pub async fn deploy(
    chain: &Chain,
    config: &DeployConfig,
    options: &Options,
    progress: Progress<'_>,
) -> Result<Deployments> {
    if let Some(expected) = config.network.chain_id {
        chain.expect_chain(&format!("network profile `{}`", config.network.name), expected)?;
    }
    if config.network.family == crate::config::Family::Arbitrum
        && config.network.production
        && config.randomness.is_none()
    {
        return Err(Error::Config(format!(
            "`{}`: Arbitrum's blockhash is not cryptographically secure, so BlockhashRandomness must not draw juries \
             there; deploy a VRF-backed IRandomness and set `randomness = \"0x…\"` in the config",
            config.network.name
        )));
    }
    // A read-only connection is refused before any file is touched: a journal started by no deployer would
    // block the next `deploy` as "interrupted".
    if chain.signer_address().is_none() {
        return Err(cairn_chain::Error::NoSigner { action: format!("deploy {}", SUITE[0]) }.into());
    }
    let chain_id = chain.chain_id();
    let path = partial_path(&options.dir, chain_id);
    let complete = Deployments::path(&options.dir, chain_id);
    let recorded = match Journal::load(&path) {
        // Starting over needs nothing from a journal of another version: it is replaced.
        Err(Error::JournalVersion { found, contracts, .. }) if options.mode == Mode::Force => {
            progress(&format!(
                "starting over: the interrupted deployment of interface version {} ({}) is abandoned",
                found.unwrap_or(1),
                if contracts.is_empty() { "no contracts yet".to_string() } else { contracts.join(", ") }
            ));
            None
        }
        other => other?,
    };
    let journal = match (options.mode, recorded) {
        (Mode::New, Some(j)) => return Err(Error::Interrupted { path, chain_id, contracts: j.recorded() }),
        (Mode::New, None) if complete.exists() => return Err(Error::AlreadyDeployed { path: complete, chain_id }),
        (Mode::Force, recorded) => {
            if complete.exists() {
                progress(&format!("{} will be replaced once the new suite is complete", complete.display()));
            }
            let abandoned = recorded.map(|j| j.recorded()).unwrap_or_default();
            if !abandoned.is_empty() {
                progress(&format!(
                    "starting over: the interrupted deployment's {} are abandoned",
                    abandoned.join(", ")
                ));
            }
            new_journal(chain, config, &options.root).await?
        }
        (Mode::New, None) => new_journal(chain, config, &options.root).await?,
        (Mode::Resume, Some(j)) => {
            let expected = new_journal(chain, config, &options.root).await?;
            let problems = resume_problems(chain, &j, &expected).await?;
            if !problems.is_empty() {
                return Err(Error::ResumeRefused { path, problems });
            }
            progress(&format!("resuming the deployment recorded in {}", path.display()));
            j
        }
        (Mode::Resume, None) if complete.exists() => {
            let deployments = Deployments::load(&options.dir, chain_id)?;
            verify(chain, &deployments).await?;
            progress(&format!(
                "{} records a complete deployment and its code checks out; nothing to resume, nothing sent",
                complete.display()
            ));
            return Ok(deployments);
        }
        (Mode::Resume, None) => return Err(Error::NothingToResume { dir: options.dir.clone(), chain_id }),
    };
    let mut run = Run { chain, path, journal, progress, sent: 0 };
    run.save()?;
    progress(&format!("recording each step in {}", run.path.display()));
    run.settle_pending().await?;
    wire(&mut run, config).await?;

    let j = &run.journal;
    let deployments = Deployments {
        chain_id: j.chain_id,
        interface_version: j.interface_version,
        deployment_block: j.contracts.values().map(|d| d.block).min().unwrap_or_default(),
        deployer: j.deployer,
        owner: j.owner,
        git_commit: j.git_commit.clone(),
        compiler: j.compiler.clone(),
        contracts: j.contracts.clone(),
    };
    progress("verifying the code at each address");
    verify(chain, &deployments).await?;
    let written = deployments.save(&options.dir)?;
    if let Err(e) = std::fs::remove_file(&run.path) {
        progress(&format!(
            "could not remove {} ({e}); delete it: {} is complete",
            run.path.display(),
            written.display()
        ));
    }
    progress(&format!("deployment complete: {} transaction(s) sent by this run", run.sent));
    Ok(deployments)
}

/// The deployments and every wiring step, each skipped when the chain shows it done.
async fn wire(run: &mut Run<'_>, config: &DeployConfig) -> Result<()> {
    let provider = run.chain.provider().clone();
    let me = run.journal.deployer;
    let owner = run.journal.owner;
    let treasury = config.treasury.unwrap_or(owner);

    let o = &config.operators;
    let tx =
        OperatorRegistry::deploy_builder(&provider, me, o.min_stake.0, o.unbonding_delay.0).into_transaction_request();
    let operators = run.contract("OperatorRegistry", tx).await?;

    let j = &config.jurors;
    let tx = JurorPool::deploy_builder(&provider, me, operators, j.seat_size.0, j.maturity.0, j.withdrawal_delay.0)
        .into_transaction_request();
    let pool = run.contract("JurorPool", tx).await?;

    let randomness = match config.randomness {
        Some(address) => {
            run.chain.ensure_code("the configured IRandomness", address).await?;
            address
        }
        None => {
            let tx = BlockhashRandomness::deploy_builder(&provider).into_transaction_request();
            run.contract("BlockhashRandomness", tx).await?
        }
    };

    let params = config.committee.onchain();
    let tx = ReexecutionCommittee::deploy_builder(&provider, me, operators, pool, randomness, params)
        .into_transaction_request();
    let committee = run.contract("ReexecutionCommittee", tx).await?;

    let tx = DisputeDesk::deploy_builder(&provider, me, committee, operators, config.audits.onchain())
        .into_transaction_request();
    let desk = run.contract("DisputeDesk", tx).await?;

    let tx = ModelRegistry::deploy_builder(&provider, me).into_transaction_request();
    let models = run.contract("ModelRegistry", tx).await?;

    let m = &config.market;
    let params = job_market::IJobMarket::Params {
        feeBps: m.fee_bps,
        bondBps: m.bond_bps,
        claimPenaltyBps: m.claim_penalty_bps,
        burnBps: m.burn_bps,
        claimTimeout: m.claim_timeout.0,
        challengeWindow: m.challenge_window.0,
        maxDeadline: m.max_deadline.0,
        bondFloor: m.bond_floor.0,
        challengeBond: m.challenge_bond.0,
    };
    let tx =
        JobMarket::deploy_builder(&provider, me, models, operators, desk, treasury, params).into_transaction_request();
    let market = run.contract("JobMarket", tx).await?;

    (run.progress)("wiring roles and parameters");
    let reg = OperatorRegistry::new(operators, &provider);
    let jur = JurorPool::new(pool, &provider);
    let com = ReexecutionCommittee::new(committee, &provider);
    let mkt = JobMarket::new(market, &provider);
    let dsk = DisputeDesk::new(desk, &provider);
    let mdl = ModelRegistry::new(models, &provider);

    let done = reg.authorised(market).call().await.map_err(|e| read_err("OperatorRegistry.authorised", e))?;
    let tx = reg.setAuthorised(market, true).into_transaction_request();
    run.step("authorise JobMarket to lock and slash stake", done, tx).await?;
    let current = jur.committee().call().await.map_err(|e| read_err("JurorPool.committee", e))?;
    if current != Address::ZERO && current != committee {
        return Err(Error::Wiring {
            step: "set the JurorPool's committee".into(),
            detail: format!(
                "JurorPool at {pool} already serves the committee {current}, not {committee}; its committee is set \
                 once, so start over with --force"
            ),
        });
    }
    let tx = jur.setCommittee(committee).into_transaction_request();
    run.step("let the ReexecutionCommittee draw and settle juror seats", current == committee, tx).await?;
    let done = com.arbitrable(desk).call().await.map_err(|e| read_err("ReexecutionCommittee.arbitrable", e))?;
    run.step("let the DisputeDesk open disputes", done, com.setArbitrable(desk, true).into_transaction_request())
        .await?;
    if let Some(key) = config.committee.canary_key {
        let done = com.canaryKey().call().await.map_err(|e| read_err("ReexecutionCommittee.canaryKey", e))? == key;
        run.step(&format!("set the canary key {key}"), done, com.setCanaryKey(key).into_transaction_request()).await?;
    }
    let current = dsk.market().call().await.map_err(|e| read_err("DisputeDesk.market", e))?;
    if current != Address::ZERO && current != market {
        return Err(Error::Wiring {
            step: "set the DisputeDesk's market".into(),
            detail: format!(
                "DisputeDesk at {desk} already serves the market {current}, not {market}; its market is set once, so \
                 start over with --force"
            ),
        });
    }
    let tx = dsk.setMarket(market).into_transaction_request();
    run.step("let the DisputeDesk settle JobMarket's disputed jobs", current == market, tx).await?;
    let grant = config.audits.pool_grant.0;
    let held = dsk.auditPool().call().await.map_err(|e| read_err("DisputeDesk.auditPool", e))?;
    let tx = dsk.fundAuditPool().value(grant).into_transaction_request();
    run.step(&format!("grant the audit pool {}", config.audits.pool_grant), grant.is_zero() || !held.is_zero(), tx)
        .await?;

    let mut tokens = vec![(
        "set the ETH minimum operator fee".to_string(),
        Address::ZERO,
        job_market::IJobMarket::TokenConfig { bondRate: U256::ZERO, minOperatorFee: m.eth_min_operator_fee.0 },
    )];
    for t in &config.tokens {
        let want =
            job_market::IJobMarket::TokenConfig { bondRate: t.bond_rate.0, minOperatorFee: t.min_operator_fee.0 };
        tokens.push((format!("accept token {}", t.address), t.address, want));
    }
    for (what, token, want) in tokens {
        let have = mkt.tokenConfig(token).call().await.map_err(|e| read_err("JobMarket.tokenConfig", e))?;
        let done = have.bondRate == want.bondRate && have.minOperatorFee == want.minOperatorFee;
        run.step(&what, done, mkt.setTokenConfig(token, want).into_transaction_request()).await?;
    }

    if owner == me {
        return Ok(());
    }
    (run.progress)(&format!("handing ownership to {owner} (it must call acceptOwnership on each contract)"));
    let read = |what: &'static str| move |e: alloy::contract::Error| read_err(what, e);
    let handoffs = [
        (
            "OperatorRegistry",
            operators,
            reg.owner().call().await.map_err(read("OperatorRegistry.owner"))?,
            reg.pendingOwner().call().await.map_err(read("OperatorRegistry.pendingOwner"))?,
            reg.transferOwnership(owner).into_transaction_request(),
        ),
        (
            "JurorPool",
            pool,
            jur.owner().call().await.map_err(read("JurorPool.owner"))?,
            jur.pendingOwner().call().await.map_err(read("JurorPool.pendingOwner"))?,
            jur.transferOwnership(owner).into_transaction_request(),
        ),
        (
            "ReexecutionCommittee",
            committee,
            com.owner().call().await.map_err(read("ReexecutionCommittee.owner"))?,
            com.pendingOwner().call().await.map_err(read("ReexecutionCommittee.pendingOwner"))?,
            com.transferOwnership(owner).into_transaction_request(),
        ),
        (
            "DisputeDesk",
            desk,
            dsk.owner().call().await.map_err(read("DisputeDesk.owner"))?,
            dsk.pendingOwner().call().await.map_err(read("DisputeDesk.pendingOwner"))?,
            dsk.transferOwnership(owner).into_transaction_request(),
        ),
        (
            "ModelRegistry",
            models,
            mdl.owner().call().await.map_err(read("ModelRegistry.owner"))?,
            mdl.pendingOwner().call().await.map_err(read("ModelRegistry.pendingOwner"))?,
            mdl.transferOwnership(owner).into_transaction_request(),
        ),
        (
            "JobMarket",
            market,
            mkt.owner().call().await.map_err(read("JobMarket.owner"))?,
            mkt.pendingOwner().call().await.map_err(read("JobMarket.pendingOwner"))?,
            mkt.transferOwnership(owner).into_transaction_request(),
        ),
    ];
    for (name, address, current, pending, tx) in handoffs {
        let what = format!("transfer {name}");
        if current != owner && pending != owner && current != me {
            return Err(Error::Wiring {
                step: what,
                detail: format!(
                    "{name} at {address} is owned by {current}, expected the deployer {me} (or the configured owner \
                     {owner}); its owner must transfer it to {owner}, or start over with --force"
                ),
            });
        }
        run.step(&what, current == owner || pending == owner, tx).await?;
    }
    Ok(())
}

/// Checks that `deployments` is of this client's interface version ([`INTERFACE_VERSION`]), and that every
/// contract in it reports that version through `interfaceVersion()` (when its artifact declares it: not
/// `BlockhashRandomness` or `DevToken`) and has the committed artifact's runtime code (immutables aside) at its
/// address. The version is read before the code is compared, so a suite of another version is named as such.
pub async fn verify(chain: &Chain, deployments: &Deployments) -> Result<()> {
    chain.expect_chain("the deployments file", deployments.chain_id)?;
    if deployments.interface_version != INTERFACE_VERSION {
        return Err(cairn_chain::Error::DeploymentsVersion {
            path: Deployments::path(Path::new("deployments"), deployments.chain_id),
            found: Some(deployments.interface_version),
        }
        .into());
    }
    for (name, d) in &deployments.contracts {
        let artifact = cairn_bindings::artifact(name)
            .ok_or_else(|| Error::Config(format!("deployments name `{name}`, which has no artifact")))?;
        let code = chain.ensure_code(name, d.address).await?;
        if cairn_chain::declares_interface_version(name) {
            chain.expect_interface_version(name, d.address).await?;
        }
        if !artifact.matches_runtime_code(&code) {
            return Err(Error::CodeMismatch {
                contract: name.clone(),
                address: d.address,
                detail: format!(
                    "the code ({} bytes) is not the committed artifact's ({} bytes): deployed from other sources; redeploy",
                    code.len(),
                    artifact.deployed_bytecode.len()
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_setting_is_in_the_record_and_changes_are_named() {
        let base = DeployConfig::from_toml(
            "owner = \"0x00000000000000000000000000000000000000a1\"\n[[tokens]]\naddress = \
             \"0x00000000000000000000000000000000000000b2\"\nbond_rate = 5\nmin_operator_fee = 7\n",
        )
        .unwrap();
        let v = normalised_config(&base);
        assert_eq!(v["market"]["fee_bps"], 500);
        assert_eq!(v["operators"]["min_stake"], "1000000000000000000");
        assert_eq!(v["tokens"][0]["min_operator_fee"], "7");
        // The same settings written differently (units, an explicit default) are the same config.
        let same = DeployConfig::from_toml(
            "owner = \"0x00000000000000000000000000000000000000A1\"\n[operators]\nmin_stake = \"1 ether\"\n\
             [[tokens]]\naddress = \"0x00000000000000000000000000000000000000b2\"\nbond_rate = \"5wei\"\n\
             min_operator_fee = 7\n",
        )
        .unwrap();
        assert_eq!(digest_of(&normalised_config(&same)), digest_of(&v));

        let changed = DeployConfig::from_toml("[market]\nfee_bps = 250\n").unwrap();
        let changes = config_changes(&v, &normalised_config(&changed));
        assert_eq!(
            changes,
            [
                "market.fee_bps: 500 → 250",
                "owner: 0x00000000000000000000000000000000000000a1 → null",
                "tokens[0].address: 0x00000000000000000000000000000000000000b2 → (absent)",
                "tokens[0].bond_rate: 5 → (absent)",
                "tokens[0].min_operator_fee: 7 → (absent)",
            ]
        );
        assert_ne!(digest_of(&normalised_config(&changed)), digest_of(&v));
    }

    /// The canary key is recorded only when set: a config without it keeps the digest it had before canaries,
    /// so an interrupted deployment of such a config still resumes.
    #[test]
    fn the_canary_key_is_recorded_only_when_set() {
        let without = normalised_config(&DeployConfig::from_toml("").unwrap());
        assert!(without["committee"].get("canary_key").is_none(), "{without}");
        let with =
            DeployConfig::from_toml("[committee]\ncanary_key = \"0x00000000000000000000000000000000000000cA\"\n")
                .unwrap();
        assert_eq!(with.committee.canary_key, Some(Address::with_last_byte(0xca)));
        let changes = config_changes(&without, &normalised_config(&with));
        assert_eq!(changes, ["committee.canary_key: (absent) → 0x00000000000000000000000000000000000000ca"]);
    }

    #[tokio::test]
    async fn git_commit_names_head_and_unknown_outside_git() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let head = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(root).output().unwrap();
        let head = String::from_utf8(head.stdout).unwrap();
        let commit = git_commit(root).await;
        assert_eq!(commit.trim_end_matches("-dirty"), head.trim());
        let outside = tempfile::tempdir().unwrap();
        assert_eq!(git_commit(outside.path()).await, "unknown");
    }
}
