//! `candle/bert-embed@1`: sentence embeddings from a BERT encoder, as sentence-transformers computes them:
//! truncation at `max_seq_length` (from `sentence_bert_config.json`), padding to the longest input of
//! each batch, mean pooling over the attention mask, L2 normalisation.

use std::path::Path;

use cairn_primitives::FileDigests;
use candle_core::{DType, Device, Tensor};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::{
    Error, Result,
    fused::FusedBert,
    model_files::{check_weights_path, read_verified},
    output::Embeddings,
    weights::Weights,
};

/// The files a BERT embedding model is made of (paths relative to the model folder).
pub const WEIGHTS_FILE: &str = cairn_protocol::Runtime::BertEmbedV1.weights_file();
/// The architecture.
pub const CONFIG_FILE: &str = "config.json";
/// The tokenizer.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// sentence-transformers' settings (`max_seq_length`).
pub const SENTENCE_CONFIG_FILE: &str = "sentence_bert_config.json";
/// Every file `BertEmbedder::load` reads, each verified against its expected sha256 first: the runtime's
/// required files, one definition in cairn-protocol (a seller's `publish` checks the same list).
pub const MODEL_FILES: &[&str] = cairn_protocol::Runtime::BertEmbedV1.required_files();

/// Where to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// The CPU (always available).
    #[default]
    Cpu,
    /// A CUDA GPU by ordinal (needs the `cuda` cargo feature).
    Cuda(usize),
}

impl DeviceKind {
    /// Opens the device, or says why it cannot.
    pub fn open(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            #[cfg(feature = "cuda")]
            Self::Cuda(ordinal) => Device::new_cuda(ordinal).map_err(|e| Error::Device(format!("cuda:{ordinal}: {e}"))),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => {
                Err(Error::Device("this build has no CUDA support; rebuild with `--features cuda` or use cpu".into()))
            }
        }
    }
}

impl std::fmt::Display for DeviceKind {
    /// The form `--device` takes: `cpu`, `cuda:N`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(ordinal) => write!(f, "cuda:{ordinal}"),
        }
    }
}

impl std::str::FromStr for DeviceKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| Error::Device(format!("unknown device `{other}`; use cpu, cuda or cuda:N"))),
        }
    }
}

/// Which implementation of the encoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// The fused engine on CPU, candle-transformers on CUDA.
    #[default]
    Auto,
    /// candle-transformers' `BertModel` (any device).
    Candle,
    /// Our fused CPU forward pass (`fused.rs`; CPU only).
    Fused,
}

impl EngineKind {
    /// The name `--engine` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Candle => "candle",
            Self::Fused => "fused",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "candle" => Ok(Self::Candle),
            "fused" => Ok(Self::Fused),
            other => Err(Error::Config(format!("unknown engine `{other}`; use auto, candle or fused"))),
        }
    }
}

/// How to run the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Device.
    pub device: DeviceKind,
    /// Inputs per forward pass (inputs are sorted by length first, so a batch holds similar lengths).
    pub batch_size: usize,
    /// Encoder implementation.
    pub engine: EngineKind,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self { device: DeviceKind::Cpu, batch_size: 32, engine: EngineKind::Auto }
    }
}

enum Engine {
    Candle(Box<BertModel>),
    Fused(Box<FusedBert>),
}

/// A loaded, verified BERT sentence-embedding model.
pub struct BertEmbedder {
    engine: Engine,
    tokenizer: Tokenizer,
    device: Device,
    pad_id: u32,
    max_seq_len: usize,
    dim: usize,
    batch_size: usize,
    model: String,
}

#[derive(serde::Deserialize)]
struct SentenceConfig {
    max_seq_length: usize,
}

