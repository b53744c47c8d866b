//! sha256 digests (FIPS 180-4): what Cairn records on-chain for every file it stores on IPFS.

use std::{
    fmt,
    io::{self, Read},
    path::Path,
    str::FromStr,
};

use sha2::{Digest, Sha256};

/// A sha256 digest of the exact bytes stored on IPFS. Serialised as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

/// Read size of [`Sha256Digest::of_reader`]: 1 MiB keeps syscalls rare and fits in L2 on most CPUs.
const READ_CHUNK: usize = 1 << 20;

impl Sha256Digest {
    /// Hashes `bytes` in one go.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Hashes everything `reader` yields; returns the digest and the byte count.
    ///
    /// Errors: the reader's (interrupted reads are retried).
    pub fn of_reader(mut reader: impl Read) -> io::Result<(Self, u64)> {
        let mut hasher = Sha256Hasher::default();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(hasher.finish_with_len())
    }

    /// Hashes the file at `path` in 1 MiB reads (never the whole file in memory); returns the digest and
    /// the file's size in bytes. Blocking: call it from `spawn_blocking` inside async code.
    pub fn of_file(path: &Path) -> io::Result<(Self, u64)> {
        Self::of_reader(std::fs::File::open(path)?)
    }

    /// The digest as 64 lowercase hex digits, without a `0x` prefix (the form `sha256sum` prints).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// Why a string is not a sha256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a sha256 digest: expected 64 hex digits (an optional 0x prefix allowed)")]
pub struct ParseDigestError {
    /// The rejected input.
    pub input: String,
}

impl FromStr for Sha256Digest {
    type Err = ParseDigestError;

    /// Accepts 64 hex digits in either case, with an optional `0x` (what people paste). Lists of files
    /// require the canonical form, see [`crate::FileDigests`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| ParseDigestError { input: s.to_owned() })?;
        Ok(Self(out))
    }
}

impl serde::Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental sha256, fed while bytes stream past. Also an [`io::Write`] sink, so `io::copy` can feed it.
#[derive(Clone, Default)]
pub struct Sha256Hasher {
    state: Sha256,
    len: u64,
}

impl Sha256Hasher {
    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.state.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// How many bytes were fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Sha256Digest {
        Sha256Digest(self.state.finalize().into())
    }

    /// The digest and the number of bytes fed.
    pub fn finish_with_len(self) -> (Sha256Digest, u64) {
        let len = self.len;
        (self.finish(), len)
    }
}

impl io::Write for Sha256Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_answer_and_hex_round_trip() {
        let digest = Sha256Digest::of(b"abc");
        assert_eq!(digest.to_hex(), ABC);
        assert_eq!(digest.to_hex().parse::<Sha256Digest>().unwrap(), digest);
        assert_eq!(format!("0x{digest}").parse::<Sha256Digest>().unwrap(), digest);
        assert_eq!(ABC.to_uppercase().parse::<Sha256Digest>().unwrap(), digest);
        let mut hasher = Sha256Hasher::default();
        hasher.update(b"a");
        hasher.update(b"bc");
        assert_eq!(hasher.len(), 3);
        assert_eq!(hasher.finish(), digest);
    }

    #[test]
    fn files_and_readers_hash_in_chunks_to_the_one_shot_digest() {
        // Larger than one read chunk and not a multiple of it, so the loop's seams are covered.
        let bytes: Vec<u8> = (0..READ_CHUNK * 2 + 12_345).map(|i| (i * 7 % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Sha256Digest::of_file(&path).unwrap(), (Sha256Digest::of(&bytes), bytes.len() as u64));
        assert_eq!(Sha256Digest::of_reader(&b"abc"[..]).unwrap(), (Sha256Digest::of(b"abc"), 3));
        assert_eq!(Sha256Digest::of_file(&dir.path().join("missing")).unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn serde_uses_lowercase_hex() {
        let digest = Sha256Digest::of(b"abc");
        assert_eq!(serde_json::to_string(&digest).unwrap(), format!("\"{ABC}\""));
        assert_eq!(serde_json::from_str::<Sha256Digest>(&format!("\"{ABC}\"")).unwrap(), digest);
        let err = serde_json::from_str::<Sha256Digest>("\"abc\"").unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"a".repeat(66), &format!("0x0x{}", &ABC[4..])] {
            let err = bad.parse::<Sha256Digest>().unwrap_err();
            assert_eq!(err.input, bad);
        }
    }
}
