//! `xtask`: the repository's chores that need the Solidity toolchain, kept out of the crates that ship.
//!
//! [`artifacts`] compiles `contracts/src` into `services/bindings/artifacts/<Name>.json` (ABI, bytecode,
//! compiler) for every contract of [`artifacts::DEPLOYABLE`] — the one list of Cairn's deployable
//! contracts — and checks the committed files against a fresh compile. `cairn-bindings` generates one `sol!`
//! module per file it finds there, so this crate must not depend on it: a new contract needs no stub.
//!
//! Run it as `cargo xtask artifacts [--check]` (an alias in `.cargo/config.toml`).

pub mod artifacts;

use std::path::Path;

/// What went wrong while compiling or checking the artifacts.
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
    /// `foundry.toml` or the toolchain is not what the generator needs.
    #[error("configuration: {0}")]
    Config(String),
    /// solc failed or produced no usable output.
    #[error("compiling the contracts failed: {0}")]
    Compile(String),
    /// Committed artifacts differ from the sources.
    #[error(
        "the committed artifacts differ from the contracts' sources:\n  {}\nrun `cargo xtask artifacts` and commit the result",
        .0.join("\n  ")
    )]
    Drift(Vec<String>),
}

impl Error {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), error: source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
