//! The seller's OpenSSF Model Signing key and `model.sig` for `publish` (the format is in [`crate::oms`]).
//!
//! The P-256 key lives, encrypted like a keystore, at `~/.config/cairn/model-signing/<seller>.json` (made on
//! first use). Its password: `--password-file` when given (the keystore's), else `$CAIRN_SIGNING_PASSWORD`,
//! else for a devnet account the public devnet password `cairn-devnet`, else typed at a prompt.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use anyhow::{Context as _, bail};
use cairn_ipfs::AddedFile;
use cairn_primitives::FileDigests;

use crate::{
    Context, UsageError,
    context::SignerChoice,
    oms::{self, IGNORED_PATHS, Signed},
};
use p256::ecdsa::SigningKey;

/// The environment variable holding the signing key's password.
pub const PASSWORD_ENV: &str = "CAIRN_SIGNING_PASSWORD";

/// Where `seller`'s model-signing key is kept.
pub fn key_path(seller: Address) -> anyhow::Result<PathBuf> {
    let dir = dirs::config_dir().context("no config folder for the model-signing key (set HOME)")?;
    Ok(dir.join("cairn/model-signing").join(format!("{seller}.json")))
}

fn password(ctx: &Context, path: &Path, creating: bool) -> anyhow::Result<String> {
    if let Some(file) = &ctx.settings.password_file {
        return Ok(cairn_chain::signer::read_password_file(file)?);
    }
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    if matches!(ctx.settings.signer.value, SignerChoice::Devnet { .. }) {
        return Ok("cairn-devnet".into());
    }
    let unreadable = |e: std::io::Error| {
        UsageError(format!("cannot read the password ({e}); set ${PASSWORD_ENV} or pass --password-file"))
    };
    if creating {
        ctx.out.note(&format!("making your model-signing key (P-256, OpenSSF Model Signing) at {}", path.display()));
        let first = rpassword::prompt_password("New password for the model-signing key: ").map_err(unreadable)?;
        let again = rpassword::prompt_password("Repeat the password: ").map_err(unreadable)?;
        if first != again {
            bail!(UsageError("the two passwords differ; nothing was made".into()));
        }
        return Ok(first);
    }
    let prompt = format!("Password of the model-signing key {}: ", path.display());
    Ok(rpassword::prompt_password(prompt).map_err(unreadable)?)
}

/// `seller`'s model-signing key, loaded (or made, on first use) before anything is pinned, so a wrong or
/// missing password fails early.
///
/// Errors: a wrong password; an unreadable key file; no terminal to ask on and no password source.
pub async fn load_key(ctx: &Context, seller: Address) -> anyhow::Result<SigningKey> {
    let path = key_path(seller)?;
    let password = password(ctx, &path, !path.exists())?;
    let shown = path.clone();
    let loaded = tokio::task::spawn_blocking(move || oms::load_or_create_signing_key(&path, &password))
        .await
        .context("loading the model-signing key")?
        .with_context(|| format!("the model-signing key {}", shown.display()))?;
    if loaded.created {
        ctx.out.note(&format!("made a model-signing key at {}; keep it with your keystore", shown.display()));
    }
    Ok(loaded.key)
}

/// Signs the published files of `dir` as the model `name` and writes `model.sig` into it. `skipped` are the
/// relative paths the folder scan left out (they go into the statement's `ignore_paths`).
///
/// Errors: the folder changed since it was scanned; the folder cannot be written.
pub async fn sign(
    key: SigningKey,
    name: &str,
    dir: &Path,
    files: &[AddedFile],
    skipped: &[String],
) -> anyhow::Result<Signed> {
    let mut digests = FileDigests::new();
    for f in files {
        let ignored = IGNORED_PATHS.iter().any(|i| f.path == *i || f.path.starts_with(&format!("{i}/")));
        if !ignored {
            digests.insert(f.path.clone(), f.sha256);
        }
    }
    if digests.is_empty() {
        bail!("no file of {} is covered by a model signature", dir.display());
    }
    let (dir, skipped, name) = (dir.to_path_buf(), skipped.to_vec(), name.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<Signed> {
        let signed = oms::sign_folder_as(&dir, &name, &digests, &key, &skipped)
            .with_context(|| format!("signing {}", dir.display()))?;
        cairn_primitives::fs::write_atomic(&dir.join(oms::BUNDLE_FILE), &signed.bundle)
            .with_context(|| format!("writing {}", dir.join(oms::BUNDLE_FILE).display()))?;
        Ok(signed)
    })
    .await
    .context("signing the folder")?
}
