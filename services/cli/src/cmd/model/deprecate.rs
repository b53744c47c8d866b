//! `cairn model deprecate <id>`: no new jobs or licences, for good (seller only). Open jobs settle as usual.

use alloy::primitives::U256;
use cairn_bindings::ModelRegistry;
use clap::Args;
use serde::Serialize;

use crate::{
    Context,
    cmd::{
        Market, TxView,
        model::{ensure_seller, listing},
    },
};

/// Deprecate a model: it takes no new jobs or licences. This cannot be undone.
///
/// Examples:
///   cairn --account seller model deprecate 1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DeprecateArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Deprecated {
    model_id: String,
    transaction: TxView,
}

impl DeprecateArgs {
    /// Runs it.
    ///
    /// Errors: not the seller; already deprecated; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let l = listing(&market, self.model).await?;
        ensure_seller(&market, self.model, &l)?;
        let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
        let tx = registry.deprecate(self.model).into_transaction_request();
        let action = format!("deprecate model {}", self.model);
        let quote = market.quote(&action, &tx).await?;
        ctx.out.confirm(
            ctx.yes,
            &format!(
                "Deprecate model {} for good: no new jobs or licences (open jobs settle as usual).\n  gas {}\n",
                self.model,
                quote.line()
            ),
        )?;
        let (transaction, _) = market.send(ctx, &action, tx).await?;
        let done = Deprecated { model_id: self.model.to_string(), transaction };
        ctx.out.print(&done, |d| format!("Model {} deprecated. {}", d.model_id, d.transaction.line()))
    }
}
