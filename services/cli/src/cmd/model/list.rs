//! `cairn model list`: every model with its latest terms.

use alloy::primitives::{Address, U256};
use anyhow::Context as _;
use cairn_bindings::ModelRegistry;
use clap::Args;
use serde::Serialize;

use crate::{
    Context,
    cmd::{
        Market,
        model::{VersionView, listing},
    },
};

/// List models.
///
/// Examples:
///   cairn model list
///   cairn model list --seller 0xb56e… --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Only this seller's models.
    #[arg(long)]
    pub seller: Option<Address>,
    /// Include deprecated models.
    #[arg(long)]
    pub all: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    model_id: String,
    seller: Address,
    deprecated: bool,
    latest: VersionView,
}

impl ListArgs {
    /// Runs it.
    ///
    /// Errors: the chain or the deployments.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
        let count = registry.modelCount().call().await.context("reading the model count")?;
        let mut rows = Vec::new();
        let mut id = U256::from(1);
        while id <= count {
            let l = listing(&market, id).await?;
            let shown = (self.all || !l.model.deprecated) && self.seller.is_none_or(|s| s == l.model.seller);
            if shown {
                let token = market.token(l.terms.paymentToken).await?;
                rows.push(Row {
                    model_id: id.to_string(),
                    seller: l.model.seller,
                    deprecated: l.model.deprecated,
                    latest: VersionView::new(l.version, &l.terms, &token),
                });
            }
            id += U256::from(1);
        }
        ctx.out.print(&rows, |rows| {
            if rows.is_empty() {
                return "No models listed yet (sellers list them with `cairn model publish <dir>`).".into();
            }
            let mut text = String::new();
            for r in rows {
                let flag = if r.deprecated { " (deprecated)" } else { "" };
                text += &format!(
                    "model {}{flag}: v{} by {}, {} per call, regions {}, {}\n",
                    r.model_id,
                    r.latest.version,
                    r.seller,
                    r.latest.price_per_call.human,
                    r.latest.regions,
                    r.latest.runtime
                );
            }
            text
        })
    }
}
