//! The byte layout of a sidecar segment: one header, then the feature ring, then the edge
//! table. Every struct here is `#[repr(C)]` with its size and field offsets asserted in tests,
//! so the core and a sidecar built from another commit agree or refuse each other
//! ([`LAYOUT_VERSION`]).
//!
//! ```text
//! offset 0            Header (4 KiB): identity, feature schema, core side, sidecar side,
//!                     ring producer line, ring consumer line (each on its own cache lines)
//! ring_offset         FeatureRecord x ring_capacity (320 bytes each, power-of-two count)
//! edge_offset         EdgeSlot x edge_slots (64 bytes each: a seqlock word and 7 payload words)
//! ```
//!
//! Fields that change after creation are atomics; the rest are written once by the creating
//! core before it publishes the segment by storing [`MAGIC`] (release), and only read after.

use std::sync::atomic::{AtomicU32, AtomicU64};

/// `b"KSTRLSHM"` as a little-endian `u64`: the first word of every segment.
pub const MAGIC: u64 = u64::from_le_bytes(*b"KSTRLSHM");

/// Bumped on any change of this file's structs or of the ring / seqlock protocols.
pub const LAYOUT_VERSION: u32 = 1;

/// Features a record can carry (the schema may use fewer).
pub const FEATURE_CAPACITY: usize = 64;

/// Bytes of one feature name in the header (NUL-padded ASCII; at most 31 used).
pub const NAME_BYTES: usize = 32;

/// Words of an [`EdgeRecord`] in an [`EdgeSlot`].
pub const EDGE_WORDS: usize = 7;

/// Segment state as the core stores it in [`CoreSide::state`].
pub mod core_state {
    /// The core is running and publishing.
    pub const RUNNING: u32 = 1;
    /// The core finished its run and closed the segment (a sidecar should stop).
    pub const CLOSED: u32 = 2;
}

/// Immutable description of the segment (one cache line).
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Identity {
    /// [`MAGIC`]; zero until the creator has written everything else.
    pub magic: AtomicU64,
    /// [`LAYOUT_VERSION`] of the creator.
    pub layout_version: u32,
    /// `size_of::<Header>()` of the creator.
    pub header_size: u32,
    /// Length of the whole file.
    pub total_size: u64,
    /// Byte offset of the first feature record.
    pub ring_offset: u64,
    /// Records in the ring (a power of two).
    pub ring_capacity: u32,
    /// `size_of::<FeatureRecord>()` of the creator.
    pub record_size: u32,
    /// Byte offset of the first edge slot.
    pub edge_offset: u64,
    /// Edge slots (one per instrument, by dense id).
    pub edge_slots: u32,
    /// `size_of::<EdgeSlot>()` of the creator.
    pub slot_size: u32,
    /// Features in use per record (the schema's length).
    pub feature_count: u32,
    /// [`FEATURE_CAPACITY`] of the creator.
    pub feature_capacity: u32,
}

/// The feature schema: names in order and their hash (immutable).
#[derive(Debug)]
#[repr(C, align(64))]
pub struct SchemaBlock {
    /// FNV-1a of the names (see `FeatureSchema::hash`).
    pub hash: u64,
    /// Reserved (zero).
    pub reserved: [u64; 7],
    /// Names, NUL-padded; entries past `feature_count` are zero.
    pub names: [[u8; NAME_BYTES]; FEATURE_CAPACITY],
}

/// What the core publishes about itself.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct CoreSide {
    /// Process id of the core.
    pub pid: AtomicU32,
    /// [`core_state`].
    pub state: AtomicU32,
    /// Core heartbeat, `CLOCK_MONOTONIC` nanoseconds.
    pub heartbeat_ns: AtomicU64,
    /// Edge versions the core has picked up (informational, for the sidecar's log).
    pub edges_seen: AtomicU64,
}

/// What the sidecar publishes about itself.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct SidecarSide {
    /// Process id of the attached sidecar; 0 when none.
    pub pid: AtomicU32,
    /// Model id of the attached sidecar (see the sidecar's model file).
    pub model_id: AtomicU32,
    /// Sidecar heartbeat, `CLOCK_MONOTONIC` nanoseconds.
    pub heartbeat_ns: AtomicU64,
    /// Times a sidecar attached (1 for the first, 2 after one restart, ...).
    pub attaches: AtomicU64,
    /// Model version of the attached sidecar.
    pub model_version: AtomicU32,
    /// Reserved (zero).
    pub reserved: u32,
}

/// The ring's producer line, written only by the core.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct ProducerLine {
    /// Records published since creation (the next record goes to `head % capacity`).
    pub head: AtomicU64,
    /// Records dropped because the ring was full.
    pub dropped: AtomicU64,
}

/// The ring's consumer line, written only by the sidecar.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct ConsumerLine {
    /// Records consumed since creation (a restarted sidecar resumes here).
    pub tail: AtomicU64,
}

