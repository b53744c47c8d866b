//! `cairn model …`: reading models and managing your own.

pub mod card;
pub mod deprecate;
pub mod fetch;
pub mod folder;
pub mod list;
pub mod publish;
pub mod pull;
pub mod set_regions;
pub mod show;
pub mod signing;
pub mod update_terms;
pub mod verify;
pub mod versions;

use alloy::primitives::U256;
use anyhow::Context as _;
use cairn_bindings::{
    ModelRegistry,
    model_registry::IModelRegistry::{Model, ModelVersion},
};
use cairn_protocol::{RegionMask, Runtime};
use clap::Subcommand;
use serde::Serialize;

use crate::{
    Context,
    cmd::Market,
    output::{AmountView, TokenInfo},
};

/// Model commands.
// A variant's help is its Args struct's doc comment, Examples included: a doc comment on the variant would
// replace it.
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    Publish(publish::PublishArgs),
    PublishVersion(publish::PublishVersionArgs),
    Verify(verify::VerifyArgs),
    Pull(pull::PullArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Versions(versions::VersionsArgs),
    UpdateTerms(update_terms::UpdateTermsArgs),
    SetRegions(set_regions::SetRegionsArgs),
    Deprecate(deprecate::DeprecateArgs),
}

impl ModelCommand {
    /// Runs it.
    ///
    /// Errors: the command's.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Self::Publish(a) => a.run(ctx).await,
            Self::PublishVersion(a) => a.run(ctx).await,
            Self::Verify(a) => a.run(ctx).await,
            Self::Pull(a) => a.run(ctx).await,
            Self::List(a) => a.run(ctx).await,
            Self::Show(a) => a.run(ctx).await,
            Self::Versions(a) => a.run(ctx).await,
            Self::UpdateTerms(a) => a.run(ctx).await,
            Self::SetRegions(a) => a.run(ctx).await,
            Self::Deprecate(a) => a.run(ctx).await,
        }
    }
}

/// A model and its latest version.
pub struct Listing {
    /// Seller, latest version, deprecated.
    pub model: Model,
    /// The latest version's number.
    pub version: u64,
    /// The latest version.
    pub terms: ModelVersion,
}

/// Reads model `id` and its latest version.
///
/// Errors: no such model (the registry's `UnknownModel`, decoded); the chain.
pub async fn listing(market: &Market, id: U256) -> anyhow::Result<Listing> {
    let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
    let model = registry.getModel(id).call().await.map_err(|e| unknown_model(market, id, e))?;
    let version = model.latestVersion;
    let terms = registry.getVersion(id, version).call().await.with_context(|| format!("reading model {id}"))?;
    Ok(Listing { model, version, terms })
}

fn unknown_model(market: &Market, id: U256, e: alloy::contract::Error) -> anyhow::Error {
    if e.as_decoded_error::<ModelRegistry::UnknownModel>().is_some() {
        anyhow::anyhow!("model {id} does not exist on chain {} (see `cairn model list`)", market.chain.chain_id())
    } else {
        anyhow::Error::new(e).context(format!("reading model {id}"))
    }
}

/// One version as commands print it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// Its number (from 1).
    pub version: u64,
    /// The manifest's CID.
    pub manifest_cid: String,
    /// sha256 of the manifest.
    pub manifest_digest: String,
    /// sha256 of the weights.
    pub weights_digest: String,
    /// The runtime's name when known, else its id.
    pub runtime: String,
    /// Royalty per job.
    pub price_per_call: AmountView,
    /// Licence price (0: none needed).
    pub license_price: AmountView,
    /// Licence period, seconds.
    pub license_period_seconds: u64,
    /// Regions, e.g. `EU,US`.
    pub regions: String,
    /// When it was registered (unix seconds).
    pub registered_at: u64,
}

impl VersionView {
    /// `v` with its token's formatting.
    pub fn new(version: u64, v: &ModelVersion, token: &TokenInfo) -> Self {
        let regions = u64::try_from(v.regionMask)
            .ok()
            .and_then(|bits| RegionMask::from_bits(bits).ok())
            .map_or_else(|| format!("mask {}", v.regionMask), |m| m.to_string());
        Self {
            version,
            manifest_cid: v.manifestCid.clone(),
            manifest_digest: v.manifestDigest.to_string(),
            weights_digest: v.weightsDigest.to_string(),
            runtime: Runtime::from_id(v.runtime).map_or_else(|| v.runtime.to_string(), |r| r.to_string()),
            price_per_call: token.amount(v.pricePerCall),
            license_price: token.amount(v.licensePrice),
            license_period_seconds: v.licensePeriod,
            regions,
            registered_at: v.registeredAt,
        }
    }

    /// Multi-line text.
    pub fn text(&self) -> String {
        let license = if self.license_price.raw == "0" {
            "none needed".to_string()
        } else {
            format!("{} for {} s", self.license_price.human, self.license_period_seconds)
        };
        format!(
            "  version {}\n    manifest   {} (sha256 {})\n    weights    sha256 {}\n    runtime    {}\n    price      {} per \
             call\n    licence    {license}\n    regions    {}\n    registered {} (unix seconds)\n",
            self.version,
            self.manifest_cid,
            self.manifest_digest,
            self.weights_digest,
            self.runtime,
            self.price_per_call.human,
            self.regions,
            self.registered_at
        )
    }
}

/// A region list from the command line (`EU,US`, case-insensitive, or `ALL`).
///
/// Errors: an unknown code, named, with every valid code.
pub fn parse_regions(text: &str) -> Result<RegionMask, crate::UsageError> {
    text.parse().map_err(|e| {
        crate::UsageError(format!(
            "{e}; regions are EU, UK, CH, US, CA, BR, JP, KR, SG, IN, AU, OTHER, comma-separated, or ALL"
        ))
    })
}

/// Refuses to act on a model the signing account does not sell, before anything is sent.
///
/// Errors: another seller; a deprecated model.
pub fn ensure_seller(market: &Market, id: U256, listing: &Listing) -> anyhow::Result<()> {
    ensure_seller_is(id, listing, market.account())
}

/// Refuses to act on model `id` for `seller` unless it sells it and it is not deprecated.
///
/// Errors: another seller; a deprecated model.
pub fn ensure_seller_is(id: U256, listing: &Listing, seller: alloy::primitives::Address) -> anyhow::Result<()> {
    if listing.model.seller != seller {
        anyhow::bail!("model {id} is sold by {}, not by {seller}; sign with the seller's key", listing.model.seller);
    }
    if listing.model.deprecated {
        anyhow::bail!("model {id} is deprecated; it takes no new versions or terms");
    }
    Ok(())
}
