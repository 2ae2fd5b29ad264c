//! Helpers for the tests that run the `kestrel` binary (the CLI tests of `tools/` and the
//! sidecar tests of `ml-sidecar/`): the bundled data, a run, its output, the AAPL sample
//! imported as a capture.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's bundled data folder (`data/`).
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

/// A file of the bundled LOBSTER AAPL sample (10 levels, 999 events): `kind` is `message` or
/// `orderbook`.
pub fn lobster(kind: &str) -> String {
    format!("{DATA}/lobster/AAPL_2012-06-21_34200000_57600000_{kind}_10.csv")
}

/// Runs `bin ARGS` to the end and returns its status and output.
pub fn run(bin: impl AsRef<Path>, args: &[&str]) -> Output {
    let bin = bin.as_ref();
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()))
}

/// Its standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The last line of its standard output (empty when there is none).
pub fn last_line(o: &Output) -> String {
    stdout(o).lines().last().unwrap_or_default().to_owned()
}

/// `kestrel import lobster` of the AAPL sample (symbol `AAPL`) into `dir/aapl.kcap`, which it
/// returns; the import must succeed.
pub fn import_aapl(kestrel: impl AsRef<Path>, dir: &Path) -> PathBuf {
    let out = dir.join("aapl.kcap");
    let o = run(
        kestrel,
        &[
            "import",
            "lobster",
            "--messages",
            &lobster("message"),
            "--orderbook",
            &lobster("orderbook"),
            "--symbol",
            "AAPL",
            "--out",
            out.to_str().expect("a UTF-8 temporary path"),
        ],
    );
    assert!(o.status.success(), "{o:?}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_where_the_helpers_say() {
        assert!(Path::new(&lobster("message")).is_file());
        assert!(Path::new(&lobster("orderbook")).is_file());
    }

    #[test]
    fn output_helpers_read_what_the_command_printed() {
        let o = run("sh", &["-c", "echo one; echo two"]);
        assert!(o.status.success());
        assert_eq!(stdout(&o), "one\ntwo\n");
        assert_eq!(last_line(&o), "two");
        assert_eq!(last_line(&run("true", &[])), "");
    }
}
