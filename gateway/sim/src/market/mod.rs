//! The background market: a capture replayed as the venue's other participants.
//!
//! [`open_capture`] loads a `.kcap` (MoldUDP64 / ITCH 5.0), a LOBSTER message file (its
//! order-book file beside it, named as LOBSTER names them) or a raw NASDAQ ITCH 5.0 file, all
//! as one in-memory or mapped kcap; [`BackgroundFeed`] walks it in sequence order through the
//! real decoders (MoldUDP64 sequencer, ITCH decode, normaliser) and yields market events with
//! their venue timestamps.

mod capture;
mod feed;

pub use capture::{CaptureError, MarketCapture, open_capture};
pub use feed::{BackgroundFeed, BackgroundStats};
