//! Fetching content with its sha256 checked while it streams.

use std::{
    path::Path,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use cairn_primitives::fs::AtomicFile;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::{
    Error, KuboClient, Result, Sha256Digest, Sha256Hasher,
    body::{BodyError, KuboBody},
};

/// The largest `length` Kubo's `cat` takes: the option is a signed 64-bit integer (`cmds.Int64Option` in
/// kubo's `core/commands/cat.go`); more fails to parse. No content can be longer, so clamping a caller's
/// limit to it never lets an oversized object through.
pub const KUBO_MAX_LENGTH: u64 = i64::MAX as u64;

/// The bytes of one IPFS path, hashed as they arrive.
///
/// The last item is an [`Error::DigestMismatch`] when the content is not what the caller expected, so a
/// consumer that reads to the end learns it before trusting anything; a consumer that must not act on
/// unverified bytes at all should use [`KuboClient::cat_to_file`] or [`KuboClient::cat_bytes`]. When Kubo
/// fails partway (its `X-Stream-Error` trailer), the last item is [`Error::Interrupted`] instead: a
/// failure of the node is never reported as a fault of the content.
pub struct VerifiedStream {
    inner: KuboBody,
    path: String,
    expected: Sha256Digest,
    hasher: Option<Sha256Hasher>,
    read: u64,
    limit: Option<u64>,
    idle_timeout: Duration,
}

impl VerifiedStream {
    /// How many bytes have arrived so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

impl Stream for VerifiedStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(hasher) = this.hasher.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                // Saturating: a count past u64::MAX bytes cannot happen, and must not wrap if it did.
                this.read = this.read.saturating_add(chunk.len() as u64);
                if let Some(limit) = this.limit.filter(|limit| this.read > *limit) {
                    this.hasher = None;
                    return Poll::Ready(Some(Err(Error::TooLarge { path: this.path.clone(), limit })));
                }
                hasher.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.hasher = None;
                let err = match err {
                    BodyError::Kubo(message) => Error::Interrupted { endpoint: "cat".into(), message },
                    BodyError::Transport(source) if source.is_timeout() => {
                        Error::Timeout { operation: format!("cat {}", this.path), after: this.idle_timeout }
                    }
                    BodyError::Transport(source) => Error::Http { endpoint: "cat".into(), source },
                };
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                let actual = this.hasher.take().expect("checked above").finish();
                if actual == this.expected {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(Error::DigestMismatch {
                        path: this.path.clone(),
                        expected: this.expected,
                        actual,
                        bytes: this.read,
                    })))
                }
            }
        }
    }
}

impl KuboClient {
    /// Streams `target` (`<cid>`, `<cid>/path/in/dir`, `/ipfs/<cid>…` or `ipfs://<cid>…`), verifying it
    /// against `expected` as it arrives.
    pub async fn cat(&self, target: &str, expected: Sha256Digest) -> Result<VerifiedStream> {
        self.cat_limited(target, expected, None).await
    }

    async fn cat_limited(&self, target: &str, expected: Sha256Digest, limit: Option<u64>) -> Result<VerifiedStream> {
        let (_, path) = Self::ipfs_path(target)?;
        let mut query = vec![("arg", path.as_str())];
        let length;
        if let Some(limit) = limit {
            // One byte more than allowed, so "too large" shows without reading everything; never more
            // than Kubo takes (and never an overflow: u64::MAX as a limit means "no limit").
            length = limit.saturating_add(1).min(KUBO_MAX_LENGTH).to_string();
            query.push(("length", &length));
        }
        let request = self.request("cat", &query);
        let response = self.send("cat", request, Some(&path), self.options.idle_timeout).await?;
        Ok(VerifiedStream {
            inner: KuboBody::new(response),
            path,
            expected,
            hasher: Some(Sha256Hasher::default()),
            read: 0,
            limit,
            idle_timeout: self.options.idle_timeout,
        })
    }

    /// Fetches `target` into memory, at most `limit` bytes (any `u64`; `u64::MAX` means no limit), and
    /// returns it only if it matches `expected`. More than `limit` bytes is [`Error::TooLarge`], found
    /// after reading at most `limit + 1` bytes.
    pub async fn cat_bytes(&self, target: &str, expected: Sha256Digest, limit: u64) -> Result<Bytes> {
        let mut stream = self.cat_limited(target, expected, Some(limit)).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.into())
    }

    /// Fetches `target` into `dest` with [`AtomicFile`]: the bytes go to a uniquely named temporary file
    /// beside `dest`, which is synced and renamed into place (and the directory synced) only once the
    /// digest matched. So `dest` never holds unverified or partial content, even after a crash, and two
    /// fetches into the same `dest` at once never mix their bytes (the last rename wins, whole).
    /// Returns the number of bytes written. `dest`'s directory must exist.
    pub async fn cat_to_file(&self, target: &str, expected: Sha256Digest, dest: &Path) -> Result<u64> {
        self.cat_to_file_limited(target, expected, dest, None).await
    }

    /// [`KuboClient::cat_to_file`] of at most `limit` bytes (e.g. the size a manifest lists): a source that
    /// streams more is [`Error::TooLarge`] after `limit + 1` bytes, so a hostile node cannot fill the disk.
    pub async fn cat_to_file_max(&self, target: &str, expected: Sha256Digest, dest: &Path, limit: u64) -> Result<u64> {
        self.cat_to_file_limited(target, expected, dest, Some(limit)).await
    }

    /// [`KuboClient::cat`] of at most `limit` bytes ([`Error::TooLarge`] beyond), streamed.
    pub async fn cat_max(&self, target: &str, expected: Sha256Digest, limit: u64) -> Result<VerifiedStream> {
        self.cat_limited(target, expected, Some(limit)).await
    }

    async fn cat_to_file_limited(
        &self,
        target: &str,
        expected: Sha256Digest,
        dest: &Path,
        limit: Option<u64>,
    ) -> Result<u64> {
        let mut stream = self.cat_limited(target, expected, limit).await?;
        let owned = dest.to_path_buf();
        // Dropped on any error below, the temporary file is deleted and `dest` is untouched.
        let mut atomic = tokio::task::spawn_blocking(move || AtomicFile::create(&owned))
            .await
            .expect("creating a temporary file does not panic")
            .map_err(|e| Error::io("cannot fetch into", dest, e))?;
        let std_file = atomic.file().try_clone().map_err(|e| Error::io("cannot write", atomic.temp_path(), e))?;
        let mut file = tokio::fs::File::from_std(std_file);
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await.map_err(|e| Error::io("cannot write", atomic.temp_path(), e))?;
        }
        // Every write has reached the file before the blocking commit syncs and renames it.
        file.flush().await.map_err(|e| Error::io("cannot write", atomic.temp_path(), e))?;
        drop(file);
        tokio::task::spawn_blocking(move || atomic.commit())
            .await
            .expect("committing a file does not panic")
            .map_err(|e| Error::io("cannot move into place", dest, e))?;
        Ok(stream.bytes_read())
    }
}