/// The segment header.
#[derive(Debug)]
#[repr(C)]
pub struct Header {
    /// Sizes and offsets.
    pub identity: Identity,
    /// Feature names.
    pub schema: SchemaBlock,
    /// Core pid, state, heartbeat.
    pub core: CoreSide,
    /// Sidecar pid, heartbeat, attach count.
    pub sidecar: SidecarSide,
    /// Written by the core.
    pub producer: ProducerLine,
    /// Written by the sidecar.
    pub consumer: ConsumerLine,
    /// Padding to [`HEADER_SIZE`].
    pub reserved: [u8; HEADER_PAD],
}

/// Bytes of [`Header`] (the ring starts here).
pub const HEADER_SIZE: usize = 4096;

const HEADER_USED: usize = 64 + (64 + FEATURE_CAPACITY * NAME_BYTES) + 64 * 4;
pub(crate) const HEADER_PAD: usize = HEADER_SIZE - HEADER_USED;

/// One feature vector as the core publishes it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct FeatureRecord {
    /// Dense instrument id.
    pub instrument: u32,
    /// Features in use (the schema's length).
    pub count: u32,
    /// The core's feature sequence (1, 2, ...; the edge that answers it carries it back).
    pub feature_seq: u64,
    /// Event time of the book update the features describe (the updates' `recv_ts` clock).
    pub event_time_ns: u64,
    /// When the core published it, `CLOCK_MONOTONIC` nanoseconds.
    pub published_ns: u64,
    /// Mid price of the book (for the sidecar's logs; the features are scale-free).
    pub mid: f64,
    /// Reserved (zero).
    pub reserved: u64,
    /// Feature values in schema order; entries past `count` are zero.
    pub features: [f32; FEATURE_CAPACITY],
}

impl Default for FeatureRecord {
    fn default() -> Self {
        Self {
            instrument: 0,
            count: 0,
            feature_seq: 0,
            event_time_ns: 0,
            published_ns: 0,
            mid: 0.0,
            reserved: 0,
            features: [0.0; FEATURE_CAPACITY],
        }
    }
}

/// One model edge as the sidecar writes it (the payload of an [`EdgeSlot`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct EdgeRecord {
    /// Expected mid move over the horizon, basis points.
    pub edge_bps: f64,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
    /// Horizon of the prediction, in updates of the instrument.
    pub horizon_events: u32,
    /// Model id (a hash of the model's name, kind and schema).
    pub model_id: u32,
    /// Model version (its training run).
    pub model_version: u32,
    /// The feature sequence this edge answers.
    pub feature_seq: u64,
    /// Event time of that feature (the updates' `recv_ts` clock): the edge's age is measured
    /// from it.
    pub event_time_ns: u64,
    /// When the sidecar wrote it, `CLOCK_MONOTONIC` nanoseconds.
    pub produced_ns: u64,
    /// When the core published the answered feature, `CLOCK_MONOTONIC` nanoseconds (echoed, so
    /// the core can measure publish-to-edge latency).
    pub feature_published_ns: u64,
}

impl EdgeRecord {
    /// The record as payload words (bit-exact).
    pub fn to_words(&self) -> [u64; EDGE_WORDS] {
        [
            self.edge_bps.to_bits(),
            u64::from(self.confidence.to_bits()) | (u64::from(self.horizon_events) << 32),
            u64::from(self.model_id) | (u64::from(self.model_version) << 32),
            self.feature_seq,
            self.event_time_ns,
            self.produced_ns,
            self.feature_published_ns,
        ]
    }

    /// The record from payload words (inverse of [`Self::to_words`]).
    pub fn from_words(w: &[u64; EDGE_WORDS]) -> Self {
        Self {
            edge_bps: f64::from_bits(w[0]),
            confidence: f32::from_bits(w[1] as u32),
            horizon_events: (w[1] >> 32) as u32,
            model_id: w[2] as u32,
            model_version: (w[2] >> 32) as u32,
            feature_seq: w[3],
            event_time_ns: w[4],
            produced_ns: w[5],
            feature_published_ns: w[6],
        }
    }
}

/// A seqlock slot: `seq` is odd while the writer is inside, even otherwise (0: never
/// written); the payload is [`EDGE_WORDS`] words of an [`EdgeRecord`].
#[derive(Debug)]
#[repr(C, align(64))]
pub struct EdgeSlot {
    /// Sequence word.
    pub seq: AtomicU64,
    /// Payload.
    pub words: [AtomicU64; EDGE_WORDS],
}

/// Sizes and offsets of a segment for `instruments` edge slots and `ring_capacity` records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Records in the ring (a power of two).
    pub ring_capacity: usize,
    /// Edge slots.
    pub edge_slots: usize,
    /// Offset of the ring.
    pub ring_offset: usize,
    /// Offset of the edge table.
    pub edge_offset: usize,
    /// Length of the file.
    pub total_size: usize,
}

