//! HTTP/1 request framing followed over the raw bytes of a downstream
//! connection (sans-io), to spot requests that carry both `Transfer-Encoding`
//! and `Content-Length`.
//!
//! hyper accepts such a request (Transfer-Encoding wins, Content-Length is
//! dropped from the header map) and only closes the connection afterwards, so
//! the handler cannot tell it apart from a plain chunked request. RFC 9112 §6.1
//! treats the pair as a smuggling attempt; ghost refuses it. This tracker sees
//! every byte before hyper does, finds each request head, and reports for each
//! one whether it is such a conflict; it skips bodies by their framing so a body
//! is never mistaken for a head. Anything it cannot follow (HTTP/2, upgrades,
//! heads hyper will reject anyway) makes it stop looking: hyper's own parser
//! stays the authority on validity.

/// What the tracker found in one request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// Framed by at most one of the two headers.
    Clean,
    /// `Transfer-Encoding` and `Content-Length` together.
    Conflict,
}

/// Largest head the tracker buffers across reads; beyond it, it stops looking
/// (hyper answers 431 to heads this large).
const MAX_HEAD: usize = 64 * 1024;
/// Most header lines per head (as hyper).
const MAX_HEADERS: usize = 100;
/// Longest chunk-size line (with extensions) or trailer line it follows.
const MAX_LINE: usize = 4096;

#[derive(Debug)]
enum State {
    /// Before or inside a request head; `buf` holds a head split across reads.
    Head,
    /// Inside a body of known length.
    Body(u64),
    /// A chunk-size line (its bytes so far in `buf`).
    ChunkSize,
    /// Chunk data, then the CRLF after it.
    ChunkData(u64),
    ChunkCrlf(u8),
    /// Trailer lines after the last chunk: bytes seen on the current line, and
    /// whether they were all CR so far.
    Trailers {
        len: usize,
        blank: bool,
    },
    /// Not following this connection any more.
    Passive,
}

/// Follows one connection's request stream.
#[derive(Debug)]
pub(crate) struct RequestFraming {
    state: State,
    buf: Vec<u8>,
}

impl Default for RequestFraming {
    fn default() -> Self {
        Self {
            state: State::Head,
            buf: Vec::new(),
        }
    }
}

fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// How the request whose head is `head` frames its body, and what it is.
enum Parsed {
    Next {
        head: Head,
        body: Body,
    },
    /// The tracker cannot or need not follow what comes after.
    Stop(Option<Head>),
}

enum Body {
    None,
    Length(u64),
    Chunked,
}

fn parse(head: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        // hyper will refuse it, or it is not HTTP/1 (an HTTP/2 preface).
        _ => return Parsed::Stop(None),
    }
    let (mut te, mut te_chunked, mut cl, mut upgrade) = (false, false, None, false);
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            te = true;
            // As hyper: the last Transfer-Encoding line decides whether chunked is final.
            te_chunked = h
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("content-length") {
            cl = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .or(Some(u64::MAX));
        } else if h.name.eq_ignore_ascii_case("upgrade") {
            upgrade = true;
        }
    }
    if te && cl.is_some() {
        // Refused and the connection closed: nothing after it matters.
        return Parsed::Stop(Some(Head::Conflict));
    }
    if upgrade || req.method == Some("CONNECT") || req.version != Some(1) {
        // The connection may switch protocols; HTTP/1.0 has no chunked framing.
        return Parsed::Stop(Some(Head::Clean));
    }
    let body = match (te, cl) {
        (true, _) if te_chunked => Body::Chunked,
        (true, _) => return Parsed::Stop(None),
        (false, Some(u64::MAX)) => return Parsed::Stop(None),
        (false, Some(n)) => Body::Length(n),
        (false, None) => Body::None,
    };
    Parsed::Next {
        head: Head::Clean,
        body,
    }
}

impl RequestFraming {
    /// Whether the tracker stopped following the connection.
    pub(crate) fn is_passive(&self) -> bool {
        matches!(self.state, State::Passive)
    }

