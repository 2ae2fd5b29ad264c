//! Small value types of the matching engine.

use kestrel_core::{InstrumentId, Price, Qty, Side};

/// Order reference numbers the venue gives participant orders start here, far above the
/// reference numbers of real captures (NASDAQ's are below 2^40; the LOBSTER importer's synthetic
/// orders start at 2^62).
pub const PARTICIPANT_REF_BASE: u64 = 1 << 61;

/// Who an order belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The replayed market: the capture's other participants.
    Background,
    /// A participant of the venue (a SoupBinTCP session, the backtest's strategy).
    Participant {
        /// The participant (session) id.
        id: u32,
        /// The firm: self-match prevention applies between orders of one firm.
        firm: u32,
    },
}

impl Owner {
    /// Whether this is a participant's order.
    #[inline]
    pub const fn is_participant(self) -> bool {
        matches!(self, Owner::Participant { .. })
    }

    /// The firm of a participant; `None` for the background.
    #[inline]
    pub const fn firm(self) -> Option<u32> {
        match self {
            Owner::Participant { firm, .. } => Some(firm),
            Owner::Background => None,
        }
    }
}

/// How long an order may rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    /// Rests until filled or cancelled (OUCH time in force 99998 / 99999, or a number of
    /// seconds that the venue enforces itself).
    Day,
    /// Immediate or cancel: whatever does not match at once is cancelled (OUCH time in force 0).
    Ioc,
}

/// What happens when an incoming order would trade with a resting order of the same firm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SmpPolicy {
    /// Let them trade.
    Off,
    /// Cancel what is left of the incoming order (NASDAQ's default anti-internalisation).
    #[default]
    CancelNewest,
    /// Cancel the resting order and keep matching.
    CancelOldest,
    /// Cancel both.
    CancelBoth,
}

/// A participant's new order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Limit price.
    pub price: Price,
    /// Quantity (positive).
    pub qty: Qty,
    /// Day or IOC.
    pub tif: TimeInForce,
    /// Whose.
    pub owner: Owner,
    /// The participant's own handle for it (e.g. its token slot), echoed in every event.
    pub tag: u64,
}

/// A live order, as the engine knows it: a slot and a generation, so a stale handle (an order
/// since filled or cancelled, its slot reused) is detected instead of touching another order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OrderHandle {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

/// Why an order was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// No such instrument.
    UnknownInstrument,
    /// The instrument is halted or paused.
    Halted,
    /// Quantity not positive.
    InvalidQty,
    /// Price not positive.
    InvalidPrice,
    /// The order pool is full.
    Capacity,
}

/// Why shares left an order without trading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// The participant asked (cancel, or a replace to zero).
    User,
    /// The unmatched rest of an IOC order.
    Ioc,
    /// Self-match prevention.
    SelfMatch,
    /// The participant's session disconnected (cancel on disconnect).
    Disconnect,
    /// The order's time in force ran out.
    Expired,
    /// The venue cancelled it (halt, end of session, operator).
    Supervisory,
    /// A background order's shares were cancelled by the replayed market.
    Market,
}

/// What a replace did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceOutcome {
    /// The order was replaced; the handle is the live order afterwards (the same slot when
    /// priority was kept). `None` when the replacement traded in full at once.
    Replaced(Option<OrderHandle>),
    /// The handle named no live order: nothing happened (OUCH ignores such a replace).
    UnknownOrder,
}
