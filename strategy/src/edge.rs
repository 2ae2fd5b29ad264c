//! The unit every alpha model speaks: an edge in basis points and a confidence.

/// One model's opinion about one instrument's next move.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelEdge {
    /// Expected move of the mid over the model's horizon, in basis points (+ up, - down).
    pub edge_bps: f64,
    /// How much the model trusts this opinion, in `[0, 1]`; zero means "no opinion".
    pub confidence: f64,
}

impl ModelEdge {
    /// No opinion.
    pub const NONE: Self = Self {
        edge_bps: 0.0,
        confidence: 0.0,
    };

    /// An edge with its confidence clamped into `[0, 1]`; non-finite inputs give no opinion.
    pub fn new(edge_bps: f64, confidence: f64) -> Self {
        if !edge_bps.is_finite() || !confidence.is_finite() {
            return Self::NONE;
        }
        Self {
            edge_bps,
            confidence: confidence.clamp(0.0, 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_is_no_opinion() {
        assert_eq!(ModelEdge::new(f64::NAN, 1.0), ModelEdge::NONE);
        assert_eq!(ModelEdge::new(1.0, f64::INFINITY), ModelEdge::NONE);
        assert_eq!(ModelEdge::new(3.0, 2.0).confidence, 1.0);
    }
}
