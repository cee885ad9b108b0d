//! Why an upstream exchange failed, in ghost's words. The client gets a short,
//! stable reason (never a library's error text, which changes between
//! versions and leaks internals); the log gets the whole cause chain.

use std::error::Error as StdError;
use std::io;

/// Why a request could not be sent upstream.
#[derive(Debug)]
pub(crate) struct UpstreamFailure {
    /// The error and its causes, as one line: for the log only.
    pub detail: String,
    /// What the client is told.
    pub reason: &'static str,
    /// The TLS reason, when the TLS handshake or a certificate failed.
    pub tls: Option<String>,
}

/// Classifies a client error from hyper (or anything wrapping io errors).
pub(crate) fn upstream_failure(e: &(dyn StdError + 'static)) -> UpstreamFailure {
    UpstreamFailure {
        detail: chain(e),
        reason: reason(e),
        tls: crate::upstream_tls::tls_failure(e),
    }
}

/// The error and its causes as one line (hyper's errors say little on their
/// own, "client error (Connect)": the causes carry the reason).
pub(crate) fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut detail = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        cur = c.source();
    }
    detail
}

/// The first cause that says what happened, in ghost's words.
pub(crate) fn reason(e: &(dyn StdError + 'static)) -> &'static str {
    let mut cur = Some(e);
    let mut connecting = false;
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            return io_reason(io);
        }
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() {
                return "the upstream closed the connection before a complete response";
            }
            if h.is_parse() || h.is_parse_status() {
                return "the upstream sent a malformed HTTP response";
            }
            if h.is_timeout() {
                return "the upstream timed out";
            }
            if h.is_canceled() || h.is_closed() {
                return "the upstream connection closed";
            }
            if h.is_body_write_aborted() {
                return "the request body could not be sent";
            }
        }
        if let Some(client) = c.downcast_ref::<hyper_util::client::legacy::Error>() {
            connecting |= client.is_connect();
        }
        cur = c.source();
    }
    if connecting {
        "could not connect to the upstream"
    } else {
        "the upstream exchange failed"
    }
}

/// An io error's reason, in ghost's words.
pub(crate) fn io_reason(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => "the connection was reset",
        io::ErrorKind::TimedOut => "the upstream timed out",
        io::ErrorKind::UnexpectedEof => "the upstream closed the connection",
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            "the upstream host is unreachable"
        }
        io::ErrorKind::AddrNotAvailable => "the upstream address is not available",
        // Resolver failures arrive as uncategorised io errors.
        _ if is_dns(e) => "the upstream host name did not resolve",
        _ => "network error",
    }
}

fn is_dns(e: &io::Error) -> bool {
    let text = e.to_string();
    text.contains("lookup") || text.contains("resolve") || text.contains("not known")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_become_ghosts_words() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(reason(&refused), "connection refused");
        let dns =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(reason(&dns), "the upstream host name did not resolve");
        let odd = io::Error::other("EWEIRD 99");
        assert_eq!(reason(&odd), "network error");
        // Wrapped: the io cause is found.
        #[derive(Debug, thiserror::Error)]
        #[error("client error (Connect)")]
        struct Wrap(#[source] io::Error);
        let wrapped = Wrap(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(reason(&wrapped), "the connection was reset");
        assert_eq!(chain(&wrapped), "client error (Connect): connection reset");
    }
}
