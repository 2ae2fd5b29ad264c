//! Hot reload: new parameters cross to the strategy thread while updates flow, take effect
//! exactly at an event boundary, and no update is lost; the file watcher publishes valid
//! changes, rejects invalid ones (keeping the old set) and reacts to SIGHUP.

mod harmonizer_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use harmonizer_support::{EXAMPLE, ScriptedEdges, params_with_models, random_walk};
use kestrel_core::Qty;
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::engine::StrategyEngine;
use kestrel_strategy::harmonizer::{FillMode, Harmonizer};
use kestrel_strategy::params::{
    ParamsError, ParamsWatcher, WatchOutcome, params_handoff, parse_params,
};

#[test]
fn reload_lands_between_two_updates_and_loses_none() {
    const N: usize = 200_000;
    let p0 = params_with_models(1);
    let mut p1 = p0;
    p1.limits.max_position = Qty::from_units(7).unwrap();
    p1.kelly.fraction = 0.05;

    let (mut publisher, receiver) = params_handoff(0);
    let h = Harmonizer::new(p0, &[Qty::ONE, Qty::ONE], FillMode::SimulatedImmediateFill).unwrap();
    let edges = ScriptedEdges::new(1, vec![[ModelEdge::new(1.0, 1.0); 8]]);
    let mut engine = StrategyEngine::new(edges, h).unwrap().with_params(receiver);
    let updates = random_walk(2, N, 7);

    let progress = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&progress);
    let ops = std::thread::spawn(move || {
        // Publish once the strategy thread is well under way.
        while seen.load(Ordering::Acquire) < (N / 4) as u64 {
            std::thread::yield_now();
        }
        publisher.publish(p1)
    });

    let mut versions = Vec::with_capacity(N);
    for (k, u) in updates.iter().enumerate() {
        let d = engine
            .on_update_decision(u)
            .expect("each update is its packet's last");
        versions.push((u.seq, d.record.params_version));
        progress.store(k as u64 + 1, Ordering::Release);
    }
    let published = ops.join().unwrap();
    assert_eq!(published, 1);

    // Every update was processed, exactly once, in order.
    assert_eq!(engine.stats().updates, N as u64);
    assert_eq!(engine.harmonizer_stats().decisions, N as u64);
    assert!(versions.windows(2).all(|w| w[1].0 == w[0].0 + 1));
    // The change took effect at one boundary: version 0 before it, version 1 from it on.
    let change = *engine.last_params_change().expect("applied");
    assert_eq!(change.version, 1);
    assert!(change.changed.limits && change.changed.kelly && !change.changed.blend);
    let first = versions.iter().position(|&(_, v)| v == 1).unwrap();
    assert_eq!(versions[first].0, change.first_seq);
    assert!(first >= N / 4, "applied before it was published");
    assert!(versions[..first].iter().all(|&(_, v)| v == 0));
    assert!(versions[first..].iter().all(|&(_, v)| v == 1));
    assert_eq!(engine.harmonizer().params(), &p1);
    assert_eq!(engine.stats().params_applied, 1);
}

#[test]
fn newer_set_replaces_one_not_yet_taken() {
    let p0 = params_with_models(1);
    let (mut publisher, receiver) = params_handoff(10);
    let mut a = p0;
    a.kelly.fraction = 0.2;
    let mut b = p0;
    b.kelly.fraction = 0.3;
    assert_eq!(publisher.publish(a), 11);
    assert_eq!(publisher.publish(b), 12);
    let got = receiver.try_take().unwrap();
    assert_eq!((got.version, got.params.kelly.fraction), (12, 0.3));
    assert!(receiver.try_take().is_none());
}

