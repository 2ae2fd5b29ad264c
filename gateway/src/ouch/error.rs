//! Typed OUCH errors: what went wrong and where in the message.

/// Bytes that are not a valid OUCH 4.2 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OuchError {
    /// No bytes at all.
    #[error("empty OUCH message")]
    Empty,
    /// A type byte that is not an OUCH 4.2 message of the direction decoded.
    #[error("type {msg_type:#04x} is not an OUCH 4.2 {direction} message")]
    UnknownType {
        /// The type byte.
        msg_type: u8,
        /// `inbound` or `outbound`.
        direction: &'static str,
    },
    /// A message whose length is not its type's fixed length.
    #[error("OUCH message type {msg_type:#04x} has {actual} bytes, expected {expected}")]
    BadLength {
        /// The type byte.
        msg_type: u8,
        /// The type's length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A message handed to a view of another type.
    #[error("OUCH message has type {found:#04x}, expected {expected:#04x}")]
    WrongType {
        /// The view's type byte.
        expected: u8,
        /// The type byte found.
        found: u8,
    },
    /// A coded field with a value outside its code set.
    #[error(
        "OUCH message type {msg_type:#04x}: {field} at byte {offset} has invalid code {value:#04x}"
    )]
    BadField {
        /// The type byte.
        msg_type: u8,
        /// The field.
        field: &'static str,
        /// Its offset in the message.
        offset: usize,
        /// The byte found.
        value: u8,
    },
}

/// Why a message could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The caller's buffer is shorter than the message.
    #[error("buffer of {available} bytes, OUCH message needs {needed}")]
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}
