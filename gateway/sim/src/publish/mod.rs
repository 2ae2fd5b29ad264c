//! Market data out: the book's changes as ITCH 5.0 messages ([`itch`]) in MoldUDP64 packets
//! ([`mold`]), every message kept for the retransmission server ([`retrans`]).

pub mod itch;
pub mod mold;
pub mod retrans;

pub use itch::ItchPublisher;
pub use mold::{DropPlan, MessageStore, MoldOut, MoldStats, NullPackets, PacketSink};
pub use retrans::{RetransStats, Retransmitter};