#[test]
fn shape_changes_are_refused_at_apply_time() {
    let p0 = params_with_models(1);
    let (mut publisher, receiver) = params_handoff(0);
    let h = Harmonizer::new(p0, &[Qty::ONE], FillMode::External).unwrap();
    let edges = ScriptedEdges::new(1, vec![[ModelEdge::NONE; 8]]);
    let mut engine = StrategyEngine::new(edges, h).unwrap().with_params(receiver);
    publisher.publish(params_with_models(2));
    for u in random_walk(1, 10, 3) {
        engine.on_update(&u);
    }
    assert_eq!(engine.stats().params_rejected, 1);
    assert_eq!(engine.harmonizer().params(), &p0);
    assert_eq!(engine.stats().updates, 10);
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn watcher_publishes_valid_changes_and_rejects_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strategy.toml");
    write(&path, EXAMPLE);
    let initial = parse_params(EXAMPLE).unwrap();
    let (publisher, receiver) = params_handoff(0);
    let mut watcher = ParamsWatcher::new(&path, initial, 6, publisher);
    assert!(matches!(watcher.poll(), WatchOutcome::Unchanged));

    // A valid change: published, with the changed section named.
    write(
        &path,
        &EXAMPLE.replace("max_position = \"500\"", "max_position = \"250\""),
    );
    match watcher.poll() {
        WatchOutcome::Published { version, changed } => {
            assert_eq!(version, 1);
            assert_eq!(changed.section_names(), vec!["limits"]);
        }
        other => panic!("{other:?}"),
    }
    let got = receiver.try_take().unwrap();
    assert_eq!(
        got.params.limits.max_position,
        Qty::from_units(250).unwrap()
    );

    // An unknown field: rejected with its path, nothing published, old set in force.
    write(
        &path,
        &EXAMPLE.replace("fraction = 0.1", "fraction = 0.1\nleverage = 2"),
    );
    match watcher.poll() {
        WatchOutcome::Rejected(ParamsError::Field { path, .. }) => {
            assert_eq!(path, "kelly.leverage")
        }
        other => panic!("{other:?}"),
    }
    assert!(receiver.try_take().is_none());
    assert_eq!(
        watcher.current().limits.max_position,
        Qty::from_units(250).unwrap()
    );
    // The same bad contents are not reported again.
    assert!(matches!(watcher.poll(), WatchOutcome::Unchanged));

    // A file for another model count is rejected too.
    write(&path, &EXAMPLE.replace("1.0], #", "1.0, 1.0], #"));
    match watcher.poll() {
        WatchOutcome::Rejected(e) => assert_eq!(e.field_path(), Some("blend.regime_weights")),
        other => panic!("{other:?}"),
    }

    // A missing file is an I/O rejection, not a panic.
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        watcher.poll(),
        WatchOutcome::Rejected(ParamsError::Io { .. })
    ));
}

#[test]
fn sighup_forces_a_reread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strategy.toml");
    write(&path, EXAMPLE);
    let (publisher, receiver) = params_handoff(0);
    let mut watcher = ParamsWatcher::new(&path, parse_params(EXAMPLE).unwrap(), 6, publisher);
    let _id = watcher.register_sighup().unwrap();

    // Same length, same modification time, different contents: polling alone misses it.
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let changed = EXAMPLE.replace("order_burst = 10 ", "order_burst = 20 ");
    assert_eq!(changed.len(), EXAMPLE.len());
    assert_ne!(changed, EXAMPLE);
    write(&path, &changed);
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    assert!(matches!(watcher.poll(), WatchOutcome::Unchanged));

    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    // The flag is set by the handler; give it a moment on slow machines.
    let deadline = SystemTime::now() + Duration::from_secs(5);
    loop {
        match watcher.poll() {
            WatchOutcome::Published { changed, .. } => {
                assert!(changed.limits);
                break;
            }
            WatchOutcome::Unchanged if SystemTime::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(receiver.try_take().unwrap().params.limits.order_burst, 20);
}

#[test]
fn the_universe_is_fixed_for_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strategy.toml");
    let with = |list: &str, text: &str| format!("{text}\n[universe]\nsymbols = [{list}]\n");
    write(&path, &with("\"AAPL\", \"MSFT\"", EXAMPLE));
    let (publisher, receiver) = params_handoff(0);
    let mut watcher = ParamsWatcher::new(&path, parse_params(EXAMPLE).unwrap(), 6, publisher);
    // Another universe: rejected with the field, nothing published.
    write(&path, &with("\"AAPL\"", EXAMPLE));
    match watcher.poll() {
        WatchOutcome::Rejected(e) => assert_eq!(e.field_path(), Some("universe.symbols")),
        other => panic!("{other:?}"),
    }
    assert!(receiver.try_take().is_none());
    // The same universe with other parameters: published.
    let changed = EXAMPLE.replace("max_position = \"500\"", "max_position = \"250\"");
    write(&path, &with("\"AAPL\", \"MSFT\"", &changed));
    assert!(matches!(watcher.poll(), WatchOutcome::Published { .. }));
    assert!(receiver.try_take().is_some());
    // Removing the section changes the universe too.
    write(&path, &changed);
    assert!(matches!(watcher.poll(), WatchOutcome::Rejected(_)));
}
