//! Moving-average momentum: `edge_bps = gain * (ma_short - ma_long) / ma_long` with the ratio
//! expressed in basis points (gain 40 by default: a 1 bp gap between the averages is a 40 bps
//! edge). Simple moving averages of the mid over the last `short` and `long` normal books, kept
//! as exact integer sums of `bid + ask`.

use kestrel_core::BookUpdate;

use crate::edge::ModelEdge;
use crate::signals::ring::Ring;
use crate::signals::{Quote, i128_to_f64};

/// Simple moving average of `bid + ask` (raw) over a fixed window.
#[derive(Clone, Debug)]
pub struct MovingAverage {
    ring: Ring<i128>,
    sum: i128,
}

impl MovingAverage {
    /// Average over the last `window` values.
    pub fn new(window: usize) -> Self {
        Self {
            ring: Ring::new(window),
            sum: 0,
        }
    }

    /// Adds a value.
    #[inline]
    pub fn push(&mut self, v: i128) {
        if let Some(old) = self.ring.push(v) {
            self.sum -= old;
        }
        self.sum += v;
    }

    /// The average (raw units), `None` while empty.
    #[inline]
    pub fn mean(&self) -> Option<f64> {
        (!self.ring.is_empty()).then(|| i128_to_f64(self.sum) / self.ring.len() as f64)
    }

    /// Whether the window is full.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    /// The values in the window, oldest first.
    pub fn values(&self) -> impl Iterator<Item = i128> + '_ {
        self.ring.iter()
    }
}

/// Momentum model state of one instrument.
#[derive(Clone, Debug)]
pub struct Momentum {
    short: MovingAverage,
    long: MovingAverage,
    gain: f64,
    confidence: f64,
}

impl Momentum {
    /// Averages over `short` and `long` books.
    pub fn new(short: usize, long: usize, gain: f64, confidence: f64) -> Self {
        Self {
            short: MovingAverage::new(short),
            long: MovingAverage::new(long),
            gain,
            confidence,
        }
    }

    /// Folds in the mid of `u` (normal books only).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, _u: &BookUpdate, q: &Quote) {
        if q.state.is_normal() {
            let m = q.mid_raw2();
            self.short.push(m);
            self.long.push(m);
        }
    }

    /// `(ma_short - ma_long) / ma_long` in bps, once the long window is full.
    #[inline]
    pub fn gap_bps(&self) -> Option<f64> {
        if !self.long.is_full() {
            return None;
        }
        // (s - l) / l as one ratio of the sums, s / l = (S * n_l) / (L * n_s): one division
        // instead of three.
        let (ns, nl) = (self.short.ring.len(), self.long.ring.len());
        if ns == 0 || nl == 0 || self.long.sum <= 0 {
            return None;
        }
        let ratio =
            (i128_to_f64(self.short.sum) * nl as f64) / (i128_to_f64(self.long.sum) * ns as f64);
        let g = (ratio - 1.0) * 1e4;
        g.is_finite().then_some(g)
    }

    /// The model's edge.
    #[inline]
    pub fn edge(&self) -> ModelEdge {
        match self.gap_bps() {
            Some(g) => ModelEdge::new(self.gain * g, self.confidence),
            None => ModelEdge::NONE,
        }
    }

    /// The short average.
    pub fn short(&self) -> &MovingAverage {
        &self.short
    }

    /// The long average.
    pub fn long(&self) -> &MovingAverage {
        &self.long
    }
}
