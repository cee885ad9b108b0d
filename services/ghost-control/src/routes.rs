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
use ghost_log::{Durability, Header, Record, SharedLog};
use ghost_model::{Mode, ServiceName, topics};
use ghost_schema::{ModeChangeRecord, PartitionOffsetRecord};
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

    let spec = state
        .log
        .topic(topics::CAPTURES)
        .await
        .map_err(|e| ApiError::internal("reading the captures topic", &e))?;
    let mut barrier = Vec::with_capacity(spec.partitions as usize);
    for p in 0..spec.partitions {
        let end = state
            .log
            .end_offset(topics::CAPTURES, p)
            .await
            .map_err(|e| ApiError::internal("reading end offsets", &e))?;
        barrier.push(PartitionOffsetRecord {
            partition: i32::try_from(p).unwrap_or(i32::MAX),
            offset: i64::try_from(end).unwrap_or(i64::MAX),
        });
    }
    let record = ModeChangeRecord {
        id: uuid::Uuid::now_v7().to_string(),
        service: service.as_ref().map(|s| s.to_string()),
        mode: ghost_proxy_mode(mode),
        barrier,
        changed_at_us: ghost_model::clock::now_us(),
        actor: "api-key:admin".to_owned(),
    };
    let value = ghost_schema::encode(&record)
        .map_err(|e| ApiError::internal("encoding the mode change", &e))?;
    let key = topics::mode_scope_key(service.as_ref().map(ServiceName::as_str));
    let ack = state
        .log
        .append(
            topics::MODES,
            Record {
                key: Some(Bytes::from(key)),
                value: Some(Bytes::from(value)),
                headers: vec![Header {
                    name: "ghost-schema".to_owned(),
                    value: Bytes::from_static(b"dev.ghost.ModeChange"),
                }],
                timestamp_ms: 0,
            },
            Durability::Synced,
        )
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

fn ghost_proxy_mode(m: Mode) -> ghost_schema::ModeRecord {
    match m {
        Mode::Mock => ghost_schema::ModeRecord::Mock,
        Mode::Passthrough => ghost_schema::ModeRecord::Passthrough,
        Mode::Learn | Mode::Transitioning => ghost_schema::ModeRecord::Learn,
    }
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
