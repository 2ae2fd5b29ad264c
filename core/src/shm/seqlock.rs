//! The edge table: one seqlock slot per instrument, one writer (the sidecar), any number of
//! readers (the core's strategy stage), across processes.
//!
//! Writer: `seq` to odd (relaxed), release fence, payload words (relaxed), `seq` to even
//! (release). Reader: `seq` (acquire); odd means a write is in progress; payload words
//! (relaxed); acquire fence; `seq` again (relaxed); equal means the words are one write's. The
//! reader never waits: after [`READ_ATTEMPTS`] collisions it reports [`EdgeRead::Busy`] and the
//! core treats the instrument as having no new edge this time. Every payload word is an atomic,
//! so a torn read is detected, never undefined behaviour.
//!
//! A writer killed inside a write leaves `seq` odd; the next writer continues from that odd
//! value (same parity rule), so the slot recovers on the first write after a restart.

use std::sync::Arc;
use std::sync::atomic::{Ordering, fence};

use super::layout::{EDGE_WORDS, EdgeRecord, EdgeSlot};
use super::mapping::Mapping;

/// Reads tried before a slot being written is reported busy.
pub const READ_ATTEMPTS: u32 = 4;

/// The outcome of one wait-free read of a slot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EdgeRead {
    /// A consistent record and its version (the even sequence word; grows with each write).
    Edge {
        /// The record.
        record: EdgeRecord,
        /// Its version.
        version: u64,
    },
    /// Never written.
    Empty,
    /// A write was in progress on every attempt.
    Busy,
    /// No slot for that instrument.
    OutOfRange,
}

/// Writes one slot's words under its sequence word (single writer per slot).
#[inline]
pub fn write_slot(slot: &EdgeSlot, record: &EdgeRecord) -> u64 {
    let s = slot.seq.load(Ordering::Relaxed);
    // An odd value is a write a dead writer left unfinished: continue from it.
    let odd = s | 1;
    slot.seq.store(odd, Ordering::Relaxed);
    fence(Ordering::Release);
    for (w, v) in slot.words.iter().zip(record.to_words()) {
        w.store(v, Ordering::Relaxed);
    }
    let even = odd.wrapping_add(1);
    slot.seq.store(even, Ordering::Release);
    even
}

/// One bounded read of a slot.
#[inline]
pub fn read_slot(slot: &EdgeSlot) -> EdgeRead {
    for _ in 0..READ_ATTEMPTS {
        let s1 = slot.seq.load(Ordering::Acquire);
        if s1 == 0 {
            return EdgeRead::Empty;
        }
        if s1 & 1 == 1 {
            std::hint::spin_loop();
            continue;
        }
        let mut words = [0u64; EDGE_WORDS];
        for (v, w) in words.iter_mut().zip(&slot.words) {
            *v = w.load(Ordering::Relaxed);
        }
        fence(Ordering::Acquire);
        if slot.seq.load(Ordering::Relaxed) == s1 {
            return EdgeRead::Edge {
                record: EdgeRecord::from_words(&words),
                version: s1,
            };
        }
        std::hint::spin_loop();
    }
    EdgeRead::Busy
}

/// The sidecar's end of the edge table.
#[derive(Debug)]
pub struct EdgeWriter {
    map: Arc<Mapping>,
    writes: u64,
}

impl EdgeWriter {
    pub(crate) fn new(map: Arc<Mapping>) -> Self {
        Self { map, writes: 0 }
    }

    /// Writes the edge of `instrument`; `false` if the table has no slot for it.
    #[inline]
    pub fn write(&mut self, instrument: usize, record: &EdgeRecord) -> bool {
        match self.map.slot(instrument) {
            Some(slot) => {
                write_slot(slot, record);
                self.writes += 1;
                true
            }
            None => false,
        }
    }

    /// Slots in the table.
    pub fn slots(&self) -> usize {
        self.map.layout().edge_slots
    }

    /// Edges written by this writer.
    pub fn writes(&self) -> u64 {
        self.writes
    }
}

/// A reader of the edge table (the core's; any number may exist).
#[derive(Debug, Clone)]
pub struct EdgeReader {
    map: Arc<Mapping>,
}

impl EdgeReader {
    pub(crate) fn new(map: Arc<Mapping>) -> Self {
        Self { map }
    }

    /// The slot's current version word (0: never written; odd: being written): one load, to
    /// skip [`Self::read`] when nothing changed.
    #[inline]
    pub fn version(&self, instrument: usize) -> u64 {
        self.map
            .slot(instrument)
            .map_or(0, |s| s.seq.load(Ordering::Acquire))
    }

    /// Reads the edge of `instrument` without waiting.
    #[inline]
    pub fn read(&self, instrument: usize) -> EdgeRead {
        match self.map.slot(instrument) {
            Some(slot) => read_slot(slot),
            None => EdgeRead::OutOfRange,
        }
    }

    /// Slots in the table.
    pub fn slots(&self) -> usize {
        self.map.layout().edge_slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    fn slot() -> EdgeSlot {
        EdgeSlot {
            seq: AtomicU64::new(0),
            words: Default::default(),
        }
    }

    #[test]
    fn empty_then_written_then_recovered_from_a_dead_writer() {
        let s = slot();
        assert_eq!(read_slot(&s), EdgeRead::Empty);
        let r = EdgeRecord {
            edge_bps: 2.5,
            feature_seq: 9,
            ..EdgeRecord::default()
        };
        assert_eq!(write_slot(&s, &r), 2);
        assert_eq!(
            read_slot(&s),
            EdgeRead::Edge {
                record: r,
                version: 2
            }
        );
        // A writer died inside a write: the slot reads busy, never torn.
        s.seq.store(3, Ordering::Relaxed);
        s.words[0].store(f64::to_bits(99.0), Ordering::Relaxed);
        assert_eq!(read_slot(&s), EdgeRead::Busy);
        // The next writer continues from the odd value and the slot is consistent again.
        let r2 = EdgeRecord {
            edge_bps: -1.0,
            feature_seq: 10,
            ..EdgeRecord::default()
        };
        assert_eq!(write_slot(&s, &r2), 4);
        assert_eq!(
            read_slot(&s),
            EdgeRead::Edge {
                record: r2,
                version: 4
            }
        );
    }
}
