//! Typed errors for ITCH decoding, framing and encoding. Each says what went wrong and where.

/// A message or frame that could not be decoded. `offset` is a byte offset: into the slice
/// given to [`decode`](super::decode) (always 0 there), or into the whole input for errors from
/// the [`ItchFramer`](super::ItchFramer), where it is the offset of the frame's length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItchError {
    /// A zero-length message.
    #[error("empty message at byte {offset}")]
    Empty {
        /// Where the message should have started.
        offset: usize,
    },
    /// The type byte is not an ITCH 5.0 message type.
    #[error("unknown message type {msg_type:#04x} at byte {offset}")]
    UnknownType {
        /// Where the frame or message starts.
        offset: usize,
        /// The type byte found.
        msg_type: u8,
    },
    /// A message whose length is not the fixed length of its type.
    #[error(
        "message type {msg_type:#04x} at byte {offset} has {actual} bytes, expected {expected}"
    )]
    BadLength {
        /// Where the message starts.
        offset: usize,
        /// The type byte.
        msg_type: u8,
        /// The type's fixed length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A message handed to a view of another type.
    #[error("message at byte {offset} has type {found:#04x}, expected {expected:#04x}")]
    WrongType {
        /// Where the message starts.
        offset: usize,
        /// The view's type byte.
        expected: u8,
        /// The type byte found.
        found: u8,
    },
    /// A non-zero length prefix that disagrees with the length of the message type after it.
    #[error(
        "length prefix {prefix} at byte {offset} disagrees with type {msg_type:#04x} ({expected} bytes)"
    )]
    PrefixMismatch {
        /// Offset of the length prefix.
        offset: usize,
        /// The type byte after the prefix.
        msg_type: u8,
        /// The declared length.
        prefix: u16,
        /// The type's fixed length.
        expected: usize,
    },
    /// The input ends inside a frame.
    #[error("truncated frame at byte {offset}: needs {needed} bytes, {available} left")]
    Truncated {
        /// Offset of the frame's length prefix.
        offset: usize,
        /// Bytes the frame needs (prefix included).
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
}

impl ItchError {
    /// The byte offset the error refers to.
    pub const fn offset(&self) -> usize {
        match *self {
            ItchError::Empty { offset }
            | ItchError::UnknownType { offset, .. }
            | ItchError::BadLength { offset, .. }
            | ItchError::WrongType { offset, .. }
            | ItchError::PrefixMismatch { offset, .. }
            | ItchError::Truncated { offset, .. } => offset,
        }
    }
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The caller's buffer is shorter than the message.
    #[error("buffer of {available} bytes, message needs {needed}")]
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A timestamp that does not fit the 48-bit field.
    #[error("timestamp {0} ns does not fit 48 bits")]
    TimestampOutOfRange(u64),
    /// A price that is negative, finer than 4 decimals, or too large for its field.
    #[error("price (raw {raw} at 8 decimals) is not representable as an ITCH Price(4)")]
    PriceNotRepresentable {
        /// The raw value at 8 decimals.
        raw: i64,
    },
    /// A quantity that is negative, fractional, or too large for its field.
    #[error("quantity (raw {raw} at 8 decimals) is not a whole number of shares that fits")]
    QtyNotRepresentable {
        /// The raw value at 8 decimals.
        raw: i64,
    },
    /// An event with no ITCH equivalent (L2 level updates, book clears).
    #[error("{0} events have no ITCH 5.0 message")]
    Unsupported(&'static str),
}
