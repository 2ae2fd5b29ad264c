//! One module per `kestrel` command.

pub mod backtest;
pub mod capture;
pub mod export;
pub mod hist;
pub mod import;
pub mod import_binance;
pub mod import_dbn;
pub mod journal;
pub mod record;
pub mod replay;
pub mod research;
pub mod session;
pub mod sim_exchange;
pub mod sysinfo;
pub mod verify;
pub mod verify_binance;

use std::path::Path;

use anyhow::Context;

/// Reads a whole text file, plain or gzip-compressed (e.g. a LOBSTER `.csv.gz`), naming it in
/// the error.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    kestrel_feeds::lobster::read_lobster_text(path)
        .with_context(|| format!("reading {}", path.display()))
}

/// Nanoseconds since the Unix epoch now (0 if the clock is before 1970).
pub fn now_ns() -> kestrel_core::Timestamp {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    kestrel_core::Timestamp(ns)
}
