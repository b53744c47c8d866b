//! What of a seller's folder is published, checked before anything is hashed, pinned or signed.
//!
//! - The folder must exist and be a directory; every entry a regular file or a directory (a symlink or a
//!   special file is refused, naming it: what is published must be what is on disk, and a link could point
//!   outside the folder).
//! - Version-control folders (`.git`, `.hg`, `.svn`) and tool caches (`.cache/huggingface`, `__pycache__`) are
//!   not published, as the Hugging Face uploader leaves them out; the files skipped are listed. So is a
//!   `model.sig` left by an earlier publish: it is written again (OpenSSF Model Signing).
//! - Pickle weights (`*.bin`, `*.pt`, `*.pth`, `*.ckpt`, `*.pkl`, `*.pickle`) are refused: loading them can
//!   execute arbitrary code. Every `*.safetensors` file must parse as safetensors (header only, the
//!   `safetensors` crate's rules; see `cairn_protocol::safetensors_file`), whatever its first bytes.
//! - The runtime's required files must be there (`Runtime::required_files`).

use std::path::{Path, PathBuf};

use anyhow::bail;
use cairn_protocol::{
    Runtime,
    safetensors_file::{self, is_pickle_name},
};
use serde::Serialize;

use crate::UsageError;

/// Folder names never published, wherever they sit (version control, Python caches).
const SKIPPED_DIRS: [&str; 4] = [".git", ".hg", ".svn", "__pycache__"];

/// The OpenSSF Model Signing bundle `publish` writes into the folder.
pub const SIGNATURE_FILE: &str = "model.sig";

/// A checked folder: the files to publish (relative `/`-separated path, where it is), and what was skipped.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    /// The folder.
    pub dir: PathBuf,
    /// Files to publish, sorted by path.
    #[serde(skip)]
    pub files: Vec<(String, PathBuf)>,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Each file's size in bytes when checked, by path (the add must see the same).
    #[serde(skip)]
    pub sizes: std::collections::BTreeMap<String, u64>,
    /// Paths left out, with why.
    pub skipped: Vec<String>,
    /// The relative paths left out (files or folders), for the model signature's `ignore_paths`.
    #[serde(skip)]
    pub skipped_paths: Vec<String>,
}

/// Checks `dir` for `runtime` and lists what to publish.
///
/// Errors (each names the path and what to do): not a directory; a symlink or special file; a pickle; a
/// `*.safetensors` file that is not safetensors (truncated, header past the end, overlapping offsets, …); a
/// required file missing.
pub fn scan(dir: &Path, runtime: Runtime) -> anyhow::Result<Folder> {
    let meta = std::fs::symlink_metadata(dir).map_err(|_| {
        UsageError(format!("{} does not exist; give the folder holding the model's files", dir.display()))
    })?;
    if !meta.is_dir() {
        bail!(UsageError(format!("{} is not a directory; give the folder holding the model's files", dir.display())));
    }
    let mut folder = Folder {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        bytes: 0,
        sizes: Default::default(),
        skipped: Vec::new(),
        skipped_paths: Vec::new(),
    };
    walk(dir, "", &mut folder)?;
    folder.files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut problems = Vec::new();
    for (path, local) in &folder.files {
        if is_pickle_name(local) {
            problems.push(format!(
                "{path}: pickle weights can execute code when loaded; Cairn accepts safetensors only (convert with \
                 the `safetensors` library, then remove {path})"
            ));
        } else if path.ends_with(".safetensors") {
            match safetensors_file::check_file(local) {
                Ok(Ok(_)) => {}
                Ok(Err(not)) => problems.push(format!("{path}: {}", not.reason())),
                Err(e) => problems.push(format!("{path}: cannot read it: {e}")),
            }
        }
    }
    for required in runtime.required_files() {
        if !folder.files.iter().any(|(p, _)| p == required) {
            problems.push(format!("{required}: missing; the runtime {runtime} reads it"));
        }
    }
    if !problems.is_empty() {
        bail!(UsageError(format!(
            "{} cannot be published ({} problem{}):\n  {}\nnothing was pinned or registered",
            dir.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        )));
    }
    Ok(folder)
}

fn walk(dir: &Path, prefix: &str, folder: &mut Folder) -> anyhow::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<std::io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            bail!(UsageError(format!("{}: the name is not UTF-8; rename it", entry.path().display())));
        };
        let path = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            bail!(UsageError(format!(
                "{path} is a symlink; links are not published (one could point outside the folder): copy the file \
                 in, or remove the link"
            )));
        }
        if kind.is_dir() {
            if SKIPPED_DIRS.contains(&name) || path == ".cache/huggingface" {
                folder.skipped.push(format!("{path}/ (tool or version-control folder)"));
                folder.skipped_paths.push(path);
                continue;
            }
            walk(&entry.path(), &path, folder)?;
        } else if kind.is_file() {
            if path == SIGNATURE_FILE {
                folder.skipped.push(format!("{path} (an earlier signature; written again)"));
                continue;
            }
            let size = entry.metadata()?.len();
            folder.bytes += size;
            folder.sizes.insert(path.clone(), size);
            folder.files.push((path, entry.path()));
        } else {
            bail!(UsageError(format!("{path} is not a regular file (a socket, pipe or device); remove it")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
        [&(header.len() as u64).to_le_bytes()[..], header.as_bytes(), data].concat()
    }

    fn model(dir: &Path) {
        let ok = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        std::fs::write(dir.join("model.safetensors"), safetensors(ok, &[0; 4])).unwrap();
        for f in ["config.json", "tokenizer.json", "sentence_bert_config.json", "README.md"] {
            std::fs::write(dir.join(f), b"{}").unwrap();
        }
    }

    #[test]
    fn a_model_folder_is_listed_without_vcs_and_caches() {
        let tmp = tempfile::tempdir().unwrap();
        model(tmp.path());
        for p in [".git/HEAD", ".cache/huggingface/a.lock", "sub/__pycache__/x.pyc", "model.sig", ".cache/other"] {
            let path = tmp.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let folder = scan(tmp.path(), Runtime::BertEmbedV1).unwrap();
        let paths: Vec<&str> = folder.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                ".cache/other",
                "README.md",
                "config.json",
                "model.safetensors",
                "sentence_bert_config.json",
                "tokenizer.json"
            ]
        );
        assert_eq!(folder.skipped.len(), 4, "{:?}", folder.skipped);
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        model(tmp.path());
        std::fs::remove_file(tmp.path().join("tokenizer.json")).unwrap();
        std::fs::write(tmp.path().join("pytorch_model.bin"), b"\x80\x02pickle").unwrap();
        let ok = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        std::fs::write(tmp.path().join("model.safetensors"), &safetensors(ok, &[0; 4])[..20]).unwrap();
        let err = scan(tmp.path(), Runtime::BertEmbedV1).unwrap_err().to_string();
        for needle in [
            "3 problems",
            "pytorch_model.bin: pickle",
            "model.safetensors: not a safetensors file",
            "tokenizer.json: missing",
        ] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn links_files_and_missing_folders_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        model(tmp.path());
        std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("passwd")).unwrap();
        assert!(scan(tmp.path(), Runtime::BertEmbedV1).unwrap_err().to_string().contains("passwd is a symlink"));
        let file = tmp.path().join("config.json");
        assert!(scan(&file, Runtime::BertEmbedV1).unwrap_err().to_string().contains("is not a directory"));
        assert!(
            scan(&tmp.path().join("nope"), Runtime::BertEmbedV1).unwrap_err().to_string().contains("does not exist")
        );
    }
}
