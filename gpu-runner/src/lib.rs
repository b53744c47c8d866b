//! `cairn-runner` library: the inference engine an operator executes and a verifier re-executes.
//!
//! - [`executor`]: executors by runtime id ([`BERT_EMBED_V1`] today).
//! - [`bert`]: BERT sentence embeddings with candle, equal to sentence-transformers.
//! - [`model_files`]: every model file verified by sha256 before use; safetensors only.
//! - [`weights`]: safetensors weights read once, hashed as read, held once.
//! - [`cache`]: the operator's content-addressed model cache (by sha256, fetched from IPFS verified, LRU).
//! - [`energy`]: a job's energy figure, from RAPL where readable, else estimated from CPU time.
//! - [`input`]: the job input (JSON list of strings).
//! - [`output`] / [`verify`]: the canonical safetensors output and DESIGN.md's acceptance rule, defined once
//!   in `cairn-protocol` (verifiers and auditors need them without the engine) and re-exported here.
//!
//! - [`service`]: `cairn-runner run`, the on-chain operator loop (config, crash journal, model host, loop).

pub mod bert;
pub mod cache;
pub mod energy;
mod error;
pub mod executor;
mod fused;
pub mod input;
pub mod model_files;
pub mod service;
pub mod weights;
pub use cairn_protocol::{acceptance as verify, output};

pub use error::{Error, Result};
pub use executor::{BERT_EMBED_V1, BertEmbedExecutor, Executor, Executors};

/// Sizes the CPU threads inference runs on: rayon's global pool, which carries candle's CPU matmul and the
/// tokenizer, and whose size the fused engine's team takes when a model is loaded. Call it before loading
/// a model (the first use of rayon starts the pool at its default size: `RAYON_NUM_THREADS`, else one
/// thread per core).
///
/// No environment variable is written, so this is sound at any time; called too late it is an error, not
/// a silent no-op. candle still splits a matmul into as many parts as it counts cores (it reads only
/// `RAYON_NUM_THREADS`), but those parts run on this pool, so `threads` is what works at once.
///
/// Errors: `threads` is 0, or the pool already runs with another size ([`Error::ThreadPool`]).
pub fn init_cpu_threads(threads: usize) -> Result<()> {
    if threads == 0 {
        return Err(Error::ThreadPool { requested: 0, running: None });
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build_global() {
        Ok(()) => Ok(()),
        // Already built: fine if it has the size asked for (current_num_threads reads the global pool here).
        Err(_) if rayon::current_num_threads() == threads => Ok(()),
        Err(_) => Err(Error::ThreadPool { requested: threads, running: Some(rayon::current_num_threads()) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_pool_size_is_checked_not_silently_ignored() {
        // Starts the global pool at its default size if nothing has yet (tests share one process).
        let running = rayon::current_num_threads();
        assert!(init_cpu_threads(running).is_ok(), "asking for the size it has is fine");
        let err = init_cpu_threads(running + 1).unwrap_err();
        assert!(
            matches!(err, Error::ThreadPool { requested, running: Some(r) } if requested == running + 1 && r == running),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("already runs with {running}")), "{err}");
        assert!(init_cpu_threads(0).unwrap_err().to_string().contains("at least 1"));
    }
}
