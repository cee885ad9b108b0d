//! Response bodies the proxy sends: pre-built bytes, upstream streams, and the tee
//! that streams an upstream body to the client while recording it.

use crate::publisher::Publisher;
use crate::spans::CaptureTrace;
use bytes::{Bytes, BytesMut};
use ghost_model::CaptureParts;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// The body of every proxy response.
#[derive(Debug)]
pub enum ProxyBody {
    /// Pre-built bytes (mocks, errors); `None` once sent or when empty.
    Full(Option<Bytes>),
    /// An upstream body passed through untouched (PASSTHROUGH).
    Stream(Incoming),
    /// An upstream body passed through and recorded (LEARN).
    Tee(Box<TeeBody>),
}

impl ProxyBody {
    pub fn full(b: Bytes) -> Self {
        if b.is_empty() {
            ProxyBody::Full(None)
        } else {
            ProxyBody::Full(Some(b))
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ProxyBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ProxyBody::Stream(s) => Pin::new(s).poll_frame(cx),
            ProxyBody::Tee(t) => Pin::new(&mut **t).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Full(b) => b.is_none(),
            ProxyBody::Stream(s) => s.is_end_stream(),
            ProxyBody::Tee(t) => t.inner.is_end_stream() && t.pending.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ProxyBody::Stream(s) => s.size_hint(),
            ProxyBody::Tee(t) => t.inner.size_hint(),
        }
    }
}

/// Streams an upstream body to the client and, when it ends, publishes the capture
/// with the body it saw (up to the cap; beyond it the capture is marked truncated).
/// A body the client abandons half-way is never published: it would replay wrong.
#[derive(Debug)]
pub struct TeeBody {
    inner: Incoming,
    buf: BytesMut,
    cap: usize,
    truncated: bool,
    pending: Option<CaptureParts>,
    trace: CaptureTrace,
    started: Instant,
    publisher: Publisher,
}

impl TeeBody {
    pub fn new(
        inner: Incoming,
        pending: CaptureParts,
        trace: CaptureTrace,
        cap: usize,
        started: Instant,
        publisher: Publisher,
    ) -> Self {
        let hint = inner.size_hint().lower().min(cap as u64) as usize;
        Self {
            inner,
            buf: BytesMut::with_capacity(hint),
            cap,
            truncated: false,
            pending: Some(pending),
            trace,
            started,
            publisher,
        }
    }

    fn finish(&mut self) {
        if let Some(mut parts) = self.pending.take() {
            parts.response_body = std::mem::take(&mut self.buf).freeze();
            parts.body_truncated = self.truncated;
            parts.duration_us =
                i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
            self.publisher.enqueue(parts, self.trace);
        }
    }
}

impl Drop for TeeBody {
    fn drop(&mut self) {
        // Complete but never polled to the end (e.g. hyper dropped it after the last
        // byte): still a whole exchange. Incomplete bodies are not recorded.
        if self.pending.is_some() && self.inner.is_end_stream() {
            self.finish();
        }
    }
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if this.buf.len() + data.len() <= this.cap {
                        this.buf.extend_from_slice(data);
                    } else {
                        this.truncated = true;
                    }
                }
                // hyper stops polling once a known content-length (or the
                // trailers, always the last frame) has been written, so completion
                // is detected here rather than by a final `None`.
                if frame.is_trailers() || this.inner.is_end_stream() {
                    this.finish();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.finish();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.pending = None;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
