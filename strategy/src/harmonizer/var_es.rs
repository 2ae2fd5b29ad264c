//! Parametric (normal) value at risk and expected shortfall, and the position bounds that keep
//! a position's incremental VaR and ES inside their budgets given the exposure already held.
//!
//! For a position `x` (money) with return variance `var` and covariance-weighted existing
//! exposure `hedge`, the portfolio variance grows by `x^2*var + 2*x*hedge`. Its VaR at
//! confidence `a` is `z_a` times the square root, its expected shortfall `phi(z_a)/(1-a)` times
//! it. Keeping `mult * sqrt(x^2*var + 2*x*hedge) <= budget` bounds `x` between the roots of
//! `var*x^2 + 2*hedge*x - (budget/mult)^2`: a position that offsets correlated exposure gets
//! more room, one that adds to it less.

/// `z` such that `P(N(0,1) <= z) = p`, for `p` in `(0, 1)` (Acklam's rational approximation,
/// refined by one Halley step; absolute error below 1e-12 over `(1e-10, 1 - 1e-10)`).
pub fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let lo = 0.02425;
    let x = if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley refinement step against the exact CDF.
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * core::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * core::f64::consts::PI).sqrt()
}

/// Standard normal CDF through the complementary error function (Taylor series below 2, a
/// Lentz continued fraction above; about 1e-15 absolute).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / core::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // erf by Taylor series.
        let mut sum = x;
        let mut term = x;
        let x2 = x * x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -x2 / n;
            sum += term / (2.0 * n + 1.0);
            if n > 200.0 {
                break;
            }
        }
        1.0 - 2.0 / core::f64::consts::PI.sqrt() * sum
    } else {
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz).
        let tiny = 1e-300;
        let mut f = x;
        let mut c = x;
        let mut d = 0.0;
        for k in 1..300 {
            let a = f64::from(k) / 2.0;
            d = x + a * d;
            d = if d.abs() < tiny { tiny } else { d };
            c = x + a / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-x * x).exp() / core::f64::consts::PI.sqrt() / f
    }
}

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
