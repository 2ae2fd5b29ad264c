//! One set of counters for everything a feed handler sees, with a single anomaly total.

use kestrel_core::book::BookStats;

use crate::itch::NormalizerStats;
use crate::moldudp64::SequencerStats;

/// Counters of one feed handler run. `Copy`: a snapshot costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandlerStats {
    /// Capture records (datagrams) read.
    pub records: u64,
    /// Damaged capture stretches reported by the reader (bad block, truncated tail, bad pcap
    /// frame), each counted once.
    pub capture_errors: u64,
    /// Records whose payload is not a UDP datagram the handler can use (pcap frames that are
    /// not IPv4/UDP, or captures of another payload kind).
    pub skipped_records: u64,
    /// MoldUDP64 counters (packets, malformed packets, duplicates, gaps, ...).
    pub mold: SequencerStats,
    /// Framing errors in a raw ITCH file.
    pub framing_errors: u64,
    /// ITCH messages handed to the decoder.
    pub itch_messages: u64,
    /// ITCH messages that failed to decode.
    pub decode_errors: u64,
    /// Normaliser counters.
    pub normalizer: NormalizerStats,
    /// Market events produced and applied to the books.
    pub events: u64,
    /// Book counters (unknown orders, duplicates, excess quantities, ...).
    pub book: BookStats,
    /// Events the books rejected, or applied with an error (those still reach the sink as
    /// `Ok` with [`kestrel_core::book::Applied::error`] set).
    pub book_errors: u64,
}

impl HandlerStats {
    /// Every anomaly, each incident counted once: capture damage, malformed and duplicate
    /// MoldUDP64 packets, partial overlaps, lost gaps, framing and decode errors, malformed
    /// message content, and book errors (unknown orders and the like).
    pub fn anomalies(&self) -> u64 {
        self.capture_errors
            + self.mold.malformed
            + self.mold.duplicate_packets
            + self.mold.partial_overlaps
            + self.mold.gaps_lost
            + self.framing_errors
            + self.decode_errors
            + self.normalizer.anomalies()
            + self.book_errors
    }
}
