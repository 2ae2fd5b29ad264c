//! Mean reversion: the z-score of the mid against its exponentially weighted mean (half-life in
//! events). If the deviation decays with that half-life, the expected move over `horizon` events
//! is `-(mid - mean) * (1 - 2^(-horizon / halflife))`; that is the edge (in bps of the mid).
//! Confidence grows with `|z|` up to `z_full`.

use kestrel_core::BookUpdate;

use crate::edge::ModelEdge;
use crate::signals::Quote;
use crate::signals::is_positive_finite;
use crate::signals::volatility::halflife_decay;

/// Exponentially weighted mean and variance.
#[derive(Clone, Copy, Debug, Default)]
pub struct EwStats {
    decay: f64,
    mean: f64,
    var: f64,
    n: u64,
}

impl EwStats {
    /// Mean and variance with the given half-life (in samples).
    pub fn new(halflife: f64) -> Self {
        Self {
            decay: halflife_decay(halflife),
            ..Self::default()
        }
    }

    /// Adds `x`: `mean += (1 - d)(x - mean)`, `var = d (var + (1 - d)(x - mean_prev)^2)`.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let diff = x - self.mean;
            let a = 1.0 - self.decay;
            self.mean += a * diff;
            self.var = self.decay * (self.var + a * diff * diff);
        }
        self.n += 1;
    }

    /// The mean.
    #[inline]
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The variance (zero or more).
    #[inline]
    pub fn var(&self) -> f64 {
        self.var.max(0.0)
    }

    /// Samples seen.
    #[inline]
    pub fn count(&self) -> u64 {
        self.n
    }
}

/// `1 - 2^(-horizon / halflife)`: the fraction of a deviation with that half-life expected to
/// decay within `horizon` (zero for a non-positive horizon or half-life).
#[inline]
pub fn reversion_fraction(horizon: f64, halflife: f64) -> f64 {
    if !is_positive_finite(horizon) || !is_positive_finite(halflife) {
        return 0.0;
    }
    let f = 1.0 - (-(horizon / halflife) * core::f64::consts::LN_2).exp();
    if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Mean-reversion model state of one instrument.
#[derive(Clone, Copy, Debug)]
pub struct MeanReversion {
    stats: EwStats,
    halflife: f64,
    reversion: f64,
    z_full: f64,
    confidence: f64,
    warmup: u64,
    z: f64,
    deviation_bps: f64,
}

impl MeanReversion {
    /// Half-life and horizon in events; `z_full` the |z| of full confidence.
    pub fn new(halflife: f64, horizon: f64, z_full: f64, confidence: f64) -> Self {
        let halflife = if halflife.is_finite() && halflife > 0.0 {
            halflife
        } else {
            1.0
        };
        Self {
            stats: EwStats::new(halflife),
            halflife,
            reversion: reversion_fraction(horizon, halflife),
            z_full: if z_full > 0.0 { z_full } else { 1.0 },
            confidence,
            warmup: halflife.ceil() as u64,
            z: 0.0,
            deviation_bps: 0.0,
        }
    }

    /// Measures the mid of `u` against the mean so far, then folds it in (normal books only).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, _u: &BookUpdate, q: &Quote) {
        if !q.state.is_normal() {
            return;
        }
        let mid = q.mid();
        if self.stats.count() > 0 && mid > 0.0 {
            let dev = mid - self.stats.mean();
            let sd = self.stats.var().sqrt();
            self.z = if sd > 0.0 { dev / sd } else { 0.0 };
            self.deviation_bps = dev / mid * 1e4;
        }
        self.stats.push(mid);
    }

    /// Current z-score of the mid.
    #[inline]
    pub fn z(&self) -> f64 {
        self.z
    }

    /// The model's edge.
    #[inline]
    pub fn edge(&self) -> ModelEdge {
        if self.stats.count() <= self.warmup || self.z == 0.0 {
            return ModelEdge::NONE;
        }
        let conf = self.confidence * (self.z.abs() / self.z_full).min(1.0);
        ModelEdge::new(-self.deviation_bps * self.reversion, conf)
    }

    /// The half-life in events.
    pub fn halflife(&self) -> f64 {
        self.halflife
    }
}
