//! `cairn wallet new|import|address|list`: Web3 Secret Storage keystores, in the folder `cast wallet` uses
//! (`~/.foundry/keystores`), so each tool reads what the other writes.

pub mod address;
pub mod import;
pub mod list;
pub mod new;

use std::path::{Path, PathBuf};

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context as _, bail};
use cairn_chain::{Keystore, keystore::NEW_KEYSTORE_KDF};
use clap::Subcommand;
use serde::Serialize;

use crate::{Context, UsageError};

/// Wallet (keystore) commands.
// A variant's help is its Args struct's doc comment, Examples included: a doc comment on the variant would
// replace it.
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    New(new::NewArgs),
    Import(import::ImportArgs),
    Address(address::AddressArgs),
    List(list::ListArgs),
}

impl WalletCommand {
    /// Runs it.
    ///
    /// Errors: the command's.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Self::New(a) => a.run(ctx).await,
            Self::Import(a) => a.run(ctx).await,
            Self::Address(a) => a.run(ctx).await,
            Self::List(a) => a.run(ctx).await,
        }
    }
}

/// `~/.foundry/keystores`, where `cast wallet` keeps keystores.
pub fn default_dir() -> anyhow::Result<PathBuf> {
    let home = dirs::home_dir().context("no home folder to keep keystores in; pass --dir")?;
    Ok(home.join(".foundry/keystores"))
}

/// The password for a new keystore: the first line of `file`, or typed twice at a prompt (never echoed).
///
/// Errors: an unreadable or empty file; the two typed passwords differ; no terminal.
pub fn new_password(file: Option<&Path>) -> anyhow::Result<String> {
    if let Some(file) = file {
        let line = cairn_chain::signer::read_password_file(file)?;
        if line.is_empty() {
            bail!(UsageError(format!("password file {} is empty; its first line is the password", file.display())));
        }
        return Ok(line);
    }
    let first = rpassword::prompt_password("New keystore password: ")
        .context("reading the password from the terminal; pass --password-file in scripts")?;
    if first.is_empty() {
        bail!(UsageError("an empty password protects nothing; type one, or pass --password-file".into()));
    }
    let again = rpassword::prompt_password("Repeat the password: ")?;
    if first != again {
        bail!("the two passwords differ; nothing was written");
    }
    Ok(first)
}

/// A keystore written by `new` or `import`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    /// The account.
    pub address: alloy::primitives::Address,
    /// The file.
    pub keystore: PathBuf,
}

/// Encrypts `key` and writes it to `dir/name` (mode 0600, atomically), refusing to replace a file.
///
/// Errors: the file exists; a bad name; the folder cannot be created or written.
pub async fn write_keystore(
    ctx: &Context,
    key: &PrivateKeySigner,
    password: String,
    dir: &Path,
    name: &str,
) -> anyhow::Result<()> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        bail!(UsageError(format!("`{name}` is not a keystore name: use letters, digits, - and _ (no path)")));
    }
    let path = dir.join(name);
    if path.exists() {
        bail!("{} exists; keystores are never overwritten: choose another name", path.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = key.clone();
    let text = tokio::task::spawn_blocking(move || Keystore::encrypt(&key.clone(), &password, NEW_KEYSTORE_KDF))
        .await
        .context("encrypting the key")??;
    cairn_primitives::fs::write_atomic_private(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    let written =
        Written { address: Keystore::read(&path)?.address().context("the written keystore")?, keystore: path };
    ctx.out.print(&written, |w| {
        format!("{}\n  keystore {} (keep a backup; the password cannot be recovered)", w.address, w.keystore.display())
    })
}
