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

/// What a [`TradePrint`] reports. Only [`TradeKind::Execution`], [`TradeKind::NonDisplayed`]
/// and [`TradeKind::Cross`] are prints (volume that happened); a [`TradeKind::Break`] takes an
/// earlier print back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TradeKind {
    /// No trade (the update was not one).
    #[default]
    None = 0,
    /// A visible resting order executed (ITCH `E`, printable `C`; LOBSTER type 4). The
    /// aggressor is the side opposite the resting order.
    Execution = 1,
    /// A non-displayed order executed (ITCH `P`, LOBSTER type 5). The book does not change and
    /// the aggressor is unknown (`P`'s side byte has been `B` on every print since 2014).
    NonDisplayed = 2,
    /// An auction cross (ITCH `Q`, LOBSTER type 6): the cross's whole volume, printed once. The
    /// book does not change (the executions of the cross are non-printable `C`s); no aggressor.
    Cross = 3,
    /// The print with this match number was broken (ITCH `B`): consumers that counted it take
    /// it back. Price and quantity are zero; the match number names the print.
    Break = 4,
}

/// A trade seen by the feed, attached to the book update it caused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct TradePrint {
    /// Execution price (zero for a break).
    pub price: Price,
    /// Executed quantity (zero when the update is not a print, and for a break).
    pub qty: Qty,
    /// The venue's day-unique match number (0 when the venue gives none, e.g. LOBSTER).
    pub match_number: u64,
    /// +1 buyer-initiated (hit the ask), -1 seller-initiated (hit the bid), 0 unknown (always 0
    /// for non-displayed and cross prints).
    pub aggressor: i8,
    /// What the print reports.
    pub kind: TradeKind,
}

impl TradePrint {
    /// Whether this is a print: traded volume (an execution, a non-displayed trade or a cross).
    #[inline]
    pub fn is_print(&self) -> bool {
        self.qty.is_positive()
            && matches!(
                self.kind,
                TradeKind::Execution | TradeKind::NonDisplayed | TradeKind::Cross
            )
    }

    /// Whether this takes back the earlier print [`Self::match_number`].
    #[inline]
    pub fn is_break(&self) -> bool {
        self.kind == TradeKind::Break
    }

    /// The signed volume for trade-sign signals: `Some(+qty)` buyer-initiated, `Some(-qty)`
    /// seller-initiated, `None` when this is not a print or its aggressor is unknown (such
    /// volume must not be read as a buy or a sell).
    #[inline]
    pub fn signed_qty(&self) -> Option<i64> {
        if !self.is_print() {
            return None;
        }
        match self.aggressor {
            1 => Some(self.qty.raw()),
            -1 => Some(-self.qty.raw()),
            _ => None,
        }
    }
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
    /// A later update of the same instrument follows in the same packet (capture record):
    /// the book shown here is not the packet's final book of this instrument, so a consumer
    /// that acts on what it sees decides on that later update instead (the strategy's signals
    /// still take this one in). Set only by the feed stage's `packet` publish policy; false
    /// on the packet's last update of each instrument, under `every_event`, and from every
    /// producer that does not group updates by packet (the default), so that each of their
    /// updates is a decision. Databento's DBN marks the same thing the other way round
    /// (`F_LAST`: last record in an event for an instrument). Not part of the update's
    /// content for the output hash (the same updates hash the same with or without it).
    pub more_in_packet: bool,
    /// Stage boundary timestamps on the pipeline clock (latency measurement only: not part of
    /// the update's content, so output hashes leave them out).
    pub stamps: Stamps,
}

impl BookUpdate {
    /// Whether this is the last update of its instrument in its packet (see
    /// [`Self::more_in_packet`]): the book a decision should be taken on.
    #[inline]
    pub fn is_last_in_packet(&self) -> bool {
        !self.more_in_packet
    }
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
        assert_eq!(core::mem::size_of::<TradePrint>(), 32);
        assert_eq!(core::mem::size_of::<TradeKind>(), 1);
        // The packet flag sits in the padding after `trading`: no bigger than before.
        assert_eq!(core::mem::size_of::<BookUpdate>(), 432);
        assert_eq!(core::mem::align_of::<BookUpdate>(), 8);
    }

    #[test]
    fn prints_breaks_and_signed_volume() {
        let q = Qty::from_units(7).unwrap();
        let print = |kind, aggressor| TradePrint {
            price: Price::ONE,
            qty: q,
            match_number: 9,
            aggressor,
            kind,
        };
        assert_eq!(print(TradeKind::Execution, 1).signed_qty(), Some(q.raw()));
        assert_eq!(print(TradeKind::Execution, -1).signed_qty(), Some(-q.raw()));
        // Unknown aggressor: volume, but neither a buy nor a sell.
        assert!(print(TradeKind::NonDisplayed, 0).is_print());
        assert_eq!(print(TradeKind::NonDisplayed, 0).signed_qty(), None);
        assert_eq!(print(TradeKind::Cross, 0).signed_qty(), None);
        // Not prints: no trade, and a break (even with a quantity).
        assert!(!TradePrint::default().is_print());
        assert!(!print(TradeKind::Break, 0).is_print());
        assert!(print(TradeKind::Break, 0).is_break());
        assert_eq!(print(TradeKind::None, 1).signed_qty(), None);
    }
}
