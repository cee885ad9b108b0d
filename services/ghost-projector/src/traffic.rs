//! `ghost.scrubbed.v1` → `traffic` and `services`. Only sealed records are
//! written (the table's CHECK would refuse the others anyway); a capture id
//! seen again keeps its newest seal.

use crate::sink::{Rows, headers_json, project};
use async_trait::async_trait;
use ghost_schema::ScrubbedCaptureRecord;
use ghost_schema::seal::{is_sealed, supersedes};
use ghost_store::Pool;
use ghost_topics::{self as topics, Topic};
use ghost_worker::{Handled, Input, Transient, Worker};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tokio_postgres::Transaction;

/// The consumer group of the traffic projector.
pub const GROUP: &str = "projector-traffic";

/// Projects scrubbed traffic.
#[derive(Debug)]
pub struct TrafficProjector {
    pool: Pool,
    group: &'static str,
}

impl TrafficProjector {
    pub fn new(pool: Pool) -> Self {
        Self::in_group(pool, GROUP)
    }

    /// A projector consuming as `group` (a rebuild reads from the start
    /// under a group of its own).
    pub fn in_group(pool: Pool, group: &'static str) -> Self {
        Self { pool, group }
    }
}

#[async_trait]
impl Worker for TrafficProjector {
    type Input = ScrubbedCaptureRecord;

    fn name(&self) -> &'static str {
        self.group
    }

    fn input(&self) -> Topic<ScrubbedCaptureRecord> {
        topics::SCRUBBED
    }

    async fn handle_batch(
        &self,
        batch: &[Input<ScrubbedCaptureRecord>],
    ) -> Result<Handled, Transient> {
        project(&self.pool, topics::SCRUBBED.name(), &TrafficRows, batch).await
    }
}

struct TrafficRows;

const INSERT_TRAFFIC: &str = "\
INSERT INTO traffic (tenant_id, capture_id, service, session_id, method, uri, status, \
    request_headers, request_body, response_headers, response_body, started_at_us, duration_us, \
    upstream, http_version, body_truncated, scrubbed_at_us, scrub_config_id, findings) \
SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
    $7::int4[], $8::jsonb[], $9::bytea[], $10::jsonb[], $11::bytea[], $12::int8[], $13::int8[], \
    $14::text[], $15::text[], $16::bool[], $17::int8[], $18::text[], $19::jsonb[]) \
ON CONFLICT (tenant_id, capture_id) DO UPDATE SET \
    service = EXCLUDED.service, session_id = EXCLUDED.session_id, method = EXCLUDED.method, \
    uri = EXCLUDED.uri, status = EXCLUDED.status, request_headers = EXCLUDED.request_headers, \
    request_body = EXCLUDED.request_body, response_headers = EXCLUDED.response_headers, \
    response_body = EXCLUDED.response_body, started_at_us = EXCLUDED.started_at_us, \
    duration_us = EXCLUDED.duration_us, upstream = EXCLUDED.upstream, \
    http_version = EXCLUDED.http_version, body_truncated = EXCLUDED.body_truncated, \
    scrubbed_at_us = EXCLUDED.scrubbed_at_us, scrub_config_id = EXCLUDED.scrub_config_id, \
    findings = EXCLUDED.findings \
WHERE traffic.scrubbed_at_us < EXCLUDED.scrubbed_at_us";

const UPSERT_SERVICES: &str = "\
INSERT INTO services (tenant_id, name, upstream, first_seen_us, last_seen_us) \
SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[]) \
ON CONFLICT (tenant_id, name) DO UPDATE SET \
    upstream = CASE WHEN EXCLUDED.last_seen_us >= services.last_seen_us \
        THEN EXCLUDED.upstream ELSE services.upstream END, \
    first_seen_us = LEAST(services.first_seen_us, EXCLUDED.first_seen_us), \
    last_seen_us = GREATEST(services.last_seen_us, EXCLUDED.last_seen_us)";

#[async_trait]
impl Rows for TrafficRows {
    type Record = ScrubbedCaptureRecord;

    fn refuse(&self, r: &ScrubbedCaptureRecord) -> Option<String> {
        (!is_sealed(r)).then(|| {
            format!(
                "scrubbed capture {} has no seal (scrubbed_at_us = {}): never stored",
                r.id, r.scrubbed_at_us
            )
        })
    }

