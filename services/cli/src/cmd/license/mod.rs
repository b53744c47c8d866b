//! `cairn license buy|show`.

pub mod buy;
pub mod show;

use clap::Subcommand;

use crate::Context;

/// Licence commands.
#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Buy (or extend) a licence of a model at the terms shown, after confirming.
    Buy(buy::BuyArgs),
    /// Show an account's licence of a model and the model's licence terms.
    Show(show::ShowArgs),
}

impl LicenseCommand {
    /// Runs it.
    ///
    /// Errors: the command's.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Self::Buy(a) => a.run(ctx).await,
            Self::Show(a) => a.run(ctx).await,
        }
    }
}
