//! LOBSTER import: message and book CSV parsing, and the conversion of a LOBSTER event stream
//! into ITCH 5.0 operations with an explicit model of what LOBSTER does not show (the book
//! before the capture and liquidity beyond the N-level window).

mod capture;
mod error;
mod fields;
mod files;
mod import;
mod message;
mod model;
mod ops;
mod orderbook;
mod updates;
mod verify;

pub use capture::{
    CaptureWriteError, FIRST_OP_SEQUENCE, LOBSTER_CHANNEL, LOBSTER_SESSION, SYMBOL_LOCATE,
    lobster_header, op_sequence, write_lobster_capture,
};
pub use error::{LobsterError, LobsterErrorKind};
pub use files::{
    open_lobster, parse_messages, parse_orderbook, read_lobster_text, read_messages, read_orderbook,
};
pub use import::{
    EventSpan, ImportPlan, ImportReport, LevelMismatch, MISMATCH_DETAIL_LIMIT, UnappliedEvent,
    plan_import,
};
pub use message::{
    CrossKind, LobsterEventType, LobsterMessage, SYNTHETIC_REF_BASE, parse_message_row,
};
pub use model::{ImportBook, ModelError, Removal, is_synthetic};
pub use ops::{ImportOp, TimedOp};
pub use orderbook::{BookLevel, BookRow, EMPTY_ASK_PRICE, EMPTY_BID_PRICE, parse_book_row};
pub use updates::{LobsterReplayError, LobsterUpdates, lobster_updates, plan_updates};
pub use verify::{VerifyError, VerifyReport, verify_capture, verify_lobster, verify_plan};
