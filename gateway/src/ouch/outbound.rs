//! OUCH 4.2 outbound messages (NASDAQ to client, carried in SoupBinTCP Sequenced Data),
//! section 4 of the specification. Every one starts with the type byte and an 8-byte
//! timestamp (nanoseconds since midnight). Offsets count from the type byte at 0.

use super::error::{EncodeError, OuchError};
use super::field::WireField;
use super::types::InvalidCode;
use crate::wire;

ouch_messages! {
    /// A message the venue sends.
    "outbound", ServerMessageView, ServerMessage;

    /// `S` System Event (4.1): start or end of day.
    SystemEvent(SystemEventView, SystemEvent) = b'S', 10 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Event code.
        event: event @ 9,
    }

    /// `A` Accepted (4.2): the order is accepted (and is live, or already dead).
    Accepted(AcceptedView, Accepted) = b'A', 66 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// Buy/Sell Indicator.
        side: side @ 23,
        /// Shares accepted.
        shares: u32 @ 24,
        /// Stock symbol.
        stock: stock @ 28,
        /// Price accepted (may differ from the price entered).
        price: price @ 36,
        /// Time in Force.
        time_in_force: u32 @ 40,
        /// Firm.
        firm: firm @ 44,
        /// Display.
        display: u8 @ 48,
        /// Order Reference Number: the day-unique id NASDAQ gives the order (ITCH shows it).
        order_ref: u64 @ 49,
        /// Capacity.
        capacity: u8 @ 57,
        /// Intermarket Sweep Eligibility.
        iso: iso @ 58,
        /// Minimum Quantity.
        min_qty: u32 @ 59,
        /// Cross Type.
        cross_type: u8 @ 63,
        /// Order State: live or already dead.
        order_state: state @ 64,
        /// BBO Weight Indicator.
        bbo_weight: u8 @ 65,
    }

    /// `U` Replaced (4.3): the order was replaced; the replacement carries a new token.
    Replaced(ReplacedView, Replaced) = b'U', 80 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// The replacement's token.
        token: token @ 9,
        /// Buy/Sell Indicator.
        side: side @ 23,
        /// Shares of the replacement.
        shares: u32 @ 24,
        /// Stock symbol.
        stock: stock @ 28,
        /// Price.
        price: price @ 36,
        /// Time in Force.
        time_in_force: u32 @ 40,
        /// Firm.
        firm: firm @ 44,
        /// Display.
        display: u8 @ 48,
        /// Order Reference Number of the replacement.
        order_ref: u64 @ 49,
        /// Capacity.
        capacity: u8 @ 57,
        /// Intermarket Sweep Eligibility.
        iso: iso @ 58,
        /// Minimum Quantity.
        min_qty: u32 @ 59,
        /// Cross Type.
        cross_type: u8 @ 63,
        /// Order State.
        order_state: state @ 64,
        /// The token of the order replaced.
        previous_token: token @ 65,
        /// BBO Weight Indicator.
        bbo_weight: u8 @ 79,
    }

    /// `C` Canceled (4.4): the order's size was reduced (to zero, or partially).
    Canceled(CanceledView, Canceled) = b'C', 28 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// Shares taken off the order.
        decrement_shares: u32 @ 23,
        /// Reason (see [`cancel_reason`](super::types::cancel_reason)).
        reason: u8 @ 27,
    }

    /// `D` AIQ Canceled (4.5): cancelled by anti-internalisation (self-match prevention).
    AiqCanceled(AiqCanceledView, AiqCanceled) = b'D', 37 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// Shares taken off the order.
        decrement_shares: u32 @ 23,
        /// Reason (always `Q`).
        reason: u8 @ 27,
        /// Shares that would have executed.
        quantity_prevented: u32 @ 28,
        /// The price they would have executed at.
        execution_price: price @ 32,
        /// Liquidity flag they would have had.
        liquidity_flag: u8 @ 36,
    }

    /// `E` Executed (4.6): part or all of the order traded.
    Executed(ExecutedView, Executed) = b'E', 40 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// Shares executed.
        executed_shares: u32 @ 23,
        /// Execution price.
        execution_price: price @ 27,
        /// Liquidity flag (see [`liquidity`](super::types::liquidity)).
        liquidity_flag: u8 @ 31,
        /// Match Number: day-unique per execution (ITCH shows it too).
        match_number: u64 @ 32,
    }

    /// `B` Broken Trade (4.7): an execution was broken (reversed).
    BrokenTrade(BrokenTradeView, BrokenTrade) = b'B', 32 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// The execution broken.
        match_number: u64 @ 23,
        /// Reason (see [`broken_reason`](super::types::broken_reason)).
        reason: u8 @ 31,
    }

    /// `J` Rejected (4.8): an Enter Order was refused.
    Rejected(RejectedView, Rejected) = b'J', 24 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// Reason (see [`reject_reason`](super::types::reject_reason)).
        reason: u8 @ 23,
    }

    /// `P` Cancel Pending (4.9): a cancel arrived during a cross; it will apply after it.
    CancelPending(CancelPendingView, CancelPending) = b'P', 23 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
    }

    /// `I` Cancel Reject (4.10): a cancel of an order that cannot be cancelled now.
    CancelReject(CancelRejectView, CancelReject) = b'I', 23 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
    }

    /// `T` Order Priority Update (4.11): the order's price or display changed and it was
    /// given a new time priority.
    PriorityUpdate(PriorityUpdateView, PriorityUpdate) = b'T', 36 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// The order's new price.
        price: price @ 23,
        /// Display.
        display: u8 @ 27,
        /// Order Reference Number (may change).
        order_ref: u64 @ 28,
    }

    /// `M` Order Modified (4.12): the answer to a Modify Order.
    OrderModified(OrderModifiedView, OrderModified) = b'M', 28 {
        /// Nanoseconds since midnight.
        timestamp: u64 @ 1,
        /// Order Token.
        token: token @ 9,
        /// New Buy/Sell Indicator.
        side: side @ 23,
        /// Shares now on the order.
        shares: u32 @ 24,
    }
}

