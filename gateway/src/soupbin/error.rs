//! Typed SoupBinTCP errors: what went wrong and where.

/// Bytes that are not a valid SoupBinTCP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SoupError {
    /// A length field of zero: a packet must hold at least its type byte.
    #[error("packet at byte {offset} has length 0 (no packet type)")]
    ZeroLength {
        /// Offset of the length field in the buffer scanned.
        offset: usize,
    },
    /// The buffer given to a decoder is not exactly one packet.
    #[error("packet needs {needed} bytes, {available} given")]
    Truncated {
        /// Bytes the length field announces (length field included).
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// A packet type this side never receives.
    #[error("packet type {packet_type:#04x} is not a SoupBinTCP {direction} packet")]
    UnknownType {
        /// The type byte.
        packet_type: u8,
        /// `server` or `client`: the direction being decoded.
        direction: &'static str,
    },
    /// A fixed-size packet with the wrong payload length.
    #[error("packet type {packet_type:#04x} has a {actual}-byte payload, expected {expected}")]
    BadLength {
        /// The type byte.
        packet_type: u8,
        /// The spec's payload length.
        expected: usize,
        /// The payload length found.
        actual: usize,
    },
    /// A numeric field holding something other than digits and padding.
    #[error("{field} is not a space-padded decimal number (byte {index} of the field)")]
    BadNumeric {
        /// The field.
        field: &'static str,
        /// Index of the bad byte in the field (or the field length on overflow).
        index: usize,
    },
    /// A login reject code other than `A` or `S`.
    #[error("login reject reason {0:#04x} is neither 'A' nor 'S'")]
    BadRejectReason(u8),
    /// An alpha field with a byte outside printable ASCII.
    #[error("{field} holds a byte outside printable ASCII")]
    BadAlpha {
        /// The field.
        field: &'static str,
    },
}

/// Why a packet could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The caller's buffer is shorter than the packet.
    #[error("buffer of {available} bytes, packet needs {needed}")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A payload longer than the two-byte length field allows.
    #[error("payload of {0} bytes exceeds the SoupBinTCP maximum of 65534")]
    PayloadTooLong(usize),
    /// A field value that does not fit its width or is not printable ASCII.
    #[error("{field} does not fit its {width}-byte field")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its width.
        width: usize,
    },
}
