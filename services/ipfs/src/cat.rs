//! Fetching content with its sha256 checked while it streams.

use std::{
    path::{Path, PathBuf},
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::{Error, KuboClient, Result, Sha256Digest, Sha256Hasher};

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The bytes of one IPFS path, hashed as they arrive.
///
/// The last item is an [`Error::DigestMismatch`] when the content is not what the caller expected, so a
/// consumer that reads to the end learns it before trusting anything; a consumer that must not act on
/// unverified bytes at all should use [`KuboClient::cat_to_file`] or [`KuboClient::cat_bytes`].
pub struct VerifiedStream {
    inner: ByteStream,
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
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.read += chunk.len() as u64;
                if let Some(limit) = this.limit.filter(|limit| this.read > *limit) {
                    this.hasher = None;
                    return Poll::Ready(Some(Err(Error::TooLarge { path: this.path.clone(), limit })));
                }
                hasher.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(source))) => {
                this.hasher = None;
                let err = if source.is_timeout() {
                    Error::Timeout { operation: format!("cat {}", this.path), after: this.idle_timeout }
                } else {
                    Error::Http { endpoint: "cat".into(), source }
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
    /// Streams `target` (`<cid>` or `<cid>/path/in/dir`), verifying it against `expected` as it arrives.
    pub async fn cat(&self, target: &str, expected: Sha256Digest) -> Result<VerifiedStream> {
        self.cat_limited(target, expected, None).await
    }

    async fn cat_limited(&self, target: &str, expected: Sha256Digest, limit: Option<u64>) -> Result<VerifiedStream> {
        let (_, path) = Self::ipfs_path(target)?;
        let mut query = vec![("arg", path.as_str())];
        let length;
        if let Some(limit) = limit {
            // Ask for one byte more than allowed, so "too large" is seen without reading everything.
            length = (limit + 1).to_string();
            query.push(("length", &length));
        }
        let request = self.request("cat", &query);
        let response = self.send("cat", request, Some(&path), self.options.idle_timeout).await?;
        Ok(VerifiedStream {
            inner: Box::pin(response.bytes_stream()),
            path,
            expected,
            hasher: Some(Sha256Hasher::default()),
            read: 0,
            limit,
            idle_timeout: self.options.idle_timeout,
        })
    }

    /// Fetches `target` into memory, at most `limit` bytes, and returns it only if it matches `expected`.
    pub async fn cat_bytes(&self, target: &str, expected: Sha256Digest, limit: u64) -> Result<Bytes> {
        let mut stream = self.cat_limited(target, expected, Some(limit)).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.into())
    }

    /// Fetches `target` into `dest`. The bytes go to a temporary file beside `dest` that is renamed into
    /// place only once the digest matched, so `dest` never holds unverified or partial content.
    /// Returns the number of bytes written.
    pub async fn cat_to_file(&self, target: &str, expected: Sha256Digest, dest: &Path) -> Result<u64> {
        let partial = partial_path(dest);
        let result = self.cat_into(target, expected, &partial).await;
        match result {
            Ok(size) => {
                tokio::fs::rename(&partial, dest).await.map_err(|e| Error::io("cannot move into place", dest, e))?;
                Ok(size)
            }
            Err(err) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(err)
            }
        }
    }

    async fn cat_into(&self, target: &str, expected: Sha256Digest, partial: &Path) -> Result<u64> {
        let mut stream = self.cat(target, expected).await?;
        let mut file = tokio::fs::File::create(partial).await.map_err(|e| Error::io("cannot create", partial, e))?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await.map_err(|e| Error::io("cannot write", partial, e))?;
        }
        file.sync_all().await.map_err(|e| Error::io("cannot sync", partial, e))?;
        Ok(stream.bytes_read())
    }
}

fn partial_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}