impl BertEmbedder {
    /// Loads the model in `dir`. Every file is checked against `digests` before it is used, and the
    /// weights must be safetensors.
    ///
    /// The small files are read and verified first, then `config.json` is checked against what the
    /// engines can run (`validate`: every dimension they index), then the weights are read once,
    /// hashed as they are read and verified before any tensor is used ([`Weights::read_verified`]), and
    /// the engine takes them: the fused engine moves each f32 tensor out (transposing the linear layers,
    /// freeing each original at once), candle-transformers' model wraps them as tensors without a copy on
    /// CPU. Loaded, a model costs about its weights' size once.
    ///
    /// Errors: a missing or tampered file, pickle weights, a config the engines cannot run or that does
    /// not fit the weights (naming both files and the tensor) — never a panic.
    pub fn load(dir: &Path, digests: &FileDigests, options: EmbedOptions) -> Result<Self> {
        if options.batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let weights_path = check_weights_path(dir, WEIGHTS_FILE)?;
        let weights_digest = digests.get(WEIGHTS_FILE).ok_or_else(|| {
            Error::Config(format!("no expected sha256 for `{WEIGHTS_FILE}`: list every file the model reads"))
        })?;
        // Verify everything before using anything: a tampered tokenizer is as bad as tampered weights.
        let config_bytes = read_verified(digests, dir, CONFIG_FILE)?;
        let tokenizer_bytes = read_verified(digests, dir, TOKENIZER_FILE)?;
        let sentence_bytes = read_verified(digests, dir, SENTENCE_CONFIG_FILE)?;

        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::Config(format!("{CONFIG_FILE} is not a BERT config: {e}")))?;
        let sentence: SentenceConfig = serde_json::from_slice(&sentence_bytes)
            .map_err(|e| Error::Config(format!("{SENTENCE_CONFIG_FILE}: {e}")))?;
        let (dim, max_seq_len) = validate(&config, &sentence)?;

        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer_bytes).map_err(|e| Error::Tokenizer(format!("{TOKENIZER_FILE}: {e}")))?;
        // tokenizer.json of MiniLM says "truncate at 128, pad everything to 128"; sentence-transformers
        // truncates at max_seq_length and pads to the longest of the batch, which we do ourselves.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let vocab = tokenizer.get_vocab_size(true);
        if vocab > config.vocab_size {
            return Err(Error::Config(format!(
                "{TOKENIZER_FILE} has {vocab} tokens but {CONFIG_FILE} says vocab_size {}",
                config.vocab_size
            )));
        }
        let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(0);

        let device = options.device.open()?;
        if let (EngineKind::Fused, DeviceKind::Cuda(_)) = (options.engine, options.device) {
            return Err(Error::Device("the fused engine runs on CPU only; use --engine candle on CUDA".into()));
        }
        let mut weights = Weights::read_verified(&weights_path, weights_digest)?;
        let misfit = |e: Error| {
            // The inner error's own text, without a second "model configuration error:" prefix.
            let why = match e {
                Error::Config(why) => why,
                other => other.to_string(),
            };
            Error::Config(format!("{CONFIG_FILE} does not fit the weights in {WEIGHTS_FILE}: {why}"))
        };
        let engine = match (options.engine, options.device) {
            (EngineKind::Fused | EngineKind::Auto, DeviceKind::Cpu) => {
                Engine::Fused(Box::new(FusedBert::load(&mut weights, &config).map_err(misfit)?))
            }
            _ => {
                let vb = weights.into_var_builder(DType::F32, &device)?;
                Engine::Candle(Box::new(BertModel::load(vb, &config).map_err(|e| misfit(e.into()))?))
            }
        };
        let model = format!("`{}` ({WEIGHTS_FILE} sha256 {weights_digest})", dir.display());
        Ok(Self { engine, tokenizer, device, pad_id, max_seq_len, dim, batch_size: options.batch_size, model })
    }

    /// The engine that runs ([`EngineKind::Fused`] or [`EngineKind::Candle`]; `Auto` resolved).
    pub fn engine(&self) -> EngineKind {
        match self.engine {
            Engine::Candle(_) => EngineKind::Candle,
            Engine::Fused(_) => EngineKind::Fused,
        }
    }

    /// The model, for messages: its folder and the weights' sha256.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Longest input in tokens (special tokens included); longer inputs are truncated.
    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }

    /// Token ids of each text, truncated, with [CLS] and [SEP].
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.iter().map(String::as_str).collect::<Vec<_>>(), true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(encodings.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Embeds every text: one L2-normalised row each, in input order.
    pub fn embed(&self, texts: &[String]) -> Result<Embeddings> {
        let ids = self.tokenize(texts)?;
        // Sort by length so each batch pads little; stable, so equal lengths keep input order.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let batches: Vec<Vec<&[u32]>> =
            order.chunks(self.batch_size).map(|chunk| chunk.iter().map(|&i| ids[i].as_slice()).collect()).collect();
        // Rows in `order`: the fused engine runs every batch in one call (one team of threads, one set of
        // buffers); candle-transformers one padded forward pass per batch.
        let rows = match &self.engine {
            Engine::Fused(model) => model.embed_batches(&batches)?,
            Engine::Candle(model) => {
                let mut rows = Vec::with_capacity(texts.len() * self.dim);
                for batch in &batches {
                    rows.extend(self.forward_candle(model, batch)?);
                }
                rows
            }
        };
        let mut data = vec![0f32; texts.len() * self.dim];
        for (row, &i) in rows.chunks_exact(self.dim).zip(&order) {
            data[i * self.dim..(i + 1) * self.dim].copy_from_slice(row);
        }
        Ok(Embeddings { rows: texts.len(), dim: self.dim, data })
    }

    /// candle-transformers' model over inputs padded to the longest of the batch.
    fn forward_candle(&self, model: &BertModel, batch: &[&[u32]]) -> Result<Vec<f32>> {
        let len = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for row in batch {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(self.pad_id, len - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, len - row.len()));
        }
        let shape = (batch.len(), len);
        let input_ids = Tensor::from_vec(ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let token_types = input_ids.zeros_like()?;
        let hidden = model.forward(&input_ids, &token_types, Some(&mask))?;
        // Mean over real tokens (sentence-transformers clamps the count at 1e-9), then L2 (eps 1e-12).
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
        let normed = mean.broadcast_div(&norms)?;
        Ok(normed.flatten_all()?.to_vec1::<f32>()?)
    }
}

