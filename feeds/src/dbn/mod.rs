//! Databento DBN (versions 1 to 3, plain or zstd) through the `dbn` crate: import into a
//! `.kcap` of v3 records, and the feed that builds books from them.
//!
//! - [`import`]: DBN file -> `.kcap` (records upgraded to v3, receive times kept).
//! - [`feed`]: [`DbnFeed`]: MBO into L3 books (snapshot, clear, `F_LAST` grouping), MBP-1 /
//!   TBBO / MBP-10 into L2 books, trades into events.
//! - [`checked`]: a record's typed view with its length checked (the `dbn` crate's is not).
//! - [`framing`]: the record headers walked before `dbn` decodes anything (a corrupt length
//!   would put the next record unaligned in `dbn`'s buffer).
//! - [`price`]: 1e-9 prices to 8-decimal fixed point, exactly.

pub mod checked;
pub mod error;
pub mod feed;
pub mod framing;
pub mod import;
pub mod price;
pub mod stats;

pub use error::{DbnError, DbnErrorKind};
pub use feed::{DbnBooks, DbnCaptureError, DbnFeed};
pub use import::{
    DbnBytes, DbnImportError, DbnImportReport, read_dbn_file, write_dbn_bytes, write_dbn_capture,
};
pub use stats::DbnStats;
