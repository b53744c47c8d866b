//! Adding files and directories: streamed from disk in a multipart body, hashed on the way.
//!
//! Every add uses CIDv1 with raw leaves (the same CIDs as `ipfs add --cid-version=1 --raw-leaves`).
//! File bytes are read in chunks and fed both to Kubo and to a sha256 hasher, so a multi-GB file never
//! sits in memory and is read from disk once.

use std::{
    path::{Path, PathBuf},
    sync::mpsc::{Receiver, SyncSender, sync_channel},
    thread::JoinHandle,
};

use bytes::Bytes;

use futures_util::TryStreamExt;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use tokio_util::io::ReaderStream;

use crate::{Cid, Error, KuboClient, Result, Sha256Digest, Sha256Hasher};

/// Read size when streaming a file to Kubo (Kubo's default chunker cuts 256 KiB blocks).
const CHUNK: usize = 1 << 20;

/// How to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOptions {
    /// Pin what is added (default: true).
    pub pin: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        Self { pin: true }
    }
}

/// One file as added: where it sits, its CID, size and sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedFile {
    /// Path relative to the added directory with `/` separators (the file name for a single file).
    pub path: String,
    /// The file's CID.
    pub cid: Cid,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the bytes as read while adding.
    pub sha256: Sha256Digest,
}

/// A directory as added: the root CID and every file in it, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedDir {
    /// CID of the directory.
    pub cid: Cid,
    /// Every regular file below it.
    pub files: Vec<AddedFile>,
}

/// One line of Kubo's NDJSON add answer.
#[derive(Deserialize)]
struct AddEntry {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Hash")]
    hash: String,
}

impl KuboClient {
    /// Adds one file, streaming it from disk; returns its CID, size and sha256.
    pub async fn add_file(&self, path: &Path, options: AddOptions) -> Result<AddedFile> {
        let name = file_name(path)?;
        let mut hashing = Hashing::new();
        let part = hashing.file_part(path, &name).await?;
        let form = Form::new().percent_encode_noop().part("file", part);
        let (files, _) = self.post_hashed(form, hashing, options, None).await?;
        Ok(files.into_iter().next().expect("one file was added"))
    }

    /// Adds in-memory bytes under `name`.
    pub async fn add_bytes(&self, name: &str, bytes: Vec<u8>, options: AddOptions) -> Result<AddedFile> {
        let sha256 = Sha256Digest::of(&bytes);
        let size = bytes.len() as u64;
        let part =
            Part::bytes(bytes).file_name(encode_name(name)).mime_str("application/octet-stream").expect("static mime");
        let form = Form::new().percent_encode_noop().part("file", part);
        let entries = self.post_add(form, options).await?;
        let cid = find_cid(&entries, name)?;
        Ok(AddedFile { path: name.to_owned(), cid, size, sha256 })
    }

    /// Adds a directory tree. Regular files and directories only: a symlink or special file is refused,
    /// so what is published is exactly what is on disk.
    pub async fn add_dir(&self, dir: &Path, options: AddOptions) -> Result<AddedDir> {
        let root = file_name(dir)?;
        let meta = tokio::fs::metadata(dir).await.map_err(|e| Error::io("cannot read", dir, e))?;
        if !meta.is_dir() {
            return Err(Error::UnsupportedPath { path: dir.into(), reason: "not a directory; use add_file".into() });
        }
        let mut entries = Vec::new();
        walk(dir, &root, &mut entries)?;
        let mut form = Form::new().percent_encode_noop();
        let mut hashing = Hashing::new();
        for entry in entries {
            let part = match entry {
                WalkEntry::Dir(name) => Part::bytes(Vec::new())
                    .file_name(encode_name(&name))
                    .mime_str("application/x-directory")
                    .expect("static mime"),
                WalkEntry::File(name, local) => hashing.file_part(&local, &name).await?,
            };
            form = form.part("file", part);
        }
        let (mut files, cid) = self.post_hashed(form, hashing, options, Some(&root)).await?;
        for file in &mut files {
            file.path = file.path[root.len() + 1..].to_owned();
        }
        Ok(AddedDir { cid: cid.expect("root named"), files })
    }

