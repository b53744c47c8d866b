//! `cairn job result <id>`: fetches a job's output from IPFS and checks it before showing or writing it: the
//! bytes against the receipt's sha256, the receipt against the job, and the receipt's EIP-712 signature against
//! the signer the JobMarket checked it with at submission. `--spot-check N` re-executes N random rows with
//! `cairn-runner embed` on a local copy of the model and judges the claimed rows by the acceptance rule.

use std::path::PathBuf;

use alloy::primitives::{B256, U256};
use anyhow::{Context as _, bail};
use cairn_bindings::{OperatorRegistry, enums::job_state};
use cairn_ipfs::{KuboClient, Sha256Digest};
use cairn_protocol::{output::Embeddings, typed};
use clap::Args;
use serde::Serialize;

use cairn_protocol::{
    acceptance::{Rejection, Report},
    input::InputLimits,
};

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
/// --spot-check N re-executes N input rows chosen at random on your own machine and checks the operator's rows
/// for them by the acceptance rule (finite, unit norm, cosine >= 0.999 with yours). It runs `cairn-runner embed`
/// (beside `cairn`, or on PATH) on the model version's files in --model-dir, each checked against the version's
/// registered manifest; `cairn model pull` makes such a folder. A failed check says which row, while the challenge
/// window may still be open.
///
/// Examples:
///   cairn job result 7
///   cairn job result 7 --out embeddings.safetensors
///   cairn job result 7 --out embeddings.npy --format npy
///   cairn model pull 1 --out ./minilm && cairn job result 7 --spot-check 3 --model-dir ./minilm
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
    /// Re-execute this many random input rows locally and check the claimed rows for them (all rows when N is
    /// at least the job's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), requires = "model_dir")]
    pub spot_check: Option<u32>,
    /// The job's model version, as `cairn model pull <model> --version <v> --out DIR` writes it (for
    /// --spot-check; every file the runtime loads is checked against the registered manifest).
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
}

/// A spot check: the rows re-executed and the acceptance rule's verdict on them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpotCheck {
    /// Input rows re-executed (0-based), in order.
    pub rows: Vec<usize>,
    /// Whether the claimed rows pass the acceptance rule against the local re-execution.
    pub acceptable: bool,
    /// The rule's report (the worst row and its cosine, or why a row fails), rows numbered as in `rows`' order.
    pub report: String,
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
    /// The spot check, when asked.
    pub spot_check: Option<SpotCheck>,
    /// The embeddings, for callers in this crate (the demo's similarity matrix); not printed.
    #[serde(skip)]
    pub embeddings: Option<Embeddings>,
}

impl ResultView {
    /// Fetches and checks the result of `job` (read with [`Job::read`]).
    ///
    /// Errors: no result yet; an output whose digest does not match the receipt; a receipt that is not the job's
    /// or not signed by the operator's signer; IPFS.
    pub async fn fetch(ctx: &Context, market: &Market, job: &Job) -> anyhow::Result<Self> {
        let id = job.id;
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
            spot_check: None,
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
        if let Some(dir) = &self.model_dir
            && !dir.is_dir()
        {
            bail!(UsageError(format!(
                "--model-dir {} is not a folder; `cairn model pull <model> --version <v> --out {}` makes one",
                dir.display(),
                dir.display()
            )));
        }
        let market = Market::read(ctx).await?;
        let job = Job::read(&market, self.job).await?;
        let mut view = ResultView::fetch(ctx, &market, &job).await?;
        if let (Some(n), Some(dir)) = (self.spot_check, &self.model_dir) {
            let claimed = view.embeddings.as_ref().expect("fetch keeps the embeddings");
            view.spot_check = Some(spot_check(ctx, &market, &job, claimed, n as usize, dir).await?);
        }
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
            if let Some(c) = &v.spot_check {
                let rows: Vec<String> = c.rows.iter().map(ToString::to_string).collect();
                text += &format!(
                    "  spot     {} row(s) re-executed locally (input rows {}): {}\n",
                    c.rows.len(),
                    rows.join(", "),
                    c.report
                );
                if !c.acceptable {
                    text += &format!(
                        "  warning  the operator's output fails the acceptance rule; `cairn job challenge {}` \
                         disputes it while the window is open\n",
                        v.job_id
                    );
                }
            }
            text
        })?;
        match &view.spot_check {
            Some(c) if !c.acceptable => {
                Err(anyhow::anyhow!("job {}: the spot check found the output not acceptable ({})", self.job, c.report))
            }
            _ => Ok(()),
        }
    }
}

