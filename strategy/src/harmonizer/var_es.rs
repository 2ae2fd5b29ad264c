//! Parametric (normal) value at risk and expected shortfall, and the position bounds that keep
//! a position's incremental VaR and ES inside their budgets given the exposure already held.
//!
//! For a position `x` (money) with return variance `var` and covariance-weighted existing
//! exposure `hedge`, the portfolio variance grows by `x^2*var + 2*x*hedge`. Its VaR at
//! confidence `a` is `z_a` times the square root, its expected shortfall `phi(z_a)/(1-a)` times
//! it. Keeping `mult * sqrt(x^2*var + 2*x*hedge) <= budget` bounds `x` between the roots of
//! `var*x^2 + 2*hedge*x - (budget/mult)^2`: a position that offsets correlated exposure gets
//! more room, one that adds to it less.

pub use crate::normal::{normal_cdf, normal_pdf, normal_quantile};

/// Multipliers of the standard deviation for VaR and ES at a confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskMultipliers {
    /// `z_a`: VaR = `var_mult * sigma`.
    pub var_mult: f64,
    /// `phi(z_a) / (1 - a)`: ES = `es_mult * sigma`.
    pub es_mult: f64,
}

impl RiskMultipliers {
    /// Multipliers at one-sided confidence `a` in `(0.5, 1)` (computed off the hot path, when
    /// parameters are applied).
    pub fn at(confidence: f64) -> Self {
        let z = normal_quantile(confidence);
        Self {
            var_mult: z,
            es_mult: normal_pdf(z) / (1.0 - confidence),
        }
    }
}

/// Parametric risk of a position: `mult * sqrt(x^2*var + 2*x*hedge)` (0 when that variance is
/// negative, i.e. the position reduces risk).
pub fn incremental_risk(x: f64, variance_frac: f64, hedge: f64, mult: f64) -> f64 {
    let v = x * x * variance_frac + 2.0 * x * hedge;
    if v > 0.0 { mult * v.sqrt() } else { 0.0 }
}

/// `[lo, hi]` (money) such that a position inside keeps `incremental_risk <= budget`.
/// Degenerate inputs give `[0, 0]`.
#[inline]
pub fn position_bounds(variance_frac: f64, hedge: f64, budget: f64, mult: f64) -> (f64, f64) {
    let usable = variance_frac > 0.0 && budget > 0.0 && mult > 0.0 && hedge.is_finite();
    if !usable {
        return (0.0, 0.0);
    }
    let c = budget / mult;
    let disc = (hedge * hedge + variance_frac * c * c).sqrt();
    let lo = (-hedge - disc) / variance_frac;
    let hi = (-hedge + disc) / variance_frac;
    if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 0.0)
    }
}

/// A VaR or ES budget divided by its multiplier once (when the parameters change), for
/// [`BudgetRatio::bounds`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BudgetRatio {
    /// `budget / mult`.
    c: f64,
    /// `budget > 0 && mult > 0`, as [`position_bounds`] requires.
    usable: bool,
}

impl BudgetRatio {
    /// The ratio of `budget` to `mult`.
    pub fn new(budget: f64, mult: f64) -> Self {
        Self {
            c: budget / mult,
            usable: budget > 0.0 && mult > 0.0,
        }
    }

