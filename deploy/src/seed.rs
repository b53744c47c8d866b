//! Seeding a devnet: funded accounts for a seller, a buyer, three operators in different regions each staked
//! for [`CONCURRENT_JOBS`] jobs at once (the registry's minimum stake + 50 bonds at the market's bond floor, both
//! read from the deployed contracts: 13.5 ETH under the devnet defaults), and
//! five verifiers with 2 ETH of juror stake each in the JurorPool (4 seats of 0.5 ETH: 20 seats, so a jury of
//! three can always be drawn), matured at once by moving anvil's clock past the pool's maturity; and `DevToken` (6-decimal, EIP-2612),
//! accepted by the JobMarket for ERC-20 jobs, with 10,000 DUSD minted to the buyer. The keys are derived from fixed
//! labels (`keccak256("cairn-devnet/<label>")`): the same on every machine, and worthless anywhere else.
//!
//! Every operator and verifier registers with a hot signer key separate from its owner key (label
//! `<label>/signer`), funded for gas: from interface v2 the signer claims, releases claims, signs receipts,
//! commits and reveals for its operator, so a runner needs only that key and the owner key (stake, signer,
//! juror stake, withdrawals) can stay offline.

use alloy::providers::Provider;
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256, keccak256, utils::parse_ether},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use cairn_bindings::{DevToken, JobMarket, JurorPool, OperatorRegistry, job_market::IJobMarket};
use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_protocol::{Region, units::format_eth};
use serde::Serialize;

use crate::{
    Error, Result,
    deploy::{Progress, deploy_into},
};

/// One seeded account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// What it plays.
    pub role: String,
    /// Its address.
    pub address: Address,
    /// Its private key (devnet only: derived from a public label).
    pub private_key: B256,
    /// For operators and verifiers: the hot signer key's address (registered as the operator's signer; it
    /// claims, signs receipts and votes for the operator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Address>,
    /// For operators and verifiers: the hot signer's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_key: Option<B256>,
    /// For operators and verifiers: their region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ETH staked in the OperatorRegistry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stake_wei: Option<U256>,
    /// For verifiers: juror stake in the JurorPool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub juror_stake_wei: Option<U256>,
}

/// One actor to seed: its label, the ETH it gets (wei), and its stake if it operates or verifies.
struct Planned {
    label: String,
    eth: U256,
    staking: Option<Staking>,
}

struct Staking {
    region: Region,
    /// Registry stake (wei).
    stake: U256,
    /// Juror stake deposited into the JurorPool (verifiers only).
    juror_stake: Option<&'static str>,
}

impl Planned {
    fn funded(label: &str, eth: &str) -> Self {
        Self { label: label.into(), eth: parse_ether(eth).expect("literal amount"), staking: None }
    }
}

/// The devnet key of `label`.
pub fn devnet_key(label: &str) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256(format!("cairn-devnet/{label}"))).expect("a keccak digest is a valid key")
}

/// The chain ids seeding accepts (never a public chain: the keys are public).
pub const DEVNET_CHAIN_IDS: &[u64] = &[31337, 1337];

/// ETH each operator's and verifier's signer key gets for gas (it sends claims, submissions and votes).
pub const SIGNER_ETH: &str = "2";

/// Jobs each seeded operator can hold claimed at once at the market's bond floor, above the registry's minimum
/// stake (issue #12: the devnet's seeded stakes serve 50 concurrent jobs under the deployed parameters).
pub const CONCURRENT_JOBS: u64 = 50;

/// An operator's stake for [`CONCURRENT_JOBS`] jobs at the bond floor: `min_stake + 50 × bond_floor` (wei).
pub fn operator_stake(min_stake: U256, bond_floor: U256) -> U256 {
    min_stake.saturating_add(bond_floor.saturating_mul(U256::from(CONCURRENT_JOBS)))
}

/// The devnet signer (hot) key of the operator or verifier `label`, separate from its owner key.
pub fn devnet_signer_key(label: &str) -> PrivateKeySigner {
    devnet_key(&format!("{label}/signer"))
}

/// DevToken's bond rate: 1 DUSD (1e6 units) bonds 0.0005 ETH (rate = 5e14 × 1e18 / 1e6).
pub const DEV_TOKEN_BOND_RATE: u128 = 5 * 10u128.pow(26);

