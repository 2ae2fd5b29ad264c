//! Counters of the edge cases a signal set met, and the guard that keeps non-finite values out.

/// Per-instrument counts of unusual books and of values that had to be clamped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalStats {
    /// Updates processed.
    pub updates: u64,
    /// Updates whose book had no levels.
    pub empty_books: u64,
    /// Updates whose book had one side only.
    pub one_sided_books: u64,
    /// Updates whose best bid equalled the best ask.
    pub locked_books: u64,
    /// Updates whose best bid was above the best ask.
    pub crossed_books: u64,
    /// Updates received while the instrument was not trading.
    pub halted_updates: u64,
    /// Signal values that came out NaN or infinite and were replaced by zero.
    pub nonfinite_clamped: u64,
    /// Trades whose aggressor was unknown (0).
    pub unknown_aggressor_trades: u64,
    /// Entries evicted early from a time window because its ring was full.
    pub time_window_overflows: u64,
}

impl SignalStats {
    /// `value` when finite, else zero with [`SignalStats::nonfinite_clamped`] counted.
    #[inline]
    pub fn finite(&mut self, value: f64) -> f64 {
        if value.is_finite() {
            value
        } else {
            self.nonfinite_clamped += 1;
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_counts() {
        let mut s = SignalStats::default();
        assert_eq!(s.finite(1.5), 1.5);
        assert_eq!(s.finite(f64::NAN), 0.0);
        assert_eq!(s.finite(f64::NEG_INFINITY), 0.0);
        assert_eq!(s.nonfinite_clamped, 2);
    }
}
