//! `cairn model verify <id>`: the provenance report of a version, every byte checked against the chain.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use anyhow::{Context as _, bail};
use clap::Args;
use futures_util::TryStreamExt;
use serde::Serialize;

use crate::{
    Context,
    cmd::{
        Market,
        model::fetch::{self, Registered},
    },
    oms,
};

/// Check a model version end to end and print its provenance.
///
/// Fetches the manifest and every file from IPFS and checks each against the sha256 the chain holds (the
/// manifest's digest is registered; the files' digests are in the manifest, and the weights' is registered
/// too), the seller's EIP-712 signature over the listing (rebuilt from the registration event), and the
/// OpenSSF Model Signing bundle against the manifest's key and file list. Nothing is written to disk.
///
/// Examples:
///   cairn model verify 1
///   cairn model verify 1 --version 2 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// The version [default: the latest].
    #[arg(long)]
    pub version: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileReport {
    path: String,
    size: u64,
    sha256: String,
}

/// The provenance report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    model_id: String,
    version: u64,
    seller: Address,
    seller_did: String,
    seller_signature: String,
    block: u64,
    block_time: Option<u64>,
    tx: String,
    manifest_cid: String,
    manifest_digest: String,
    root_cid: String,
    runtime: String,
    files: Vec<FileReport>,
    bytes: u64,
    card: serde_json::Value,
    model_signing: String,
}

