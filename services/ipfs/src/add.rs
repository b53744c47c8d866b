//! Adding files and directories: streamed from disk in a multipart body, hashed on the way.
//!
//! Every add uses CIDv1 with raw leaves (the same CIDs as `ipfs add --cid-version=1 --raw-leaves`).
//! File bytes are read in chunks and fed both to Kubo and to a sha256 hasher, so a multi-GB file never
//! sits in memory and is read from disk once.
//!
//! A directory is published whole, hidden entries (names starting with `.`) included: its CID equals
//! `ipfs add -r --hidden --cid-version=1 --raw-leaves <dir>`, not plain `ipfs add -r`, which skips them.
//! What a seller has on disk is what buyers get; a manifest that lists `.gitattributes` finds it.

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

use crate::{
    Cid, Error, KuboClient, Result, Sha256Digest, Sha256Hasher,
    body::{BodyError, KuboBody},
};

/// Read size when streaming a file to Kubo (Kubo's default chunker cuts 256 KiB blocks).
const CHUNK: usize = 1 << 20;

/// How to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOptions {
    /// Pin what is added (default: true).
    pub pin: bool,
    /// Only compute the CIDs: Kubo chunks and hashes but stores nothing (`ipfs add --only-hash`; default
    /// false). Nothing is pinned either.
    pub only_hash: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        Self { pin: true, only_hash: false }
    }
}

