//! Kestrel feeds: wire decoders, capture files, importers and replay.
#![deny(unsafe_code)]

pub mod feed_stage;
pub mod handler;
pub mod itch;
pub mod kcap;
pub mod live;
pub mod lobster;
pub mod moldudp64;
pub mod pcap;
