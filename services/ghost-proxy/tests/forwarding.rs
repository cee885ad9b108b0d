//! Forwarding conformance: one table of byte-level cases run through the proxy
//! against an upstream that is not hyper (a raw TCP server keeping the exact
//! bytes it receives), in LEARN and PASSTHROUGH, on request threads and on the
//! shared runtime. Each case asserts the request line, header block and body
//! framing the upstream received, and the bytes the client got back; in LEARN
//! the capture must hold what the client saw and MOCK must replay it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_model::ServiceName;
use ghost_proxy::{ProxyConfig, RunningProxy, ServiceConfig};
use ghost_schema::{CaptureRecord, ModeRecord};
use ghost_test_util::raw::{
    RawMessage, ScriptedUpstream, exchange, exchange_expecting_continue, parse_responses,
};
use ghost_topics as topics;
use std::net::SocketAddr;
use std::time::Duration;

/// What one case saw.
struct Seen {
    /// Requests the upstream received for the case's target.
    upstream: Vec<RawMessage>,
    /// Responses the client received (interim ones first).
    client: Vec<RawMessage>,
    /// The client's bytes, unparsed.
    raw: Vec<u8>,
    up: SocketAddr,
}

impl Seen {
    fn forwarded(&self) -> &RawMessage {
        assert_eq!(self.upstream.len(), 1, "forwarded exactly once");
        &self.upstream[0]
    }
    fn last(&self) -> &RawMessage {
        self.client.last().expect("a response")
    }
}