impl Accepted {
    /// The plain acceptance of `order`: everything it entered echoed back, live, with the
    /// venue's `order_ref` and no BBO weight.
    pub fn live(order: &super::EnterOrder, timestamp: u64, order_ref: u64) -> Self {
        Self {
            timestamp,
            token: order.token,
            side: order.side,
            shares: order.shares,
            stock: order.stock,
            price: order.price,
            time_in_force: order.time_in_force,
            firm: order.firm,
            display: order.display,
            order_ref,
            capacity: order.capacity,
            iso: order.iso,
            min_qty: order.min_qty,
            cross_type: order.cross_type,
            order_state: super::OrderState::Live,
            bbo_weight: super::types::bbo_weight::UNSPECIFIED,
        }
    }
}

impl ServerMessage {
    /// The order token the message is about (`None` for a System Event).
    pub const fn token(&self) -> Option<&super::types::Token> {
        match self {
            ServerMessage::SystemEvent(_) => None,
            ServerMessage::Accepted(m) => Some(&m.token),
            ServerMessage::Replaced(m) => Some(&m.token),
            ServerMessage::Canceled(m) => Some(&m.token),
            ServerMessage::AiqCanceled(m) => Some(&m.token),
            ServerMessage::Executed(m) => Some(&m.token),
            ServerMessage::BrokenTrade(m) => Some(&m.token),
            ServerMessage::Rejected(m) => Some(&m.token),
            ServerMessage::CancelPending(m) => Some(&m.token),
            ServerMessage::CancelReject(m) => Some(&m.token),
            ServerMessage::PriorityUpdate(m) => Some(&m.token),
            ServerMessage::OrderModified(m) => Some(&m.token),
        }
    }

    /// The venue timestamp (nanoseconds since midnight).
    pub const fn timestamp(&self) -> u64 {
        match self {
            ServerMessage::SystemEvent(m) => m.timestamp,
            ServerMessage::Accepted(m) => m.timestamp,
            ServerMessage::Replaced(m) => m.timestamp,
            ServerMessage::Canceled(m) => m.timestamp,
            ServerMessage::AiqCanceled(m) => m.timestamp,
            ServerMessage::Executed(m) => m.timestamp,
            ServerMessage::BrokenTrade(m) => m.timestamp,
            ServerMessage::Rejected(m) => m.timestamp,
            ServerMessage::CancelPending(m) => m.timestamp,
            ServerMessage::CancelReject(m) => m.timestamp,
            ServerMessage::PriorityUpdate(m) => m.timestamp,
            ServerMessage::OrderModified(m) => m.timestamp,
        }
    }
}
