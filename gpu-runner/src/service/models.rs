//! The models a runner serves: each job's model version is found on chain, its manifest fetched from IPFS and
//! accepted only if it hashes to the registered `manifestDigest`, every file the runtime reads fetched into the
//! content-addressed [`ModelCache`] (verified while it streams), and the model loaded once and shared by every
//! job of that version until it is the least recently used beyond `[engine] loaded_models`.
//!
//! Refusals are permanent for a version ([`HostError::Refused`]: the manifest or a file does not match what was
//! registered, the runtime is not served, the manifest lacks a file); they are remembered so a tampered model
//! costs one download, not one per job. Anything else (Kubo down, a full cache) is [`HostError::Unavailable`]
//! and is tried again on a later job.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use alloy::primitives::B256;
use cairn_ipfs::KuboClient;
use cairn_primitives::Sha256Digest;
use cairn_protocol::{
    Runtime,
    manifest::{MAX_MANIFEST_BYTES, Manifest},
};

use crate::{
    BertEmbedExecutor, Executor,
    bert::EmbedOptions,
    cache::{CachedFile, ModelCache},
    input::InputLimits,
};

/// One registered model version, as a job names it (`JobTerms` + `ModelRegistry.getVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    /// The manifest's CID.
    pub manifest_cid: String,
    /// sha256 of the manifest (`manifestDigest`).
    pub manifest_digest: B256,
    /// sha256 of the weights file the job must run (`JobTerms.weightsDigest`).
    pub weights_digest: B256,
    /// keccak256 of the runtime name (`JobTerms.runtime`).
    pub runtime: B256,
}

/// A model loaded and verified, shared by the jobs that run it. It holds its files in the cache, so they are
/// not evicted while it is loaded.
pub struct LoadedModel {
    /// The executor of the model's runtime.
    pub executor: Box<dyn Executor>,
    /// The manifest it was loaded from.
    pub manifest: Manifest,
    _files: Vec<CachedFile>,
}

/// Why a model cannot serve a job.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The model does not match what was registered, or cannot run here: never loaded, never retried.
    #[error("model refused: {0}")]
    Refused(String),
    /// It could not be fetched or loaded now (Kubo down, the cache full); a later job may try again.
    #[error("model unavailable: {0:#}")]
    Unavailable(anyhow::Error),
}

/// The runner's models: a cache of files and an LRU of loaded models.
pub struct ModelHost {
    kubo: KuboClient,
    cache: Arc<ModelCache>,
    views: PathBuf,
    options: EmbedOptions,
    limits: InputLimits,
    capacity: usize,
    state: Mutex<HostState>,
    /// One load at a time: two jobs of a new model wait for one download and one load.
    loading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct HostState {
    /// Loaded models by manifest digest, with their last use (a counter).
    loaded: HashMap<B256, (Arc<LoadedModel>, u64)>,
    /// Versions refused, by manifest digest, with the reason.
    refused: HashMap<B256, String>,
    tick: u64,
}

impl ModelHost {
    /// A host fetching from `kubo` into `cache`, keeping the per-model folders of links in `views`, loading with
    /// `options` and checking inputs against `limits`, at most `capacity` models loaded at once.
    pub fn new(
        kubo: KuboClient,
        cache: Arc<ModelCache>,
        views: PathBuf,
        options: EmbedOptions,
        limits: InputLimits,
        capacity: usize,
    ) -> Self {
        Self {
            kubo,
            cache,
            views,
            options,
            limits,
            capacity: capacity.max(1),
            state: Mutex::default(),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The cache (for its counters).
    pub fn cache(&self) -> &ModelCache {
        &self.cache
    }

    /// The loaded model of `model`, loading it first if needed.
    ///
    /// Errors: [`HostError::Refused`] when the manifest does not hash to its digest, is not a valid manifest,
    /// names another runtime or other weights than the job, lacks a file the runtime reads or a root folder
    /// (`cairn.manifest/1`), or a file does not match its digest (it is never loaded, nor kept in the cache);
    /// [`HostError::Unavailable`] when Kubo fails or the cache is full.
    pub async fn get(&self, model: &ModelRef) -> Result<Arc<LoadedModel>, HostError> {
        if let Some(found) = self.lookup(model)? {
            return Ok(found);
        }
        let _one_at_a_time = self.loading.lock().await;
        if let Some(found) = self.lookup(model)? {
            return Ok(found);
        }
        match self.load(model).await {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                let mut state = self.state.lock().expect("not poisoned");
                state.tick += 1;
                let tick = state.tick;
                state.loaded.insert(model.manifest_digest, (loaded.clone(), tick));
                while state.loaded.len() > self.capacity {
                    let oldest = state.loaded.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| *k).expect("not empty");
                    state.loaded.remove(&oldest);
                    tracing::info!(manifest = %oldest, "unloaded the least recently used model");
                }
                Ok(loaded)
            }
            Err(HostError::Refused(why)) => {
                tracing::error!(manifest = %model.manifest_digest, cid = %model.manifest_cid, %why, "model refused");
                self.state.lock().expect("not poisoned").refused.insert(model.manifest_digest, why.clone());
                Err(HostError::Refused(why))
            }
            Err(e) => Err(e),
        }
    }

    /// A loaded model or a remembered refusal.
    fn lookup(&self, model: &ModelRef) -> Result<Option<Arc<LoadedModel>>, HostError> {
        let mut state = self.state.lock().expect("not poisoned");
        if let Some(why) = state.refused.get(&model.manifest_digest) {
            return Err(HostError::Refused(why.clone()));
        }
        state.tick += 1;
        let tick = state.tick;
        Ok(state.loaded.get_mut(&model.manifest_digest).map(|(loaded, used)| {
            *used = tick;
            loaded.clone()
        }))
    }

