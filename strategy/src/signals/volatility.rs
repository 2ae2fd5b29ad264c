//! EWMA realised volatility of log mid returns, per event and scaled to time.
//!
//! Per event: `var = lambda * var + (1 - lambda) * r^2` with `lambda = 2^(-1 / halflife_events)`.
//! In time: `R = exp(-dt / tau) * R + r^2` is an exponentially weighted sum of squared returns
//! over roughly `tau`; `R / tau` is the variance per second, whatever the event rate.
//! Returns are taken only between two normal books (an empty, one-sided, locked or crossed book
//! breaks the chain). Zero volatility is a valid value (zero), never a division.

use kestrel_core::BookUpdate;

use super::quote::Quote;
use super::{i128_to_f64, is_positive_finite};

/// EWMA realised volatility.
#[derive(Clone, Copy, Debug)]
pub struct EwmaVolatility {
    lambda: f64,
    tau_ns: f64,
    prev_mid2: Option<i128>,
    prev_ts: Option<u64>,
    var_event: f64,
    time_sum: f64,
    last_return: f64,
    returns: u64,
}

/// `2^(-1/halflife)`: the per-step decay of an EWMA with that half-life (in steps, at least
/// a tiny positive number).
#[inline]
pub fn halflife_decay(halflife: f64) -> f64 {
    if !is_positive_finite(halflife) {
        return 0.0;
    }
    (-core::f64::consts::LN_2 / halflife).exp()
}

impl EwmaVolatility {
    /// Per-event half-life in events; time constant `tau_ns` (nanoseconds, at least 1).
    pub fn new(halflife_events: f64, tau_ns: u64) -> Self {
        Self {
            lambda: halflife_decay(halflife_events),
            tau_ns: tau_ns.max(1) as f64,
            prev_mid2: None,
            prev_ts: None,
            var_event: 0.0,
            time_sum: 0.0,
            last_return: 0.0,
            returns: 0,
        }
    }

    /// Folds in the log mid return since the previous normal book.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, u: &BookUpdate, q: &Quote) {
        let now = u.exch_ts.nanos();
        let dt = self.prev_ts.map_or(0, |p| now.saturating_sub(p));
        self.prev_ts = Some(now);
        // Time decays the time-scaled sum whatever the book looks like.
        if dt > 0 && self.time_sum != 0.0 {
            self.time_sum *= (-(dt as f64) / self.tau_ns).exp();
        }
        let mid2 = q.mid_raw2();
        if !q.state.is_normal() || mid2 <= 0 {
            self.prev_mid2 = None;
            self.last_return = 0.0;
            return;
        }
        if let Some(prev) = self.prev_mid2 {
            let r = if mid2 == prev {
                0.0
            } else {
                (i128_to_f64(mid2) / i128_to_f64(prev)).ln()
            };
            if r.is_finite() {
                let r2 = r * r;
                self.var_event = self.lambda * self.var_event + (1.0 - self.lambda) * r2;
                self.time_sum += r2;
                self.last_return = r;
                self.returns += 1;
            }
        }
        self.prev_mid2 = Some(mid2);
    }

    /// Volatility per event, in basis points.
    #[inline]
    pub fn per_event_bps(&self) -> f64 {
        self.var_event.max(0.0).sqrt() * 1e4
    }

    /// Volatility per square-root second, in basis points.
    #[inline]
    pub fn per_sqrt_second_bps(&self) -> f64 {
        (self.time_sum.max(0.0) / (self.tau_ns * 1e-9)).sqrt() * 1e4
    }

    /// The last log return folded in (zero after a break).
    #[inline]
    pub fn last_return(&self) -> f64 {
        self.last_return
    }

    /// Number of returns folded in so far.
    #[inline]
    pub fn returns(&self) -> u64 {
        self.returns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halflife_decay_halves() {
        let l = halflife_decay(10.0);
        assert!((l.powi(10) - 0.5).abs() < 1e-12);
        assert_eq!(halflife_decay(0.0), 0.0);
    }
}
