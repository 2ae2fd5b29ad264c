//! `kestrel research signals` reads a LOBSTER pair through the feed code: the same book updates,
//! so the same report, as the capture `kestrel import lobster` writes from it.

use std::process::{Command, Output};

const KESTREL: &str = env!("CARGO_BIN_EXE_kestrel");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data");

fn lobster(kind: &str) -> String {
    format!("{DATA}/lobster/AAPL_2012-06-21_34200000_57600000_{kind}_10.csv")
}

fn kestrel(args: &[&str]) -> Output {
    Command::new(KESTREL)
        .args(args)
        .output()
        .expect("run kestrel")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `research signals INPUT --json --publish POLICY`, which must succeed, as JSON.
fn research(input: &str, policy: &str) -> serde_json::Value {
    let o = kestrel(&["research", "signals", input, "--json", "--publish", policy]);
    assert!(o.status.success(), "{o:?}");
    serde_json::from_str(&stdout(&o)).expect("a JSON report")
}

#[test]
fn research_on_lobster_equals_research_on_its_imported_capture() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = dir.path().join("aapl.kcap");
    let o = kestrel(&[
        "import",
        "lobster",
        "--messages",
        &lobster("message"),
        "--orderbook",
        &lobster("orderbook"),
        "--symbol",
        "AAPL",
        "--out",
        kcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    for policy in ["every_event", "packet"] {
        let direct = research(&lobster("orderbook"), policy);
        let imported = research(kcap.to_str().unwrap(), policy);
        assert_eq!(direct, imported, "{policy}");
        let updates = direct["updates"].as_u64().unwrap();
        // 998 events and the initial book; every event's print and book change are one update.
        assert!(updates > 998, "{policy}: {updates}");
        assert!(direct["usable"].as_u64().unwrap() > 900, "{direct}");
        assert!(!direct["predictors"].as_array().unwrap().is_empty());
    }
    // The two policies differ only in how many intermediate books they show.
    let every = research(&lobster("orderbook"), "every_event")["updates"]
        .as_u64()
        .unwrap();
    let packet = research(&lobster("orderbook"), "packet")["updates"]
        .as_u64()
        .unwrap();
    assert!(every > packet, "every_event {every}, packet {packet}");
}

#[test]
fn research_refuses_an_input_it_cannot_read() {
    let o = kestrel(&["research", "signals", &format!("{DATA}/README.md")]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expected a .kcap capture or a LOBSTER"),
        "{o:?}"
    );
}
