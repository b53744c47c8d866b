//! The indexer's errors: each says what went wrong and what to do.

use std::path::PathBuf;

/// Everything the indexer can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL is neither `sqlite://…` nor `postgres://…`.
    #[error(
        "database URL `{0}`: expected sqlite://PATH (e.g. sqlite://.devnet/indexer.db) or postgres://USER@HOST:PORT/DB"
    )]
    DatabaseUrl(String),
    /// A database operation failed.
    #[error("database {what}: {source}")]
    Database {
        /// What was being done.
        what: &'static str,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error(
        "database schema migration: {0} (a database written by an earlier pre-release build of cairn-indexer has \
         another schema: delete the SQLite file, or drop and recreate the PostgreSQL database, and index again)"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The deployments file cannot be used.
    #[error("deployments file {path}: {detail}")]
    Deployments {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The RPC node's chain is not the deployment's.
    #[error(
        "the RPC node serves chain {node}, but the deployments file is for chain {file}: point --rpc-url at \
         chain {file}'s node, or --deployments at deployments/{node}.json"
    )]
    WrongChain {
        /// Chain id of the node.
        node: u64,
        /// Chain id of the file.
        file: u64,
    },
    /// The database holds another deployment's history.
    #[error(
        "the database holds the history of {held}, not {wanted}: use another --db, or `cairn-indexer reset` to \
         drop this one"
    )]
    OtherDeployment {
        /// What the database holds.
        held: String,
        /// What was asked for.
        wanted: String,
    },
    /// The chain no longer holds the deployment block the history was built from.
    #[error(
        "the chain at {url} was reset or redeployed: block {block} is now {now}, but this history was built on \
         {held}. Nothing was changed. Start over with `cairn-indexer reset` (or a new --db) once the contracts \
         are deployed again"
    )]
    ChainReset {
        /// RPC URL.
        url: String,
        /// The deployment block.
        block: u64,
        /// Its hash now (or "missing").
        now: String,
        /// The hash the history was built on.
        held: String,
    },
    /// A reorg deeper than the kept window of block hashes.
    #[error(
        "a reorg deeper than the {window}-block window: no stored block from {from} down to {to} is on the \
         chain any more. Nothing was changed. Rebuild with `cairn-indexer reset` then `run`, or raise \
         --reorg-window"
    )]
    DeepReorg {
        /// Window size in blocks.
        window: u64,
        /// Highest stored block checked.
        from: u64,
        /// Lowest stored block checked.
        to: u64,
    },
    /// An RPC call failed (after retries).
    #[error("RPC {method} at {url}: {detail}")]
    Rpc {
        /// The node.
        url: String,
        /// The JSON-RPC method.
        method: &'static str,
        /// The error.
        detail: String,
    },
    /// cairn-chain refused the node.
    #[error(transparent)]
    Chain(#[from] cairn_chain::Error),
    /// Another process holds the writer lock.
    #[error("another cairn-indexer writes to {0}; this one serves the API only")]
    NotWriter(String),
    /// A background fetch (or the decoding of a fetched range) panicked: a bug; the range is fetched again.
    #[error("the background fetch of blocks {from}..={to} stopped: {detail}")]
    Prefetch {
        /// First block.
        from: u64,
        /// Last block.
        to: u64,
        /// Why.
        detail: String,
    },
    /// Something the indexer stored cannot be read back (a bug or a hand-edited database).
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt {
        /// What.
        what: String,
        /// Why.
        detail: String,
    },
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Maps an sqlx error with what was being done.
pub(crate) fn db(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::Database { what, source }
}
