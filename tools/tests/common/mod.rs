//! What every `kestrel` CLI test needs: the binary cargo built for this test run, the bundled
//! data, a run and its output (the helpers themselves are `kestrel_test_support::cli`, shared
//! with the sidecar tests of `ml-sidecar`).
#![allow(dead_code, unused_imports)] // Each test file uses some of these.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use kestrel_test_support::cli::{DATA, last_line, lobster, stdout};

/// The `kestrel` binary under test.
pub const KESTREL: &str = env!("CARGO_BIN_EXE_kestrel");

/// Runs `kestrel ARGS` to the end.
pub fn kestrel(args: &[&str]) -> Output {
    kestrel_test_support::cli::run(KESTREL, args)
}

/// The AAPL LOBSTER sample imported into `dir/aapl.kcap`.
pub fn import_aapl(dir: &Path) -> PathBuf {
    kestrel_test_support::cli::import_aapl(KESTREL, dir)
}

/// `kestrel` as a command to finish building (arguments that are paths, a child to spawn).
pub fn command() -> Command {
    Command::new(KESTREL)
}

/// A session directory's `summary.json`.
pub fn summary(dir: &Path) -> serde_json::Value {
    let path = dir.join("summary.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
