//! `GET /v1/proxy` and `/v1/runs`: what `ghost record/replay --control-url`
//! needs from a running ghost. A run is a window over the requests the proxy
//! answers; the CLI opens one, runs its command, and closes it to report.

use crate::error::ApiError;
use crate::routes::AppState;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub(crate) async fn proxy(State(state): State<AppState>) -> Json<crate::ProxyInfo> {
    Json(state.view.proxy())
}

pub(crate) async fn open(State(state): State<AppState>) -> Result<Response, ApiError> {
    let id = state.view.open_run().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "runs_unavailable",
            "this control plane does not run next to the proxy, so it cannot see its requests",
        )
    })?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
}

fn id(p: Result<Path<u64>, PathRejection>) -> Result<u64, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("bad_run_id", "a run id is a positive integer"))
}

fn report(state: &AppState, id: u64, close: bool) -> Result<Response, ApiError> {
    state
        .view
        .run(id, close)
        .map(|r| Json(r).into_response())
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_run",
                format!("no open run {id} (closed, or evicted by newer runs)"),
            )
        })
}

pub(crate) async fn read(
    State(state): State<AppState>,
    p: Result<Path<u64>, PathRejection>,
) -> Result<Response, ApiError> {
    report(&state, id(p)?, false)
}

pub(crate) async fn close(
    State(state): State<AppState>,
    p: Result<Path<u64>, PathRejection>,
) -> Result<Response, ApiError> {
    report(&state, id(p)?, true)
}
