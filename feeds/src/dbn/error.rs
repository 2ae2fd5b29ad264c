//! Typed errors of the DBN importer and feed: what and where (record index, byte offset).

/// What was wrong with one DBN record or stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbnErrorKind {
    /// The `dbn` crate could not decode the stream or a record (corrupt metadata, a record
    /// longer than the input, an unsupported version, ...).
    #[error("DBN decode: {0}")]
    Decode(String),
    /// The input ended inside a record.
    #[error("truncated record")]
    Truncated,
    /// A record type this version does not know (skipped).
    #[error("unknown record type 0x{0:02x}")]
    UnknownRecordType(u8),
    /// A record whose header length is shorter than its type's layout (a corrupt length).
    #[error("record type 0x{rtype:02x} is {len} bytes, shorter than its {need}-byte layout")]
    ShortRecord {
        /// The header's `rtype`.
        rtype: u8,
        /// The header's record length in bytes.
        len: usize,
        /// The layout's size in bytes.
        need: usize,
    },
    /// A capture record holding more bytes than the DBN record its header describes (each
    /// capture record carries exactly one DBN record).
    #[error("capture record of {bytes} bytes holds a {len}-byte DBN record and more")]
    LengthMismatch {
        /// The header's record length in bytes.
        len: usize,
        /// The capture record's length.
        bytes: usize,
    },
    /// A price with a nanodollar digit Kestrel's 8 decimals cannot hold.
    #[error("price {0} (1e-9 units) is finer than 8 decimals")]
    TooPrecise(i64),
    /// An order side that is neither bid nor ask where one is needed.
    #[error("side {0:?} is neither 'B' nor 'A'")]
    BadSide(char),
    /// An MBO action that is not A, C, M, R, T, F or N.
    #[error("unknown MBO action {0:?}")]
    BadAction(char),
    /// A record for an instrument id that the capture's instrument map does not name.
    #[error("unknown instrument id {0}")]
    UnknownInstrument(u32),
    /// The book refused the event (unknown order, duplicate id, ...).
    #[error("book: {0}")]
    Book(String),
    /// The kcap's instrument map record is malformed.
    #[error("instrument map record: {0}")]
    InstrumentMap(&'static str),
}

/// A DBN record that could not be used, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record} (byte {offset} of the record section): {kind}")]
pub struct DbnError {
    /// 0-based record index.
    pub record: u64,
    /// Byte offset of the record in the (decompressed) record section.
    pub offset: u64,
    /// What was wrong.
    pub kind: DbnErrorKind,
}
