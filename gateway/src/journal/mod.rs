//! The journal: an append-only binary audit log of every intent, risk decision, order sent,
//! venue message received, link change and parameter change.
//!
//! - [`Entry`] is what is recorded; [`JournalSink`] is where the gateway thread puts it.
//! - [`spawn`] starts the writer thread (off the hot path, fed through a ring; a full ring
//!   waits and is counted, nothing is dropped); records carry a CRC each; [`FsyncPolicy`] says
//!   when the file is synced.
//! - [`scan_file`] reads a journal back, telling a torn tail (cut on restart by
//!   [`cut_torn_tail`]) from corruption; [`recover`] rebuilds open orders, positions and the
//!   next venue sequence number from it.
//!
//! The byte format is in [`codec`].

pub mod codec;
mod entry;
mod reader;
mod recover;
mod writer;

pub use entry::{Entry, JournalSink, NullJournal, ParamName, SentMeta};
pub use reader::{BadRecord, Scan, cut_torn_tail, scan_bytes, scan_file};
pub use recover::{Recovery, recover, replay_entries};
pub use writer::{
    FsyncPolicy, JournalConfig, JournalHandle, JournalSender, WriterStats, open_for_append, spawn,
};

use std::path::PathBuf;

/// Why a journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// File I/O.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not a Kestrel journal.
    #[error("{0}: not a Kestrel journal (bad header)")]
    BadHeader(PathBuf),
    /// A version this build does not read.
    #[error("journal version {0} is not supported")]
    Version(u16),
    /// Bad writer settings.
    #[error("journal writer: {0}")]
    Config(String),
    /// The writer thread panicked.
    #[error("the journal writer thread panicked")]
    WriterPanicked,
    /// The journal is corrupt (bad records followed by good ones).
    #[error("journal corrupt: {count} bad record(s), first at byte {first_offset}: {reason}")]
    Corrupt {
        /// Bad records.
        count: usize,
        /// Offset of the first.
        first_offset: u64,
        /// What was wrong with it.
        reason: String,
    },
    /// The OMS could not be built.
    #[error(transparent)]
    Oms(#[from] crate::oms::OmsError),
}
