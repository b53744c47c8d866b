//! The operator's content-addressed model cache: model files kept on disk by sha256, fetched from IPFS and
//! verified while they stream, evicted least recently used beyond a size limit (issue #15).
//!
//! - A file lives at `<root>/sha256/<64 hex digits>`: its name is the digest the manifest registered, so two
//!   models sharing a file (a tokenizer, a config) share one copy, and a file is found without an index.
//! - A miss streams the file from Kubo (`cairn_ipfs::KuboClient::cat_to_file_max`): the bytes are hashed as
//!   they arrive into a temporary file beside the destination, which is renamed into place only when the
//!   digest matched and the size stayed within the manifest's. A file that does not match is never in the
//!   cache, not even after a crash (the temporary file is deleted, and leftovers of a killed process are
//!   removed by [`ModelCache::open`]); the refusal is counted in [`CacheStats::refused`].
//! - The size limit counts the files in the cache and those being fetched. Room is made by deleting the least
//!   recently used files that no [`CachedFile`] holds (a loaded model holds its files); when the held files
//!   alone leave no room, the fetch fails with [`Error::CacheFull`] and nothing is deleted.
//! - Use order survives a restart through the files' modification times, set on every hit.
//!
//! The cache vouches for names, not for disk contents: the loaders hash what they read
//! (`weights::Weights::read_verified`, `model_files::read_verified`), so a file altered on disk after it was
//! cached is refused when loaded, and the bytes that run are the bytes that were hashed.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::SystemTime,
};

use cairn_ipfs::KuboClient;
use cairn_primitives::Sha256Digest;

use crate::{Error, Result};

/// The cache. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct ModelCache {
    dir: PathBuf,
    limit: u64,
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
    refused: AtomicU64,
    evicted: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Sha256Digest, Entry>,
    /// Bytes of the entries plus the bytes reserved by fetches in flight.
    used: u64,
    /// Use counter: a higher `last_used` is more recent.
    tick: u64,
}

#[derive(Debug)]
struct Entry {
    size: u64,
    last_used: u64,
    /// One reference per live [`CachedFile`], plus the entry's own.
    holders: Arc<()>,
}

/// A file in the cache, held: it is not evicted while this value (or a clone) lives.
#[derive(Debug, Clone)]
pub struct CachedFile {
    path: PathBuf,
    digest: Sha256Digest,
    size: u64,
    _hold: Arc<()>,
}

impl CachedFile {
    /// Where it is on disk.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its sha256 (its name in the cache).
    pub fn digest(&self) -> Sha256Digest {
        self.digest
    }

    /// Its size, bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// Counters since [`ModelCache::open`] (for `/metrics`), and the bytes held now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Fetches answered from disk.
    pub hits: u64,
    /// Fetches that downloaded the file.
    pub misses: u64,
    /// Downloads refused: the content did not match the digest, or exceeded its size.
    pub refused: u64,
    /// Files deleted to make room.
    pub evicted: u64,
    /// Bytes of the files in the cache.
    pub bytes: u64,
    /// Files in the cache.
    pub files: u64,
}

