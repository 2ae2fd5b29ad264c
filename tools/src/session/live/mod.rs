//! The closed loop of `kestrel session`, in pieces:
//!
//! - [`feed_side`]: the live MoldUDP64 feed (gaps re-requested), the feed handler and its L3
//!   books, the recorded feed, and the strategy stage;
//! - [`gateway_side`]: the gateway stage (risk, OMS, journal, SoupBinTCP client) with the P&L
//!   track, the tick-to-trade breakdown and the operator's kill requests;
//! - [`timed_venue`]: the venue wrapper that times each order's send call;
//! - [`breakdown`]: tick-to-trade taken apart (queue, book, strategy, hop, gateway, send);
//! - [`venue`]: the simulated exchange on its own thread, journaled, crashed and restarted
//!   from its journal when the session asks for it.
//!
//! Inline, one thread runs the feed half with the gateway half as its sink, polling the venue
//! between feed polls. Threaded, the feed half runs on a `feed` thread and hands the gateway's
//! inputs over a ring to a `gateway` thread (each pinned where `[cpu]` says); execution
//! reports come back on their own ring, drained by the strategy before each update. A full
//! input ring makes the feed thread wait (backpressure, counted), never drops.

pub mod breakdown;
pub mod feed_side;
pub mod gateway_side;
pub mod timed_venue;
pub mod venue;

pub use breakdown::T2tBreakdown;
pub use feed_side::{FeedParts, FeedSide};
pub use gateway_side::{GatewayControl, GatewaySide};
pub use timed_venue::TimedVenue;
pub use venue::{RestartPlan, VenueRun, VenueThread};