impl Layout {
    /// The layout for the given counts (`ring_capacity` must be a power of two, checked by the
    /// caller); `None` on overflow.
    pub fn new(ring_capacity: usize, edge_slots: usize) -> Option<Self> {
        let ring_offset = HEADER_SIZE;
        let ring_bytes = ring_capacity.checked_mul(size_of::<FeatureRecord>())?;
        let edge_offset = ring_offset.checked_add(ring_bytes)?;
        let edge_bytes = edge_slots.checked_mul(size_of::<EdgeSlot>())?;
        let total_size = edge_offset.checked_add(edge_bytes)?;
        Some(Self {
            ring_capacity,
            edge_slots,
            ring_offset,
            edge_offset,
            total_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of};

    #[test]
    fn sizes_are_fixed() {
        assert_eq!(size_of::<Identity>(), 64);
        assert_eq!(size_of::<SchemaBlock>(), 64 + FEATURE_CAPACITY * NAME_BYTES);
        assert_eq!(size_of::<CoreSide>(), 64);
        assert_eq!(size_of::<SidecarSide>(), 64);
        assert_eq!(size_of::<ProducerLine>(), 64);
        assert_eq!(size_of::<ConsumerLine>(), 64);
        assert_eq!(size_of::<Header>(), HEADER_SIZE);
        assert_eq!(size_of::<FeatureRecord>(), 320);
        assert_eq!(align_of::<FeatureRecord>(), 64);
        assert_eq!(size_of::<EdgeRecord>(), EDGE_WORDS * 8);
        assert_eq!(size_of::<EdgeSlot>(), 64);
        assert_eq!(align_of::<EdgeSlot>(), 64);
    }

    #[test]
    fn offsets_are_fixed() {
        assert_eq!(offset_of!(Identity, magic), 0);
        assert_eq!(offset_of!(Identity, layout_version), 8);
        assert_eq!(offset_of!(Identity, header_size), 12);
        assert_eq!(offset_of!(Identity, total_size), 16);
        assert_eq!(offset_of!(Identity, ring_offset), 24);
        assert_eq!(offset_of!(Identity, ring_capacity), 32);
        assert_eq!(offset_of!(Identity, record_size), 36);
        assert_eq!(offset_of!(Identity, edge_offset), 40);
        assert_eq!(offset_of!(Identity, edge_slots), 48);
        assert_eq!(offset_of!(Identity, slot_size), 52);
        assert_eq!(offset_of!(Identity, feature_count), 56);
        assert_eq!(offset_of!(Identity, feature_capacity), 60);
        assert_eq!(offset_of!(Header, identity), 0);
        assert_eq!(offset_of!(Header, schema), 64);
        assert_eq!(offset_of!(SchemaBlock, names), 64);
        assert_eq!(offset_of!(Header, core), 64 + 64 + 2048);
        assert_eq!(offset_of!(Header, sidecar), 2240);
        assert_eq!(offset_of!(Header, producer), 2304);
        assert_eq!(offset_of!(Header, consumer), 2368);
        assert_eq!(offset_of!(CoreSide, heartbeat_ns), 8);
        assert_eq!(offset_of!(SidecarSide, heartbeat_ns), 8);
        assert_eq!(offset_of!(SidecarSide, attaches), 16);
        assert_eq!(offset_of!(FeatureRecord, feature_seq), 8);
        assert_eq!(offset_of!(FeatureRecord, event_time_ns), 16);
        assert_eq!(offset_of!(FeatureRecord, published_ns), 24);
        assert_eq!(offset_of!(FeatureRecord, mid), 32);
        assert_eq!(offset_of!(FeatureRecord, features), 48);
        assert_eq!(offset_of!(EdgeRecord, confidence), 8);
        assert_eq!(offset_of!(EdgeRecord, feature_seq), 24);
        assert_eq!(offset_of!(EdgeSlot, words), 8);
    }

    #[test]
    fn layout_places_ring_then_edges() {
        let l = Layout::new(1024, 3).unwrap();
        assert_eq!(l.ring_offset, 4096);
        assert_eq!(l.edge_offset, 4096 + 1024 * 320);
        assert_eq!(l.total_size, 4096 + 1024 * 320 + 3 * 64);
        assert!(Layout::new(usize::MAX, 1).is_none());
    }

    #[test]
    fn edge_words_round_trip() {
        let e = EdgeRecord {
            edge_bps: -1.25,
            confidence: 0.75,
            horizon_events: 50,
            model_id: 0xdead_beef,
            model_version: 7,
            feature_seq: 123,
            event_time_ns: 456,
            produced_ns: 789,
            feature_published_ns: 42,
        };
        assert_eq!(EdgeRecord::from_words(&e.to_words()), e);
    }
}
