//! `cairn job result <id>`: fetches a job's output from IPFS and checks it before showing or writing it: the
//! bytes against the receipt's sha256, the receipt against the job, and the receipt's EIP-712 signature against
//! the signer the JobMarket checked it with at submission.

use std::path::PathBuf;

use alloy::primitives::{B256, U256};
use anyhow::{Context as _, bail};
use cairn_bindings::{OperatorRegistry, enums::job_state};
use cairn_ipfs::{KuboClient, Sha256Digest};
use cairn_protocol::{output::Embeddings, typed};
use clap::Args;
use serde::Serialize;

use super::Job;
use crate::{Context, UsageError, cmd::Market};

/// Most bytes of an output fetched (4,096 rows of 1,024 f32 values and the header fit well within).
const MAX_OUTPUT_BYTES: u64 = 64 << 20;

/// Fetch and check a job's result; print its shape and a preview, or write it.
///
/// The output is fetched by the receipt's CID and must hash to the receipt's sha256; the receipt must be the
/// job's (weights, input, runtime) and signed by the operator's signer key that the JobMarket checked at
/// submission. --format picks what --out holds: the canonical safetensors as fetched, JSON (a list of rows),
/// or NumPy's .npy (float32, [rows, dim]).
///
/// Examples:
///   cairn job result 7
///   cairn job result 7 --out embeddings.safetensors
///   cairn job result 7 --out embeddings.npy --format npy
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ResultArgs {
    /// The job.
    #[arg(value_parser = super::job_id)]
    pub job: U256,
    /// Write the embeddings here (written to a temporary file, then renamed: never a partial file); `-` writes
    /// them to stdout instead of the summary.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// What --out holds.
    #[arg(long, default_value = "safetensors", value_parser = ["safetensors", "json", "npy"])]
    pub format: String,
    /// Overwrite --out when it exists.
    #[arg(long)]
    pub force: bool,
}

/// A checked result, as printed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultView {
    /// The job.
    pub job_id: String,
    /// Its state.
    pub state: String,
    /// The operator.
    pub operator: alloy::primitives::Address,
    /// The key that signed the receipt (the operator's signer at submission).
    pub signer: alloy::primitives::Address,
    /// The operator's signer now (differs when it rotated its key since).
    pub registered_signer: alloy::primitives::Address,
    /// The output's CID.
    pub output_cid: String,
    /// Its sha256, checked.
    pub output_digest: B256,
    /// Energy the operator reported, millijoules.
    pub energy_millijoules: u64,
    /// Rows (one per input sentence) and their length.
    pub shape: [usize; 2],
    /// The first values of the first rows.
    pub preview: Vec<Vec<f32>>,
    /// Where it was written.
    pub written: Option<PathBuf>,
    /// The embeddings, for callers in this crate (the demo's similarity matrix); not printed.
    #[serde(skip)]
    pub embeddings: Option<Embeddings>,
}

impl ResultView {
    /// Fetches and checks the result of job `id`.
    ///
    /// Errors: no such job; no result yet; an output whose digest does not match the receipt; a receipt that is
    /// not the job's or not signed by the operator's signer; IPFS.
    pub async fn fetch(ctx: &Context, market: &Market, id: U256) -> anyhow::Result<Self> {
        let job = Job::read(market, id).await?;
        if job.progress.state < job_state::SUBMITTED || job.progress.outputDigest == B256::ZERO {
            bail!(
                "job {id} has no result yet: it is {}; `cairn job watch {id} --until submitted` waits for one",
                job.state()
            );
        }
        if job.progress.closeReason == cairn_bindings::enums::close_reason::OPERATOR_WRONG {
            bail!(
                "the committee ruled the output of job {id} wrong (the operator was slashed and you were refunded): \
                 there is no result to use"
            );
        }
        let event = job
            .submitted(market)
            .await?
            .with_context(|| format!("job {id} is {} but its ResultSubmitted log is not on this node", job.state()))?;
        let receipt = &event.receipt;
        let t = &job.terms;
        let mismatch = [
            ("jobId", receipt.jobId == id),
            ("weightsDigest", receipt.weightsDigest == t.weightsDigest),
            ("inputDigest", receipt.inputDigest == t.inputDigest),
            ("runtime", receipt.runtime == t.runtime),
            ("outputDigest", receipt.outputDigest == job.progress.outputDigest),
        ]
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| name)
        .collect::<Vec<_>>();
        if !mismatch.is_empty() {
            bail!("the receipt of job {id} does not match the job ({}): do not use this output", mismatch.join(", "));
        }
        let domain = typed::domain(market.chain.chain_id(), market.address("JobMarket")?);
        let recovered = typed::recover(receipt, &domain, &event.signature)
            .map_err(|e| anyhow::anyhow!("the receipt's signature of job {id} is invalid ({e})"))?;
        if recovered != event.signer {
            bail!(
                "the receipt of job {id} was signed by {recovered}, not by the operator's signer {}: do not use \
                 this output",
                event.signer
            );
        }
        let registry = OperatorRegistry::new(market.address("OperatorRegistry")?, market.chain.provider());
        let info = registry.operatorInfo(event.operator).call().await.context("reading the operator")?;

