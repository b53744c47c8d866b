//! Errors of the runner library. Each says what was wrong and what to do.

use std::path::PathBuf;

use cairn_primitives::Sha256Digest;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong executing or verifying a job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fetching from IPFS failed: Kubo unreachable or failing, or content that does not match its digest or
    /// exceeds its size (refused, never kept).
    #[error("IPFS: {0}")]
    Ipfs(#[from] cairn_ipfs::Error),
    /// The model cache cannot make room: the files that loaded models hold fill it.
    #[error(
        "the model cache cannot hold {needed} more bytes: its limit is {limit} bytes and loaded models hold \
         {held} of them (raise the cache limit, or serve fewer models at once)"
    )]
    CacheFull {
        /// Bytes the file needs.
        needed: u64,
        /// The cache's limit, bytes.
        limit: u64,
        /// Bytes held by loaded models (not evictable).
        held: u64,
    },
    /// The job input is not acceptable.
    #[error("bad input: {0}")]
    Input(String),
    /// A model file is missing.
    #[error("model file `{}` is missing: {hint}", path.display())]
    MissingFile {
        /// The file looked for.
        path: PathBuf,
        /// What to do.
        hint: String,
    },
    /// A model file's sha256 is not the expected one.
    #[error(
        "model file `{}` has sha256 {actual}, expected {expected}: refusing to use it (tampered, corrupt or the \
         wrong version; fetch it again from the registered CID)",
        path.display()
    )]
    DigestMismatch {
        /// The file.
        path: PathBuf,
        /// The registered digest.
        expected: Sha256Digest,
        /// What the file hashes to.
        actual: Sha256Digest,
    },
    /// Weights in a format we refuse.
    #[error("refusing `{}`: {reason}", path.display())]
    UnsafeWeights {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `config.json` (or another small file) is malformed or does not fit the weights.
    #[error("model configuration error: {0}")]
    Config(String),
    /// The tokenizer could not be loaded or failed.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    /// The requested device is not available.
    #[error("device error: {0}")]
    Device(String),
    /// The CPU thread pool cannot have the size asked for.
    #[error(
        "cannot run inference on {requested} CPU threads: {}",
        match running {
            None => "give at least 1".to_owned(),
            Some(n) => format!("the thread pool already runs with {n}; size it before loading a model or running \
                                anything in parallel (first thing in main)"),
        }
    )]
    ThreadPool {
        /// Threads asked for.
        requested: usize,
        /// The running pool's size, when it was already started.
        running: Option<usize>,
    },
    /// A tensor operation failed.
    #[error("inference failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// A claimed or produced output is malformed.
    #[error(transparent)]
    Output(#[from] cairn_protocol::Error),
    /// The model produced an output that fails the acceptance rule's own format checks (a NaN or infinity,
    /// a row not of unit length, …: `cairn_protocol::acceptance`). It is never written, returned for
    /// signing, or used to judge another operator's claim.
    #[error(
        "model {model} produced an output that fails the acceptance rule: {rejection}. Nothing was written or \
         signed: the model (its weights or config.json) yields values the protocol refuses for this input; stop \
         serving it and report it to its seller"
    )]
    UnacceptableOutput {
        /// The model: its folder and the weights' sha256.
        model: String,
        /// Which check failed, naming the row (= the input item at the same index).
        rejection: cairn_protocol::acceptance::Rejection,
    },
    /// No executor for a runtime id.
    #[error("unknown runtime `{runtime}`; this runner executes: {known}")]
    UnknownRuntime {
        /// The runtime asked for.
        runtime: String,
        /// What is registered.
        known: String,
    },
    /// A local file could not be read or written.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }
}
