//! `cairn-ipfs`: a client of Kubo's RPC API (`/api/v0/…`) on reqwest.
//!
//! Cairn stores model weights, manifests, job inputs and outputs on IPFS and records their sha256
//! on-chain. This crate adds content (CIDv1, raw leaves, streamed from disk and hashed on the way), pins
//! and unpins it, and fetches it back with the sha256 checked while it streams: nothing that does not
//! match the digest the caller expects is ever handed over as verified.
//!
//! ```no_run
//! # async fn demo() -> cairn_ipfs::Result<()> {
//! use cairn_ipfs::{AddOptions, KuboClient};
//! let kubo = KuboClient::new("http://127.0.0.1:5001")?;
//! let added = kubo.add_file("model.safetensors".as_ref(), AddOptions::default()).await?;
//! kubo.cat_to_file(added.cid.as_str(), added.sha256, "copy.safetensors".as_ref()).await?;
//! # Ok(()) }
//! ```

mod add;
mod cat;
mod client;
mod error;

pub use add::{AddOptions, AddedDir, AddedFile};
pub use cairn_primitives::{Cid, ParseCidError, ParseDigestError, Sha256Digest, Sha256Hasher};
pub use cat::VerifiedStream;
pub use client::{CidStat, ClientOptions, EntryKind, KuboClient, KuboVersion};
pub use error::{Error, Result};
