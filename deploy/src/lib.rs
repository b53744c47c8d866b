//! `cairn-deploy`: deploys and wires the suite from a TOML config (code from `cairn-bindings`' committed
//! artifacts, which `cargo xtask artifacts` writes), verifies the code at each address, writes
//! `deployments/<chainId>.json`, and seeds a devnet with funded, staked actors.

pub mod config;
pub mod deploy;
pub mod seed;

use std::path::Path;

/// What went wrong in a deploy step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The OS error (in the message, not chained, so it is printed once).
        error: std::io::Error,
    },
    /// A configuration file or setting is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// A chain operation failed.
    #[error(transparent)]
    Chain(#[from] cairn_chain::Error),
    /// The code at an address is not what we deployed.
    #[error("{contract} at {address}: {detail}")]
    CodeMismatch {
        /// Contract name.
        contract: String,
        /// Its address.
        address: alloy::primitives::Address,
        /// What differed.
        detail: String,
    },
}

impl Error {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), error: source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
