//! `kestrel research signals` reads a LOBSTER pair through the feed code: the same book updates,
//! so the same report, as the capture `kestrel import lobster` writes from it.

mod common;

use common::{DATA, import_aapl, kestrel, lobster, stdout};

/// `research signals INPUT --json --publish POLICY`, which must succeed, as JSON.
fn research(input: &str, policy: &str) -> serde_json::Value {
    let o = kestrel(&["research", "signals", input, "--json", "--publish", policy]);
    assert!(o.status.success(), "{o:?}");
    serde_json::from_str(&stdout(&o)).expect("a JSON report")
}

#[test]
fn research_on_lobster_equals_research_on_its_imported_capture() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = import_aapl(dir.path());
    for policy in ["every_event", "packet"] {
        let direct = research(&lobster("orderbook"), policy);
        let imported = research(kcap.to_str().unwrap(), policy);
        assert_eq!(direct, imported, "{policy}");
        let updates = direct["updates"].as_u64().unwrap();
        // 999 events and the initial book; an execution and its book change are one update.
        assert!(updates > 999, "{policy}: {updates}");
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

/// A Binance or DBN capture is read through its venue's feed, as `replay` reads it: every
/// signal is scored on the same updates.
#[test]
fn research_reads_binance_and_dbn_captures_through_their_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        ("binance", "binance/spot_btcusdt_20240808.gz", "spot.kcap"),
        ("dbn", "dbn/test_data.mbo.dbn", "mbo.kcap"),
    ];
    for (venue, input, out) in inputs {
        let kcap = dir.path().join(out);
        let o = kestrel(&[
            "import",
            venue,
            "--in",
            &format!("{DATA}/{input}"),
            "--out",
            kcap.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{o:?}");
        let report = research(kcap.to_str().unwrap(), "packet");
        let updates = report["updates"].as_u64().unwrap();
        assert!(updates > 0, "{venue}: {report}");
        assert!(!report["predictors"].as_array().unwrap().is_empty());
        if venue == "binance" {
            // 41,249 depth and trade messages: thousands of book updates to score.
            assert!(updates > 10_000, "{updates}");
            assert!(report["usable"].as_u64().unwrap() > 10_000, "{report}");
        }
    }
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
