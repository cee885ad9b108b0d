//! Per-request metrics (`ghost_requests_total{match_type}` and the
//! `ghost_request_duration_seconds` histogram), sharded by thread.
//!
//! Every request updates these, on every request thread at once. Through the
//! `metrics` recorder each update was an atomic add on cache lines shared by all
//! threads (plus an epoch-protected push for the histogram), and moving those
//! lines between cores cost ~5% of a MOCK exact hit's CPU. Here each thread adds
//! to its own cache-line-aligned shard; a scrape sums the shards.

use crate::metrics::MatchType;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Upper bounds of the duration buckets, in nanoseconds, and as printed.
const BOUNDS_NS: [u64; 14] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    1_000_000_000,
    5_000_000_000,
];
const BOUND_LABELS: [&str; 14] = [
    "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "1", "5",
];
/// Shards; threads beyond this many share them (still correct, just contended).
const SHARDS: usize = 16;
const MATCH_TYPES: usize = MatchType::ALL.len();

#[repr(align(128))]
struct Shard {
    requests: [AtomicU64; MATCH_TYPES],
    /// Non-cumulative counts; the last slot is above the largest bound.
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

impl Shard {
    const fn new() -> Self {
        Self {
            requests: [const { AtomicU64::new(0) }; MATCH_TYPES],
            buckets: [const { AtomicU64::new(0) }; BOUNDS_NS.len() + 1],
            sum_ns: AtomicU64::new(0),
        }
    }
}

/// The process's per-request statistics (like the `metrics` recorder, one per
/// process: every proxy in it reports into the same series).
pub struct RequestStats {
    shards: [Shard; SHARDS],
}

static STATS: RequestStats = RequestStats {
    shards: [const { Shard::new() }; SHARDS],
};
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

impl RequestStats {
    pub fn global() -> &'static RequestStats {
        &STATS
    }

    /// Counts one answered request and how long it took.
    pub fn record(&self, m: MatchType, elapsed: Duration) {
        // During thread teardown the index may be gone already: shard 0 is as good.
        let shard = &self.shards[SHARD.try_with(|s| *s).unwrap_or(0)];
        shard.requests[m as usize].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(BOUNDS_NS.len());
        shard.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        shard.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    fn total(&self, f: impl Fn(&Shard) -> &AtomicU64) -> u64 {
        self.shards
            .iter()
            .map(|s| f(s).load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Appends both metrics in the Prometheus text format.
    pub fn render_into(&self, out: &mut String) {
        let _ = writeln!(out, "# TYPE {} counter", crate::metrics::REQUESTS_TOTAL);
        for m in MatchType::ALL {
            let n = self.total(|s| &s.requests[m as usize]);
            let _ = writeln!(
                out,
                "{}{{match_type=\"{}\"}} {n}",
                crate::metrics::REQUESTS_TOTAL,
                m.label()
            );
        }
        let name = crate::metrics::REQUEST_DURATION;
        let _ = writeln!(out, "\n# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (i, le) in BOUND_LABELS.iter().enumerate() {
            cumulative += self.total(|s| &s.buckets[i]);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.total(|s| &s.buckets[BOUNDS_NS.len()]);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.total(|s| &s.sum_ns) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}\n");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code fails loudly")]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in:\n{text}"))
    }

    fn value(text: &str, prefix: &str) -> f64 {
        line(text, prefix)
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn shards_sum_and_buckets_are_cumulative() {
        let stats = RequestStats {
            shards: [const { Shard::new() }; SHARDS],
        };
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        stats.record(MatchType::Exact, Duration::from_micros(80));
                    }
                    stats.record(MatchType::Learn, Duration::from_millis(3));
                    stats.record(MatchType::Error, Duration::from_secs(9));
                });
            }
        });
        let mut text = String::new();
        stats.render_into(&mut text);
        assert_eq!(
            value(&text, "ghost_requests_total{match_type=\"exact\"}"),
            4000.0
        );
        assert_eq!(
            value(&text, "ghost_requests_total{match_type=\"learn\"}"),
            4.0
        );
        assert_eq!(
            value(&text, "ghost_requests_total{match_type=\"miss\"}"),
            0.0
        );
        let bucket = |le: &str| {
            value(
                &text,
                &format!("ghost_request_duration_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.00005"), 0.0);
        assert_eq!(bucket("0.0001"), 4000.0);
        assert_eq!(bucket("0.0025"), 4000.0);
        assert_eq!(bucket("0.005"), 4004.0);
        assert_eq!(bucket("5"), 4004.0);
        assert_eq!(bucket("+Inf"), 4008.0);
        assert_eq!(value(&text, "ghost_request_duration_seconds_count"), 4008.0);
        let sum = value(&text, "ghost_request_duration_seconds_sum");
        assert!(
            (sum - (4000.0 * 80e-6 + 4.0 * 3e-3 + 4.0 * 9.0)).abs() < 1e-6,
            "{sum}"
        );
    }

    #[test]
    fn bounds_and_labels_agree() {
        for (ns, label) in BOUNDS_NS.iter().zip(BOUND_LABELS) {
            let secs: f64 = label.parse().unwrap();
            assert!(((secs * 1e9) - *ns as f64).abs() < 1.0, "{label} vs {ns}");
        }
        assert!(BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
    }
}
