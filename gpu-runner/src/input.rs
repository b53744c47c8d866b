//! Job input of `candle/bert-embed@1`: the one definition lives in `cairn_protocol::input`; this wraps its
//! error into the runner's.

pub use cairn_protocol::input::InputLimits;

use crate::{Error, Result};

/// Parses a job input: a non-empty JSON array of strings within `limits` (`cairn_protocol::input::parse_texts`).
///
/// Errors: [`Error::Input`] naming what is wrong.
pub fn parse_texts(bytes: &[u8], limits: &InputLimits) -> Result<Vec<String>> {
    cairn_protocol::input::parse_texts(bytes, limits).map_err(|e| Error::Input(e.0))
}
