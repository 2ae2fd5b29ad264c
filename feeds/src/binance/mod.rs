//! Binance spot and USD-M / COIN-M futures market data: `depthUpdate`, `bookTicker`, `trade`
//! and `aggTrade` JSON and REST depth snapshots, decoded with `sonic-rs` straight to fixed
//! point, synchronised snapshot-plus-diff into [`L2Books`](kestrel_core::L2Books).
//!
//! - [`decode`]: JSON -> [`BinanceMessage`] (levels into reused scratch space).
//! - [`instruments`]: markets, tick and lot sizes, the precision check.
//! - [`sync`]: the official synchronisation (buffer, bridge, continuity, gaps).
//! - [`feed`]: [`BinanceFeed`], the handler the pipeline, `verify` and `export` share.
//! - [`capture`]: raw `<local ns> <json>` captures (plain or gzip) and their import to `.kcap`.
//! - [`verify`]: the reconstructed top of book against the exchange's `bookTicker`.

pub mod capture;
pub mod decode;
pub mod error;
pub mod feed;
pub mod instruments;
pub mod stats;
pub mod sync;
pub mod verify;

pub use decode::{BinanceDecoder, BinanceMessage, BookTicker, DepthDiff, DepthSnapshot, Trade};
pub use error::{BinanceError, BinanceErrorKind, CaptureLineError};
pub use feed::{BinanceConfig, BinanceFeed, SNAPSHOT_CHANNEL_BASE};
pub use instruments::{InstrumentSpec, Market, builtin_spec, spec_table};
pub use stats::BinanceStats;
pub use sync::{DepthSync, SyncState, Verdict};
