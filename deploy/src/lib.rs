//! `cairn-deploy`: deploys and wires the suite from a TOML config (code from `cairn-bindings`' committed
//! artifacts, which `cargo xtask artifacts` writes), recording each step so an interrupted deployment
//! resumes, verifies the code at each address, writes `deployments/<chainId>.json`, and seeds a devnet with
//! funded, staked actors.

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
    /// `deploy` without `--resume` or `--force` found a complete deployment of this chain.
    #[error(
        "{}: chain {chain_id} already has a deployment; pass --force to deploy a new suite and replace the file (the old contracts stay on chain, unused)",
        path.display()
    )]
    AlreadyDeployed {
        /// The deployments file.
        path: std::path::PathBuf,
        /// The chain.
        chain_id: u64,
    },
    /// `deploy` without `--resume` or `--force` found an interrupted deployment of this chain.
    #[error(
        "{}: an interrupted deployment of chain {chain_id} is recorded there ({} contracts deployed: {}); pass --resume to finish it, or --force to start over with new contracts",
        path.display(),
        contracts.len(),
        if contracts.is_empty() { "none yet".to_string() } else { contracts.join(", ") }
    )]
    Interrupted {
        /// The partial deployments file.
        path: std::path::PathBuf,
        /// The chain.
        chain_id: u64,
        /// The contracts it records.
        contracts: Vec<String>,
    },
    /// `deploy --resume` found nothing to resume.
    #[error(
        "--resume: no deployment of chain {chain_id} in {} (neither {chain_id}.partial.json nor {chain_id}.json); deploy without --resume",
        dir.display()
    )]
    NothingToResume {
        /// The deployments folder.
        dir: std::path::PathBuf,
        /// The chain.
        chain_id: u64,
    },
    /// The partial deployments file cannot be read.
    #[error(
        "{}: {detail}; it is not a partial deployments file `cairn-deploy deploy` wrote: repair it, or start over with --force (new contracts)",
        path.display()
    )]
    BadPartial {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The partial deployments file records a deployment of another interface version: it cannot be resumed.
    #[error(
        "{}: the interrupted deployment recorded there ({}) is of Cairn interface version {}, but this cairn-deploy deploys interface version {}, so it cannot be resumed; nothing was sent. Start over with --force (new contracts; those recorded are abandoned), or finish it with the cairn-deploy it was started with",
        path.display(),
        if contracts.is_empty() { "no contracts yet".to_string() } else { contracts.join(", ") },
        match found { Some(v) => v.to_string(), None => "1 (it records no `interfaceVersion`)".to_string() },
        cairn_chain::INTERFACE_VERSION
    )]
    JournalVersion {
        /// The partial deployments file.
        path: std::path::PathBuf,
        /// The version it records (`None`: none, so version 1).
        found: Option<u16>,
        /// The contracts it records.
        contracts: Vec<String>,
    },
    /// What was recorded no longer matches what would be deployed, or the chain. Nothing was sent.
    #[error(
        "cannot resume the deployment recorded in {}:\n  - {}\nnothing was sent; fix what is listed and resume again, or start over with --force (new contracts; those recorded are abandoned)",
        path.display(),
        problems.join("\n  - ")
    )]
    ResumeRefused {
        /// The partial deployments file.
        path: std::path::PathBuf,
        /// Every reason, each with what was recorded and what was found.
        problems: Vec<String>,
    },
    /// A wiring step found the chain in a state the deployment cannot continue from.
    #[error("{step}: {detail}")]
    Wiring {
        /// The step.
        step: String,
        /// What was expected, what was found, and what to do.
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
