//! Online track record of one alpha model: its last `window` scored predictions (predicted edge
//! against the realised mid move over the horizon), summarised as a hit rate and an information
//! coefficient (Pearson correlation), and the shrinkage weight they earn against a zero-edge
//! prior: `n*q / (n*q + k)`.

use crate::params::MAX_TRACK_WINDOW;

/// Rolling record of one model. Storage is preallocated for [`MAX_TRACK_WINDOW`] pairs; the
/// statistics cover the last `window` of them, updated in O(1) per score.
#[derive(Clone, Debug)]
pub struct TrackRecord {
    /// Ring of `(predicted bps, realised bps)`, oldest overwritten.
    ring: Vec<(f64, f64)>,
    /// Next write position.
    head: usize,
    /// Pairs stored (up to the ring capacity).
    stored: usize,
    window: usize,
    sums: Sums,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Sums {
    n: usize,
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
    hits: usize,
    decisive: usize,
}

impl Sums {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.yy += y * y;
        self.xy += x * y;
        let p = x * y;
        if p != 0.0 {
            self.decisive += 1;
            self.hits += usize::from(p > 0.0);
        }
    }

    fn remove(&mut self, x: f64, y: f64) {
        self.n = self.n.saturating_sub(1);
        self.x -= x;
        self.y -= y;
        self.xx -= x * x;
        self.yy -= y * y;
        self.xy -= x * y;
        let p = x * y;
        if p != 0.0 {
            self.decisive = self.decisive.saturating_sub(1);
            self.hits = self.hits.saturating_sub(usize::from(p > 0.0));
        }
    }
}

/// Summary statistics of a record.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RecordStats {
    /// Scored predictions in the window.
    pub n: usize,
    /// Fraction of decisive predictions (both signs non-zero) with the right sign; 0.5 if none.
    pub hit_rate: f64,
    /// Pearson correlation of predicted and realised moves; 0 when undefined.
    pub ic: f64,
}

