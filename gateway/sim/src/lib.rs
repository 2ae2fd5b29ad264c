//! Kestrel's simulated exchange: the venue side of the closed loop.
//!
//! - [`matching`]: price-time priority matching per instrument (limit and IOC orders, partial
//!   fills, replace with OUCH's priority rules, self-match prevention) over one book that holds
//!   both the participants' orders and the replayed market's, and the L3 queue-position model
//!   that fills participant orders against the replayed flow.
//!
//! The crate depends on `kestrel-gateway` only for the SoupBinTCP / OUCH codecs; the trading
//! binary's path never depends on this crate.
#![deny(unsafe_code)]

pub mod backtest;
pub mod exchange;
pub mod journal;
pub mod latency;
pub mod market;
pub mod matching;
pub mod net;
pub mod order_entry;
pub mod publish;
pub mod venue;
