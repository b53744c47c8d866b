//! Model files are verified before use: every file the executor reads must match a sha256 the caller
//! gives (later, the registered manifest's). Weights are accepted as safetensors only.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use cairn_ipfs::Sha256Digest;

use crate::{Error, Result};

/// Expected sha256 of each model file, by path relative to the model folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedDigests(BTreeMap<String, Sha256Digest>);

/// File extensions of pickle-based weight formats: loading them can execute arbitrary code.
const PICKLE_EXTENSIONS: [&str; 6] = ["bin", "pt", "pth", "ckpt", "pkl", "pickle"];

impl ExpectedDigests {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the digest of `file`.
    pub fn insert(&mut self, file: impl Into<String>, digest: Sha256Digest) -> &mut Self {
        self.0.insert(file.into(), digest);
        self
    }

    /// The digest of `file`, if listed.
    pub fn get(&self, file: &str) -> Option<Sha256Digest> {
        self.0.get(file).copied()
    }

    /// Reads a digest list: `sha256sum` lines (`<hex>  <path>`), or a manifest JSON object with
    /// `"files": [{"path": …, "sha256": …}, …]`.
    pub fn parse(text: &str, source: &Path) -> Result<Self> {
        let bad = |why: String| Error::Config(format!("{}: {why}", source.display()));
        let mut out = Self::new();
        if text.trim_start().starts_with('{') {
            #[derive(serde::Deserialize)]
            struct Manifest {
                files: Vec<Entry>,
            }
            #[derive(serde::Deserialize)]
            struct Entry {
                path: String,
                sha256: String,
            }
            let manifest: Manifest = serde_json::from_str(text)
                .map_err(|e| bad(format!("not a manifest with \"files\": [{{\"path\", \"sha256\"}}] ({e})")))?;
            for entry in manifest.files {
                let digest = entry.sha256.parse().map_err(|e| bad(format!("{}: {e}", entry.path)))?;
                out.insert(entry.path, digest);
            }
        } else {
            for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let (digest, path) = line
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| bad(format!("line {}: expected `<sha256>  <path>`", number + 1)))?;
                let digest = digest.parse().map_err(|e| bad(format!("line {}: {e}", number + 1)))?;
                out.insert(path.trim().trim_start_matches('*'), digest);
            }
        }
        if out.0.is_empty() {
            return Err(bad("lists no files".into()));
        }
        Ok(out)
    }

    /// Reads `file` from `dir`, returning its bytes only if they hash to the listed digest.
    pub fn read_verified(&self, dir: &Path, file: &str) -> Result<Vec<u8>> {
        let path = dir.join(file);
        let expected = self.get(file).ok_or_else(|| {
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
}

/// Refuses pickle weights beside or instead of the safetensors file, and a "safetensors" file that is not.
pub fn check_safetensors(dir: &Path, weights: &str) -> Result<()> {
    let path = dir.join(weights);
    if let Some(ext) = path.extension().and_then(|e| e.to_str()).filter(|e| PICKLE_EXTENSIONS.contains(e)) {
        let ext = ext.to_owned();
        return Err(pickle(path, &format!(".{ext}")));
    }
    if !path.exists() {
        let pickles = pickle_files(dir);
        if let Some(found) = pickles.first() {
            return Err(pickle(found.clone(), "pickle"));
        }
        return Err(Error::MissingFile { path, hint: "the model folder must hold safetensors weights".into() });
    }
    let mut head = [0u8; 9];
    let read = {
        use std::io::Read;
        let mut file = std::fs::File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
        file.read(&mut head).map_err(|e| Error::io("cannot read", &path, e))?
    };
    let looks_like_pickle = head[0] == 0x80 || head.starts_with(b"PK");
    if looks_like_pickle {
        return Err(pickle(path, "pickle or zip"));
    }
    if read < 9 || head[8] != b'{' {
        return Err(Error::UnsafeWeights { path, reason: "not a safetensors file (no JSON header)".into() });
    }
    Ok(())
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
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| PICKLE_EXTENSIONS.contains(&e)))
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_list_formats() {
        let digest = Sha256Digest::of(b"x");
        let sums =
            ExpectedDigests::parse(&format!("{digest}  model.safetensors\n{digest} *a/b.json\n"), Path::new("l"))
                .unwrap();
        assert_eq!(sums.get("model.safetensors"), Some(digest));
        assert_eq!(sums.get("a/b.json"), Some(digest));
        let json = format!(r#"{{"files": [{{"path": "config.json", "sha256": "0x{digest}"}}]}}"#);
        assert_eq!(ExpectedDigests::parse(&json, Path::new("m")).unwrap().get("config.json"), Some(digest));
        assert!(ExpectedDigests::parse("nonsense", Path::new("m")).is_err());
        assert!(ExpectedDigests::parse("", Path::new("m")).is_err());
        assert!(ExpectedDigests::parse(r#"{"files": 3}"#, Path::new("m")).is_err());
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
        std::fs::write(dir.path().join("model.safetensors"), b"hello world").unwrap();
        let err = check_safetensors(dir.path(), "model.safetensors").unwrap_err().to_string();
        assert!(err.contains("not a safetensors file"), "{err}");
        assert!(check_safetensors(dir.path(), "weights.pt").unwrap_err().to_string().contains("safetensors only"));
    }
}
