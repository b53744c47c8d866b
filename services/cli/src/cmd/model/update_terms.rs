//! `cairn model update-terms <id>`: the latest version's price per call and licence terms (seller only).
//! Open jobs keep the terms they were requested at; buyers' bounds (interfaces v2) protect requests in
//! flight from a raise.

use alloy::primitives::U256;
use anyhow::bail;
use cairn_bindings::ModelRegistry;
use cairn_protocol::units::parse_secs;
use clap::Args;
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{
        Market, TxView,
        model::{VersionView, ensure_seller, listing},
    },
};

/// Change prices and licence terms of the latest version.
///
/// Fields left out keep their current value. A licence price of 0 makes the model free to use (then the
/// period must be 0 too, and is set so).
///
/// Examples:
///   cairn --account seller model update-terms 1 --price-per-call 0.0002ether
///   cairn model update-terms 7 --license-price 25 --license-period 30d --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct UpdateTermsArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// Royalty per job, in the model's token (ETH needs a unit: 0.0001ether).
    #[arg(long, value_name = "AMOUNT")]
    pub price_per_call: Option<String>,
    /// Licence price (0: no licence needed).
    #[arg(long, value_name = "AMOUNT")]
    pub license_price: Option<String>,
    /// Licence period, e.g. 30d, 12h, 3600.
    #[arg(long, value_name = "DURATION")]
    pub license_period: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Updated {
    pub(super) model_id: String,
    pub(super) before: VersionView,
    pub(super) after: VersionView,
    pub(super) transaction: TxView,
}

impl UpdateTermsArgs {
    /// Runs it.
    ///
    /// Errors: nothing to change; not the seller; bad amounts; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.price_per_call.is_none() && self.license_price.is_none() && self.license_period.is_none() {
            bail!(UsageError(
                "nothing to change: give --price-per-call, --license-price and/or --license-period".into()
            ));
        }
        let market = Market::signing(ctx).await?;
        let l = listing(&market, self.model).await?;
        ensure_seller(&market, self.model, &l)?;
        let token = market.token(l.terms.paymentToken).await?;
        let mut new = l.terms.clone();
        if let Some(text) = &self.price_per_call {
            new.pricePerCall = token.parse(text)?;
        }
        if let Some(text) = &self.license_price {
            new.licensePrice = token.parse(text)?;
        }
        if let Some(text) = &self.license_period {
            new.licensePeriod = parse_secs(text).map_err(|e| UsageError(e.to_string()))?;
        }
        if new.licensePrice.is_zero() && self.license_period.is_none() {
            new.licensePeriod = 0;
        }
        if new.licensePrice.is_zero() != (new.licensePeriod == 0) {
            bail!(UsageError(
                "a licence needs both a price and a period (or neither): set --license-price and --license-period \
                 together"
                    .into()
            ));
        }
        send_terms(ctx, &market, self.model, l.version, &l.terms, new, &token).await
    }
}

/// Shows the change, asks, sends `updateTerms` and prints the result (shared with `set-regions`).
///
/// Errors: refused confirmation; the transaction fails.
pub(super) async fn send_terms(
    ctx: &Context,
    market: &Market,
    id: U256,
    version: u64,
    old: &cairn_bindings::model_registry::IModelRegistry::ModelVersion,
    new: cairn_bindings::model_registry::IModelRegistry::ModelVersion,
    token: &crate::output::TokenInfo,
) -> anyhow::Result<()> {
    let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
    let tx = registry
        .updateTerms(id, new.pricePerCall, new.licensePrice, new.licensePeriod, new.regionMask)
        .into_transaction_request();
    let action = format!("update the terms of model {id}");
    let quote = market.quote(&action, &tx).await?;
    let (before, after) = (VersionView::new(version, old, token), VersionView::new(version, &new, token));
    let summary = format!(
        "Model {id} version {version}\n  price per call  {} → {}\n  licence price   {} → {}\n  licence period  {} s → \
         {} s\n  regions         {} → {}\n  gas             {}\n",
        before.price_per_call.human,
        after.price_per_call.human,
        before.license_price.human,
        after.license_price.human,
        before.license_period_seconds,
        after.license_period_seconds,
        before.regions,
        after.regions,
        quote.line()
    );
    ctx.out.confirm(ctx.yes, &summary)?;
    let (transaction, _) = market.send(ctx, &action, tx).await?;
    let updated = Updated { model_id: id.to_string(), before, after, transaction };
    ctx.out.print(&updated, |u| format!("Terms of model {} updated. {}", u.model_id, u.transaction.line()))
}
