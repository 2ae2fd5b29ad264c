//! The shared-memory segment end to end: creation, validation, attachment, the feature ring and
//! the edge table, and every refusal (wrong magic, version, sizes, schema, permissions, a second
//! live sidecar), plus a sidecar killed with SIGKILL and replaced on the same segment.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kestrel_core::shm::{
    CoreSegment, CoreState, EdgeRead, EdgeRecord, FeatureRecord, FeatureSchema, SegmentSpec,
    ShmError, SidecarSegment, inspect, monotonic_ns,
};

fn schema() -> FeatureSchema {
    FeatureSchema::new(&["spread_bps", "imbalance", "mid_change_bps"]).unwrap()
}

fn spec(ring: usize, instruments: usize) -> SegmentSpec {
    SegmentSpec {
        ring_capacity: ring,
        instruments,
        schema: schema(),
    }
}

/// A segment path in a fresh temporary directory (same code path as /dev/shm names).
fn temp_segment() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seg");
    (dir, path.display().to_string())
}

fn record(seq: u64, instrument: u32) -> FeatureRecord {
    let mut r = FeatureRecord {
        instrument,
        count: 3,
        feature_seq: seq,
        event_time_ns: seq * 10,
        published_ns: monotonic_ns(),
        mid: 100.0,
        ..FeatureRecord::default()
    };
    r.features[0] = seq as f32;
    r.features[2] = -(seq as f32);
    r
}

#[test]
fn ring_and_edges_round_trip() {
    let (_dir, name) = temp_segment();
    let core = CoreSegment::create(&name, &spec(8, 3)).unwrap();
    let mut producer = core.take_producer().unwrap();
    assert!(core.take_producer().is_none(), "one producer per segment");
    let reader = core.edge_reader();
    let live = core.liveness();
    assert!(!live.sidecar_alive(monotonic_ns(), 1_000_000_000));

    let side = SidecarSegment::attach(&name, &schema(), 7, 3).unwrap();
    assert_eq!(side.info().instruments, 3);
    assert_eq!(side.info().ring_capacity, 8);
    assert_eq!(side.info().schema, schema());
    assert!(live.sidecar_alive(monotonic_ns(), 1_000_000_000));
    let st = core.status();
    assert_eq!(
        (st.sidecar_attaches, st.model_id, st.model_version),
        (1, 7, 3)
    );
    assert_eq!(side.core_state(), CoreState::Running);

    let mut consumer = side.take_consumer().unwrap();
    let mut writer = side.take_edge_writer().unwrap();
    for seq in 1..=5 {
        assert!(producer.try_publish(&record(seq, (seq % 3) as u32)));
    }
    let mut got = Vec::new();
    assert_eq!(consumer.pop_into(&mut got, 100).unwrap(), 5);
    for (k, r) in got.iter().enumerate() {
        assert_eq!(
            *r,
            record(k as u64 + 1, ((k as u64 + 1) % 3) as u32).with_published(r.published_ns)
        );
    }

    assert_eq!(reader.read(1), EdgeRead::Empty);
    assert_eq!(reader.read(3), EdgeRead::OutOfRange);
    let e = EdgeRecord {
        edge_bps: 1.5,
        confidence: 0.5,
        horizon_events: 50,
        model_id: 7,
        model_version: 3,
        feature_seq: 5,
        event_time_ns: 50,
        produced_ns: monotonic_ns(),
        feature_published_ns: got[4].published_ns,
    };
    assert!(writer.write(1, &e));
    assert!(!writer.write(3, &e));
    match reader.read(1) {
        EdgeRead::Edge { record, version } => {
            assert_eq!(record, e);
            assert_eq!(version, reader.version(1));
            assert_eq!(version % 2, 0);
        }
        other => panic!("expected an edge, got {other:?}"),
    }
    drop(core);
    assert_eq!(side.core_state(), CoreState::Closed);
    assert!(!Path::new(&name).exists(), "the core removes its file");
}

trait WithPublished {
    fn with_published(self, ns: u64) -> Self;
}

impl WithPublished for FeatureRecord {
    fn with_published(mut self, ns: u64) -> Self {
        self.published_ns = ns;
        self
    }
}

