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
    /// `1 / tau_ns`, so that the decay and the scaling need no division.
    inv_tau_ns: f64,
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

/// Below this, [`exp_neg`] and [`log_ratio`] use their short series (2^-5 and 2^-10).
const EXP_SERIES_MAX: f64 = 1.0 / 32.0;
const LOG_SERIES_MAX: f64 = 1.0 / 1024.0;

/// `exp(-x)` for `x >= 0`. Most decays between two book updates are tiny (`x` below 2^-5, a
/// few milliseconds against a one-second time constant), where the Taylor series to `x^7`
/// is exact to a fraction of an ulp (the first term left out is under 2.3e-17) and
/// costs seven multiply-adds instead of a library call; larger `x` goes to `f64::exp`.
#[inline]
pub fn exp_neg(x: f64) -> f64 {
    if x < EXP_SERIES_MAX {
        1.0 - x
            * (1.0
                - x * (1.0 / 2.0)
                    * (1.0
                        - x * (1.0 / 3.0)
                            * (1.0
                                - x * (1.0 / 4.0)
                                    * (1.0
                                        - x * (1.0 / 5.0)
                                            * (1.0 - x * (1.0 / 6.0) * (1.0 - x * (1.0 / 7.0)))))))
    } else {
        (-x).exp()
    }
}

/// `ln(a / b)` for positive raw mids. A move of a few ticks is a relative change `x` far under
/// 2^-10, where `ln(1 + x)` to `x^7` is exact to a fraction of an ulp (the first term left out
/// is under 1e-21 relative) and `x = (a - b) / b` is one rounding, instead of rounding `a / b`
/// near 1 and calling `ln`; larger moves go to `f64::ln`.
#[inline]
pub fn log_ratio(a: i128, b: i128) -> f64 {
    let (af, bf) = (i128_to_f64(a), i128_to_f64(b));
    let x = i128_to_f64(a - b) / bf;
    if x.abs() < LOG_SERIES_MAX {
        x * (1.0
            - x * (1.0 / 2.0
                - x * (1.0 / 3.0
                    - x * (1.0 / 4.0 - x * (1.0 / 5.0 - x * (1.0 / 6.0 - x * (1.0 / 7.0)))))))
    } else {
        (af / bf).ln()
    }
}

impl EwmaVolatility {
    /// Per-event half-life in events; time constant `tau_ns` (nanoseconds, at least 1).
    pub fn new(halflife_events: f64, tau_ns: u64) -> Self {
        Self {
            lambda: halflife_decay(halflife_events),
            inv_tau_ns: 1.0 / tau_ns.max(1) as f64,
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
            self.time_sum *= exp_neg((dt as f64) * self.inv_tau_ns);
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
                log_ratio(mid2, prev)
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
        (self.time_sum.max(0.0) * (self.inv_tau_ns * 1e9)).sqrt() * 1e4
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

    #[test]
    fn series_match_the_library_functions() {
        // Decays across and around the series threshold, against `exp`.
        for k in 0..=2_000 {
            let x = f64::from(k) * 2e-5;
            let (fast, exact) = (exp_neg(x), (-x).exp());
            assert!(
                (fast - exact).abs() <= 2.0 * f64::EPSILON * exact,
                "{x}: {fast} vs {exact}"
            );
        }
        // Mid moves of -300..=300 ticks on a raw mid near 2 * 580.00 (cents), against `ln`.
        let b: i128 = 116_000_000_000;
        for d in -300i128..=300 {
            let a = b + d * 500_000;
            let fast = log_ratio(a, b);
            let exact = (a as f64 / b as f64).ln();
            // `ln` of the rounded ratio is itself off by up to an ulp of 1 (1.1e-16 absolute).
            assert!((fast - exact).abs() <= 2.3e-16, "{d}: {fast} vs {exact}");
        }
        assert_eq!(log_ratio(b, b), 0.0);
    }
}