/// Funds and registers the actors, deploying DevToken into `deployments` when it is not there yet.
/// Idempotent: funded accounts and registered operators are left as they are, except that a registered actor
/// whose signer is not its devnet signer key (a devnet seeded before every actor had one) gets it
/// (`setSigner`, sent by the owner key). `funder` must own JobMarket.
pub async fn seed(funder: &Chain, deployments: &mut Deployments, progress: Progress<'_>) -> Result<Vec<Actor>> {
    if !DEVNET_CHAIN_IDS.contains(&funder.chain_id()) {
        return Err(Error::Config(format!(
            "seeding publishes private keys and is for devnets only (chain ids {DEVNET_CHAIN_IDS:?}), not chain {}",
            funder.chain_id()
        )));
    }
    let registry_address = deployments.address("OperatorRegistry")?;
    let pool_address = deployments.address("JurorPool")?;
    let mut jurors = Vec::new();
    let market_address = deployments.address("JobMarket")?;
    let mut actors = Vec::new();
    let provider = funder.provider().clone();

    let token_address = match deployments.contracts.get("DevToken") {
        Some(d) => d.address,
        None => {
            let tx = DevToken::deploy_builder(&provider, funder.account()).into_transaction_request();
            let address = deploy_into(funder, &mut deployments.contracts, "DevToken", tx, progress).await?;
            let market = JobMarket::new(market_address, &provider);
            let config =
                IJobMarket::TokenConfig { bondRate: U256::from(DEV_TOKEN_BOND_RATE), minOperatorFee: U256::from(1000) };
            funder
                .send("accept DevToken for jobs", market.setTokenConfig(address, config).into_transaction_request())
                .await?;
            address
        }
    };
    let token = DevToken::new(token_address, &provider);

    let fund = |address: Address, wei: U256| TransactionRequest::default().with_to(address).with_value(wei);
    let read = |what: &str, e: alloy::contract::Error| cairn_chain::Error::Transport {
        action: format!("read {what}"),
        detail: e.to_string(),
    };
    let min_stake = OperatorRegistry::new(registry_address, &provider)
        .minStake()
        .call()
        .await
        .map_err(|e| read("OperatorRegistry.minStake", e))?;
    let bond_floor = JobMarket::new(market_address, &provider)
        .params()
        .call()
        .await
        .map_err(|e| read("JobMarket.params", e))?
        .bondFloor;
    let stake = operator_stake(min_stake, bond_floor);
    let mut plan = vec![Planned::funded("seller", "100"), Planned::funded("buyer", "100")];
    for (i, region) in [Region::Eu, Region::Us, Region::Jp].into_iter().enumerate() {
        let funded = Planned::funded(&format!("operator-{i}"), "40");
        plan.push(Planned {
            // At least 25 ETH beside the stake (40 ETH in all under the defaults, as before).
            eth: funded.eth.max(stake.saturating_add(parse_ether("25").expect("literal amount"))),
            staking: Some(Staking { region, stake, juror_stake: None }),
            ..funded
        });
    }
    for (i, region) in [Region::Eu, Region::Uk, Region::Us, Region::Ca, Region::Sg].into_iter().enumerate() {
        let stake = min_stake.max(parse_ether("2").expect("literal amount"));
        let funded = Planned::funded(&format!("verifier-{i}"), "10");
        plan.push(Planned {
            // The stake, 2 ETH of juror stake and at least 6 ETH for gas (10 ETH in all under the defaults).
            eth: funded.eth.max(stake.saturating_add(parse_ether("8").expect("literal amount"))),
            staking: Some(Staking { region, stake, juror_stake: Some("2") }),
            ..funded
        });
    }

    for Planned { label, eth, staking } in plan {
        let key = devnet_key(&label);
        let address = key.address();
        let mut actor = Actor {
            role: label.clone(),
            address,
            private_key: key.to_bytes(),
            signer: None,
            signer_key: None,
            region: None,
            stake_wei: None,
            juror_stake_wei: None,
        };
        // A registered operator was funded when it registered; its stake is not in its balance, so a rerun
        // judging by the balance alone would fund it again.
        let registered = staking.is_some()
            && OperatorRegistry::new(registry_address, &provider)
                .operatorInfo(address)
                .call()
                .await
                .map_err(|e| read(&format!("{label}'s registration"), e))?
                .registered;
        if !registered && funder.balance(address).await? < eth / U256::from(2) {
            progress(&format!("funding {label} {address} with {}", format_eth(eth)));
            funder.send(&format!("fund {label}"), fund(address, eth)).await?;
        }
        if label == "buyer" {
            let units = U256::from(10_000_000_000u64); // 10,000 DUSD
            let held = token.balanceOf(address).call().await.map_err(|e| cairn_chain::Error::Transport {
                action: "read the buyer's DUSD balance".into(),
                detail: e.to_string(),
            })?;
            if held < units {
                progress(&format!("minting 10,000 DUSD to {label}"));
                funder
                    .send("mint DUSD to the buyer", token.mint(address, units - held).into_transaction_request())
                    .await?;
            }
        }
        if let Some(Staking { region, stake, juror_stake }) = staking {
            let chain = Chain::connect(funder.url(), key, ChainOptions::default()).await?;
            chain.name_address(registry_address, "OperatorRegistry");
            let registry = OperatorRegistry::new(registry_address, chain.provider());
            let signer_key = devnet_signer_key(&label);
            let signer = signer_key.address();
            if funder.balance(signer).await? < parse_ether(SIGNER_ETH).expect("literal amount") / U256::from(2) {
                progress(&format!("funding {label}'s signer key {signer} with {SIGNER_ETH} ETH"));
                funder
                    .send(
                        &format!("fund {label}'s signer key"),
                        fund(signer, parse_ether(SIGNER_ETH).expect("literal amount")),
                    )
                    .await?;
            }
            let info = registry.operatorInfo(address).call().await.map_err(|e| cairn_chain::Error::Transport {
                action: format!("read {label}'s registration"),
                detail: e.to_string(),
            })?;
            let stake_wei = stake;
            if !info.registered {
                progress(&format!("registering {label} in {region} with {} of stake", format_eth(stake)));
                let call = registry
                    .register(signer, region.bit(), keccak256("cpu"), B256::ZERO, format!("devnet://{label}"))
                    .value(stake_wei);
                chain.send(&format!("register {label}"), call.into_transaction_request()).await?;
            } else if info.signer != signer {
                progress(&format!("setting {label}'s signer key to {signer} (was {})", info.signer));
                chain
                    .send(&format!("set {label}'s signer key"), registry.setSigner(signer).into_transaction_request())
                    .await?;
            }
            if let Some(juror_stake) = juror_stake {
                let pool = JurorPool::new(pool_address, chain.provider());
                let held = pool.jurorInfo(address).call().await.map_err(|e| cairn_chain::Error::Transport {
                    action: format!("read {label}'s juror stake"),
                    detail: e.to_string(),
                })?;
                let wei = parse_ether(juror_stake).expect("literal amount");
                if U256::from(held.stake) + U256::from(held.pendingDeposit) == U256::ZERO {
                    progress(&format!("depositing {juror_stake} ETH of juror stake for {label}"));
                    chain
                        .send(
                            &format!("deposit {label}'s juror stake"),
                            pool.deposit().value(wei).into_transaction_request(),
                        )
                        .await?;
                }
                actor.juror_stake_wei = Some(wei);
                jurors.push(address);
            }
            actor.region = Some(region.code().into());
            // What the chain holds (an earlier seed may have staked under other parameters).
            let held =
                registry.getOperator(address).call().await.map_err(|e| read(&format!("{label}'s stake"), e))?.stake;
            actor.stake_wei = Some(held);
            actor.signer = Some(signer);
            actor.signer_key = Some(signer_key.to_bytes());
        }
        actors.push(actor);
    }
    mature_juror_stake(funder, pool_address, &jurors, progress).await?;
    Ok(actors)
}

