//! The admin endpoint of a worker host: liveness, readiness per component,
//! and the process's metrics.

use crate::health::{Health, HealthState};
use crate::shutdown::Shutdown;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::{Arc, Mutex};

/// The named healths `/readyz` reports.
#[derive(Debug, Clone, Default)]
pub(crate) struct Components {
    inner: Arc<Mutex<Vec<(&'static str, Health)>>>,
}

impl Components {
    pub(crate) fn add(&self, name: &'static str, health: Health) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, health));
    }

    fn states(&self) -> Vec<(&'static str, HealthState)> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, h)| (*n, h.get().0))
            .collect()
    }

    pub(crate) fn ready(&self) -> bool {
        self.states()
            .iter()
            .all(|(_, s)| *s == HealthState::Running)
    }
}

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    components: Components,
    mut shutdown: Shutdown,
) {
    let app = axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/_ghost/metrics", get(metrics))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({
                    "error": "not_found",
                    "detail": "the admin endpoint serves /healthz, /readyz and /metrics"
                })),
            )
        })
        .with_state(components);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.triggered().await })
        .await;
    if let Err(error) = served {
        tracing::warn!(%error, "admin endpoint stopped");
    }
}

fn states_json(states: &[(&'static str, HealthState)]) -> serde_json::Value {
    states
        .iter()
        .map(|(n, s)| ((*n).to_owned(), serde_json::Value::from(s.label())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn healthz(State(c): State<Components>) -> Response {
    let states = c.states();
    let failed = states.iter().any(|(_, s)| *s == HealthState::Failed);
    let status = if failed {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = serde_json::json!({
        "status": if failed { "failed" } else { "ok" },
        "components": states_json(&states),
    });
    (status, Json(body)).into_response()
}

async fn readyz(State(c): State<Components>) -> Response {
    let states = c.states();
    let ready = states.iter().all(|(_, s)| *s == HealthState::Running);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({ "ready": ready, "components": states_json(&states) });
    (status, Json(body)).into_response()
}

async fn metrics() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ghost_telemetry::metrics::render(),
    )
        .into_response()
}
