//! Model files are verified before use: every file the executor reads must match a sha256 the caller
//! gives (later, the registered manifest's). Weights are accepted as safetensors only.

use std::path::{Path, PathBuf};

use cairn_primitives::{FileDigests, Sha256Digest};

use cairn_protocol::safetensors_file::{is_pickle_name, read_header};

use crate::{Error, Result, weights::not_safetensors};

/// Reads a digest list: a manifest JSON (`cairn_protocol::manifest::Manifest`, its `files`), or `sha256sum` lines
/// (`<hex>  <path>`). Both follow the same rules (`cairn_primitives::FileDigests`); `source` names the file
/// in errors.
pub fn parse_digest_list(text: &str, source: &Path) -> Result<FileDigests> {
    let bad = |why: String| Error::Config(format!("{}: {why}", source.display()));
    if text.trim_start().starts_with('{') {
        let manifest = cairn_protocol::manifest::Manifest::from_json(text).map_err(|e| bad(e.to_string()))?;
        Ok(manifest.file_digests())
    } else {
        FileDigests::parse_sha256sum(text).map_err(|e| bad(e.to_string()))
    }
}

/// Reads `file` from `dir`, returning its bytes only if they hash to the digest `digests` lists for it.
pub fn read_verified(digests: &FileDigests, dir: &Path, file: &str) -> Result<Vec<u8>> {
    let path = dir.join(file);
    let expected = digests.get(file).ok_or_else(|| {
        Error::Config(format!("no expected sha256 for `{file}`: list every file the model reads in the manifest"))
    })?;
    if !path.exists() {
        return Err(Error::MissingFile {
            path,
            hint: format!("the model folder must hold `{file}` (fetch the model again)"),
        });
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let actual = Sha256Digest::of(&bytes);
    if actual != expected {
        return Err(Error::DigestMismatch { path, expected, actual });
    }
    Ok(bytes)
}

/// Refuses pickle weights beside or instead of the safetensors file, and a "safetensors" file that is not.
///
/// A file is safetensors when its header parses by the `safetensors` crate's rules and its length fits
/// the file (see [`crate::weights`]); only a file that is *not* is then called a pickle (first bytes
/// 0x80 and a protocol number 2–5) or a zip (`PK\x03\x04`), so a header length whose low byte happens
/// to be 0x80 (one padded header in 32) is not mistaken for a pickle. Reads the header only; the loader
/// ([`crate::weights::Weights::read_verified`]) applies the same check while it reads and hashes.
pub fn check_safetensors(dir: &Path, weights: &str) -> Result<()> {
    let path = check_weights_path(dir, weights)?;
    let mut file = std::fs::File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
    let len = file.metadata().map_err(|e| Error::io("cannot read", &path, e))?.len();
    let mut ignored = cairn_primitives::Sha256Hasher::default();
    match read_header(&mut file, len, &mut ignored).map_err(|e| Error::io("cannot read", &path, e))? {
        Ok(_) => Ok(()),
        Err(not) => Err(not_safetensors(&not, path)),
    }
}

/// The path of the weights file `weights` in `dir`, refusing a pickle extension, and, when the file is
/// missing, naming a pickle found in its place.
pub(crate) fn check_weights_path(dir: &Path, weights: &str) -> Result<PathBuf> {
    let path = dir.join(weights);
    if is_pickle_name(&path) {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_owned();
        return Err(pickle(path, &format!(".{ext}")));
    }
    if !path.exists() {
        let pickles = pickle_files(dir);
        if let Some(found) = pickles.first() {
            return Err(pickle(found.clone(), "pickle"));
        }
        return Err(Error::MissingFile { path, hint: "the model folder must hold safetensors weights".into() });
    }
    Ok(path)
}

fn pickle(path: PathBuf, kind: &str) -> Error {
    Error::UnsafeWeights {
        path,
        reason: format!(
            "{kind} weights can execute code when loaded; Cairn accepts safetensors only \
             (convert them with the `safetensors` library and publish model.safetensors)"
        ),
    }
}

fn pickle_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| is_pickle_name(p)).collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_reads_exactly_the_runtimes_required_files() {
        use crate::bert::{CONFIG_FILE, MODEL_FILES, SENTENCE_CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
        let mut read = vec![WEIGHTS_FILE, CONFIG_FILE, TOKENIZER_FILE, SENTENCE_CONFIG_FILE];
        let mut required = MODEL_FILES.to_vec();
        read.sort_unstable();
        required.sort_unstable();
        assert_eq!(read, required);
    }

    #[test]
    fn reads_manifests_and_sha256sum_lists_under_one_set_of_rules() {
        let digest = Sha256Digest::of(b"x");
        let sums =
            parse_digest_list(&format!("{digest}  model.safetensors\n{digest} *a/b.json\n"), Path::new("l")).unwrap();
        assert_eq!(sums.get("model.safetensors"), Some(digest));
        assert_eq!(sums.get("a/b.json"), Some(digest));
        let manifest = format!(
            r#"{{"schema": "cairn.manifest/1", "runtime": "candle/bert-embed@1", "weights": "model.safetensors",
                "files": [{{"path": "model.safetensors", "size": 1, "sha256": "{digest}"}}],
                "card": {{"name": "m", "description": "d", "license": "MIT", "task": "sentence-embedding",
                          "languages": ["en"], "outputDim": 384}}}}"#
        );
        assert_eq!(parse_digest_list(&manifest, Path::new("m")).unwrap().get("model.safetensors"), Some(digest));
        // The same path rule in both formats.
        let escape = format!("{digest}  ../model.safetensors\n");
        let err = parse_digest_list(&escape, Path::new("l")).unwrap_err().to_string();
        assert!(err.contains("line 1: path `../model.safetensors`"), "{err}");
        let err = parse_digest_list(&manifest.replace("\"path\": \"model", "\"path\": \"../model"), Path::new("m"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("files[0]: path `../model.safetensors`"), "{err}");
        for bad in ["nonsense", "", r#"{"files": 3}"#] {
            assert!(parse_digest_list(bad, Path::new("m")).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_pickles_and_fake_safetensors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pytorch_model.bin"), b"PK\x03\x04").unwrap();
        let err = check_safetensors(dir.path(), "model.safetensors").unwrap_err().to_string();
        assert!(err.contains("pytorch_model.bin") && err.contains("safetensors only"), "{err}");
        std::fs::write(dir.path().join("model.safetensors"), b"\x80\x04\x95pickle").unwrap();
        let err = check_safetensors(dir.path(), "model.safetensors").unwrap_err().to_string();
        assert!(err.contains("pickle"), "{err}");
        std::fs::write(dir.path().join("model.safetensors"), b"PK\x03\x04 torch zip").unwrap();
        let err = check_safetensors(dir.path(), "model.safetensors").unwrap_err().to_string();
        assert!(err.contains("zip archive") && err.contains("safetensors only"), "{err}");
        std::fs::write(dir.path().join("model.safetensors"), b"hello world").unwrap();
        let err = check_safetensors(dir.path(), "model.safetensors").unwrap_err().to_string();
        assert!(err.contains("not a safetensors file"), "{err}");
        assert!(check_safetensors(dir.path(), "weights.pt").unwrap_err().to_string().contains("safetensors only"));
    }

    /// Case `safetensors-first-byte-0x80` (promptfoo/modelaudit#1745): a valid file whose header length is
    /// 128 starts with byte 0x80, like a pickle; it is safetensors. 136 is the control.
    #[test]
    fn a_header_length_with_low_byte_0x80_is_safetensors_not_a_pickle() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        for case in ["header-len-128", "header-len-136"] {
            let dir = data.join(case);
            let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
            check_safetensors(&dir, "model.safetensors").unwrap_or_else(|e| panic!("{case}: {e}"));
            let mut weights =
                crate::weights::Weights::read_verified(&dir.join("model.safetensors"), Sha256Digest::of(&bytes))
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(weights.take_f32("w", &[1]).unwrap(), vec![1.0], "{case}");
        }
        // Every padded header length from 8 to 8 KiB, so each low byte (0x80 among them) is covered.
        let tmp = tempfile::tempdir().unwrap();
        for pad in (8..8192).step_by(8) {
            let mut header = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.to_owned();
            while header.len() < pad {
                header.push(' ');
            }
            let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(&1f32.to_le_bytes());
            std::fs::write(tmp.path().join("model.safetensors"), &bytes).unwrap();
            check_safetensors(tmp.path(), "model.safetensors").unwrap_or_else(|e| panic!("header {pad}: {e}"));
        }
    }
}
