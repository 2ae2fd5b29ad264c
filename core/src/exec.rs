//! What crosses between the strategy and the gateway, besides the intent itself.
//!
//! - [`GatewayInput`]: the strategy stage's output, one per book update (the market the gateway
//!   needs for its pre-trade checks, marks, execution algorithms and TCA) and one per order
//!   intent. Carrying both on one ring keeps them in order in every run mode.
//! - [`ExecReport`]: the gateway's answer, on its own ring back to the strategy stage: acks,
//!   fills, completions and rejections. The strategy's positions come from these fills, never
//!   from its own intents.

use crate::clock::{Stamped, Stamps};
use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::order::OrderIntent;
use crate::side::Side;
use crate::time::Timestamp;
use crate::top::BookUpdate;

/// What a [`GatewayInput`] carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum GatewayInputKind {
    /// The market after a book update (no intent).
    #[default]
    Market = 0,
    /// An order intent, with the market it was decided on.
    Intent = 1,
}

/// The top of one instrument's book as the gateway sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct MarketTop {
    /// Best bid (zero when the side is empty).
    pub bid: Price,
    /// Quantity at the best bid.
    pub bid_qty: Qty,
    /// Best ask (zero when the side is empty).
    pub ask: Price,
    /// Quantity at the best ask.
    pub ask_qty: Qty,
    /// Price of the trade in this update (zero when none).
    pub trade_price: Price,
    /// Quantity of the trade in this update (zero when none).
    pub trade_qty: Qty,
}

impl MarketTop {
    /// The top of `update`'s book and its trade.
    pub fn from_update(u: &BookUpdate) -> Self {
        let (bid, bid_qty) = u
            .top
            .best_bid()
            .map_or((Price::ZERO, Qty::ZERO), |l| (l.price, l.qty));
        let (ask, ask_qty) = u
            .top
            .best_ask()
            .map_or((Price::ZERO, Qty::ZERO), |l| (l.price, l.qty));
        Self {
            bid,
            bid_qty,
            ask,
            ask_qty,
            trade_price: u.trade.price,
            trade_qty: u.trade.qty,
        }
    }

    /// Whether both sides have a price.
    #[inline]
    pub fn two_sided(&self) -> bool {
        self.bid.is_positive() && self.ask.is_positive()
    }

    /// The mid price, when both sides have a price (rounded down to the 1e-8 grid).
    #[inline]
    pub fn mid(&self) -> Option<Price> {
        self.two_sided().then(|| {
            Price::from_raw(
                self.bid.raw() / 2
                    + self.ask.raw() / 2
                    + (self.bid.raw() % 2 + self.ask.raw() % 2) / 2,
            )
        })
    }
}

/// One event on the strategy -> gateway ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct GatewayInput {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Market only, or an intent.
    pub kind: GatewayInputKind,
    /// Whether the instrument is trading (false: halted, paused, not open).
    pub trading: bool,
    /// Event time of the book update (venue time, or receive time when the venue gave none):
    /// the injected clock of a backtest.
    pub event_time: Timestamp,
    /// The market after the update.
    pub top: MarketTop,
    /// The intent (meaningful when `kind` is [`GatewayInputKind::Intent`]).
    pub intent: OrderIntent,
    /// Pipeline stamps of the book update behind this input: `recv` is the return of the
    /// receive call that brought its packet (tick-to-trade starts there).
    pub stamps: Stamps,
}

impl GatewayInput {
    /// The market after `update`.
    pub fn market(update: &BookUpdate, event_time: Timestamp) -> Self {
        Self {
            instrument: update.instrument,
            kind: GatewayInputKind::Market,
            trading: update.trading,
            event_time,
            top: MarketTop::from_update(update),
            intent: OrderIntent::default(),
            stamps: update.stamps,
        }
    }

    /// `intent`, decided on `update`.
    pub fn intent(update: &BookUpdate, event_time: Timestamp, intent: OrderIntent) -> Self {
        Self {
            kind: GatewayInputKind::Intent,
            intent,
            ..Self::market(update, event_time)
        }
    }
}

impl Stamped for GatewayInput {
    #[inline]
    fn stamps(&self) -> &Stamps {
        &self.stamps
    }

    #[inline]
    fn stamps_mut(&mut self) -> &mut Stamps {
        &mut self.stamps
    }
}

/// What an [`ExecReport`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExecKind {
    /// The venue accepted the order; it is working.
    #[default]
    Accepted = 0,
    /// Part or all of the order traded: `qty` at `price`.
    Fill = 1,
    /// The order is finished without trading `qty` more (cancelled, expired, accepted dead):
    /// that quantity is no longer working.
    Done = 2,
    /// The venue rejected the order: `qty` is no longer working. `reason` is the venue's code.
    Rejected = 3,
    /// The gateway's pre-trade checks refused the intent before any byte left: `qty` is not
    /// working. `reason` is the check's code.
    RiskRejected = 4,
    /// The venue replaced the order (new price or size in `price` / `leaves`).
    Replaced = 5,
    /// The venue broke an earlier fill: `qty` at `price` is reversed.
    Broken = 6,
}

/// One execution report, gateway -> strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct ExecReport {
    /// The intent the order came from (0 for orders the gateway did not get from an intent,
    /// e.g. recovered from the venue).
    pub intent_seq: u64,
    /// The gateway's order id (unique across reconnects and restarts).
    pub order: u64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// What happened.
    pub kind: ExecKind,
    /// Venue reason code (cancel, reject) or the pre-trade check's code; 0 when none.
    pub reason: u8,
    /// Fill quantity, or the quantity no longer working.
    pub qty: Qty,
    /// Fill price (or the order's price).
    pub price: Price,
    /// Quantity still working on the order after this report.
    pub leaves: Qty,
    /// Venue timestamp (nanoseconds since midnight as the venue sends it; 0 for risk rejects).
    pub venue_time: Timestamp,
    /// Gateway clock when the report was made.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_events_are_small_and_fixed() {
        assert_eq!(core::mem::size_of::<ExecReport>(), 64);
        assert!(
            core::mem::size_of::<GatewayInput>() <= 192,
            "{}",
            core::mem::size_of::<GatewayInput>()
        );
    }

    #[test]
    fn mid_is_exact_or_rounds_down() {
        let t = MarketTop {
            bid: Price::from_raw(101),
            ask: Price::from_raw(104),
            ..Default::default()
        };
        assert_eq!(t.mid(), Some(Price::from_raw(102)));
        let one_sided = MarketTop {
            bid: Price::from_raw(101),
            ..Default::default()
        };
        assert_eq!(one_sided.mid(), None);
    }
}
