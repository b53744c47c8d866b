//! `cairn-chain`: how every Cairn service talks to the chain.
//!
//! - [`signer`]: the signing key from a Web3 Secret Storage keystore (the format `cast wallet` reads and
//!   writes; password from a file or a prompt) or, for development, a private key in an environment variable.
//!   Keys are never logged (`Debug` shows the address only).
//! - [`Chain`]: a provider from an RPC URL (`http(s)://` or `ws(s)://`) that retries transient RPC failures
//!   with backoff, checks the chain id, and sends transactions robustly: gas estimated first (a revert is
//!   decoded into the contracts' custom errors before any nonce is used), nonces assigned by one lock so one
//!   process can send many transactions at once, and every send waits for its receipt with a timeout.
//! - [`revert`]: revert data → `JobMarket: ClaimWindowClosed(jobId 7, closedAt 1732540000)`.
//! - [`deployments`]: `deployments/<chainId>.json` (addresses, deployment block, compiler, git commit).

pub mod client;
pub mod deployments;
pub mod revert;
pub mod signer;

pub use client::{Chain, ChainOptions};
pub use deployments::Deployments;
pub use revert::DecodedRevert;
pub use signer::{PasswordSource, SignerSource};

use std::{path::PathBuf, time::Duration};

use alloy::primitives::{Address, B256, U256};

/// What went wrong talking to the chain. Each message names the input at fault and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RPC URL is malformed or nothing answers there.
    #[error(
        "cannot reach the RPC at {url}: {detail}; check the URL (http(s):// or ws(s)://) and that the node is running"
    )]
    Rpc {
        /// The URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The node's chain differs from what was expected.
    #[error(
        "chain id mismatch: {what} says chain {expected}, but the RPC at {url} serves chain {actual}; use the RPC of chain {expected} or the deployments file of chain {actual}"
    )]
    ChainMismatch {
        /// Where the expectation came from.
        what: String,
        /// Expected chain id.
        expected: u64,
        /// The node's chain id.
        actual: u64,
        /// The RPC URL.
        url: String,
    },
    /// No deployments file for this chain.
    #[error("no deployments file at {}: the contracts are not deployed on chain {chain_id} yet; run `cairn-deploy deploy --rpc-url …` (or `make devnet` locally)", path.display())]
    NoDeployments {
        /// Where it was looked for.
        path: PathBuf,
        /// The chain.
        chain_id: u64,
    },
    /// A deployments file that cannot be read.
    #[error("deployments file {}: {detail}", path.display())]
    BadDeployments {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The address holds no contract code.
    #[error(
        "no contract code at {address} on chain {chain_id}: {contract} is not deployed there; check the deployments file or redeploy with `cairn-deploy deploy`"
    )]
    NoCode {
        /// Which contract was expected.
        contract: String,
        /// The address.
        address: Address,
        /// The chain.
        chain_id: u64,
    },
    /// The signing key cannot be loaded.
    #[error("signer: {0}")]
    Signer(String),
    /// The keystore could not be decrypted.
    #[error("cannot decrypt keystore {}: wrong password (or the file is not a Web3 Secret Storage keystore); check the password file or type it again", path.display())]
    WrongPassword {
        /// The keystore file.
        path: PathBuf,
    },
    /// The account cannot pay for the transaction.
    #[error(
        "{action}: account {address} has {balance} wei, not enough for the transaction's value and gas; fund it (on a devnet: `cast send --value 1ether {address}` from a funded account)"
    )]
    Unfunded {
        /// What was being sent.
        action: String,
        /// The account.
        address: Address,
        /// Its balance.
        balance: U256,
    },
    /// The call reverts.
    #[error("{action} reverted: {revert}")]
    Reverted {
        /// What was being sent.
        action: String,
        /// The decoded reason (boxed: it is large and rare).
        revert: Box<DecodedRevert>,
    },
    /// The transaction was mined but failed.
    #[error("{action}: transaction {tx} was mined in block {block} but reverted")]
    FailedOnChain {
        /// What was sent.
        action: String,
        /// Its hash.
        tx: B256,
        /// Its block.
        block: u64,
    },
    /// No receipt in time.
    #[error(
        "{action}: no receipt for {tx} after {after:?}; it may still be mined — check it with `cast receipt {tx}` before sending again"
    )]
    ReceiptTimeout {
        /// What was sent.
        action: String,
        /// Its hash.
        tx: B256,
        /// How long we waited.
        after: Duration,
    },
    /// Any other RPC failure (after retries).
    #[error("{action}: {detail}")]
    Transport {
        /// What was being done.
        action: String,
        /// The error.
        detail: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
