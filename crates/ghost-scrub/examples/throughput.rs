//! Single-thread throughput of `scrub_body` on ~2 KB JSON bodies from the labelled
//! corpus (every body carries PII, so this is the slow path: parse, scrub,
//! re-serialise), plus the same bodies with PII stripped (the common fast path).
//!
//! `cargo run --release -p ghost-scrub --example throughput`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use ghost_scrub::{ScrubConfig, Scrubber};
use serde_json::{Map, Value};

fn bodies(docs: &[Value], target: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut obj = Map::new();
    for (i, d) in docs.iter().enumerate() {
        obj.insert(format!("part_{i}"), d.clone());
        let bytes = serde_json::to_vec(&obj).unwrap();
        if bytes.len() >= target {
            out.push(bytes);
            obj = Map::new();
        }
    }
    out
}

fn measure(name: &str, s: &Scrubber, bodies: &[Vec<u8>], rounds: usize) {
    let bytes: usize = bodies.iter().map(Vec::len).sum::<usize>() * rounds;
    let start = Instant::now();
    let mut changed = 0usize;
    for _ in 0..rounds {
        for b in bodies {
            changed += usize::from(s.scrub_body(b, Some("application/json")).is_some());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = bodies.len() * rounds;
    println!(
        "{name}: {n} bodies, mean {:.0} B, {:.0} bodies/s, {:.1} MB/s, {:.1} µs/body, {changed} changed",
        bytes as f64 / n as f64,
        n as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs * 1e6 / n as f64
    );
}

fn main() {
    let s = Scrubber::new(ScrubConfig::default()).unwrap();
    let nodes = support::corpus::generate(42, 6000);
    let with_pii: Vec<Value> = nodes.iter().map(support::corpus::to_value).collect();
    let mut clean = with_pii.clone();
    for v in &mut clean {
        s.scrub_json(v);
    }
    let pii_bodies = bodies(&with_pii, 2048);
    let clean_bodies = bodies(&clean, 2048);
    // Warm up caches and the regex lazy DFAs.
    measure("warm-up", &s, &pii_bodies[..50], 1);
    measure("2 KB bodies with PII", &s, &pii_bodies, 5);
    measure("2 KB bodies already clean", &s, &clean_bodies, 5);
}
