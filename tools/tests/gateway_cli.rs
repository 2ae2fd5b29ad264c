//! `kestrel replay --gateway` against the simulated exchange on loopback, and `kestrel journal
//! show|verify` on the journal it leaves: intents go out as OUCH orders, fills come back, the
//! credentials never reach the output or the session directory. Bounded in time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kestrel_core::clock::Pace;
use kestrel_sim::exchange::{ExchangeConfig, ExchangeReport, ExchangeSetup, run_exchange};

mod common;

use common::{import_aapl, kestrel, lobster, stdout, summary};

const PASSWORD: &str = "Pw0rd9x";

/// `kestrel` with the OUCH login variables taken from `env` only (never from the test's own).
fn kestrel_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    common::command()
        .args(args)
        .env_remove("KESTREL_OUCH_USERNAME")
        .env_remove("KESTREL_OUCH_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("run kestrel")
}

fn credentials(dir: &Path, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let f = dir.join(format!("creds-{mode:o}"));
    std::fs::write(&f, format!("KSTR:{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
    f
}

/// The simulated exchange on a thread: replays the AAPL sample (10x) once we log in.
fn exchange(
    creds: PathBuf,
) -> (
    SocketAddr,
    Arc<AtomicBool>,
    std::thread::JoinHandle<ExchangeReport>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let setup = ExchangeSetup {
        capture: PathBuf::from(lobster("message")),
        ouch: "127.0.0.1:0".parse().unwrap(),
        itch: "127.0.0.1:0".parse().unwrap(),
        credentials: creds,
        pace: Pace::Factor(10.0),
        config: ExchangeConfig {
            start_after_logins: 1,
            linger_ms: 20_000,
            // The default (the feed's port + 1) collides between tests that run at once.
            retrans: Some("127.0.0.1:0".parse().unwrap()),
            ..ExchangeConfig::default()
        },
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        run_exchange(&setup, &s, &mut |b| {
            let _ = tx.send(b.ouch);
        })
        .expect("exchange")
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("exchange bound");
    (addr, stop, h)
}

#[test]
fn replay_sends_orders_to_the_simulated_exchange_and_the_journal_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let creds = credentials(tmp.path(), 0o600);
    let (addr, stop, ex) = exchange(creds.clone());
    let dir = tmp.path().join("session");
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--pace",
        "10",
        "--gateway",
        &addr.to_string(),
        "--credentials",
        creds.to_str().unwrap(),
        "--session-dir",
        dir.to_str().unwrap(),
    ]);
    stop.store(true, Ordering::Relaxed);
    let report = ex.join().unwrap();
    let out = stdout(&o);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{out}\n{err}");
    println!("{out}");
    assert!(out.contains("gateway venue="), "{out}");
    let summary: serde_json::Value = summary(&dir);
    let g = &summary["gateway"];
    assert!(g["orders"].as_u64().unwrap() > 0, "{g}");
    assert_eq!(summary["strategy"]["fill_mode"], "gateway");
    // The venue's record of our fills and ours agree.
    let ours = g["fills"].as_u64().unwrap();
    assert_eq!(ours as usize, report.fills.len(), "{g}");
    // Never the password: not in the output, not in any file of the session directory.
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    for f in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes())
        );
    }
    let journal = dir.join("gateway.journal");
    let v = kestrel(&["journal", "verify", journal.to_str().unwrap()]);
    assert!(v.status.success(), "{v:?}");
    let show = kestrel(&["journal", "show", journal.to_str().unwrap()]);
    let text = stdout(&show);
    assert!(
        text.contains("sent order=") && text.contains("EnterOrder"),
        "{text}"
    );
    assert!(text.contains("received seq=1 "), "{text}");
    // Flip a byte in the middle: corruption, non-zero exit.
    let mut bytes = std::fs::read(&journal).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5A;
    std::fs::write(&journal, &bytes).unwrap();
    let v = kestrel(&["journal", "verify", journal.to_str().unwrap()]);
    assert!(!v.status.success());
}

