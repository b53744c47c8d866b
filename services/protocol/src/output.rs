//! The canonical output of `candle/bert-embed@1` (DESIGN.md "Canonical outputs and verification"): a
//! safetensors file with exactly one f32 tensor `embeddings` [n, d] and no `__metadata__`.
//!
//! **Reading** ([`Embeddings::from_safetensors`]) is done by the `safetensors` crate, the reference reader
//! (Python's `safetensors` runs the same Rust core): whatever it refuses is not an output, with its reason,
//! so a buyer is never asked to pay for a file the ecosystem cannot open. On top of it come the canonical
//! checks: one tensor named `embeddings`, F32, rank 2, no `__metadata__`, and a header that is, byte for
//! byte, [`canonical_header`] for that shape. The last check is there because JSON lets one header be
//! spelled many ways (a key given twice, reordered keys, fields no reader knows, extra spaces) and readers
//! disagree on some of them (Trail of Bits TOB-SFTN-7, safetensors#401: `"dtype":"F16","dtype":"F32"`).
//! With a single accepted spelling per shape there is nothing left for two readers to disagree on.
//!
//! **Writing** ([`Embeddings::to_safetensors`]) is ours on purpose: the canonical header is part of the
//! acceptance rule that verifiers vote on, so its encoding must stay frozen, independent of the version of
//! the `safetensors` crate any verifier happens to build with. It is exactly what
//! `safetensors::serialize(.., None)` writes today (a test checks byte for byte, and that the crate reads
//! it back); if a future `safetensors` writes differently, that test fails and the rule stays as it is.

use cairn_primitives::Sha256Digest;
use safetensors::{Dtype, SafeTensors};

use crate::{Error, Result};

/// The one tensor name of the output.
pub const TENSOR_NAME: &str = "embeddings";

/// Row-major f32 embeddings, one row per input.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// Number of rows (inputs).
    pub rows: usize,
    /// Row length (the model's hidden size).
    pub dim: usize,
    /// `rows * dim` values, row after row.
    pub data: Vec<f32>,
}

