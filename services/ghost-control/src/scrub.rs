//! Scrub configuration API: rule sets are validated by the engine itself, then
//! saved as records on `ghost.config.v1` (every scrubber instance follows that
//! topic); `POST /v1/scrub/test` previews a rule set on a sample.

use crate::error::ApiError;
use crate::routes::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ghost_log::{Durability, LogError};
use ghost_model::{Redactor, ServiceName};
use ghost_schema::{ScrubConfigRecord, ScrubRuleRecord};
use ghost_scrub::{ScrubConfig, ScrubRule, Scrubber};
use ghost_topics as topics;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A rule set as users send it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScrubConfigBody {
    /// The service it applies to; absent = defaults for every service.
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default = "enabled")]
    pub enabled: bool,
    #[serde(default)]
    pub rules: Vec<ScrubRule>,
    #[serde(default)]
    pub extra_headers: Vec<String>,
    #[serde(default)]
    pub extra_keys: Vec<String>,
}

fn enabled() -> bool {
    true
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes, shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("expected {shape}: {e}")))
}

/// Compiles the rule set exactly as the scrubber will; every refusal is a 400.
fn compile(c: &ScrubConfigBody) -> Result<Scrubber, ApiError> {
    Redactor::with_extra(&c.extra_headers)
        .map_err(|e| ApiError::bad_request("bad_header", e.to_string()))?;
    Scrubber::new(ScrubConfig {
        rules: c.rules.clone(),
        extra_keys: c.extra_keys.clone(),
        enabled: c.enabled,
    })
    .map_err(|e| ApiError::bad_request("bad_rule", e.to_string()))
}

fn check_service(state: &AppState, service: Option<&str>) -> Result<(), ApiError> {
    let Some(name) = service else { return Ok(()) };
    let name =
        ServiceName::new(name).map_err(|e| ApiError::bad_request("bad_service", e.to_string()))?;
    if !state.view.has_service(&name) {
        return Err(ApiError::not_found(
            "unknown_service",
            format!("no service named `{name}`; GET /v1/services lists them"),
        ));
    }
    Ok(())
}

/// `PUT /v1/scrub/config`
pub async fn put_config(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let c: ScrubConfigBody = parse(
        &body,
        "a scrub config {service?, enabled?, rules?, extra_headers?, extra_keys?}",
    )?;
    check_service(&state, c.service.as_deref())?;
    compile(&c)?;
    let record = ScrubConfigRecord {
        id: uuid::Uuid::now_v7().to_string(),
        service: c.service.clone(),
        enabled: c.enabled,
        rules: c
            .rules
            .iter()
            .map(|r| ScrubRuleRecord {
                path: r.path.clone(),
                replacement_json: r.replacement.to_string(),
            })
            .collect(),
        extra_headers: c.extra_headers.clone(),
        extra_keys: c.extra_keys.clone(),
        changed_at_us: ghost_model::clock::now_us(),
        actor: "api-key:admin".to_owned(),
    };
    let appended = topics::CONFIG
        .record(&record, None)
        .map_err(|e| ApiError::internal("encoding the scrub config", &e))?;
    topics::CONFIG
        .ensure(&*state.log)
        .await
        .map_err(|e| ApiError::internal("creating the config topic", &e))?;
    let ack = state
        .log
        .append(topics::CONFIG.name(), appended, Durability::Synced)
        .await
        .map_err(|e| ApiError::internal("saving the scrub config", &e))?;
    Ok(
        Json(serde_json::json!({ "id": record.id, "service": c.service, "offset": ack.offset }))
            .into_response(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigQuery {
    service: Option<String>,
}

/// `GET /v1/scrub/config[?service=S]`: the newest saved rule set of that scope.
pub async fn get_config(
    State(state): State<AppState>,
    q: Result<Query<ConfigQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    check_service(&state, q.service.as_deref())?;
    let key = topics::scrub_scope_key(q.service.as_deref());
    let mut newest: Option<ScrubConfigRecord> = None;
    let mut from = 0;
    loop {
        let batch = match state
            .log
            .read(topics::CONFIG.name(), 0, from, 1024, None)
            .await
        {
            Ok(b) => b,
            Err(LogError::UnknownTopic(_)) => break,
            Err(e) => return Err(ApiError::internal("reading scrub configs", &e)),
        };
        let Some(last) = batch.last() else { break };
        from = last.offset + 1;
        let decoded = batch
            .iter()
            .filter(|r| r.key.as_deref() == Some(key.as_bytes()))
            .filter_map(|r| topics::CONFIG.decode(r).ok());
        if let Some(rec) = decoded.last() {
            newest = Some(rec);
        }
    }
    let Some(rec) = newest else {
        return Err(ApiError::not_found(
            "no_scrub_config",
            "no rule set saved for this scope: the built-in detectors and key list apply",
        ));
    };
    let rules: Vec<serde_json::Value> = rec
        .rules
        .iter()
        .map(|r| {
            let replacement: serde_json::Value =
                serde_json::from_str(&r.replacement_json).unwrap_or(serde_json::Value::Null);
            serde_json::json!({ "path": r.path, "replacement": replacement })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "id": rec.id,
        "service": rec.service,
        "enabled": rec.enabled,
        "rules": rules,
        "extra_headers": rec.extra_headers,
        "extra_keys": rec.extra_keys,
        "changed_at_us": rec.changed_at_us,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    /// JSON value (scrubbed as JSON) or a string (scrubbed as text).
    #[serde(default)]
    body: Option<serde_json::Value>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    #[serde(default)]
    config: Option<ScrubConfigBody>,
    sample: Sample,
}

/// `POST /v1/scrub/test`: what a rule set would do to a sample; saves nothing.
pub async fn test_config(body: Bytes) -> Result<Response, ApiError> {
    let t: TestBody = parse(&body, "{config?: {...}, sample: {body?, url?, headers?}}")?;
    let config = t.config.unwrap_or(ScrubConfigBody {
        service: None,
        enabled: true,
        rules: Vec::new(),
        extra_headers: Vec::new(),
        extra_keys: Vec::new(),
    });
    let scrubber = compile(&config)?;
    let mut findings: BTreeMap<String, usize> = BTreeMap::new();
    let body = match t.sample.body {
        Some(serde_json::Value::String(text)) => {
            let (out, report) = scrubber.scrub_body_report(text.as_bytes(), Some("text/plain"));
            for (c, n) in report.categories() {
                *findings.entry(c.name().to_owned()).or_default() += n;
            }
            Some(serde_json::Value::String(
                out.map_or(text, |b| String::from_utf8_lossy(&b).into_owned()),
            ))
        }
        Some(mut json) => {
            let report = scrubber.scrub_json(&mut json);
            for (c, n) in report.categories() {
                *findings.entry(c.name().to_owned()).or_default() += n;
            }
            Some(json)
        }
        None => None,
    };
    let url = t.sample.url.map(|u| scrubber.scrub_url(&u).into_owned());
    let headers: BTreeMap<String, String> = t
        .sample
        .headers
        .iter()
        .map(|(k, v)| {
            let redacted = config
                .extra_headers
                .iter()
                .any(|x| x.eq_ignore_ascii_case(k))
                || ghost_model::REDACTION_FLOOR
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(k));
            let value = if redacted {
                ghost_model::REDACTED.to_owned()
            } else {
                scrubber.scrub_header_value(k, v).into_owned()
            };
            (k.clone(), value)
        })
        .collect();
    findings.retain(|_, n| *n > 0);
    Ok(Json(
        serde_json::json!({ "body": body, "url": url, "headers": headers, "findings": findings }),
    )
    .into_response())
}
