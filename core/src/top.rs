//! The compact book snapshot that the feed stage publishes to the strategy stage.

use crate::clock::{Stamped, Stamps};
use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::side::Side;
use crate::time::Timestamp;

/// Levels per side carried in a [`BookTop`].
pub const TOP_LEVELS: usize = 10;

/// One aggregated price level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct LevelView {
    /// Level price.
    pub price: Price,
    /// Total visible quantity at the price.
    pub qty: Qty,
}

/// The best [`TOP_LEVELS`] levels of each side; `bids[0]` and `asks[0]` are the best.
/// Only the first `bid_levels` / `ask_levels` entries are meaningful.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct BookTop {
    /// Bid levels, best (highest) first.
    pub bids: [LevelView; TOP_LEVELS],
    /// Ask levels, best (lowest) first.
    pub asks: [LevelView; TOP_LEVELS],
    /// Number of valid bid levels.
    pub bid_levels: u8,
    /// Number of valid ask levels.
    pub ask_levels: u8,
}

impl BookTop {
    /// Best bid, if any.
    #[inline]
    pub fn best_bid(&self) -> Option<LevelView> {
        (self.bid_levels > 0).then(|| self.bids[0])
    }

    /// Best ask, if any.
    #[inline]
    pub fn best_ask(&self) -> Option<LevelView> {
        (self.ask_levels > 0).then(|| self.asks[0])
    }

    /// The valid levels of one side, best first.
    #[inline]
    pub fn side(&self, side: Side) -> &[LevelView] {
        match side {
            Side::Buy => &self.bids[..usize::from(self.bid_levels)],
            Side::Sell => &self.asks[..usize::from(self.ask_levels)],
        }
    }
}

/// A trade seen by the feed, attached to the book update it caused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct TradePrint {
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub qty: Qty,
    /// +1 buyer-initiated (hit the ask), -1 seller-initiated (hit the bid), 0 unknown.
    pub aggressor: i8,
}

/// What the feed stage sends down the ring after each book-changing event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct BookUpdate {
    /// Dense instrument id.
    pub instrument: InstrumentId,
    /// Feed-wide sequence of this update (1, 2, 3, ... in publish order).
    pub seq: u64,
    /// Venue timestamp of the event.
    pub exch_ts: Timestamp,
    /// Receive (wire or capture) timestamp of the packet that carried it.
    pub recv_ts: Timestamp,
    /// The book after the event.
    pub top: BookTop,
    /// The trade this event was, if it was one (`qty` zero when not).
    pub trade: TradePrint,
    /// Whether the instrument is trading (not halted or paused).
    pub trading: bool,
    /// Stage boundary timestamps on the pipeline clock (latency measurement only: not part of
    /// the update's content, so output hashes leave them out).
    pub stamps: Stamps,
}

impl Stamped for BookUpdate {
    #[inline]
    fn stamps(&self) -> &Stamps {
        &self.stamps
    }

    #[inline]
    fn stamps_mut(&mut self) -> &mut Stamps {
        &mut self.stamps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_fixed() {
        assert_eq!(core::mem::size_of::<LevelView>(), 16);
        assert_eq!(core::mem::size_of::<BookTop>(), 2 * TOP_LEVELS * 16 + 8);
        assert!(
            core::mem::size_of::<BookUpdate>() <= 432,
            "{}",
            core::mem::size_of::<BookUpdate>()
        );
    }
}
