//! Shared helpers: run `scripts/ml.sh` (with the binary cargo built for these tests) and the
//! `kestrel` binary, on the bundled LOBSTER sample.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled LOBSTER sample (`lobster(kind)`) and its import into a `.kcap`
/// (`import_aapl(kestrel, dir)`), shared with the other crates' CLI tests.
pub use kestrel_test_support::cli::{import_aapl, lobster};

/// `scripts/ml.sh ARGS` as users run it, with the binary cargo built for this test run.
pub fn ml_command(args: &[&str]) -> Command {
    let mut c = Command::new(root().join("scripts/ml.sh"));
    c.args(args)
        .env("KESTREL_ML_BIN", env!("CARGO_BIN_EXE_kestrel-ml"));
    c
}

/// Runs `scripts/ml.sh ARGS`.
pub fn ml(args: &[&str]) -> Output {
    ml_command(args).output().expect("run scripts/ml.sh")
}

/// Runs it and insists on success.
pub fn ml_ok(args: &[&str]) -> String {
    let o = ml(args);
    assert!(
        o.status.success(),
        "kestrel-ml {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `kestrel` binary: `$KESTREL_BIN`, or the workspace's test build (scripts/test.sh builds
/// it before the sidecar's tests).
pub fn kestrel_bin() -> PathBuf {
    if let Ok(p) = std::env::var("KESTREL_BIN") {
        return PathBuf::from(p);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let p = target.join("debug/kestrel");
    assert!(
        p.is_file(),
        "{} not found: build it first (`cargo build -p kestrel --profile test`, as scripts/test.sh does) or set KESTREL_BIN",
        p.display()
    );
    p
}

/// Builds the small dataset of the AAPL sample into `dir` (horizon 10).
pub fn small_dataset(dir: &Path) -> PathBuf {
    let out = dir.join("ds");
    ml_ok(&[
        "dataset",
        "--messages",
        &lobster("message"),
        "--orderbook",
        &lobster("orderbook"),
        "--out",
        out.to_str().unwrap(),
        "--horizon",
        "10",
    ]);
    out
}

/// Trains a small model of `kind` (window 10, a few steps) into `dir/name`.
pub fn small_model(dataset: &Path, dir: &Path, kind: &str, name: &str, seed: u64) -> PathBuf {
    let out = dir.join(name);
    ml_ok(&[
        "train",
        dataset.to_str().unwrap(),
        "--model",
        kind,
        "--out",
        out.to_str().unwrap(),
        "--window",
        "10",
        "--max-steps",
        "4",
        "--batch",
        "32",
        "--eval-every",
        "2",
        "--seed",
        &seed.to_string(),
        "--threads",
        "1",
        "--device",
        "cpu",
    ]);
    out
}
