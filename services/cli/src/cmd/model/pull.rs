//! `cairn model pull <id> --out <dir>`: a verified copy of a model version (the market's
//! `snapshot_download`): every file lands only after its sha256 matched the manifest the chain registered.

use std::path::PathBuf;

use alloy::primitives::U256;
use anyhow::{Context as _, bail};
use clap::Args;
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{
        Market,
        model::{fetch, verify},
    },
    oms,
};

/// Download a verified copy of a model version.
///
/// Each file is fetched from IPFS into a temporary file and moved into --out only once its sha256 equals
/// the manifest's (whose own sha256 is registered on chain); the seller's listing signature and the OpenSSF
/// Model Signing bundle (written as model.sig) are checked too, so `model_signing verify key` accepts the
/// folder with the manifest's public key.
///
/// Examples:
///   cairn model pull 1 --out ./minilm
///   cairn model pull 1 --version 2 --out ./minilm-v2 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PullArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// The folder to create (it must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// The version [default: the latest].
    #[arg(long)]
    pub version: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pulled {
    model_id: String,
    version: u64,
    out: PathBuf,
    files: usize,
    bytes: u64,
    manifest_cid: String,
    public_key_pem: Option<String>,
}

impl PullArgs {
    /// Runs it.
    ///
    /// Errors: --out exists and is not empty; the seller's signature, the manifest or a file does not match
    /// (files already in place were verified; the rest are not written); Kubo or the chain down.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.out.exists() && std::fs::read_dir(&self.out).map(|mut d| d.next().is_some()).unwrap_or(true) {
            bail!(UsageError(format!("{} exists and is not empty; pull into a new folder", self.out.display())));
        }
        let market = Market::read(ctx).await?;
        let r = fetch::registration(&market, self.model, self.version).await?;
        if let Err(why) = fetch::signer_check(&market, &r)
            && !why.starts_with("not an EOA")
        {
            bail!("model {} version {}: the seller's signature is wrong: {why}; nothing was written", r.id, r.version);
        }
        let kubo = fetch::kubo(ctx).await?;
        let (manifest, _) = fetch::manifest(ctx, &kubo, &r).await?;
        verify::check_manifest_against_chain(&r, &manifest)?;
        let root = manifest.root.clone().context("the manifest names no root folder CID; it cannot be fetched")?;
        // Everything lands in a staging folder beside --out, renamed into place once every check passed: a
        // failed pull leaves no half-filled --out (the staging folder is removed), and a rerun starts clean.
        let name = self.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
        let staging = self.out.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
        let result = self.fetch_into(ctx, &kubo, &manifest, &root, &staging).await;
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e.context(format!("nothing was written to {}", self.out.display())));
        }
        if self.out.exists() {
            std::fs::remove_dir(&self.out).with_context(|| format!("replacing the empty {}", self.out.display()))?;
        }
        std::fs::rename(&staging, &self.out).with_context(|| format!("moving the copy into {}", self.out.display()))?;
        let total: u64 = manifest.files.iter().map(|f| f.size).sum();
        let pulled = Pulled {
            model_id: r.id.to_string(),
            version: r.version,
            out: self.out.clone(),
            files: manifest.files.len(),
            bytes: total,
            manifest_cid: r.listing.manifestCid.clone(),
            public_key_pem: manifest.model_signing.as_ref().map(|m| m.public_key_pem.clone()),
        };
        ctx.out.print(&pulled, |p| {
            format!(
                "Pulled model {} version {} into {}: {} files, {} bytes, each checked against the registered manifest.",
                p.model_id,
                p.version,
                p.out.display(),
                p.files,
                p.bytes
            )
        })
    }

    /// Fetches every file of `manifest` (and the model signature) into `dir`, each checked.
    async fn fetch_into(
        &self,
        ctx: &Context,
        kubo: &cairn_ipfs::KuboClient,
        manifest: &cairn_protocol::manifest::Manifest,
        root: &cairn_ipfs::Cid,
        dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        let total: u64 = manifest.files.iter().map(|f| f.size).sum();
        let bar = ctx.out.bytes_bar(total, "downloading");
        for f in &manifest.files {
            let dest = dir.join(&f.path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            let target = format!("{root}/{}", f.path);
            let written = kubo.cat_to_file_max(&target, f.sha256, &dest, f.size).await.with_context(|| {
                format!("{}: not written (the bytes on IPFS do not match, or are unavailable)", f.path)
            })?;
            if let Some(b) = &bar {
                b.inc(written);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if let Some(entry) = &manifest.model_signing {
            let bundle = verify::fetch_bundle(ctx, kubo, entry).await?;
            cairn_primitives::fs::write_atomic(&dir.join(oms::BUNDLE_FILE), &bundle)?;
            let entry = oms::ModelSigning { bundle: oms::BUNDLE_FILE.to_owned(), ..entry.clone() };
            oms::verify_model_signing(dir, &entry).context("the pulled folder's model signature")?;
        }
        Ok(())
    }
}
