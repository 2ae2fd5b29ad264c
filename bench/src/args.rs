//! Command-line arguments of the hand-written (`harness = false`) benches.

/// Whether the bench runs as a measurement (`cargo bench` passes `--bench`), rather than as
/// the short check `cargo test` runs.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The `n`th positional argument (flags such as `--bench` skipped) as a number, or `default`
/// when it is absent or not a number.
pub fn positional(n: usize, default: u64) -> u64 {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}
