//! The simulated-exchange commands end to end: `kestrel backtest` is deterministic (same
//! capture, same last line with the fills and their hash) and writes a session directory whose
//! summary carries the trading figures under plain keys.

use std::path::PathBuf;
use std::process::Output;

mod common;

use common::{command, last_line, lobster, summary};

/// The LOBSTER sample's message file (the capture these commands read).
fn capture() -> PathBuf {
    PathBuf::from(lobster("message"))
}

/// The last line of a run that must have succeeded.
fn ok_last_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    last_line(out)
}

#[test]
fn backtest_is_deterministic_and_reports_fills() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        command()
            .arg("backtest")
            .arg(capture())
            .arg("--session-dir")
            .arg(dir.path().join(name))
            .output()
            .unwrap()
    };
    let a = ok_last_line(&run("a"));
    let b = ok_last_line(&run("b"));
    assert_eq!(a, b, "same capture, same fills");
    assert!(a.starts_with("fills="), "{a}");
    let fills: u64 = a
        .split_whitespace()
        .next()
        .and_then(|f| f.strip_prefix("fills="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(fills > 0, "{a}");
    let summary = summary(&dir.path().join("a"));
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

#[test]
fn session_runs_the_loop_and_writes_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("session.toml");
    std::fs::write(
        &config,
        format!(
            "capture = {:?}\npace = \"20\"\nmax_seconds = 120\nmetrics = \"127.0.0.1:0\"\n\
             [exchange]\ndrop_packets = [5, 30]\nlinger_ms = 300\n",
            capture().display().to_string()
        ),
    )
    .unwrap();
    let session = dir.path().join("s");
    let out = command()
        .arg("session")
        .arg("--config")
        .arg(&config)
        .arg("--session-dir")
        .arg(&session)
        .output()
        .unwrap();
    let last = ok_last_line(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(last.starts_with("fills="), "{stdout}");
    assert!(stdout.contains("tick_to_trade count="), "{stdout}");
    assert!(
        stdout.contains("gaps_lost=0"),
        "dropped packets recovered: {stdout}"
    );
    let summary = summary(&session);
    assert!(summary["fills"].as_u64().unwrap() > 0, "{summary}");
    assert!(summary["tick_to_trade"]["count"].as_u64().unwrap() > 0);
    assert!(summary["pnl"]["net"].is_number());
    assert!(summary["max_drawdown"].is_number());
    for f in [
        "orders.journal",
        "feed.kcap",
        "latency.hlog",
        "latency-tick_to_trade.hgrm",
        "fills.csv",
        "pnl.csv",
    ] {
        assert!(session.join(f).exists(), "{f}");
    }
    // The recorded feed replays cleanly (every dropped packet was recovered).
    let replay = command()
        .arg("replay")
        .arg(session.join("feed.kcap"))
        .arg("--session-dir")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    let line = ok_last_line(&replay);
    assert!(line.contains("anomalies=0"), "{line}");
    // No password in the session directory.
    for entry in std::fs::read_dir(&session).unwrap() {
        let p = entry.unwrap().path();
        if p.extension()
            .is_some_and(|e| e == "toml" || e == "json" || e == "txt")
        {
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(!text.contains("password"), "{}", p.display());
        }
    }
}

/// The threaded session (gateway on its own thread) through a venue crash: the venue dies
/// mid-session and comes back from its journal; the engine reconnects, logs in at its next
/// sequence number, and at the end our fills reconcile with the venue's, the order journal
/// verifies, and resting orders were filled by the queue model (a queue position at fill).
#[test]
fn threaded_session_survives_a_venue_restart_and_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("session.toml");
    let strategy =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/session-strategy.toml");
    std::fs::write(
        &config,
        format!(
            "capture = {:?}\npace = \"20\"\nmax_seconds = 120\nstrategy_params = {:?}\n\
             [venue_restart]\nafter_ms = 1200\ndown_ms = 200\n\
             [exchange]\nlinger_ms = 300\n",
            capture().display().to_string(),
            strategy.display().to_string()
        ),
    )
    .unwrap();
    let session = dir.path().join("s");
    let out = command()
        .arg("session")
        .arg("--config")
        .arg(&config)
        .arg("--mode")
        .arg("threaded")
        .arg("--session-dir")
        .arg(&session)
        .output()
        .unwrap();
    let last = ok_last_line(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(last.contains("reconciled=true"), "{stdout}");
    assert!(stdout.contains("mode=threaded"), "{stdout}");
    assert!(stdout.contains("venue restarts=1"), "{stdout}");
    assert!(stdout.contains("tick_to_trade_part total"), "{stdout}");
    let summary = summary(&session);
    assert!(summary["fills"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["reconciliation"]["matched"], true, "{summary}");
    assert_eq!(summary["reconciliation"]["missing"], 0, "{summary}");
    assert!(
        summary["avg_queue_position"].is_number(),
        "resting orders filled by the queue model: {summary}"
    );
    assert!(
        summary["tick_to_trade_parts"]["total"]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
    let exchange = std::fs::read_to_string(session.join("exchange.txt")).unwrap();
    assert!(exchange.contains("restarts=1"), "{exchange}");
    // The order journal verifies.
    let verify = command()
        .arg("journal")
        .arg("verify")
        .arg(session.join("orders.journal"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
