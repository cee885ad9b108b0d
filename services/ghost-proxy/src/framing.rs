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
//!
//! Every request on the proxy pays for this, so it is not a validating parser:
//! it reads a head line by line (one `memchr` per line and one per header
//! name) and only looks at three header names. It has to agree with hyper on
//! well-formed input, and steps aside on anything else. Only an incomplete
//! line is ever buffered.

/// What the tracker found in one request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// Framed by at most one of the two headers.
    Clean,
    /// `Transfer-Encoding` and `Content-Length` together.
    Conflict,
}

/// Longest line the tracker buffers across reads (a request line, header,
/// chunk-size or trailer line); beyond it, it stops looking (hyper refuses
/// heads this large).
const MAX_LINE: usize = 64 * 1024;
/// Most header lines per head (as hyper).
const MAX_HEADERS: usize = 100;

/// What the lines of the current head said so far.
#[derive(Debug, Default)]
struct HeadScan {
    /// Lines seen (0: still before the request line).
    lines: usize,
    http11: bool,
    connect: bool,
    te: bool,
    te_chunked: bool,
    cl: Option<u64>,
    upgrade: bool,
}

#[derive(Debug)]
enum State {
    /// Before or inside a request head.
    Head(HeadScan),
    /// Inside a body of known length.
    Body(u64),
    /// A chunk-size line.
    ChunkSize,
    /// Chunk data, then the CRLF after it.
    ChunkData(u64),
    ChunkCrlf(u8),
    /// Trailer lines after the last chunk, up to an empty one.
    Trailers,
    /// Not following this connection any more.
    Passive,
}

/// Follows one connection's request stream.
#[derive(Debug)]
pub(crate) struct RequestFraming {
    state: State,
    /// The start of a line split across reads.
    partial: Vec<u8>,
}

impl Default for RequestFraming {
    fn default() -> Self {
        Self {
            state: State::Head(HeadScan::default()),
            partial: Vec::new(),
        }
    }
}

/// What a line did to the tracker.
enum Step {
    Continue,
    /// A head ended: report it.
    Found(Head),
}

/// A Content-Length value: decimal digits only (no sign, no list).
fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
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
                State::Body(left) | State::ChunkData(left) => {
                    let n = (*left).min(bytes.len() as u64);
                    *left -= n;
                    bytes = &bytes[n as usize..];
                    if *left == 0 {
                        self.state = match self.state {
                            State::Body(_) => State::Head(HeadScan::default()),
                            _ => State::ChunkCrlf(2),
                        };
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
                State::Head(scan) if self.partial.is_empty() => {
                    // The common case: whole lines of a head in this read,
                    // walked in a tight loop.
                    let Some(nl) = memchr::memchr(b'\n', bytes) else {
                        self.partial.extend_from_slice(bytes);
                        return;
                    };
                    let step = scan_line(scan, strip_cr(&bytes[..nl]));
                    bytes = &bytes[nl + 1..];
                    match step {
                        Ok(None) => {}
                        Ok(Some((head, next))) => {
                            self.state = next;
                            found(head);
                        }
                        Err(()) => self.stop(),
                    }
                }
                State::Head(_) | State::ChunkSize | State::Trailers => {
                    // Line-oriented states: take the next complete line.
                    let Some(nl) = memchr::memchr(b'\n', bytes) else {
                        if self.partial.len() + bytes.len() > MAX_LINE {
                            self.stop();
                        } else {
                            self.partial.extend_from_slice(bytes);
                        }
                        return;
                    };
                    let step = if self.partial.is_empty() {
                        self.line(strip_cr(&bytes[..nl]))
                    } else {
                        let mut whole = std::mem::take(&mut self.partial);
                        whole.extend_from_slice(&bytes[..nl]);
                        let step = self.line(strip_cr(&whole));
                        whole.clear();
                        if !self.is_passive() {
                            self.partial = whole;
                        }
                        step
                    };
                    bytes = &bytes[nl + 1..];
                    if let Step::Found(head) = step {
                        found(head);
                    }
                }
            }
        }
    }

    fn stop(&mut self) {
        self.state = State::Passive;
        self.partial = Vec::new();
    }

    /// One complete line (without its line ending) in a line-oriented state.
    fn line(&mut self, line: &[u8]) -> Step {
        match &mut self.state {
            State::Head(scan) => {
                let step = scan_line(scan, line);
                match step {
                    Ok(None) => Step::Continue,
                    Ok(Some((head, next))) => {
                        self.state = next;
                        if matches!(self.state, State::Passive) {
                            self.partial = Vec::new();
                        }
                        Step::Found(head)
                    }
                    Err(()) => {
                        self.stop();
                        Step::Continue
                    }
                }
            }
            State::ChunkSize => {
                let size = line
                    .split(|&b| b == b';')
                    .next()
                    .map(<[u8]>::trim_ascii)
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .and_then(|s| u64::from_str_radix(s, 16).ok());
                match size {
                    Some(0) => self.state = State::Trailers,
                    Some(n) => self.state = State::ChunkData(n),
                    None => self.stop(),
                }
                Step::Continue
            }
            State::Trailers => {
                if line.is_empty() {
                    self.state = State::Head(HeadScan::default());
                }
                Step::Continue
            }
            _ => Step::Continue,
        }
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads one head line. `Ok(Some)`: the head ended, with its verdict and the
/// state after it; `Err`: the tracker cannot follow this connection.
fn scan_line(scan: &mut HeadScan, line: &[u8]) -> Result<Option<(Head, State)>, ()> {
    if scan.lines == 0 {
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        if line.is_empty() {
            return Ok(None);
        }
        // `METHOD SP target SP HTTP/1.x`; anything else (an HTTP/2 preface) is not ours.
        let n = line.len();
        if n < 10 || line[n - 9] != b' ' || &line[n - 8..n - 1] != b"HTTP/1." {
            return Err(());
        }
        scan.http11 = line[n - 1] == b'1';
        scan.connect = line.starts_with(b"CONNECT ");
        scan.lines = 1;
        return Ok(None);
    }
    if !line.is_empty() {
        scan.lines += 1;
        if scan.lines > MAX_HEADERS + 1 {
            return Err(());
        }
        // Only three names matter; most lines are passed over by their first byte.
        if !matches!(line[0] | 0x20, b't' | b'c' | b'u') {
            return Ok(None);
        }
        let colon = memchr::memchr(b':', line).ok_or(())?;
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        match name.len() {
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                scan.te = true;
                // As hyper: the last Transfer-Encoding line decides whether
                // chunked is the final coding.
                scan.te_chunked = value
                    .rsplit(|&b| b == b',')
                    .next()
                    .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                scan.cl = Some(parse_length(value).ok_or(())?);
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => scan.upgrade = true,
            _ => {}
        }
        return Ok(None);
    }
    // The empty line: the head is complete.
    if scan.te && scan.cl.is_some() {
        // Refused and the connection closed: nothing after it matters.
        return Ok(Some((Head::Conflict, State::Passive)));
    }
    if scan.upgrade || scan.connect || !scan.http11 {
        // The connection may switch protocols; HTTP/1.0 has no chunked framing.
        return Ok(Some((Head::Clean, State::Passive)));
    }
    let next = match (scan.te, scan.cl) {
        (true, _) if scan.te_chunked => State::ChunkSize,
        (true, _) => return Err(()),
        (false, Some(n)) if n > 0 => State::Body(n),
        (false, _) => State::Head(HeadScan::default()),
    };
    Ok(Some((Head::Clean, next)))
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
        let mut stream = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
        while stream.len() <= MAX_LINE + 100 {
            stream.extend_from_slice(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
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
