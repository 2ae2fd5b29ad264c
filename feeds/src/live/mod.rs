//! The live feed path: MoldUDP64 datagrams off a non-blocking `mio` UDP socket (unicast, or a
//! joined multicast group), busy-polled on the feed thread and stamped at the socket.
//!
//! - [`socket`]: binding, multicast join, the receive call and its timestamp.
//! - [`receiver`]: [`LiveFeed`]: the MoldUDP64 sequencer (duplicates, reordering), gap
//!   detection with re-requests to the retransmission server (retried, then declared lost after
//!   a timeout), and feed validity: books are invalid while a gap is open and after one was lost.
//! - [`source`]: the live feed as the pipeline's [`Source`](kestrel_core::pipeline::Source):
//!   decoded, booked, one `BookUpdate` per event; a book that is not valid is not tradeable.
//! - [`record`]: what the live feed delivered, written as a `.kcap` that replays to the same
//!   books (`kestrel record`).

pub mod receiver;
pub mod record;
pub mod socket;
pub mod source;

pub use receiver::{Delivery, GapPolicy, LiveFeed, LiveStats};
pub use record::{RecordStats, Recorder};
pub use socket::{FeedSocket, ListenAddr};
pub use source::LiveSource;
