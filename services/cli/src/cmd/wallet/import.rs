//! `cairn wallet import`: an existing key, stored encrypted.

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context as _, bail};
use clap::Args;

use crate::{
    Context, UsageError,
    cmd::wallet::{default_dir, new_password, write_keystore},
};

/// Store an existing private key as an encrypted keystore. The key is read from an environment variable or
/// typed at a hidden prompt, never from a flag (flags land in shell history).
///
/// Examples:
///   cairn wallet import seller
///   SELLER_KEY=0x… cairn wallet import seller --private-key-env SELLER_KEY --password-file pw.txt
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// File name of the keystore in --dir.
    pub name: String,
    /// Folder for keystores [default: ~/.foundry/keystores, cast's].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Read the hex private key from this environment variable instead of a prompt.
    #[arg(long, value_name = "VARIABLE")]
    pub private_key_env: Option<String>,
}

impl ImportArgs {
    /// Runs it.
    ///
    /// Errors: not a private key; the password; as [`write_keystore`].
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let text = match &self.private_key_env {
            Some(var) => std::env::var(var).map_err(|_| UsageError(format!("${var} is not set")))?,
            None => rpassword::prompt_password("Private key (hex): ")
                .context("reading the key from the terminal; use --private-key-env in scripts")?,
        };
        let Ok(key) = text.trim().parse::<PrivateKeySigner>() else {
            bail!(UsageError("that is not a secp256k1 private key: expected 64 hex digits, with or without 0x".into()));
        };
        let dir = match self.dir {
            Some(d) => d,
            None => default_dir()?,
        };
        let password = new_password(ctx.settings.password_file.as_deref())?;
        write_keystore(ctx, &key, password, &dir, &self.name).await
    }
}