/// Called with the number of bytes just streamed to Kubo (from the request body, so it tracks what Kubo
/// reads); for progress bars.
pub type AddProgress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

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
        let mut hashing = Hashing::new(None);
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

    /// Adds a directory tree, hidden entries included (the CID of `ipfs add -r --hidden`, see the module
    /// docs). Regular files and directories only: a symlink or special file is refused, so what is
    /// published is exactly what is on disk. The walk runs on the blocking pool, off the async runtime.
    pub async fn add_dir(&self, dir: &Path, options: AddOptions) -> Result<AddedDir> {
        let owned = dir.to_path_buf();
        let (root, entries) =
            tokio::task::spawn_blocking(move || walk_root(&owned)).await.expect("the directory walk does not panic")?;
        self.add_entries(&root, entries, options, None).await
    }

    /// Adds the files `files` (path relative to the tree's root with `/` separators, and where each lives on
    /// disk) as one tree named `root`: the CID `ipfs add -r --hidden` gives a folder holding exactly these
    /// files, which need not be every file of a folder on disk (a seller's `.git` stays out). Directories
    /// are implied by the paths. `progress` is told the bytes streamed as they go.
    ///
    /// Errors: a path that is empty, absolute or has `.`/`..` components, or is listed twice
    /// ([`Error::UnsupportedPath`]); a file that is not a regular file or changes size while added; Kubo's.
    pub async fn add_files(
        &self,
        root: &str,
        files: Vec<(String, PathBuf)>,
        options: AddOptions,
        progress: Option<AddProgress>,
    ) -> Result<AddedDir> {
        let entries = tree_entries(root, files)?;
        self.add_entries(root, entries, options, progress).await
    }

    async fn add_entries(
        &self,
        root: &str,
        entries: Vec<WalkEntry>,
        options: AddOptions,
        progress: Option<AddProgress>,
    ) -> Result<AddedDir> {
        let mut form = Form::new().percent_encode_noop();
        let mut hashing = Hashing::new(progress);
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
        let (mut files, cid) = self.post_hashed(form, hashing, options, Some(root)).await?;
        for file in &mut files {
            file.path = file.path[root.len() + 1..].to_owned();
        }
        Ok(AddedDir { cid: cid.expect("root named"), files })
    }

    /// Sends the add while the hashing thread runs; returns the files and the CID of `root`, if named.
    ///
    /// Whatever Kubo answers, and however early (it may answer before it has read the whole body, e.g. on
    /// a failure), the hashing thread is told to stop once the answer is in and is then joined: it never
    /// waits for bytes that will not come.
    async fn post_hashed(
        &self,
        form: Form,
        hashing: Hashing,
        options: AddOptions,
        root: Option<&str>,
    ) -> Result<(Vec<AddedFile>, Option<Cid>)> {
        let running = hashing.start();
        let answer = self.post_add(form, options).await;
        let (files, hashed) = tokio::task::spawn_blocking(move || running.stop())
            .await
            .expect("stopping the hashing thread does not panic");
        let entries = answer?;
        let root_cid = root.map(|root| find_cid(&entries, root)).transpose()?;
        Ok((finish(files, hashed, &entries)?, root_cid))
    }

    async fn post_add(&self, form: Form, options: AddOptions) -> Result<Vec<AddEntry>> {
        let query = [
            ("cid-version", "1"),
            ("raw-leaves", "true"),
            ("pin", if options.pin && !options.only_hash { "true" } else { "false" }),
            ("only-hash", if options.only_hash { "true" } else { "false" }),
            ("progress", "false"),
        ];
        let request = self.request("add", &query).multipart(form);
        let response = self.send("add", request, None, self.options.idle_timeout).await?;
        let body = KuboBody::new(response).collect().await.map_err(|err| match err {
            BodyError::Kubo(message) => Error::Interrupted { endpoint: "add".into(), message },
            BodyError::Transport(source) => self.transport_error("add", source, self.options.idle_timeout),
        })?;
        let mut entries = Vec::new();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let unexpected = |e: serde_json::Error| Error::UnexpectedResponse {
                endpoint: "add".into(),
                reason: format!("{e}: {}", String::from_utf8_lossy(line)),
            };
            let value: serde_json::Value = serde_json::from_slice(line).map_err(unexpected)?;
            // The older form of a mid-answer failure: an error value among the entries.
            if value.get("Type").and_then(|t| t.as_str()) == Some("error") {
                let message = value.get("Message").and_then(|m| m.as_str()).unwrap_or("unknown error").to_owned();
                return Err(Error::Interrupted { endpoint: "add".into(), message });
            }
            entries.push(serde_json::from_value(value).map_err(unexpected)?);
        }
        if entries.is_empty() {
            return Err(Error::UnexpectedResponse {
                endpoint: "add".into(),
                reason: "no entries in the answer (see Kubo's log)".into(),
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

/// What the hashing thread receives: the bytes of file `index` as they go to Kubo, then `Stop`.
enum ToHasher {
    Chunk(usize, Bytes),
    Stop,
}

/// sha256 of every file of one add, computed on a thread of its own while the bytes stream to Kubo, so
/// hashing overlaps Kubo's chunking instead of delaying each send (see BENCHMARKS.md).
struct Hashing {
    tx: SyncSender<ToHasher>,
    rx: Receiver<ToHasher>,
    files: Vec<PendingFile>,
    progress: Option<AddProgress>,
}

/// The hashing thread at work, and the one sender that can stop it.
struct RunningHasher {
    stop: SyncSender<ToHasher>,
    thread: JoinHandle<Vec<(Sha256Hasher, u64)>>,
    files: Vec<PendingFile>,
}

impl Hashing {
    fn new(progress: Option<AddProgress>) -> Self {
        let (tx, rx) = sync_channel(HASH_QUEUE);
        Self { tx, rx, files: Vec::new(), progress }
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
        let progress = self.progress.clone();
        let stream = ReaderStream::with_capacity(file, CHUNK).inspect_ok(move |chunk| {
            // The thread hashes several times faster than Kubo ingests, so this rarely waits; once the
            // thread has stopped the send fails, and the answer is in already.
            let _ = tx.send(ToHasher::Chunk(index, chunk.clone()));
            if let Some(progress) = &progress {
                progress(chunk.len() as u64);
            }
        });
        self.files.push(PendingFile { path: name.to_owned(), local: path.into(), size: meta.len() });
        Ok(Part::stream_with_length(reqwest::Body::wrap_stream(stream), meta.len())
            .file_name(encode_name(name))
            .mime_str("application/octet-stream")
            .expect("static mime"))
    }

    /// Starts the thread. It hashes until it is told to stop (or every sender is gone).
    fn start(self) -> RunningHasher {
        let Self { tx, rx, files, .. } = self;
        let count = files.len();
        let thread = std::thread::spawn(move || {
            let mut state = vec![(Sha256Hasher::default(), 0u64); count];
            while let Ok(ToHasher::Chunk(index, chunk)) = rx.recv() {
                let (hasher, read) = &mut state[index];
                hasher.update(&chunk);
                *read = read.saturating_add(chunk.len() as u64);
            }
            state
        });
        RunningHasher { stop: tx, thread, files }
    }
}

impl RunningHasher {
    /// Stops and joins the thread (blocking). Call it once Kubo's answer is complete: every byte Kubo
    /// read has passed through the hasher by then, since a chunk reaches the thread's queue before the
    /// request body yields it.
    fn stop(self) -> (Vec<PendingFile>, Vec<(Sha256Hasher, u64)>) {
        // Blocks only while the queue is full, which the thread drains; fails only if the thread is gone.
        let _ = self.stop.send(ToHasher::Stop);
        drop(self.stop);
        (self.files, self.thread.join().expect("the hashing thread does not panic"))
    }
}

/// Pairs every file with its hash and Kubo's entry; a file not read exactly to its size is an error.
fn finish(files: Vec<PendingFile>, hashed: Vec<(Sha256Hasher, u64)>, entries: &[AddEntry]) -> Result<Vec<AddedFile>> {
    files
        .into_iter()
        .zip(hashed)
        .map(|(file, (hasher, read))| {
            if read > file.size {
                let reason =
                    format!("it grew while being added ({} bytes expected, {read} read); add it again", file.size);
                return Err(Error::UnsupportedPath { path: file.local, reason });
            }
            if read < file.size {
                return Err(Error::UnexpectedResponse {
                    endpoint: "add".into(),
                    reason: format!(
                        "Kubo answered after only {read} of the {} bytes of `{}` were sent; the file may have \
                         shrunk while being added, or Kubo stopped reading (see its log); add it again",
                        file.size,
                        file.local.display()
                    ),
                });
            }
            let cid = find_cid(entries, &file.path)?;
            Ok(AddedFile { path: file.path, cid, size: file.size, sha256: hasher.finish() })
        })
        .collect()
}

#[derive(Debug)]
enum WalkEntry {
    Dir(String),
    File(String, PathBuf),
}

/// The root's name and every entry below it (blocking file-system work: run it off the runtime).
fn walk_root(dir: &Path) -> Result<(String, Vec<WalkEntry>)> {
    let root = file_name(dir)?;
    let meta = std::fs::metadata(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::UnsupportedPath { path: dir.into(), reason: "not a directory; use add_file".into() });
    }
    let mut entries = Vec::new();
    walk(dir, &root, &mut entries)?;
    Ok((root, entries))
}

/// Depth-first, sorted by name, hidden entries included: each directory comes before its contents, as
/// Kubo's multipart reader needs.
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

/// The entries of a tree named `root` holding `files`: each directory before its contents, in the order
/// [`walk`] gives a folder on disk (depth-first, sorted by name at each level).
fn tree_entries(root: &str, files: Vec<(String, PathBuf)>) -> Result<Vec<WalkEntry>> {
    let mut keyed = Vec::with_capacity(files.len());
    for (path, local) in files {
        let parts: Vec<String> = path.split('/').map(str::to_owned).collect();
        if parts.iter().any(|p| p.is_empty() || p == "." || p == "..") {
            let reason = format!("`{path}` is not a relative path of plain names separated by `/`");
            return Err(Error::UnsupportedPath { path: local, reason });
        }
        keyed.push((parts, local));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![WalkEntry::Dir(root.to_owned())];
    let mut open: Vec<String> = Vec::new();
    let mut previous: Option<Vec<String>> = None;
    for (parts, local) in keyed {
        if previous.as_ref() == Some(&parts) {
            let reason = format!("`{}` is listed twice", parts.join("/"));
            return Err(Error::UnsupportedPath { path: local, reason });
        }
        let dirs = &parts[..parts.len() - 1];
        let common = open.iter().zip(dirs).take_while(|(a, b)| a == b).count();
        open.truncate(common);
        for d in &dirs[common..] {
            open.push(d.clone());
            out.push(WalkEntry::Dir(format!("{root}/{}", open.join("/"))));
        }
        out.push(WalkEntry::File(format!("{root}/{}", parts.join("/")), local));
        previous = Some(parts);
    }
    Ok(out)
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
    fn tree_entries_put_each_directory_before_its_contents_in_walk_order() {
        let dir = tempfile::tempdir().unwrap();
        for p in ["b/z.txt", "a.txt", "b/c/d.txt", "b/a.txt", ".hidden/x"] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, p).unwrap();
        }
        let mut walked = Vec::new();
        walk(dir.path(), "root", &mut walked).unwrap();
        let files: Vec<(String, PathBuf)> = ["b/z.txt", "a.txt", "b/c/d.txt", "b/a.txt", ".hidden/x"]
            .iter()
            .map(|p| (p.to_string(), dir.path().join(p)))
            .collect();
        let names = |entries: &[WalkEntry]| -> Vec<String> {
            entries
                .iter()
                .map(|e| match e {
                    WalkEntry::Dir(n) => format!("{n}/"),
                    WalkEntry::File(n, _) => n.clone(),
                })
                .collect()
        };
        assert_eq!(names(&tree_entries("root", files).unwrap()), names(&walked));
        for bad in ["", "/abs", "a/../b", "a//b", "./a"] {
            let err = tree_entries("root", vec![(bad.to_string(), dir.path().join("a.txt"))]);
            assert!(matches!(err, Err(Error::UnsupportedPath { .. })), "{bad:?}");
        }
        let twice = vec![("a.txt".to_string(), dir.path().join("a.txt")); 2];
        assert!(tree_entries("root", twice).unwrap_err().to_string().contains("listed twice"));
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
