//! Kestrel feeds: wire decoders, capture files, importers and replay.
#![deny(unsafe_code)]

pub mod binance;
pub mod dbn;
pub mod export;
pub mod feed_stage;
pub mod handler;
pub mod itch;
pub mod kcap;
pub mod live;
pub mod lobster;
pub mod moldudp64;
pub mod pcap;
pub mod updates;
pub mod venue;
pub mod venue_source;
