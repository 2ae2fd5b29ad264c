//! EWMA covariance of mid returns across instruments, O(n) per update for n instruments.
//!
//! Updates arrive asynchronously. When instrument `i` updates, its return since its previous
//! sample is paired with every other instrument's return over the same interval: for that,
//! `i` keeps a snapshot of all mids taken at its previous sample (row `i` of `snap`). The
//! products are divided by the interval length, so the estimates are rates (bps^2 per second)
//! that scale to any horizon. Row and column `i` of the matrix move by one EWMA step. Updates
//! with no elapsed time accumulate into the next interval.

/// Per-second covariance rates in bps^2 between instruments.
#[derive(Clone, Debug)]
pub struct EwmaCovariance {
    n: usize,
    lambda: f64,
    /// `n * n` rates, symmetric.
    cov: Vec<f64>,
    /// Whether a pair has at least one sample (row-major like `cov`).
    seen: Vec<bool>,
    /// Row `i`: every instrument's mid when `i` last sampled (0 = unknown).
    snap: Vec<f64>,
    /// Current mids (0 = unknown).
    mids: Vec<f64>,
    /// Time of each instrument's last sample, ns (`None` before the first).
    last_ts: Vec<Option<u64>>,
}

impl EwmaCovariance {
    /// Covariance over `n` instruments with decay `lambda` in `(0, 1)` per sample.
    pub fn new(n: usize, lambda: f64) -> Self {
        Self {
            n,
            lambda,
            cov: vec![0.0; n * n],
            seen: vec![false; n * n],
            snap: vec![0.0; n * n],
            mids: vec![0.0; n],
            last_ts: vec![None; n],
        }
    }

    /// Changes the decay for future samples.
    pub fn set_lambda(&mut self, lambda: f64) {
        self.lambda = lambda;
    }

    /// Records instrument `i`'s mid at `ts_ns` and updates row and column `i`. Returns the
    /// number of non-finite products skipped. Out-of-range `i` or a non-positive mid is ignored.
    pub fn on_mid(&mut self, i: usize, mid: f64, ts_ns: u64) -> u32 {
        if i >= self.n || mid.is_nan() || mid <= 0.0 || !mid.is_finite() {
            return 0;
        }
        self.mids[i] = mid;
        let row = i * self.n;
        let Some(last) = self.last_ts[i] else {
            self.last_ts[i] = Some(ts_ns);
            self.snap[row..row + self.n].copy_from_slice(&self.mids);
            return 0;
        };
        let dt_ns = ts_ns.saturating_sub(last);
        if dt_ns == 0 {
            return 0;
        }
        let dt_s = dt_ns as f64 * 1e-9;
        let snap_i = self.snap[row + i];
        let r_i = (mid / snap_i - 1.0) * 1e4;
        let mut skipped = 0;
        let (n, lambda) = (self.n, self.lambda);
        let a = 1.0 - lambda;
        // Row `i` in one walk over four slices of length `n` (no index to check per
        // instrument); then column `i` copied from it below.
        let row_values = self.mids[..n]
            .iter()
            .zip(&self.snap[row..row + n])
            .zip(&mut self.cov[row..row + n])
            .zip(&mut self.seen[row..row + n]);
        for (j, (((&now_j, &then_j), cov), seen)) in row_values.enumerate() {
            if now_j <= 0.0 || then_j <= 0.0 {
                continue;
            }
            // The instrument's own return is already known (the same expression).
            let r_j = if j == i {
                r_i
            } else {
                (now_j / then_j - 1.0) * 1e4
            };
            let sample = r_i * r_j / dt_s;
            if !sample.is_finite() {
                skipped += 1;
                continue;
            }
            *cov = if *seen {
                lambda * *cov + a * sample
            } else {
                sample
            };
            *seen = true;
        }
        // The matrix is symmetric (every write sets both `ij` and `ji`): column `i` takes
        // row `i`, which for the entries not written above is the value it already holds.
        for j in (0..n).filter(|&j| j != i) {
            let (ij, ji) = (row + j, j * n + i);
            self.cov[ji] = self.cov[ij];
            self.seen[ji] = self.seen[ij];
        }
        // Element by element: with few instruments a `memcpy` call costs more than the copy.
        for (s, m) in self.snap[row..row + self.n].iter_mut().zip(&self.mids) {
            *s = *m;
        }
        self.last_ts[i] = Some(ts_ns);
        skipped
    }

