//! The gateway as a pipeline stage.
//!
//! Inline, [`GatewayStage`] is the strategy stage's sink: each [`GatewayInput`] is handed to
//! the engine in sequence on the same thread, and the venue is polled there too. Threaded,
//! [`spawn_gateway_thread`] runs it on its own pinned thread fed by a ring of inputs. Either
//! way, execution reports go back to the strategy stage on their own ring ([`exec_ring`]):
//! [`ExecSink`] publishes without waiting (inline, the strategy that drains the ring runs on
//! the same thread) and keeps what does not fit in a preallocated overflow queue, in order; when
//! even that is full the gateway stops reading the venue until the strategy catches up. Nothing
//! is dropped, and every full-ring moment is counted as backpressure.

use crate::engine::OrderGateway;
use crate::journal::JournalSink;
use crate::venue::{Venue, VenueStatus};
use kestrel_core::clock::{Clock, TscClock};
use kestrel_core::pipeline::{
    ConfigError, Emit, Received, RingReceiver, RingSender, WaitStrategy, ring,
};
use kestrel_core::{ExecReport, GatewayInput, GatewayInputKind};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Overflow capacity of the execution-report sink.
pub const OVERFLOW: usize = 65_536;

/// A ring of execution reports (gateway -> strategy).
pub fn exec_ring(
    size: usize,
) -> Result<(RingSender<ExecReport>, RingReceiver<ExecReport>), ConfigError> {
    let (tx, mut rxs) = ring(
        size,
        ExecReport::default,
        1,
        WaitStrategy::SpinYield { spins: 100 },
        TscClock::new(),
    )?;
    let rx = rxs.pop().ok_or(ConfigError::RingSize(size))?;
    Ok((tx, rx))
}

/// A ring of gateway inputs (strategy -> gateway, threaded mode).
pub fn input_ring(
    size: usize,
    wait: WaitStrategy,
) -> Result<(RingSender<GatewayInput>, RingReceiver<GatewayInput>), ConfigError> {
    let (tx, mut rxs) = ring(size, GatewayInput::default, 1, wait, TscClock::new())?;
    let rx = rxs.pop().ok_or(ConfigError::RingSize(size))?;
    Ok((tx, rx))
}

/// Backpressure counters of the report ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Reports published on the ring.
    pub published: u64,
    /// Reports that found the ring full and went to the overflow queue.
    pub overflowed: u64,
    /// Polls of the venue skipped because the overflow queue was full.
    pub venue_reads_held: u64,
    /// Most reports ever waiting in the overflow queue.
    pub overflow_high_water: usize,
}

/// The report sink: the ring first, an ordered overflow queue when it is full.
#[derive(Debug)]
pub struct ExecSink {
    tx: Option<RingSender<ExecReport>>,
    overflow: VecDeque<ExecReport>,
    stats: SinkStats,
}

impl ExecSink {
    /// Publishes onto `tx` (or nowhere with `None`: reports are only counted).
    pub fn new(tx: Option<RingSender<ExecReport>>) -> Self {
        Self {
            tx,
            overflow: VecDeque::with_capacity(OVERFLOW),
            stats: SinkStats::default(),
        }
    }

    /// Moves what it can from the overflow queue to the ring.
    #[inline]
    pub fn flush(&mut self) {
        let Some(tx) = self.tx.as_mut() else {
            self.overflow.clear();
            return;
        };
        while let Some(r) = self.overflow.front() {
            if !tx.try_send(*r) {
                return;
            }
            self.overflow.pop_front();
            self.stats.published += 1;
        }
    }

    /// Whether the overflow queue is full (stop reading the venue).
    #[inline]
    pub fn congested(&self) -> bool {
        self.overflow.len() >= OVERFLOW
    }

    /// Reports waiting in the overflow queue.
    pub fn pending(&self) -> usize {
        self.overflow.len()
    }

    /// Counters.
    pub fn stats(&self) -> SinkStats {
        self.stats
    }
}

