//! Flow-generator streams as ITCH 5.0 bytes, and the end-to-end passes over them
//! (frame + decode [+ normalise + book]) shared by `benches/feed_e2e.rs` and
//! `examples/feed_ir.rs`.
//!
//! The bytes are length-prefixed like a NASDAQ TotalView-ITCH file: a big-endian `u16` length,
//! then the message. Instrument `i` is written as stock locate `i + 1` with symbol `K<i>`; the
//! normaliser binds each locate to a placeholder instrument on its first message, so the first
//! pass over a stream registers instruments (allocates) and later passes do not: warm a
//! normaliser with [`warm_normalizer`] before timing.

use kestrel_core::book::{Applied, BookConfig, BookError, L3Books, ReferenceBook};
use kestrel_core::{MarketEvent, Timestamp};
use kestrel_feeds::itch::{
    EncodeError, ItchFramer, ItchNormalizer, MAX_TIMESTAMP, decode, encode_event, stock_field,
};

use crate::flow::{FlowSpec, generate_flow};

/// Room for the largest message `encode_event` writes.
const MAX_MESSAGE: usize = 64;

/// A flow encoded as ITCH bytes: the warm-up part (prefill adds, applied before timing) and the
/// measured part.
#[derive(Clone, Debug)]
pub struct EncodedFlow {
    /// Length-prefixed messages that bring empty books to the working set (may be empty).
    pub warmup: Vec<u8>,
    /// Messages in `warmup`.
    pub warmup_messages: u64,
    /// Length-prefixed messages of the measured part.
    pub measured: Vec<u8>,
    /// Messages in `measured`.
    pub messages: u64,
    /// A book configuration that holds the stream without growing.
    pub config: BookConfig,
}

/// Generates `spec`'s flow and encodes it.
pub fn encode_flow(spec: &FlowSpec) -> Result<EncodedFlow, EncodeError> {
    let flow = generate_flow(spec);
    let mut warmup = Vec::new();
    let warmup_messages = encode_events(&flow.warmup, &mut warmup)?;
    let mut measured = Vec::new();
    let messages = encode_events(&flow.measured, &mut measured)?;
    Ok(EncodedFlow {
        warmup,
        warmup_messages,
        measured,
        messages,
        config: spec.book_config(),
    })
}

/// Appends each event as one length-prefixed ITCH message; returns how many were written.
pub fn encode_events(events: &[MarketEvent], out: &mut Vec<u8>) -> Result<u64, EncodeError> {
    let mut buf = [0u8; MAX_MESSAGE];
    let mut written = 0u64;
    for ev in events {
        let locate = u16::try_from(ev.instrument.0.saturating_add(1)).unwrap_or(u16::MAX);
        let stock = stock_field(&format!("K{}", ev.instrument.0)).unwrap_or([b' '; 8]);
        let ts = Timestamp(ev.exch_ts.nanos() % MAX_TIMESTAMP);
        let len = encode_event(ev, stock, locate, 0, ts, &mut buf)?;
        let prefix = u16::try_from(len).unwrap_or(0);
        out.extend_from_slice(&prefix.to_be_bytes());
        out.extend_from_slice(buf.get(..len).unwrap_or(&[]));
        written += 1;
    }
    Ok(written)
}

/// What one pass saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    /// Messages framed and decoded.
    pub messages: u64,
    /// Book events produced by the normaliser (0 for a decode-only pass).
    pub events: u64,
    /// Events the book accepted.
    pub applied: u64,
    /// Events that changed a top of book (or, decode-only, a checksum of the decoded fields).
    pub checksum: u64,
}

/// A book the end-to-end pass can feed.
pub trait ApplyEvent {
    /// Applies one event.
    fn apply_event(&mut self, ev: &MarketEvent) -> Result<Applied, BookError>;
}

impl ApplyEvent for L3Books {
    #[inline(always)]
    fn apply_event(&mut self, ev: &MarketEvent) -> Result<Applied, BookError> {
        self.apply(ev)
    }
}

