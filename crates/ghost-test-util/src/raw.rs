//! HTTP/1.1 at the byte level, for forwarding conformance tests: an upstream
//! that keeps the exact bytes it receives and answers scripted bytes, a client
//! that sends exact bytes and returns exactly what came back, and a parser for
//! both directions. Nothing here is hyper, so nothing is tolerated or tidied.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One parsed HTTP/1 message head plus its body, as it was on the wire.
#[derive(Debug, Clone, Default)]
pub struct RawMessage {
    /// Request line or status line, without CRLF.
    pub start: String,
    /// Header lines as sent: name with its case, value bytes, in order.
    pub headers: Fields,
    /// Body after de-chunking (or as framed by length / close).
    pub body: Vec<u8>,
    /// Trailer fields of a chunked body.
    pub trailers: Fields,
    /// Whether the body was chunked on the wire.
    pub chunked: bool,
    /// The exact bytes of the head (start line through the empty line).
    pub head: Vec<u8>,
}

impl RawMessage {
    /// First value of `name` (case-insensitive) as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// Every value of `name` (case-insensitive).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// Header names in order, with their case.
    pub fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The status code of a response.
    pub fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(buf: &[u8]) -> Option<(RawMessage, usize)> {
    let end = find(buf, b"\r\n\r\n")? + 4;
    let text = &buf[..end - 4];
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = String::from_utf8_lossy(lines.next()?).into_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let colon = l.iter().position(|&b| b == b':').unwrap_or(l.len());
            let name = String::from_utf8_lossy(&l[..colon]).into_owned();
            let value = l.get(colon + 1..).unwrap_or_default();
            let value = value.trim_ascii().to_vec();
            (name, value)
        })
        .collect();
    Some((
        RawMessage {
            start,
            headers,
            head: buf[..end].to_vec(),
            ..RawMessage::default()
        },
        end,
    ))
}

/// Header fields as sent: name with its case, value bytes.
pub type Fields = Vec<(String, Vec<u8>)>;

/// Decodes a chunked body at the start of `buf`: (body, trailers, bytes used),
/// or `None` while incomplete.
fn dechunk(buf: &[u8]) -> Option<(Vec<u8>, Fields, usize)> {
    let mut at = 0;
    let mut body = Vec::new();
    loop {
        let line_end = at + find(&buf[at..], b"\r\n")?;
        let line = std::str::from_utf8(&buf[at..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            break;
        }
        if buf.len() < at + size + 2 {
            return None;
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size + 2;
    }
    // Trailer section: header lines up to an empty line.
    let mut trailers = Vec::new();
    loop {
        let line_end = at + find(&buf[at..], b"\r\n")?;
        let line = &buf[at..line_end];
        at = line_end + 2;
        if line.is_empty() {
            return Some((body, trailers, at));
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let value = line
            .get(colon + 1..)
            .unwrap_or_default()
            .trim_ascii()
            .to_vec();
        trailers.push((String::from_utf8_lossy(&line[..colon]).into_owned(), value));
    }
}

/// Parses one request at the start of `buf`; `None` while incomplete. Returns
/// the request and the bytes it used.
pub fn parse_request(buf: &[u8]) -> Option<(RawMessage, usize)> {
    let (mut m, mut at) = parse_head(buf)?;
    if m.header("transfer-encoding").is_some() {
        let (body, trailers, used) = dechunk(&buf[at..])?;
        (m.body, m.trailers, m.chunked) = (body, trailers, true);
        at += used;
    } else if let Some(n) = m
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        if buf.len() < at + n {
            return None;
        }
        m.body = buf[at..at + n].to_vec();
        at += n;
    }
    Some((m, at))
}

/// Parses every response in `buf` (interim 1xx ones first), which must hold
/// everything the server sent before closing. `head_request`: the responses
/// answer a HEAD (no body whatever the headers say).
pub fn parse_responses(buf: &[u8], head_request: bool) -> Vec<RawMessage> {
    let mut out = Vec::new();
    let mut rest = buf;
    while let Some((mut m, at)) = parse_head(rest) {
        rest = &rest[at..];
        let status = m.status();
        let bodiless =
            head_request || (100..200).contains(&status) || status == 204 || status == 304;
        if !bodiless {
            if m.header("transfer-encoding").is_some() {
                if let Some((body, trailers, used)) = dechunk(rest) {
                    (m.body, m.trailers, m.chunked) = (body, trailers, true);
                    rest = &rest[used..];
                }
            } else if let Some(n) = m
                .header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
            {
                let n = n.min(rest.len());
                m.body = rest[..n].to_vec();
                rest = &rest[n..];
            } else {
                m.body = rest.to_vec();
                rest = &[];
            }
        }
        out.push(m);
    }
    out
}

/// A scripted answer: the bytes, and whether to close the connection after them
/// (a response delimited by the close).
#[derive(Debug, Clone)]
struct Scripted {
    bytes: Vec<u8>,
    close: bool,
}

/// An HTTP/1.1 upstream on 127.0.0.1:0 that records every request's exact bytes
/// and answers the response scripted for its request-target (a 404 naming the
/// target otherwise). Keeps connections alive between requests.
pub struct ScriptedUpstream {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<RawMessage>>>,
    script: Arc<Mutex<HashMap<String, Scripted>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl ScriptedUpstream {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(HashMap::new()));
        let (r, s) = (received.clone(), script.clone());
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_scripted(stream, r.clone(), s.clone()));
            }
        });
        Self {
            addr,
            received,
            script,
            accept,
        }
    }

    /// Answers requests for `target` (the request-target as received) with `bytes`.
    pub fn script(&self, target: &str, bytes: impl Into<Vec<u8>>, close: bool) {
        let answer = Scripted {
            bytes: bytes.into(),
            close,
        };
        self.script
            .lock()
            .unwrap()
            .insert(target.to_owned(), answer);
    }

    /// Requests received so far, in arrival order.
    pub fn received(&self) -> Vec<RawMessage> {
        self.received.lock().unwrap().clone()
    }

    /// Requests received for `target` so far.
    pub fn received_for(&self, target: &str) -> Vec<RawMessage> {
        self.received()
            .into_iter()
            .filter(|m| m.start.split(' ').nth(1) == Some(target))
            .collect()
    }
}