/// Brings the verifiers' pending juror stake into the draw: moves anvil's clock past the pool's `maturity`
/// (`evm_increaseTime` + `evm_mine`) and syncs each juror. A node without those methods keeps its clock: the
/// stake then enters at a rerun of `seed` after the time printed.
async fn mature_juror_stake(funder: &Chain, pool: Address, jurors: &[Address], progress: Progress<'_>) -> Result<()> {
    let provider = funder.provider().clone();
    let pool = JurorPool::new(pool, &provider);
    let read = |what: &str, e: alloy::contract::Error| cairn_chain::Error::Transport {
        action: format!("read {what}"),
        detail: e.to_string(),
    };
    let maturity = pool.maturity().call().await.map_err(|e| read("JurorPool.maturity", e))?;
    let now = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| cairn_chain::Error::Transport { action: "read the latest block".into(), detail: e.to_string() })?
        .map(|b| b.header.timestamp)
        .unwrap_or_default();
    let mut latest_pending = None;
    for juror in jurors {
        let info = pool.jurorInfo(*juror).call().await.map_err(|e| read("JurorPool.jurorInfo", e))?;
        if !info.pendingDeposit.is_zero() {
            latest_pending = latest_pending.max(Some(info.pendingSince));
        }
    }
    if let Some(since) = latest_pending {
        let ready = since + maturity;
        if ready > now {
            let wait = ready - now;
            progress(&format!("moving the devnet clock {wait} s ahead so the juror stake matures"));
            let moved: std::result::Result<serde_json::Value, _> =
                provider.raw_request("evm_increaseTime".into(), (U256::from(wait),)).await;
            if moved.is_err() {
                progress(&format!(
                    "this node cannot move its clock: the juror stake matures at {ready} (Unix time); run `cairn-deploy \
                     seed` again after it"
                ));
                return Ok(());
            }
            let _: std::result::Result<serde_json::Value, _> = provider.raw_request("evm_mine".into(), ()).await;
        }
    }
    for juror in jurors {
        if pool.seatsOf(*juror).call().await.map_err(|e| read("JurorPool.seatsOf", e))? == U256::ZERO {
            funder.send("sync a juror's stake into the draw", pool.sync(*juror).into_transaction_request()).await?;
        }
    }
    Ok(())
}
