//! Model weights read once, hashed as they are read, held once.
//!
//! A safetensors file (<https://github.com/huggingface/safetensors>, "Format") is an 8-byte little-endian
//! header length `n`, `n` bytes of JSON (`{name: {dtype, shape, data_offsets}, "__metadata__"?: {..}}`),
//! then the tensors' bytes, contiguous, in offset order. [`Weights::read_verified`] reads such a file
//! front to back exactly once:
//! 1. the header is parsed with the `safetensors` crate's own rules (`Metadata`: offsets contiguous from 0,
//!    each tensor's byte length equal to its shape × dtype, header at most 100 MB) and its data length must
//!    equal what follows it in the file, before anything the size of a tensor is allocated;
//! 2. every tensor's bytes are read straight into an owned, aligned `Vec` of its dtype (`f32`, `f16`, …),
//!    1 MiB at a time, and each chunk is hashed right after it lands (while it is still in cache);
//! 3. at the end the sha256 of every byte read must equal the expected digest, or the tensors are dropped
//!    unused ([`Error::DigestMismatch`]).
//!
//! So a model costs its size in memory once (no whole-file buffer beside the tensors), and the bytes that
//! run are the bytes that were hashed: nothing is read from the file again (no mmap a writer could change
//! under a model kept loaded for hours). Engines then take what they need: [`Weights::take_f32`] moves an
//! F32 tensor out without a copy; [`Weights::into_var_builder`] turns every tensor into a candle
//! [`Tensor`] with `Tensor::from_vec` (no copy on CPU) for candle-transformers' models.

