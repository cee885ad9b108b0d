//! The request path: route to a service, then LEARN / MOCK / PASSTHROUGH /
//! TRANSITIONING. Nothing here blocks on the log in MOCK or (by default) LEARN.

use crate::body::{ProxyBody, TeeBody};
use crate::error::{json_error, json_response};
use crate::guard::ConnGuard;
use crate::library::{Match, MockResponse, recording::bodiless};
use crate::metrics::{IoOp, MatchType};
use crate::outbound;
use crate::routes::ServiceRoute;
use crate::state::ProxyState;
use crate::upstream::Link;
use bytes::Bytes;
use ghost_log::trace::{TRACEPARENT, TraceParent};
use ghost_model::fingerprint::{body_fingerprint, request_key};
use ghost_model::{CaptureParts, HeaderPair, Mode};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, Version, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Response header naming the cascade stage that answered.
pub const MOCK_HEADER: &str = "x-ghost-mock";

type Resp = Response<ProxyBody>;

/// Path prefix of what ghost itself serves on the proxy port.
pub const RESERVED_PREFIX: &str = "/_ghost/";

/// Answers a request under [`RESERVED_PREFIX`] (`own`: the path after it).
fn reserved(own: &str, method: &Method) -> Resp {
    match (method, own) {
        (&Method::GET, "metrics") => {
            let mut resp = Response::new(ProxyBody::full(Bytes::from(crate::metrics::render())));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            resp
        }
        (_, "metrics") => err(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{RESERVED_PREFIX}metrics answers GET only"),
        ),
        _ => err(
            StatusCode::NOT_FOUND,
            "unknown_ghost_path",
            format!(
                "ghost serves nothing at {RESERVED_PREFIX}{own}; its own paths are {RESERVED_PREFIX}metrics (the prefix is reserved: requests under it are never forwarded)"
            ),
        ),
    }
}

fn err(status: StatusCode, code: &str, detail: impl Into<String>) -> Resp {
    json_error(status, code, detail).map(ProxyBody::full)
}

pub(crate) type UpstreamClient = Client<HttpConnector, Full<Bytes>>;

/// What a request thread hands every request: the shared state and the
/// thread's own upstream pool.
pub(crate) struct RequestCtx {
    pub state: Arc<ProxyState>,
    pub client: UpstreamClient,
}

/// Entry point for every proxied request.
pub(crate) async fn handle(
    ctx: Arc<RequestCtx>,
    link: Arc<Link>,
    guard: Arc<ConnGuard>,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let state = &ctx.state;
    if guard.next_is_conflict() {
        // RFC 9112 §6.1: a smuggling attempt. Never forwarded; the body is left
        // unread and the connection closed after this answer.
        let mut resp = err(
            StatusCode::BAD_REQUEST,
            "ambiguous_framing",
            "the request carries both transfer-encoding and content-length (RFC 9112 §6.1, request smuggling); refused and the connection closed",
        );
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        state.metrics.request(MatchType::Error, Duration::ZERO);
        return Ok(resp);
    }
    // `/_ghost/` is ghost's own namespace on the proxy port; every other path,
    // `/metrics` included, belongs to the upstream.
    if let Some(own) = req.uri().path().strip_prefix(RESERVED_PREFIX) {
        return Ok(reserved(own, req.method()));
    }
    let started = Instant::now();
    let (resp, m) = dispatch(&ctx, &link, req, started).await;
    state.metrics.request(m, started.elapsed());
    Ok(resp)
}

async fn dispatch(
    ctx: &RequestCtx,
    link: &Link,
    req: Request<Incoming>,
    started: Instant,
) -> (Resp, MatchType) {
    let state = &ctx.state;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host());
    let Some(route) = state.routes.resolve(host, req.uri().path()).cloned() else {
        let detail = format!(
            "no service routes host {:?} path {}; configure --upstream or a service",
            host.unwrap_or(""),
            req.uri().path()
        );
        return (
            err(StatusCode::NOT_FOUND, "unknown_service", detail),
            MatchType::Error,
        );
    };
    let (mode, session) = {
        let table = state.modes.load();
        let s = table.effective(&route.name);
        (s.mode, s.session.clone())
    };
    match mode {
        Mode::Mock => mock(state, &route, req).await,
        Mode::Learn => forward(ctx, link, &route, req, Some(session), started).await,
        Mode::Passthrough => forward(ctx, link, &route, req, None, started).await,
        Mode::Transitioning => {
            let mut resp = err(
                StatusCode::SERVICE_UNAVAILABLE,
                "transitioning",
                format!(
                    "service `{}` is switching to MOCK; retry shortly",
                    route.name
                ),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(state.config.retry_after_secs),
            );
            (resp, MatchType::Transitioning)
        }
    }
}

