//! Deploying the suite in order, wiring roles and parameters, verifying the code at each address, and
//! writing `deployments/<chainId>.json`.

use std::{collections::BTreeMap, path::Path, process::Command};

use alloy::{
    primitives::{Address, U256},
    rpc::types::TransactionRequest,
};
use cairn_bindings::{
    BlockhashRandomness, JobMarket, ModelRegistry, OperatorRegistry, ReexecutionCommittee, job_market,
    reexecution_committee,
};
use cairn_chain::{Chain, Deployments, deployments::Deployed};

use crate::{Error, Result, config::DeployConfig};

/// Progress lines go through this (the binary prints them; tests stay quiet).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// Deploys `name` from its creation transaction, records it in `contracts`, and returns its address.
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
    contracts.insert(name.to_string(), deployed);
    Ok(address)
}

/// `git rev-parse HEAD` of `root`, `-dirty` when `contracts/` has uncommitted changes, `unknown` outside git.
pub fn git_commit(root: &Path) -> String {
    let run =
        |args: &[&str]| Command::new("git").args(args).current_dir(root).output().ok().filter(|o| o.status.success());
    let Some(head) = run(&["rev-parse", "HEAD"]) else { return "unknown".into() };
    let mut commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
    if run(&["status", "--porcelain", "--", "contracts", "foundry.toml"]).is_some_and(|o| !o.stdout.is_empty()) {
        commit.push_str("-dirty");
    }
    commit
}

/// Deploys and wires the whole suite with `chain`'s account as deployer, then hands ownership to
/// `config.owner` (who must call `acceptOwnership` on each contract: Ownable2Step).
pub async fn deploy(chain: &Chain, config: &DeployConfig, root: &Path, progress: Progress<'_>) -> Result<Deployments> {
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
    let provider = chain.provider().clone();
    let me = chain.account();
    let owner = config.owner.unwrap_or(me);
    let treasury = config.treasury.unwrap_or(owner);
    let mut contracts = BTreeMap::new();

    let o = &config.operators;
    let tx =
        OperatorRegistry::deploy_builder(&provider, me, o.min_stake.0, o.min_verifier_stake.0, o.unbonding_delay.0)
            .into_transaction_request();
    let operators = deploy_into(chain, &mut contracts, "OperatorRegistry", tx, progress).await?;

    let randomness = match config.randomness {
        Some(address) => {
            chain.ensure_code("the configured IRandomness", address).await?;
            address
        }
        None => {
            let tx = BlockhashRandomness::deploy_builder(&provider).into_transaction_request();
            deploy_into(chain, &mut contracts, "BlockhashRandomness", tx, progress).await?
        }
    };

    let c = &config.committee;
    let params = reexecution_committee::IReexecutionCommittee::Params {
        jurors: c.jurors,
        fee: c.fee.0,
        commitPeriod: c.commit_period.0,
        revealPeriod: c.reveal_period.0,
        jurorLock: c.juror_lock.0,
        nonRevealPenalty: c.non_reveal_penalty.0,
    };
    let tx =
        ReexecutionCommittee::deploy_builder(&provider, me, operators, randomness, params).into_transaction_request();
    let committee = deploy_into(chain, &mut contracts, "ReexecutionCommittee", tx, progress).await?;

    let tx = ModelRegistry::deploy_builder(&provider, me).into_transaction_request();
    let models = deploy_into(chain, &mut contracts, "ModelRegistry", tx, progress).await?;

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
    let tx = JobMarket::deploy_builder(&provider, me, models, operators, committee, treasury, params)
        .into_transaction_request();
    let market = deploy_into(chain, &mut contracts, "JobMarket", tx, progress).await?;

    progress("wiring roles and parameters");
    let reg = OperatorRegistry::new(operators, &provider);
    let com = ReexecutionCommittee::new(committee, &provider);
    let mkt = JobMarket::new(market, &provider);
    let mdl = ModelRegistry::new(models, &provider);
    chain
        .send("authorise JobMarket to lock and slash stake", reg.setAuthorised(market, true).into_transaction_request())
        .await?;
    chain
        .send(
            "authorise ReexecutionCommittee to lock and slash stake",
            reg.setAuthorised(committee, true).into_transaction_request(),
        )
        .await?;
    chain.send("let JobMarket open disputes", com.setArbitrable(market, true).into_transaction_request()).await?;
    let eth = job_market::IJobMarket::TokenConfig { bondRate: U256::ZERO, minOperatorFee: m.eth_min_operator_fee.0 };
    chain
        .send("set the ETH minimum operator fee", mkt.setTokenConfig(Address::ZERO, eth).into_transaction_request())
        .await?;
    for t in &config.tokens {
        let cfg = job_market::IJobMarket::TokenConfig { bondRate: t.bond_rate.0, minOperatorFee: t.min_operator_fee.0 };
        chain
            .send(&format!("accept token {}", t.address), mkt.setTokenConfig(t.address, cfg).into_transaction_request())
            .await?;
    }
    if owner != me {
        progress(&format!("handing ownership to {owner} (it must call acceptOwnership on each contract)"));
        chain.send("transfer OperatorRegistry", reg.transferOwnership(owner).into_transaction_request()).await?;
        chain.send("transfer ReexecutionCommittee", com.transferOwnership(owner).into_transaction_request()).await?;
        chain.send("transfer ModelRegistry", mdl.transferOwnership(owner).into_transaction_request()).await?;
        chain.send("transfer JobMarket", mkt.transferOwnership(owner).into_transaction_request()).await?;
    }

    let compiler = serde_json::from_str::<serde_json::Value>(cairn_bindings::ARTIFACTS[0].json)
        .map(|v| v["compiler"].clone())
        .unwrap_or_default();
    let deployments = Deployments {
        chain_id: chain.chain_id(),
        deployment_block: contracts.values().map(|d| d.block).min().unwrap_or_default(),
        deployer: me,
        owner,
        git_commit: git_commit(root),
        compiler,
        contracts,
    };
    progress("verifying the code at each address");
    verify(chain, &deployments).await?;
    Ok(deployments)
}

/// Checks that every contract in `deployments` has the committed artifact's runtime code (immutables
/// aside) at its address.
pub async fn verify(chain: &Chain, deployments: &Deployments) -> Result<()> {
    chain.expect_chain("the deployments file", deployments.chain_id)?;
    for (name, d) in &deployments.contracts {
        let artifact = cairn_bindings::artifact(name)
            .ok_or_else(|| Error::Config(format!("deployments name `{name}`, which has no artifact")))?;
        let code = chain.ensure_code(name, d.address).await?;
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
