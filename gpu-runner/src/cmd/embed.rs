//! `cairn-runner embed`: run `candle/bert-embed@1` on a local input file.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use cairn_primitives::{FileDigests, Sha256Digest, fs::write_atomic};
use cairn_runner::{
    BertEmbedExecutor, Executor,
    bert::{DeviceKind, EmbedOptions, EngineKind, MODEL_FILES, WEIGHTS_FILE},
    input::InputLimits,
    model_files::parse_digest_list,
};

/// Embed sentences with a BERT model (runtime `candle/bert-embed@1`) and write the canonical output.
///
/// The input is a JSON list of strings. The output is a safetensors file with one f32 tensor
/// `embeddings` [n, d], L2-normalised, byte-identical across runs on the same machine; its sha256 is what
/// a receipt signs. Every model file is checked against its sha256 before use.
///
/// Examples:
///   cairn-runner embed --model .tools/models/all-MiniLM-L6-v2 \
///       --weights-sha256 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db \
///       --manifest toolchain/all-MiniLM-L6-v2.sha256 --input sentences.json --out out.safetensors
///   cairn-runner embed --model ./minilm --weights-sha256 <hex> --input in.json --out out.safetensors \
///       --threads 2 --batch 64 --device cpu
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct EmbedArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Input: a JSON list of strings.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Where to write the canonical safetensors output (written only on success).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Inputs per forward pass.
    #[arg(long, default_value_t = 32)]
    batch: usize,
}

/// The model and where to run it: shared by `embed` and `bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct ModelArgs {
    /// Model folder (model.safetensors, config.json, tokenizer.json, sentence_bert_config.json).
    #[arg(long, value_name = "DIR")]
    pub(crate) model: PathBuf,
    /// Expected sha256 of model.safetensors (hex); a mismatch refuses the model.
    #[arg(long, value_name = "HEX")]
    weights_sha256: Sha256Digest,
    /// sha256 of every other model file: `sha256sum` lines or a manifest JSON with
    /// "files": [{"path", "sha256"}]. Without it the small files are hashed and used unpinned (a warning
    /// says so).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// cpu, cuda or cuda:N (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub(crate) device: DeviceKind,
    /// Encoder implementation: auto (fused on CPU, candle-transformers on CUDA), fused or candle.
    #[arg(long, default_value = "auto")]
    pub(crate) engine: EngineKind,
    /// CPU threads for inference (default: every core, or RAYON_NUM_THREADS).
    #[arg(long, env = "CAIRN_THREADS")]
    threads: Option<usize>,
}

impl EmbedArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        self.model.apply_threads()?;
        let digests = self.model.digests()?;
        let input =
            std::fs::read(&self.input).with_context(|| format!("cannot read input {}", self.input.display()))?;

        let started = Instant::now();
        let options = EmbedOptions { device: self.model.device, batch_size: self.batch, engine: self.model.engine };
        let executor = BertEmbedExecutor::load(&self.model.model, &digests, options, InputLimits::default())?;
        let loaded = started.elapsed();
        let started = Instant::now();
        let output = executor.execute(&input)?;
        let ran = started.elapsed();

        // Whole or not at all: a crash leaves the old file or none, never a partial output.
        write_atomic(&self.out, &output.bytes)
            .with_context(|| format!("cannot write the output to {}", self.out.display()))?;
        let rows = output.shape[0];
        println!("runtime   {}", executor.runtime());
        println!("shape     {:?} f32", output.shape);
        println!("sha256    {}", output.sha256);
        println!("output    {}", self.out.display());
        println!(
            "timing    load {:.2?}, embed {:.2?} ({:.1} inputs/s)",
            loaded,
            ran,
            rows as f64 / ran.as_secs_f64().max(1e-9)
        );
        Ok(())
    }
}

impl ModelArgs {
    /// Sizes the CPU thread pool when `--threads` is given; runs before any tensor work (an error, not a
    /// silent no-op, if something started the pool first).
    pub(crate) fn apply_threads(&self) -> anyhow::Result<()> {
        if let Some(threads) = self.threads {
            cairn_runner::init_cpu_threads(threads)?;
        }
        Ok(())
    }

    /// The expected digest of every model file.
    pub(crate) fn digests(&self) -> anyhow::Result<FileDigests> {
        let mut digests = match &self.manifest {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read manifest {}", path.display()))?;
                parse_digest_list(&text, path)?
            }
            None => {
                let mut unpinned = FileDigests::new();
                for file in MODEL_FILES.iter().filter(|f| **f != WEIGHTS_FILE) {
                    let path = self.model.join(file);
                    if let Ok(bytes) = std::fs::read(&path) {
                        eprintln!("warning: {file} is not pinned (no --manifest); using it as found");
                        unpinned.insert(*file, Sha256Digest::of(&bytes));
                    }
                }
                unpinned
            }
        };
        if let Some(listed) = digests.get(WEIGHTS_FILE).filter(|d| *d != self.weights_sha256) {
            anyhow::bail!(
                "--weights-sha256 {} disagrees with the manifest's {listed} for {WEIGHTS_FILE}",
                self.weights_sha256
            );
        }
        digests.insert(WEIGHTS_FILE, self.weights_sha256);
        Ok(digests)
    }
}
