//! `kestrel replay --mode`, `kestrel hist` and `kestrel sysinfo` end to end on the bundled
//! LOBSTER AAPL sample.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KESTREL: &str = env!("CARGO_BIN_EXE_kestrel");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data");
const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/kestrel.toml");

fn kestrel(args: &[&str]) -> Output {
    Command::new(KESTREL)
        .args(args)
        .output()
        .expect("run kestrel")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn import_aapl(dir: &Path) -> PathBuf {
    let lobster =
        |kind: &str| format!("{DATA}/lobster/AAPL_2012-06-21_34200000_57600000_{kind}_10.csv");
    let out = dir.join("aapl.kcap");
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
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    out
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

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
            "summary.json",
        ] {
            assert!(dir.join(f).is_file(), "{} missing", f);
        }
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
    let config = std::fs::read_to_string(inline.join("config.toml")).unwrap();
    assert!(
        config.contains("[session]") && config.contains("mode = \"inline\""),
        "{config}"
    );

    let o = kestrel(&["hist", "show", threaded.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let table = stdout(&o);
    for stage in ["feed", "hop", "consumer", "e2e"] {
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