struct Case {
    name: &'static str,
    /// The client's bytes; `{up}` becomes the upstream's address.
    request: &'static str,
    /// With `Expect: 100-continue`: the body sent after the interim response.
    continue_body: Option<&'static str>,
    /// The request-target the upstream must receive (`None`: nothing forwarded).
    target: Option<&'static str>,
    /// The upstream's answer, and whether it closes the connection after it.
    response: &'static [u8],
    close: bool,
    check: fn(&Seen),
    /// LEARN records it and MOCK replays the same status and body.
    replay: bool,
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "origin-form, path and query verbatim",
            request: "GET /v1/users/42?x=1&b=%2F HTTP/1.1\r\nHost: ghost.local\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/v1/users/42?x=1&b=%2F"),
            response: OK,
            close: false,
            check: |s| {
                let f = s.forwarded();
                assert_eq!(f.start, "GET /v1/users/42?x=1&b=%2F HTTP/1.1");
                assert_eq!(f.header("host").unwrap(), s.up.to_string());
                assert_eq!((s.last().status(), s.last().body.as_slice()), (200, &b"ok"[..]));
            },
            replay: true,
        },
        Case {
            name: "absolute-form from a proxy client becomes origin-form",
            request: "GET http://{up}/v1/abs?z=9&a=1 HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/v1/abs?z=9&a=1"),
            response: OK,
            close: false,
            check: |s| assert_eq!(s.forwarded().start, "GET /v1/abs?z=9&a=1 HTTP/1.1"),
            replay: true,
        },
        Case {
            name: "unusual bytes in path and query are not re-encoded",
            request: "GET /p%2fq/caf%C3%A9;m=1//x?q=a+b&q=%zz&empty=&flag HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/p%2fq/caf%C3%A9;m=1//x?q=a+b&q=%zz&empty=&flag"),
            response: OK,
            close: false,
            check: |s| {
                assert_eq!(s.forwarded().start, "GET /p%2fq/caf%C3%A9;m=1//x?q=a+b&q=%zz&empty=&flag HTTP/1.1")
            },
            replay: true,
        },
        Case {
            name: "the upstream's base path prefixes the target",
            request: "GET /based/v1/x?y=1 HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/api/based/v1/x?y=1"),
            response: OK,
            close: false,
            check: |s| assert_eq!(s.forwarded().start, "GET /api/based/v1/x?y=1 HTTP/1.1"),
            replay: true,
        },
        Case {
            name: "OPTIONS * stays asterisk-form",
            request: "OPTIONS * HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("*"),
            response: b"HTTP/1.1 200 OK\r\nAllow: GET, OPTIONS\r\nContent-Length: 0\r\n\r\n",
            close: false,
            check: |s| {
                assert_eq!(s.forwarded().start, "OPTIONS * HTTP/1.1");
                assert_eq!(s.last().header("allow").unwrap(), "GET, OPTIONS");
            },
            replay: false,
        },
        Case {
            name: "preserve_host sends the client's Host",
            request: "GET /vhost/page HTTP/1.1\r\nHost: vhost.test\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/vhost/page"),
            response: OK,
            close: false,
            check: |s| assert_eq!(s.forwarded().header("host").unwrap(), "vhost.test"),
            replay: true,
        },
        Case {
            name: "header order, case and repeated names pass unchanged",
            request: "GET /headers HTTP/1.1\r\nX-First: 1\r\nHost: g\r\nx-MiXeD-Case: 2\r\nAccept: */*\r\nX-Dup: a\r\nX-Dup: b\r\nX-Last: 3\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/headers"),
            response: b"HTTP/1.1 200 OK\r\nX-Upstream-Case: A\r\nContent-Type: text/plain\r\nx-lower: b\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok",
            close: false,
            check: |s| {
                let f = s.forwarded();
                let names: Vec<&str> = f.names().into_iter().filter(|n| !n.eq_ignore_ascii_case("content-length")).collect();
                assert_eq!(names, ["X-First", "Host", "x-MiXeD-Case", "Accept", "X-Dup", "X-Dup", "X-Last"]);
                assert_eq!(f.all("x-dup"), ["a", "b"]);
                let got: Vec<&str> = s.last().names().into_iter().filter(|n| !n.eq_ignore_ascii_case("date") && !n.eq_ignore_ascii_case("connection")).collect();
                assert_eq!(got, ["X-Upstream-Case", "Content-Type", "x-lower", "Set-Cookie", "Set-Cookie", "Content-Length"]);
                assert_eq!(s.last().all("set-cookie"), ["a=1", "b=2"]);
            },
            replay: true,
        },
        Case {
            name: "hop-by-hop request headers and those Connection names are removed",
            request: "GET /hop HTTP/1.1\r\nHost: g\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers, deflate;q=0.5\r\nX-Keep: yes\r\n\r\n",
            continue_body: None,
            target: Some("/hop"),
            response: OK,
            close: false,
            check: |s| {
                let f = s.forwarded();
                for gone in ["connection", "x-hop", "keep-alive", "proxy-connection"] {
                    assert!(f.header(gone).is_none(), "{gone} forwarded: {:?}", f.names());
                }
                assert_eq!(f.header("te").unwrap(), "trailers");
                assert_eq!(f.header("x-keep").unwrap(), "yes");
            },
            replay: true,
        },
        Case {
            name: "hop-by-hop response headers and those Connection names are removed",
            request: "GET /hop-resp HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/hop-resp"),
            response: b"HTTP/1.1 200 OK\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: 2\r\nContent-Length: 2\r\n\r\nok",
            close: false,
            check: |s| {
                let r = s.last();
                assert!(r.header("x-resp-hop").is_none() && r.header("keep-alive").is_none(), "{:?}", r.names());
                assert_eq!(r.header("x-kept").unwrap(), "2");
            },
            replay: true,
        },
        Case {
            name: "a content-length body is forwarded as is",
            request: "POST /cl HTTP/1.1\r\nHost: g\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
            continue_body: None,
            target: Some("/cl"),
            response: b"HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated",
            close: false,
            check: |s| {
                let f = s.forwarded();
                assert_eq!(f.body, b"hello world");
                assert_eq!(f.header("content-length").unwrap(), "11");
                assert_eq!(s.last().status(), 201);
            },
            replay: true,
        },
        Case {
            name: "a chunked request body is forwarded with its length",
            request: "POST /chunked-in HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            continue_body: None,
            target: Some("/chunked-in"),
            response: OK,
            close: false,
            check: |s| {
                let f = s.forwarded();
                assert_eq!(f.body, b"hello world");
                assert!(!f.chunked && f.header("transfer-encoding").is_none());
                assert_eq!(f.header("content-length").unwrap(), "11");
            },
            replay: true,
        },
        Case {
            name: "Expect: 100-continue gets its interim response, then the body goes upstream",
            request: "POST /expect HTTP/1.1\r\nHost: g\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n",
            continue_body: Some("data"),
            target: Some("/expect"),
            response: b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone",
            close: false,
            check: |s| {
                assert_eq!(s.client.len(), 2, "100 Continue, then the final response");
                assert_eq!((s.client[0].status(), s.client[1].status()), (100, 201));
                assert_eq!(s.forwarded().body, b"data");
                assert_eq!(s.last().body, b"done");
            },
            replay: false,
        },
        Case {
            name: "HEAD keeps the upstream's content-length and sends no body",
            request: "HEAD /head HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/head"),
            response: b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n",
            close: false,
            check: |s| {
                assert_eq!(s.forwarded().start, "HEAD /head HTTP/1.1");
                assert_eq!(s.last().header("content-length").unwrap(), "1234");
                assert!(s.raw.ends_with(b"\r\n\r\n"), "no body after the head");
            },
            replay: true,
        },
        Case {
            name: "204 without a body",
            request: "DELETE /items/7 HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/items/7"),
            response: b"HTTP/1.1 204 No Content\r\nX-R: 1\r\n\r\n",
            close: false,
            check: |s| {
                assert_eq!(s.last().status(), 204);
                assert!(s.last().header("content-length").is_none() && s.last().header("transfer-encoding").is_none());
                assert!(s.raw.ends_with(b"\r\n\r\n"));
            },
            replay: true,
        },
        Case {
            name: "304 keeps its validators and has no body",
            request: "GET /etag HTTP/1.1\r\nHost: g\r\nIf-None-Match: \"v1\"\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/etag"),
            response: b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\n\r\n",
            close: false,
            check: |s| {
                assert_eq!(s.last().status(), 304);
                assert_eq!(s.last().header("etag").unwrap(), "\"v1\"");
                assert!(s.raw.ends_with(b"\r\n\r\n"));
            },
            replay: true,
        },
        Case {
            name: "trailers reach a client that accepts them",
            request: "GET /trailers HTTP/1.1\r\nHost: g\r\nTE: trailers\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/trailers"),
            response: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n",
            close: false,
            check: |s| {
                assert_eq!(s.forwarded().header("te").unwrap(), "trailers");
                let r = s.last();
                assert!(r.chunked, "trailers need a chunked body");
                assert_eq!(r.body, b"hello");
                // hyper writes trailer names in lower case (it keeps no case for trailers).
                let trailers: Vec<_> = r.trailers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
                assert_eq!(trailers, vec![("x-checksum".to_owned(), b"abc".to_vec())]);
            },
            replay: true,
        },
        Case {
            name: "a chunked response streams through",
            request: "GET /chunked-out HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/chunked-out"),
            response: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
            close: false,
            check: |s| assert_eq!(s.last().body, b"abcdef"),
            replay: true,
        },
        Case {
            name: "a response delimited by the upstream closing",
            request: "GET /until-close HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/until-close"),
            response: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until close",
            close: true,
            check: |s| assert_eq!(s.last().body, b"read until close"),
            replay: true,
        },
        Case {
            name: "an interim 103 from the upstream does not replace the final response",
            request: "GET /early-hints HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/early-hints"),
            response: b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            close: false,
            check: |s| assert_eq!((s.last().status(), s.last().body.as_slice()), (200, &b"ok"[..])),
            replay: true,
        },
        Case {
            name: "non-UTF-8 header values keep their bytes both ways",
            request: "GET /bytes HTTP/1.1\r\nHost: g\r\nX-Bin: caf\u{e9}\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/bytes"),
            response: b"HTTP/1.1 200 OK\r\nX-Resp-Bin: \xff\xfe\r\nContent-Length: 2\r\n\r\nok",
            close: false,
            check: |s| {
                let f = s.forwarded();
                let v = &f.headers.iter().find(|(n, _)| n == "X-Bin").unwrap().1;
                assert_eq!(v, "caf\u{e9}".as_bytes());
                let v = &s.last().headers.iter().find(|(n, _)| n == "X-Resp-Bin").unwrap().1;
                assert_eq!(v, b"\xff\xfe");
            },
            replay: true,
        },
        Case {
            name: "/metrics belongs to the upstream",
            request: "GET /metrics HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: Some("/metrics"),
            response: b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nupstream_metric 1",
            close: false,
            check: |s| assert_eq!(s.last().body, b"upstream_metric 1"),
            replay: true,
        },
        Case {
            name: "/_ghost/ is ghost's own and never forwarded",
            request: "GET /_ghost/nope HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: None,
            response: OK,
            close: false,
            check: |s| {
                assert_eq!(s.last().status(), 404);
                let j: serde_json::Value = serde_json::from_slice(&s.last().body).unwrap();
                assert_eq!(j["error"], "unknown_ghost_path");
            },
            replay: false,
        },
        Case {
            name: "/_ghost/metrics is ghost's",
            request: "GET /_ghost/metrics HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
            continue_body: None,
            target: None,
            response: OK,
            close: false,
            check: |s| {
                assert_eq!(s.last().status(), 200);
                assert!(String::from_utf8_lossy(&s.last().body).contains("ghost_requests_total"));
            },
            replay: false,
        },
        Case {
            name: "Transfer-Encoding with Content-Length is refused (request smuggling)",
            request: "POST /smuggle HTTP/1.1\r\nHost: g\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: g\r\n\r\n",
            continue_body: None,
            target: None,
            response: OK,
            close: false,
            check: |s| {
                assert_eq!(s.client.len(), 1, "one answer, then the connection is closed");
                assert_eq!(s.last().status(), 400);
                assert!(String::from_utf8_lossy(&s.last().body).contains("transfer-encoding"), "{:?}", String::from_utf8_lossy(&s.last().body));
            },
            replay: false,
        },
        Case {
            name: "Content-Length then Transfer-Encoding is refused too",
            request: "POST /smuggle2 HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
            continue_body: None,
            target: None,
            response: OK,
            close: false,
            check: |s| {
                assert_eq!(s.client.len(), 1);
                assert_eq!(s.last().status(), 400);
            },
            replay: false,
        },
        Case {
            name: "a Transfer-Encoding not ending in chunked is refused",
            request: "POST /te-gzip HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
            continue_body: None,
            target: None,
            response: OK,
            close: false,
            check: |s| {
                assert_eq!(s.client.len(), 1);
                assert_eq!(s.last().status(), 400);
            },
            replay: false,
        },
    ]
}

