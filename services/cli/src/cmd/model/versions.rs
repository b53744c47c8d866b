//! `cairn model versions <id>`: every version, oldest first (history is kept on chain).

use alloy::primitives::U256;
use anyhow::Context as _;
use cairn_bindings::ModelRegistry;
use clap::Args;

use crate::{
    Context,
    cmd::{
        Market,
        model::{VersionView, listing},
    },
};

/// Every version of a model.
///
/// Examples:
///   cairn model versions 1
///   cairn model versions 1 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VersionsArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
}

impl VersionsArgs {
    /// Runs it.
    ///
    /// Errors: an unknown model; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let latest = listing(&market, self.model).await?.version;
        let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
        let mut views = Vec::new();
        for n in 1..=latest {
            let v = registry.getVersion(self.model, n).call().await.with_context(|| format!("reading version {n}"))?;
            let token = market.token(v.paymentToken).await?;
            views.push(VersionView::new(n, &v, &token));
        }
        ctx.out.print(&views, |views| {
            let mut text = format!("Model {}: {} version(s)\n", self.model, views.len());
            for v in views {
                text += &v.text();
            }
            text
        })
    }
}
