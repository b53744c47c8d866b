//! `cairn wallet new`: a fresh secp256k1 key, stored encrypted.

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;
use clap::Args;

use crate::{
    Context,
    cmd::wallet::{default_dir, new_password, write_keystore},
};

/// Create a new key and store it as an encrypted keystore (Web3 Secret Storage v3, scrypt), readable by
/// `cast wallet` and geth. The key is never printed.
///
/// Examples:
///   cairn wallet new seller
///   cairn wallet new ci-seller --dir ./keys --password-file ./keys/ci.pass
///   cairn --keystore ~/.foundry/keystores/seller model list
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct NewArgs {
    /// File name of the keystore in --dir.
    pub name: String,
    /// Folder for keystores [default: ~/.foundry/keystores, cast's].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

impl NewArgs {
    /// Runs it.
    ///
    /// Errors: as [`write_keystore`]; the password.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let dir = match self.dir {
            Some(d) => d,
            None => default_dir()?,
        };
        let password = new_password(ctx.settings.password_file.as_deref())?;
        write_keystore(ctx, &PrivateKeySigner::random(), password, &dir, &self.name).await
    }
}
