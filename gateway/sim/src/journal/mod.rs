//! The venue's journal: what a real exchange keeps across a restart.
//!
//! Every call that changes the venue's state is written to an append-only file before it
//! takes effect (write-ahead): the start of the day, each participant message as it arrives
//! (with its arrival time), each disconnect, each step of the venue clock that does work
//! (replayed market events, orders reaching the engine, responses reaching the participants'
//! streams, market data published) and the end of the day. The venue is deterministic (the
//! background market comes from the capture, each latency stream has its own seeded
//! generator), so a restarted venue that replays the journal against the same capture and
//! configuration rebuilds exactly the state it had: the book with every open order in its
//! queue position, each participant's sequenced OUCH stream (a client logging in again at its
//! next sequence number receives every message it missed), the fills, and the MoldUDP64
//! message store and sequence (re-requests for market data published before the restart are
//! answered). This is the journal-and-replay recovery of LMAX-style matching engines
//! (exchange-core journals its commands the same way).
//!
//! File layout (little-endian): a header (`KSIMJRNL`, version, fingerprint of the capture and
//! the settings that decide the venue's behaviour, CRC) then records `{u16 body length, body,
//! u32 CRC-32 of the body}`. A record cut short by a crash (a torn tail) is detected by its
//! length or CRC, reported and cut before appending. A journal written for another capture or
//! configuration is refused.
//!
//! Durability: each record is one `write` system call on an unbuffered file, so a killed
//! process (`kill -9`) loses nothing; `sync = true` adds an `fdatasync` per record for power
//! loss.

mod file;
mod record;

pub use file::{JournalError, JournalWriter, ReadJournal, fingerprint, read_journal};
pub use record::{Record, RecordError};