impl VerifyArgs {
    /// Runs it.
    ///
    /// Errors: the first mismatch found, naming the file (or the manifest, or the signature) and what was
    /// expected; Kubo or the chain down.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let r = fetch::registration(&market, self.model, self.version).await?;
        let seller_signature = match fetch::signer_check(&market, &r) {
            Ok(signer) => format!("valid (EIP-712 ModelManifest, recovers to {signer})"),
            Err(why) if why.starts_with("not an EOA") => why,
            Err(why) => bail!("model {} version {}: the seller's signature is wrong: {why}", r.id, r.version),
        };
        let kubo = fetch::kubo(ctx).await?;
        let (manifest, _) = fetch::manifest(ctx, &kubo, &r).await?;
        check_manifest_against_chain(&r, &manifest)?;
        let root = manifest.root.clone().context("the manifest names no root folder CID; it cannot be fetched")?;
        let total: u64 = manifest.files.iter().map(|f| f.size).sum();
        let bar = ctx.out.bytes_bar(total, "fetching and checking");
        for f in &manifest.files {
            let target = format!("{root}/{}", f.path);
            let mut stream =
                kubo.cat_max(&target, f.sha256, f.size).await.with_context(|| format!("fetching {}", f.path))?;
            while let Some(chunk) = stream.try_next().await.with_context(|| format!("{}: the bytes on IPFS", f.path))? {
                if let Some(b) = &bar {
                    b.inc(chunk.len() as u64);
                }
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let model_signing = match &manifest.model_signing {
            None => "none (the manifest carries no OpenSSF Model Signing entry)".to_string(),
            Some(entry) => check_bundle(ctx, &kubo, &manifest, entry).await?,
        };
        let time = market
            .chain
            .provider()
            .get_block_by_number(r.block.into())
            .await
            .ok()
            .flatten()
            .map(|b| b.header.timestamp);
        let report = Report {
            model_id: r.id.to_string(),
            version: r.version,
            seller: r.seller,
            seller_did: format!("did:pkh:eip155:{}:{}", market.chain.chain_id(), r.seller),
            seller_signature,
            block: r.block,
            block_time: time,
            tx: r.tx.to_string(),
            manifest_cid: r.listing.manifestCid.clone(),
            manifest_digest: r.listing.manifestDigest.to_string(),
            root_cid: root.to_string(),
            runtime: manifest.runtime.clone(),
            files: manifest
                .files
                .iter()
                .map(|f| FileReport { path: f.path.clone(), size: f.size, sha256: f.sha256.to_string() })
                .collect(),
            bytes: total,
            card: serde_json::to_value(&manifest.card).context("the card")?,
            model_signing,
        };
        ctx.out.print(&report, |r| {
            let mut text = format!(
                "Model {} version {}: verified\n  seller     {} ({})\n  signature  {}\n  registered block {}{} tx {}\n  \
                 manifest   {} (sha256 {})\n  root       {}\n  runtime    {}\n  signing    {}\n  files ({} bytes, \
                 each fetched and its sha256 checked):\n",
                r.model_id,
                r.version,
                r.seller,
                r.seller_did,
                r.seller_signature,
                r.block,
                r.block_time.map(|t| format!(" (unix time {t})")).unwrap_or_default(),
                r.tx,
                r.manifest_cid,
                r.manifest_digest,
                r.root_cid,
                r.runtime,
                r.model_signing,
                r.bytes
            );
            for f in &r.files {
                text += &format!("    {:>12}  {}  {}\n", f.size, f.sha256, f.path);
            }
            text += &format!("  card: {}\n", card_summary(&r.card));
            text
        })
    }
}

/// The registered fields the manifest must agree with.
///
/// Errors: the weights' digest or the runtime differ.
pub fn check_manifest_against_chain(
    r: &Registered,
    manifest: &cairn_protocol::manifest::Manifest,
) -> anyhow::Result<()> {
    let weights = manifest.weights_entry().context("the manifest does not list its weights file")?;
    if weights.sha256.0 != r.listing.weightsDigest.0 {
        bail!(
            "the manifest's weights {} have sha256 {}, but the chain registered {}",
            weights.path,
            weights.sha256,
            r.listing.weightsDigest
        );
    }
    let runtime = manifest.runtime().context("the manifest names an unknown runtime")?;
    if runtime.id() != r.listing.runtime {
        bail!("the manifest's runtime {runtime} is not the registered runtime {}", r.listing.runtime);
    }
    Ok(())
}

/// Fetches the bundle, checks it is the manifest's, its signature, and that it signs the manifest's digests.
async fn check_bundle(
    ctx: &Context,
    kubo: &cairn_ipfs::KuboClient,
    manifest: &cairn_protocol::manifest::Manifest,
    entry: &cairn_protocol::manifest::ModelSigning,
) -> anyhow::Result<String> {
    let bundle = fetch_bundle(ctx, kubo, entry).await?;
    let verified = oms::verify_statement(&bundle, &entry.public_key_pem).context("the OpenSSF Model Signing bundle")?;
    if verified.statement_digest != entry.statement_digest {
        bail!("the bundle's statement is not the one the manifest names");
    }
    let listed = manifest.file_digests();
    for (path, digest) in verified.files.iter() {
        if listed.get(path) != Some(digest) {
            bail!("the model signature lists {path} with sha256 {digest}, the manifest does not");
        }
    }
    // And the other way: every file of the manifest is signed, unless the statement says verifiers skip it.
    let ignored: Vec<&str> =
        oms::IGNORED_PATHS.iter().copied().chain(verified.ignore_paths.iter().map(String::as_str)).collect();
    let covered = |path: &str| ignored.iter().any(|i| path == *i || path.starts_with(&format!("{i}/")));
    let unsigned: Vec<&str> =
        listed.iter().map(|(p, _)| p).filter(|p| verified.files.get(p).is_none() && !covered(p)).collect();
    if !unsigned.is_empty() {
        bail!("the manifest lists files the model signature does not cover: {}", unsigned.join(", "));
    }
    let skipped = listed.len() - verified.files.len();
    Ok(format!(
        "valid OpenSSF Model Signing bundle over {} of the manifest's {} files ({skipped} left out by its ignore \
         paths; P-256 key in the manifest)",
        verified.files.len(),
        listed.len()
    ))
}

/// The bundle named by `entry`, fetched from IPFS by its CID and sha256.
///
/// Errors: unavailable or altered.
pub async fn fetch_bundle(
    ctx: &Context,
    kubo: &cairn_ipfs::KuboClient,
    entry: &cairn_protocol::manifest::ModelSigning,
) -> anyhow::Result<Vec<u8>> {
    let bytes = ctx
        .out
        .spin("fetching the model signature", kubo.cat_bytes(entry.bundle_cid.as_str(), entry.bundle_sha256, 1 << 20))
        .await
        .context("fetching the model signature")?;
    Ok(bytes.to_vec())
}

fn card_summary(card: &serde_json::Value) -> String {
    let get = |k: &str| card.get(k).map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    format!("{} — license {}, task {}, languages {}", get("name"), get("license"), get("task"), get("languages"))
}
