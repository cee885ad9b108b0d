//! Measured quality: per-category precision and recall on the generated corpus.
//!
//! A true positive is a planted value found with exactly its byte range and a
//! category with the same placeholder; anything else the detector reports is a
//! false positive, charged to the category it claimed. Run with `--nocapture` to
//! see the table that docs/scrubber-quality.md records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;

use ghost_scrub::pii::Skip;
use ghost_scrub::{Category, ScrubConfig, Scrubber};
use serde_json::Value;
use support::corpus::{self, Leaf};

const SEED: u64 = 0x5eed_9057;
const DOCS: usize = 3400;

#[derive(Default, Clone, Copy)]
struct Score {
    tp: usize,
    fn_: usize,
    fp: usize,
}

impl Score {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

struct Results {
    scores: [Score; Category::COUNT],
    looks: BTreeMap<&'static str, (usize, usize)>,
    docs_exact: usize,
    samples: Vec<String>,
}

fn score_leaf(s: &Scrubber, leaf: &Leaf, r: &mut Results) {
    let skip = if ghost_scrub::keys::is_version_key(&leaf.key) {
        Skip::NONE.with(Category::Ipv4)
    } else {
        Skip::NONE
    };
    let found = s.detector().find_skipping(&leaf.text, skip);
    for (range, cat) in &leaf.pii {
        let hit = found
            .iter()
            .any(|f| f.range == *range && f.category.placeholder() == cat.placeholder());
        if hit {
            r.scores[cat.index()].tp += 1;
        } else {
            r.scores[cat.index()].fn_ += 1;
            if r.samples.len() < 40 {
                r.samples.push(format!(
                    "FN {cat}: {:?} in {:?} -> {:?}",
                    &leaf.text[range.clone()],
                    leaf.text,
                    found
                ));
            }
        }
    }
    for f in &found {
        let labelled = leaf
            .pii
            .iter()
            .any(|(range, cat)| f.range == *range && f.category.placeholder() == cat.placeholder());
        if !labelled {
            r.scores[f.category.index()].fp += 1;
            if r.samples.len() < 40 {
                r.samples.push(format!(
                    "FP {}: {:?} in {:?}",
                    f.category,
                    &leaf.text[f.range.clone()],
                    leaf.text
                ));
            }
        }
    }
    for (range, kind) in &leaf.looks {
        let e = r.looks.entry(kind).or_default();
        e.0 += 1;
        if found
            .iter()
            .any(|f| f.range.start < range.end && range.start < f.range.end)
        {
            e.1 += 1;
        }
    }
}

fn run() -> Results {
    let s = Scrubber::new(ScrubConfig::default()).unwrap();
    let docs = corpus::generate(SEED, DOCS);
    let mut r = Results {
        scores: [Score::default(); Category::COUNT],
        looks: BTreeMap::new(),
        docs_exact: 0,
        samples: Vec::new(),
    };
    for doc in &docs {
        let mut v = corpus::to_value(doc);
        s.scrub_json(&mut v);
        if v == corpus::expected(doc) {
            r.docs_exact += 1;
        }
        let (mut leaves, mut nums) = (Vec::new(), Vec::new());
        corpus::leaves(doc, "", &mut leaves, &mut nums);
        for leaf in &leaves {
            score_leaf(&s, leaf, &mut r);
        }
        for (n, label, look) in nums {
            let mut v = Value::from(n);
            s.scrub_json(&mut v);
            let changed = v.as_u64() != Some(n);
            match (label, look) {
                (Some(c), _) if changed && v.as_str() == Some(c.placeholder()) => {
                    r.scores[c.index()].tp += 1
                }
                (Some(c), _) => r.scores[c.index()].fn_ += 1,
                (None, Some(kind)) => {
                    let e = r.looks.entry(kind).or_default();
                    e.0 += 1;
                    e.1 += usize::from(changed);
                }
                (None, None) => {}
            }
            if label.is_none() && changed {
                r.scores[Category::Card.index()].fp += 1;
            }
        }
    }
    r
}

#[test]
fn corpus_precision_and_recall_meet_the_bars() {
    let r = run();
    println!("| category | planted | TP | FN | FP | precision | recall | recall bar |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut failures = Vec::new();
    for c in Category::ALL {
        let sc = r.scores[c.index()];
        let bar = if c.is_checksummed() { 0.99 } else { 0.95 };
        println!(
            "| {c} | {} | {} | {} | {} | {:.4} | {:.4} | {bar} |",
            sc.tp + sc.fn_,
            sc.tp,
            sc.fn_,
            sc.fp,
            sc.precision(),
            sc.recall()
        );
        if sc.tp + sc.fn_ < 150 {
            failures.push(format!("{c}: only {} planted values", sc.tp + sc.fn_));
        }
        if sc.recall() < bar {
            failures.push(format!("{c}: recall {:.4} < {bar}", sc.recall()));
        }
        if sc.precision() < 0.95 {
            failures.push(format!("{c}: precision {:.4} < 0.95", sc.precision()));
        }
    }
    let total: (usize, usize) = r.looks.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("\n| look-alike kind | planted | changed |\n|---|---:|---:|");
    for (k, (n, bad)) in &r.looks {
        println!("| {k} | {n} | {bad} |");
    }
    println!("| **all** | {} | {} |", total.0, total.1);
    println!(
        "\ndocuments: {DOCS}; scrubbed exactly as expected end to end: {}",
        r.docs_exact
    );
    for s in &r.samples {
        println!("{s}");
    }
    assert!(total.0 >= 1000, "only {} look-alikes", total.0);
    if total.1 * 100 > total.0 {
        failures.push(format!(
            "{} of {} look-alikes changed (> 1%)",
            total.1, total.0
        ));
    }
    assert!(
        failures.is_empty(),
        "quality bars missed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn corpus_is_deterministic() {
    let a = corpus::generate(SEED, 50)
        .iter()
        .map(corpus::to_value)
        .collect::<Vec<_>>();
    let b = corpus::generate(SEED, 50)
        .iter()
        .map(corpus::to_value)
        .collect::<Vec<_>>();
    assert_eq!(a, b);
}