impl Drop for ScriptedUpstream {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve_scripted(
    mut stream: TcpStream,
    received: Arc<Mutex<Vec<RawMessage>>>,
    script: Arc<Mutex<HashMap<String, Scripted>>>,
) {
    let mut buf = Vec::new();
    loop {
        let (req, used) = loop {
            if let Some(done) = parse_request(&buf) {
                break done;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..used);
        let target = req.start.split(' ').nth(1).unwrap_or("").to_owned();
        received.lock().unwrap().push(req);
        let answer = script.lock().unwrap().get(&target).cloned();
        let answer = answer.unwrap_or_else(|| {
            let body = format!("unscripted target {target}");
            Scripted {
                bytes: format!(
                    "HTTP/1.1 404 Not Found\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
                close: false,
            }
        });
        if stream.write_all(&answer.bytes).await.is_err() || answer.close {
            return;
        }
    }
}

/// Sends `bytes` on a fresh connection and returns everything received until
/// the server closes it (so requests should ask for `Connection: close`).
pub async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    read_to_close(&mut stream).await
}

/// `Expect: 100-continue` done as a client should: sends `head`, waits for the
/// interim `100 Continue`, then sends `body`. Returns everything received.
pub async fn exchange_expecting_continue(addr: SocketAddr, head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    let mut got = Vec::new();
    let wait = async {
        while find(&got, b"\r\n\r\n").is_none() {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before 100 Continue");
            got.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("no interim response to Expect: 100-continue within 10 s");
    stream.write_all(body).await.unwrap();
    got.extend(read_to_close(&mut stream).await);
    got
}

/// Whether the server closed the connection after answering (reads to EOF).
pub async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("the server did not close the connection within 10 s")
        .unwrap_or_default();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_and_responses_as_framed() {
        let req = b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET";
        let (m, used) = parse_request(req).unwrap();
        assert_eq!(m.body, b"abc");
        assert_eq!(m.trailers, vec![("X-T".to_owned(), b"1".to_vec())]);
        assert_eq!(&req[used..], b"GET");
        assert!(parse_request(b"POST / HTTP/1.1\r\ncontent-length: 4\r\n\r\nab").is_none());
        let resp = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let r = parse_responses(resp, false);
        assert_eq!((r[0].status(), r[1].status()), (100, 200));
        assert_eq!(r[1].body, b"ok");
        assert_eq!(r[1].names(), ["Content-Length"]);
    }
}