async fn proxy(
    up: &ScriptedUpstream,
    threads: usize,
) -> (RunningProxy, SharedLog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
    config.threads = threads;
    let svc =
        |name: &str, upstream: String, host: Option<&str>, prefix: Option<&str>, preserve_host| {
            ServiceConfig {
                tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
                name: ServiceName::new(name).unwrap(),
                upstream: upstream.parse().unwrap(),
                host: host.map(str::to_owned),
                path_prefix: prefix.map(str::to_owned),
                preserve_host,
                tls: Default::default(),
            }
        };
    config.services = vec![
        svc(
            "vhost",
            format!("http://{}", up.addr),
            Some("vhost.test"),
            None,
            true,
        ),
        svc(
            "based",
            format!("http://{}/api/", up.addr),
            None,
            Some("/based"),
            false,
        ),
        svc("default", format!("http://{}", up.addr), None, None, false),
    ];
    (
        ghost_proxy::start(config, log.clone()).await.unwrap(),
        log,
        dir,
    )
}

async fn set_mode(proxy: &RunningProxy, log: &SharedLog, mode: ModeRecord) {
    let offset = ghost_test_util::publish_mode(&**log, &format!("mode-{mode:?}"), mode).await;
    proxy
        .state
        .wait_mode_applied(offset, None, Duration::from_secs(10))
        .await
        .unwrap();
}

