//! Session directories: what every pipeline replay leaves behind in `sessions/<id>/`, and the
//! readers `kestrel hist` uses.
//!
//! ```text
//! sessions/<id>/
//!   config.toml          the resolved configuration (defaults filled in, CLI choices under [session])
//!   latency.hlog         HdrHistogram interval log, V2 + deflate, one tag per stage
//!   latency.hgrm         end-to-end percentile distribution (HdrHistogram's text format, us)
//!   latency-<stage>.hgrm the same for each stage
//!   summary.json         events, throughput, drops, anomalies, percentiles, output hash
//! ```

pub mod config;
pub mod id;
pub mod read;
pub mod run;
pub mod summary;
pub mod svg;
pub mod write;

pub use config::RunConfig;
pub use read::SessionData;
pub use summary::Summary;
