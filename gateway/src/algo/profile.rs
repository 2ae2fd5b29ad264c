//! Intraday volume profiles for VWAP: traded volume per time-of-day bucket, from a capture.

/// Nanoseconds in a day.
pub const DAY_NS: u64 = 86_400_000_000_000;

/// Traded volume per fixed time-of-day bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeProfile {
    bucket_ns: u64,
    /// Cumulative volume at the end of each bucket (`cum[i]` = volume in buckets `0..=i`).
    cum: Vec<f64>,
}

impl VolumeProfile {
    /// A profile from per-bucket volumes (bucket `i` covers `[i * bucket_ns, (i+1) * bucket_ns)`
    /// of the day).
    pub fn from_buckets(bucket_ns: u64, volumes: &[u64]) -> Self {
        let mut acc = 0.0;
        let cum = volumes
            .iter()
            .map(|v| {
                acc += *v as f64;
                acc
            })
            .collect();
        Self {
            bucket_ns: bucket_ns.max(1),
            cum,
        }
    }

    /// A profile built from `(event time ns, traded shares)` pairs (times taken modulo a day).
    pub fn from_trades(bucket_ns: u64, trades: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let bucket_ns = bucket_ns.max(1);
        let n = DAY_NS.div_ceil(bucket_ns) as usize;
        let mut vols = vec![0u64; n];
        for (t, q) in trades {
            let b = ((t % DAY_NS) / bucket_ns) as usize;
            if let Some(v) = vols.get_mut(b) {
                *v += q;
            }
        }
        Self::from_buckets(bucket_ns, &vols)
    }

    /// Bucket width.
    pub fn bucket_ns(&self) -> u64 {
        self.bucket_ns
    }

    /// Cumulative volume from midnight to time of day `t` (linear inside a bucket).
    pub fn cumulative(&self, t: u64) -> f64 {
        let t = t % DAY_NS;
        let b = (t / self.bucket_ns) as usize;
        let Some(end) = self.cum.get(b).copied() else {
            return self.cum.last().copied().unwrap_or(0.0);
        };
        let start = if b == 0 { 0.0 } else { self.cum[b - 1] };
        let frac = (t % self.bucket_ns) as f64 / self.bucket_ns as f64;
        start + (end - start) * frac
    }

    /// The share of the volume between `from` and `to` (times of day) expected by `now`, in
    /// `[0, 1]`; linear in time when the profile has no volume there.
    pub fn fraction(&self, from: u64, to: u64, now: u64) -> f64 {
        if to <= from {
            return 1.0;
        }
        let now = now.clamp(from, to);
        let total = self.cumulative(to) - self.cumulative(from);
        if total <= 0.0 {
            return (now - from) as f64 / (to - from) as f64;
        }
        ((self.cumulative(now) - self.cumulative(from)) / total).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_follow_volume() {
        // Three 10-ns buckets: 100, 0, 300.
        let p = VolumeProfile::from_buckets(10, &[100, 0, 300]);
        assert_eq!(p.cumulative(5), 50.0);
        assert_eq!(p.cumulative(15), 100.0);
        assert_eq!(p.cumulative(25), 250.0);
        assert!((p.fraction(0, 30, 10) - 0.25).abs() < 1e-12);
        assert!((p.fraction(0, 30, 20) - 0.25).abs() < 1e-12);
        assert!((p.fraction(0, 30, 30) - 1.0).abs() < 1e-12);
        // No volume in the window: linear.
        assert!((p.fraction(10, 20, 15) - 0.5).abs() < 1e-12);
        let q = VolumeProfile::from_trades(
            DAY_NS / 2,
            [(1, 10), (DAY_NS / 2 + 1, 30), (DAY_NS + 2, 10)],
        );
        assert_eq!(q.cumulative(DAY_NS - 1).round(), 50.0);
    }
}