/// Checks what would otherwise fail deep inside the forward pass (or panic): every dimension the
/// engines index or divide by, against the rules of Hugging Face's `BertConfig` (all sizes positive,
/// `hidden_size` a multiple of `num_attention_heads`) and sentence-transformers' (`max_seq_length`
/// within the position table). Whether the weights have these shapes is checked when the engine takes
/// them. Returns (embedding width, longest input in tokens).
fn validate(config: &Config, sentence: &SentenceConfig) -> Result<(usize, usize)> {
    let bad = |why: String| Err(Error::Config(format!("{CONFIG_FILE}: {why}")));
    for (field, value, what) in [
        ("vocab_size", config.vocab_size, "rows of the word-embedding table"),
        ("type_vocab_size", config.type_vocab_size, "rows of the token-type table (every input uses type 0)"),
        ("max_position_embeddings", config.max_position_embeddings, "rows of the position table"),
        ("hidden_size", config.hidden_size, "the embedding width"),
        ("num_attention_heads", config.num_attention_heads, "attention heads"),
        ("intermediate_size", config.intermediate_size, "the feed-forward width"),
        ("num_hidden_layers", config.num_hidden_layers, "encoder layers"),
    ] {
        if value == 0 {
            return bad(format!(
                "{field} is 0, but it counts {what} and must be at least 1; this model cannot run (check that \
                 config.json belongs to these weights)"
            ));
        }
    }
    if !config.hidden_size.is_multiple_of(config.num_attention_heads) {
        return bad(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            config.hidden_size, config.num_attention_heads
        ));
    }
    if !(config.layer_norm_eps.is_finite() && config.layer_norm_eps >= 0.0) {
        return bad(format!("layer_norm_eps is {}, expected a small non-negative number", config.layer_norm_eps));
    }
    if sentence.max_seq_length < 2 || sentence.max_seq_length > config.max_position_embeddings {
        return Err(Error::Config(format!(
            "{SENTENCE_CONFIG_FILE}: max_seq_length {} must be between 2 and max_position_embeddings {}",
            sentence.max_seq_length, config.max_position_embeddings
        )));
    }
    Ok((config.hidden_size, sentence.max_seq_length))
}
