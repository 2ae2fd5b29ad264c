//! MoldUDP64: NASDAQ's sequenced, session-based framing for multicast market data.
//!
//! - [`packet`]: zero-copy parsing of downstream packets and their message blocks.
//! - [`builder`]: filling MTU-sized packets from messages (publisher side, tests, the simulator).
//! - [`request`]: the 20-byte retransmission request.
//! - [`sequencer`]: exactly-once, in-order delivery with duplicate drop, a bounded reorder buffer and
//!   gap reporting (a gap is declared lost after a timeout, when the buffer fills, or at the end).
//! - [`streams`]: one sequencer per (channel, session) stream.

pub mod builder;
pub mod packet;
pub mod request;
pub mod sequencer;
pub mod streams;

pub use builder::{DEFAULT_MAX_PACKET, MoldPacketBuilder};
pub use packet::{
    END_OF_SESSION_COUNT, HEADER_LEN, MoldError, MoldMessages, MoldPacket, MoldSession, PacketKind,
    SESSION_LEN,
};
pub use request::{MoldRequest, REQUEST_LEN};
pub use sequencer::{
    DEFAULT_GAP_TIMEOUT_NS, MAX_REORDER_PACKETS, MAX_SLOT_BYTES, MoldSequencer, PacketOutcome,
    SeqEvent, SeqRange, SequencerConfig, SequencerStats,
};
pub use streams::{MAX_STREAMS, MoldStreams, StreamKey};
