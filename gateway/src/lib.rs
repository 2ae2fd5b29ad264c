//! Kestrel gateway: the order-entry side of the pipeline.
//!
//! - [`soupbin`]: NASDAQ SoupBinTCP 3.00 packets, framing and encoding (both directions).
//! - [`ouch`]: NASDAQ OUCH 4.2 messages (both directions), zero-copy decoding, in-place encoding.
//! - [`venue`]: the trait the OMS sends orders through and receives venue messages from: a
//!   SoupBinTCP session in live mode, an in-process matching engine in a backtest.
#![deny(unsafe_code)]

pub mod ouch;
pub mod soupbin;
pub mod venue;
pub mod wire;
