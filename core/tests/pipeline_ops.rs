//! The ops thread never gates the feed, and the hot threads run without page faults.
//!
//! - A stalled ops thread (its task blocks) must not stop the feed: the consumer stage still
//!   sees every event while ops is stuck. (When ops was a gating consumer of the data ring, the
//!   feed stopped one ring's length ahead of it.)
//! - The consumer thread takes (almost) no page faults from its first event to its last: its
//!   recorder's histograms and its stack were pre-faulted on that thread at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kestrel_core::BookUpdate;
use kestrel_core::clock::TscClock;
use kestrel_core::pipeline::{
    Emit, Ops, OpsTask, PipelineConfig, Stage, StageCores, SyntheticSource, WaitStrategy,
    run_inline, run_threaded,
};

fn config(ring_size: usize, interval_ms: u64) -> PipelineConfig {
    PipelineConfig {
        ring_size,
        consumer_wait: WaitStrategy::SpinYield { spins: 20 },
        producer_wait: WaitStrategy::SpinYield { spins: 20 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms,
        snapshot_slots: 4,
    }
}

/// Counts events where the test can see them.
struct Counting(Arc<AtomicU64>);

impl Stage for Counting {
    type In = BookUpdate;
    type Out = ();

    fn on_event<E: Emit<()>>(&mut self, _event: &BookUpdate, _out: &mut E) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// An ops task whose first poll blocks until the stage has seen `want` events or `limit`
/// passes: a descheduled ops thread, as long as the test needs.
struct Stalled {
    seen: Arc<AtomicU64>,
    want: u64,
    limit: Duration,
    stalled_once: bool,
    reached: bool,
    entered: Arc<AtomicBool>,
}

impl OpsTask for Stalled {
    fn poll(&mut self, _now_ns: u64) -> bool {
        if self.stalled_once {
            return false;
        }
        self.stalled_once = true;
        self.entered.store(true, Ordering::Release);
        let start = Instant::now();
        while start.elapsed() < self.limit {
            if self.seen.load(Ordering::Relaxed) >= self.want {
                self.reached = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }
}

fn stall_run(threaded: bool) {
    let clock = TscClock::new();
    let seen = Arc::new(AtomicU64::new(0));
    let records = 100_000;
    // Every synthetic record with a book change emits one update: about two in three.
    let want = records * 6 / 10;
    let entered = Arc::new(AtomicBool::new(false));
    let mut task = Stalled {
        seen: Arc::clone(&seen),
        want,
        limit: Duration::from_secs(30),
        stalled_once: false,
        reached: false,
        entered: Arc::clone(&entered),
    };
    let source = SyntheticSource::new(21, records, 4, clock.clone());
    let stage = Counting(Arc::clone(&seen));
    // A ring of 64 slots: a gating ops consumer would stop the feed after 64 events.
    let report = if threaded {
        run_threaded(
            source,
            stage,
            kestrel_core::pipeline::Discard,
            &config(64, 1),
            StageCores::default(),
            &clock,
            Ops::new().task(&mut task),
        )
        .unwrap()
        .report
    } else {
        run_inline(
            source,
            stage,
            kestrel_core::pipeline::Discard,
            &config(64, 1),
            &clock,
            Ops::new().task(&mut task),
        )
        .unwrap()
        .report
    };
    assert!(entered.load(Ordering::Acquire), "the ops task never ran");
    assert!(
        task.reached,
        "with ops stalled, the stage saw only {} of {want}+ events",
        seen.load(Ordering::Relaxed)
    );
    assert!(report.balanced(), "{report:?}");
    assert_eq!(report.consumed, seen.load(Ordering::Relaxed));
    // Intervals ended while ops was stuck: the recorders deferred, they did not block.
    assert!(
        report.snapshots_deferred > 0 || report.elapsed_ns < 5_000_000,
        "{report:?}"
    );
}

#[test]
fn a_stalled_ops_thread_does_not_hold_back_a_threaded_feed() {
    stall_run(true);
}

#[test]
fn a_stalled_ops_thread_does_not_hold_back_an_inline_run() {
    stall_run(false);
}

/// Reads this thread's minor page faults at its first and last event.
struct FaultProbe {
    first: Option<i64>,
    last: i64,
    events: u64,
}

fn thread_minor_faults() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes one `rusage` into the valid, writable buffer we pass.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: getrusage succeeded and filled the struct (it was zeroed before in any case).
    #[allow(unsafe_code)]
    let usage = unsafe { usage.assume_init() };
    usage.ru_minflt
}

impl Stage for FaultProbe {
    type In = BookUpdate;
    type Out = ();

    fn on_event<E: Emit<()>>(&mut self, _event: &BookUpdate, _out: &mut E) {
        let now = thread_minor_faults();
        self.first.get_or_insert(now);
        self.last = now;
        self.events += 1;
    }
}

#[test]
fn the_consumer_thread_takes_no_page_faults_while_it_runs() {
    let clock = TscClock::new();
    let out = run_threaded(
        SyntheticSource::new(8, 400_000, 8, clock.clone()),
        FaultProbe {
            first: None,
            last: 0,
            events: 0,
        },
        kestrel_core::pipeline::Discard,
        &config(1024, 1),
        StageCores::default(),
        &clock,
        Ops::new(),
    )
    .unwrap();
    let probe = out.stage;
    assert!(probe.events > 200_000);
    let faults = probe.last - probe.first.unwrap_or(probe.last);
    assert!(
        faults <= 2,
        "the consumer thread took {faults} page faults over {} events",
        probe.events
    );
}