/// Re-executes `n` random input rows of `job` with `cairn-runner embed` on the model folder `dir` (each file
/// checked against the version's registered manifest) and judges `claimed`'s rows for them by the acceptance
/// rule (`cairn_protocol::acceptance::check_claimed_output`, the rule the watcher and the jurors apply).
///
/// Errors: the input or the manifest cannot be fetched or do not match their registered digests; the input is
/// not the runtime's JSON list or does not have one row per output row; `cairn-runner` is missing or fails (a
/// model file that does not match the manifest, among others).
async fn spot_check(
    ctx: &Context,
    market: &Market,
    job: &Job,
    claimed: &Embeddings,
    n: usize,
    dir: &std::path::Path,
) -> anyhow::Result<SpotCheck> {
    let id = job.id;
    let kubo = crate::cmd::model::fetch::kubo(ctx).await?;
    let registered = crate::cmd::model::fetch::registration(market, job.terms.modelId, Some(job.terms.modelVersion))
        .await
        .context("the job's model version")?;
    let (_, manifest) = crate::cmd::model::fetch::manifest(ctx, &kubo, &registered).await?;
    let cid = job.input_cid(market).await?;
    let limits = InputLimits::default();
    let input = ctx
        .out
        .spin(
            &format!("fetching the input {cid}"),
            kubo.cat_bytes(&cid, Sha256Digest(job.terms.inputDigest.0), limits.max_total_bytes as u64),
        )
        .await
        .with_context(|| format!("fetching the job's input {cid} (registered sha256 {})", job.terms.inputDigest))?;
    let texts = cairn_protocol::input::parse_texts(&input, &limits)
        .map_err(|e| anyhow::anyhow!("the input of job {id} is not the runtime's JSON list of strings: {e}"))?;
    if texts.len() != claimed.rows {
        bail!("job {id} has {} input rows but {} output rows: not acceptable as it stands", texts.len(), claimed.rows);
    }
    let rows = sample(texts.len(), n)?;
    let subset: Vec<&str> = rows.iter().map(|r| texts[*r].as_str()).collect();

    let work = tempfile::tempdir().context("a temporary folder for the spot check")?;
    let (input_path, manifest_path, out_path) =
        (work.path().join("in.json"), work.path().join("manifest.json"), work.path().join("out.safetensors"));
    std::fs::write(&input_path, serde_json::to_vec(&subset)?)?;
    std::fs::write(&manifest_path, &manifest)?;
    let runner = runner_binary();
    let mut command = tokio::process::Command::new(&runner);
    command
        .args(["embed", "--model"])
        .arg(dir)
        .args(["--weights-sha256", &Sha256Digest(job.terms.weightsDigest.0).to_hex()])
        .arg("--manifest")
        .arg(&manifest_path)
        .arg("--input")
        .arg(&input_path)
        .arg("--out")
        .arg(&out_path);
    let output = ctx
        .out
        .spin(&format!("re-executing {} row(s) locally with {}", rows.len(), runner.display()), command.output())
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "--spot-check runs `cairn-runner embed`, which is not beside `cairn` nor on PATH; build it \
                     (`cargo build -p cairn-runner`) or set CAIRN_RUNNER to its path"
                )
            } else {
                anyhow::Error::new(e).context(format!("starting {}", runner.display()))
            }
        })?;
    if !output.status.success() {
        bail!("the local re-execution failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    let bytes = std::fs::read(&out_path).context("reading the local re-execution")?;
    let reference = Embeddings::from_safetensors(&bytes).context("the local re-execution's output")?;
    // The claimed rows for the same inputs, judged by the one acceptance rule.
    let mut data = Vec::with_capacity(rows.len() * claimed.dim);
    for r in &rows {
        data.extend_from_slice(claimed.row(*r));
    }
    let subset_claimed = Embeddings { rows: rows.len(), dim: claimed.dim, data }.to_safetensors();
    let report = cairn_protocol::acceptance::check_claimed_output(
        &subset_claimed,
        Sha256Digest::of(&subset_claimed),
        &reference,
    );
    let report = in_input_rows(report, &rows);
    Ok(SpotCheck { acceptable: report.acceptable(), report: report.to_string(), rows })
}

/// The report on a sample, its rows renumbered from the sample's order to the input's (`rows[i]` is sample row i).
fn in_input_rows(mut report: Report, rows: &[usize]) -> Report {
    let input_row = |r: usize| rows.get(r).copied().unwrap_or(r);
    report.worst_row = report.worst_row.map(|(r, cosine)| (input_row(r), cosine));
    report.rejection = report.rejection.map(|rejection| match rejection {
        Rejection::NotFinite { row } => Rejection::NotFinite { row: input_row(row) },
        Rejection::Norm { row, norm } => Rejection::Norm { row: input_row(row), norm },
        Rejection::Cosine { row, cosine } => Rejection::Cosine { row: input_row(row), cosine },
        other => other,
    });
    report
}

/// `n` distinct row numbers below `len`, chosen with the OS's randomness (every row when `n >= len`), ascending.
///
/// Errors: the OS gives no randomness.
fn sample(len: usize, n: usize) -> anyhow::Result<Vec<usize>> {
    let mut rows: Vec<usize> = (0..len).collect();
    let take = n.min(len);
    // A partial Fisher-Yates shuffle: the first `take` places get distinct random rows.
    for i in 0..take {
        let mut word = [0u8; 8];
        getrandom::fill(&mut word).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
        let j = i + (u64::from_le_bytes(word) % (len - i) as u64) as usize;
        rows.swap(i, j);
    }
    rows.truncate(take);
    rows.sort_unstable();
    Ok(rows)
}

/// `cairn-runner`: CAIRN_RUNNER when set, else the one beside this `cairn`, else the one on PATH.
fn runner_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CAIRN_RUNNER") {
        return PathBuf::from(path);
    }
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(format!("cairn-runner{}", std::env::consts::EXE_SUFFIX)));
    beside.filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from("cairn-runner"))
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

    /// A sample's verdict names input rows: sample row i is input row `rows[i]`.
    #[test]
    fn a_spot_check_report_names_input_rows() {
        let rows = [3, 17];
        let failed = Report { rejection: Some(Rejection::Cosine { row: 1, cosine: 0.5 }), worst_row: Some((1, 0.5)) };
        let text = in_input_rows(failed, &rows).to_string();
        assert!(text.contains("row 17 has cosine 0.500000"), "{text}");
        let passed = Report { rejection: None, worst_row: Some((0, 0.99999)) };
        assert!(in_input_rows(passed, &rows).to_string().contains("worst row 3,"));
        let drawn = sample(10, 4).unwrap();
        assert_eq!(drawn.len(), 4);
        assert!(drawn.windows(2).all(|w| w[0] < w[1]) && drawn[3] < 10, "distinct, ascending, in range: {drawn:?}");
        assert_eq!(sample(3, 5).unwrap(), [0, 1, 2], "every row when N is at least the rows");
    }

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