    /// Sends the add while the hashing thread runs; returns the files and the CID of `root`, if named.
    async fn post_hashed(
        &self,
        form: Form,
        mut hashing: Hashing,
        options: AddOptions,
        root: Option<&str>,
    ) -> Result<(Vec<AddedFile>, Option<Cid>)> {
        let thread = hashing.start();
        let entries = self.post_add(form, options).await?;
        let hashed = tokio::task::spawn_blocking(move || thread.join())
            .await
            .expect("join task")
            .expect("the hashing thread does not panic");
        let root_cid = root.map(|root| find_cid(&entries, root)).transpose()?;
        Ok((hashing.finish(hashed, &entries)?, root_cid))
    }

    async fn post_add(&self, form: Form, options: AddOptions) -> Result<Vec<AddEntry>> {
        let query = [
            ("cid-version", "1"),
            ("raw-leaves", "true"),
            ("pin", if options.pin { "true" } else { "false" }),
            ("progress", "false"),
        ];
        let request = self.request("add", &query).multipart(form);
        let response = self.send("add", request, None, self.options.idle_timeout).await?;
        let body = response.bytes().await.map_err(|e| self.transport_error("add", e, self.options.idle_timeout))?;
        let mut entries = Vec::new();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let unexpected = |e: serde_json::Error| Error::UnexpectedResponse {
                endpoint: "add".into(),
                reason: format!("{e}: {}", String::from_utf8_lossy(line)),
            };
            let value: serde_json::Value = serde_json::from_slice(line).map_err(unexpected)?;
            if value.get("Type").and_then(|t| t.as_str()) == Some("error") {
                let message = value.get("Message").and_then(|m| m.as_str()).unwrap_or("unknown error").to_owned();
                return Err(Error::Kubo { endpoint: "add".into(), status: 200, message });
            }
            entries.push(serde_json::from_value(value).map_err(unexpected)?);
        }
        if entries.is_empty() {
            return Err(Error::UnexpectedResponse {
                endpoint: "add".into(),
                reason: "no entries in the answer (Kubo may have failed mid-stream; see its log)".into(),
            });
        }
        Ok(entries)
    }
}

/// A file being streamed into the request; its index names it to the hashing thread.
struct PendingFile {
    path: String,
    local: PathBuf,
    size: u64,
}

/// Chunks in flight to the hashing thread at most (each up to `CHUNK` bytes).
const HASH_QUEUE: usize = 8;

/// sha256 of every file of one add, computed on a thread of its own while the bytes stream to Kubo, so
/// hashing overlaps Kubo's chunking instead of delaying each send (see BENCHMARKS.md).
struct Hashing {
    tx: SyncSender<(usize, Bytes)>,
    rx: Option<Receiver<(usize, Bytes)>>,
    files: Vec<PendingFile>,
}

impl Hashing {
    fn new() -> Self {
        let (tx, rx) = sync_channel(HASH_QUEUE);
        Self { tx, rx: Some(rx), files: Vec::new() }
    }

    /// Opens `path` and returns the multipart part that streams it, feeding the hasher on the way.
    async fn file_part(&mut self, path: &Path, name: &str) -> Result<Part> {
        let file = tokio::fs::File::open(path).await.map_err(|e| Error::io("cannot open", path, e))?;
        let meta = file.metadata().await.map_err(|e| Error::io("cannot stat", path, e))?;
        if !meta.is_file() {
            return Err(Error::UnsupportedPath { path: path.into(), reason: "not a regular file".into() });
        }
        let index = self.files.len();
        let tx = self.tx.clone();
        let stream = ReaderStream::with_capacity(file, CHUNK).inspect_ok(move |chunk| {
            // The thread hashes several times faster than Kubo ingests, so this rarely waits; if the
            // thread is gone the add has failed already and its result is discarded.
            let _ = tx.send((index, chunk.clone()));
        });
        self.files.push(PendingFile { path: name.to_owned(), local: path.into(), size: meta.len() });
        Ok(Part::stream_with_length(reqwest::Body::wrap_stream(stream), meta.len())
            .file_name(encode_name(name))
            .mime_str("application/octet-stream")
            .expect("static mime"))
    }