    /// [`position_bounds`] with this budget and multiplier, given `1 / variance_frac`
    /// computed once by the caller (no division here; equal to rounding).
    #[inline]
    pub fn bounds(&self, variance_frac: f64, inv_variance: f64, hedge: f64) -> (f64, f64) {
        if !(self.usable && variance_frac > 0.0 && hedge.is_finite()) {
            return (0.0, 0.0);
        }
        let disc = (hedge * hedge + variance_frac * self.c * self.c).sqrt();
        let lo = (-hedge - disc) * inv_variance;
        let hi = (-hedge + disc) * inv_variance;
        if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_multipliers_match_tables() {
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472).abs() < 1e-10);
        assert!((normal_quantile(0.99) - 2.326_347_874_040_841).abs() < 1e-10);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813).abs() < 1e-10);
        let m = RiskMultipliers::at(0.975);
        assert!((m.var_mult - 1.959_963_984_540_054).abs() < 1e-10);
        // ES of a standard normal at 97.5%: phi(1.959964)/0.025 = 2.3378028
        assert!((m.es_mult - 2.337_802_792_2).abs() < 1e-8, "{}", m.es_mult);
        assert!((normal_cdf(1.0) - 0.841_344_746_068_543).abs() < 1e-13);
        assert!((normal_cdf(-3.0) - 0.001_349_898_031_630_095).abs() < 1e-14);
    }

    #[test]
    fn budget_ratio_bounds_match_position_bounds() {
        for (v, h, b, m) in [
            (4e-6, 0.0, 1000.0, 2.0),
            (2.5e-7, -1234.5, 5000.0, 2.33),
            (1e-9, 1e3, 1.0, 1.96),
            (0.0, 0.0, 1000.0, 2.0),
            (4e-6, f64::NAN, 1000.0, 2.0),
            (4e-6, 0.0, 0.0, 2.0),
            (4e-6, 0.0, 1000.0, 0.0),
        ] {
            let (lo, hi) = position_bounds(v, h, b, m);
            let (lo2, hi2) = BudgetRatio::new(b, m).bounds(v, 1.0 / v, h);
            assert!(
                (lo - lo2).abs() <= lo.abs() * 1e-14,
                "{v} {h} {b} {m}: {lo} {lo2}"
            );
            assert!(
                (hi - hi2).abs() <= hi.abs() * 1e-14,
                "{v} {h} {b} {m}: {hi} {hi2}"
            );
        }
    }

    #[test]
    fn hand_computed_bounds() {
        // No other exposure: |x| <= budget / (mult * sigma). sigma = 0.002, z = 2, budget 1000
        // -> 250,000 each way.
        let (lo, hi) = position_bounds(4e-6, 0.0, 1000.0, 2.0);
        assert!((hi - 250_000.0).abs() < 1e-6 && (lo + 250_000.0).abs() < 1e-6);
        assert!((incremental_risk(hi, 4e-6, 0.0, 2.0) - 1000.0).abs() < 1e-6);
        // Existing correlated long exposure (hedge > 0): less room long, more room short.
        let (lo2, hi2) = position_bounds(4e-6, 0.5, 1000.0, 2.0);
        assert!(hi2 < hi && lo2 < lo);
        assert!((incremental_risk(hi2, 4e-6, 0.5, 2.0) - 1000.0).abs() < 1e-6);
        assert!((incremental_risk(lo2, 4e-6, 0.5, 2.0) - 1000.0).abs() < 1e-6);
        assert_eq!(position_bounds(0.0, 0.0, 1.0, 1.0), (0.0, 0.0));
    }

    proptest::proptest! {
        #[test]
        fn bounds_put_the_risk_exactly_at_the_budget(
            sigma in 1e-5_f64..1e-1,
            hedge in -1e3_f64..1e3,
            budget in 1.0_f64..1e6,
            conf in 0.9_f64..0.999,
            inside in 0.0_f64..1.0,
        ) {
            let m = RiskMultipliers::at(conf);
            let var = sigma * sigma;
            for mult in [m.var_mult, m.es_mult] {
                let (lo, hi) = position_bounds(var, hedge, budget, mult);
                proptest::prop_assert!(lo < 0.0 && hi > 0.0);
                for edge in [lo, hi] {
                    let r = incremental_risk(edge, var, hedge, mult);
                    proptest::prop_assert!((r - budget).abs() <= 1e-6 * budget, "{r} vs {budget}");
                }
                for x in [lo * inside, hi * inside] {
                    proptest::prop_assert!(incremental_risk(x, var, hedge, mult) <= budget * (1.0 + 1e-9));
                }
            }
        }
    }
}