        let kubo = KuboClient::new(&ctx.settings.ipfs_api.value)
            .with_context(|| format!("the IPFS API {}", ctx.settings.ipfs_api.value))?;
        let bytes = ctx
            .out
            .spin(
                &format!("fetching {}", receipt.outputCid),
                kubo.cat_bytes(&receipt.outputCid, Sha256Digest(receipt.outputDigest.0), MAX_OUTPUT_BYTES),
            )
            .await
            .map_err(|e| match e {
                e @ cairn_ipfs::Error::DigestMismatch { .. } => anyhow::Error::new(e).context(format!(
                    "the output of job {id} at {} does not match its receipt's sha256: do not use it; `cairn job \
                     challenge {id}` disputes it while the window is open",
                    receipt.outputCid
                )),
                e => anyhow::Error::new(e).context(format!("fetching the output {} from IPFS", receipt.outputCid)),
            })?;
        let embeddings = Embeddings::from_safetensors(&bytes).with_context(|| {
            format!("the output of job {id} matches its digest but is not a canonical embeddings file")
        })?;
        let preview =
            (0..embeddings.rows.min(3)).map(|r| embeddings.row(r).iter().take(4).copied().collect()).collect();
        Ok(Self {
            job_id: id.to_string(),
            state: job.state(),
            operator: event.operator,
            signer: event.signer,
            registered_signer: info.signer,
            output_cid: receipt.outputCid.clone(),
            output_digest: receipt.outputDigest,
            energy_millijoules: receipt.energyMillijoules,
            shape: [embeddings.rows, embeddings.dim],
            preview,
            written: None,
            embeddings: Some(embeddings),
        })
    }
}

impl ResultArgs {
    /// Runs it.
    ///
    /// Errors: as [`ResultView::fetch`]; --out exists without --force; writing the file.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if let Some(out) = &self.out
            && out.as_os_str() != "-"
            && out.exists()
            && !self.force
        {
            bail!(UsageError(format!("{} exists; pass --force to overwrite it", out.display())));
        }
        if let Some(out) = &self.out
            && out.is_dir()
        {
            bail!(UsageError(format!("{} is a folder; give a file name for --out", out.display())));
        }
        let market = Market::read(ctx).await?;
        let mut view = ResultView::fetch(ctx, &market, self.job).await?;
        if let Some(out) = &self.out {
            let e = view.embeddings.as_ref().expect("fetch keeps the embeddings");
            let bytes = match self.format.as_str() {
                "json" => serde_json::to_vec(&(0..e.rows).map(|r| e.row(r)).collect::<Vec<_>>())?,
                "npy" => npy(e),
                _ => e.to_safetensors(),
            };
            if out.as_os_str() == "-" {
                use std::io::Write as _;
                let mut stdout = std::io::stdout().lock();
                return match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                    _ => Ok(()),
                };
            }
            cairn_primitives::fs::write_atomic(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            view.written = Some(out.clone());
        }
        ctx.out.print(&view, |v| {
            let mut text = format!(
                "Job {} result: {} rows × {} ({}), checked\n  output   {} (sha256 {})\n  operator {} (receipt signed \
                 by {})\n",
                v.job_id, v.shape[0], v.shape[1], v.state, v.output_cid, v.output_digest, v.operator, v.signer
            );
            if v.registered_signer != v.signer {
                text += &format!("  note     the operator's signer is now {}\n", v.registered_signer);
            }
            for (i, row) in v.preview.iter().enumerate() {
                let values: Vec<String> = row.iter().map(|x| format!("{x:+.4}")).collect();
                text += &format!("  row {i}    [{}, …]\n", values.join(", "));
            }
            if let Some(w) = &v.written {
                text += &format!("  written  {}\n", w.display());
            }
            text
        })
    }
}

/// NumPy's `.npy` format, version 1.0 (NEP 1): the magic, a little-endian u16 header length, the header dict
/// padded with spaces to a multiple of 64 bytes ending in `\n`, then the float32 values row after row.
pub fn npy(e: &Embeddings) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", e.rows, e.dim);
    let unpadded = 10 + header.len() + 1;
    header.extend(std::iter::repeat_n(' ', unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + e.data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&u16::try_from(header.len()).expect("a short header").to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in &e.data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_has_the_v1_layout() {
        let e = Embeddings { rows: 2, dim: 3, data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0] };
        let bytes = npy(&e);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + header_len) % 64, 0, "the data starts 64-byte aligned");
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'shape': (2, 3)") && header.ends_with('\n'), "{header}");
        assert_eq!(bytes.len(), 10 + header_len + 24);
        assert_eq!(f32::from_le_bytes(bytes[10 + header_len..14 + header_len].try_into().unwrap()), 1.0);
    }
}
