//! Per-stage percentile summaries (for `summary.json` and the `hist` tables).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The percentiles every summary reports.
pub const PERCENTILES: [f64; 5] = [50.0, 90.0, 99.0, 99.9, 99.99];

/// One stage's latency distribution in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// Tag name (`feed`, `hop`, `consumer`, `e2e`, `backpressure`).
    pub stage: String,
    /// Number of recorded values.
    pub count: u64,
    /// Smallest value.
    pub min_ns: u64,
    /// Mean.
    pub mean_ns: f64,
    /// 50th percentile.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// 99.99th percentile.
    pub p9999_ns: u64,
    /// Largest value.
    pub max_ns: u64,
}

impl StageSummary {
    /// The value at one of [`PERCENTILES`] (or `max` for 100), `None` for other percentiles.
    pub fn at(&self, percentile: f64) -> Option<u64> {
        const EPS: f64 = 1e-9;
        let p = percentile;
        if (p - 50.0).abs() < EPS {
            Some(self.p50_ns)
        } else if (p - 90.0).abs() < EPS {
            Some(self.p90_ns)
        } else if (p - 99.0).abs() < EPS {
            Some(self.p99_ns)
        } else if (p - 99.9).abs() < EPS {
            Some(self.p999_ns)
        } else if (p - 99.99).abs() < EPS {
            Some(self.p9999_ns)
        } else if (p - 100.0).abs() < EPS {
            Some(self.max_ns)
        } else {
            None
        }
    }
}

/// Summarises one histogram under the name `stage`.
pub fn summarize(stage: &str, h: &Histogram<u64>) -> StageSummary {
    StageSummary {
        stage: stage.to_owned(),
        count: h.len(),
        min_ns: h.min(),
        mean_ns: h.mean(),
        p50_ns: h.value_at_percentile(50.0),
        p90_ns: h.value_at_percentile(90.0),
        p99_ns: h.value_at_percentile(99.0),
        p999_ns: h.value_at_percentile(99.9),
        p9999_ns: h.value_at_percentile(99.99),
        max_ns: h.max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::new_histogram;

    #[test]
    fn summarises_a_known_distribution() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.saturating_record(v);
        }
        let s = summarize("hop", &h);
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min_ns, 1);
        assert!(s.p50_ns.abs_diff(5_000) <= 5, "{}", s.p50_ns);
        assert!(s.p99_ns.abs_diff(9_900) <= 10, "{}", s.p99_ns);
        assert!(s.max_ns.abs_diff(10_000) <= 10, "{}", s.max_ns);
        assert_eq!(s.at(99.0), Some(s.p99_ns));
        assert_eq!(s.at(42.0), None);
    }
}
