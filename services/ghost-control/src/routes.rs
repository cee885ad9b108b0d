//! HTTP routes of the control plane.

use crate::auth::ApiKeys;
use crate::error::ApiError;
use crate::view::StateView;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ghost_log::SharedLog;
use ghost_model::{Mode, ServiceName};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub keys: Arc<ApiKeys>,
    pub log: SharedLog,
    pub view: Arc<dyn StateView>,
    pub mode_wait: Duration,
}

/// The whole control plane router.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/mode", get(get_mode).post(set_mode))
        .route("/services", get(services))
        .route("/mocks", get(mocks))
        .route("/proxy", get(crate::runs::proxy))
        .route("/runs", axum::routing::post(crate::runs::open))
        .route(
            "/runs/{id}",
            get(crate::runs::read).delete(crate::runs::close),
        )
        .route(
            "/scrub/config",
            get(crate::scrub::get_config).put(crate::scrub::put_config),
        )
        .route(
            "/scrub/test",
            axum::routing::post(crate::scrub::test_config),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key));
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .nest("/v1", v1)
        .fallback(|| async {
            ApiError::not_found("not_found", "no such route; the API lives under /v1")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this route",
            )
        })
        .with_state(state)
}

async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match req.headers().get("x-api-key").map(|v| v.to_str()) {
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing X-API-Key header",
        )
        .into_response(),
        Some(Ok(k)) if state.keys.verify(k) => next.run(req).await,
        Some(_) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "invalid API key")
            .into_response(),
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.view.ready() {
        Json(serde_json::json!({ "ready": true })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "ready": false })),
        )
            .into_response()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceQuery {
    service: Option<String>,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

/// Validates `?service=` against the configured services.
fn service_param(
    state: &AppState,
    service: Option<String>,
) -> Result<Option<ServiceName>, ApiError> {
    let Some(name) = service else { return Ok(None) };
    let name =
        ServiceName::new(&name).map_err(|e| ApiError::bad_request("bad_service", e.to_string()))?;
    if !state.view.has_service(&name) {
        return Err(ApiError::not_found(
            "unknown_service",
            format!("no service named `{name}`; GET /v1/services lists them"),
        ));
    }
    Ok(Some(name))
}

async fn get_mode(
    State(state): State<AppState>,
    q: Result<Query<ServiceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let service = service_param(&state, query(q)?.service)?;
    Ok(Json(state.view.mode(service.as_ref())).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetMode {
    mode: String,
}

async fn set_mode(
    State(state): State<AppState>,
    q: Result<Query<ServiceQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let service = service_param(&state, query(q)?.service)?;
    let req: SetMode = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("expected {{\"mode\": \"LEARN|MOCK|PASSTHROUGH\"}}: {e}"),
        )
    })?;
    let mode: Mode = req.mode.parse().map_err(|e: ghost_model::ModeParseError| {
        ApiError::bad_request("bad_mode", e.to_string())
    })?;
    let previous = state.view.mode(service.as_ref());

    let ack = crate::mode_change::publish(&state.log, service.as_ref(), mode, "api-key:admin")
        .await
        .map_err(|e| ApiError::internal("publishing the mode change", &e))?;
    let now = state
        .view
        .wait_mode_applied(ack.offset, service.as_ref(), state.mode_wait)
        .await;
    let status = if now.mode == mode {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = serde_json::json!({
        "service": now.service,
        "mode": now.mode,
        "target": now.target,
        "previous": previous.mode,
        "offset": ack.offset,
    });
    Ok((status, Json(body)).into_response())
}

async fn services(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "services": state.view.services() }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MocksQuery {
    service: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

const MAX_PER_PAGE: usize = 1000;

async fn mocks(
    State(state): State<AppState>,
    q: Result<Query<MocksQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let service = service_param(&state, q.service)?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if page == 0 {
        return Err(ApiError::bad_request("bad_query", "page starts at 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("per_page must be 1..={MAX_PER_PAGE}"),
        ));
    }
    let (total, items, up_to_date) = state
        .view
        .mocks(
            service.as_ref(),
            (page - 1).saturating_mul(per_page),
            per_page,
        )
        .await;
    Ok(Json(serde_json::json!({
        "up_to_date": up_to_date,
        "total": total,
        "page": page,
        "per_page": per_page,
        "items": items,
    }))
    .into_response())
}