    /// Event time started again (a new day, the next file of a replay): the next mid of each
    /// instrument is a fresh snapshot, not a return over a negative interval. The estimates
    /// stay.
    pub fn rebase_time(&mut self) {
        self.last_ts.fill(None);
    }

    /// Covariance rate of `i` and `j`, bps^2 per second (0 when unknown or out of range).
    #[inline]
    pub fn rate(&self, i: usize, j: usize) -> f64 {
        if i < self.n && j < self.n {
            self.cov[i * self.n + j]
        } else {
            0.0
        }
    }

    /// Variance rate of `i` and whether it has a sample.
    #[inline]
    pub fn variance_rate(&self, i: usize) -> (f64, bool) {
        if i < self.n {
            (self.cov[i * self.n + i], self.seen[i * self.n + i])
        } else {
            (0.0, false)
        }
    }

    /// Row `i` of the rate matrix (empty when out of range).
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        if i < self.n {
            &self.cov[i * self.n..(i + 1) * self.n]
        } else {
            &[]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    /// `on_mid` as it was written before the row walk: row and column entry by entry.
    fn on_mid_reference(c: &mut EwmaCovariance, i: usize, mid: f64, ts_ns: u64) -> u32 {
        if i >= c.n || mid.is_nan() || mid <= 0.0 || !mid.is_finite() {
            return 0;
        }
        c.mids[i] = mid;
        let row = i * c.n;
        let Some(last) = c.last_ts[i] else {
            c.last_ts[i] = Some(ts_ns);
            c.snap[row..row + c.n].copy_from_slice(&c.mids);
            return 0;
        };
        let dt_ns = ts_ns.saturating_sub(last);
        if dt_ns == 0 {
            return 0;
        }
        let dt_s = dt_ns as f64 * 1e-9;
        let r_i = (mid / c.snap[row + i] - 1.0) * 1e4;
        let mut skipped = 0;
        let a = 1.0 - c.lambda;
        for j in 0..c.n {
            let (now_j, then_j) = (c.mids[j], c.snap[row + j]);
            if now_j <= 0.0 || then_j <= 0.0 {
                continue;
            }
            let r_j = if j == i {
                r_i
            } else {
                (now_j / then_j - 1.0) * 1e4
            };
            let sample = r_i * r_j / dt_s;
            if !sample.is_finite() {
                skipped += 1;
                continue;
            }
            let ij = row + j;
            let v = if c.seen[ij] {
                c.lambda * c.cov[ij] + a * sample
            } else {
                sample
            };
            c.cov[ij] = v;
            c.seen[ij] = true;
            let ji = j * c.n + i;
            c.cov[ji] = v;
            c.seen[ji] = true;
        }
        c.snap[row..row + c.n].copy_from_slice(&c.mids);
        c.last_ts[i] = Some(ts_ns);
        skipped
    }

    proptest::proptest! {
        /// The row walk plus the column copy leave the matrix, the flags, the snapshots and
        /// the skip counts the entry-by-entry reference leaves, bit for bit: one to four
        /// instruments, mids that are zero, negative, NaN, tiny or huge, repeated and
        /// backward times, time rebases.
        #[test]
        fn row_walk_equals_the_entry_by_entry_reference(
            n in 1usize..5,
            lambda in proptest::prop_oneof![0.0f64..1.0, proptest::num::f64::ANY],
            steps in proptest::collection::vec(
                (
                    0usize..5,
                    proptest::prop_oneof![
                        90.0f64..110.0,
                        proptest::num::f64::ANY,
                        proptest::sample::select(vec![0.0, -1.0, f64::NAN, 1e-300, 1e300, f64::INFINITY]),
                    ],
                    0u64..3_000_000_000,
                    0u8..20,
                ),
                0..60,
            ),
        ) {
            let mut fast = EwmaCovariance::new(n, lambda);
            let mut slow = EwmaCovariance::new(n, lambda);
            let mut ts = 0u64;
            for (i, mid, dt, what) in steps {
                ts = match what {
                    0 => ts.saturating_sub(dt),
                    1 => ts,
                    _ => ts + dt,
                };
                if what == 2 {
                    fast.rebase_time();
                    slow.rebase_time();
                }
                let i = i.min(n);
                proptest::prop_assert_eq!(fast.on_mid(i, mid, ts), on_mid_reference(&mut slow, i, mid, ts));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                proptest::prop_assert_eq!(bits(&fast.cov), bits(&slow.cov));
                proptest::prop_assert_eq!(&fast.seen, &slow.seen);
                proptest::prop_assert_eq!(bits(&fast.snap), bits(&slow.snap));
                proptest::prop_assert_eq!(&fast.last_ts, &slow.last_ts);
            }
        }
    }

    #[test]
    fn hand_computed_single_instrument_variance() {
        let mut c = EwmaCovariance::new(1, 0.5);
        c.on_mid(0, 100.0, 0);
        c.on_mid(0, 101.0, S); // +100 bps in 1 s -> 10,000 bps^2/s (first sample taken as is)
        assert!((c.variance_rate(0).0 - 10_000.0).abs() < 1e-6);
        c.on_mid(0, 101.0, 2 * S); // 0 bps -> 0.5 * 10,000 + 0.5 * 0
        assert!((c.variance_rate(0).0 - 5_000.0).abs() < 1e-6);
        c.on_mid(0, 101.0, 2 * S); // no elapsed time: no sample
        assert!((c.variance_rate(0).0 - 5_000.0).abs() < 1e-6);
        // 2 s with -1% : r^2/dt = 10,000 / 2 ; EWMA 0.5 * 5,000 + 0.5 * 5,000
        c.on_mid(0, 99.99, 4 * S);
        assert!(
            (c.variance_rate(0).0 - 5_000.0).abs() < 1e-3,
            "{}",
            c.variance_rate(0).0
        );
    }

    #[test]
    fn hand_computed_cross_covariance() {
        let mut c = EwmaCovariance::new(2, 0.5);
        // 1 samples first, when 0's mid is still unknown: its snapshot cannot pair with 0.
        c.on_mid(1, 50.0, 0);
        c.on_mid(0, 100.0, 0);
        // Instrument 1 moves +2% before 0 samples again, over 0's interval of 1 s.
        c.on_mid(1, 51.0, S / 2);
        assert_eq!(c.rate(0, 1), 0.0);
        // 1 over its 0.5 s: +200 bps -> 40,000 / 0.5 = 80,000 bps^2/s.
        assert!((c.variance_rate(1).0 - 80_000.0).abs() < 1e-6);
        c.on_mid(0, 101.0, S);
        // r0 = +100 bps, r1 over [0, 1 s] = +200 bps -> 20,000 bps^2/s (first sample).
        assert!((c.rate(0, 1) - 20_000.0).abs() < 1e-6);
        assert_eq!(c.rate(0, 1), c.rate(1, 0));
        // Now 0 falls 1% while 1 is flat: product 0, EWMA halves it.
        c.on_mid(0, 99.99, 2 * S);
        assert!((c.rate(0, 1) - 10_000.0).abs() < 1e-6);
        assert_eq!(c.rate(5, 0), 0.0);
    }
}
