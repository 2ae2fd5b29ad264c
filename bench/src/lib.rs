//! Kestrel benchmarks: stream builders and latency harnesses shared by the benches in `benches/`.
#![deny(unsafe_code)]

pub mod args;
pub mod flow;
pub mod hop;
pub mod itch_stream;
pub mod latency_table;
pub mod lobster_sample;
pub mod market_day;
pub mod order_venue;
pub mod pipeline_hop;
