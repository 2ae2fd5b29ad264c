//! Fractional Kelly sizing with a correlation (hedge) term.
//!
//! With capital `W`, expected return `mu` over the horizon, return variance `var` and the
//! covariance-weighted exposure already held elsewhere `hedge = sum_j cov(i, j) * x_j` (money),
//! maximising expected log growth `mu*x/W - (x^2*var + 2*x*hedge) / (2*W^2)` gives the position
//! `x = (mu*W - hedge) / var`; fractional Kelly scales the edge term by `fraction` (so that a
//! portfolio of fractional positions satisfies `C x = fraction * mu * W`).

/// Target notional (money, signed) for one instrument. Non-finite inputs or a non-positive
/// variance give zero.
#[inline]
pub fn kelly_notional(
    edge_frac: f64,
    variance_frac: f64,
    hedge: f64,
    fraction: f64,
    capital: f64,
) -> f64 {
    if variance_frac.is_nan() || variance_frac <= 0.0 {
        return 0.0;
    }
    let x = (fraction * edge_frac * capital - hedge) / variance_frac;
    if x.is_finite() { x } else { 0.0 }
}

/// [`kelly_notional`] given `1 / variance_frac` computed once by the caller (no division;
/// equal to rounding).
#[inline]
pub(crate) fn kelly_notional_inv(
    edge_frac: f64,
    variance_frac: f64,
    inv_variance: f64,
    hedge: f64,
    fraction: f64,
    capital: f64,
) -> f64 {
    if variance_frac.is_nan() || variance_frac <= 0.0 {
        return 0.0;
    }
    let x = (fraction * edge_frac * capital - hedge) * inv_variance;
    if x.is_finite() { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_kelly() {
        // 5 bps edge, 20 bps volatility over the horizon: full Kelly = 5e-4 / 4e-6 = 125 times
        // capital; a quarter of that on 1,000,000 is 31,250,000.
        let x = kelly_notional(5e-4, 4e-6, 0.0, 0.25, 1_000_000.0);
        assert!((x - 31_250_000.0).abs() < 1e-3, "{x}");
        // A hedge term of 25 (money) worth of covariance reduces it by 25 / 4e-6.
        let y = kelly_notional(5e-4, 4e-6, 25.0, 0.25, 1_000_000.0);
        assert!((x - y - 6_250_000.0).abs() < 1e-3, "{y}");
        assert_eq!(kelly_notional(5e-4, 0.0, 0.0, 0.25, 1.0), 0.0);
        assert_eq!(kelly_notional(f64::NAN, 1.0, 0.0, 0.25, 1.0), 0.0);
        let z = kelly_notional_inv(5e-4, 4e-6, 1.0 / 4e-6, 25.0, 0.25, 1_000_000.0);
        assert!((z - y).abs() <= y.abs() * 1e-14, "{z} {y}");
        assert_eq!(
            kelly_notional_inv(5e-4, 0.0, f64::INFINITY, 0.0, 0.25, 1.0),
            0.0
        );
    }
}