#[test]
fn threaded_replay_with_a_vwap_parent_per_intent() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let creds = credentials(tmp.path(), 0o600);
    let cfg = tmp.path().join("gateway.toml");
    std::fs::write(
        &cfg,
        "[orders]\nalgo = \"vwap\"\nalgo_duration_ms = 2000\nalgo_slices = 4\ndrain_s = 1.0\n[limits]\nmax_open_per_side = 64\n",
    )
    .unwrap();
    let (addr, stop, ex) = exchange(creds.clone());
    let dir = tmp.path().join("session");
    // The login from the environment this time (no --credentials).
    let o = kestrel_env(
        &[
            "replay",
            kcap.to_str().unwrap(),
            "--mode",
            "threaded",
            "--pace",
            "10",
            "--gateway",
            &addr.to_string(),
            "--gateway-config",
            cfg.to_str().unwrap(),
            "--session-dir",
            dir.to_str().unwrap(),
        ],
        &[
            ("KESTREL_OUCH_USERNAME", "KSTR"),
            ("KESTREL_OUCH_PASSWORD", PASSWORD),
        ],
    );
    stop.store(true, Ordering::Relaxed);
    let report = ex.join().unwrap();
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.contains(PASSWORD) && !String::from_utf8_lossy(&o.stderr).contains(PASSWORD));
    let summary: serde_json::Value = summary(&dir);
    let g = &summary["gateway"];
    // Intents became VWAP parents sliced over the profile the capture's trades built (without
    // a profile every VWAP parent is refused, so one started proves it loaded), and their
    // child orders are the orders sent.
    let algo = &g["algo"];
    assert_eq!(algo["kind"], "vwap", "{g}");
    assert!(algo["profile_trades"].as_u64().unwrap() > 0, "{g}");
    assert!(algo["started"].as_u64().unwrap() > 0, "{g}");
    assert_eq!(algo["children"], g["orders"], "{g}");
    // Per-parent TCA: one line per finished parent, and the session's shortfall over them.
    let finished = algo["finished"].as_u64().unwrap();
    assert_eq!(g["tca"]["parents"].as_u64().unwrap(), finished, "{g}");
    if finished > 0 {
        let csv = std::fs::read_to_string(dir.join("parents.csv")).unwrap();
        assert_eq!(csv.lines().count() as u64, finished + 1, "{csv}");
        assert!(csv.starts_with("parent,symbol,side,target,filled,arrival_mid"));
        assert!(
            csv.lines()
                .skip(1)
                .all(|l| l.split(',').nth(1) == Some("AAPL"))
        );
        assert!(
            g["tca"]["implementation_shortfall_bps"]
                .as_f64()
                .unwrap()
                .is_finite()
        );
    }
    // The venue's fills are ours.
    assert_eq!(
        g["fills"].as_u64().unwrap() as usize,
        report.fills.len(),
        "{g}"
    );
    assert!(summary["threads"].as_array().unwrap().len() >= 2);
    let v = kestrel(&[
        "journal",
        "verify",
        dir.join("gateway.journal").to_str().unwrap(),
    ]);
    assert!(v.status.success(), "{v:?}");
}

#[test]
fn credentials_file_readable_by_others_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let creds = credentials(tmp.path(), 0o644);
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--gateway",
        "127.0.0.1:9",
        "--credentials",
        creds.to_str().unwrap(),
        "--session-dir",
        tmp.path().join("s").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("0644") && err.contains("0600"), "{err}");
    assert!(!err.contains(PASSWORD));
}

#[test]
fn a_gateway_without_credentials_names_both_ways_to_give_them() {
    let tmp = tempfile::tempdir().unwrap();
    let kcap = import_aapl(tmp.path());
    let o = kestrel_env(
        &[
            "replay",
            kcap.to_str().unwrap(),
            "--gateway",
            "127.0.0.1:9",
            "--session-dir",
            tmp.path().join("s").to_str().unwrap(),
        ],
        &[],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("KESTREL_OUCH_USERNAME")
            && err.contains("KESTREL_OUCH_PASSWORD")
            && err.contains("--credentials"),
        "{err}"
    );
}
