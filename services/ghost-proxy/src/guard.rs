//! Downstream connection I/O that shows every byte the client sends to a
//! [`RequestFraming`] tracker before hyper parses it, so the request handler
//! can refuse a request hyper would have accepted with ambiguous framing
//! (`Transfer-Encoding` together with `Content-Length`).

use crate::framing::{Head, RequestFraming};
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the tracker found, shared with the connection's request handler.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    /// Index of the request whose head had conflicting framing (`u64::MAX`: none).
    conflict_at: AtomicU64,
    /// Requests the handler has seen.
    handled: AtomicU64,
}

impl Default for ConnGuard {
    fn default() -> Self {
        Self {
            conflict_at: AtomicU64::new(u64::MAX),
            handled: AtomicU64::new(0),
        }
    }
}

impl ConnGuard {
    /// Called once per request, in order (HTTP/1 serves them one at a time):
    /// whether this request's head had both `Transfer-Encoding` and
    /// `Content-Length`. The tracker has always seen a head before hyper
    /// hands its request to the handler.
    pub(crate) fn next_is_conflict(&self) -> bool {
        let k = self.handled.fetch_add(1, Ordering::Relaxed);
        k == self.conflict_at.load(Ordering::Relaxed)
    }
}

/// A connection's I/O with the framing tracker in its read path.
#[derive(Debug)]
pub(crate) struct Guarded<T> {
    inner: T,
    framing: RequestFraming,
    heads: u64,
    guard: Arc<ConnGuard>,
}

impl<T> Guarded<T> {
    pub(crate) fn new(inner: T, guard: Arc<ConnGuard>) -> Self {
        Self {
            inner,
            framing: RequestFraming::default(),
            heads: 0,
            guard,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if !this.framing.is_passive() {
            let (heads, guard) = (&mut this.heads, &this.guard);
            this.framing.feed(&buf.filled()[before..], &mut |head| {
                if head == Head::Conflict {
                    guard.conflict_at.store(*heads, Ordering::Relaxed);
                }
                *heads += 1;
            });
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
