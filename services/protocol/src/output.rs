//! The canonical output of `candle/bert-embed@1` (DESIGN.md "Canonical outputs"): a safetensors file
//! with exactly one f32 tensor `embeddings` [n, d] and no `__metadata__`, byte-identical for the same
//! values. We write the header ourselves: the Rust safetensors writer orders metadata randomly.

use cairn_primitives::Sha256Digest;

use crate::{Error, Result};

/// Row-major f32 embeddings, one row per input.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// Number of rows (inputs).
    pub rows: usize,
    /// Row length (the model's hidden size).
    pub dim: usize,
    /// `rows * dim` values.
    pub data: Vec<f32>,
}

impl Embeddings {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The canonical safetensors bytes.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let data_len = self.data.len() * 4;
        let mut header = format!(
            r#"{{"embeddings":{{"dtype":"F32","shape":[{},{}],"data_offsets":[0,{}]}}}}"#,
            self.rows, self.dim, data_len
        );
        // The format allows padding the header with spaces; align the data to 8 bytes.
        while !(8 + header.len()).is_multiple_of(8) {
            header.push(' ');
        }
        let mut out = Vec::with_capacity(8 + header.len() + data_len);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for value in &self.data {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// Reads a canonical output strictly: one tensor `embeddings`, F32, rank 2, no metadata, exact length.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self> {
        let bad = |why: String| Error::Output(why);
        let header_len = bytes.get(..8).ok_or_else(|| bad("shorter than a safetensors header".into()))?;
        let header_len = u64::from_le_bytes(header_len.try_into().expect("8 bytes"));
        let header_end =
            usize::try_from(header_len).ok().and_then(|n| n.checked_add(8)).filter(|end| *end <= bytes.len());
        let header_end = header_end.ok_or_else(|| bad(format!("header length {header_len} exceeds the file")))?;
        let header: serde_json::Value =
            serde_json::from_slice(&bytes[8..header_end]).map_err(|e| bad(format!("header is not JSON: {e}")))?;
        let object = header.as_object().ok_or_else(|| bad("header is not a JSON object".into()))?;
        if object.len() != 1 || !object.contains_key("embeddings") {
            let keys: Vec<&String> = object.keys().collect();
            return Err(bad(format!("expected exactly one tensor `embeddings` and no metadata, found {keys:?}")));
        }
        let tensor = &object["embeddings"];
        if tensor["dtype"] != "F32" {
            return Err(bad(format!("dtype is {}, expected F32", tensor["dtype"])));
        }
        let shape: Vec<usize> = serde_json::from_value(tensor["shape"].clone())
            .map_err(|_| bad(format!("shape {} is not a list of sizes", tensor["shape"])))?;
        let [rows, dim] = shape[..] else {
            return Err(bad(format!("shape {shape:?} is not [n, d]")));
        };
        let offsets: [usize; 2] = serde_json::from_value(tensor["data_offsets"].clone())
            .map_err(|_| bad(format!("data_offsets {} is not [begin, end]", tensor["data_offsets"])))?;
        let data = &bytes[header_end..];
        let expected = rows.checked_mul(dim).and_then(|n| n.checked_mul(4));
        if offsets != [0, data.len()] || expected != Some(data.len()) {
            return Err(bad(format!(
                "data is {} bytes with offsets {offsets:?}; shape [{rows}, {dim}] in f32 needs {expected:?}",
                data.len()
            )));
        }
        let data = data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        Ok(Self { rows, dim, data })
    }
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
    use super::*;

    #[test]
    fn canonical_bytes_round_trip_and_are_aligned() {
        let e = Embeddings { rows: 2, dim: 3, data: vec![1.0, -0.5, 0.25, 0.0, f32::MIN_POSITIVE, 3.5] };
        let bytes = e.to_safetensors();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + header_len) % 8, 0);
        assert_eq!(bytes.len(), 8 + header_len + 24);
        assert_eq!(Embeddings::from_safetensors(&bytes).unwrap(), e);
        assert_eq!(bytes, e.to_safetensors(), "same values, same bytes");
        // (cairn-runner's integration tests check that candle's safetensors reader reads these bytes.)
    }

    #[test]
    fn rejects_non_canonical_files() {
        let e = Embeddings { rows: 1, dim: 2, data: vec![1.0, 0.0] };
        let good = e.to_safetensors();
        assert!(Embeddings::from_safetensors(&good[..good.len() - 1]).is_err(), "truncated");
        assert!(Embeddings::from_safetensors(&good[..4]).is_err(), "no header");
        let header_end = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let header = String::from_utf8_lossy(&good[8..header_end])
            .replace(r#"{"embeddings""#, r#"{"__metadata__":{},"embeddings""#);
        let mut tampered = (header.len() as u64).to_le_bytes().to_vec();
        tampered.extend_from_slice(header.as_bytes());
        tampered.extend_from_slice(&good[header_end..]);
        let err = Embeddings::from_safetensors(&tampered).unwrap_err().to_string();
        assert!(err.contains("no metadata"), "{err}");
        let f16 = String::from_utf8_lossy(&good).replace("F32", "F16");
        assert!(Embeddings::from_safetensors(f16.as_bytes()).unwrap_err().to_string().contains("F16"));
    }
}
