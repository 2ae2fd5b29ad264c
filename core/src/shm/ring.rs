//! The feature ring: single producer (the core's strategy stage), single consumer (the
//! sidecar), fixed [`FeatureRecord`]s, across processes.
//!
//! `head` (producer line) counts records published, `tail` (consumer line) counts records
//! consumed; both only grow. The producer writes record `head % capacity` and then stores
//! `head + 1` with release; the consumer loads `head` with acquire, copies records out, and
//! stores its new `tail` with release, which hands the slots back. The producer never waits: if
//! the ring is full it drops the record and counts it. Both indices live in the segment, so a
//! restarted sidecar resumes at the first record its predecessor did not consume.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::error::ShmError;
use super::layout::FeatureRecord;
use super::mapping::Mapping;

/// The core's end of the ring.
#[derive(Debug)]
pub struct FeatureProducer {
    map: Arc<Mapping>,
    capacity: u64,
    head: u64,
    cached_tail: u64,
    published: u64,
    dropped: u64,
}

impl FeatureProducer {
    pub(crate) fn new(map: Arc<Mapping>) -> Self {
        let h = map.header();
        let head = h.producer.head.load(Ordering::Relaxed);
        let dropped = h.producer.dropped.load(Ordering::Relaxed);
        let cached_tail = h.consumer.tail.load(Ordering::Acquire);
        let capacity = map.layout().ring_capacity as u64;
        Self {
            map,
            capacity,
            head,
            cached_tail,
            published: 0,
            dropped,
        }
    }

    /// Publishes `record` unless the ring is full (then drops it, counts it and returns
    /// `false`). Never blocks, never allocates.
    #[inline]
    pub fn try_publish(&mut self, record: &FeatureRecord) -> bool {
        if self.head.wrapping_sub(self.cached_tail) >= self.capacity {
            let tail = self.map.header().consumer.tail.load(Ordering::Acquire);
            // A tail ahead of head or more than a ring behind is a broken consumer: treat the
            // ring as full rather than overwrite what it might still read.
            if tail <= self.head && self.head - tail < self.capacity {
                self.cached_tail = tail;
            } else {
                return self.drop_one();
            }
        }
        let slot = self.map.record_ptr(self.head);
        debug_assert!(self.head - self.cached_tail < self.capacity);
        // SAFETY: `slot` is in bounds (masked by the mapping). The consumer has stored a tail
        // with `head - tail < capacity`, so it has finished with this slot (its last read of it
        // happened before that release store, which our acquire load saw) and will not read it
        // again until we publish `head + 1` below. Volatile: the peer is another process.
        unsafe { slot.write_volatile(*record) };
        self.head += 1;
        self.published += 1;
        self.map
            .header()
            .producer
            .head
            .store(self.head, Ordering::Release);
        true
    }

    #[cold]
    fn drop_one(&mut self) -> bool {
        self.dropped += 1;
        self.map
            .header()
            .producer
            .dropped
            .store(self.dropped, Ordering::Relaxed);
        false
    }

    /// Records published by this producer.
    pub fn published(&self) -> u64 {
        self.published
    }

    /// Records dropped because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Records in the ring not yet consumed (as last seen).
    pub fn backlog(&self) -> u64 {
        let tail = self.map.header().consumer.tail.load(Ordering::Acquire);
        self.head.saturating_sub(tail)
    }
}

/// The sidecar's end of the ring.
#[derive(Debug)]
pub struct FeatureConsumer {
    map: Arc<Mapping>,
    capacity: u64,
    tail: u64,
}

impl FeatureConsumer {
    pub(crate) fn new(map: Arc<Mapping>) -> Self {
        let tail = map.header().consumer.tail.load(Ordering::Acquire);
        let capacity = map.layout().ring_capacity as u64;
        Self {
            map,
            capacity,
            tail,
        }
    }

    /// Copies up to `max` records into `out` (appended) and releases their slots; returns how
    /// many. An inconsistent producer index is an error (the ring is not touched).
    pub fn pop_into(
        &mut self,
        out: &mut Vec<FeatureRecord>,
        max: usize,
    ) -> Result<usize, ShmError> {
        let head = self.map.header().producer.head.load(Ordering::Acquire);
        if head < self.tail || head - self.tail > self.capacity {
            return Err(ShmError::RingCorrupt {
                head,
                tail: self.tail,
                capacity: self.capacity,
            });
        }
        let n = usize::try_from(head - self.tail)
            .unwrap_or(usize::MAX)
            .min(max);
        for k in 0..n as u64 {
            let slot = self.map.record_ptr(self.tail + k);
            debug_assert!(self.tail + k < head);
            // SAFETY: `slot` is in bounds (masked by the mapping). The producer published it
            // (`tail + k < head`, acquired above) and will not write it again until our release
            // store of a tail past it. Any bit pattern is a valid `FeatureRecord` (integers and
            // floats only). Volatile: the writer is another process.
            out.push(unsafe { slot.read_volatile() });
        }
        if n > 0 {
            self.tail += n as u64;
            self.map
                .header()
                .consumer
                .tail
                .store(self.tail, Ordering::Release);
        }
        Ok(n)
    }

    /// The next record, if any.
    pub fn pop(&mut self) -> Result<Option<FeatureRecord>, ShmError> {
        let mut one = Vec::with_capacity(1);
        self.pop_into(&mut one, 1)?;
        Ok(one.pop())
    }

    /// Records consumed since the segment was created (all sidecars together).
    pub fn consumed(&self) -> u64 {
        self.tail
    }

    /// Records published and not yet consumed.
    pub fn backlog(&self) -> u64 {
        let head = self.map.header().producer.head.load(Ordering::Acquire);
        head.saturating_sub(self.tail)
    }

    /// Records the core dropped because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.map.header().producer.dropped.load(Ordering::Relaxed)
    }
}
