//! Order-book pressure: `edge_bps = gain * imbalance` (gain 25 by default), imbalance from the
//! top of book or the weighted depth.

use crate::edge::ModelEdge;
use crate::signals::SignalValues;

/// Which imbalance drives the pressure model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImbalanceSource {
    /// Best bid/ask sizes only.
    Top,
    /// Weighted multi-level depth.
    #[default]
    Depth,
}

/// Stateless pressure model.
#[derive(Clone, Copy, Debug)]
pub struct BookPressure {
    /// Bps of edge per unit of imbalance.
    pub gain: f64,
    /// Confidence when the book is usable.
    pub confidence: f64,
    /// Imbalance used.
    pub source: ImbalanceSource,
}

impl BookPressure {
    /// The model's edge for the current signals.
    #[inline]
    pub fn edge(&self, s: &SignalValues) -> ModelEdge {
        if !s.is_usable() {
            return ModelEdge::NONE;
        }
        let imbalance = match self.source {
            ImbalanceSource::Top => s.top_imbalance,
            ImbalanceSource::Depth => s.depth_imbalance,
        };
        ModelEdge::new(self.gain * imbalance, self.confidence)
    }
}
