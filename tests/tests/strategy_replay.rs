//! The strategy stage in the pipeline on the real AAPL capture (the LOBSTER sample imported as
//! MoldUDP64 / ITCH): inline and threaded runs decide the same intents; a parameter set
//! published mid-run (directly, or by the file watcher) takes effect at one event boundary, is
//! recorded, and changes the intents in the expected direction; a run with the strategy stage,
//! 1 ms latency intervals streamed to an hlog and a parameter file reloaded mid-run allocates
//! nothing per update on any hot thread, inline and threaded (the reload's reading and parsing
//! happen on the ops thread).

use std::path::Path;
use std::time::Duration;

use kestrel_core::clock::{Clock, TscClock};
use kestrel_core::latency::{HlogWriter, LatencyTag};
use kestrel_core::pipeline::{
    CONSUMER, Discard, FEED, HlogStream, OPS, Ops, PipelineConfig, Stage, StageCores, WaitStrategy,
    run_inline, run_threaded,
};
use kestrel_core::{BookUpdate, IntentReason, OrderIntent, Qty};
use kestrel_feeds::handler::header_instruments;
use kestrel_feeds::kcap::KcapReader;
use kestrel_strategy::alpha::MODEL_COUNT;
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::params::{ParamsWatcher, StrategyParams, params_handoff};
use kestrel_strategy::stage::{
    DEFAULT_PARAMS_TOML, IntentsOnly, ParamsReloader, ReloadOutcome, StrategyStage, default_params,
};
use kestrel_test_support::{AllocCounts, CALLER, CountingAllocator, count_allocations};
use kestrel_tests::replay::{Rounds, aapl_capture, capture_source, capture_updates};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn config() -> PipelineConfig {
    PipelineConfig {
        ring_size: 64,
        consumer_wait: WaitStrategy::SpinYield { spins: 20 },
        producer_wait: WaitStrategy::SpinYield { spins: 20 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms: 1,
        snapshot_slots: 4,
    }
}

fn stage(reader: &KcapReader, params: StrategyParams, clock: &TscClock) -> StrategyStage {
    let table = header_instruments(reader.header()).unwrap();
    StrategyStage::new(
        &table,
        params,
        FillMode::SimulatedImmediateFill,
        clock.clone(),
    )
    .unwrap()
}

/// A position limit below one lot: no intent may open or grow a position.
fn flat_params() -> StrategyParams {
    let mut p = default_params().unwrap();
    p.limits.max_position = Qty::from_raw(1);
    p
}

#[test]
fn inline_and_threaded_runs_decide_the_same_intents() {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let params = default_params().unwrap();
    let inline = run_inline(
        capture_source(&reader, &clock),
        stage(&reader, params, &clock),
        IntentsOnly(Vec::<OrderIntent>::new()),
        &config(),
        &clock,
        Ops::new(),
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let clock2 = clock.clone();
    std::thread::spawn(move || {
        let reader = aapl_capture();
        let out = run_threaded(
            capture_source(&reader, &clock2),
            stage(&reader, params, &clock2),
            IntentsOnly(Vec::<OrderIntent>::new()),
            &config(),
            StageCores::default(),
            &clock2,
            Ops::new(),
        )
        .unwrap();
        let _ = tx.send((
            out.stage.update_hash(),
            out.stage.intents(),
            out.sink.0,
            out.report.balanced(),
            out.latency.total(LatencyTag::Strategy).len(),
        ));
    });
    let (updates, intents, sink, balanced, threaded_strategy_samples) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("threaded replay did not finish");
    assert!(inline.report.balanced() && balanced);
    let tally = inline.stage.intents();
    assert!(inline.stage.update_hash().events >= 998);
    assert!(tally.count > 10, "{tally:?}");
    assert!(tally.buys > 0 && tally.sells > 0, "{tally:?}");
    assert_eq!(tally.buys + tally.sells, tally.count);
    assert_eq!(inline.sink.0.len() as u64, tally.count);
    assert_eq!(inline.stage.update_hash(), updates);
    assert_eq!(tally, intents);
    assert_eq!(inline.sink.0, sink);
    assert_eq!(
        inline.stage.bindings().iter().sum::<u64>(),
        inline.stage.update_hash().events
    );
    // The stage's own latency, recorded in the thread's recorder: one sample per update.
    let events = inline.stage.update_hash().events;
    assert_eq!(inline.latency.total(LatencyTag::Strategy).len(), events);
    assert_eq!(threaded_strategy_samples, events);
}

#[test]
fn a_parameter_set_published_mid_run_lands_at_one_boundary() {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let ups = capture_updates(&reader);
    let half = ups.len() / 2;

    // Baseline: the defaults all the way.
    let mut base = stage(&reader, default_params().unwrap(), &clock);
    let mut base_out = IntentsOnly(Vec::new());
    for u in &ups {
        base.on_event(u, &mut base_out);
    }

    let (mut publisher, receiver) = params_handoff(0);
    let mut st = stage(&reader, default_params().unwrap(), &clock).with_params(receiver);
    let mut out = IntentsOnly(Vec::new());
    for u in &ups[..half] {
        st.on_event(u, &mut out);
    }
    let before = out.0.len();
    assert_eq!(publisher.publish(flat_params()), 1);
    let id = ups[half].instrument;
    let mut abs_position = st.engine().harmonizer().position(id).raw().abs();
    for u in &ups[half..] {
        st.on_event(u, &mut out);
        // Under the new limit the position only ever shrinks.
        let now = st.engine().harmonizer().position(id).raw().abs();
        assert!(now <= abs_position, "position grew after the change");
        abs_position = now;
    }
    // Every update processed once; one change, recorded at the boundary it fell on.
    assert_eq!(st.engine_stats().updates, ups.len() as u64);
    assert_eq!(st.update_hash(), base.update_hash());
    assert_eq!(st.changes().len(), 1);
    let change = st.changes()[0];
    assert_eq!(change.version, 1);
    assert_eq!(change.first_seq, ups[half].seq);
    assert!(change.changed.limits && !change.changed.blend);
    assert_eq!(st.engine_stats().params_applied, 1);
    // Identical before the boundary, different after: only reducing intents remain.
    assert_eq!(out.0[..before], base_out.0[..before]);
    let after = &out.0[before..];
    assert!(
        after.len() < base_out.0.len() - before,
        "{} intents",
        after.len()
    );
    assert!(
        after.iter().all(|i| i.reason != IntentReason::Alpha),
        "{after:?}"
    );
    assert_eq!(abs_position, 0, "the position was not flattened");
}

#[test]
fn the_file_watcher_publishes_valid_files_and_rejects_bad_ones() {
    let reader = aapl_capture();
    let clock = TscClock::new();
    let ups = capture_updates(&reader);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strategy.toml");
    std::fs::write(&path, DEFAULT_PARAMS_TOML).unwrap();
    let (publisher, receiver) = params_handoff(0);
    let params = default_params().unwrap();
    let watcher = ParamsWatcher::new(&path, params, MODEL_COUNT, publisher);
    let trigger = watcher.trigger();
    let mut reloader = ParamsReloader::new(watcher, 0);
    let mut st = stage(&reader, params, &clock).with_params(receiver);
    let mut out = Vec::new();
    let third = ups.len() / 3;
    for u in &ups[..third] {
        st.on_event(u, &mut out);
    }
    // A bad file: rejected with its field, nothing published, the old set stays.
    std::fs::write(
        &path,
        DEFAULT_PARAMS_TOML.replace("fraction = 0.1", "fraction = -1.0"),
    )
    .unwrap();
    trigger.store(true, std::sync::atomic::Ordering::Release);
    assert!(!reloader.poll(1));
    for u in &ups[third..2 * third] {
        st.on_event(u, &mut out);
    }
    assert!(st.changes().is_empty());
    // A good one: published, applied before the next update.
    std::fs::write(
        &path,
        DEFAULT_PARAMS_TOML.replace("max_position = \"500\"", "max_position = \"250\""),
    )
    .unwrap();
    trigger.store(true, std::sync::atomic::Ordering::Release);
    assert!(reloader.poll(2));
    for u in &ups[2 * third..] {
        st.on_event(u, &mut out);
    }
    let notes = reloader.notes();
    assert_eq!(notes.len(), 2);
    match &notes[0].outcome {
        ReloadOutcome::Rejected { field, reason } => {
            assert_eq!(field.as_deref(), Some("kelly.fraction"), "{reason}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    match &notes[1].outcome {
        ReloadOutcome::Published { version, sections } => {
            assert_eq!(*version, 1);
            assert_eq!(sections, &vec!["limits"]);
        }
        other => panic!("expected a publication, got {other:?}"),
    }
    assert_eq!(st.changes().len(), 1);
    assert_eq!(st.changes()[0].first_seq, ups[2 * third].seq);
    assert_eq!(
        st.engine().harmonizer().params().limits.max_position,
        Qty::from_units(250).unwrap()
    );
}

/// One run of the capture's updates, `rounds` times, through the strategy stage (built
/// beforehand), inline or threaded, with 1 ms latency intervals streamed to an hlog and the
/// parameter file at `params` watched by the ops thread (`reload`: the file changes before the
/// run starts, so the ops side reads, parses and publishes a new set during the run).
struct Counted {
    counts: AllocCounts,
    updates: u64,
    intents: u64,
    applied: u64,
    intervals: u64,
}

fn counted_run(
    threaded: bool,
    reader: &KcapReader,
    ups: &[BookUpdate],
    rounds: u64,
    dir: &Path,
    reload: bool,
) -> Counted {
    let clock = TscClock::new();
    let mut cfg = config();
    cfg.ring_size = 1024;
    let params_path = dir.join("strategy.toml");
    std::fs::write(&params_path, DEFAULT_PARAMS_TOML).unwrap();
    let (publisher, receiver) = params_handoff(0);
    let params = default_params().unwrap();
    let watcher = ParamsWatcher::new(&params_path, params, MODEL_COUNT, publisher);
    if reload {
        std::fs::write(
            &params_path,
            DEFAULT_PARAMS_TOML.replace("max_position = \"500\"", "max_position = \"250\""),
        )
        .unwrap();
        watcher
            .trigger()
            .store(true, std::sync::atomic::Ordering::Release);
    }
    let mut reloader = ParamsReloader::new(watcher, 0);
    let hlog_file =
        std::io::BufWriter::new(std::fs::File::create(dir.join("latency.hlog")).unwrap());
    let mut hlog =
        HlogStream::new(HlogWriter::new(hlog_file, clock.now().nanos(), "test").unwrap());
    let st = stage(reader, params, &clock).with_params(receiver);
    let src = Rounds::new(ups.to_vec(), rounds);
    let mut task = (&mut hlog, &mut reloader);
    let (out, counts) = count_allocations(|| {
        let ops = Ops::new().task(&mut task);
        if threaded {
            run_threaded(src, st, Discard, &cfg, StageCores::default(), &clock, ops).unwrap()
        } else {
            run_inline(src, st, Discard, &cfg, &clock, ops).unwrap()
        }
    });
    hlog.finish().unwrap();
    let published = reloader
        .notes()
        .iter()
        .filter(|n| matches!(n.outcome, ReloadOutcome::Published { .. }))
        .count() as u64;
    assert_eq!(published, u64::from(reload), "{:?}", reloader.notes());
    let stats = out.stage.engine_stats();
    assert!(out.report.balanced(), "{:?}", out.report);
    Counted {
        counts,
        updates: stats.updates,
        intents: stats.intents,
        applied: stats.params_applied,
        intervals: out.latency.intervals(LatencyTag::Strategy),
    }
}

fn assert_hot_threads_flat(threaded: bool) {
    let reader = aapl_capture();
    let ups = capture_updates(&reader);
    let dir = tempfile::tempdir().unwrap();
    let _ = counted_run(threaded, &reader, &ups, 1, dir.path(), false); // warm-up
    let short = counted_run(threaded, &reader, &ups, 2, dir.path(), false);
    let long = counted_run(threaded, &reader, &ups, 100, dir.path(), true);
    assert!(long.updates > 100_000 && short.updates > 1_000);
    // The run exercised the whole decision path, intents included, took the reloaded set and
    // handed off many intervals.
    assert!(long.intents > 100, "{} intents", long.intents);
    assert_eq!((short.applied, long.applied), (0, 1));
    assert!(long.intervals > 10, "{} intervals", long.intervals);
    let hot: &[&str] = if threaded {
        &[FEED, CONSUMER, CALLER]
    } else {
        &[CALLER]
    };
    for t in hot {
        assert_eq!(
            long.counts.of(t),
            short.counts.of(t),
            "thread {t} allocated {} times in the long run (with a reload), {} in the short one\n\
             long: {:?}\nshort: {:?}",
            long.counts.of(t),
            short.counts.of(t),
            long.counts,
            short.counts
        );
    }
    // The ops thread did the reload (reading, parsing) and the hlog writing: it allocated.
    assert!(
        long.counts.of(OPS) > short.counts.of(OPS),
        "{:?}",
        long.counts
    );
}

#[test]
fn inline_run_with_strategy_intervals_and_a_reload_allocates_nothing_per_update() {
    assert_hot_threads_flat(false);
}

#[test]
fn threaded_run_with_strategy_intervals_and_a_reload_allocates_nothing_per_update() {
    assert_hot_threads_flat(true);
}