use std::{
    collections::{BTreeMap, HashMap},
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

use cairn_primitives::{Sha256Digest, Sha256Hasher};
use candle_core::{DType, Device, Tensor, WithDType};
use candle_nn::VarBuilder;
use half::{bf16, f16};
use safetensors::Dtype;

use crate::{Error, Result};

pub use cairn_protocol::safetensors_file::MAX_HEADER_BYTES;
use cairn_protocol::safetensors_file::read_full;
pub(crate) use cairn_protocol::safetensors_file::{NotSafetensors, read_header};

/// Bytes read (and then hashed) per `read` call: large enough that syscalls are rare, small enough to be
/// hashed from cache.
const READ_CHUNK: usize = 1 << 20;

/// The runner's error for a file that is not safetensors.
pub(crate) fn not_safetensors(not: &NotSafetensors, path: PathBuf) -> Error {
    Error::UnsafeWeights { path, reason: not.reason() }
}

/// One tensor's values, owned, in its file dtype.
enum Values {
    U8(Vec<u8>),
    U32(Vec<u32>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// A dtype candle cannot hold (BOOL, U16, U64, I8, F8_E5M2, C64, the MX formats, …): hashed, then
    /// dropped; asking for it is an error naming the dtype.
    Unsupported(Dtype),
}

/// A tensor of the file: shape and owned values.
struct HostTensor {
    shape: Vec<usize>,
    values: Values,
}

/// The verified tensors of one safetensors file, owned in memory (see the module docs).
pub struct Weights {
    path: PathBuf,
    tensors: BTreeMap<String, HostTensor>,
}

impl std::fmt::Debug for Weights {
    /// The file, the tensor count and the bytes held; never the values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weights")
            .field("path", &self.path)
            .field("tensors", &self.tensors.len())
            .field("data_bytes", &self.data_bytes())
            .finish()
    }
}

impl Weights {
    /// Reads the safetensors file at `path` once, hashing every byte, and returns its tensors only if the
    /// sha256 of the whole file is `expected`.
    ///
    /// Errors: [`Error::UnsafeWeights`] when the file is not safetensors (a pickle or zip says so);
    /// [`Error::DigestMismatch`] when it is not the expected file (checked over every byte, including a
    /// file that is not safetensors at all: the wrong file is reported as the wrong file);
    /// [`Error::Io`] when it cannot be read or changes size while it is read.
    pub fn read_verified(path: &Path, expected: Sha256Digest) -> Result<Self> {
        let io = |e| Error::io("cannot read", path, e);
        let mut file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut hasher = Sha256Hasher::default();
        let header = match read_header(&mut file, file_len, &mut hasher).map_err(io)? {
            Ok(header) => header,
            Err(not) => {
                // Finish the hash: a file that is not the registered one is reported as such first.
                io::copy(&mut file, &mut hasher).map_err(io)?;
                let actual = hasher.finish();
                if actual != expected {
                    return Err(Error::DigestMismatch { path: path.to_owned(), expected, actual });
                }
                return Err(not_safetensors(&not, path.to_owned()));
            }
        };
        let mut tensors = BTreeMap::new();
        for name in header.metadata.offset_keys() {
            let info = header.metadata.info(&name).expect("offset_keys lists the header's own tensors");
            let bytes = info.data_offsets.1 - info.data_offsets.0;
            let values =
                read_values(&mut file, &mut hasher, info.dtype, bytes).map_err(|e| e.into_error(path, &name, bytes))?;
            tensors.insert(name, HostTensor { shape: info.shape.clone(), values });
        }
        // Nothing may follow the last tensor (the header said how long the file is; a writer appended).
        let mut extra = [0u8; 1];
        if read_full(&mut file, &mut extra).map_err(io)? != 0 {
            let why = io::Error::other("the file grew while it was read; read it again once nothing writes it");
            return Err(io(why));
        }
        let (actual, read) = hasher.finish_with_len();
        debug_assert_eq!(read, 8 + header.len + header.metadata.data_len() as u64);
        if actual != expected {
            return Err(Error::DigestMismatch { path: path.to_owned(), expected, actual });
        }
        Ok(Self { path: path.to_owned(), tensors })
    }

    /// The file the tensors came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of tensors held.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether no tensor is held.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Whether a tensor `name` is held.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The shape of tensor `name`, if held.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|t| t.shape.as_slice())
    }

    /// Bytes of tensor data held (what the weights cost in memory).
    pub fn data_bytes(&self) -> usize {
        self.tensors.values().map(|t| t.values.bytes()).sum()
    }

    /// Removes tensor `name` and returns its values as f32, row-major, after checking that its shape is
    /// `shape`. F32 tensors are moved out without a copy; F16, BF16 and F64 are converted (the original
    /// is freed at once).
    ///
    /// Errors ([`Error::Config`], naming the tensor): missing, another shape, or not a float dtype.
    pub fn take_f32(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let file = self.path.display();
        let found = self.tensors.get(name).ok_or_else(|| {
            Error::Config(format!("weights: tensor `{name}` (shape {shape:?}) is missing from {file}"))
        })?;
        if found.shape != shape {
            return Err(Error::Config(format!(
                "weights: tensor `{name}` has shape {:?} in {file}, expected {shape:?}",
                found.shape
            )));
        }
        let tensor = self.tensors.remove(name).expect("just looked up");
        match tensor.values {
            Values::F32(values) => Ok(values),
            Values::F16(values) => Ok(values.into_iter().map(f32::from).collect()),
            Values::BF16(values) => Ok(values.into_iter().map(f32::from).collect()),
            Values::F64(values) => Ok(values.into_iter().map(|v| v as f32).collect()),
            other => {
                let dtype = other.dtype_name();
                self.tensors.insert(name.to_owned(), HostTensor { shape: tensor.shape, values: other });
                Err(Error::Config(format!(
                    "weights: tensor `{name}` is {dtype} in {file}; expected a float tensor (F32, F16, BF16 or F64)"
                )))
            }
        }
    }

    /// Turns every tensor into a candle [`Tensor`] on `device` (moved, not copied, on CPU; each host
    /// buffer is freed as soon as its tensor is on a GPU) and wraps them in a `VarBuilder` that converts
    /// to `dtype` on access, for candle-transformers' models. Tensors of dtypes candle cannot hold are
    /// left out (a model asking for one gets candle's "cannot find tensor").
    pub fn into_var_builder(self, dtype: DType, device: &Device) -> Result<VarBuilder<'static>> {
        let mut tensors = HashMap::with_capacity(self.tensors.len());
        for (name, HostTensor { shape, values }) in self.tensors {
            let tensor = match values {
                Values::U8(v) => Tensor::from_vec(v, shape, device)?,
                Values::U32(v) => Tensor::from_vec(v, shape, device)?,
                Values::I16(v) => Tensor::from_vec(v, shape, device)?,
                Values::I32(v) => Tensor::from_vec(v, shape, device)?,
                Values::I64(v) => Tensor::from_vec(v, shape, device)?,
                Values::F16(v) => Tensor::from_vec(v, shape, device)?,
                Values::BF16(v) => Tensor::from_vec(v, shape, device)?,
                Values::F32(v) => Tensor::from_vec(v, shape, device)?,
                Values::F64(v) => Tensor::from_vec(v, shape, device)?,
                Values::Unsupported(_) => continue,
            };
            tensors.insert(name, tensor);
        }
        Ok(VarBuilder::from_tensors(tensors, dtype, device))
    }
}

