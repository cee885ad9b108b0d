//! Recall and precision on real-world formats: a deterministic Faker corpus of
//! 38 locales (`scripts/pii-corpus.sh`, generated at test time into the target
//! directory), scored per category by exact byte range, plus false positives in
//! 1,400 look-alike texts. Issue 13 raises every category to recall ≥ 0.95; the
//! floors below are a ratchet at today's figures, so a change that loses recall
//! or adds false positives fails here. `--nocapture` prints the table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_scrub::{Category, Detector};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The corpus lines, generated once per target directory.
fn corpus() -> Vec<Value> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    let out = target.join("pii-corpus.jsonl");
    let status = std::process::Command::new(root().join("scripts/pii-corpus.sh"))
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run scripts/pii-corpus.sh");
    assert!(status.success(), "scripts/pii-corpus.sh failed");
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The corpus category a detector category counts for.
fn corpus_category(c: Category) -> &'static str {
    match c {
        Category::PhoneUs | Category::PhoneE164 => "phone",
        Category::Ipv4 => "ip",
        Category::Card => "card",
        Category::Iban => "iban",
        Category::Email => "email",
        Category::Ssn => "ssn",
        _ => "other",
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Score {
    planted: usize,
    tp: usize,
    fp: usize,
}

#[test]
fn real_world_recall_and_precision_do_not_regress() {
    let detector = Detector::new().unwrap();
    let mut scores: BTreeMap<&str, Score> = BTreeMap::new();
    let mut negatives = 0;
    let mut negative_fp = 0;
    for entry in corpus() {
        let text = entry["text"].as_str().unwrap();
        let spans: Vec<(usize, usize, String)> = entry["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["start"].as_u64().unwrap() as usize,
                    s["end"].as_u64().unwrap() as usize,
                    s["category"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let found = detector.find(text);
        if entry["kind"] == "negative" {
            negatives += 1;
            negative_fp += usize::from(!found.is_empty());
        }
        let mut matched = vec![false; found.len()];
        for (start, end, category) in &spans {
            let score = scores.entry(leak(category)).or_default();
            score.planted += 1;
            let hit = found
                .iter()
                .position(|f| f.range == (*start..*end) && corpus_category(f.category) == category);
            if let Some(i) = hit {
                score.tp += 1;
                matched[i] = true;
            }
        }
        for (f, m) in found.iter().zip(matched) {
            if !m {
                scores.entry(corpus_category(f.category)).or_default().fp += 1;
            }
        }
    }
    println!("| category | planted | found exactly | recall | false positives | precision |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, s) in &scores {
        let recall = s.tp as f64 / s.planted.max(1) as f64;
        let precision = s.tp as f64 / (s.tp + s.fp).max(1) as f64;
        println!(
            "| {name} | {} | {} | {recall:.3} | {} | {precision:.3} |",
            s.planted, s.tp, s.fp
        );
    }
    println!("look-alike texts with any finding: {negative_fp} of {negatives}");

    // The ratchet: today's figures (see docs/scrubber-quality.md).
    let floors = [
        ("card", RECALL_CARD),
        ("email", RECALL_EMAIL),
        ("iban", RECALL_IBAN),
        ("ip", RECALL_IP),
        ("phone", RECALL_PHONE),
        ("ssn", RECALL_SSN),
    ];
    for (name, floor) in floors {
        let s = scores[name];
        let recall = s.tp as f64 / s.planted as f64;
        assert!(
            recall >= floor,
            "{name}: recall {recall:.3} fell below {floor}"
        );
    }
    assert_eq!(
        negative_fp, 0,
        "look-alike texts now get a finding (none did)"
    );
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

// Measured 2026-12-02 (Faker 40.63.0 corpus): card 309/534, email 567/568,
// iban 468/504 (either case since), ip 233/527 (no IPv6 yet), phone 283/795, ssn 420/420; no
// look-alike text got a finding. Raise these as issue 13 lands.
const RECALL_CARD: f64 = 0.578;
const RECALL_EMAIL: f64 = 0.998;
const RECALL_IBAN: f64 = 0.928;
const RECALL_IP: f64 = 0.442;
const RECALL_PHONE: f64 = 0.355;
const RECALL_SSN: f64 = 1.0;