impl Emit<ExecReport> for ExecSink {
    #[inline]
    fn emit(&mut self, r: ExecReport) {
        let Some(tx) = self.tx.as_mut() else {
            self.stats.published += 1;
            return;
        };
        if self.overflow.is_empty() && tx.try_send(r) {
            self.stats.published += 1;
            return;
        }
        self.stats.overflowed += 1;
        // Past the preallocation this grows (counted by the high-water mark); the venue is not
        // read again until the queue drains below it.
        self.overflow.push_back(r);
        self.stats.overflow_high_water = self.stats.overflow_high_water.max(self.overflow.len());
    }
}

/// The gateway stage: the engine and its report sink.
pub struct GatewayStage<V, J, C> {
    gateway: OrderGateway<V, J, C>,
    sink: ExecSink,
    /// Poll the venue after every `poll_every`-th market input (and after every intent).
    poll_every: u32,
    since_poll: u32,
}

impl<V, J, C> std::fmt::Debug for GatewayStage<V, J, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayStage")
            .field("gateway", &self.gateway)
            .field("sink", &self.sink.stats())
            .finish_non_exhaustive()
    }
}

impl<V: Venue, J: JournalSink, C: Clock> GatewayStage<V, J, C> {
    /// A stage around `gateway`, reporting onto `reports`.
    pub fn new(gateway: OrderGateway<V, J, C>, reports: Option<RingSender<ExecReport>>) -> Self {
        Self {
            gateway,
            sink: ExecSink::new(reports),
            poll_every: 8,
            since_poll: 0,
        }
    }

    /// Polls the venue after every `n`-th market input (1: every input).
    pub fn poll_every(mut self, n: u32) -> Self {
        self.poll_every = n.max(1);
        self
    }

    /// The engine.
    pub fn gateway(&self) -> &OrderGateway<V, J, C> {
        &self.gateway
    }

    /// The engine, mutably.
    pub fn gateway_mut(&mut self) -> &mut OrderGateway<V, J, C> {
        &mut self.gateway
    }

    /// Report sink counters.
    pub fn sink_stats(&self) -> SinkStats {
        self.sink.stats()
    }

    /// Takes the stage apart.
    pub fn into_gateway(self) -> OrderGateway<V, J, C> {
        self.gateway
    }

    /// Polls the venue (unless the report queue is congested) and flushes reports.
    #[inline]
    pub fn poll(&mut self) -> usize {
        self.sink.flush();
        if self.sink.congested() {
            self.sink.stats.venue_reads_held += 1;
            return 0;
        }
        let n = self.gateway.poll(&mut self.sink);
        self.sink.flush();
        n
    }

    /// Handles one input, polling the venue when due.
    #[inline]
    pub fn on_input(&mut self, input: &GatewayInput) {
        self.sink.flush();
        self.gateway.on_input(input, &mut self.sink);
        self.since_poll += 1;
        if input.kind == GatewayInputKind::Intent || self.since_poll >= self.poll_every {
            self.since_poll = 0;
            self.poll();
        }
    }

