//! NASDAQ OUCH 4.2 order entry: every inbound (client) and outbound (venue) message, laid out
//! exactly as the specification's tables: fixed-width big-endian integers, alpha fields
//! left-justified and space padded, prices in 1/10,000, timestamps in nanoseconds since
//! midnight.
//!
//! - Decoding is zero-copy: [`ClientMessageView::decode`] / [`ServerMessageView::decode`] check
//!   the type, the length and every coded field once, and return views whose accessors are
//!   fixed-offset loads; `to_msg()` gives the owned, `Copy` form.
//! - Encoding writes the owned form into a caller's buffer (`encode`, or `write` into exactly
//!   the message's length) without allocating.
//!
//! The same codecs serve both sides: a client encodes inbound and decodes outbound messages, a
//! venue (the simulated exchange) the reverse.

#[macro_use]
mod macros;

mod error;
mod field;
pub mod inbound;
pub mod outbound;
pub mod types;

pub use error::{EncodeError, OuchError};
pub use inbound::*;
pub use outbound::*;
pub use types::{
    BuySell, EventCode, Firm, InvalidCode, IsoEligibility, OrderState, Price4, Stock, Token,
    bbo_weight, broken_reason, cancel_reason, capacity, cross_type, customer_type, display,
    liquidity, reject_reason, tif,
};

/// The longest OUCH 4.2 message (Replaced, 80 bytes).
pub const MAX_MESSAGE_LEN: usize = 80;

#[cfg(test)]
mod layout_tests {
    /// Each table's fields start right after the type byte, follow each other without gaps or
    /// overlaps and end exactly at the message length.
    #[test]
    fn every_layout_tiles_its_message() {
        for layouts in [super::inbound::LAYOUTS, super::outbound::LAYOUTS] {
            for (tag, len, fields) in layouts {
                let mut at = 1;
                for (name, off, width) in *fields {
                    assert_eq!(*off, at, "type {} field {name}", *tag as char);
                    at += width;
                }
                assert_eq!(at, *len, "type {} ends at {at}, length {len}", *tag as char);
                assert!(*len <= super::MAX_MESSAGE_LEN);
            }
        }
    }
}
