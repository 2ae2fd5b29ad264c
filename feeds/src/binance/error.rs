//! Typed errors of the Binance decoder, synchroniser and capture reader: what went wrong and
//! where (capture line, byte offset in the JSON, field, level index).

use kestrel_core::FixedError;

/// What was wrong with one Binance message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinanceErrorKind {
    /// The JSON itself is malformed (syntax, wrong value type) at this byte offset.
    #[error("malformed JSON at byte {offset}: {reason}")]
    Json {
        /// Byte offset in the message.
        offset: usize,
        /// The parser's description.
        reason: String,
    },
    /// A field the message type requires is absent.
    #[error("{message} without field {field:?}")]
    MissingField {
        /// The message type.
        message: &'static str,
        /// The field.
        field: &'static str,
    },
    /// The event type (`"e"`) is not one Kestrel decodes.
    #[error("unknown event type {0:?}")]
    UnknownEvent(String),
    /// The message is not a depth diff, book ticker, trade, aggregate trade or depth snapshot.
    #[error("message shape not recognised (no event type, no lastUpdateId, no bookTicker fields)")]
    UnknownShape,
    /// A price or quantity string is not a decimal Kestrel can hold exactly.
    #[error("field {field:?} (level {level}): {error}")]
    Number {
        /// The field.
        field: &'static str,
        /// Index of the level within its side (0 for scalar fields).
        level: usize,
        /// Why.
        error: FixedError,
    },
    /// A price with more decimals (or off the tick grid) than the instrument allows.
    #[error("{field} {value} is not a multiple of the instrument's {what} {step}")]
    OffGrid {
        /// The field.
        field: &'static str,
        /// The value as read.
        value: String,
        /// "tick size" or "lot size".
        what: &'static str,
        /// The instrument's step.
        step: String,
    },
    /// A symbol that is not in the instrument table.
    #[error("unknown symbol {0:?}")]
    UnknownSymbol(String),
    /// More levels than the decoder's scratch space holds.
    #[error("more than {0} levels on one side")]
    TooManyLevels(usize),
    /// A depth diff that does not continue the one before it: the book is invalid until the
    /// next snapshot.
    #[error("depth gap: diff U={first} u={last} pu={prev:?} does not continue update {after:?}")]
    Gap {
        /// The update id the book stood at.
        after: Option<u64>,
        /// The diff's first update id.
        first: u64,
        /// The diff's final update id.
        last: u64,
        /// The diff's previous final update id (futures).
        prev: Option<u64>,
    },
    /// A snapshot older than the first diff buffered after it: it cannot be bridged; the book
    /// stays invalid until a newer snapshot.
    #[error(
        "snapshot lastUpdateId={last_update_id} is older than the first buffered diff (U={first_buffered})"
    )]
    SnapshotTooOld {
        /// The snapshot's id.
        last_update_id: u64,
        /// The first buffered diff's first update id.
        first_buffered: u64,
    },
    /// A negative price or quantity.
    #[error("field {field:?}: negative value {value}")]
    Negative {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// A depth snapshot whose instrument cannot be told (no symbol and several instruments).
    #[error("depth snapshot for unknown instrument id {0}")]
    SnapshotInstrument(u32),
}

/// A Binance message that could not be used, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record}: {kind}")]
pub struct BinanceError {
    /// 1-based record (capture line or kcap record) number; 0 when unknown.
    pub record: u64,
    /// What was wrong.
    pub kind: BinanceErrorKind,
}

/// A line of a raw `<local ns> <json>` capture that is not of that form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureLineError {
    /// No space between the receive time and the JSON.
    #[error("line {line}: no space after the receive time")]
    NoSeparator {
        /// 1-based line number.
        line: u64,
    },
    /// The receive time is not an integer number of nanoseconds.
    #[error("line {line}: receive time is not an integer (ns since the epoch)")]
    BadTime {
        /// 1-based line number.
        line: u64,
    },
}
