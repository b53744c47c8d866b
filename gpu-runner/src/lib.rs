//! `cairn-runner` library: the inference engine an operator executes and a verifier re-executes.
//!
//! - [`executor`]: executors by runtime id ([`BERT_EMBED_V1`] today).
//! - [`bert`]: BERT sentence embeddings with candle, equal to sentence-transformers.
//! - [`model_files`]: every model file verified by sha256 before use; safetensors only.
//! - [`input`]: the job input (JSON list of strings).
//! - [`output`] / [`verify`]: the canonical safetensors output and DESIGN.md's acceptance rule, defined once
//!   in `cairn-protocol` (verifiers and auditors need them without the engine) and re-exported here.
//!
//! The on-chain operator loop builds on this in a later step.

pub mod bert;
mod error;
pub mod executor;
mod fused;
pub mod input;
pub mod model_files;
pub use cairn_protocol::{acceptance as verify, output};

pub use error::{Error, Result};
pub use executor::{BERT_EMBED_V1, BertEmbedExecutor, Executor, Executors};

/// Sets the number of CPU threads for inference (candle's matmul and rayon). Call once, first thing in
/// `main`, before any tensor work or other thread starts.
pub fn set_cpu_threads(threads: usize) {
    let threads = threads.max(1);
    // SAFETY: called at start-up, before any other thread exists (documented contract above);
    // candle reads RAYON_NUM_THREADS to size its matmul parallelism.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    // An already-initialised global pool keeps its size; nothing to do then.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
}
