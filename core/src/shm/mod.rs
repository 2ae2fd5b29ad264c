//! Shared memory between the core and the ML sidecar: one file under `/dev/shm` (mode 0600),
//! mapped by both processes with `memmap2`.
//!
//! - [`layout`]: the header (magic, layout version, sizes, feature schema, pids, heartbeats),
//!   the [`FeatureRecord`] ring and the [`EdgeSlot`] table, every size and offset asserted;
//! - [`segment`]: creation by the core ([`CoreSegment`]), validation and attachment by the
//!   sidecar ([`SidecarSegment`]); a wrong magic, version, size or schema is refused with an
//!   error that says which;
//! - [`ring`]: the SPSC feature ring (core -> sidecar); the core never waits, a full ring drops
//!   and counts;
//! - [`seqlock`]: the edge table (sidecar -> core), one seqlock slot per instrument, read
//!   without waiting;
//! - [`sys`]: the shared monotonic clock, process liveness.
//!
//! `unsafe` in this crate is confined to this module (the mapping and the pointer accesses of
//! `mapping.rs`, the record copies of `ring.rs`, two system calls in `sys.rs`), each block with a
//! `// SAFETY:` comment and a `debug_assert!` of its invariant.
#![allow(unsafe_code)]

pub mod error;
pub mod layout;
mod mapping;
pub mod ring;
pub mod schema;
pub mod segment;
pub mod seqlock;
pub mod sys;

pub use error::ShmError;
pub use layout::{EdgeRecord, EdgeSlot, FEATURE_CAPACITY, FeatureRecord, LAYOUT_VERSION, MAGIC};
pub use ring::{FeatureConsumer, FeatureProducer};
pub use schema::FeatureSchema;
pub use segment::{
    CoreSegment, CoreState, Heartbeat, Liveness, SegmentInfo, SegmentSpec, SegmentStatus,
    SidecarSegment, inspect, segment_path,
};
pub use seqlock::{EdgeRead, EdgeReader, EdgeWriter};
pub use sys::monotonic_ns;
