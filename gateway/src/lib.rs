//! Kestrel gateway: the order-entry side of the pipeline.
//!
//! - [`soupbin`]: NASDAQ SoupBinTCP 3.00 packets, framing and encoding (both directions).
//! - [`ouch`]: NASDAQ OUCH 4.2 messages (both directions), zero-copy decoding, in-place encoding.
//! - [`venue`]: the trait the OMS sends orders through and receives venue messages from: a
//!   SoupBinTCP session in live mode, an in-process matching engine in a backtest.
//! - [`token`]: order tokens, unique across reconnects and restarts.
//! - [`oms`]: order state machine, open orders, positions and P&L, execution reports.
#![deny(unsafe_code)]

pub mod algo;
pub mod engine;
pub mod journal;
pub mod oms;
pub mod ouch;
pub mod risk;
pub mod session;
pub mod soupbin;
pub mod stage;
pub mod tca;
pub mod token;
pub mod venue;
pub mod wire;