impl ModelCache {
    /// Opens (creating) the cache under `root`, holding at most `limit` bytes. Files already there are kept in
    /// the order of their last use (modification times), the least recently used deleted if they exceed
    /// `limit`; temporary files left by a killed fetch are deleted.
    ///
    /// Errors: the directory cannot be created or read ([`Error::Io`]).
    pub fn open(root: &Path, limit: u64) -> Result<Self> {
        let dir = root.join("sha256");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create the model cache", &dir, e))?;
        let mut found = Vec::new();
        for item in std::fs::read_dir(&dir).map_err(|e| Error::io("cannot read the model cache", &dir, e))? {
            let item = item.map_err(|e| Error::io("cannot read the model cache", &dir, e))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                // A fetch killed before it was verified and renamed.
                let _ = std::fs::remove_file(item.path());
                continue;
            }
            let Some(digest) = digest_name(&name) else { continue };
            let meta = item.metadata().map_err(|e| Error::io("cannot read the model cache", item.path(), e))?;
            if meta.is_file() {
                found.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), digest, meta.len()));
            }
        }
        found.sort();
        let mut state = State::default();
        for (_, digest, size) in found {
            state.tick += 1;
            state.used += size;
            state.entries.insert(digest, Entry { size, last_used: state.tick, holders: Arc::new(()) });
        }
        let cache = Self {
            dir,
            limit,
            state: Mutex::new(state),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        };
        {
            let mut state = cache.state.lock().expect("not poisoned");
            let over = state.used.saturating_sub(limit);
            cache.evict(&mut state, over);
        }
        Ok(cache)
    }

    /// The file with sha256 `digest`, from disk, or else fetched from IPFS at `source` (a CID, `<cid>/path`
    /// or `ipfs://…`, as the manifest lists it), at most `size` bytes (the manifest's size for it).
    ///
    /// Errors: the content does not hash to `digest` or exceeds `size` (`Error::Ipfs` with cairn-ipfs's
    /// `DigestMismatch` / `TooLarge`; nothing is kept); Kubo fails or is unreachable (`Error::Ipfs`); the
    /// file cannot fit beside the held files ([`Error::CacheFull`]).
    pub async fn fetch(&self, kubo: &KuboClient, source: &str, digest: Sha256Digest, size: u64) -> Result<CachedFile> {
        if let Some(file) = self.get(&digest) {
            return Ok(file);
        }
        {
            let mut state = self.state.lock().expect("not poisoned");
            let needed = (state.used + size).saturating_sub(self.limit);
            if size > self.limit || self.evict(&mut state, needed) < needed {
                let held = state.entries.values().filter(|e| Arc::strong_count(&e.holders) > 1).map(|e| e.size).sum();
                return Err(Error::CacheFull { needed: size, limit: self.limit, held });
            }
            state.used += size; // reserved until the fetch ends
        }
        let dest = self.path_of(&digest);
        let fetched = kubo.cat_to_file_max(source, digest, &dest, size).await;
        let mut state = self.state.lock().expect("not poisoned");
        state.used -= size;
        let written = match fetched {
            Ok(n) => n,
            Err(e) => {
                if matches!(e, cairn_ipfs::Error::DigestMismatch { .. } | cairn_ipfs::Error::TooLarge { .. }) {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                }
                return Err(Error::Ipfs(e));
            }
        };
        self.misses.fetch_add(1, Ordering::Relaxed);
        state.tick += 1;
        let tick = state.tick;
        if !state.entries.contains_key(&digest) {
            // (Two fetches of one file at once: the second finds the first's entry and counts it once.)
            state.used += written;
            state.entries.insert(digest, Entry { size: written, last_used: tick, holders: Arc::new(()) });
        }
        let entry = state.entries.get_mut(&digest).expect("inserted above");
        entry.last_used = tick;
        Ok(CachedFile { path: dest, digest, size: entry.size, _hold: entry.holders.clone() })
    }

    /// The file with sha256 `digest` if it is in the cache (a hit: it becomes the most recently used).
    pub fn get(&self, digest: &Sha256Digest) -> Option<CachedFile> {
        let path = self.path_of(digest);
        let mut state = self.state.lock().expect("not poisoned");
        state.tick += 1;
        let tick = state.tick;
        let entry = state.entries.get_mut(digest)?;
        entry.last_used = tick;
        let file = CachedFile { path, digest: *digest, size: entry.size, _hold: entry.holders.clone() };
        drop(state);
        self.hits.fetch_add(1, Ordering::Relaxed);
        // The order of use outlives the process; a failure only makes it less exact.
        if let Ok(f) = std::fs::File::options().write(true).open(&file.path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(file)
    }

    /// Deletes the file with sha256 `digest` (found altered on disk by a loader that hashed it), so the next
    /// fetch downloads it again. Whoever still holds it keeps a path to a deleted file.
    pub fn remove(&self, digest: &Sha256Digest) {
        let mut state = self.state.lock().expect("not poisoned");
        if let Some(entry) = state.entries.remove(digest) {
            state.used -= entry.size;
            let _ = std::fs::remove_file(self.path_of(digest));
        }
    }

    /// The counters and the bytes held now.
    pub fn stats(&self) -> CacheStats {
        let state = self.state.lock().expect("not poisoned");
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            bytes: state.entries.values().map(|e| e.size).sum(),
            files: state.entries.len() as u64,
        }
    }

    /// The size limit, bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn path_of(&self, digest: &Sha256Digest) -> PathBuf {
        self.dir.join(digest.to_hex())
    }

    /// Deletes least recently used files that nothing holds until `bytes` are freed (or none is left to
    /// delete); returns the bytes freed.
    fn evict(&self, state: &mut State, bytes: u64) -> u64 {
        let mut freed = 0;
        while freed < bytes {
            let victim = state
                .entries
                .iter()
                .filter(|(_, e)| Arc::strong_count(&e.holders) == 1)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(d, _)| *d);
            let Some(digest) = victim else { break };
            let entry = state.entries.remove(&digest).expect("found above");
            let _ = std::fs::remove_file(self.path_of(&digest));
            state.used -= entry.size;
            freed += entry.size;
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        freed
    }
}

/// `name` as a digest when it is one in the cache's form (64 lowercase hex digits).
fn digest_name(name: &str) -> Option<Sha256Digest> {
    (name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| name.parse().ok())
        .flatten()
}
