//! One order as the OMS tracks it, and its state machine's states.

use kestrel_core::{InstrumentId, Price, Side, Timestamp};

/// Where an order stands. Only venue messages move an order between states (and the OMS's own
/// sends into the pending states).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrdStatus {
    /// Sent, not yet accepted.
    #[default]
    PendingNew = 0,
    /// Accepted and working, nothing filled.
    Live = 1,
    /// Working with part filled.
    PartiallyFilled = 2,
    /// Completely filled (done).
    Filled = 3,
    /// A cancel was sent; not yet confirmed.
    PendingCancel = 4,
    /// Cancelled, expired or accepted dead (done).
    Cancelled = 5,
    /// A replace was sent; not yet confirmed.
    PendingReplace = 6,
    /// Rejected by the venue (done).
    Rejected = 7,
}

impl OrdStatus {
    /// Whether the order is finished.
    #[inline]
    pub const fn is_done(self) -> bool {
        matches!(
            self,
            OrdStatus::Filled | OrdStatus::Cancelled | OrdStatus::Rejected
        )
    }

    /// Lower-case name for journals and reports.
    pub const fn name(self) -> &'static str {
        match self {
            OrdStatus::PendingNew => "pending_new",
            OrdStatus::Live => "live",
            OrdStatus::PartiallyFilled => "partially_filled",
            OrdStatus::Filled => "filled",
            OrdStatus::PendingCancel => "pending_cancel",
            OrdStatus::Cancelled => "cancelled",
            OrdStatus::PendingReplace => "pending_replace",
            OrdStatus::Rejected => "rejected",
        }
    }

    /// From [`OrdStatus::name`]'s code (`as u8`).
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => OrdStatus::PendingNew,
            1 => OrdStatus::Live,
            2 => OrdStatus::PartiallyFilled,
            3 => OrdStatus::Filled,
            4 => OrdStatus::PendingCancel,
            5 => OrdStatus::Cancelled,
            6 => OrdStatus::PendingReplace,
            7 => OrdStatus::Rejected,
            _ => return None,
        })
    }
}

/// No parent (an order straight from an intent).
pub const NO_PARENT: u32 = u32::MAX;

/// A replace in flight: what the order becomes when the venue confirms it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PendingReplace {
    /// Order number of the replacement token.
    pub number: u64,
    /// New price.
    pub price: Price,
    /// New total shares.
    pub shares: u32,
}

/// One order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Order {
    /// Order number of its first token: the OMS's order id for life.
    pub id: u64,
    /// Order number of the token in force (changes on replace).
    pub number: u64,
    /// The intent it came from (0: none).
    pub intent_seq: u64,
    /// Parent (execution algorithm) slot, or [`NO_PARENT`].
    pub parent: u32,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// State.
    pub status: OrdStatus,
    /// The state to go back to if a pending cancel or replace is refused.
    pub prior: OrdStatus,
    /// Limit price.
    pub price: Price,
    /// Total shares (the latest accepted size).
    pub shares: u32,
    /// Shares filled so far.
    pub filled: u32,
    /// Shares still working.
    pub leaves: u32,
    /// Time in force sent.
    pub tif: u32,
    /// The venue's order reference number (0 until accepted).
    pub order_ref: u64,
    /// When the order was sent (gateway clock).
    pub sent_at: Timestamp,
    /// Market mid when the order was sent (TCA arrival price; zero when none).
    pub arrival_mid: Price,
    /// A replace in flight.
    pub replace: Option<PendingReplace>,
    /// The venue has accepted it.
    pub acked: bool,
    /// Shares the pending cancel reduces the order to (0: a full cancel).
    pub cancel_to: u32,
}

impl Order {
    /// Whether the order can still trade (accepted or about to be, not done).
    #[inline]
    pub fn is_open(&self) -> bool {
        !self.status.is_done()
    }
}