impl Values {
    fn bytes(&self) -> usize {
        fn size<T>(v: &[T]) -> usize {
            std::mem::size_of_val(v)
        }
        match self {
            Self::U8(v) => size(v),
            Self::U32(v) => size(v),
            Self::I16(v) => size(v),
            Self::I32(v) => size(v),
            Self::I64(v) => size(v),
            Self::F16(v) => size(v),
            Self::BF16(v) => size(v),
            Self::F32(v) => size(v),
            Self::F64(v) => size(v),
            Self::Unsupported(_) => 0,
        }
    }

    fn dtype_name(&self) -> String {
        fn name<T: WithDType>(_: &[T]) -> String {
            T::DTYPE.as_str().to_uppercase()
        }
        match self {
            Self::U8(v) => name(v),
            Self::U32(v) => name(v),
            Self::I16(v) => name(v),
            Self::I32(v) => name(v),
            Self::I64(v) => name(v),
            Self::F16(v) => name(v),
            Self::BF16(v) => name(v),
            Self::F32(v) => name(v),
            Self::F64(v) => name(v),
            Self::Unsupported(dtype) => format!("{dtype} (not supported by candle)"),
        }
    }
}

/// Why one tensor could not be read.
enum ReadError {
    Io(io::Error),
    OutOfMemory,
}

impl ReadError {
    fn into_error(self, path: &Path, name: &str, bytes: usize) -> Error {
        match self {
            Self::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => Error::io(
                "cannot read",
                path,
                io::Error::new(e.kind(), format!("the file ended inside tensor `{name}` (it shrank while read)")),
            ),
            Self::Io(e) => Error::io("cannot read", path, e),
            Self::OutOfMemory => Error::Io {
                action: "cannot load",
                path: path.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    format!("no memory for the {bytes} bytes of tensor `{name}`; run the model on a larger machine"),
                ),
            },
        }
    }
}

/// Reads `bytes` bytes of a tensor of `dtype` into an owned vector of that dtype, hashing them.
fn read_values(
    file: &mut impl Read,
    hasher: &mut Sha256Hasher,
    dtype: Dtype,
    bytes: usize,
) -> std::result::Result<Values, ReadError> {
    Ok(match dtype {
        Dtype::U8 => Values::U8(read_vec(file, hasher, bytes)?),
        Dtype::U32 => Values::U32(read_vec(file, hasher, bytes)?),
        Dtype::I16 => Values::I16(read_vec(file, hasher, bytes)?),
        Dtype::I32 => Values::I32(read_vec(file, hasher, bytes)?),
        Dtype::I64 => Values::I64(read_vec(file, hasher, bytes)?),
        Dtype::F16 => Values::F16(read_vec(file, hasher, bytes)?),
        Dtype::BF16 => Values::BF16(read_vec(file, hasher, bytes)?),
        Dtype::F32 => Values::F32(read_vec(file, hasher, bytes)?),
        Dtype::F64 => Values::F64(read_vec(file, hasher, bytes)?),
        other => {
            skip(file, hasher, bytes)?;
            Values::Unsupported(other)
        }
    })
}

