//! `cairn-ipfs`: a client of Kubo's RPC API (`/api/v0/…`) on reqwest.
//!
//! Cairn stores model weights, manifests, job inputs and outputs on IPFS and records their sha256
//! on-chain. This crate adds content (CIDv1, raw leaves, streamed from disk and hashed on the way), pins
//! and unpins it, and fetches it back with the sha256 checked while it streams: nothing that does not
//! match the digest the caller expects is ever handed over as verified.
//!
//! - Directories are published with their hidden entries: `add_dir`'s CID equals
//!   `ipfs add -r --hidden --cid-version=1 --raw-leaves`, not plain `ipfs add -r` (which skips dotfiles).
//! - A failure Kubo reports after its answer began (the `X-Stream-Error` HTTP trailer, or an error value in
//!   the body) is [`Error::Interrupted`]; it is never mistaken for short content or a digest mismatch.
//! - Size limits are any `u64`, clamped to what Kubo's RPC takes ([`KUBO_MAX_LENGTH`]); no size arithmetic
//!   can overflow.
//! - Fetched files are written with `cairn_primitives::fs::AtomicFile` (unique temporary name, fsync,
//!   rename, directory sync); blocking file-system work runs on tokio's blocking pool.
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
mod body;
mod cat;
mod client;
mod error;

pub use add::{AddOptions, AddProgress, AddedDir, AddedFile};
pub use cairn_primitives::{Cid, ParseCidError, ParseDigestError, Sha256Digest, Sha256Hasher};
pub use cat::{KUBO_MAX_LENGTH, VerifiedStream};
pub use client::{CidStat, ClientOptions, EntryKind, KuboClient, KuboVersion};
pub use error::{Error, Result};
