//! CONNECT: the tunnels forward-proxy clients open for `https://` origins.
//!
//! With TLS interception on, ghost terminates the tunnel's TLS itself and
//! serves the requests inside (see `intercept`). Without it the tunnel is passed through blind: ghost connects
//! to the target, answers 200 and copies bytes both ways. It never sees inside,
//! so nothing is recorded, and in MOCK (no network) such a tunnel is refused.

use crate::body::ProxyBody;
use crate::intercept::{self, TunnelOrigin};
use crate::origins::service_name;
use crate::request::{RequestCtx, Resp, err, origin_error};
use crate::state::ProxyState;
use ghost_model::Mode;
use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long connecting to a tunnel's target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers a CONNECT request.
pub(crate) async fn connect(ctx: &Arc<RequestCtx>, mut req: Request<Incoming>) -> Resp {
    let state = &ctx.state;
    let Some(authority) = req.uri().authority().cloned() else {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_connect",
            format!("CONNECT needs a host:port target, not `{}`", req.uri()),
        );
    };
    let Some(port) = authority.port_u16() else {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_connect",
            format!("CONNECT target `{authority}` has no port"),
        );
    };
    if let Err(e) = state.origins.check(authority.host()) {
        return origin_error(e);
    }
    if state.is_self(&authority) {
        return err(
            StatusCode::LOOP_DETECTED,
            "proxy_loop",
            format!("{authority} is ghost itself: a tunnel there would loop"),
        );
    }
    if let Some(ca) = &state.ca {
        // Intercepted: ghost is the tunnel's far end.
        let on_upgrade = hyper::upgrade::on(&mut req);
        state.metrics.tunnel("intercepted");
        let origin = TunnelOrigin {
            scheme: Scheme::HTTPS,
            authority: authority.clone(),
        };
        let (ctx, ca) = (ctx.clone(), ca.clone());
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    intercept::serve(ctx, TokioIo::new(upgraded), ca, Some(origin)).await
                }
                Err(error) => tracing::debug!(%error, %authority, "CONNECT was not upgraded"),
            }
        });
        return Response::new(ProxyBody::full(bytes::Bytes::new()));
    }
    let mode = tunnel_mode(state, &authority);
    if matches!(mode, Mode::Mock | Mode::Transitioning) {
        return err(
            StatusCode::SERVICE_UNAVAILABLE,
            "tunnel_in_mock",
            format!(
                "ghost serves `{authority}` from recordings (MOCK) and cannot answer inside an opaque TLS tunnel; start ghost with --tls-intercept so it terminates TLS and replays"
            ),
        );
    }
    let host = crate::routing::bare_host(authority.host());
    let upstream =
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port))).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, %authority, "tunnel connect failed");
                return err(
                    StatusCode::BAD_GATEWAY,
                    "tunnel_connect_failed",
                    format!(
                        "cannot connect to {authority}: {}",
                        crate::failure::io_reason(&e)
                    ),
                );
            }
            Err(_) => {
                return err(
                    StatusCode::GATEWAY_TIMEOUT,
                    "tunnel_connect_failed",
                    format!("connecting to {authority} took over {CONNECT_TIMEOUT:?}"),
                );
            }
        };
    let _ = upstream.set_nodelay(true);
    let on_upgrade = hyper::upgrade::on(&mut req);
    state.metrics.tunnel("blind");
    tokio::spawn(async move {
        let mut upstream = upstream;
        match on_upgrade.await {
            Ok(upgraded) => {
                let mut client = TokioIo::new(upgraded);
                if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await
                {
                    tracing::debug!(%error, %authority, "tunnel ended with an error");
                }
            }
            Err(error) => tracing::debug!(%error, %authority, "CONNECT was not upgraded"),
        }
    });
    Response::new(ProxyBody::full(bytes::Bytes::new()))
}

/// The mode of the service a tunnel's target belongs to: a configured service
/// for that host, else the target's origin service (which may not exist yet:
/// then the global mode).
fn tunnel_mode(state: &ProxyState, authority: &Authority) -> Mode {
    let modes = state.modes.load();
    match state.routes.by_target(&Scheme::HTTPS, authority, "/") {
        Some(r) => modes.effective(&r.name).mode,
        None => match service_name(&Scheme::HTTPS, authority) {
            Some(name) => modes.effective(&name).mode,
            None => modes.global.mode,
        },
    }
}