#[test]
fn full_ring_drops_and_counts_without_blocking() {
    let (_dir, name) = temp_segment();
    let core = CoreSegment::create(&name, &spec(4, 1)).unwrap();
    let mut producer = core.take_producer().unwrap();
    let started = Instant::now();
    let accepted = (1..=10)
        .filter(|&s| producer.try_publish(&record(s, 0)))
        .count();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(accepted, 4);
    assert_eq!(producer.dropped(), 6);
    assert_eq!(core.status().dropped, 6);
    // The sidecar sees the first four, in order, and the drop count.
    let side = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap();
    let mut consumer = side.take_consumer().unwrap();
    let mut got = Vec::new();
    consumer.pop_into(&mut got, 10).unwrap();
    let seqs: Vec<u64> = got.iter().map(|r| r.feature_seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(consumer.dropped(), 6);
    // Space again.
    assert!(producer.try_publish(&record(11, 0)));
    assert_eq!(consumer.pop().unwrap().map(|r| r.feature_seq), Some(11));
}

#[test]
fn a_restarted_sidecar_resumes_where_the_last_one_stopped() {
    let (_dir, name) = temp_segment();
    let core = CoreSegment::create(&name, &spec(16, 2)).unwrap();
    let mut producer = core.take_producer().unwrap();
    for s in 1..=6 {
        producer.try_publish(&record(s, 0));
    }
    {
        let side = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap();
        let mut c = side.take_consumer().unwrap();
        let mut got = Vec::new();
        c.pop_into(&mut got, 4).unwrap();
        assert_eq!(got.last().map(|r| r.feature_seq), Some(4));
    }
    for s in 7..=8 {
        producer.try_publish(&record(s, 1));
    }
    let side = SidecarSegment::attach(&name, &schema(), 1, 2).unwrap();
    let mut c = side.take_consumer().unwrap();
    let mut got = Vec::new();
    c.pop_into(&mut got, 100).unwrap();
    let seqs: Vec<u64> = got.iter().map(|r| r.feature_seq).collect();
    assert_eq!(seqs, [5, 6, 7, 8]);
    assert_eq!(core.status().sidecar_attaches, 2);
}

#[test]
fn a_second_live_sidecar_is_refused() {
    let (_dir, name) = temp_segment();
    let _core = CoreSegment::create(&name, &spec(4, 1)).unwrap();
    let _first = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap();
    // The second sidecar must be another process (another pid).
    let err = attach_in_child(&name, "attach-and-exit");
    assert!(
        err.contains("is attached and alive"),
        "a second sidecar must be refused, child said: {err}"
    );
}

#[test]
fn wrong_schema_is_refused_with_the_difference() {
    let (_dir, name) = temp_segment();
    let _core = CoreSegment::create(&name, &spec(4, 1)).unwrap();
    let other = FeatureSchema::new(&["spread_bps", "imbalance", "mid_move_bps"]).unwrap();
    let err = SidecarSegment::attach(&name, &other, 1, 1).unwrap_err();
    assert!(matches!(err, ShmError::SchemaMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("feature 2 is `mid_move_bps` here, `mid_change_bps` there"),
        "{text}"
    );
    let shorter = FeatureSchema::new(&["spread_bps", "imbalance"]).unwrap();
    let err = SidecarSegment::attach(&name, &shorter, 1, 1).unwrap_err();
    assert!(
        err.to_string().contains("2 features here, 3 there"),
        "{err}"
    );
}

fn patch(path: &str, offset: u64, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

fn read_at(path: &str, offset: u64, n: usize) -> Vec<u8> {
    let mut f = std::fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut b = vec![0; n];
    f.read_exact(&mut b).unwrap();
    b
}

#[test]
fn wrong_magic_version_and_sizes_are_refused() {
    let (_dir, name) = temp_segment();
    let core = CoreSegment::create(&name, &spec(4, 2)).unwrap().keep_file();
    let good_magic = read_at(&name, 0, 8);

    patch(&name, 0, b"NOTKSTRL");
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(matches!(err, ShmError::BadMagic { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("not a Kestrel shared-memory segment")
    );
    patch(&name, 0, &good_magic);

    patch(&name, 8, &99u32.to_le_bytes());
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(
        matches!(
            err,
            ShmError::LayoutVersion {
                found: 99,
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
    patch(&name, 8, &1u32.to_le_bytes());

    // Record size (offset 36) from another build.
    patch(&name, 36, &256u32.to_le_bytes());
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(
        matches!(
            err,
            ShmError::LayoutMismatch {
                field: "record_size",
                found: 256,
                expected: 320,
                ..
            }
        ),
        "{err}"
    );
    patch(&name, 36, &320u32.to_le_bytes());

    // A ring capacity that is not a power of two (offset 32).
    patch(&name, 32, &3u32.to_le_bytes());
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(
        matches!(
            err,
            ShmError::LayoutMismatch {
                field: "ring_capacity",
                ..
            }
        ),
        "{err}"
    );
    patch(&name, 32, &4u32.to_le_bytes());

    // More edge slots than the file holds (offset 48): total size disagrees.
    patch(&name, 48, &1000u32.to_le_bytes());
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(matches!(err, ShmError::LayoutMismatch { .. }), "{err}");
    patch(&name, 48, &2u32.to_le_bytes());

    // A damaged schema name: the stored hash no longer matches.
    patch(&name, 64 + 64, b"spread_bpX");
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(matches!(err, ShmError::SchemaHash { .. }), "{err}");
    patch(&name, 64 + 64, b"spread_bps");

    // Truncated file.
    SidecarSegment::attach(&name, &schema(), 1, 1).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&name).unwrap();
    f.set_len(4096 + 100).unwrap();
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(matches!(err, ShmError::Truncated { .. }), "{err}");
    drop(core);
    std::fs::remove_file(&name).unwrap();

    // Not a segment at all.
    std::fs::write(&name, b"hello").unwrap();
    std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(matches!(err, ShmError::Truncated { .. }), "{err}");
    assert!(matches!(
        SidecarSegment::attach("", &schema(), 1, 1).unwrap_err(),
        ShmError::BadName(_)
    ));
}

#[test]
fn the_file_is_private_to_its_user() {
    let (_dir, name) = temp_segment();
    let _core = CoreSegment::create(&name, &spec(4, 1)).unwrap();
    let meta = std::fs::metadata(&name).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600, "mode {:o}", meta.mode() & 0o777);

    // Another user cannot read it (checked for real when we can switch users, i.e. as root).
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        use std::os::unix::process::CommandExt;
        // /dev/shm style: the directory is traversable by others, the file is not readable.
        let dir = Path::new(&name).parent().unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let out = Command::new("cat")
            .arg(&name)
            .uid(65534)
            .gid(65534)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(!out.status.success(), "another user read the segment");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // A segment that others can read is refused by the sidecar.
    std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(
        matches!(err, ShmError::NotPrivate { mode: 0o644, .. }),
        "{err}"
    );
}

#[test]
fn a_running_core_keeps_its_name_and_a_dead_ones_file_is_replaced() {
    let (_dir, name) = temp_segment();
    let core = CoreSegment::create(&name, &spec(4, 1)).unwrap();
    let err = CoreSegment::create(&name, &spec(4, 1)).unwrap_err();
    assert!(matches!(err, ShmError::CoreInUse { .. }), "{err}");
    let core = core.keep_file();
    drop(core); // closed, file kept
    assert!(Path::new(&name).exists());
    let (info, status) = inspect(&name).unwrap();
    assert_eq!(info.instruments, 1);
    assert_eq!(status.core_state, 2);
    // A closed segment's name is free again.
    let again = CoreSegment::create(&name, &spec(8, 2)).unwrap();
    assert_eq!(inspect(&name).unwrap().0.ring_capacity, 8);
    drop(again);
}

#[test]
fn bad_specs_are_refused() {
    let (_dir, name) = temp_segment();
    assert!(matches!(
        CoreSegment::create(&name, &spec(3, 1)).unwrap_err(),
        ShmError::BadSize(_)
    ));
    assert!(matches!(
        CoreSegment::create(&name, &spec(4, 0)).unwrap_err(),
        ShmError::BadSize(_)
    ));
}

// ---- child processes (this test binary re-run with a role) ----

const ROLE_ENV: &str = "KESTREL_SHM_TEST_ROLE";
const NAME_ENV: &str = "KESTREL_SHM_TEST_NAME";

/// Runs `role` in a child copy of this test binary and returns what it printed.
fn attach_in_child(name: &str, role: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_role",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, role)
        .env(NAME_ENV, name)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Not a test of its own: the body of child processes started by the tests above.
#[test]
#[ignore = "run by other tests as a child process"]
fn child_role() {
    let (Ok(role), Ok(name)) = (std::env::var(ROLE_ENV), std::env::var(NAME_ENV)) else {
        return;
    };
    match role.as_str() {
        "attach-and-exit" => match SidecarSegment::attach(&name, &schema(), 2, 2) {
            Ok(_) => println!("CHILD attached"),
            Err(e) => println!("CHILD refused: {e}"),
        },
        "attach-write-and-hang" => {
            let side = SidecarSegment::attach(&name, &schema(), 9, 1).unwrap();
            let mut c = side.take_consumer().unwrap();
            let mut w = side.take_edge_writer().unwrap();
            let mut got = Vec::new();
            c.pop_into(&mut got, 2).unwrap();
            let last = got.last().map_or(0, |r| r.feature_seq);
            w.write(
                0,
                &EdgeRecord {
                    edge_bps: 3.0,
                    feature_seq: last,
                    ..EdgeRecord::default()
                },
            );
            println!("CHILD ready");
            let hb = side.heartbeat();
            loop {
                hb.beat();
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn killed_sidecar_is_replaced_on_the_same_segment() {
    let (_dir, name) = temp_segment();
    let core = CoreSegment::create(&name, &spec(16, 1)).unwrap();
    let mut producer = core.take_producer().unwrap();
    for s in 1..=5 {
        producer.try_publish(&record(s, 0));
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_role",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, "attach-write-and-hang")
        .env(NAME_ENV, &name)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) for the child's edge.
    let reader = core.edge_reader();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(reader.read(0), EdgeRead::Edge { .. }) {
        assert!(Instant::now() < deadline, "the child sidecar never wrote");
        std::thread::sleep(Duration::from_millis(5));
    }
    let live = core.liveness();
    assert!(live.sidecar_alive(monotonic_ns(), 1_000_000_000));
    assert_eq!(core.status().sidecar_pid, child.id());

    // While it lives, another sidecar is refused.
    let child_pid = child.id();
    let err = SidecarSegment::attach(&name, &schema(), 1, 1).unwrap_err();
    assert!(
        matches!(err, ShmError::SidecarAttached { pid, .. } if pid == child_pid),
        "{err}"
    );

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Its heartbeat stops: within a short age limit the core sees it down.
    std::thread::sleep(Duration::from_millis(60));
    assert!(!live.sidecar_alive(monotonic_ns(), 50_000_000));
    // The producer never noticed: publishing goes on.
    for s in 6..=8 {
        assert!(producer.try_publish(&record(s, 0)));
    }
    // A new sidecar takes over the dead one's slot and resumes after the records it consumed.
    let side = SidecarSegment::attach(&name, &schema(), 9, 2).unwrap();
    let st = core.status();
    assert_eq!(st.sidecar_attaches, 2);
    assert_eq!(st.sidecar_pid, std::process::id());
    let mut c = side.take_consumer().unwrap();
    let mut got = Vec::new();
    c.pop_into(&mut got, 100).unwrap();
    let seqs: Vec<u64> = got.iter().map(|r| r.feature_seq).collect();
    assert_eq!(seqs, [3, 4, 5, 6, 7, 8]);
    let mut w = side.take_edge_writer().unwrap();
    w.write(
        0,
        &EdgeRecord {
            edge_bps: -1.0,
            feature_seq: 8,
            ..EdgeRecord::default()
        },
    );
    assert!(matches!(
        reader.read(0),
        EdgeRead::Edge { record, .. } if record.feature_seq == 8 && record.edge_bps == -1.0
    ));
    assert!(live.sidecar_alive(monotonic_ns(), 1_000_000_000));
}

#[test]
fn default_names_live_under_dev_shm() {
    assert_eq!(
        kestrel_core::shm::segment_path("kestrel-x").unwrap(),
        PathBuf::from("/dev/shm/kestrel-x")
    );
    assert_eq!(
        kestrel_core::shm::segment_path("/tmp/a/b").unwrap(),
        PathBuf::from("/tmp/a/b")
    );
}
