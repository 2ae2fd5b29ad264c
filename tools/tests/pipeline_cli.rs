//! `kestrel replay --mode`, `kestrel hist` and `kestrel sysinfo` end to end on the bundled
//! LOBSTER AAPL sample.

use std::path::{Path, PathBuf};
use std::process::Command;
mod common;

use common::{DATA, command, import_aapl, kestrel, stdout, summary};

const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/kestrel.toml");
const EXAMPLE_STRATEGY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/strategy.toml");

#[test]
fn inline_and_threaded_sessions_agree_and_hist_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let inline = tmp.path().join("inline");
    let threaded = tmp.path().join("threaded");
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--mode",
        "inline",
        "--config",
        EXAMPLE_CONFIG,
        "--session-dir",
        inline.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("session="), "{}", stdout(&o));
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--mode",
        "threaded",
        "--pace",
        "max",
        "--session-dir",
        threaded.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    for dir in [&inline, &threaded] {
        for f in [
            "config.toml",
            "latency.hlog",
            "latency.hgrm",
            "latency-e2e.hgrm",
            "latency-strategy.hgrm",
            "strategy.toml",
            "params_changes.jsonl",
            "summary.json",
        ] {
            assert!(dir.join(f).is_file(), "{} missing", f);
        }
        // No gateway: no tick-to-trade histogram, rather than an empty one.
        assert!(!dir.join("latency-tick_to_trade.hgrm").exists());
    }
    // The ring hop and the consumer stage exist only threaded: inline leaves no empty file.
    for f in ["latency-hop.hgrm", "latency-consumer.hgrm"] {
        assert!(!inline.join(f).exists(), "{f} written inline");
        assert!(threaded.join(f).is_file(), "{f} missing threaded");
    }
    let (a, b) = (summary(&inline), summary(&threaded));
    assert!(a["events"].as_u64().unwrap() >= 998, "{a}");
    assert_eq!(a["events"], b["events"]);
    assert_eq!(a["output_hash"], b["output_hash"]);
    assert_eq!(a["book_hash"], b["book_hash"]);
    assert_eq!(a["drops"], 0);
    assert_eq!(b["drops"], 0);
    assert_eq!(a["anomalies"], 0);
    let e2e = b["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "e2e")
        .unwrap();
    assert_eq!(e2e["count"], b["events"]);
    // The strategy stage: same intents inline and threaded, its own latency histogram.
    let (sa, sb) = (&a["strategy"], &b["strategy"]);
    assert_eq!(sa["fill_mode"], "simulated_immediate_fill");
    assert_eq!(sa["updates"], a["events"]);
    assert_eq!(sa["update_hash"], a["output_hash"]);
    assert!(sa["intents"].as_u64().unwrap() > 0, "{sa}");
    assert_eq!(
        sa["buys"].as_u64().unwrap() + sa["sells"].as_u64().unwrap(),
        sa["intents"].as_u64().unwrap()
    );
    assert_eq!(sa["intents"], sb["intents"]);
    assert_eq!(sa["intent_hash"], sb["intent_hash"]);
    assert_eq!(sa["params_changes"], 0);
    let decisions: u64 = sa["bindings"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    // The default policy (`packet`): one decision per instrument and packet, each with its
    // binding and its strategy latency.
    assert_eq!(sa["publish"], "packet");
    assert_eq!(decisions, sa["decisions"].as_u64().unwrap());
    assert!(decisions > 0 && decisions <= sa["updates"].as_u64().unwrap());
    assert_eq!(sa["latency"]["count"], sa["decisions"]);
    let strategy_stage = a["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "strategy")
        .unwrap();
    assert_eq!(strategy_stage["count"], sa["decisions"]);
    // The intents line comes just before the unchanged last line.
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    let n = lines.len();
    assert_eq!(
        lines[n - 2],
        format!(
            "intents={} intent_hash={}",
            sb["intents"],
            sb["intent_hash"].as_str().unwrap()
        )
    );
    assert!(lines[n - 1].starts_with("events="), "{out}");
    assert!(lines[n - 1].ends_with(&format!("book_hash={}", b["book_hash"].as_str().unwrap())));
    let config = std::fs::read_to_string(inline.join("config.toml")).unwrap();
    assert!(
        config.contains("[session]") && config.contains("mode = \"inline\""),
        "{config}"
    );

    let o = kestrel(&["hist", "show", threaded.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let table = stdout(&o);
    for stage in ["feed", "hop", "consumer", "e2e", "strategy"] {
        assert!(
            table.lines().any(|l| l.starts_with(stage)),
            "{stage}: {table}"
        );
    }
    // Against itself nothing regresses; the plot has one curve per session.
    let o = kestrel(&[
        "hist",
        "diff",
        inline.to_str().unwrap(),
        inline.to_str().unwrap(),
        "--max-regress",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let svg = tmp.path().join("p.svg");
    let o = kestrel(&[
        "hist",
        "plot",
        inline.to_str().unwrap(),
        threaded.to_str().unwrap(),
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .matches("class=\"series\"")
            .count(),
        2
    );
}

#[test]
fn strategy_params_file_is_used_copied_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let example = std::fs::read_to_string(EXAMPLE_STRATEGY).unwrap();
    // A position limit below one lot (the smallest the file accepts): no intent can open a
    // position.
    let flat = example.replace("max_position = \"500\"", "max_position = \"0.00000001\"");
    assert_ne!(
        flat, example,
        "examples/strategy.toml changed: update this test"
    );
    let params = tmp.path().join("flat.toml");
    std::fs::write(&params, &flat).unwrap();
    let run = |params: &Path, dir: &Path| {
        kestrel(&[
            "replay",
            kcap.to_str().unwrap(),
            "--strategy-params",
            params.to_str().unwrap(),
            "--session-dir",
            dir.to_str().unwrap(),
        ])
    };
    let (base_dir, flat_dir) = (tmp.path().join("base"), tmp.path().join("flat"));
    let o = run(Path::new(EXAMPLE_STRATEGY), &base_dir);
    assert!(o.status.success(), "{o:?}");
    let o = run(&params, &flat_dir);
    assert!(o.status.success(), "{o:?}");
    let (base, flat_s) = (summary(&base_dir), summary(&flat_dir));
    assert!(base["strategy"]["intents"].as_u64().unwrap() > 0);
    assert_eq!(flat_s["strategy"]["intents"], 0, "{flat_s}");
    assert_eq!(
        std::fs::read_to_string(flat_dir.join("strategy.toml")).unwrap(),
        flat
    );
    assert!(
        flat_s["strategy"]["params_file"]
            .as_str()
            .unwrap()
            .ends_with("flat.toml")
    );
    // The built-in defaults are examples/strategy.toml.
    let default_dir = tmp.path().join("default");
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--session-dir",
        default_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        summary(&default_dir)["strategy"]["intent_hash"],
        base["strategy"]["intent_hash"]
    );
    // An invalid file is refused with the field and the reason.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, example.replace("fraction = 0.1", "fraction = -1.0")).unwrap();
    let o = run(&bad, &tmp.path().join("bad"));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("kelly.fraction"), "{err}");
}

#[test]
fn a_parameter_file_changed_during_a_paced_replay_is_applied_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let example = std::fs::read_to_string(EXAMPLE_STRATEGY).unwrap();
    for mode in ["inline", "threaded"] {
        let params = tmp.path().join(format!("{mode}.toml"));
        std::fs::write(&params, &example).unwrap();
        let dir = tmp.path().join(format!("reload-{mode}"));
        // 20x the recorded rate: the sample takes a couple of seconds.
        let child = command()
            .args([
                "replay",
                kcap.to_str().unwrap(),
                "--mode",
                mode,
                "--pace",
                "20",
                "--strategy-params",
                params.to_str().unwrap(),
                "--session-dir",
                dir.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        // SIGHUP forces a re-read (same file: nothing published) and must not end the run.
        let hup = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::write(
            &params,
            example.replace("max_position = \"500\"", "max_position = \"25\""),
        )
        .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let s = summary(&dir);
        assert_eq!(s["strategy"]["params_changes"], 1, "{mode}: {s}");
        let log = std::fs::read_to_string(dir.join("params_changes.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{mode}: {log}");
        assert_eq!(lines[0]["event"], "published");
        assert_eq!(lines[1]["event"], "applied");
        assert_eq!(lines[1]["version"], 1);
        assert_eq!(lines[1]["sections"], serde_json::json!(["limits"]));
        let first = lines[1]["first_seq"].as_u64().unwrap();
        assert!(first > 1 && first <= s["events"].as_u64().unwrap(), "{log}");
    }
}

#[test]
fn bad_pace_and_missing_session_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let o = kestrel(&["replay", kcap.to_str().unwrap(), "--pace", "fast"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("invalid pace"),
        "{o:?}"
    );
    let o = kestrel(&["hist", "show", tmp.path().join("nope").to_str().unwrap()]);
    assert!(!o.status.success());
}

#[test]
fn sysinfo_reports_isolation_from_a_fake_sysfs() {
    let tmp = tempfile::tempdir().unwrap();
    let cpu = tmp.path().join("sys/devices/system/cpu");
    std::fs::create_dir_all(&cpu).unwrap();
    std::fs::write(cpu.join("online"), "0-3\n").unwrap();
    std::fs::write(cpu.join("isolated"), "2-3\n").unwrap();
    let config = tmp.path().join("k.toml");
    std::fs::write(
        &config,
        "[cpu]\nfeed = 2\nconsumer = 1\nrequire_isolated = true\n",
    )
    .unwrap();
    let o = kestrel(&[
        "sysinfo",
        "--sys-root",
        tmp.path().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("isolated          2,3"), "{text}");
    assert!(
        text.contains("refused") && text.contains("core 1, which is not isolated"),
        "{text}"
    );
}

/// The NASDAQ ITCH sample imported as a capture: three instruments (ALC, BOB, CHAR).
fn import_itch(dir: &Path) -> PathBuf {
    let out = dir.join("itch.kcap");
    let o = kestrel(&[
        "import",
        "itch",
        "--in",
        &format!("{DATA}/itch/ex20101224.TEST_ITCH_50"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    out
}

#[test]
fn the_strategy_universe_comes_from_symbols_or_the_parameter_file() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_itch(tmp.path());
    // Every run publishes every event unless it says otherwise (the counts below are
    // every_event's; the default, `packet`, is checked at the end).
    let run = |dir: &str, extra: &[&str]| {
        let session = tmp.path().join(dir);
        let mut args = vec![
            "replay",
            kcap.to_str().unwrap(),
            "--session-dir",
            session.to_str().unwrap(),
        ];
        if !extra.contains(&"--publish") && dir != "default" {
            args.extend_from_slice(&["--publish", "every_event"]);
        }
        args.extend_from_slice(extra);
        (kestrel(&args), session)
    };
    let (o, all_dir) = run("all", &[]);
    assert!(o.status.success(), "{o:?}");
    let all = summary(&all_dir);
    assert_eq!(all["strategy"]["instruments"], 3);
    assert_eq!(all["strategy"]["unpublished_updates"], 0);

    // One symbol: books for all three, the strategy sized to one, the others never published.
    let (o, bob_dir) = run("bob", &["--symbols", "BOB"]);
    assert!(o.status.success(), "{o:?}");
    let bob = summary(&bob_dir);
    let st = &bob["strategy"];
    assert_eq!(st["instruments"], 1);
    assert_eq!(st["feed_instruments"], 3);
    assert_eq!(st["universe"], serde_json::json!(["BOB"]));
    let (updates, unpublished) = (
        st["updates"].as_u64().unwrap(),
        st["unpublished_updates"].as_u64().unwrap(),
    );
    assert!(updates > 0 && unpublished > 0);
    assert_eq!(
        updates + unpublished,
        all["strategy"]["updates"].as_u64().unwrap()
    );
    assert_eq!(
        bob["book_hash"], all["book_hash"],
        "books are kept for every symbol"
    );
    // Every intent of the whole-table run is BOB's (the others never have a two-sided book),
    // so the one-symbol universe decides exactly the same ones.
    assert!(all["strategy"]["intents"].as_u64().unwrap() > 0);
    assert_eq!(st["intent_hash"], all["strategy"]["intent_hash"]);

    // The parameter file's [universe], and --symbols overriding it.
    let example = std::fs::read_to_string(EXAMPLE_STRATEGY).unwrap();
    let params = tmp.path().join("universe.toml");
    std::fs::write(
        &params,
        format!("{example}\n[universe]\nsymbols = [\"CHAR\", \"ALC\"]\n"),
    )
    .unwrap();
    let (o, file_dir) = run("file", &["--strategy-params", params.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        summary(&file_dir)["strategy"]["universe"],
        serde_json::json!(["CHAR", "ALC"])
    );
    let (o, over_dir) = run(
        "override",
        &[
            "--strategy-params",
            params.to_str().unwrap(),
            "--symbols",
            "BOB",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        summary(&over_dir)["strategy"]["intent_hash"],
        st["intent_hash"]
    );

    // Packet publishing: one update per changed instrument per packet (prints and status
    // changes one by one); every accepted event is published, unpublished or merged, and the
    // books are the same.
    let (o, packet_dir) = run("packet", &["--publish", "packet"]);
    assert!(o.status.success(), "{o:?}");
    let packet = summary(&packet_dir);
    let pst = &packet["strategy"];
    assert_eq!(pst["publish"], "packet");
    assert_eq!(all["strategy"]["publish"], "every_event");
    assert_eq!(all["strategy"]["merged_updates"], 0);
    let merged = pst["merged_updates"].as_u64().unwrap();
    assert!(merged > 0, "{pst}");
    assert_eq!(
        pst["updates"].as_u64().unwrap() + pst["unpublished_updates"].as_u64().unwrap() + merged,
        all["strategy"]["updates"].as_u64().unwrap()
    );
    assert_eq!(packet["book_hash"], all["book_hash"]);
    assert!(stdout(&o).contains("publish=packet"), "{}", stdout(&o));
    // One decision per instrument and packet: at most one per update, at least one per
    // instrument that had an update; every update is a decision under every_event.
    let decisions = pst["decisions"].as_u64().unwrap();
    assert!(
        decisions > 0 && decisions <= pst["updates"].as_u64().unwrap(),
        "{pst}"
    );
    assert_eq!(all["strategy"]["decisions"], all["strategy"]["updates"]);
    // The default policy is `packet`: the same run as asking for it.
    let (o, default_dir) = run("default", &[]);
    assert!(o.status.success(), "{o:?}");
    let default = summary(&default_dir);
    assert_eq!(default["strategy"]["publish"], "packet");
    assert_eq!(default["output_hash"], packet["output_hash"]);
    assert_eq!(
        default["strategy"]["intent_hash"], pst["intent_hash"],
        "{default}"
    );
    let (o, _) = run("bad-publish", &["--publish", "sometimes"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("every_event or packet"));

    // A symbol the capture does not have, or a bad list, is refused before the run.
    for bad in ["NOPE", "BOB,BOB", ""] {
        let (o, _) = run("bad", &["--symbols", bad]);
        assert!(!o.status.success(), "--symbols {bad:?} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("symbol"), "{err}");
    }
}
