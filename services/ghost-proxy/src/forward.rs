//! LEARN and PASSTHROUGH: forward a request to its service's upstream and
//! stream the answer back; in LEARN, record the exchange as the client saw it
//! (the capture is queued when the body ends, never making the client wait,
//! unless captures are durable).

use crate::body::{ProxyBody, TeeBody};
use crate::failure::upstream_failure;
use crate::library::recording::bodiless;
use crate::metrics::{IoOp, MatchType};
use crate::outbound;
use crate::request::{RequestCtx, Resp, err, read_body};
use crate::routing::ServiceRoute;
use crate::spans::{CaptureTrace, RequestSpan};
use crate::state::ProxyState;
use crate::upstream::Link;
use bytes::Bytes;
use ghost_log::trace::TRACEPARENT;
use ghost_model::{CaptureParts, HeaderPair};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

fn pairs(headers: &HeaderMap) -> Vec<HeaderPair> {
    headers
        .iter()
        .filter(|(n, _)| !outbound::is_hop(n))
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
pub(crate) async fn forward(
    ctx: &RequestCtx,
    link: &Link,
    route: &ServiceRoute,
    req: Request<Incoming>,
    session: Option<Arc<str>>,
    started: Instant,
    span: Option<&RequestSpan>,
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
    // `https://` upstreams go through their service's pooled TLS client.
    let via_link = route.https.is_none()
        && parts.version != Version::HTTP_2
        && link.has_room(&route.authority);
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
        (pairs(&parts.headers), Some(CaptureTrace::new(span, given)))
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
    // With telemetry on, the upstream sees its call's span as the parent.
    let call = span.map(|s| {
        let call = s.ids.child();
        if let Ok(v) = HeaderValue::from_str(&call.to_header_value()) {
            out.headers_mut().insert(TRACEPARENT, v);
        }
        (call, SystemTime::now())
    });

    let sent = match &route.https {
        _ if via_link => link
            .send(route, out)
            .await
            .map_err(|e| upstream_failure(&e)),
        Some(https) => match https.pool.request(out).await {
            Ok(r) => Ok(r),
            Err(e) => {
                let mut f = upstream_failure(&e);
                if f.tls.is_none() {
                    f.tls = https.diagnose(&route.authority).await;
                }
                Err(f)
            }
        },
        None => ctx
            .client
            .request(out)
            .await
            .map_err(|e| upstream_failure(&e)),
    };
    if let (Some(s), Some((call, at))) = (span, call) {
        let outcome = match &sent {
            Ok(r) => Ok(r.status().as_u16()),
            Err(e) => Err(e.detail.as_str()),
        };
        s.upstream(call, at, &route.upstream, outcome);
    }
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            state.metrics.io_error(IoOp::Upstream);
            tracing::warn!(error = %e.detail, service = %route.name, "upstream request failed");
            let (code, detail) = match e.tls {
                Some(reason) => {
                    state.metrics.tls_upstream_failure(&route.name);
                    let detail = format!(
                        "TLS with upstream {} ({}) for service `{}` failed: {reason}",
                        route.authority.host(),
                        route.upstream,
                        route.name
                    );
                    ("upstream_tls", detail)
                }
                None => {
                    let detail = format!(
                        "upstream {} for service `{}` failed: {}",
                        route.upstream, route.name, e.reason
                    );
                    ("upstream_unavailable", detail)
                }
            };
            return (err(StatusCode::BAD_GATEWAY, code, detail), MatchType::Error);
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
        upstream_http_version: version_str(rparts.version).to_owned(),
        tenant: route.tenant.clone(),
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
    trace: CaptureTrace,
    started: Instant,
    kind: MatchType,
) -> (Resp, MatchType) {
    let cap = state.config.max_body_bytes;
    let body = match Limited::new(rbody, cap).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            state.metrics.io_error(IoOp::Upstream);
            tracing::warn!(error = %crate::failure::chain(&*e), "upstream response body failed");
            let detail = if e.is::<http_body_util::LengthLimitError>() {
                format!(
                    "the upstream response exceeds the {cap}-byte capture limit, so it cannot be recorded durably"
                )
            } else {
                format!(
                    "the upstream response could not be read: {}",
                    crate::failure::reason(&*e)
                )
            };
            return (
                err(StatusCode::BAD_GATEWAY, "upstream_body", detail),
                MatchType::Error,
            );
        }
    };
    capture.response_body = body.clone();
    capture.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    if let Err(e) = state.publisher.publish_durable(capture, trace).await {
        tracing::warn!(error = %e, "durable capture not acknowledged");
        let detail = "the exchange was not acknowledged by the log; it was not recorded";
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
