//! `cairn-primitives`: the small types every Cairn crate shares, with no network or chain dependency, so a
//! verifier can check a digest without pulling in an HTTP client.
//!
//! - [`Sha256Digest`] and [`Sha256Hasher`]: the sha256 of the exact bytes stored on IPFS (FIPS 180-4), which
//!   Cairn records on-chain; [`Sha256Digest::of_file`] / [`Sha256Digest::of_reader`] are the one
//!   file-hashing routine.
//! - [`Cid`]: a light syntactic check of content identifiers (Kubo stays the judge of whether one decodes).
//! - [`FileDigests`]: `path → sha256` lists, read from `sha256sum` output; the one set of rules for paths
//!   and digests that manifests' file lists follow too ([`check_relative_path`]).
//! - [`fs::AtomicFile`] / [`fs::write_atomic`]: writes that a crash never leaves half done.

mod cid;
mod digest;
mod files;
pub mod fs;

pub use cid::{Cid, ParseCidError};
pub use digest::{ParseDigestError, Sha256Digest, Sha256Hasher};
pub use files::{FileDigests, FileListError, check_relative_path};

/// How a JSON value is named in an error message: "null", "a boolean", "a number", "a string", "an array",
/// "an object" (one wording for every validator: keystores, manifests, model cards).
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
