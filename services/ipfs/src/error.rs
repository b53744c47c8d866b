//! Errors of the Kubo client. Each says what happened, to what, and what to do about it.

use std::{path::PathBuf, time::Duration};

use crate::{Cid, Sha256Digest};

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Kubo.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RPC URL itself is malformed.
    #[error("invalid Kubo RPC URL `{url}`: {reason} (expected something like http://127.0.0.1:5001)")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing answers at the RPC URL.
    #[error(
        "Kubo RPC API at {url} is unreachable ({source}); start a node with `make devnet` \
         (or `ipfs daemon`), or point to a running one with the right RPC URL"
    )]
    Unreachable {
        /// The base URL tried.
        url: String,
        /// The connection error.
        #[source]
        source: reqwest::Error,
    },
    /// The argument is not a CID (rejected locally or by Kubo).
    #[error("invalid CID `{cid}`: {reason}")]
    InvalidCid {
        /// The rejected text.
        cid: String,
        /// Why, in our words or Kubo's.
        reason: String,
    },
    /// Kubo does not have the content and could not find it.
    #[error("content `{path}` was not found by Kubo: {message}")]
    NotFound {
        /// The IPFS path asked for.
        path: String,
        /// Kubo's message.
        message: String,
    },
    /// An operation took longer than allowed.
    #[error("Kubo {operation} timed out after {after:?}; is the node overloaded, or is the content unreachable?")]
    Timeout {
        /// What was being done.
        operation: String,
        /// The limit that ran out.
        after: Duration,
    },
    /// Fetched bytes do not hash to the digest the caller expected.
    #[error(
        "digest mismatch for `{path}`: expected sha256 {expected}, got {actual} over {bytes} bytes; \
         the content is not what was registered, do not use it"
    )]
    DigestMismatch {
        /// The IPFS path fetched.
        path: String,
        /// The digest the caller expected.
        expected: Sha256Digest,
        /// The digest of what arrived.
        actual: Sha256Digest,
        /// How many bytes arrived.
        bytes: u64,
    },
    /// Content is larger than the caller allowed (more than `limit` bytes arrived).
    #[error("content `{path}` is larger than the allowed {limit} bytes")]
    TooLarge {
        /// The IPFS path fetched.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// Kubo answered with an HTTP error.
    #[error("Kubo {endpoint} failed with HTTP {status}: {message}")]
    Kubo {
        /// The RPC endpoint, e.g. `pin/add`.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// Kubo's own message.
        message: String,
    },
    /// Kubo failed after its answer had begun (HTTP 200 already sent): it said so in the `X-Stream-Error`
    /// trailer, or as an error value in the body. Nothing from that answer is used.
    #[error(
        "Kubo {endpoint} failed partway through its answer: {message}; nothing from that answer was used \
         (see Kubo's log, then retry)"
    )]
    Interrupted {
        /// The RPC endpoint.
        endpoint: String,
        /// Kubo's message.
        message: String,
    },
    /// Kubo answered 200 with something this client does not understand.
    #[error("unexpected answer from Kubo {endpoint}: {reason}")]
    UnexpectedResponse {
        /// The RPC endpoint.
        endpoint: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// A transport error after the connection was made.
    #[error("HTTP error talking to Kubo {endpoint}: {source}")]
    Http {
        /// The RPC endpoint.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A local file could not be read or written.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The local path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A local path cannot be added as it is.
    #[error("cannot add `{}`: {reason}", path.display())]
    UnsupportedPath {
        /// The local path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }

    /// Classifies an error message from Kubo's JSON error body.
    pub(crate) fn from_kubo(endpoint: &str, status: u16, message: String, arg: Option<&str>) -> Self {
        let lower = message.to_ascii_lowercase();
        if let Some(arg) = arg {
            let invalid = lower.contains("invalid cid")
                || lower.contains("invalid path")
                || lower.contains("failed to decode")
                || lower.contains("selected encoding not supported")
                || lower.contains("cid too short")
                || lower.contains("illegal base32");
            if invalid {
                return Self::InvalidCid { cid: arg.to_owned(), reason: message };
            }
            let missing = lower.contains("not found") || lower.contains("no link named");
            if missing {
                return Self::NotFound { path: arg.to_owned(), message };
            }
        }
        Self::Kubo { endpoint: endpoint.to_owned(), status, message }
    }
}

impl From<crate::ParseCidError> for Error {
    fn from(err: crate::ParseCidError) -> Self {
        Self::InvalidCid { cid: err.input, reason: err.reason.to_owned() }
    }
}

/// Lets callers that hold a [`Cid`] say which one failed.
pub(crate) fn cid_path(cid: &Cid, sub_path: &str) -> String {
    if sub_path.is_empty() { cid.to_string() } else { format!("{cid}/{}", sub_path.trim_start_matches('/')) }
}
