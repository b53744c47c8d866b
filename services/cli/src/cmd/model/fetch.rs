//! What `verify` and `pull` share: a version's registration read from its `ModelRegistered` event (which
//! carries the listing and the seller's signature, interfaces v2), the seller's EIP-712 signature checked
//! again from it, and the manifest fetched from IPFS against the registered sha256.

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use anyhow::{Context as _, bail};
use cairn_bindings::{ModelRegistry, model_registry::IModelRegistry::ModelVersion};
use cairn_ipfs::{KuboClient, Sha256Digest};
use cairn_protocol::{
    manifest::{MAX_MANIFEST_BYTES, Manifest},
    typed,
};

use crate::{Context, cmd::Market};

/// A version as registered.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The model.
    pub id: U256,
    /// The version.
    pub version: u64,
    /// The seller.
    pub seller: Address,
    /// Everything stored for the version.
    pub listing: ModelVersion,
    /// The registration event (listing, nonce, deadline, the seller's signature).
    pub event: ModelRegistry::ModelRegistered,
    /// Block of the registration.
    pub block: u64,
    /// Its transaction.
    pub tx: B256,
}

/// Reads version `version` of model `id` (the latest when `None`) from its `ModelRegistered` event.
///
/// Errors: no such model or version; the node refuses the log query.
pub async fn registration(market: &Market, id: U256, version: Option<u64>) -> anyhow::Result<Registered> {
    let latest = super::listing(market, id).await?.version;
    let version = version.unwrap_or(latest);
    if version == 0 || version > latest {
        bail!("model {id} has versions 1 to {latest}; there is no version {version}");
    }
    let filter = Filter::new()
        .address(market.address("ModelRegistry")?)
        .event_signature(ModelRegistry::ModelRegistered::SIGNATURE_HASH)
        .topic1(id)
        .topic2(U256::from(version))
        .from_block(market.deployments.deployment_block);
    let logs = market.chain.provider().get_logs(&filter).await.context("reading the registration event")?;
    let log = logs.last().with_context(|| format!("no ModelRegistered event for model {id} version {version}"))?;
    let event = ModelRegistry::ModelRegistered::decode_log(&log.inner).context("decoding ModelRegistered")?;
    Ok(Registered {
        id,
        version,
        seller: event.seller,
        listing: event.listing.clone(),
        event: event.data,
        block: log.block_number.unwrap_or_default(),
        tx: log.transaction_hash.unwrap_or_default(),
    })
}

/// Who signed the listing: the seller for an EOA's signature (checked by the same rules as the contract), or
/// a message saying why it could not be checked here (an ERC-1271 contract wallet's signature, which the
/// registry checked on chain at registration).
pub fn signer_check(market: &Market, r: &Registered) -> Result<Address, String> {
    let domain = typed::domain(market.chain.chain_id(), market.address("ModelRegistry").map_err(|e| e.to_string())?);
    match typed::recover(&typed::signed_listing(&r.event), &domain, &r.event.signature) {
        Ok(signer) if signer == r.seller => Ok(signer),
        Ok(other) => Err(format!("the signature recovers to {other}, not the seller {}", r.seller)),
        Err(e) => Err(format!("not an EOA signature ({e}); a contract wallet's (ERC-1271) was checked on chain")),
    }
}

/// The manifest of `r`, fetched from IPFS and accepted only if its sha256 is the registered digest.
///
/// Errors: Kubo down; the content unavailable or altered (the digest named); not a valid manifest.
pub async fn manifest(ctx: &Context, kubo: &KuboClient, r: &Registered) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let expected = Sha256Digest(r.listing.manifestDigest.0);
    let bytes = ctx
        .out
        .spin(
            &format!("fetching the manifest {}", r.listing.manifestCid),
            kubo.cat_bytes(&r.listing.manifestCid, expected, MAX_MANIFEST_BYTES),
        )
        .await
        .with_context(|| format!("fetching the manifest {} (registered sha256 {expected})", r.listing.manifestCid))?;
    let text = std::str::from_utf8(&bytes).context("the manifest is not UTF-8")?;
    let manifest = Manifest::from_json(text).context("the manifest")?;
    Ok((manifest, bytes.to_vec()))
}

/// Kubo at the configured API, checked to answer.
///
/// Errors: it does not answer (the message names the URL, where it came from and what to do).
pub async fn kubo(ctx: &Context) -> anyhow::Result<KuboClient> {
    let api = &ctx.settings.ipfs_api;
    let kubo = KuboClient::new(&api.value)?;
    kubo.version().await.with_context(|| {
        format!(
            "Kubo at {} (from {}) does not answer; start it (`make devnet`) or pass --ipfs-api",
            api.value, api.origin
        )
    })?;
    Ok(kubo)
}
