//! `kestrel replay --sidecar` end to end with a stand-in sidecar process (this test binary
//! re-run in a sidecar role, speaking the real segment protocol): edges are used, the
//! summary reports them, a sidecar killed with SIGKILL mid-replay goes stale without the replay
//! noticing, and a restarted one resumes on the same segment.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kestrel_core::shm::{CoreState, EdgeRecord, SidecarSegment, inspect, monotonic_ns};
use kestrel_strategy::sidecar::feature_schema;

mod common;

use common::{command, import_aapl, kestrel, summary};

const ROLE_ENV: &str = "KESTREL_SIDECAR_TEST_ROLE";
const NAME_ENV: &str = "KESTREL_SIDECAR_TEST_NAME";

/// The stand-in sidecar: attaches (retrying until the segment exists), then answers every
/// feature with +/-3 bps by the sign of the top imbalance, heartbeating, until the core closes.
#[test]
#[ignore = "run by the tests below as a child process"]
fn child_fake_sidecar() {
    let (Ok(role), Ok(name)) = (std::env::var(ROLE_ENV), std::env::var(NAME_ENV)) else {
        return;
    };
    assert_eq!(role, "sidecar");
    let schema = feature_schema().unwrap();
    let started = Instant::now();
    let side = loop {
        match SidecarSegment::attach(&name, &schema, 42, 1) {
            Ok(s) => break s,
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "never attached: {e}"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    };
    println!("attached");
    let mut consumer = side.take_consumer().unwrap();
    let mut writer = side.take_edge_writer().unwrap();
    let heartbeat = side.heartbeat();
    let mut buf = Vec::new();
    while side.core_state() == CoreState::Running && started.elapsed() < Duration::from_secs(120) {
        heartbeat.beat();
        buf.clear();
        consumer.pop_into(&mut buf, 256).unwrap();
        for f in &buf {
            let edge = EdgeRecord {
                edge_bps: if f.features[1] >= 0.0 { 3.0 } else { -3.0 },
                confidence: 0.8,
                horizon_events: 10,
                model_id: 42,
                model_version: 1,
                feature_seq: f.feature_seq,
                event_time_ns: f.event_time_ns,
                produced_ns: monotonic_ns(),
                feature_published_ns: f.published_ns,
            };
            writer.write(f.instrument as usize, &edge);
        }
        if buf.is_empty() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

fn spawn_sidecar(name: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_fake_sidecar",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, "sidecar")
        .env(NAME_ENV, name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn spawn_replay(kcap: &Path, name: &str, session: &Path, pace: &str, extra: &[&str]) -> Child {
    command()
        .args([
            "replay",
            kcap.to_str().unwrap(),
            "--pace",
            pace,
            "--sidecar",
            name,
            "--sidecar-wait",
            "60",
            "--session-dir",
            session.to_str().unwrap(),
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("replay did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn replay_blends_the_sidecar_edges_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = import_aapl(dir.path());
    let name = dir.path().join("seg").display().to_string();
    let session = dir.path().join("session");
    let mut sidecar = spawn_sidecar(&name);
    // At 20 times the recorded pace a millisecond of sidecar latency is 20 ms of event time:
    // allow edges up to one second of event time old here (the age rule has its own tests).
    let out = finish(
        spawn_replay(
            &kcap,
            &name,
            &session,
            "20",
            &["--sidecar-max-age-ms", "1000"],
        ),
        Duration::from_secs(120),
    );
    let _ = sidecar.kill();
    sidecar.wait().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("sidecar attaches=1 "), "{text}");
    let s = summary(&session);
    let sc = &s["sidecar"];
    eprintln!("{sc}");
    let published = sc["features_published"].as_u64().unwrap();
    assert!(published > 900, "{sc}");
    assert_eq!(sc["features_dropped"], 0, "{sc}");
    assert_eq!(sc["attaches"], 1);
    assert_eq!(sc["model_id"], 42);
    // The core reads a slot at each update of its instrument, so several edges written in
    // between count once.
    let received = sc["edges_received"].as_u64().unwrap();
    assert!(received > 100 && received <= published, "{sc}");
    assert!(sc["edges_used"].as_u64().unwrap() > 500, "{sc}");
    assert_eq!(sc["sidecar_down"], 0, "{sc}");
    assert!(sc["live_ic"].is_f64(), "{sc}");
    assert!(sc["ic_samples"].as_u64().unwrap() > 20, "{sc}");
    assert!(s["strategy"]["intents"].as_u64().unwrap() > 0);
    // The core removed its segment at the end.
    assert!(!Path::new(&name).exists());
}

#[test]
fn a_killed_sidecar_goes_stale_and_a_restarted_one_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = import_aapl(dir.path());
    let name = dir.path().join("seg").display().to_string();
    let session = dir.path().join("session");
    let mut first = spawn_sidecar(&name);
    // Recorded pace / 8: about six seconds for the 49 s sample.
    let started = Instant::now();
    let replay = spawn_replay(&kcap, &name, &session, "8", &[]);
    // Wait until the first sidecar has consumed a good part of the run, then SIGKILL it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "the first sidecar never got going"
        );
        if let Ok((_, st)) = inspect(&name)
            && st.tail > 150
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let killed_at = inspect(&name).unwrap().1;
    // The core keeps going without it: records pile up unconsumed.
    std::thread::sleep(Duration::from_millis(800));
    let (_, while_dead) = inspect(&name).unwrap();
    assert_eq!(
        while_dead.tail, killed_at.tail,
        "nobody consumes while the sidecar is dead"
    );
    assert!(
        while_dead.head > killed_at.head,
        "the core stopped publishing"
    );
    // A new sidecar attaches to the same segment and resumes at the first unconsumed record.
    let mut second = spawn_sidecar(&name);
    let out = finish(replay, Duration::from_secs(120));
    let elapsed = started.elapsed();
    let _ = second.kill();
    second.wait().unwrap();
    assert!(out.status.success(), "{out:?}");
    let s = summary(&session);
    let sc = &s["sidecar"];
    eprintln!("{sc} elapsed={elapsed:?}");
    assert_eq!(sc["attaches"], 2, "{sc}");
    let published = sc["features_published"].as_u64().unwrap();
    assert!(published > 900);
    assert_eq!(sc["features_dropped"], 0);
    assert_eq!(
        sc["features_consumed"].as_u64().unwrap(),
        published,
        "the restarted sidecar consumed everything its predecessor left"
    );
    assert!(sc["sidecar_down"].as_u64().unwrap() > 0, "{sc}");
    assert!(sc["edges_used"].as_u64().unwrap() > 100, "{sc}");
    assert_eq!(s["strategy"]["updates"], s["events"]);
    assert!(s["strategy"]["intents"].as_u64().unwrap() > 0);
}

#[test]
fn a_segment_for_a_live_core_is_refused_and_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = import_aapl(dir.path());
    let o = kestrel(&["replay", kcap.to_str().unwrap(), "--sidecar-wait", "1"]);
    assert!(!o.status.success(), "--sidecar-wait needs --sidecar");
    let session = dir.path().join("s");
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--sidecar",
        "",
        "--session-dir",
        session.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad segment name"),
        "{o:?}"
    );
    // Without a sidecar the run trades on its own alphas and says so.
    let name = dir.path().join("seg").display().to_string();
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--sidecar",
        &name,
        "--session-dir",
        session.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let s = summary(&session);
    assert_eq!(s["sidecar"]["attaches"], 0);
    assert_eq!(s["sidecar"]["edges_used"], 0);
    assert!(s["sidecar"]["live_ic"].is_null());
    assert!(s["strategy"]["intents"].as_u64().unwrap() > 0);
}
