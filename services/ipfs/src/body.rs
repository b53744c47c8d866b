//! Kubo's answer bodies, read frame by frame so that an error reported in the HTTP trailer is seen.
//!
//! Kubo's command layer (go-ipfs-cmds, `http/responseemitter.go`) announces `Trailer: X-Stream-Error` on
//! every streamed answer; when a command fails after its answer has begun (status 200 already sent), it
//! sets that trailer to the error's message. A client that reads only the data never sees the failure: a
//! `cat` looks like content that ends early, an `add` like one that has fewer entries. Older versions also
//! wrote the error as a JSON value `{"Message": …, "Type": "error"}` in the body; `add` checks for that.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::BodyStream;

/// The trailer that carries a mid-answer error.
pub(crate) const STREAM_ERROR_TRAILER: &str = "X-Stream-Error";

/// Why an answer body did not end cleanly.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection failed or fell silent (reqwest's error: timeout, reset, truncated chunking).
    Transport(reqwest::Error),
    /// Kubo reported a failure in the `X-Stream-Error` trailer; holds its message.
    Kubo(String),
}

/// The data of an answer; its last item is [`BodyError::Kubo`] when the trailer reports an error.
pub(crate) struct KuboBody {
    frames: BodyStream<reqwest::Body>,
    done: bool,
}

impl KuboBody {
    pub(crate) fn new(response: reqwest::Response) -> Self {
        // `reqwest::Body` from a response keeps every frame, trailers included (`bytes_stream` drops them).
        Self { frames: BodyStream::new(reqwest::Body::from(response)), done: false }
    }

    /// The whole body, or the first error.
    pub(crate) async fn collect(mut self) -> Result<Vec<u8>, BodyError> {
        use futures_util::StreamExt;
        let mut out = Vec::new();
        while let Some(chunk) = self.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

impl Stream for KuboBody {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let frame = match Pin::new(&mut self.frames).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(source))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(BodyError::Transport(source))));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let trailers = match frame.into_data() {
                Ok(data) if data.is_empty() => continue,
                Ok(data) => return Poll::Ready(Some(Ok(data))),
                Err(frame) => frame.into_trailers(),
            };
            let message = trailers.ok().and_then(|t| {
                let value = t.get(STREAM_ERROR_TRAILER)?;
                let text = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
                (!text.is_empty()).then_some(text)
            });
            if let Some(message) = message {
                self.done = true;
                return Poll::Ready(Some(Err(BodyError::Kubo(message))));
            }
        }
    }
}