/// `bytes` bytes as a `Vec<T>` (the header's validation guarantees whole elements), read in place.
fn read_vec<T: bytemuck::Pod>(
    file: &mut impl Read,
    hasher: &mut Sha256Hasher,
    bytes: usize,
) -> std::result::Result<Vec<T>, ReadError> {
    let width = std::mem::size_of::<T>();
    debug_assert_eq!(bytes % width, 0, "the safetensors crate checked shape × dtype = byte length");
    let mut values: Vec<T> = Vec::new();
    values.try_reserve_exact(bytes / width).map_err(|_| ReadError::OutOfMemory)?;
    values.resize(bytes / width, T::zeroed());
    let raw: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
    for chunk in raw.chunks_mut(READ_CHUNK) {
        file.read_exact(chunk).map_err(ReadError::Io)?;
        hasher.update(chunk);
    }
    // safetensors stores little-endian values; on a big-endian host turn each element around after hashing.
    if cfg!(target_endian = "big") && width > 1 {
        raw.chunks_exact_mut(width).for_each(<[u8]>::reverse);
    }
    Ok(values)
}

/// Hashes and discards `bytes` bytes.
fn skip(file: &mut impl Read, hasher: &mut Sha256Hasher, bytes: usize) -> std::result::Result<(), ReadError> {
    let copied = io::copy(&mut Read::take(&mut *file, bytes as u64), hasher).map_err(ReadError::Io)?;
    if copied != bytes as u64 {
        return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file with the given header JSON (padded with spaces to `pad_to`) and data.
    pub(crate) fn file_bytes(header: &str, pad_to: usize, data: &[u8]) -> Vec<u8> {
        let mut header = header.to_owned();
        while header.len() < pad_to {
            header.push(' ');
        }
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn read(bytes: &[u8]) -> Result<Weights> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, bytes).unwrap();
        Weights::read_verified(&path, Sha256Digest::of(bytes))
    }

    #[test]
    fn reads_every_dtype_candle_holds_and_skips_the_others() {
        let header = r#"{"__metadata__":{"format":"pt"},
            "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
            "b":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},
            "c":{"dtype":"BOOL","shape":[2],"data_offsets":[10,12]},
            "d":{"dtype":"I64","shape":[1,1],"data_offsets":[12,20]},
            "e":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}}"#;
        let mut data = Vec::new();
        data.extend(1.5f32.to_le_bytes());
        data.extend((-2.0f32).to_le_bytes());
        data.extend(f16::from_f32(0.5).to_le_bytes());
        data.extend([1, 0]);
        data.extend(7i64.to_le_bytes());
        data.extend(bf16::from_f32(-3.0).to_le_bytes());
        let mut weights = read(&file_bytes(header, 0, &data)).unwrap();
        assert_eq!(weights.len(), 5);
        assert_eq!(weights.data_bytes(), 8 + 2 + 8 + 2, "BOOL is hashed and dropped");
        assert_eq!(weights.take_f32("a", &[2]).unwrap(), vec![1.5, -2.0]);
        assert_eq!(weights.take_f32("b", &[1]).unwrap(), vec![0.5]);
        assert_eq!(weights.take_f32("e", &[1]).unwrap(), vec![-3.0]);
        let err = weights.take_f32("d", &[1, 1]).unwrap_err().to_string();
        assert!(err.contains("`d` is I64") && err.contains("expected a float tensor"), "{err}");
        let err = weights.take_f32("c", &[2]).unwrap_err().to_string();
        assert!(err.contains("BOOL (not supported by candle)"), "{err}");
        let err = weights.take_f32("a", &[2]).unwrap_err().to_string();
        assert!(err.contains("`a` (shape [2]) is missing"), "taken tensors are gone: {err}");
        let vb = weights.into_var_builder(DType::F32, &Device::Cpu).unwrap();
        assert_eq!(vb.get((1, 1), "d").unwrap().to_vec2::<f32>().unwrap(), vec![vec![7.0]]);
        assert!(!vb.contains_tensor("c"));
    }

    #[test]
    fn shapes_are_checked_and_errors_name_the_tensor_and_both_shapes() {
        let header = r#"{"w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}"#;
        let mut weights = read(&file_bytes(header, 0, &[0; 8])).unwrap();
        let err = weights.take_f32("w", &[1, 2]).unwrap_err().to_string();
        assert!(err.contains("`w` has shape [2, 1]") && err.contains("expected [1, 2]"), "{err}");
        assert!(weights.contains("w"), "a refused take leaves the tensor in place");
    }

    #[test]
    fn the_digest_covers_every_byte_and_a_mismatch_returns_nothing() {
        let header = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let bytes = file_bytes(header, 0, &1f32.to_le_bytes());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        std::fs::write(&path, &bytes).unwrap();
        let other = Sha256Digest::of(b"another file");
        let err = Weights::read_verified(&path, other).unwrap_err();
        assert!(matches!(&err, Error::DigestMismatch { actual, .. } if *actual == Sha256Digest::of(&bytes)), "{err}");
        // A pickle with the wrong digest is the wrong file first; with the right digest, a pickle.
        let pickle = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.".to_vec();
        std::fs::write(&path, &pickle).unwrap();
        assert!(matches!(Weights::read_verified(&path, other), Err(Error::DigestMismatch { .. })));
        let err = Weights::read_verified(&path, Sha256Digest::of(&pickle)).unwrap_err().to_string();
        assert!(err.contains("pickle") && err.contains("safetensors only"), "{err}");
    }

    #[test]
    fn malformed_headers_are_refused_with_the_parsers_reason() {
        let ok = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let data = 1f32.to_le_bytes();
        for (bytes, expected) in [
            (file_bytes(ok, 0, &data)[..10].to_vec(), "header length"),
            (file_bytes(ok, 0, &[0; 8]), "describes 4 bytes of tensor data, the file holds 8"),
            (file_bytes(&ok.replace("[0,4]", "[4,8]"), 0, &[0; 8]), "not a valid safetensors header"),
            (file_bytes(&ok.replace("[1]", "[2]"), 0, &data), "not a valid safetensors header"),
            (file_bytes(&ok.replace("F32", "F33"), 0, &data), "not a valid safetensors header"),
            (file_bytes("{\"w\": 1", 0, &[]), "not a valid safetensors header"),
            ([&2u64.to_le_bytes()[..], b"\xff{"].concat(), "not UTF-8"),
            (b"PK\x03\x04 a torch zip".to_vec(), "zip archive"),
            (b"\x80\x02\x95 protocol 2".to_vec(), "pickle"),
            (b"abc".to_vec(), "shorter than the 8-byte header length"),
            (u64::MAX.to_le_bytes().to_vec(), "exceeds the format's limit"),
        ] {
            let err = read(&bytes).unwrap_err();
            assert!(matches!(err, Error::UnsafeWeights { .. }), "{expected}: {err}");
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn a_file_that_changes_size_while_read_is_an_error() {
        // A reader that yields fewer bytes than the length it was opened with.
        let header = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let bytes = file_bytes(header, 0, &1f32.to_le_bytes());
        let mut hasher = Sha256Hasher::default();
        let mut short = &bytes[..bytes.len() - 2];
        let header = read_header(&mut short, bytes.len() as u64, &mut hasher).unwrap().unwrap();
        let info = header.metadata.info("w").unwrap();
        assert!(matches!(
            read_values(&mut short, &mut hasher, info.dtype, 4),
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof
        ));
    }
}
