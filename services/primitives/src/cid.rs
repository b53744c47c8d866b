//! A light syntactic check of content identifiers before they reach Kubo.
//!
//! Kubo remains the judge of whether a CID decodes; this check only catches what is clearly not a CID, so
//! that a typo gets an error naming the argument instead of Kubo's path-resolution message. The forms people
//! paste are accepted and reduced to the bare CID: `bafy…`, `/ipfs/bafy…` and `ipfs://bafy…` (the
//! IPFS URI scheme of EIP-2157 / the IPFS docs' "native URLs").

use std::{fmt, str::FromStr};

/// A content identifier: CIDv0 (`Qm…`, base58btc) or CIDv1 in a multibase text encoding (`b…`, `z…`, …).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid(String);

impl Cid {
    /// The CID as text (without any `/ipfs/` or `ipfs://` prefix).
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

impl Cid {
    /// Splits `bafy…/a/b`, `/ipfs/bafy…/a/b` or `ipfs://bafy…/a/b` into the CID and the path after it
    /// (without its leading `/`; empty when there is none).
    pub fn split_path(target: &str) -> Result<(Self, &str), ParseCidError> {
        let rest = strip_scheme(target);
        let (cid, path) = rest.split_once('/').unwrap_or((rest, ""));
        let cid = parse_bare(cid).map_err(|reason| ParseCidError { input: target.to_owned(), reason })?;
        Ok((cid, path))
    }
}

fn strip_scheme(s: &str) -> &str {
    s.strip_prefix("/ipfs/").or_else(|| s.strip_prefix("ipfs://")).unwrap_or(s)
}

fn parse_bare(s: &str) -> Result<Cid, &'static str> {
    if s.is_empty() {
        return Err("it is empty");
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("a CID holds only letters and digits");
    }
    if s.starts_with("Qm") {
        if s.len() != 46 {
            return Err("a CIDv0 (Qm…) is 46 characters long");
        }
    } else if s.len() < 8 {
        return Err("too short for a CIDv1");
    } else if !matches!(s.as_bytes()[0], b'b' | b'B' | b'z' | b'f' | b'F' | b'k' | b'K' | b'm' | b'u') {
        return Err("a CIDv1 starts with a multibase prefix such as `b` (base32)");
    }
    Ok(Cid(s.to_owned()))
}

impl FromStr for Cid {
    type Err = ParseCidError;

    /// A bare CID, `/ipfs/<cid>` or `ipfs://<cid>`; a trailing path is refused (see [`Cid::split_path`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_bare(strip_scheme(s)).map_err(|reason| ParseCidError { input: s.to_owned(), reason })
    }
}

/// A CID serialises as its string form (what the Kubo API and `ipfs://` links use).
impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    #[test]
    fn accepts_v0_and_v1_in_every_pasted_form() {
        for ok in [
            "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            V1,
        ] {
            assert_eq!(ok.parse::<Cid>().unwrap().as_str(), ok);
        }
        for pasted in [format!("/ipfs/{V1}"), format!("ipfs://{V1}")] {
            assert_eq!(pasted.parse::<Cid>().unwrap().as_str(), V1, "{pasted}");
        }
    }

    #[test]
    fn splits_a_path_after_the_cid() {
        for target in [format!("{V1}/a/b.json"), format!("/ipfs/{V1}/a/b.json"), format!("ipfs://{V1}/a/b.json")] {
            let (cid, path) = Cid::split_path(&target).unwrap();
            assert_eq!((cid.as_str(), path), (V1, "a/b.json"), "{target}");
        }
        assert_eq!(Cid::split_path(V1).unwrap().1, "");
        // The whole input is named, not a fragment of it such as `ipfs:`.
        let err = Cid::split_path("ipfs://nope!/a").unwrap_err();
        assert_eq!(err.input, "ipfs://nope!/a");
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
            ("ipfs://", "empty"),
        ] {
            let err = bad.parse::<Cid>().unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
            assert_eq!(err.input, bad);
        }
    }
}
