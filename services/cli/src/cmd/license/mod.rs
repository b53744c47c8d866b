//! `cairn license buy|show`.

pub mod buy;
pub mod show;

use clap::Subcommand;

use crate::Context;

/// Licence commands.
// A variant's help is its Args struct's doc comment, Examples included: a doc comment on the variant would
// replace it.
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    Buy(buy::BuyArgs),
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
