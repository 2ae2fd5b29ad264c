//! The sidecar model's information coefficient measured live: the Pearson correlation of the
//! edges the core used with the mid moves that followed them over the model's own horizon.

/// Running Pearson sums (no window: the whole session).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LiveIc {
    n: u64,
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
    hits: u64,
    decisive: u64,
}

impl LiveIc {
    /// Adds one (predicted bps, realised bps) pair; non-finite pairs are ignored.
    pub fn add(&mut self, predicted: f64, realised: f64) {
        if !predicted.is_finite() || !realised.is_finite() {
            return;
        }
        self.n += 1;
        self.x += predicted;
        self.y += realised;
        self.xx += predicted * predicted;
        self.yy += realised * realised;
        self.xy += predicted * realised;
        let p = predicted * realised;
        if p != 0.0 {
            self.decisive += 1;
            self.hits += u64::from(p > 0.0);
        }
    }

    /// Pairs scored.
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// Pearson correlation; `None` with fewer than 3 pairs or no variance.
    pub fn ic(&self) -> Option<f64> {
        if self.n < 3 {
            return None;
        }
        let n = self.n as f64;
        let cov = self.xy - self.x * self.y / n;
        let vx = self.xx - self.x * self.x / n;
        let vy = self.yy - self.y * self.y / n;
        let d = (vx * vy).sqrt();
        (d > 0.0 && d.is_finite()).then(|| (cov / d).clamp(-1.0, 1.0))
    }

    /// Fraction of decisive pairs (both non-zero) with the same sign; `None` if none.
    pub fn hit_rate(&self) -> Option<f64> {
        (self.decisive > 0).then(|| self.hits as f64 / self.decisive as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_correlation() {
        let mut ic = LiveIc::default();
        assert_eq!(ic.ic(), None);
        for (x, y) in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.5), (4.0, 7.5)] {
            ic.add(x, y);
        }
        ic.add(f64::NAN, 1.0);
        assert_eq!(ic.samples(), 4);
        // statistics.correlation([1,2,3,4], [2,4,6.5,7.5]) = 0.987763...
        assert!(
            (ic.ic().unwrap() - 0.987_763_0).abs() < 1e-6,
            "{:?}",
            ic.ic()
        );
        assert_eq!(ic.hit_rate(), Some(1.0));
        let mut anti = LiveIc::default();
        for (x, y) in [(1.0, -1.0), (2.0, -2.0), (3.0, -3.1)] {
            anti.add(x, y);
        }
        assert!(anti.ic().unwrap() < -0.99);
        assert_eq!(anti.hit_rate(), Some(0.0));
    }
}