impl ApplyEvent for ReferenceBook {
    #[inline(always)]
    fn apply_event(&mut self, ev: &MarketEvent) -> Result<Applied, BookError> {
        self.apply(ev)
    }
}

/// (a) Frames, decodes and normalises every message, folding each event's instrument and
/// timestamp into a checksum (so nothing is optimised away).
#[inline(never)]
pub fn decode_pass(data: &[u8], norm: &mut ItchNormalizer) -> PassStats {
    let mut stats = PassStats::default();
    for frame in ItchFramer::new(data) {
        let Ok(frame) = frame else { continue };
        let Ok(msg) = decode(frame.message) else {
            continue;
        };
        stats.messages += 1;
        if let Some(ev) = norm.normalize(&msg) {
            stats.events += 1;
            stats.checksum = stats
                .checksum
                .wrapping_add(ev.exch_ts.nanos())
                .wrapping_add(u64::from(ev.instrument.0));
        }
    }
    stats
}

/// (b)/(c) Frames, decodes, normalises and applies every message to `book`.
#[inline(never)]
pub fn book_pass<B: ApplyEvent>(data: &[u8], norm: &mut ItchNormalizer, book: &mut B) -> PassStats {
    let mut stats = PassStats::default();
    for frame in ItchFramer::new(data) {
        let Ok(frame) = frame else { continue };
        let Ok(msg) = decode(frame.message) else {
            continue;
        };
        stats.messages += 1;
        if let Some(ev) = norm.normalize(&msg) {
            stats.events += 1;
            if let Ok(applied) = book.apply_event(&ev) {
                stats.applied += 1;
                stats.checksum += u64::from(applied.top_changed);
            }
        }
    }
    stats
}

/// A normaliser that has seen every locate of `flow` (so later passes register nothing).
pub fn warm_normalizer(flow: &EncodedFlow) -> ItchNormalizer {
    let mut norm = ItchNormalizer::new();
    decode_pass(&flow.warmup, &mut norm);
    decode_pass(&flow.measured, &mut norm);
    norm
}

/// Fresh L3 books with `flow`'s warm-up applied (not timed by callers).
pub fn warmed_l3(flow: &EncodedFlow, norm: &mut ItchNormalizer) -> L3Books {
    let mut books = L3Books::new(flow.config);
    book_pass(&flow.warmup, norm, &mut books);
    books
}

/// A fresh reference book with `flow`'s warm-up applied (not timed by callers).
pub fn warmed_reference(flow: &EncodedFlow, norm: &mut ItchNormalizer) -> ReferenceBook {
    let mut book = ReferenceBook::new(flow.config);
    book_pass(&flow.warmup, norm, &mut book);
    book
}

/// This thread's CPU time in nanoseconds (Linux `/proc/thread-self/schedstat`): on a shared
/// machine it leaves out the time other processes held the core.
pub fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_the_round_trip_and_books_agree() {
        let spec = FlowSpec::sparse(20_000);
        let flow = generate_flow(&spec);
        let encoded = encode_flow(&spec).expect("flow encodes");
        assert_eq!(encoded.messages, flow.measured.len() as u64);
        let mut norm = warm_normalizer(&encoded);
        let decoded = decode_pass(&encoded.measured, &mut norm);
        assert_eq!(decoded.messages, encoded.messages);
        assert_eq!(decoded.events, encoded.messages);
        let mut l3 = warmed_l3(&encoded, &mut norm);
        let mut reference = warmed_reference(&encoded, &mut norm);
        let a = book_pass(&encoded.measured, &mut norm, &mut l3);
        let b = book_pass(&encoded.measured, &mut norm, &mut reference);
        assert_eq!(a.applied, encoded.messages, "a valid flow applies fully");
        assert_eq!(a, b, "same accepted events and top-of-book changes");
        assert_eq!(
            l3.stats().without_growth(),
            reference.stats().without_growth()
        );
    }
}
