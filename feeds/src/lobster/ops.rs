//! The ITCH-level operations the importer emits: one variant per ITCH message it writes.

use kestrel_core::{Side, TradingStatus};

/// One ITCH message the importer will write (prices in dollars x 10^4 as in ITCH `Price(4)`,
/// sizes in shares).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOp {
    /// ITCH `A`: a new visible order.
    Add {
        /// Order reference number.
        order_ref: u64,
        /// Book side.
        side: Side,
        /// Price x 10^4.
        price: u32,
        /// Shares.
        shares: u32,
    },
    /// ITCH `E`: part or all of a resting order executes.
    Execute {
        /// Order reference number.
        order_ref: u64,
        /// Executed shares.
        shares: u32,
    },
    /// ITCH `C` marked non-printable: part or all of a resting order executes in a cross at
    /// `price`; the cross's `Q` prints the volume once.
    ExecuteNonPrintable {
        /// Order reference number.
        order_ref: u64,
        /// Executed shares.
        shares: u32,
        /// Cross price x 10^4.
        price: u32,
    },
    /// ITCH `X`: part of a resting order is cancelled.
    Cancel {
        /// Order reference number.
        order_ref: u64,
        /// Cancelled shares.
        shares: u32,
    },
    /// ITCH `D`: a resting order is removed.
    Delete {
        /// Order reference number.
        order_ref: u64,
    },
    /// ITCH `P`: a hidden order executes (no visible book change).
    HiddenTrade {
        /// Side of the hidden order.
        side: Side,
        /// Price x 10^4.
        price: u32,
        /// Shares.
        shares: u32,
    },
    /// ITCH `Q`: a cross trade.
    Cross {
        /// Price x 10^4.
        price: u32,
        /// Shares.
        shares: u64,
        /// ITCH cross type (`O`, `C`, `H` or `I`).
        cross_type: u8,
    },
    /// ITCH `H`: trading state change.
    Status(TradingStatus),
}

/// An [`ImportOp`] with its ITCH timestamp (nanoseconds after midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOp {
    /// Nanoseconds after midnight.
    pub ts: u64,
    /// The message.
    pub op: ImportOp,
}