impl RecordStats {
    /// Record quality in `[0, 1]`: `ic_weight * IC + (1 - ic_weight) * (2 * hit_rate - 1)`,
    /// clamped at zero (a model no better than chance earns nothing).
    pub fn quality(&self, ic_weight: f64) -> f64 {
        let q = ic_weight * self.ic + (1.0 - ic_weight) * (2.0 * self.hit_rate - 1.0);
        if q.is_finite() {
            q.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// Shrinkage weight `n*q / (n*q + k)` toward the zero-edge prior of strength `k > 0`.
    pub fn shrink_weight(&self, ic_weight: f64, prior_strength: f64) -> f64 {
        let nq = self.n as f64 * self.quality(ic_weight);
        let denom = nq + prior_strength;
        if nq <= 0.0 || !denom.is_finite() || denom <= 0.0 {
            0.0
        } else {
            nq / denom
        }
    }
}

impl TrackRecord {
    /// An empty record over the last `window` predictions (clamped to `2..=MAX_TRACK_WINDOW`).
    pub fn new(window: usize) -> Self {
        Self {
            ring: vec![(0.0, 0.0); MAX_TRACK_WINDOW],
            head: 0,
            stored: 0,
            window: window.clamp(2, MAX_TRACK_WINDOW),
            sums: Sums::default(),
        }
    }

    /// Scores one prediction. Non-finite pairs are ignored and reported as `false`.
    pub fn score(&mut self, predicted_bps: f64, realised_bps: f64) -> bool {
        if !predicted_bps.is_finite() || !realised_bps.is_finite() {
            return false;
        }
        if self.sums.n == self.window {
            let leaving = (self.head + MAX_TRACK_WINDOW - self.window) % MAX_TRACK_WINDOW;
            let (x, y) = self.ring[leaving];
            self.sums.remove(x, y);
        }
        self.ring[self.head] = (predicted_bps, realised_bps);
        self.sums.add(predicted_bps, realised_bps);
        self.head = (self.head + 1) % MAX_TRACK_WINDOW;
        self.stored = (self.stored + 1).min(MAX_TRACK_WINDOW);
        if self.head == 0 {
            // Once per ring turn, recompute from scratch so float drift cannot accumulate.
            self.recompute();
        }
        true
    }

    /// Changes the window, recomputing the statistics over the pairs still stored.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(2, MAX_TRACK_WINDOW);
        self.recompute();
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.head = 0;
        self.stored = 0;
        self.sums = Sums::default();
    }

    fn recompute(&mut self) {
        let mut sums = Sums::default();
        let n = self.stored.min(self.window);
        for back in 1..=n {
            let (x, y) = self.ring[(self.head + MAX_TRACK_WINDOW - back) % MAX_TRACK_WINDOW];
            sums.add(x, y);
        }
        self.sums = sums;
    }

    /// Hit rate, IC and sample count over the window.
    pub fn stats(&self) -> RecordStats {
        let s = &self.sums;
        let hit_rate = if s.decisive == 0 {
            0.5
        } else {
            s.hits as f64 / s.decisive as f64
        };
        let ic = if s.n < 2 {
            0.0
        } else {
            let n = s.n as f64;
            let cov = s.xy - s.x * s.y / n;
            let vx = s.xx - s.x * s.x / n;
            let vy = s.yy - s.y * s.y / n;
            let denom = (vx * vy).sqrt();
            if denom > 1e-12 && denom.is_finite() {
                (cov / denom).clamp(-1.0, 1.0)
            } else {
                0.0
            }
        };
        RecordStats {
            n: s.n,
            hit_rate,
            ic,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_hit_rate_and_ic() {
        let mut r = TrackRecord::new(8);
        // x: 1, 2, 3, -1 ; y: 2, 3, 5, 1
        for (x, y) in [(1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (-1.0, 1.0)] {
            assert!(r.score(x, y));
        }
        let s = r.stats();
        assert_eq!(s.n, 4);
        assert!((s.hit_rate - 0.75).abs() < 1e-12);
        // mean x = 1.25, mean y = 2.75; dx = -0.25, 0.75, 1.75, -2.25 ;
        // dy = -0.75, 0.25, 2.25, -1.75 ; sum dx*dy = 8.25 ; sum dx^2 = sum dy^2 = 8.75
        let ic = 8.25 / (8.75_f64 * 8.75).sqrt();
        assert!((s.ic - ic).abs() < 1e-12, "{} vs {ic}", s.ic);
        // quality with ic_weight 0.5: 0.5 * ic + 0.5 * (2 * 0.75 - 1)
        let q = 0.5 * ic + 0.5 * 0.5;
        assert!((s.quality(0.5) - q).abs() < 1e-12);
        // shrink weight n*q/(n*q + k) with k = 4
        let w = 4.0 * q / (4.0 * q + 4.0);
        assert!((s.shrink_weight(0.5, 4.0) - w).abs() < 1e-12);
    }

    #[test]
    fn window_drops_old_scores() {
        let mut r = TrackRecord::new(3);
        for _ in 0..10 {
            r.score(1.0, -1.0); // always wrong
        }
        for _ in 0..3 {
            r.score(1.0, 1.0); // right
        }
        let s = r.stats();
        assert_eq!(s.n, 3);
        assert_eq!(s.hit_rate, 1.0);
        r.set_window(6);
        let s = r.stats();
        assert_eq!(s.n, 6);
        assert!((s.hit_rate - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bad_record_earns_no_weight_and_empty_record_none() {
        let mut r = TrackRecord::new(50);
        assert_eq!(r.stats().shrink_weight(0.5, 10.0), 0.0);
        for i in 0..50 {
            let x = f64::from(i % 7) - 3.0;
            r.score(x, -x);
        }
        let s = r.stats();
        assert!(s.ic < -0.99);
        assert_eq!(s.shrink_weight(0.5, 10.0), 0.0);
        assert!(!r.score(f64::NAN, 1.0));
    }

    #[test]
    fn incremental_matches_recompute_after_many_turns() {
        let mut r = TrackRecord::new(37);
        for i in 0..5000_u32 {
            let x = f64::from(i % 13) - 6.0;
            let y = f64::from((i * 7) % 11) - 5.0 + 0.3 * x;
            r.score(x, y);
        }
        let inc = r.stats();
        r.recompute();
        let full = r.stats();
        assert_eq!(inc.n, full.n);
        assert!((inc.ic - full.ic).abs() < 1e-9);
        assert_eq!(inc.hit_rate, full.hit_rate);
    }

    /// Direct statistics over the last `window` pairs, for comparison.
    fn reference(pairs: &[(f64, f64)], window: usize) -> RecordStats {
        let last = &pairs[pairs.len().saturating_sub(window)..];
        let n = last.len() as f64;
        let decisive: Vec<_> = last.iter().filter(|(x, y)| x * y != 0.0).collect();
        let hit_rate = if decisive.is_empty() {
            0.5
        } else {
            decisive.iter().filter(|(x, y)| x * y > 0.0).count() as f64 / decisive.len() as f64
        };
        let mx = last.iter().map(|p| p.0).sum::<f64>() / n;
        let my = last.iter().map(|p| p.1).sum::<f64>() / n;
        let cov: f64 = last.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
        let vx: f64 = last.iter().map(|(x, _)| (x - mx).powi(2)).sum();
        let vy: f64 = last.iter().map(|(_, y)| (y - my).powi(2)).sum();
        let ic = if last.len() < 2 || (vx * vy).sqrt() <= 1e-12 {
            0.0
        } else {
            cov / (vx * vy).sqrt()
        };
        RecordStats {
            n: last.len(),
            hit_rate,
            ic,
        }
    }

    proptest::proptest! {
        #[test]
        fn incremental_matches_reference(
            pairs in proptest::collection::vec((-50_i32..50, -50_i32..50), 1..1500),
            window in 2_usize..300,
        ) {
            let pairs: Vec<(f64, f64)> =
                pairs.iter().map(|&(x, y)| (f64::from(x) * 0.5, f64::from(y) * 0.25)).collect();
            let mut r = TrackRecord::new(window);
            for &(x, y) in &pairs {
                r.score(x, y);
            }
            let got = r.stats();
            let want = reference(&pairs, window);
            proptest::prop_assert_eq!(got.n, want.n);
            proptest::prop_assert!((got.hit_rate - want.hit_rate).abs() < 1e-12);
            // Near-degenerate variance may fall on either side of the cut-off.
            if want.ic != 0.0 && got.ic != 0.0 {
                proptest::prop_assert!((got.ic - want.ic).abs() < 1e-6, "{} vs {}", got.ic, want.ic);
            }
        }
    }
}
