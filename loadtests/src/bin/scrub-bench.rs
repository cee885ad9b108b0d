//! `scrub-bench [--log kafka://H:P] [--captures N]`: scrubber worker throughput.
//!
//! Fills `ghost.captures.v1` with N captures whose request and response bodies
//! are realistic ~2 KB JSON documents (an order with a customer, addresses, line
//! items, a payment; about a dozen PII values among ~60 ordinary fields), then
//! runs the real scrubber worker (`ghost_scrubber::worker::run`, the code
//! `ghost worker scrub` and `ghost up` run) in this process until its consumer
//! group has committed all N. Without `--log` it uses a fresh embedded log.
//!
//! Prints one JSON line: captures, wall seconds, this process's CPU seconds during
//! the scrub phase, captures/s and captures per CPU-second (per core). With Kafka
//! the broker's own CPU is not included (it is another process).

use anyhow::{Context, bail};
use bytes::Bytes;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use ghost_log::{Durability, Record, SharedLog};
use ghost_schema::{CaptureRecord, HeaderRecord};
use ghost_topics as topics;
use ghost_worker::{Health, Shutdown};
use std::time::{Duration, Instant};

fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which may contain spaces) start at `) `.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 here, in
    // USER_HZ, which Linux fixes at 100 for everything it reports to user space.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

/// A ~2 KB order document; `i` varies every value.
fn body(i: usize) -> String {
    let items: Vec<String> = (0..6)
        .map(|k| {
            format!(
                r#"{{"sku":"SKU-{:05}-{k}","name":"Widget model {k} rev {}","qty":{},"unit_price":{}.{:02},"tax_code":"TX{:03}","warehouse":"WH-{}","backordered":{}}}"#,
                (i * 7 + k) % 99_999,
                i % 13,
                1 + (i + k) % 5,
                10 + (i * k) % 90,
                (i + k) % 100,
                (i + k) % 1000,
                k % 4,
                (i + k).is_multiple_of(2)
            )
        })
        .collect();
    format!(
        r#"{{"order_id":"ord_{i:010}","created_at":"2026-11-{:02}T10:{:02}:00Z","status":"confirmed","version":"3.14.{}","currency":"EUR","customer":{{"id":"cus_{:08}","name":"Customer {i}","email":"customer{i}@example.com","phone":"+1 415-555-{:04}","ssn":"123-45-{:04}","ip":"10.{}.{}.{}","loyalty_tier":"gold","marketing_opt_in":false}},"shipping":{{"line1":"{} Market Street","city":"San Francisco","postal_code":"94{:03}","country":"US","instructions":"Leave at the front desk, ring twice"}},"billing":{{"line1":"{} Mission Street","city":"San Francisco","postal_code":"94{:03}","country":"US"}},"items":[{}],"payment":{{"method":"card","card_number":"4111 1111 1111 1111","expiry":"12/29","cvv":"123","iban":"DE89370400440532013000","amount":{}.{:02},"authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ7aX0ifQ.c2lnbmF0dXJl"}},"notes":"Customer asked to be called back at +1 415-555-0199 or by mail at support{i}@example.org before delivery.","trace":{{"request_id":"req-{i:012}","region":"eu-west-1","attempt":1,"latency_ms":{}}}}}"#,
        1 + i % 28,
        i % 60,
        i % 50,
        i,
        i % 10_000,
        i % 10_000,
        i % 256,
        (i / 256) % 256,
        1 + i % 254,
        100 + i % 900,
        i % 1000,
        200 + i % 700,
        (i + 1) % 1000,
        items.join(","),
        20 + i % 500,
        i % 100,
        5 + i % 200,
    )
}

fn capture(i: usize) -> CaptureRecord {
    let b = body(i).into_bytes();
    CaptureRecord {
        tenant: "default".into(),
        id: format!("bench-{i:08}"),
        service: format!("svc{}", i % 4),
        session_id: "bench".into(),
        method: "POST".into(),
        uri: format!("/v1/orders/ord_{i:010}?expand=customer"),
        request_headers: vec![HeaderRecord {
            name: "content-type".into(),
            value: b"application/json".to_vec(),
        }],
        request_body: b.clone(),
        status: 201,
        response_headers: vec![HeaderRecord {
            name: "content-type".into(),
            value: b"application/json".to_vec(),
        }],
        response_body: b,
        started_at_us: 1_790_000_000_000_000,
        duration_us: 1_500,
        upstream: "http://orders.internal".into(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        upstream_http_version: String::new(),
    }
}

async fn committed(log: &SharedLog) -> anyhow::Result<u64> {
    let mut done = 0;
    let partitions = topics::CAPTURES.spec()?.partitions;
    for p in 0..partitions {
        done += log
            .committed(
                ghost_scrubber::worker::WORKER_NAME,
                topics::CAPTURES.name(),
                p,
            )
            .await?
            .unwrap_or(0);
    }
    Ok(done)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut n) = (None::<String>, 20_000usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--log" => url = Some(args.next().context("--log needs a value")?),
            "--captures" => n = args.next().context("--captures needs a value")?.parse()?,
            other => bail!(
                "unknown argument {other} (usage: scrub-bench [--log kafka://H:P] [--captures N])"
            ),
        }
    }
    let dir = tempfile::tempdir()?;
    let (log, backend): (SharedLog, &str) = match &url {
        Some(u) => {
            let Some(bootstrap) = u.strip_prefix("kafka://") else {
                bail!("--log must be kafka://HOST:PORT");
            };
            (
                KafkaLog::connect(KafkaConfig::new(bootstrap)).await?,
                "kafka",
            )
        }
        None => (
            EmbeddedLog::open(EmbeddedConfig::new(dir.path())).await?,
            "embedded",
        ),
    };
    topics::CAPTURES.ensure(&*log).await?;
    topics::SCRUBBED.ensure(&*log).await?;
    topics::CONFIG.ensure(&*log).await?;
    let mean_body = (0..100).map(|i| body(i).len()).sum::<usize>() / 100;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let records = chunk
            .iter()
            .map(|&i| {
                let c = capture(i);
                Ok(Record {
                    key: Some(Bytes::from(c.service.clone())),
                    value: Some(Bytes::from(ghost_schema::encode(&c)?)),
                    ..Record::default()
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for r in log
            .append_batch(topics::CAPTURES.name(), records, Durability::Written)
            .await
        {
            r?;
        }
    }

    let (cpu0, t0) = (cpu_seconds()?, Instant::now());
    let (trigger, shutdown) = Shutdown::new();
    let worker = tokio::spawn(ghost_scrubber::worker::run(
        log.clone(),
        shutdown,
        Health::default(),
    ));
    let deadline = Instant::now() + Duration::from_secs(600);
    while committed(&log).await? < n as u64 {
        if worker.is_finished() || Instant::now() > deadline {
            bail!(
                "the scrubber stopped or stalled at {} of {n}",
                committed(&log).await?
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds()? - cpu0);
    trigger.trigger(std::time::Duration::from_secs(30));
    let _ = worker.await;
    println!(
        "{}",
        serde_json::json!({
            "backend": backend,
            "captures": n,
            "mean_body_bytes": mean_body,
            "wall_s": wall,
            "cpu_s": cpu,
            "captures_per_s": n as f64 / wall,
            "captures_per_cpu_s": n as f64 / cpu.max(1e-9),
        })
    );
    Ok(())
}
