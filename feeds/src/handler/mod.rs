//! The feed handler: the one loop that replay, verify and the pipeline share.
//!
//! capture records (`.kcap` or pcap) -> MoldUDP64 parse -> [`MoldSequencer`](crate::moldudp64::MoldSequencer)
//! -> ITCH decode -> [`ItchNormalizer`](crate::itch::ItchNormalizer) -> [`L3Books`](kestrel_core::book::L3Books)
//! -> the caller's [`EventSink`], with each record's receive time. A raw NASDAQ ITCH file goes
//! through the framer instead of MoldUDP64. Every anomaly (capture damage, malformed packets,
//! duplicates, gaps, decode errors, unknown orders, ...) is counted in one [`HandlerStats`];
//! nothing stops the stream.

mod capture;
mod feed;
mod itch_file;
mod prefetch;
mod sink;
mod source;
mod stats;

pub use capture::{ReplayError, header_instruments};
pub use feed::{BatchPrefetch, FeedHandler, HandlerConfig, combined_book_hash, itch_timestamp};
pub use itch_file::{ITCH_FILE_SESSION, ItchPackError, ItchPackReport, write_itch_capture};
pub use sink::{EventSink, FeedEvent};
pub use source::{CaptureFile, CaptureOpenError};
pub use stats::HandlerStats;
