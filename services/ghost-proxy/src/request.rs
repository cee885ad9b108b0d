//! The request path: route to a service, then LEARN / MOCK / PASSTHROUGH /
//! TRANSITIONING. Nothing here blocks on the log in MOCK or (by default) LEARN.

use crate::body::ProxyBody;
use crate::error::{json_error, json_response};
use crate::forward::forward;
use crate::guard::ConnGuard;
use crate::intercept::TunnelOrigin;
use crate::journal::Served;
use crate::library::{Match, MockResponse, recording::bodiless};
use crate::metrics::MatchType;
use crate::origins::OriginError;
use crate::routing::ServiceRoute;
use crate::spans::RequestSpan;
use crate::state::ProxyState;
use crate::upstream::Link;
use bytes::Bytes;
use ghost_log::trace::TRACEPARENT;
use ghost_model::Mode;
use ghost_model::fingerprint::{body_fingerprint, request_key};
use ghost_telemetry::KeyValue;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Response header naming the cascade stage that answered.
pub const MOCK_HEADER: &str = "x-ghost-mock";

pub(crate) type Resp = Response<ProxyBody>;

/// Path prefix of what ghost itself serves on the proxy port.
pub const RESERVED_PREFIX: &str = "/_ghost/";

/// Answers a request under [`RESERVED_PREFIX`] (`own`: the path after it).
fn reserved(state: &ProxyState, own: &str, method: &Method) -> Resp {
    match (method, own) {
        (&Method::GET, "ca.crt") => match state.ca_cert_pem() {
            Some(pem) => {
                let mut resp = Response::new(ProxyBody::full(Bytes::from(pem.to_owned())));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-pem-file"),
                );
                resp
            }
            None => err(
                StatusCode::SERVICE_UNAVAILABLE,
                "interception_off",
                "TLS interception is off, so ghost has no CA to hand out; start it with --tls-intercept lax|strict",
            ),
        },
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
                "ghost serves nothing at {RESERVED_PREFIX}{own}; its own paths are {RESERVED_PREFIX}metrics and {RESERVED_PREFIX}ca.crt (the prefix is reserved: requests under it are never forwarded)"
            ),
        ),
    }
}

pub(crate) fn err(status: StatusCode, code: &str, detail: impl Into<String>) -> Resp {
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
    if req.method() == Method::CONNECT {
        let started = Instant::now();
        let resp = crate::connect::connect(&ctx, req).await;
        let m = if resp.status().is_success() {
            MatchType::Passthrough
        } else {
            MatchType::Error
        };
        state.metrics.request(m, started.elapsed());
        return Ok(resp);
    }
    // `/_ghost/` is ghost's own namespace on the proxy port; every other path,
    // `/metrics` included, belongs to the upstream.
    if let Some(own) = req.uri().path().strip_prefix(RESERVED_PREFIX) {
        return Ok(reserved(state, own, req.method()));
    }
    let started = Instant::now();
    let journal = state.journal.active().then_some(&state.journal);
    let tracing = ghost_telemetry::enabled();
    if !tracing && journal.is_none() {
        let (resp, m, _) = dispatch(&ctx, &link, req, started, None).await;
        state.metrics.request(m, started.elapsed());
        return Ok(resp);
    }
    let span = tracing
        .then(|| RequestSpan::begin(req.headers().get(TRACEPARENT).map(HeaderValue::as_bytes)));
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let (resp, m, served_by) = dispatch(&ctx, &link, req, started, span.as_ref()).await;
    let elapsed = started.elapsed();
    state.metrics.request(m, elapsed);
    if let Some(j) = journal {
        j.record(Served {
            service: served_by.as_ref().map(|(r, _)| r.name.to_string()),
            method: method.as_str().to_owned(),
            target: target.clone(),
            status: resp.status().as_u16(),
            answer: m.label(),
            duration: elapsed,
        });
    }
    let Some(span) = span else {
        return Ok(resp);
    };
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let mut attributes = vec![
        KeyValue::new("http.request.method", method.as_str().to_owned()),
        KeyValue::new("url.path", path),
        KeyValue::new(
            "http.response.status_code",
            i64::from(resp.status().as_u16()),
        ),
        KeyValue::new("ghost.match", m.label()),
    ];
    if let Some((route, mode)) = served_by {
        attributes.push(KeyValue::new("ghost.service", route.name.to_string()));
        attributes.push(KeyValue::new("ghost.mode", mode.as_str()));
    }
    if let Some(n) = http_body::Body::size_hint(resp.body()).exact() {
        attributes.push(KeyValue::new("http.response.body.size", n as i64));
    }
    let error = (m == MatchType::Error).then(|| format!("answered {}", resp.status()));
    span.end(attributes, error);
    Ok(resp)
}

