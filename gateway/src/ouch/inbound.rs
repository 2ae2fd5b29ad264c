//! OUCH 4.2 inbound messages (client to NASDAQ, carried in SoupBinTCP Unsequenced Data),
//! section 3 of the specification. Offsets count from the type byte at 0.

use super::error::{EncodeError, OuchError};
use super::field::WireField;
use super::types::InvalidCode;
use crate::wire;

ouch_messages! {
    /// A message a client sends.
    "inbound", ClientMessageView, ClientMessage;

    /// `O` Enter Order (3.1): a new order.
    EnterOrder(EnterOrderView, EnterOrder) = b'O', 49 {
        /// Order Token: day-unique per OUCH account.
        token: token @ 1,
        /// Buy/Sell Indicator.
        side: side @ 15,
        /// Shares: total number of shares, at most 999,999.
        shares: u32 @ 16,
        /// Stock symbol.
        stock: stock @ 20,
        /// Price, 1/10,000 dollars; `0x7FFFFFFF` is a market order in a cross.
        price: price @ 28,
        /// Time in Force: 0 IOC, 99,998 market hours, 99,999 system hours, else seconds.
        time_in_force: u32 @ 32,
        /// Firm (MPID), blank for the port's default.
        firm: firm @ 36,
        /// Display (see [`display`](super::types::display)).
        display: u8 @ 40,
        /// Capacity (see [`capacity`](super::types::capacity)).
        capacity: u8 @ 41,
        /// Intermarket Sweep Eligibility.
        iso: iso @ 42,
        /// Minimum Quantity (0: none).
        min_qty: u32 @ 43,
        /// Cross Type (see [`cross_type`](super::types::cross_type)).
        cross_type: u8 @ 47,
        /// Customer Type (see [`customer_type`](super::types::customer_type)).
        customer_type: u8 @ 48,
    }

    /// `U` Replace Order (3.2): replaces an order with a new token, price and size.
    ReplaceOrder(ReplaceOrderView, ReplaceOrder) = b'U', 47 {
        /// The token of the order being replaced.
        existing_token: token @ 1,
        /// The token of the replacement (day-unique, like a new order's).
        replacement_token: token @ 15,
        /// New total shares (the replacement's size, not a change).
        shares: u32 @ 29,
        /// New price.
        price: price @ 33,
        /// Time in Force.
        time_in_force: u32 @ 37,
        /// Display.
        display: u8 @ 41,
        /// Intermarket Sweep Eligibility.
        iso: iso @ 42,
        /// Minimum Quantity.
        min_qty: u32 @ 43,
    }

    /// `X` Cancel Order (3.3): reduces an order to `shares` (0 cancels it).
    CancelOrder(CancelOrderView, CancelOrder) = b'X', 19 {
        /// The order's token.
        token: token @ 1,
        /// The new intended size; 0 cancels the whole order.
        shares: u32 @ 15,
    }

    /// `M` Modify Order (3.4): changes the side between sell, sell short and sell short
    /// exempt, and/or reduces the size.
    ModifyOrder(ModifyOrderView, ModifyOrder) = b'M', 20 {
        /// The order's token.
        token: token @ 1,
        /// New Buy/Sell Indicator.
        side: side @ 15,
        /// New total shares.
        shares: u32 @ 16,
    }
}
