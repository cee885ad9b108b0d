//! `ghost worker project` killed with SIGKILL again and again while it
//! projects 100k scrubbed captures (GHOST_PROJECT_FAULT_CAPTURES overrides)
//! ends with exactly the tables an uninterrupted projection of the same log
//! gives: rows and offsets are written in one transaction.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::{Durability, Record, SharedLog};
use ghost_schema::{HeaderRecord, ModeChangeRecord, ModeRecord, ScrubbedCaptureRecord};
use ghost_test_util::postgres::{TestDb, uuid_like};
use ghost_topics as topics;
use ghost_worker::{Env, Health, Shutdown};
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

fn scrubbed(i: usize) -> ScrubbedCaptureRecord {
    ScrubbedCaptureRecord {
        tenant: "default".into(),
        upstream_http_version: String::new(),
        id: format!("cap-{i:07}"),
        service: format!("svc{}", i % 7),
        session_id: "s".into(),
        method: "GET".into(),
        uri: format!("/items/{i}"),
        request_headers: vec![HeaderRecord {
            name: "accept".into(),
            value: b"application/json".to_vec(),
        }],
        request_body: vec![],
        status: 200,
        response_headers: vec![],
        response_body: format!(r#"{{"id":{i},"owner":"[EMAIL]"}}"#).into_bytes(),
        started_at_us: 1_700_000_000_000_000 + i as i64,
        duration_us: 5,
        upstream: "http://up".into(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        // Some captures were scrubbed twice: the later seal must win either way.
        scrubbed_at_us: 1 + (i % 5) as i64,
        scrub_config_id: String::new(),
        findings: vec![],
    }
}

async fn database() -> (TestDb, String) {
    let db = TestDb::create().await;
    let role = format!("app_{}", uuid_like());
    ghost_store::migrate(&db.url, &role, Some("pw".into()))
        .await
        .unwrap();
    let app = db.url_as(&role, "pw");
    (db, app)
}

async fn tables(db: &TestDb) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (table, key) in [
        ("traffic", "tenant_id, capture_id"),
        ("services", "tenant_id, name"),
        ("modes", "tenant_id, scope"),
    ] {
        out.push(db.rows(table, key).await);
    }
    out
}

async fn projected(db: &TestDb) -> i64 {
    db.projected(topics::SCRUBBED.name()).await
}

fn worker(data: &std::path::Path, app: &str) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(["worker", "project", "--admin-addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(["--postgres", app])
        .env("GHOST_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Waits until the worker is up (its signal handlers are installed before it
/// prints its admin address), then keeps draining its stdout.
async fn ready(child: &mut tokio::process::Child) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with("ghost admin listening on") {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return;
        }
    }
    panic!("the worker exited before it was ready");
}

/// `n` scrubbed captures, a fifth of them again with a later seal, and one
/// mode change, on the embedded log at `log_dir`. Returns the scrubbed count.
async fn fill_log(log_dir: &std::path::Path, n: usize) -> i64 {
    let mut records: Vec<Record> = (0..n)
        .map(|i| topics::SCRUBBED.record(&scrubbed(i), None).unwrap())
        .collect();
    records.extend((0..n).step_by(5).map(|i| {
        let mut again = scrubbed(i);
        again.scrubbed_at_us += 10;
        again.response_body = b"rescrubbed".to_vec();
        topics::SCRUBBED.record(&again, None).unwrap()
    }));
    let total = records.len() as i64;
    let embedded = EmbeddedLog::open(EmbeddedConfig::new(log_dir))
        .await
        .unwrap();
    let log: SharedLog = embedded.clone();
    topics::SCRUBBED.ensure(&*log).await.unwrap();
    topics::MODES.ensure(&*log).await.unwrap();
    for chunk in records.chunks(2000) {
        for r in log
            .append_batch(topics::SCRUBBED.name(), chunk.to_vec(), Durability::Written)
            .await
        {
            r.unwrap();
        }
    }
    let m = ModeChangeRecord {
        tenant: "default".into(),
        id: "m1".into(),
        service: Some("svc3".into()),
        mode: ModeRecord::Mock,
        barrier: vec![],
        changed_at_us: 7,
        actor: "test".into(),
    };
    log.append(
        topics::MODES.name(),
        topics::MODES.record(&m, None).unwrap(),
        Durability::Written,
    )
    .await
    .unwrap();
    embedded.flush().await.unwrap();
    total
}

/// Projects the log at `log_dir` in-process into `db` from the first record
/// (whatever the log remembers of earlier runs) until `total` scrubbed
/// records are in.
async fn project_in_process(log_dir: &std::path::Path, db: &TestDb, app: String, total: i64) {
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(log_dir))
        .await
        .unwrap();
    for (group, topic) in [
        (ghost_projector::traffic::GROUP, topics::SCRUBBED.name()),
        (ghost_projector::modes::GROUP, topics::MODES.name()),
        (ghost_projector::library::GROUP, topics::LIBRARY.name()),
    ] {
        if let Ok(spec) = log.topic(topic).await {
            for p in 0..spec.partitions {
                log.commit(group, topic, p, 0).await.unwrap();
            }
        }
    }
    let (trigger, shutdown) = Shutdown::new();
    let run = tokio::spawn(ghost_projector::run(Env {
        log: log.clone(),
        shutdown,
        health: Health::default(),
        postgres: Some(app),
    }));
    let deadline = Instant::now() + Duration::from_secs(600);
    while projected(db).await < total {
        assert!(
            Instant::now() < deadline,
            "the in-process projection never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    trigger.trigger(Duration::from_secs(10));
    run.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projector_survives_repeated_kill_9_with_identical_tables() {
    let n: usize = std::env::var("GHOST_PROJECT_FAULT_CAPTURES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let data = tempfile::tempdir().unwrap();
    let log_dir = data.path().join("log");
    let total = fill_log(&log_dir, n).await;

    let (db, app) = database().await;
    let started = Instant::now();
    let mut kills = 0;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    while kills < 5 && projected(&db).await < total {
        let mut child = worker(data.path(), &app);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(400 + seed % 1200)).await;
        child.kill().await.unwrap();
        kills += 1;
    }
    let mut child = worker(data.path(), &app);
    ready(&mut child).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    while projected(&db).await < total {
        assert!(Instant::now() < deadline, "the projection never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    let pid = child.id().unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(child.wait().await.unwrap().success());
    eprintln!("{total} records projected through {kills} SIGKILLs in {took:?}");

    // The same log projected in one uninterrupted run.
    let (reference, ref_app) = database().await;
    project_in_process(&log_dir, &reference, ref_app, total).await;

    let (got, want) = (tables(&db).await, tables(&reference).await);
    assert_eq!(got[0].len(), n, "one row per capture");
    assert!(
        got == want,
        "tables differ from an uninterrupted projection"
    );
    let rescrubbed: i64 = db
        .owner()
        .await
        .query_one(
            "SELECT count(*) FROM traffic WHERE response_body = 'rescrubbed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rescrubbed as usize, n.div_ceil(5), "the later seal won");
}

#[tokio::test]
async fn ghost_migrate_sets_up_the_schema_and_the_role_once() {
    let db = TestDb::create().await;
    let role = format!("app_{}", uuid_like());
    let run = |extra: &[(&str, &str)]| {
        std::process::Command::new(BIN)
            .args(["migrate", "--postgres", &db.url, "--app-role", &role])
            .envs(extra.iter().copied())
            .output()
            .unwrap()
    };
    let first = run(&[]);
    let out = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains("schema at version 1 (applied 1)"), "{out}");
    assert!(out.contains("generated and is shown once"), "{out}");
    let url = out
        .lines()
        .find_map(|l| l.strip_prefix("services connect with --postgres "))
        .unwrap()
        .to_owned();
    // The printed URL works for the application role, and passes the version check.
    ghost_store::connect(&url, 1).await.unwrap();
    let again = run(&[("GHOST_PG_APP_PASSWORD", "chosen-password")]);
    let out = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(out.contains("schema already at version 1"), "{out}");
    assert!(
        out.contains("$GHOST_PG_APP_PASSWORD"),
        "the chosen password is not printed: {out}"
    );
    ghost_store::connect(&db.url_as(&role, "chosen-password"), 1)
        .await
        .unwrap();

    // Workers that need Postgres say so.
    let data = tempfile::tempdir().unwrap();
    let refused = std::process::Command::new(BIN)
        .args(["worker", "project", "--data"])
        .arg(data.path())
        .env_remove("GHOST_POSTGRES")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("worker project needs --postgres URL"), "{err}");
    // A database that was never migrated is refused with what to do.
    let fresh = TestDb::create().await;
    let behind = std::process::Command::new(BIN)
        .args(["worker", "project", "--data"])
        .arg(data.path())
        .args(["--postgres", &fresh.url])
        .output()
        .unwrap();
    assert!(!behind.status.success());
    let err = String::from_utf8_lossy(&behind.stderr);
    assert!(
        err.contains("run `ghost migrate --postgres URL` first"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_equals_the_incremental_projection() {
    let data = tempfile::tempdir().unwrap();
    let log_dir = data.path().join("log");
    let total = fill_log(&log_dir, 20_000).await;
    let (db, app) = database().await;
    project_in_process(&log_dir, &db, app, total).await;
    let incremental = tables(&db).await;
    assert_eq!(incremental[0].len(), 20_000);
    let out = std::process::Command::new(BIN)
        .args(["rebuild", "--postgres", &db.url, "--data"])
        .arg(data.path())
        .env("GHOST_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("rebuilt the projection from 24001 records"),
        "{stdout}"
    );
    assert!(
        stderr.contains("rebuild [") && stderr.contains("(100%)"),
        "{stderr}"
    );
    eprintln!("{stdout}");
    assert!(
        tables(&db).await == incremental,
        "the rebuild differs from the incremental projection"
    );
}