    /// Starts the thread. It stops once every file's bytes have arrived, or when every stream is dropped.
    fn start(&mut self) -> JoinHandle<Vec<(Sha256Hasher, u64)>> {
        let rx = self.rx.take().expect("started once");
        let sizes: Vec<u64> = self.files.iter().map(|f| f.size).collect();
        std::thread::spawn(move || {
            let mut state = vec![(Sha256Hasher::default(), 0u64); sizes.len()];
            let mut open = sizes.iter().filter(|size| **size > 0).count();
            while open > 0 {
                let Ok((index, chunk)) = rx.recv() else { break };
                let (hasher, read) = &mut state[index];
                let was_open = *read < sizes[index];
                hasher.update(&chunk);
                *read += chunk.len() as u64;
                if was_open && *read >= sizes[index] {
                    open -= 1;
                }
            }
            state
        })
    }

    fn finish(self, hashed: Vec<(Sha256Hasher, u64)>, entries: &[AddEntry]) -> Result<Vec<AddedFile>> {
        self.files
            .into_iter()
            .zip(hashed)
            .map(|(file, (hasher, read))| {
                if read != file.size {
                    let reason = format!(
                        "it changed while being added ({} bytes expected, {read} read); add it again",
                        file.size
                    );
                    return Err(Error::UnsupportedPath { path: file.local, reason });
                }
                let cid = find_cid(entries, &file.path)?;
                Ok(AddedFile { path: file.path, cid, size: file.size, sha256: hasher.finish() })
            })
            .collect()
    }
}

enum WalkEntry {
    Dir(String),
    File(String, PathBuf),
}

/// Depth-first, sorted: each directory comes before its contents, as Kubo's multipart reader needs.
fn walk(dir: &Path, name: &str, out: &mut Vec<WalkEntry>) -> Result<()> {
    out.push(WalkEntry::Dir(name.to_owned()));
    let mut children = std::fs::read_dir(dir)
        .map_err(|e| Error::io("cannot list", dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("cannot list", dir, e))?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let path = child.path();
        let child_name = format!("{name}/{}", file_name(&path)?);
        let kind = child.file_type().map_err(|e| Error::io("cannot stat", &path, e))?;
        if kind.is_dir() {
            walk(&path, &child_name, out)?;
        } else if kind.is_file() {
            out.push(WalkEntry::File(child_name, path));
        } else {
            let reason =
                if kind.is_symlink() { "symlinks are not published; copy the target in" } else { "not a regular file" };
            return Err(Error::UnsupportedPath { path, reason: reason.into() });
        }
    }
    Ok(())
}

fn find_cid(entries: &[AddEntry], name: &str) -> Result<Cid> {
    let entry = entries.iter().rev().find(|e| e.name == name).ok_or_else(|| Error::UnexpectedResponse {
        endpoint: "add".into(),
        reason: format!("no entry for `{name}` in the answer"),
    })?;
    entry.hash.parse().map_err(|e| Error::UnexpectedResponse { endpoint: "add".into(), reason: format!("{e}") })
}

fn file_name(path: &Path) -> Result<String> {
    // `.` or `dir/..` have no file name of their own: use the name of what they resolve to.
    let name = match path.file_name() {
        Some(name) => name.to_owned(),
        None => path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(ToOwned::to_owned))
            .ok_or_else(|| Error::UnsupportedPath { path: path.into(), reason: "it has no file name".into() })?,
    };
    name.to_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::UnsupportedPath { path: path.into(), reason: "its name is not UTF-8".into() })
}

/// Kubo reads part file names with Go's `url.QueryUnescape`: escape everything but unreserved
/// characters (a bare `+` would turn into a space) and keep `/` as the path separator.
fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names_for_query_unescape() {
        assert_eq!(encode_name("a/b c+d%é.txt"), "a/b%20c%2Bd%25%C3%A9.txt");
        assert_eq!(encode_name("plain-name_1.safetensors"), "plain-name_1.safetensors");
    }

    #[test]
    fn walk_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let mut out = Vec::new();
        let err = walk(dir.path(), "root", &mut out).unwrap_err();
        assert!(err.to_string().contains("symlinks are not published"), "{err}");
    }
}