    async fn load(&self, model: &ModelRef) -> Result<LoadedModel, HostError> {
        let refused = |why: String| HostError::Refused(why);
        let runtime = Runtime::from_id(model.runtime)
            .ok_or_else(|| refused(format!("runtime id {} is none this runner executes", model.runtime)))?;
        let manifest_digest = Sha256Digest(model.manifest_digest.0);
        let bytes = self
            .kubo
            .cat_bytes(&model.manifest_cid, manifest_digest, MAX_MANIFEST_BYTES)
            .await
            .map_err(|e| classify(e, &format!("fetching the manifest {}", model.manifest_cid)))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| refused(format!("the manifest is not UTF-8: {e}")))?;
        let manifest = Manifest::from_json(text).map_err(|e| refused(format!("the manifest is invalid: {e}")))?;
        if manifest.runtime() != Some(runtime) {
            return Err(refused(format!(
                "the manifest declares runtime `{}` but the job runs `{runtime}`",
                manifest.runtime
            )));
        }
        let weights = manifest.weights_entry().ok_or_else(|| refused("the manifest lists no weights file".into()))?;
        if weights.sha256.0 != model.weights_digest.0 {
            return Err(refused(format!(
                "the manifest's weights have sha256 {} but the job was registered with weightsDigest {}",
                weights.sha256, model.weights_digest
            )));
        }
        let root = manifest.root.clone().ok_or_else(|| {
            refused(
                "the manifest has no `root` folder CID (a cairn.manifest/1); the runner fetches files as \
                     <root>/<path>, so the seller must publish it again as cairn.manifest/2"
                    .into(),
            )
        })?;

        let view = self.views.join(model.manifest_digest.to_string());
        let unavailable = |e: std::io::Error, what: &str| {
            HostError::Unavailable(anyhow::Error::new(e).context(format!("{what} {}", view.display())))
        };
        // Every file the runtime reads must be listed before any is fetched.
        let mut entries = Vec::new();
        for name in runtime.required_files() {
            let entry = manifest
                .files
                .iter()
                .find(|f| f.path == *name)
                .ok_or_else(|| refused(format!("the manifest lists no `{name}`, which {runtime} reads")))?;
            entries.push((*name, entry));
        }
        let mut files = Vec::new();
        for (name, entry) in entries {
            let source = format!("{root}/{name}");
            let file = self.cache.fetch(&self.kubo, &source, entry.sha256, entry.size).await.map_err(|e| match e {
                crate::Error::Ipfs(e) => classify(e, &format!("fetching {name} ({source})")),
                // Larger than the whole cache: no eviction can ever make room.
                e @ crate::Error::CacheFull { needed, limit, .. } if needed > limit => {
                    HostError::Refused(format!("{name}: {e}"))
                }
                other => HostError::Unavailable(anyhow::Error::new(other).context(format!("fetching {name}"))),
            })?;
            tracing::info!(file = name, sha256 = %entry.sha256, bytes = entry.size, "model file verified");
            files.push((name, file));
        }
        // The loader reads a folder: one of links to the cached files, by the manifest's names.
        if view.exists() {
            std::fs::remove_dir_all(&view).map_err(|e| unavailable(e, "cannot clear"))?;
        }
        std::fs::create_dir_all(&view).map_err(|e| unavailable(e, "cannot create"))?;
        for (name, file) in &files {
            link(file.path(), &view.join(name)).map_err(|e| unavailable(e, "cannot link the model files into"))?;
        }
        let digests = manifest.file_digests();
        let (options, limits) = (self.options, self.limits);
        let dir = view.clone();
        let executor = tokio::task::spawn_blocking(move || BertEmbedExecutor::load(&dir, &digests, options, limits))
            .await
            .map_err(|e| HostError::Unavailable(anyhow::anyhow!("the loader panicked: {e}")))?
            .map_err(|e| match e {
                // The loader hashes what it reads: a cached file that changed on disk since it was verified is
                // deleted from the cache and fetched again next time (the registered bytes are still good).
                e @ crate::Error::DigestMismatch { .. } => {
                    if let crate::Error::DigestMismatch { expected, .. } = &e {
                        self.cache.remove(expected);
                    }
                    HostError::Unavailable(anyhow::Error::new(e).context("a cached model file was altered on disk"))
                }
                // A config the engine cannot run, or weights in a refused format: the model itself is at fault.
                e @ (crate::Error::UnsafeWeights { .. } | crate::Error::Config(_) | crate::Error::Tokenizer(_)) => {
                    refused(e.to_string())
                }
                other => HostError::Unavailable(anyhow::Error::new(other).context("loading the model")),
            })?;
        tracing::info!(manifest = %model.manifest_digest, weights = %weights.sha256, name = manifest.card.name(), "model loaded");
        Ok(LoadedModel { executor: Box::new(executor), manifest, _files: files.into_iter().map(|(_, f)| f).collect() })
    }
}

/// An IPFS failure: content that does not match its digest or size is a refusal; the rest may pass.
fn classify(e: cairn_ipfs::Error, what: &str) -> HostError {
    match e {
        e @ (cairn_ipfs::Error::DigestMismatch { .. } | cairn_ipfs::Error::TooLarge { .. }) => {
            HostError::Refused(format!("{what}: {e}"))
        }
        other => HostError::Unavailable(anyhow::Error::new(other).context(what.to_owned())),
    }
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) -> std::io::Result<()> {
    // A relative target would be read relative to the link's own folder.
    std::os::unix::fs::symlink(std::path::absolute(target)?, at)
}

#[cfg(not(unix))]
fn link(target: &Path, at: &Path) -> std::io::Result<()> {
    std::fs::copy(target, at).map(drop)
}
