//! Telling a safetensors file from everything else, by its header alone: one definition for the seller's
//! `cairn model publish` (which checks a folder before pinning it) and the runner's loader (which checks
//! while it reads and hashes).
//!
//! A safetensors file (<https://github.com/huggingface/safetensors>, "Format") is an 8-byte little-endian
//! header length `n`, `n` bytes of JSON (`{name: {dtype, shape, data_offsets}, "__metadata__"?: {..}}`), then
//! the tensors' bytes. The header is parsed with the `safetensors` crate's own rules (`Metadata`: offsets
//! contiguous from 0, each tensor's byte length equal to its shape × dtype size, at most 100 MB), and its data
//! length must equal what follows it in the file — without reading the tensors.
//!
//! Only a file that is *not* safetensors is then classified by its first bytes: a Python pickle (0x80 and a
//! protocol number 2–5) or a zip (PyTorch's `torch.save` format). A valid safetensors file whose header length
//! starts with byte 0x80 (any length ≡ 128 mod 256) is safetensors, whatever its first byte.

use std::{
    fs::File,
    io::{self, Read},
    path::Path,
};

use cairn_primitives::Sha256Hasher;
use safetensors::tensor::Metadata;

/// Largest header the `safetensors` crate accepts (its `MAX_HEADER_SIZE`, 100 MB); a larger length prefix
/// is not a safetensors file.
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// File extensions of pickle-based weight formats: loading them can execute arbitrary code.
pub const PICKLE_EXTENSIONS: [&str; 6] = ["bin", "pt", "pth", "ckpt", "pkl", "pickle"];

/// Whether `path`'s extension is a pickle format's, in any case (`model.BIN` too).
pub fn is_pickle_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PICKLE_EXTENSIONS.iter().any(|p| p.eq_ignore_ascii_case(e)))
}

/// What a file that is not safetensors looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSafetensors {
    /// A Python pickle (protocol 2–5: starts with the PROTO opcode 0x80 and the protocol number).
    Pickle,
    /// A zip archive (PyTorch's `torch.save` format since 1.6: a pickle inside a zip).
    Zip,
    /// Something else; the reason the safetensors parser gave.
    Other(String),
}

impl NotSafetensors {
    /// Classifies a file that failed to parse as safetensors by its first bytes (only called after the parse
    /// failed; see the module docs).
    pub fn classify(head: &[u8], why: String) -> Self {
        match head {
            // pickletools: PROTO (0x80) then the protocol, 2..=5 today; protocols 0 and 1 have no marker.
            [0x80, 2..=5, ..] => Self::Pickle,
            // Local file header or (empty archive) end-of-central-directory record (APPNOTE.TXT 4.3.7, 4.3.16).
            [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Self::Zip,
            _ => Self::Other(why),
        }
    }

    /// Why the file is refused and what to do, for an error message.
    pub fn reason(&self) -> String {
        let executable = |kind: &str| {
            format!(
                "{kind} weights can execute code when loaded; Cairn accepts safetensors only \
                 (convert them with the `safetensors` library and publish model.safetensors)"
            )
        };
        match self {
            Self::Pickle => executable("this is a pickle, not safetensors:"),
            Self::Zip => executable("this is a zip archive (PyTorch's torch.save format), not safetensors:"),
            Self::Other(why) => format!(
                "not a safetensors file ({why}); expected an 8-byte little-endian header length, a JSON header \
                 and the tensors' bytes (write the file with the `safetensors` library)"
            ),
        }
    }
}

/// A parsed safetensors header.
#[derive(Debug)]
pub struct Header {
    /// The JSON header's length in bytes (the file's first 8 bytes).
    pub len: u64,
    /// Tensors and metadata, validated by the `safetensors` crate.
    pub metadata: Metadata,
}

/// Reads and checks the header at the start of `reader`, a file of `file_len` bytes, feeding every byte read
/// to `hasher`. Errors: I/O errors as `Err(io)`, a file that is not safetensors as `Ok(Err(..))`.
pub fn read_header(
    reader: &mut impl Read,
    file_len: u64,
    hasher: &mut Sha256Hasher,
) -> io::Result<Result<Header, NotSafetensors>> {
    let mut prefix = [0u8; 8];
    let got = read_full(reader, &mut prefix)?;
    hasher.update(&prefix[..got]);
    let head = &prefix[..got];
    let not = |why: String| Ok(Err(NotSafetensors::classify(head, why)));
    if got < 8 {
        return not(format!("the file is {got} bytes, shorter than the 8-byte header length"));
    }
    let len = u64::from_le_bytes(prefix);
    if len > MAX_HEADER_BYTES {
        return not(format!("the header length {len} exceeds the format's limit of {MAX_HEADER_BYTES} bytes"));
    }
    // `file_len` comes from a stat before reading: saturate in case the file shrank since.
    let rest = file_len.saturating_sub(8);
    if len > rest {
        return not(format!("the header length {len} exceeds the {rest} bytes after it"));
    }
    let mut json = vec![0u8; len as usize];
    let got = read_full(reader, &mut json)?;
    hasher.update(&json[..got]);
    if got < json.len() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file became shorter while it was read"));
    }
    // The same steps as `SafeTensors::read_metadata`, which needs the whole file in one buffer.
    let text = match std::str::from_utf8(&json) {
        Ok(text) => text,
        Err(e) => return not(format!("the header is not UTF-8: {e}")),
    };
    let metadata: Metadata = match serde_json::from_str(text) {
        Ok(metadata) => metadata,
        Err(e) => return not(format!("the header is not a valid safetensors header: {e}")),
    };
    let data_len = metadata.data_len() as u64;
    let after = rest - len;
    if data_len != after {
        return not(format!("the header describes {data_len} bytes of tensor data, the file holds {after}"));
    }
    Ok(Ok(Header { len, metadata }))
}

