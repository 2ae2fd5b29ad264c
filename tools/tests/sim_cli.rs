//! The simulated-exchange commands end to end: `kestrel backtest` is deterministic (same
//! capture, same last line with the fills and their hash) and writes a session directory whose
//! summary carries the trading figures under plain keys.

use std::path::PathBuf;
use std::process::Command;

fn kestrel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
}

fn lobster() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv")
}

fn last_line(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn backtest_is_deterministic_and_reports_fills() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        kestrel()
            .arg("backtest")
            .arg(lobster())
            .arg("--session-dir")
            .arg(dir.path().join(name))
            .output()
            .unwrap()
    };
    let a = last_line(&run("a"));
    let b = last_line(&run("b"));
    assert_eq!(a, b, "same capture, same fills");
    assert!(a.starts_with("fills="), "{a}");
    let fills: u64 = a
        .split_whitespace()
        .next()
        .and_then(|f| f.strip_prefix("fills="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(fills > 0, "{a}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["fills"].as_u64(), Some(fills));
    for key in [
        "pnl",
        "max_drawdown",
        "fill_ratio",
        "inventory",
        "fill_hash",
    ] {
        assert!(!summary[key].is_null(), "summary.json has {key}");
    }
    assert!(summary["pnl"]["net"].is_number());
    let fills_csv = std::fs::read_to_string(dir.path().join("a/fills.csv")).unwrap();
    assert_eq!(fills_csv.lines().count() as u64, fills + 1);
    assert!(dir.path().join("a/pnl.csv").exists());
}
