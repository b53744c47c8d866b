//! `cairn license show <model>`: an account's licence of a model and the model's licence terms.

use alloy::primitives::{Address, U256};
use anyhow::Context as _;
use cairn_bindings::ModelRegistry;
use clap::Args;
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{
        Market,
        model::{Listing, listing},
    },
    output::AmountView,
};

/// Show a licence and the licence terms.
///
/// Examples:
///   cairn --account buyer license show 1
///   cairn license show 1 --address 0x93a9… --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// Whose licence (default: the configured signer's address).
    #[arg(long)]
    pub address: Option<Address>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    model_id: String,
    account: Address,
    required: bool,
    active: bool,
    expiry: u64,
    price: AmountView,
    period_seconds: u64,
}

impl ShowArgs {
    /// Runs it.
    ///
    /// Errors: no account to show; an unknown model; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let account = self.address.or_else(|| ctx.account_hint()).ok_or_else(|| {
            UsageError("whose licence? pass --address <account>, or configure a signer (--keystore, --account)".into())
        })?;
        let market = Market::read(ctx).await?;
        let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
        let Listing { terms, .. } = listing(&market, self.model).await?;
        let token = market.token(terms.paymentToken).await?;
        let expiry = registry.licenseExpiry(self.model, account).call().await.context("reading the licence")?;
        let now = market.now().await?;
        let shown = Shown {
            model_id: self.model.to_string(),
            account,
            required: !terms.licensePrice.is_zero(),
            active: expiry > now,
            expiry,
            price: token.amount(terms.licensePrice),
            period_seconds: terms.licensePeriod,
        };
        ctx.out.print(&shown, |s| {
            let status = match (s.required, s.active) {
                (false, _) => "no licence needed".to_string(),
                (true, true) => format!("active until {} (unix seconds)", s.expiry),
                (true, false) if s.expiry == 0 => "none".to_string(),
                (true, false) => format!("expired at {} (unix seconds)", s.expiry),
            };
            format!(
                "Model {} licence for {}: {status}\n  terms: {} for {} s",
                s.model_id, s.account, s.price.human, s.period_seconds
            )
        })
    }
}