/// The header JSON of the canonical output of shape `[rows, dim]`, padded with spaces so that the data
/// starts at a multiple of 8 bytes (the padding the safetensors format allows and its writer uses):
/// `{"embeddings":{"dtype":"F32","shape":[rows,dim],"data_offsets":[0,rows*dim*4]}}` and spaces.
///
/// Returns `None` when `rows * dim * 4` bytes do not fit in `usize`.
pub fn canonical_header(rows: usize, dim: usize) -> Option<String> {
    let data_len = rows.checked_mul(dim)?.checked_mul(4)?;
    let mut header =
        format!(r#"{{"{TENSOR_NAME}":{{"dtype":"F32","shape":[{rows},{dim}],"data_offsets":[0,{data_len}]}}}}"#);
    let padded = header.len().next_multiple_of(8);
    header.extend(std::iter::repeat_n(' ', padded - header.len()));
    Some(header)
}

impl Embeddings {
    /// Row `i` (`dim` values). Panics when `i >= rows`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The canonical safetensors bytes: the 8-byte little-endian header length, [`canonical_header`],
    /// then the values as little-endian f32 (`rows * dim * 4` bytes).
    ///
    /// Panics when `data.len() != rows * dim` (a bug in the caller, not an input error).
    pub fn to_safetensors(&self) -> Vec<u8> {
        assert_eq!(
            Some(self.data.len()),
            self.rows.checked_mul(self.dim),
            "Embeddings of shape [{}, {}] must hold rows * dim values",
            self.rows,
            self.dim
        );
        let header = canonical_header(self.rows, self.dim).expect("the values are in memory, so their size fits");
        let mut out = Vec::with_capacity(8 + header.len() + self.data.len() * 4);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for value in &self.data {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// Reads a canonical output (see the module docs): first with the `safetensors` crate, then the
    /// canonical checks. Errors ([`Error::Output`]) name what was expected and what was found.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self> {
        read_canonical(bytes).map_err(Error::Output)
    }
}

/// The reason, without any prefix, why `bytes` are not a canonical output.
pub(crate) fn read_canonical(bytes: &[u8]) -> Result<Embeddings, String> {
    let (header_len, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| format!("the safetensors reader refuses it ({e}); it cannot be loaded as safetensors"))?;
    if let Some(extra) = metadata.metadata() {
        let keys: Vec<&String> = extra.keys().collect();
        return Err(format!("expected no `__metadata__`, found one with keys {keys:?}"));
    }
    let names = metadata.offset_keys();
    if names != [TENSOR_NAME] {
        return Err(format!("expected exactly one tensor `{TENSOR_NAME}`, found {names:?}"));
    }
    let info = metadata.info(TENSOR_NAME).expect("named above");
    if info.dtype != Dtype::F32 {
        return Err(format!("expected dtype F32, found {}", info.dtype));
    }
    let [rows, dim] = info.shape[..] else {
        return Err(format!("expected a shape [n, d], found {:?}", info.shape));
    };
    let header = &bytes[8..8 + header_len];
    let canonical = canonical_header(rows, dim).expect("the reader checked that the size fits");
    if header != canonical.as_bytes() {
        const SHOWN: usize = 200;
        let found = String::from_utf8_lossy(&header[..header.len().min(SHOWN)]);
        let more = if header.len() > SHOWN { format!("… ({} bytes)", header.len()) } else { String::new() };
        return Err(format!(
            "expected the canonical header for shape [{rows}, {dim}], `{canonical}`, found `{found}{more}`; one \
             spelling per shape keeps every reader reading the same tensor (write outputs with \
             `Embeddings::to_safetensors`, or `safetensors.serialize` without metadata)"
        ));
    }
    let data = bytes[8 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4 bytes")))
        .collect();
    Ok(Embeddings { rows, dim, data })
}

/// A produced output: its canonical bytes and their sha256 (the receipt's outputDigest).
#[derive(Debug, Clone)]
pub struct Output {
    /// The canonical file.
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`.
    pub sha256: Sha256Digest,
    /// Tensor shape, e.g. `[n, 384]`.
    pub shape: Vec<usize>,
}

impl From<&Embeddings> for Output {
    fn from(embeddings: &Embeddings) -> Self {
        let bytes = embeddings.to_safetensors();
        Self { sha256: Sha256Digest::of(&bytes), bytes, shape: vec![embeddings.rows, embeddings.dim] }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use safetensors::View;

    use super::*;

    /// A tensor as the `safetensors` writer takes it.
    struct F32Tensor {
        shape: Vec<usize>,
        bytes: Vec<u8>,
    }

    impl View for &F32Tensor {
        fn dtype(&self) -> Dtype {
            Dtype::F32
        }
        fn shape(&self) -> &[usize] {
            &self.shape
        }
        fn data(&self) -> Cow<'_, [u8]> {
            Cow::Borrowed(&self.bytes)
        }
        fn data_len(&self) -> usize {
            self.bytes.len()
        }
    }

    /// Deterministic values that are not all alike (so a byte swap would show).
    fn embeddings(rows: usize, dim: usize) -> Embeddings {
        let data = (0..rows * dim).map(|i| (i as f32 * 0.37).sin()).collect();
        Embeddings { rows, dim, data }
    }

    /// The file with its header replaced by `header` (the length prefix follows).
    fn with_header(good: &[u8], header: &str) -> Vec<u8> {
        let old_end = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&good[old_end..]);
        out
    }

    #[test]
    fn our_bytes_are_what_safetensors_serialize_writes_and_reads_back() {
        // Shapes chosen so the unpadded header length falls on different residues mod 8.
        for (rows, dim) in [(0, 384), (1, 1), (2, 3), (2, 384), (10, 384), (123, 4567), (7, 1024), (1000, 3)] {
            let e = embeddings(rows, dim);
            let ours = e.to_safetensors();
            let tensor =
                F32Tensor { shape: vec![rows, dim], bytes: e.data.iter().flat_map(|v| v.to_le_bytes()).collect() };
            let theirs = safetensors::serialize([(TENSOR_NAME, &tensor)], None).unwrap();
            assert!(ours == theirs, "[{rows}, {dim}]: our bytes differ from safetensors::serialize");

            let read = SafeTensors::deserialize(&ours).unwrap();
            let view = read.tensor(TENSOR_NAME).unwrap();
            assert_eq!((view.dtype(), view.shape()), (Dtype::F32, &[rows, dim][..]));
            assert!(view.data() == tensor.bytes.as_slice(), "[{rows}, {dim}]: values differ");
            assert_eq!(read.len(), 1);

            assert_eq!(Embeddings::from_safetensors(&ours).unwrap(), e, "[{rows}, {dim}]");
            let header_len = u64::from_le_bytes(ours[..8].try_into().unwrap()) as usize;
            assert_eq!((8 + header_len) % 8, 0, "data aligned to 8 bytes");
        }
    }

    #[test]
    fn refuses_what_the_safetensors_reader_refuses_with_its_reason() {
        let good = embeddings(1, 2).to_safetensors();
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("truncated", good[..good.len() - 1].to_vec(), "incomplete metadata"),
            ("no header", good[..4].to_vec(), "header too small"),
            (
                "a field given twice",
                with_header(
                    &good,
                    r#"{"embeddings":{"dtype":"F16","dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#,
                ),
                "duplicate field `dtype`",
            ),
            (
                "offsets past the data",
                with_header(&good, r#"{"embeddings":{"dtype":"F32","shape":[1,2],"data_offsets":[0,12]}}"#),
                "offset",
            ),
        ];
        for (what, bytes, why) in cases {
            assert!(SafeTensors::deserialize(&bytes).is_err(), "{what}: the reference reader accepts it");
            let err = Embeddings::from_safetensors(&bytes).unwrap_err().to_string();
            assert!(err.contains("safetensors reader refuses") && err.contains(why), "{what}: {err}");
        }
    }

    #[test]
    fn refuses_readable_files_that_are_not_the_canonical_output() {
        let good = embeddings(1, 2).to_safetensors();
        let cases = [
            (
                "metadata",
                r#"{"__metadata__":{},"embeddings":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#,
                "no `__metadata__`",
            ),
            ("another name", r#"{"output":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#, "exactly one tensor"),
            ("F16", r#"{"embeddings":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}}"#, "found F16"),
            ("rank 1", r#"{"embeddings":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, "shape [n, d]"),
            // Read fine by the `safetensors` crate, but spelled differently from the canonical header: a
            // tensor given twice (the crate keeps the last), reordered keys, a field no reader knows, spaces.
            (
                "a tensor given twice",
                r#"{"embeddings":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"embeddings":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#,
                "canonical header",
            ),
            (
                "reordered keys",
                r#"{"embeddings":{"shape":[1,2],"dtype":"F32","data_offsets":[0,8]}}"#,
                "canonical header",
            ),
            (
                "an unknown field",
                r#"{"embeddings":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8],"x":1}}"#,
                "canonical header",
            ),
            ("spaces", r#"{ "embeddings": {"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#, "canonical header"),
        ];
        for (what, header, why) in cases {
            let bytes = with_header(&good, header);
            assert!(SafeTensors::deserialize(&bytes).is_ok(), "{what}: the reference reader should accept it");
            let err = Embeddings::from_safetensors(&bytes).unwrap_err().to_string();
            assert!(err.contains(why), "{what}: {err}");
        }
    }

    #[test]
    #[should_panic(expected = "rows * dim")]
    fn writing_inconsistent_embeddings_is_a_bug() {
        let _ = Embeddings { rows: 2, dim: 2, data: vec![0.0; 3] }.to_safetensors();
    }
}