/// Reads a request body up to the cap; anything larger is a 413.
async fn read_body(body: Incoming, headers: &HeaderMap, cap: usize) -> Result<Bytes, Resp> {
    let too_large = || {
        err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body exceeds the limit of {cap} bytes (--max-body-bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    if http_body::Body::is_end_stream(&body) {
        return Ok(Bytes::new());
    }
    match Limited::new(body, cap).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(err(
            StatusCode::BAD_REQUEST,
            "bad_request_body",
            format!("request body could not be read: {e}"),
        )),
    }
}

async fn mock(
    state: &ProxyState,
    route: &ServiceRoute,
    req: Request<Incoming>,
) -> (Resp, MatchType) {
    let (parts, body) = req.into_parts();
    let body = match read_body(body, &parts.headers, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(resp) => return (resp, MatchType::Error),
    };
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let fp = body_fingerprint(&body);
    let service = route.name.as_str();
    let method = parts.method.as_str();
    let lib = state.library.load();
    if let Some(entry) = lib.exact(&request_key(service, method, pq, fp)) {
        let rec = entry.next();
        return (
            served(&rec.response, rec.response.body.clone(), "exact"),
            MatchType::Exact,
        );
    }
    match lib.fallback(service, method, pq, fp) {
        Match::SmartSwap { recording, body } => (
            served(&recording.response, body, "smart-swap"),
            MatchType::SmartSwap,
        ),
        Match::Miss(report) => {
            let body = serde_json::json!({
                "error": "ghost_miss",
                "detail": format!(
                    "no recording of {method} {pq} for service `{service}` matches; see candidates"
                ),
                "miss": report,
            });
            let mut resp = json_response(StatusCode::NOT_FOUND, &body).map(ProxyBody::full);
            resp.headers_mut()
                .insert(MOCK_HEADER, HeaderValue::from_static("miss"));
            (resp, MatchType::Miss)
        }
    }
}

fn served(r: &MockResponse, body: Bytes, stage: &'static str) -> Resp {
    let swapped = body.len() != r.body.len();
    let mut resp = Response::new(ProxyBody::full(body));
    *resp.status_mut() = r.status;
    *resp.headers_mut() = r.headers.clone();
    if swapped && !bodiless(r.status) {
        let len = http_body::Body::size_hint(resp.body()).exact().unwrap_or(0);
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp.headers_mut()
        .insert(MOCK_HEADER, HeaderValue::from_static(stage));
    resp
}

fn is_hop(name: &http::HeaderName) -> bool {
    // `HeaderName`s are lower-case already: plain comparisons, no case folding.
    crate::outbound::HOP_BY_HOP.contains(&name.as_str())
}

fn pairs(headers: &HeaderMap) -> Vec<HeaderPair> {
    headers
        .iter()
        .filter(|(n, _)| !is_hop(n))
        .map(|(n, v)| HeaderPair {
            name: n.as_str().to_owned(),
            value: Bytes::copy_from_slice(v.as_bytes()),
        })
        .collect()
}

fn version_str(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// Forwards to the upstream; records the exchange when `session` is set (LEARN).
async fn forward(
    ctx: &RequestCtx,
    link: &Link,
    route: &ServiceRoute,
    req: Request<Incoming>,
    session: Option<Arc<str>>,
    started: Instant,
) -> (Resp, MatchType) {
    let state = &ctx.state;
    let kind = if session.is_some() {
        MatchType::Learn
    } else {
        MatchType::Passthrough
    };
    let started_at_us = ghost_model::clock::now_us();
    let (parts, body) = req.into_parts();
    let cap = state.config.max_body_bytes;
    let body = match read_body(body, &parts.headers, cap).await {
        Ok(b) => b,
        Err(resp) => return (resp, MatchType::Error),
    };
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let target = match outbound::target(&route.base_path, &parts.method, &parts.uri) {
        Ok(t) => t,
        Err(e) => {
            return (
                err(StatusCode::BAD_REQUEST, "bad_request_target", e.to_string()),
                MatchType::Error,
            );
        }
    };
    // HTTP/1 downstream connections forward on their own upstream connection,
    // which takes the origin-form target as is; HTTP/2 ones multiplex and share
    // the pool, which needs the absolute URI to pick a connection (and sends
    // origin-form on HTTP/1 upstreams itself).
    let via_link = parts.version != Version::HTTP_2 && link.has_room(&route.authority);
    let uri = if via_link {
        Ok(Uri::from(target))
    } else {
        Uri::builder()
            .scheme(route.scheme.clone())
            .authority(route.authority.clone())
            .path_and_query(target)
            .build()
    };
    let Ok(uri) = uri else {
        return (
            err(
                StatusCode::BAD_REQUEST,
                "bad_request_target",
                format!("cannot forward `{pq}`"),
            ),
            MatchType::Error,
        );
    };
    let mut out = Request::new(Full::new(body.clone()));
    *out.method_mut() = parts.method.clone();
    *out.uri_mut() = uri;
    *out.version_mut() = Version::HTTP_11;
    // The capture keeps the request headers as received (built before they move
    // into the upstream request, which saves a copy of the map).
    let (request_headers, trace) = if session.is_some() {
        // The capture's record continues the client's trace when it sent one.
        let given = parts.headers.get(TRACEPARENT).map(HeaderValue::as_bytes);
        (
            pairs(&parts.headers),
            Some(TraceParent::continue_or_root(given)),
        )
    } else {
        (Vec::new(), None)
    };
    let mut headers = parts.headers;
    outbound::request_headers(
        &mut headers,
        &route.host_header,
        route.preserve_host,
        parts.uri.authority(),
    );
    *out.headers_mut() = headers;
    // The original header-name case (hyper's preserve-header-case map) travels
    // in the extensions.
    *out.extensions_mut() = parts.extensions;

    let sent = if via_link {
        link.send(route, out).await.map_err(|e| e.to_string())
    } else {
        ctx.client.request(out).await.map_err(|e| e.to_string())
    };
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            state.metrics.io_error(IoOp::Upstream);
            tracing::warn!(error = %e, service = %route.name, "upstream request failed");
            let detail = format!(
                "upstream {} for service `{}` failed: {e}",
                route.upstream, route.name
            );
            return (
                err(StatusCode::BAD_GATEWAY, "upstream_unavailable", detail),
                MatchType::Error,
            );
        }
    };
    let (mut rparts, rbody) = resp.into_parts();
    outbound::strip_hop_by_hop(&mut rparts.headers);
    let (Some(session), Some(trace)) = (session, trace) else {
        return (Response::from_parts(rparts, ProxyBody::Stream(rbody)), kind);
    };

    let capture = CaptureParts {
        // Printed into a stack buffer: `to_string` goes through `fmt` and regrows.
        id: uuid::Uuid::now_v7()
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .to_owned(),
        service: route.name.to_string(),
        session_id: session.to_string(),
        method: parts.method.as_str().to_owned(),
        uri: pq.to_owned(),
        request_headers,
        request_body: body,
        status: rparts.status.as_u16(),
        response_headers: pairs(&rparts.headers),
        response_body: Bytes::new(),
        started_at_us,
        duration_us: 0,
        upstream: route.upstream.clone(),
        http_version: version_str(parts.version).to_owned(),
        body_truncated: false,
    };

    if state.config.durable_captures {
        return durable(state, rparts, rbody, capture, trace, started, kind).await;
    }
    let no_body = parts.method == Method::HEAD
        || bodiless(rparts.status)
        || http_body::Body::is_end_stream(&rbody);
    if no_body {
        let mut capture = capture;
        capture.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        state.publisher.enqueue(capture, trace);
        return (Response::from_parts(rparts, ProxyBody::Stream(rbody)), kind);
    }
    let tee = TeeBody::new(rbody, capture, trace, cap, started, state.publisher.clone());
    (
        Response::from_parts(rparts, ProxyBody::Tee(Box::new(tee))),
        kind,
    )
}

/// LEARN with durable captures: the client gets the response only once its
/// capture is synced to the log.
async fn durable(
    state: &ProxyState,
    rparts: http::response::Parts,
    rbody: Incoming,
    mut capture: CaptureParts,
    trace: TraceParent,
    started: Instant,
    kind: MatchType,
) -> (Resp, MatchType) {
    let cap = state.config.max_body_bytes;
    let body = match Limited::new(rbody, cap).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            state.metrics.io_error(IoOp::Upstream);
            let detail = format!("upstream response could not be recorded durably: {e}");
            return (
                err(StatusCode::BAD_GATEWAY, "upstream_body", detail),
                MatchType::Error,
            );
        }
    };
    capture.response_body = body.clone();
    capture.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    if let Err(e) = state.publisher.publish_durable(capture, trace).await {
        let detail = format!("the exchange was not acknowledged by the log: {e}");
        return (
            err(
                StatusCode::SERVICE_UNAVAILABLE,
                "capture_not_durable",
                detail,
            ),
            MatchType::Error,
        );
    }
    (Response::from_parts(rparts, ProxyBody::full(body)), kind)
}
