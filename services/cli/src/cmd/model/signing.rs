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

/// The environment variable holding the signing key's password.
pub const PASSWORD_ENV: &str = "CAIRN_SIGNING_PASSWORD";

/// Where `seller`'s model-signing key is kept.
pub fn key_path(seller: Address) -> anyhow::Result<PathBuf> {
    let dir = dirs::config_dir().context("no config folder for the model-signing key (set HOME)")?;
    Ok(dir.join("cairn/model-signing").join(format!("{seller}.json")))
}

fn password(ctx: &Context, path: &Path) -> anyhow::Result<String> {
    if let Some(file) = &ctx.settings.password_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    if matches!(ctx.settings.signer.value, SignerChoice::Devnet { .. }) {
        return Ok("cairn-devnet".into());
    }
    let prompt = format!("Password of the model-signing key {}: ", path.display());
    rpassword::prompt_password(prompt)
        .map_err(|e| UsageError(format!("cannot read the password ({e}); set ${PASSWORD_ENV} or pass --password-file")))
        .map_err(Into::into)
}

/// Signs the published files of `dir` and writes `model.sig` into it. `skipped` are the relative paths the
/// folder scan left out (they go into the statement's `ignore_paths`).
///
/// Errors: a wrong password; the folder changed since it was scanned; the folder cannot be written.
pub async fn sign(
    ctx: &Context,
    seller: Address,
    dir: &Path,
    files: &[AddedFile],
    skipped: &[String],
) -> anyhow::Result<Signed> {
    let path = key_path(seller)?;
    let password = password(ctx, &path)?;
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
    let (dir, skipped) = (dir.to_path_buf(), skipped.to_vec());
    let (signed, created) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Signed, bool)> {
        let loaded = oms::load_or_create_signing_key(&path, &password)
            .with_context(|| format!("the model-signing key {}", path.display()))?;
        let signed = oms::sign_folder_ignoring(&dir, &digests, &loaded.key, &skipped)
            .with_context(|| format!("signing {}", dir.display()))?;
        cairn_primitives::fs::write_atomic(&dir.join(oms::BUNDLE_FILE), &signed.bundle)
            .with_context(|| format!("writing {}", dir.join(oms::BUNDLE_FILE).display()))?;
        Ok((signed, loaded.created))
    })
    .await
    .context("signing the folder")??;
    if created {
        ctx.out.note(&format!(
            "made a model-signing key (P-256, OpenSSF Model Signing) at {}; keep it with your keystore",
            key_path(seller)?.display()
        ));
    }
    Ok(signed)
}