    /// After the last input: keeps polling until no order or parent is open and every report
    /// is on the ring, or `timeout` passes; then cancels what is still open (`cancel_rest`) and
    /// polls again up to `timeout`. Returns whether everything settled.
    pub fn drain(&mut self, timeout: Duration, cancel_rest: bool) -> bool {
        let settled = |s: &Self| {
            s.gateway.oms().open_count() == 0
                && s.gateway.algos().active() == 0
                && s.sink.pending() == 0
        };
        let mut deadline = Instant::now() + timeout;
        let mut cancelled = false;
        loop {
            self.poll();
            if settled(self) || self.gateway.venue().status() == VenueStatus::Ended {
                return settled(self);
            }
            if Instant::now() >= deadline {
                if cancelled || !cancel_rest {
                    return false;
                }
                cancelled = true;
                self.gateway.kill();
                deadline = Instant::now() + timeout;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

impl<V: Venue, J: JournalSink, C: Clock> Emit<GatewayInput> for GatewayStage<V, J, C> {
    #[inline]
    fn emit(&mut self, input: GatewayInput) {
        self.on_input(&input);
    }
}

/// Why the gateway thread did not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayThreadError {
    /// The OS refused the thread.
    #[error("starting the gateway thread: {0}")]
    Spawn(#[from] std::io::Error),
    /// The input ring's size is unusable.
    #[error("the gateway's input ring: {0}")]
    Ring(#[from] ConfigError),
    /// The thread ended before it handed its ring over (it panicked).
    #[error("the gateway thread ended before its input ring was ready")]
    Exited,
}

/// The running gateway thread: what [`gateway_loop`] returns when it ends.
pub type GatewayThread<'scope, V, J, C> =
    std::thread::ScopedJoinHandle<'scope, (GatewayStage<V, J, C>, bool)>;

/// A started gateway thread: the sending end of its input ring, and the thread.
pub type StartedGateway<'scope, V, J, C> =
    (RingSender<GatewayInput>, GatewayThread<'scope, V, J, C>);

/// Starts the gateway on its own thread, named `gateway`, in `scope`: the thread pins itself
/// to `core` (when given) and only then builds its input ring of `ring_size` slots, so the
/// ring's pages are first touched by the core that reads them (on a NUMA host, its own node)
/// and not by the caller's. It hands back the ring's sending end, for the strategy stage, and
/// runs [`gateway_loop`] until the ring closes (the sender is dropped) or `stop` is set.
pub fn spawn_gateway_thread<'scope, 'env, V, J, C>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    stage: GatewayStage<V, J, C>,
    ring_size: usize,
    wait: WaitStrategy,
    core: Option<usize>,
    drain: Duration,
    stop: &'env AtomicBool,
) -> Result<StartedGateway<'scope, V, J, C>, GatewayThreadError>
where
    V: Venue + Send + 'scope,
    J: JournalSink + Send + 'scope,
    C: Clock + Send + 'scope,
{
    let (ready, handed) = std::sync::mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("gateway".to_owned())
        .spawn_scoped(scope, move || {
            if let Some(c) = core {
                kestrel_core::cpu::pin_current_thread(c);
            }
            match input_ring(ring_size, wait) {
                Ok((tx, rx)) => {
                    // The caller waits on this; it cannot have gone away.
                    let _ = ready.send(Ok(tx));
                    // Already pinned: the loop need not pin again.
                    gateway_loop(stage, rx, None, drain, stop)
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    (stage, false)
                }
            }
        })?;
    match handed.recv() {
        Ok(Ok(tx)) => Ok((tx, thread)),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e.into())
        }
        Err(_) => {
            let _ = thread.join();
            Err(GatewayThreadError::Exited)
        }
    }
}

/// The gateway thread's loop (spawn it on a thread named `gateway`): pins itself to `core`
/// when given, takes inputs off `inputs` and polls the venue between them; when the input ring
/// closes (the strategy is done) it drains for up to `drain` and returns the stage and whether
/// every order settled. `stop` ends it early.
pub fn gateway_loop<V: Venue, J: JournalSink, C: Clock>(
    mut stage: GatewayStage<V, J, C>,
    mut inputs: RingReceiver<GatewayInput>,
    core: Option<usize>,
    drain: Duration,
    stop: &AtomicBool,
) -> (GatewayStage<V, J, C>, bool) {
    if let Some(c) = core {
        kestrel_core::cpu::pin_current_thread(c);
    }
    // Like every hot thread: touch the stack it will use now, on its own core, so the loop
    // takes no page fault later.
    kestrel_core::cpu::prefault_stack();
    loop {
        match inputs.poll_batch(|input, _| stage.on_input(input)) {
            Received::Batch(_) => {}
            Received::Empty => {
                stage.poll();
            }
            Received::Closed => break,
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    let settled = stage.drain(drain, true);
    (stage, settled)
}
