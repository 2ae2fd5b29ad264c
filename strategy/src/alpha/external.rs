//! The external-edge slot: an edge produced outside the strategy thread (the ML sidecar), held
//! per instrument and used like any model's while it is younger than a configured age.

use kestrel_core::Timestamp;

use crate::edge::ModelEdge;

/// The latest external edge of one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExternalEdge {
    /// The edge as produced.
    pub edge: ModelEdge,
    /// When it was produced (same clock as the updates' `recv_ts`).
    pub produced_at: Timestamp,
    /// Whether an edge was ever set.
    pub present: bool,
}

impl ExternalEdge {
    /// The edge if it is at most `max_age_ns` old at `now` (an edge stamped after `now` counts as
    /// fresh); no opinion otherwise.
    #[inline]
    pub fn edge_at(&self, now: Timestamp, max_age_ns: u64) -> ModelEdge {
        if self.present && now.saturating_since(self.produced_at) <= max_age_ns {
            self.edge
        } else {
            ModelEdge::NONE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_with_age() {
        let x = ExternalEdge {
            edge: ModelEdge::new(3.0, 0.5),
            produced_at: Timestamp(1_000),
            present: true,
        };
        assert_eq!(x.edge_at(Timestamp(1_500), 500), ModelEdge::new(3.0, 0.5));
        assert_eq!(x.edge_at(Timestamp(1_501), 500), ModelEdge::NONE);
        assert_eq!(x.edge_at(Timestamp(900), 500), ModelEdge::new(3.0, 0.5));
        assert_eq!(
            ExternalEdge::default().edge_at(Timestamp(0), 10),
            ModelEdge::NONE
        );
    }
}
