//! OFI-driven edge: `edge_bps = gain * normalised OFI` (OFI over the event window divided by the
//! mean top depth), clamped to `max_bps`. Confidence grows with the window's fill.

use crate::edge::ModelEdge;
use crate::signals::SignalValues;

/// Stateless OFI model.
#[derive(Clone, Copy, Debug)]
pub struct OfiEdge {
    /// Bps of edge per unit of normalised OFI.
    pub gain: f64,
    /// Largest absolute edge (bps).
    pub max_bps: f64,
    /// Confidence when the book is usable.
    pub confidence: f64,
}

impl OfiEdge {
    /// The model's edge for the current signals.
    #[inline]
    pub fn edge(&self, s: &SignalValues) -> ModelEdge {
        if !s.is_usable() {
            return ModelEdge::NONE;
        }
        let e = (self.gain * s.ofi_events_norm).clamp(-self.max_bps, self.max_bps);
        ModelEdge::new(e, self.confidence)
    }
}