    /// Feeds the next bytes the client sent; `found` is called once per complete
    /// request head, in order.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], found: &mut impl FnMut(Head)) {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Passive => return,
                State::Head => {
                    if self.buf.is_empty() {
                        if let Some(end) = find_head_end(bytes) {
                            // The whole head is in this read: parse it in place.
                            self.head_complete(&bytes[..end], found);
                            bytes = &bytes[end..];
                            continue;
                        }
                        if bytes.len() > MAX_HEAD {
                            self.stop();
                        } else {
                            self.buf.extend_from_slice(bytes);
                        }
                        return;
                    }
                    // A head split across reads: look again from just before the
                    // old end, since the CRLFCRLF may straddle the two.
                    let old = self.buf.len();
                    let from = old.saturating_sub(3);
                    let take = bytes.len().min((MAX_HEAD + 1).saturating_sub(old));
                    self.buf.extend_from_slice(&bytes[..take]);
                    let Some(e) = find_head_end(&self.buf[from..]) else {
                        if self.buf.len() > MAX_HEAD {
                            self.stop();
                        }
                        return;
                    };
                    let head_len = from + e;
                    self.buf.truncate(head_len);
                    let head = std::mem::take(&mut self.buf);
                    self.head_complete(&head, found);
                    bytes = &bytes[head_len - old..];
                }
                State::Body(left) => {
                    let n = (*left).min(bytes.len() as u64);
                    *left -= n;
                    bytes = &bytes[n as usize..];
                    if *left == 0 {
                        self.state = State::Head;
                    }
                }
                State::ChunkSize => {
                    let Some(nl) = bytes.iter().position(|&b| b == b'\n') else {
                        self.buf.extend_from_slice(bytes);
                        if self.buf.len() > MAX_LINE {
                            self.stop();
                        }
                        return;
                    };
                    self.buf.extend_from_slice(&bytes[..nl]);
                    bytes = &bytes[nl + 1..];
                    let line = std::mem::take(&mut self.buf);
                    let size = line
                        .split(|&b| b == b';')
                        .next()
                        .and_then(|s| std::str::from_utf8(s).ok())
                        .and_then(|s| u64::from_str_radix(s.trim(), 16).ok());
                    self.state = match size {
                        Some(0) => State::Trailers {
                            len: 0,
                            blank: true,
                        },
                        Some(n) => State::ChunkData(n),
                        None => State::Passive,
                    };
                }
                State::ChunkData(left) => {
                    let n = (*left).min(bytes.len() as u64);
                    *left -= n;
                    bytes = &bytes[n as usize..];
                    if *left == 0 {
                        self.state = State::ChunkCrlf(2);
                    }
                }
                State::ChunkCrlf(left) => {
                    let n = usize::from(*left).min(bytes.len());
                    *left -= n as u8;
                    bytes = &bytes[n..];
                    if *left == 0 {
                        self.state = State::ChunkSize;
                    }
                }
                State::Trailers { len, blank } => {
                    let nl = bytes.iter().position(|&b| b == b'\n');
                    let segment = &bytes[..nl.unwrap_or(bytes.len())];
                    *len += segment.len();
                    *blank = *blank && segment.iter().all(|&b| b == b'\r');
                    let Some(nl) = nl else {
                        if *len > MAX_LINE {
                            self.stop();
                        }
                        return;
                    };
                    // A line holding nothing (or only its CR) ends the trailer section.
                    let ends = *blank && *len <= 1;
                    bytes = &bytes[nl + 1..];
                    self.state = if ends {
                        State::Head
                    } else {
                        State::Trailers {
                            len: 0,
                            blank: true,
                        }
                    };
                }
            }
        }
    }

    fn stop(&mut self) {
        self.state = State::Passive;
        self.buf = Vec::new();
    }

    fn head_complete(&mut self, head: &[u8], found: &mut impl FnMut(Head)) {
        match parse(head) {
            Parsed::Next { head, body } => {
                found(head);
                self.state = match body {
                    Body::None | Body::Length(0) => State::Head,
                    Body::Length(n) => State::Body(n),
                    Body::Chunked => State::ChunkSize,
                };
            }
            Parsed::Stop(head) => {
                if let Some(h) = head {
                    found(h);
                }
                self.stop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heads found, and whether the tracker is still following, for `stream`
    /// fed in one piece, then split at every position, then byte by byte.
    fn feed_every_way(stream: &[u8]) -> (Vec<Head>, bool) {
        let run = |pieces: &mut dyn Iterator<Item = &[u8]>| {
            let mut f = RequestFraming::default();
            let mut heads = Vec::new();
            for p in pieces {
                f.feed(p, &mut |h| heads.push(h));
            }
            (heads, !f.is_passive())
        };
        let whole = run(&mut std::iter::once(stream));
        for at in 0..=stream.len() {
            let (a, b) = stream.split_at(at);
            assert_eq!(run(&mut [a, b].into_iter()), whole, "split at {at}");
        }
        assert_eq!(run(&mut stream.chunks(1)), whole, "byte by byte");
        whole
    }

    #[test]
    fn follows_keep_alive_requests_of_every_framing() {
        let stream = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n\
POST /b HTTP/1.1\r\nContent-Length: 20\r\n\r\nGET /not-a-head HTTP\
POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
5;ext=1\r\nhello\r\n13\r\nGET /x HTTP/1.1\r\n\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n\
POST /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\
GET /e HTTP/1.1\r\n\r\n";
        assert_eq!(feed_every_way(stream), (vec![Head::Clean; 5], true));
    }

    #[test]
    fn transfer_encoding_with_content_length_is_a_conflict_in_either_order() {
        for stream in [
            &b"GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"[..],
            &b"GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n"[..],
        ] {
            assert_eq!(
                feed_every_way(stream),
                (vec![Head::Clean, Head::Conflict], false)
            );
        }
    }

    #[test]
    fn stops_where_it_cannot_follow() {
        // HTTP/2 prior knowledge, an upgrade, CONNECT, a broken chunk size, an
        // invalid length: hyper decides those; the tracker steps aside.
        for (stream, heads) in [
            (&b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..], vec![]),
            (&b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x05hello"[..], vec![Head::Clean]),
            (&b"CONNECT h:443 HTTP/1.1\r\n\r\n\x16\x03\x01"[..], vec![Head::Clean]),
            (&b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..], vec![Head::Clean]),
            (&b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"[..], vec![]),
            (&b"GET / HTTP/1.0\r\n\r\n"[..], vec![Head::Clean]),
        ] {
            assert_eq!(feed_every_way(stream), (heads, false), "{:?}", String::from_utf8_lossy(stream));
        }
    }

    #[test]
    fn oversized_heads_stop_it() {
        let mut stream = b"GET / HTTP/1.1\r\n".to_vec();
        while stream.len() <= MAX_HEAD {
            stream.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let mut f = RequestFraming::default();
        let mut n = 0;
        for piece in stream.chunks(1000) {
            f.feed(piece, &mut |_| n += 1);
        }
        assert!(f.is_passive());
        assert_eq!(n, 0);
    }
}
