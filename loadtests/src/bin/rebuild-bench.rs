//! `ghost rebuild` throughput: N scrubbed captures (default 1,000,000) on the
//! embedded log, projected into an empty, migrated Postgres database by the
//! real rebuild (`ghost_projector::rebuild`, as `ghost rebuild` runs it).
//!
//! Baseline, measured in the same run: reading and decoding the same records
//! from the same log with nothing written (the log side's floor), so the
//! report shows how much of the rebuild is Postgres.
//!
//! Usage: rebuild-bench [N]   (Postgres: $GHOST_BENCH_POSTGRES, an admin URL,
//! else the test cluster of scripts/postgres.sh, started if needed)

use anyhow::Context;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::{Durability, Record, SharedLog};
use ghost_schema::{HeaderRecord, ScrubbedCaptureRecord};
use ghost_topics as topics;
use std::time::Instant;
use tokio_postgres::NoTls;

fn scrubbed(i: usize) -> ScrubbedCaptureRecord {
    ScrubbedCaptureRecord {
        tenant: "default".into(),
        upstream_http_version: String::new(),
        id: format!("cap-{i:08}"),
        service: format!("svc{}", i % 11),
        session_id: "s1".into(),
        method: "POST".into(),
        uri: format!("/v1/orders/{i}?customer=[EMAIL]"),
        request_headers: vec![
            HeaderRecord {
                name: "content-type".into(),
                value: b"application/json".to_vec(),
            },
            HeaderRecord {
                name: "authorization".into(),
                value: b"[REDACTED]".to_vec(),
            },
        ],
        request_body: format!(
            r#"{{"order":{i},"email":"[EMAIL]","items":[{{"sku":"A-1","qty":2}}]}}"#
        )
        .into_bytes(),
        status: 201,
        response_headers: vec![HeaderRecord {
            name: "content-type".into(),
            value: b"application/json".to_vec(),
        }],
        response_body: format!(r#"{{"id":"ord_{i:08}","status":"created","total":42.5}}"#)
            .into_bytes(),
        started_at_us: 1_700_000_000_000_000 + i as i64,
        duration_us: 1200,
        upstream: "https://api.example.com".into(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        scrubbed_at_us: 1_700_000_000_000_100,
        scrub_config_id: String::new(),
        findings: vec![],
    }
}

async fn admin_url() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var("GHOST_BENCH_POSTGRES") {
        return Ok(url);
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(root.join("scripts/postgres.sh"))
        .arg("start")
        .output()
        .context("scripts/postgres.sh start")?;
    anyhow::ensure!(out.status.success(), "scripts/postgres.sh start failed");
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let embedded = EmbeddedLog::open(EmbeddedConfig::new(dir.path())).await?;
    let log: SharedLog = embedded.clone();
    topics::SCRUBBED.ensure(&*log).await?;
    let t = Instant::now();
    let mut batch: Vec<Record> = Vec::with_capacity(5000);
    for i in 0..n {
        batch.push(topics::SCRUBBED.record(&scrubbed(i), None)?);
        if batch.len() == 5000 || i + 1 == n {
            for r in log
                .append_batch(
                    topics::SCRUBBED.name(),
                    std::mem::take(&mut batch),
                    Durability::Written,
                )
                .await
            {
                r?;
            }
        }
    }
    embedded.flush().await?;
    eprintln!(
        "filled the log with {n} scrubbed captures in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Baseline: read and decode everything, write nothing.
    let t = Instant::now();
    let mut decoded = 0usize;
    for p in 0..topics::SCRUBBED.spec()?.partitions {
        let end = log.end_offset(topics::SCRUBBED.name(), p).await?;
        let mut from = 0;
        while from < end {
            let got = log
                .read(topics::SCRUBBED.name(), p, from, 2048, None)
                .await?;
            let Some(last) = got.last() else { break };
            from = last.offset + 1;
            for r in &got {
                topics::SCRUBBED.decode(r)?;
                decoded += 1;
            }
        }
    }
    let floor = t.elapsed().as_secs_f64();
    anyhow::ensure!(decoded == n, "decoded {decoded} of {n}");

    // The rebuild into a fresh, migrated database.
    let admin = admin_url().await?;
    let (client, conn) = tokio_postgres::connect(&admin, NoTls).await?;
    tokio::spawn(conn);
    let db = format!("rebuild_bench_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .await?;
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await?;
    let (base, _) = admin.rsplit_once('/').context("admin URL has a database")?;
    let owner_url = format!("{base}/{db}");
    ghost_store::migrate(&owner_url, "ghost_bench_app", Some("bench".into())).await?;
    let pool = ghost_store::connect(&owner_url, 6).await?;
    let mut progress = |_: u64, _: u64| {};
    let rebuilt = ghost_projector::rebuild::rebuild(log.clone(), &pool, &mut progress).await?;
    let secs = rebuilt.took.as_secs_f64();
    let rows: i64 = pool
        .get()
        .await?
        .query_one("SELECT count(*) FROM traffic", &[])
        .await?
        .get(0);
    anyhow::ensure!(rows as usize == n, "rebuilt {rows} rows of {n}");
    drop(pool);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await?;

    println!("records {n}");
    println!("rebuild_seconds {secs:.2}");
    println!("rebuild_records_per_s {:.0}", n as f64 / secs);
    println!("baseline_read_decode_seconds {floor:.2}");
    println!("rebuild_over_baseline {:.1}", secs / floor);
    Ok(())
}
