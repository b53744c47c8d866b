//! Model manifests from IPFS, for `/models/{id}`: fetched in the background (never on the request's path)
//! with a size limit (`manifest_max_bytes`) and a time limit (`manifest_timeout`), checked against the
//! digest the seller signed, parsed as JSON and kept in an LRU cache. A failure is remembered for
//! `manifest_retry_after`, then tried again.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    time::Instant,
};

use cairn_primitives::Sha256Digest;
use lru::LruCache;
use serde_json::Value;

use super::Api;

/// One cached manifest.
#[derive(Debug, Clone)]
enum Entry {
    /// A fetch is running.
    Fetching,
    /// Fetched, verified and parsed.
    Ready(Arc<Value>),
    /// The last fetch failed, at `at`.
    Failed { reason: String, at: Instant },
}

/// The manifest cache, keyed by CID and digest.
pub struct Cache {
    lru: Mutex<LruCache<String, Entry>>,
}

/// What the API can say about a manifest now: the manifest (when fetched) and `ready`, `fetching`,
/// `failed: <reason>` or `unavailable: <reason>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// The manifest JSON, when fetched.
    pub manifest: Option<Arc<Value>>,
    /// Its status.
    pub status: String,
}

impl Cache {
    /// A cache of at most `entries` manifests.
    pub fn new(entries: usize) -> Self {
        Self { lru: Mutex::new(LruCache::new(NonZeroUsize::new(entries.max(1)).expect("at least 1"))) }
    }

    fn put(&self, key: String, entry: Entry) {
        self.lru.lock().expect("not poisoned").put(key, entry);
    }
}

/// The manifest at `cid` whose sha256 is `digest` (0x-hex): from the cache, or `fetching` after starting a
/// background fetch. Never waits for IPFS.
pub fn lookup(api: &Api, cid: &str, digest: &str) -> Lookup {
    let Some(ipfs) = api.app.ipfs.clone() else {
        return Lookup { manifest: None, status: "unavailable: no IPFS node configured (--ipfs-url)".into() };
    };
    let Ok(expected) = digest.parse::<Sha256Digest>() else {
        return Lookup {
            manifest: None,
            status: format!("unavailable: the registered digest {digest} is not a sha256"),
        };
    };
    let key = format!("{cid}#{digest}");
    {
        let mut lru = api.manifests().lru.lock().expect("not poisoned");
        match lru.get(&key) {
            Some(Entry::Ready(v)) => return Lookup { manifest: Some(v.clone()), status: "ready".into() },
            Some(Entry::Fetching) => return Lookup { manifest: None, status: "fetching".into() },
            Some(Entry::Failed { reason, at }) if at.elapsed() < api.app.options.manifest_retry_after => {
                return Lookup { manifest: None, status: format!("failed: {reason}") };
            }
            _ => {
                lru.put(key.clone(), Entry::Fetching);
            }
        }
    }
    let api2 = api.clone();
    let cid = cid.to_string();
    tokio::spawn(async move {
        let opts = &api2.app.options;
        let fetched =
            tokio::time::timeout(opts.manifest_timeout, ipfs.cat_bytes(&cid, expected, opts.manifest_max_bytes));
        let entry = match fetched.await {
            Err(_) => Entry::Failed {
                reason: format!("IPFS did not return {cid} within {} ms", opts.manifest_timeout.as_millis()),
                at: Instant::now(),
            },
            Ok(Err(e)) => Entry::Failed { reason: e.to_string(), at: Instant::now() },
            Ok(Ok(bytes)) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => Entry::Ready(Arc::new(v)),
                Err(e) => Entry::Failed { reason: format!("{cid} is not JSON: {e}"), at: Instant::now() },
            },
        };
        if let Entry::Failed { reason, .. } = &entry {
            tracing::warn!(cid, reason, "manifest fetch failed");
        }
        api2.manifests().put(key, entry);
    });
    Lookup { manifest: None, status: "fetching".into() }
}
