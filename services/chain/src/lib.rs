//! `cairn-chain`: how every Cairn service talks to the chain.
//!
//! - [`signer`]: where the signing key comes from: a Web3 Secret Storage keystore (password from a file or a
//!   prompt) or, for development, a private key in an environment variable; also a serde form for config
//!   files (`{ keystore = "…", password_file = "…" }` or `{ env = "VAR" }`). Keys are never logged.
//! - [`keystore`]: the keystore format, every field validated and the KDF cost capped, decrypted off the
//!   async runtime.
//! - [`args`]: the RPC (`--rpc-url`, `CAIRN_RPC_URL`) and signer (`--keystore`, `--password-file`,
//!   `--private-key-env`) arguments every binary flattens into its CLI (feature `cli`, on by default).
//! - [`Chain`]: a provider from an RPC URL (`http(s)://` or `ws(s)://`) that retries transient failures of
//!   reads with backoff (never of transaction sends), checks the chain id, and — once a signer is attached —
//!   sends transactions robustly: gas estimated first (a revert is decoded into the contracts' custom errors
//!   before any nonce is used), nonces assigned by one lock so one process can send many transactions at
//!   once, each transaction signed here and identified by its hash, so a lost response is resolved by
//!   looking the hash up, never by sending a new transaction; every send waits for its receipt with a
//!   timeout.
//! - [`heads`]: [`NewHeads`], what wakes a follower loop: a `newHeads` subscription over `ws(s)://`, a timer
//!   otherwise.
//! - [`revert`]: revert data → `JobMarket: ClaimWindowClosed(jobId 7, closedAt 1732540000)`.
//! - [`deployments`]: `deployments/<chainId>.json` (addresses, deployment block, compiler, git commit, and the
//!   interface version the suite speaks).
//! - [`interface`]: [`INTERFACE_VERSION`], the version of the contracts' interfaces this client speaks, and the
//!   checks that refuse a deployments file or a contract of another version.

pub mod args;
pub mod client;
pub mod deployments;
pub mod heads;
pub mod interface;
pub mod keystore;
pub mod revert;
pub mod signer;

pub use args::RpcArgs;
#[cfg(feature = "cli")]
pub use args::SignerArgs;
pub use client::{Chain, ChainOptions};
pub use deployments::Deployments;
pub use heads::NewHeads;
pub use interface::{INTERFACE_VERSION, declares_interface_version};
pub use keystore::Keystore;
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
    /// A deployments file records a suite of another interface version than [`INTERFACE_VERSION`].
    #[error(
        "deployments file {}: it records a deployment of Cairn interface version {}, but this client speaks interface version {INTERFACE_VERSION}; redeploy the contracts for version {INTERFACE_VERSION} with `cairn-deploy deploy --force --rpc-url …` (locally: `make devnet`), or use a Cairn client that speaks interface version {}",
        path.display(), recorded_version(*.found), found.unwrap_or(1)
    )]
    DeploymentsVersion {
        /// The file.
        path: PathBuf,
        /// The version it records; `None` when it records none (written before interface versions: version 1).
        found: Option<u16>,
    },
    /// A contract reports another interface version than [`INTERFACE_VERSION`], or none.
    #[error(
        "{contract} at {address} on chain {chain_id} {}, but this client speaks Cairn interface version {INTERFACE_VERSION}; it cannot talk to that deployment: redeploy the contracts with `cairn-deploy deploy --force --rpc-url …` (locally: `make devnet`) and use the new deployments file, or use a Cairn client that speaks the deployed version",
        reported_version(*.found)
    )]
    InterfaceVersion {
        /// Which contract was expected there.
        contract: String,
        /// The address.
        address: Address,
        /// The chain.
        chain_id: u64,
        /// What `interfaceVersion()` returned; `None` when the code has no such function.
        found: Option<u16>,
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
    /// The keystore's MAC does not match the key derived from the password.
    #[error("cannot decrypt keystore {}: wrong password (the MAC does not match); check the password file or type it again", path.display())]
    WrongPassword {
        /// The keystore file.
        path: PathBuf,
    },
    /// A keystore field is missing or malformed (checked before the file is used).
    #[error("keystore {}: `{field}` {detail}; this is not a valid Web3 Secret Storage v3 keystore — export the key again with the tool that made it, or import it with `cast wallet import`", path.display())]
    BadKeystore {
        /// The keystore file.
        path: PathBuf,
        /// The field at fault, as a dotted path (`crypto.kdfparams.dklen`).
        field: String,
        /// What it holds and what was expected.
        detail: String,
    },
    /// A keystore asks for more key-derivation memory or time than allowed (see [`keystore`]'s caps).
    #[error("keystore {}: `{field}` asks for {asked}, over the cap of {limit}; nothing was decrypted. Re-encrypt the key with cheaper parameters: decrypt it with the tool that wrote it (or `cast wallet decrypt-keystore`), then `cast wallet import` it (n=8192, r=8, p=1)", path.display())]
    KeystoreLimit {
        /// The keystore file.
        path: PathBuf,
        /// The parameters at fault.
        field: String,
        /// What the file asks for.
        asked: String,
        /// The cap.
        limit: String,
    },
    /// A send on a connection without a signing key.
    #[error(
        "{action}: this chain connection is read-only (no signing key was given), so nothing was sent; give a key with --keystore <file> [--password-file <file>] or --private-key-env <VAR> (in a config file: `{{ keystore = \"…\", password_file = \"…\" }}` or `{{ env = \"VAR\" }}`)"
    )]
    NoSigner {
        /// What was being sent.
        action: String,
    },
    /// The node refused the nonce: another process (or wallet) sent from this account meanwhile.
    #[error(
        "{action}: nonce {nonce} of account {account} was already used by a transaction this process did not send ({node}) — another process or wallet signs with the same key. Nothing was sent; the next send re-reads the nonce. Check the action's effect on chain before repeating it, and let one process sign per key"
    , node = node_nonce_text(*.node_nonce))]
    NonceTaken {
        /// What was being sent.
        action: String,
        /// The account.
        account: Address,
        /// The nonce we signed with.
        nonce: u64,
        /// The node's pending nonce when we checked (`None` when it could not be read).
        node_nonce: Option<u64>,
    },
    /// A transaction was broadcast, no answer came back, and the node does not know its hash.
    #[error(
        "{action}: transaction {tx} was broadcast {attempts} time(s) (the same signed bytes each time) but the RPC never answered ({detail}) and the node does not know it; it may still arrive — check `cast tx {tx}` before sending again"
    )]
    SendUnresolved {
        /// What was being sent.
        action: String,
        /// The hash of the signed transaction.
        tx: B256,
        /// How many times the same bytes were broadcast.
        attempts: u32,
        /// The last transport error.
        detail: String,
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

fn recorded_version(found: Option<u16>) -> String {
    match found {
        Some(v) => v.to_string(),
        None => "1 (it has no `interfaceVersion`: it was written before interface versions were recorded)".into(),
    }
}

fn reported_version(found: Option<u16>) -> String {
    match found {
        Some(v) => format!("speaks Cairn interface version {v}"),
        None => "has no `interfaceVersion()` (a contract of Cairn interface version 1, or not a Cairn contract at all)"
            .into(),
    }
}

fn node_nonce_text(node_nonce: Option<u64>) -> String {
    node_nonce.map_or_else(|| "the node refused it".to_string(), |n| format!("the node's next nonce is {n}"))
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
