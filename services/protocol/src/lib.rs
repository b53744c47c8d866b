//! `cairn-protocol`: the definitions every Cairn component shares, each in one place.
//!
//! - [`typed`]: the EIP-712 structs of DESIGN.md ("Typed data", v2: `JobRequest` binds `version` and
//!   `maxPricePerCall`), the domain, signing and recovery, and the verifier commitment hash. The structs are
//!   the contracts' own (generated from the committed ABI by `cairn-bindings`), so Rust and Solidity cannot
//!   disagree on a field; tests check both directions (messages Rust signs verify in Solidity, messages
//!   forge signs with `vm.sign` verify in Rust) and the shared vectors.
//!   Recovery accepts exactly the signatures the contracts accept (v 27 or 28, low s; checked against
//!   `ModelRegistry` on anvil), so an off-chain check never passes what the chain rejects.
//! - [`regions`]: region codes ↔ `regionMask` bits.
//! - [`runtime`]: runtime ids (`keccak256` of the runtime string) and runner build ids.
//! - [`manifest`]: the manifest JSON a seller pins and signs (`cairn.manifest/2`; `/1` still read), with
//!   validation that names every missing or wrong field.
//! - [`card`]: the model card (Model Cards and Datasheets sections), its committed JSON Schema, SPDX licence
//!   checks, and the card built from a Hugging Face model folder with a seller's `card.json` over it.
//! - [`input`]: the input of `candle/bert-embed@1` (a JSON list of strings) and its limits, exported as JSON
//!   for the web app.
//! - [`output`] and [`acceptance`]: the canonical output of `candle/bert-embed@1` and DESIGN.md's acceptance
//!   rule for a claimed output (what an operator writes, what a verifier votes on). Outputs are read by the
//!   `safetensors` crate, the reference reader, and must then have the one canonical header.
//! - [`units`]: amounts (wei, gwei, ether, ERC-20 decimals) and durations as people write them, one parser
//!   for every binary and config file, and the printed form with both units.

pub mod acceptance;
pub mod card;
pub mod input;
pub mod manifest;
pub mod output;
pub mod regions;
pub mod runtime;
pub mod safetensors_file;
pub mod typed;
pub mod units;

pub use regions::{Region, RegionMask};
pub use runtime::Runtime;
pub use typed::{JobReceipt, JobRequest, ModelManifest};

/// Why a protocol value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An unknown region code.
    #[error("unknown region `{0}`: use one of {codes}", codes = regions::Region::codes_list())]
    UnknownRegion(String),
    /// A region mask with bits no region uses.
    #[error("region mask {0:#x} has bits above {max:#x} (bit 11, `OTHER`, is the last region)", max = regions::RegionMask::ALL.0)]
    RegionMaskOutOfRange(u64),
    /// A signature the contracts would refuse (length, v, high s, r or s out of range), or one that
    /// recovers no key.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A manifest or model card with problems; each entry names a field and what is wrong with it.
    #[error("{what} is invalid:\n  - {}", .problems.join("\n  - "))]
    Invalid {
        /// Which document.
        what: &'static str,
        /// One line per problem: `field: what is wrong (what to do)`.
        problems: Vec<String>,
    },
    /// Bytes that are not a canonical output.
    #[error("not a canonical output: {0}")]
    Output(String),
    /// A document is not JSON of the expected shape.
    #[error("{what} is not valid JSON: {detail}")]
    Json {
        /// Which document.
        what: &'static str,
        /// The parser's message (line and column).
        detail: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