async fn send_case(proxy: SocketAddr, up: SocketAddr, c: &Case) -> (Vec<u8>, Vec<RawMessage>) {
    let request = c.request.replace("{up}", &up.to_string());
    let raw = match c.continue_body {
        Some(body) => exchange_expecting_continue(proxy, request.as_bytes(), body.as_bytes()).await,
        None => exchange(proxy, request.as_bytes()).await,
    };
    let responses = parse_responses(&raw, request.starts_with("HEAD "));
    (raw, responses)
}

/// The path and query of a case's request line, as the capture keeps it.
fn client_target(c: &Case, up: SocketAddr) -> String {
    let request = c.request.replace("{up}", &up.to_string());
    let target = request.split(' ').nth(1).unwrap().to_owned();
    match target.strip_prefix("http://") {
        Some(rest) => rest[rest.find('/').unwrap()..].to_owned(),
        None => target,
    }
}

async fn run_table(threads: usize, mode: ModeRecord) {
    let up = ScriptedUpstream::start().await;
    let table = cases();
    for c in &table {
        if let Some(t) = c.target {
            up.script(t, c.response, c.close);
        }
    }
    let (proxy, log, _dir) = proxy(&up, threads).await;
    if mode != ModeRecord::Learn {
        set_mode(&proxy, &log, mode).await;
    }
    let mut seen_by_case = Vec::new();
    for c in &table {
        let (raw, client) = send_case(proxy.local_addr, up.addr, c).await;
        let upstream = match c.target {
            Some(t) => up.received_for(t),
            None => Vec::new(),
        };
        let seen = Seen {
            upstream,
            client,
            raw,
            up: up.addr,
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (c.check)(&seen)));
        if outcome.is_err() {
            panic!(
                "case `{}` failed (threads={threads}, {mode:?}); client got:\n{}\nupstream got:\n{}",
                c.name,
                String::from_utf8_lossy(&seen.raw),
                seen.upstream
                    .iter()
                    .map(|m| String::from_utf8_lossy(&m.head).into_owned())
                    .collect::<String>()
            );
        }
        seen_by_case.push(seen);
    }
    // Nothing refused reached the upstream, not even a smuggled second request.
    for m in up.received() {
        let target = m.start.split(' ').nth(1).unwrap_or("");
        assert!(
            table.iter().any(|c| c.target == Some(target)),
            "unexpected request upstream: {}",
            m.start
        );
    }

    let lib = proxy.state.catch_up().await;
    if mode == ModeRecord::Passthrough {
        assert_eq!(lib.len(), 0, "PASSTHROUGH records nothing");
        proxy.shutdown(Duration::from_secs(5)).await;
        return;
    }
    // LEARN: each forwarded exchange is captured as the client saw it.
    let mut captures = Vec::new();
    for p in 0..topics::CAPTURES.spec().unwrap().partitions {
        for r in log
            .read(topics::CAPTURES.name(), p, 0, 1000, None)
            .await
            .unwrap()
        {
            captures
                .push(ghost_schema::decode::<CaptureRecord>(r.value.as_ref().unwrap()).unwrap());
        }
    }
    for (c, seen) in table.iter().zip(&seen_by_case) {
        if c.target.is_none() {
            continue;
        }
        let uri = client_target(c, up.addr);
        let cap = captures
            .iter()
            .find(|k| k.uri == uri)
            .unwrap_or_else(|| panic!("case `{}`: no capture of {uri}", c.name));
        assert_eq!(
            cap.status,
            i32::from(seen.last().status()),
            "case `{}`",
            c.name
        );
        assert_eq!(
            cap.response_body.as_slice(),
            seen.last().body.as_slice(),
            "case `{}`",
            c.name
        );
    }
    // MOCK replays what LEARN's client saw.
    set_mode(&proxy, &log, ModeRecord::Mock).await;
    for (c, live) in table.iter().zip(&seen_by_case) {
        if !c.replay {
            continue;
        }
        let (raw, client) = send_case(proxy.local_addr, up.addr, c).await;
        let mocked = client
            .last()
            .unwrap_or_else(|| panic!("case `{}`: no replay in {raw:?}", c.name));
        assert_eq!(
            mocked.status(),
            live.last().status(),
            "case `{}` replayed",
            c.name
        );
        assert_eq!(mocked.body, live.last().body, "case `{}` replayed", c.name);
        assert!(
            mocked.header("x-ghost-mock").is_some(),
            "case `{}` replayed",
            c.name
        );
    }
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learn_on_request_threads() {
    run_table(2, ModeRecord::Learn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learn_on_the_shared_runtime() {
    run_table(0, ModeRecord::Learn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_on_request_threads() {
    run_table(2, ModeRecord::Passthrough).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_on_the_shared_runtime() {
    run_table(0, ModeRecord::Passthrough).await;
}
