//! NASDAQ TotalView-ITCH 5.0: zero-copy decoding, file framing, encoding and normalisation.
//!
//! - [`decode`] turns one message's bytes into a [`Message`]: a 16-byte enum of zero-copy
//!   views (`AddOrder`, `OrderExecuted`, ...) whose accessors read big-endian fields at fixed
//!   offsets. [`message_len`] gives each type's fixed length.
//! - [`ItchFramer`] walks a whole file (2-byte length prefix per message, zero meaning "frame by
//!   type") and recovers from bad bytes with typed, offset-carrying errors.
//! - The `...Msg` structs are the owned forms; each `encode`s into a caller buffer.
//!   [`encode_event`] writes the message for a normalised book event.
//! - [`ItchNormalizer`] turns messages into [`kestrel_core::MarketEvent`]s;
//!   [`ItchNormalizer::apply_direct`] applies the order messages straight to the books
//!   ([`direct`]).

#[macro_use]
mod macros;

pub mod direct;
pub mod encode;
pub mod error;
pub mod framer;
pub mod messages;
pub mod msg_type;
pub mod normalize;
mod wire;

pub use direct::{DirectApply, OrderMessage};
pub use encode::{encode_event, price4, shares, stock_field, trading_state_code};
pub use error::{EncodeError, ItchError};
pub use framer::{Frame, FramerStats, ItchFramer, PREFIX_LEN};
pub use messages::*;
pub use msg_type::{MESSAGE_TYPE_COUNT, MessageType, message_len};
pub use normalize::{ItchNormalizer, LOCATE_CODES, NormalizerStats};
pub use wire::MAX_TIMESTAMP;
