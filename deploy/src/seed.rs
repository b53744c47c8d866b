//! Seeding a devnet: funded accounts for a seller, a buyer, three staked operators in different regions and
//! five opted-in verifiers, so a committee of three can always be drawn. The keys are derived from fixed
//! labels (`keccak256("cairn-devnet/<label>")`): the same on every machine, and worthless anywhere else.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256, keccak256, utils::parse_ether},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use cairn_bindings::OperatorRegistry;
use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_protocol::Region;
use serde::Serialize;

use crate::{Error, Result, deploy::Progress};

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
    /// For operators: the receipt signer's address and key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Address>,
    /// For operators: the receipt signer's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_key: Option<B256>,
    /// For operators and verifiers: their region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ETH staked in the OperatorRegistry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stake_wei: Option<U256>,
}

/// The devnet key of `label`.
pub fn devnet_key(label: &str) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256(format!("cairn-devnet/{label}"))).expect("a keccak digest is a valid key")
}

/// The chain ids seeding accepts (never a public chain: the keys are public).
pub const DEVNET_CHAIN_IDS: &[u64] = &[31337, 1337];

/// Funds and registers the actors. Idempotent: an operator already registered is left as it is.
pub async fn seed(funder: &Chain, deployments: &Deployments, progress: Progress<'_>) -> Result<Vec<Actor>> {
    if !DEVNET_CHAIN_IDS.contains(&funder.chain_id()) {
        return Err(Error::Config(format!(
            "seeding publishes private keys and is for devnets only (chain ids {DEVNET_CHAIN_IDS:?}), not chain {}",
            funder.chain_id()
        )));
    }
    let registry_address = deployments.address("OperatorRegistry")?;
    let mut actors = Vec::new();

    let fund = |address: Address, eth: &str| {
        TransactionRequest::default().with_to(address).with_value(parse_ether(eth).expect("literal amount"))
    };
    let mut plan: Vec<(String, &str, Option<(Region, &str, bool)>)> =
        vec![("seller".into(), "100", None), ("buyer".into(), "100", None)];
    for (i, region) in [Region::Eu, Region::Us, Region::Jp].into_iter().enumerate() {
        plan.push((format!("operator-{i}"), "20", Some((region, "5", false))));
    }
    for (i, region) in [Region::Eu, Region::Uk, Region::Us, Region::Ca, Region::Sg].into_iter().enumerate() {
        plan.push((format!("verifier-{i}"), "10", Some((region, "2", true))));
    }

    for (label, eth, staking) in plan {
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
        };
        if funder.balance(address).await? < parse_ether(eth).expect("literal amount") / U256::from(2) {
            progress(&format!("funding {label} {address} with {eth} ETH"));
            funder.send(&format!("fund {label}"), fund(address, eth)).await?;
        }
        if let Some((region, stake, verifier)) = staking {
            let chain = Chain::connect(funder.url(), key, ChainOptions::default()).await?;
            chain.name_address(registry_address, "OperatorRegistry");
            let registry = OperatorRegistry::new(registry_address, chain.provider());
            let signer_key = if verifier { devnet_key(&label) } else { devnet_key(&format!("{label}/signer")) };
            let info = registry.operatorInfo(address).call().await.map_err(|e| cairn_chain::Error::Transport {
                action: format!("read {label}'s registration"),
                detail: e.to_string(),
            })?;
            let stake_wei = parse_ether(stake).expect("literal amount");
            if !info.registered {
                progress(&format!("registering {label} in {region} with {stake} ETH stake"));
                let call = registry
                    .register(signer_key.address(), region.bit(), keccak256("cpu"), B256::ZERO, format!("devnet://{label}"))
                    .value(stake_wei);
                chain.send(&format!("register {label}"), call.into_transaction_request()).await?;
                if verifier {
                    chain.send(&format!("opt {label} in as verifier"), registry.setVerifier(true).into_transaction_request()).await?;
                }
            }
            actor.region = Some(region.code().into());
            actor.stake_wei = Some(stake_wei);
            if !verifier {
                actor.signer = Some(signer_key.address());
                actor.signer_key = Some(signer_key.to_bytes());
            }
        }
        actors.push(actor);
    }
    Ok(actors)
}
