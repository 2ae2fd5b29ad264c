//! What the strategy asks the gateway to do.

use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::side::Side;
use crate::time::Timestamp;

/// How hard an intent should chase the market.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum Urgency {
    /// Join the book passively.
    #[default]
    Passive = 0,
    /// Improve or join at the touch.
    Normal = 1,
    /// Cross the spread now.
    Aggressive = 2,
}

/// Why an intent was produced.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum IntentReason {
    /// The blended edge moved the target position.
    #[default]
    Alpha = 0,
    /// Reducing exposure (risk mode change, limit, drawdown).
    RiskReduce = 1,
    /// Flattening everything (kill switch or halt mode).
    Flatten = 2,
}

/// An order the strategy wants worked. Crosses the strategy -> gateway ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct OrderIntent {
    /// Decision sequence (1, 2, 3, ...), for journals and determinism checks.
    pub seq: u64,
    /// Dense instrument id.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// How aggressively to work it.
    pub urgency: Urgency,
    /// Why.
    pub reason: IntentReason,
    /// Limit price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Time of the book update that caused it.
    pub decided_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_is_small() {
        assert!(
            core::mem::size_of::<OrderIntent>() <= 48,
            "{}",
            core::mem::size_of::<OrderIntent>()
        );
    }
}
