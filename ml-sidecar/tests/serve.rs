//! `serve` through `scripts/ml.sh`: it answers the core's features with edges once an
//! instrument's window is full, refuses a segment with another layout or feature schema, and,
//! against a real `kestrel replay --sidecar`, survives being killed with SIGKILL mid-replay: the
//! replay never waits, the edges go stale, and a restarted sidecar resumes on the same segment.

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{import_aapl, kestrel_bin, lobster, ml_command, small_dataset, small_model};
use kestrel_core::shm::{
    CoreSegment, EdgeRead, FeatureRecord, FeatureSchema, SegmentSpec, inspect, monotonic_ns,
};
use kestrel_strategy::sidecar::{FEATURE_COUNT, feature_schema};

fn serve(model: &Path, shm: &str) -> Child {
    ml_command(&[
        "serve",
        model.to_str().unwrap(),
        "--shm",
        shm,
        "--idle-us",
        "100",
        "--device",
        "cpu",
        "--wait-secs",
        "60",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

fn finish(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "did not finish within {limit:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn record(seq: u64) -> FeatureRecord {
    let mut r = FeatureRecord {
        instrument: 1,
        count: FEATURE_COUNT as u32,
        feature_seq: seq,
        event_time_ns: seq * 1_000,
        published_ns: monotonic_ns(),
        mid: 100.0,
        ..FeatureRecord::default()
    };
    for (k, f) in r.features.iter_mut().take(FEATURE_COUNT).enumerate() {
        *f = ((seq as usize * 7 + k) % 13) as f32 - 6.0;
    }
    r
}

#[test]
fn serve_answers_features_once_the_window_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    let model = small_model(&ds, dir.path(), "lstm", "m", 1);
    let shm = dir.path().join("seg").display().to_string();
    let core = CoreSegment::create(
        &shm,
        &SegmentSpec {
            ring_capacity: 64,
            instruments: 2,
            schema: feature_schema().unwrap(),
        },
    )
    .unwrap();
    let mut producer = core.take_producer().unwrap();
    let reader = core.edge_reader();
    let child = serve(&model, &shm);
    let deadline = Instant::now() + Duration::from_secs(60);
    while core.status().sidecar_pid == 0 {
        assert!(Instant::now() < deadline, "serve never attached");
        std::thread::sleep(Duration::from_millis(10));
    }
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    assert_eq!(
        u64::from(core.status().model_id),
        spec["model_id"].as_u64().unwrap()
    );
    // Nine features: the window (10) is not full, no edge.
    for s in 1..=9 {
        assert!(producer.try_publish(&record(s)));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        reader.read(1),
        EdgeRead::Empty,
        "an edge before the window was full"
    );
    // The tenth fills it: an edge answering feature 10, with its event time.
    let mut last = 0;
    for s in 10..=30 {
        assert!(producer.try_publish(&record(s)));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let EdgeRead::Edge { record, .. } = reader.read(1)
                && record.feature_seq == s
            {
                assert_eq!(record.event_time_ns, s * 1_000);
                assert_eq!(
                    u64::from(record.model_id),
                    spec["model_id"].as_u64().unwrap()
                );
                assert_eq!(record.horizon_events, 10);
                assert!(record.edge_bps.is_finite());
                assert!((0.0..=1.0).contains(&record.confidence));
                assert!(record.produced_ns >= record.feature_published_ns);
                last = s;
                break;
            }
            assert!(Instant::now() < deadline, "no edge for feature {s}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert_eq!(last, 30);
    assert_eq!(
        reader.read(0),
        EdgeRead::Empty,
        "instrument 0 had no features"
    );
    drop(core); // closes the segment: serve ends by itself
    let o = finish(child, Duration::from_secs(30));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("end=CoreClosed consumed=30"), "{out}");
}

#[test]
fn serve_refuses_another_schema_or_layout() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    let model = small_model(&ds, dir.path(), "lstm", "m", 1);
    let shm = dir.path().join("seg").display().to_string();
    // Another feature schema.
    let mut names = kestrel_strategy::sidecar::feature_names();
    names[3] = "spread_in_ticks".to_owned();
    let core = CoreSegment::create(
        &shm,
        &SegmentSpec {
            ring_capacity: 8,
            instruments: 1,
            schema: FeatureSchema::new(&names).unwrap(),
        },
    )
    .unwrap();
    let o = finish(serve(&model, &shm), Duration::from_secs(60));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("feature schema differs") && err.contains("spread_in_ticks"),
        "{err}"
    );
    assert_eq!(core.status().sidecar_attaches, 0);
    drop(core);
    // Another layout version.
    let core = CoreSegment::create(
        &shm,
        &SegmentSpec {
            ring_capacity: 8,
            instruments: 1,
            schema: feature_schema().unwrap(),
        },
    )
    .unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&shm).unwrap();
    f.seek(SeekFrom::Start(8)).unwrap();
    f.write_all(&2u32.to_le_bytes()).unwrap();
    drop(f);
    let o = finish(serve(&model, &shm), Duration::from_secs(60));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("layout version 2"), "{err}");
    drop(core);
}