    async fn write(
        &self,
        tx: &Transaction<'_>,
        inputs: &[&Input<ScrubbedCaptureRecord>],
    ) -> Result<(), tokio_postgres::Error> {
        // One row per (tenant, capture id) (an upsert cannot touch a row
        // twice): the newest seal.
        let mut by_id: BTreeMap<(&str, &str), &ScrubbedCaptureRecord> = BTreeMap::new();
        for i in inputs {
            let r = &i.value;
            let key = (r.tenant.as_str(), r.id.as_str());
            match by_id.get(&key) {
                Some(existing) if !supersedes(r, existing) => {}
                _ => {
                    by_id.insert(key, r);
                }
            }
        }
        let mut by_tenant: BTreeMap<&str, Vec<&ScrubbedCaptureRecord>> = BTreeMap::new();
        for ((tenant, _), r) in by_id {
            by_tenant.entry(tenant).or_default().push(r);
        }
        // Each tenant's rows under that tenant's scope: the policies check them.
        for (tenant, rows) in by_tenant {
            ghost_store::tenant::scope(tx, tenant).await?;
            write_tenant(tx, tenant, &rows).await?;
        }
        Ok(())
    }
}

/// Writes one tenant's traffic rows and the services they show.
async fn write_tenant(
    tx: &Transaction<'_>,
    tenant: &str,
    rows: &[&ScrubbedCaptureRecord],
) -> Result<(), tokio_postgres::Error> {
    let tenants: Vec<&str> = rows.iter().map(|_| tenant).collect();
    let id: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let service: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
    let session: Vec<&str> = rows.iter().map(|r| r.session_id.as_str()).collect();
    let method: Vec<&str> = rows.iter().map(|r| r.method.as_str()).collect();
    let uri: Vec<&str> = rows.iter().map(|r| r.uri.as_str()).collect();
    let status: Vec<i32> = rows.iter().map(|r| r.status).collect();
    let req_h: Vec<Value> = rows
        .iter()
        .map(|r| headers_json(&r.request_headers))
        .collect();
    let req_b: Vec<&[u8]> = rows.iter().map(|r| r.request_body.as_slice()).collect();
    let resp_h: Vec<Value> = rows
        .iter()
        .map(|r| headers_json(&r.response_headers))
        .collect();
    let resp_b: Vec<&[u8]> = rows.iter().map(|r| r.response_body.as_slice()).collect();
    let started: Vec<i64> = rows.iter().map(|r| r.started_at_us).collect();
    let duration: Vec<i64> = rows.iter().map(|r| r.duration_us).collect();
    let upstream: Vec<&str> = rows.iter().map(|r| r.upstream.as_str()).collect();
    let version: Vec<&str> = rows.iter().map(|r| r.http_version.as_str()).collect();
    let truncated: Vec<bool> = rows.iter().map(|r| r.body_truncated).collect();
    let sealed: Vec<i64> = rows.iter().map(|r| r.scrubbed_at_us).collect();
    let config: Vec<&str> = rows.iter().map(|r| r.scrub_config_id.as_str()).collect();
    let findings: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Array(
                r.findings
                    .iter()
                    .map(|f| json!({ "category": f.category, "count": f.count }))
                    .collect(),
            )
        })
        .collect();
    tx.execute(
        INSERT_TRAFFIC,
        &[
            &tenants, &id, &service, &session, &method, &uri, &status, &req_h, &req_b, &resp_h,
            &resp_b, &started, &duration, &upstream, &version, &truncated, &sealed, &config,
            &findings,
        ],
    )
    .await?;

    // Services seen, aggregated first (one row per service per statement).
    let mut services: BTreeMap<&str, (&str, i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = services.entry(r.service.as_str()).or_insert((
            r.upstream.as_str(),
            r.started_at_us,
            r.started_at_us,
        ));
        if r.started_at_us >= e.2 {
            e.0 = r.upstream.as_str();
        }
        e.1 = e.1.min(r.started_at_us);
        e.2 = e.2.max(r.started_at_us);
    }
    let tenants: Vec<&str> = services.keys().map(|_| tenant).collect();
    let name: Vec<&str> = services.keys().copied().collect();
    let upstream: Vec<&str> = services.values().map(|v| v.0).collect();
    let first: Vec<i64> = services.values().map(|v| v.1).collect();
    let last: Vec<i64> = services.values().map(|v| v.2).collect();
    tx.execute(
        UPSERT_SERVICES,
        &[&tenants, &name, &upstream, &first, &last],
    )
    .await?;
    Ok(())
}
