//! `cairn model show <id>`: a model's seller, status and latest version.

use alloy::primitives::{Address, U256};
use clap::Args;
use serde::Serialize;

use crate::{
    Context,
    cmd::{
        Market,
        model::{VersionView, listing},
    },
};

/// Show a model.
///
/// Examples:
///   cairn model show 1
///   cairn model show 1 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    model_id: String,
    seller: Address,
    /// The seller as a CAIP-10 / did:pkh identifier.
    seller_did: String,
    deprecated: bool,
    latest_version: u64,
    latest: VersionView,
}

impl ShowArgs {
    /// Runs it.
    ///
    /// Errors: an unknown model; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let l = listing(&market, self.model).await?;
        let token = market.token(l.terms.paymentToken).await?;
        let shown = Shown {
            model_id: self.model.to_string(),
            seller: l.model.seller,
            seller_did: format!("did:pkh:eip155:{}:{}", market.chain.chain_id(), l.model.seller),
            deprecated: l.model.deprecated,
            latest_version: l.version,
            latest: VersionView::new(l.version, &l.terms, &token),
        };
        ctx.out.print(&shown, |s| {
            let status = if s.deprecated { "deprecated (no new jobs or licences)" } else { "listed" };
            format!("Model {}: {status}\n  seller {} ({})\n{}", s.model_id, s.seller, s.seller_did, s.latest.text())
        })
    }
}
