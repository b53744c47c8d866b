//! `cairn wallet address`: the address of a keystore (or of the configured signer).

use std::path::PathBuf;

use anyhow::Context as _;
use cairn_chain::{Keystore, PasswordSource, SignerSource};
use clap::Args;
use serde::Serialize;

use crate::{Context, UsageError, context::SignerChoice};

/// Print the address of a keystore, or of the configured signer. A keystore that records its address is
/// read without its password; one that does not is decrypted.
///
/// Examples:
///   cairn wallet address ~/.foundry/keystores/seller
///   cairn --account buyer wallet address
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AddressArgs {
    /// The keystore [default: the configured signer].
    pub keystore: Option<PathBuf>,
}

#[derive(Serialize)]
struct Shown {
    address: alloy::primitives::Address,
}

impl AddressArgs {
    /// Runs it.
    ///
    /// Errors: no keystore given or configured; an unreadable keystore; a wrong password.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let address = match &self.keystore {
            Some(path) => match Keystore::read(path)?.address() {
                Some(a) => a,
                None => {
                    let password =
                        ctx.settings.password_file.clone().map_or(PasswordSource::Prompt, PasswordSource::File);
                    let source = SignerSource::Keystore { path: path.clone(), password };
                    source.load().await.context("the keystore records no address, so it was decrypted")?.address()
                }
            },
            None => match &ctx.settings.signer.value {
                SignerChoice::None => {
                    return Err(UsageError(
                        "which keystore? give its path, or configure a signer (--keystore, --account)".into(),
                    )
                    .into());
                }
                _ => ctx.signing_key().await?.address(),
            },
        };
        ctx.out.print(&Shown { address }, |s| s.address.to_string())
    }
}