#[test]
fn replay_survives_a_killed_sidecar_and_a_restart_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    let model = small_model(&ds, dir.path(), "lstm", "m", 1);
    let kcap = import_aapl(kestrel_bin(), dir.path());
    let shm = dir.path().join("seg").display().to_string();
    let session = dir.path().join("session");
    let mut first = serve(&model, &shm);
    // The 49 s sample at 3 times its recorded pace: about 16 seconds.
    let replay = Command::new(kestrel_bin())
        .args([
            "replay",
            kcap.to_str().unwrap(),
            "--pace",
            "3",
            "--sidecar",
            &shm,
            "--sidecar-wait",
            "60",
            "--sidecar-max-age-ms",
            "500",
            "--session-dir",
            session.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the sidecar never got going");
        if let Ok((_, st)) = inspect(&shm)
            && st.tail > 150
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = inspect(&shm).unwrap().1;
    std::thread::sleep(Duration::from_millis(700));
    let dead = inspect(&shm).unwrap().1;
    assert_eq!(
        dead.tail, at_kill.tail,
        "nothing consumes while the sidecar is dead"
    );
    assert!(
        dead.head > at_kill.head,
        "the core stopped publishing without its sidecar"
    );
    let second = serve(&model, &shm);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match inspect(&shm) {
            Ok((_, st)) if st.sidecar_attaches == 2 => break,
            Ok(_) => {}
            Err(e) => panic!("the replay ended before the restarted sidecar attached: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "the restarted sidecar never attached"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let o = finish(replay, Duration::from_secs(180));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let served = finish(second, Duration::from_secs(30));
    let served_out = String::from_utf8_lossy(&served.stdout);
    assert!(served_out.contains("end=CoreClosed"), "{served_out}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("summary.json")).unwrap())
            .unwrap();
    let sc = &s["sidecar"];
    eprintln!("{sc}");
    assert_eq!(sc["attaches"], 2, "{sc}");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    assert_eq!(sc["model_id"], spec["model_id"]);
    let published = sc["features_published"].as_u64().unwrap();
    assert!(published > 900);
    assert_eq!(sc["features_dropped"], 0);
    assert_eq!(sc["features_consumed"].as_u64().unwrap(), published, "{sc}");
    assert!(sc["edges_used"].as_u64().unwrap() > 100, "{sc}");
    assert!(sc["sidecar_down"].as_u64().unwrap() > 0, "{sc}");
    assert_eq!(s["strategy"]["updates"], s["events"]);
    assert!(s["strategy"]["intents"].as_u64().unwrap() > 0);
}

#[test]
fn session_uses_the_sidecar_and_trades_on_when_it_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    let model = small_model(&ds, dir.path(), "lstm", "m", 2);
    let shm = dir.path().join("seg").display().to_string();
    let session = dir.path().join("session");
    let config = dir.path().join("session.toml");
    // The 49 s sample through the simulated exchange at 4 times its recorded pace: about 12 s.
    std::fs::write(
        &config,
        format!(
            "capture = {:?}\npace = \"4\"\nmax_seconds = 170\nmetrics = \"127.0.0.1:0\"\n\
             [exchange]\nlinger_ms = 300\n",
            lobster("message")
        ),
    )
    .unwrap();
    let mut sidecar = serve(&model, &shm);
    let run = Command::new(kestrel_bin())
        .args([
            "session",
            "--config",
            config.to_str().unwrap(),
            "--session-dir",
            session.to_str().unwrap(),
            "--sidecar",
            &shm,
            "--sidecar-wait",
            "60",
            "--sidecar-max-age-ms",
            "500",
        ])
        .current_dir(common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it answer for a while, then SIGKILL it mid-session.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the sidecar never got going");
        if let Ok((_, st)) = inspect(&shm)
            && st.tail > 150
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    sidecar.kill().unwrap();
    sidecar.wait().unwrap();
    let at_kill = inspect(&shm).unwrap().1;
    let o = finish(run, Duration::from_secs(200));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("sidecar attaches=1"), "{stdout}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("summary.json")).unwrap())
            .unwrap();
    let sc = &s["sidecar"];
    eprintln!("{sc}");
    assert_eq!(sc["attaches"], 1, "{sc}");
    let published = sc["features_published"].as_u64().unwrap();
    assert!(
        published > at_kill.head,
        "the session stopped publishing when its sidecar died: {sc}"
    );
    assert_eq!(
        sc["features_consumed"].as_u64().unwrap(),
        at_kill.tail,
        "{sc}"
    );
    assert!(sc["edges_used"].as_u64().unwrap() > 0, "{sc}");
    assert!(sc["sidecar_down"].as_u64().unwrap() > 0, "{sc}");
    // The loop traded on with the in-core alphas after the sidecar's death.
    assert!(s["fills"].as_u64().unwrap() > 0, "{s}");
}
