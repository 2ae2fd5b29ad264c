//! Typed errors for LOBSTER rows: what went wrong, on which line and in which column.

/// What was wrong with one field or row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LobsterErrorKind {
    /// The row has the wrong number of comma-separated fields.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Fields the file's shape calls for.
        expected: usize,
        /// Fields on this row.
        found: usize,
    },
    /// A field that should be an integer is not one (or does not fit in 64 bits).
    #[error("not an integer")]
    NotAnInteger,
    /// The time field is not `seconds[.fraction]` within a day.
    #[error("bad time (seconds[.fraction] after midnight, within a day)")]
    BadTime,
    /// The event type is not 1..=7.
    #[error("unknown event type {0}")]
    UnknownEventType(i64),
    /// The direction is neither 1 nor -1.
    #[error("direction {0} is neither 1 nor -1")]
    BadDirection(i64),
    /// A size that is negative or larger than an ITCH share count (u32).
    #[error("size {0} out of range")]
    BadSize(i64),
    /// A price that does not fit an ITCH `Price(4)` field.
    #[error("price {0} out of range")]
    BadPrice(i64),
    /// An order id that is negative or inside the range the importer reserves for synthetic
    /// orders.
    #[error("order id {0} is negative or inside the synthetic order range")]
    BadOrderId(i64),
    /// The book row has no columns or a column count that is not a multiple of 4.
    #[error("book row has {0} columns, not a positive multiple of 4")]
    BookShape(usize),
    /// A book level that is neither a real level nor the documented empty marker.
    #[error("level is neither a price with a positive size nor the empty marker")]
    BadLevel,
}

/// A malformed LOBSTER row: `line` is 1-based (line 1 is message / book row 1), `column` is
/// 1-based (0 when the whole row is at fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct LobsterError {
    /// 1-based line number in the file.
    pub line: usize,
    /// 1-based column, 0 for the whole row.
    pub column: usize,
    /// What was wrong.
    pub kind: LobsterErrorKind,
}