/// Reads the header of the file at `path` (only the header: the tensors are never read).
///
/// Errors: `Err(io)` when the file cannot be opened or read; `Ok(Err(..))` when it is not safetensors.
pub fn check_file(path: &Path) -> io::Result<Result<Header, NotSafetensors>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut ignored = Sha256Hasher::default();
    read_header(&mut file, len, &mut ignored)
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_bytes(header: &str, data: &[u8]) -> Vec<u8> {
        [&(header.len() as u64).to_le_bytes()[..], header.as_bytes(), data].concat()
    }

    fn check(bytes: &[u8]) -> Result<Header, NotSafetensors> {
        read_header(&mut &bytes[..], bytes.len() as u64, &mut Sha256Hasher::default()).unwrap()
    }

    #[test]
    fn headers_are_judged_by_the_crates_rules_and_the_file_length() {
        let ok = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let data = 1f32.to_le_bytes();
        let header = check(&file_bytes(ok, &data)).unwrap();
        assert_eq!(header.len, ok.len() as u64);
        for (bytes, expected) in [
            (file_bytes(ok, &data)[..10].to_vec(), "header length"),
            (file_bytes(ok, &[0; 8]), "describes 4 bytes of tensor data, the file holds 8"),
            (file_bytes(&ok.replace("[0,4]", "[4,8]"), &[0; 8]), "not a valid safetensors header"),
            (file_bytes(&ok.replace("[1]", "[2]"), &data), "not a valid safetensors header"),
            (file_bytes(&ok.replace("F32", "F33"), &data), "not a valid safetensors header"),
            ([&2u64.to_le_bytes()[..], b"\xff{"].concat(), "not UTF-8"),
            (b"abc".to_vec(), "shorter than the 8-byte header length"),
            (u64::MAX.to_le_bytes().to_vec(), "exceeds the format's limit"),
        ] {
            let not = check(&bytes).unwrap_err();
            assert!(not.reason().contains(expected), "{expected}: {}", not.reason());
        }
        assert_eq!(check(b"PK\x03\x04 a torch zip").unwrap_err(), NotSafetensors::Zip);
        assert_eq!(check(b"\x80\x02\x95 protocol 2 pickle").unwrap_err(), NotSafetensors::Pickle);
    }

    #[test]
    fn a_header_length_starting_with_0x80_is_still_safetensors() {
        // 128 + 256k bytes of header: the first byte of the file is 0x80, as a pickle's is.
        let base = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let header = format!("{base}{}", " ".repeat(128 + 256 - base.len()));
        let bytes = file_bytes(&header, &1f32.to_le_bytes());
        assert_eq!(bytes[0], 0x80);
        assert!(check(&bytes).is_ok());
    }

    #[test]
    fn pickle_names() {
        assert!(is_pickle_name(Path::new("pytorch_model.bin")));
        assert!(is_pickle_name(Path::new("a/b.ckpt")));
        assert!(is_pickle_name(Path::new("MODEL.BIN")));
        assert!(!is_pickle_name(Path::new("model.safetensors")));
    }
}
