//! `cairn model set-regions <id> <regions>`: where the model may run (seller only).

use alloy::primitives::U256;
use clap::Args;

use crate::{
    Context,
    cmd::{
        Market,
        model::{ensure_seller, listing, parse_regions, update_terms::send_terms},
    },
};

/// Change the regions the model may run in.
///
/// Regions: EU, UK, CH, US, CA, BR, JP, KR, SG, IN, AU, OTHER (comma-separated), or ALL. Jobs already
/// requested keep their regions.
///
/// Examples:
///   cairn --account seller model set-regions 1 EU,UK,CH
///   cairn model set-regions 7 ALL --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SetRegionsArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// The regions, e.g. EU,US.
    pub regions: String,
}

impl SetRegionsArgs {
    /// Runs it.
    ///
    /// Errors: an unknown region code; not the seller; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let mask = parse_regions(&self.regions)?;
        let market = Market::signing(ctx).await?;
        let l = listing(&market, self.model).await?;
        ensure_seller(&market, self.model, &l)?;
        let token = market.token(l.terms.paymentToken).await?;
        let mut new = l.terms.clone();
        new.regionMask = mask.to_u256();
        send_terms(ctx, &market, self.model, l.version, &l.terms, new, &token).await
    }
}
