//! `cairn-runner bench`: embedding throughput of this machine, for operators and `make bench`.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use cairn_runner::{
    bert::EmbedOptions,
    executor::{BertEmbedExecutor, Executor},
    input::{InputLimits, parse_texts},
};

use super::embed::ModelArgs;

/// Measure sentences per second of `candle/bert-embed@1` on a list of texts.
///
/// Runs one warm-up pass, then embeds the texts `--rounds` times and reports the best round, with the
/// process's peak resident memory. `--json` prints one JSON object (used by `make bench`).
///
/// Examples:
///   cairn-runner bench --model .tools/models/all-MiniLM-L6-v2 --manifest toolchain/all-MiniLM-L6-v2.sha256 \
///       --weights-sha256 53aa5117…d9db --input texts.json --batch 32
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Texts to embed: a JSON list of strings.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Inputs per forward pass.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed rounds over all texts (the best is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Also time this many 1-sentence requests (the first text) through the runtime's executor, as a job
    /// runs them (JSON input parsed, tokenized, embedded, canonical output written and checked), and report
    /// their p50 and p99 in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    latency: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

impl BenchArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        self.model.apply_threads()?;
        let digests = self.model.digests()?;
        let bytes = std::fs::read(&self.input).with_context(|| format!("cannot read {}", self.input.display()))?;
        // Benchmark inputs may be larger than a job's; only the per-item limit still applies.
        let limits = InputLimits { max_items: usize::MAX, max_total_bytes: usize::MAX, ..InputLimits::default() };
        let texts = parse_texts(&bytes, &limits)?;
        let options = EmbedOptions { device: self.model.device, batch_size: self.batch, engine: self.model.engine };
        let executor = BertEmbedExecutor::load(&self.model.model, &digests, options, InputLimits::default())?;
        let embedder = executor.embedder();
        let counts: Vec<usize> = embedder.tokenize(&texts)?.iter().map(Vec::len).collect();
        let tokens: usize = counts.iter().sum();
        let square_tokens: usize = counts.iter().map(|n| n * n).sum();
        embedder.embed(&texts[..texts.len().min(self.batch)])?;
        let mut best = f64::INFINITY;
        for _ in 0..self.rounds.max(1) {
            let started = Instant::now();
            embedder.embed(&texts)?;
            best = best.min(started.elapsed().as_secs_f64());
        }
        let latency = (self.latency > 0).then(|| latencies(&executor, &texts[0], self.latency)).transpose()?;
        let per_second = texts.len() as f64 / best;
        let peak_mib = peak_rss_kib().map(|kib| kib as f64 / 1024.0);
        let mean_tokens = tokens as f64 / texts.len() as f64;
        let mean_square_tokens = square_tokens as f64 / texts.len() as f64;
        if self.json {
            let report = BenchReport {
                runner: "cairn-runner",
                engine: embedder.engine().as_str(),
                device: self.model.device.to_string(),
                threads: rayon::current_num_threads(),
                batch: self.batch,
                texts: texts.len(),
                mean_tokens,
                mean_square_tokens,
                seconds: best,
                sentences_per_s: per_second,
                peak_rss_mib: peak_mib,
                latency_p50_ms: latency.map(|l| l.0),
                latency_p99_ms: latency.map(|l| l.1),
            };
            println!("{}", serde_json::to_string(&report)?);
        } else {
            println!(
                "{} texts (mean {mean_tokens:.1} tokens), batch {}: {per_second:.1} sentences/s, peak RSS {}",
                texts.len(),
                self.batch,
                peak_mib.map_or("unknown".into(), |m| format!("{m:.0} MiB"))
            );
            if let Some((p50, p99)) = latency {
                println!("1-sentence requests through the executor: p50 {p50:.2} ms, p99 {p99:.2} ms");
            }
        }
        Ok(())
    }
}

/// What `bench --json` prints, one object per run (read by gpu-runner/bench/embed_bench.py). A struct, so
/// each key exists once by construction.
#[derive(Debug, serde::Serialize)]
struct BenchReport {
    /// Always `cairn-runner`.
    runner: &'static str,
    /// The engine that ran: `fused` or `candle` (`--engine auto` resolved).
    engine: &'static str,
    /// `cpu` or `cuda:N`.
    device: String,
    /// Threads of the pool inference ran on.
    threads: usize,
    /// Inputs per forward pass.
    batch: usize,
    /// Texts embedded per round.
    texts: usize,
    /// Mean tokens per text (special tokens included, after truncation).
    mean_tokens: f64,
    /// Mean of the squared token counts (attention's work grows with it).
    mean_square_tokens: f64,
    /// Best round, in seconds.
    seconds: f64,
    /// `texts / seconds`.
    sentences_per_s: f64,
    /// The process's peak resident memory (VmHWM) in MiB, where /proc says.
    peak_rss_mib: Option<f64>,
    /// With `--latency`: median milliseconds of one 1-sentence request through the executor.
    latency_p50_ms: Option<f64>,
    /// With `--latency`: 99th-percentile milliseconds of the same.
    latency_p99_ms: Option<f64>,
}

/// `(p50, p99)` in milliseconds of `count` requests of `text` alone through `executor` (one untimed first).
///
/// Errors: the executor's, e.g. a text over the runtime's per-item limit.
fn latencies(executor: &BertEmbedExecutor, text: &str, count: usize) -> anyhow::Result<(f64, f64)> {
    let input = serde_json::to_vec(&[text])?;
    executor.execute(&input)?;
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        executor.execute(&input)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    Ok((at(0.5), at(0.99)))
}

/// Peak resident set size of this process (VmHWM), in KiB, where /proc says.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
