//! A light syntactic check of content identifiers before they reach Kubo.
//!
//! Kubo remains the judge of whether a CID decodes (its "invalid cid" answers map to
//! [`Error::InvalidCid`](crate::Error::InvalidCid) too); this check only catches what is clearly not a
//! CID, so that a typo gets an error naming the argument instead of Kubo's path-resolution message.

use std::{fmt, str::FromStr};

/// A content identifier: CIDv0 (`Qm…`, base58btc) or CIDv1 in a multibase text encoding (`b…`, `z…`, …).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cid(String);

impl Cid {
    /// The CID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({})", self.0)
    }
}

/// Why a string is not a CID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a CID: {reason}")]
pub struct ParseCidError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for Cid {
    type Err = ParseCidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseCidError { input: s.to_owned(), reason };
        let s = s.strip_prefix("/ipfs/").unwrap_or(s);
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(err("a CID holds only letters and digits"));
        }
        if s.starts_with("Qm") {
            if s.len() != 46 {
                return Err(err("a CIDv0 (Qm…) is 46 characters long"));
            }
        } else if s.len() < 8 {
            return Err(err("too short for a CIDv1"));
        } else if !matches!(s.as_bytes()[0], b'b' | b'B' | b'z' | b'f' | b'F' | b'k' | b'K' | b'm' | b'u') {
            return Err(err("a CIDv1 starts with a multibase prefix such as `b` (base32)"));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_v0_and_v1() {
        for ok in [
            "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        ] {
            assert_eq!(ok.parse::<Cid>().unwrap().as_str(), ok);
        }
        let with_prefix: Cid = "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku".parse().unwrap();
        assert!(with_prefix.as_str().starts_with("bafkrei"));
    }

    #[test]
    fn rejects_what_is_clearly_not_a_cid() {
        for (bad, why) in [
            ("", "empty"),
            ("not-a-cid", "letters and digits"),
            ("QmTooShort", "46 characters"),
            ("baf", "too short"),
            ("xafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", "multibase"),
            ("bafy/../etc", "letters and digits"),
        ] {
            let err = bad.parse::<Cid>().unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
    }
}