/// The service a request belongs to. A request an HTTP/1 client sent as to a
/// proxy (absolute-form: `GET http://host/path`) goes to the configured service
/// for that host, else to the host's own origin service (created on first use,
/// within `--allow-hosts`); any other request is routed by `Host`, path prefix,
/// then `default`. (HTTP/2 requests always carry a scheme and authority; a
/// proxy client would use CONNECT for them.)
fn route_for(state: &ProxyState, req: &Request<Incoming>) -> Result<Arc<ServiceRoute>, Box<Resp>> {
    let uri = req.uri();
    if let Some(t) = req.extensions().get::<TunnelOrigin>() {
        return origin_route(state, &t.scheme, &t.authority, uri.path());
    }
    if req.version() != http::Version::HTTP_2
        && let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority())
    {
        return origin_route(state, scheme, authority, uri.path());
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.host());
    state
        .routes
        .resolve(host, uri.path())
        .cloned()
        .ok_or_else(|| {
            let detail = format!(
                "no service routes host {:?} path {}; configure --upstream or a service",
                host.unwrap_or(""),
                uri.path()
            );
            Box::new(err(StatusCode::NOT_FOUND, "unknown_service", detail))
        })
}

/// The service for a request meant for `scheme://authority`: the configured
/// one for that host, else the origin's own (never ghost itself).
fn origin_route(
    state: &ProxyState,
    scheme: &http::uri::Scheme,
    authority: &http::uri::Authority,
    path: &str,
) -> Result<Arc<ServiceRoute>, Box<Resp>> {
    if let Some(r) = state.routes.by_target(scheme, authority, path) {
        return Ok(r.clone());
    }
    if state.is_self(authority) {
        return Err(Box::new(err(
            StatusCode::LOOP_DETECTED,
            "proxy_loop",
            format!("{authority} is ghost itself: forwarding it there would loop"),
        )));
    }
    state
        .origins
        .route(scheme, authority)
        .map_err(|e| Box::new(origin_error(e)))
}

/// The answer when an origin gets no service.
pub(crate) fn origin_error(e: OriginError) -> Resp {
    let status = match e {
        OriginError::NotLoopback(_) | OriginError::NotAllowed(_) => StatusCode::FORBIDDEN,
        OriginError::TooMany(_) => StatusCode::SERVICE_UNAVAILABLE,
        OriginError::Name(_) | OriginError::Route(_) => StatusCode::BAD_REQUEST,
    };
    let code = match status {
        StatusCode::FORBIDDEN => "host_not_allowed",
        StatusCode::SERVICE_UNAVAILABLE => "too_many_origins",
        _ => "bad_origin",
    };
    err(status, code, e.to_string())
}

/// The service and mode that handled a request (`None`: none routed it).
type ServedBy = Option<(Arc<ServiceRoute>, Mode)>;

async fn dispatch(
    ctx: &RequestCtx,
    link: &Link,
    req: Request<Incoming>,
    started: Instant,
    span: Option<&RequestSpan>,
) -> (Resp, MatchType, ServedBy) {
    let state = &ctx.state;
    let route = match route_for(state, &req) {
        Ok(r) => r,
        Err(resp) => return (*resp, MatchType::Error, None),
    };
    let (mode, session) = {
        let table = state.modes.load();
        let s = table.effective(&route.name);
        (s.mode, s.session.clone())
    };
    let (resp, m) = match mode {
        Mode::Mock => mock(state, &route, req).await,
        Mode::Learn => forward(ctx, link, &route, req, Some(session), started, span).await,
        Mode::Passthrough => forward(ctx, link, &route, req, None, started, span).await,
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
    };
    (resp, m, Some((route, mode)))
}

/// Reads a request body up to the cap; anything larger is a 413.
pub(crate) async fn read_body(
    body: Incoming,
    headers: &HeaderMap,
    cap: usize,
) -> Result<Bytes, Resp> {
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
