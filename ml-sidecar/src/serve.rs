//! `serve`: the sidecar process. Attaches to the core's segment (refused on a wrong layout or
//! feature schema), heartbeats from its own thread, and loops: drain the feature ring, push
//! every record into its instrument's window, predict the instruments whose window is full and
//! got a new record (one batch, the newest record of each), write their edges. A restarted
//! sidecar resumes at the first record its predecessor did not consume; windows refill from
//! there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use kestrel_core::shm::{
    CoreState, EdgeRecord, FeatureRecord, ShmError, SidecarSegment, monotonic_ns,
};

use crate::runtime::Model;
use crate::window::normalise_into;

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Segment name or path.
    pub shm: String,
    /// Most windows per inference batch.
    pub max_batch: usize,
    /// How long to wait for the segment to appear.
    pub wait: Duration,
    /// Sleep when the ring is empty (zero: spin).
    pub idle: Duration,
    /// Stop after this long (seconds), if given.
    pub max_seconds: Option<f64>,
    /// Heartbeat period.
    pub heartbeat_every: Duration,
}

/// What a serve run did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServeStats {
    /// Feature records consumed.
    pub consumed: u64,
    /// Records refused (instrument out of range, wrong feature count).
    pub refused: u64,
    /// Edges written.
    pub edges: u64,
    /// Inference batches.
    pub batches: u64,
    /// Nanoseconds spent in inference.
    pub inference_ns: u64,
    /// Features the core dropped (as the segment says at the end).
    pub core_dropped: u64,
}

/// Why the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeEnd {
    /// The core closed the segment.
    CoreClosed,
    /// The core's process is gone.
    CoreGone,
    /// `--max-seconds`.
    TimeLimit,
    /// SIGINT / SIGTERM.
    Signal,
}

/// One instrument's rolling window of normalised inputs.
#[derive(Clone, Debug)]
struct History {
    data: Vec<f32>,
    next: usize,
    filled: usize,
    last: Option<FeatureRecord>,
    pending: bool,
}

/// Attaches to `name`, waiting up to `wait` for the segment to be created (and published)
/// by the core, or for a live sidecar already attached to it to go away (a standby takes over
/// when the one serving dies). Layout, schema and permission errors are returned at once.
pub fn attach(name: &str, model: &Model, wait: Duration) -> anyhow::Result<SidecarSegment> {
    let schema = model.spec.feature_schema()?;
    let started = Instant::now();
    loop {
        match SidecarSegment::attach(name, &schema, model.spec.model_id, model.spec.model_version) {
            Ok(s) => return Ok(s),
            Err(e) => {
                let not_yet = match &e {
                    ShmError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
                    ShmError::BadMagic { found: 0, .. }
                    | ShmError::Truncated { .. }
                    | ShmError::SidecarAttached { .. } => true,
                    _ => false,
                };
                if !not_yet || started.elapsed() >= wait {
                    return Err(e)
                        .with_context(|| format!("attaching to the core's segment `{name}`"));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Serves `model` on the segment until the core closes it (or another end condition).
pub fn serve(
    model: &Model,
    cfg: &ServeConfig,
    stop: &AtomicBool,
) -> anyhow::Result<(ServeStats, ServeEnd)> {
    let segment = attach(&cfg.shm, model, cfg.wait)?;
    let info = segment.info().clone();
    eprintln!(
        "kestrel-ml: serving {} (model {:08x} v{}) on {}: {} instruments, ring {}",
        model.spec.kind.name(),
        model.spec.model_id,
        model.spec.model_version,
        info.path.display(),
        info.instruments,
        info.ring_capacity
    );
    let mut consumer = segment
        .take_consumer()
        .context("the segment's consumer is taken")?;
    let mut writer = segment
        .take_edge_writer()
        .context("the segment's edge writer is taken")?;
    let beating = Arc::new(AtomicBool::new(true));
    let heartbeat = {
        let hb = segment.heartbeat();
        let beating = Arc::clone(&beating);
        let every = cfg.heartbeat_every;
        std::thread::Builder::new()
            .name("heartbeat".to_owned())
            .spawn(move || {
                while beating.load(Ordering::Relaxed) {
                    hb.beat();
                    std::thread::sleep(every);
                }
            })
            .context("starting the heartbeat thread")?
    };
    let inputs = &model.spec.inputs;
    let width = inputs.len();
    let window = model.spec.window;
    let features = model.spec.schema.len() as u32;
    let mut hist: Vec<History> = (0..info.instruments)
        .map(|_| History {
            data: vec![0.0; window * width],
            next: 0,
            filled: 0,
            last: None,
            pending: false,
        })
        .collect();
    let mut stats = ServeStats::default();
    let mut buf: Vec<FeatureRecord> = Vec::with_capacity(4096);
    let mut ready: Vec<usize> = Vec::with_capacity(info.instruments);
    let mut windows: Vec<f32> = Vec::with_capacity(cfg.max_batch * window * width);
    let started = Instant::now();
    let mut last_check = Instant::now();
    let end = loop {
        buf.clear();
        let n = consumer
            .pop_into(&mut buf, 4096)
            .context("reading the feature ring")?;
        stats.consumed += n as u64;
        for r in &buf {
            let i = r.instrument as usize;
            let Some(h) = hist.get_mut(i).filter(|_| r.count == features) else {
                stats.refused += 1;
                continue;
            };
            let row = &r.features[..features as usize];
            let at = h.next * width;
            normalise_into(
                row,
                inputs,
                &model.spec.normalisation,
                &mut h.data[at..at + width],
            );
            h.next = (h.next + 1) % window;
            h.filled = (h.filled + 1).min(window);
            h.last = Some(*r);
            if h.filled == window && !h.pending {
                h.pending = true;
                ready.push(i);
            }
        }
        for chunk in ready.chunks(cfg.max_batch.max(1)) {
            windows.clear();
            for &i in chunk {
                let h = &hist[i];
                // Oldest first: the ring's next slot is the oldest.
                windows.extend_from_slice(&h.data[h.next * width..]);
                windows.extend_from_slice(&h.data[..h.next * width]);
            }
            let t0 = monotonic_ns();
            let probs = model.predict(&windows, chunk.len());
            stats.inference_ns += monotonic_ns().saturating_sub(t0);
            stats.batches += 1;
            for (&i, p) in chunk.iter().zip(&probs) {
                let h = &mut hist[i];
                h.pending = false;
                let Some(r) = h.last else { continue };
                let (edge_bps, confidence) = model.edge_of(p);
                let e = EdgeRecord {
                    edge_bps,
                    confidence,
                    horizon_events: model.spec.horizon as u32,
                    model_id: model.spec.model_id,
                    model_version: model.spec.model_version,
                    feature_seq: r.feature_seq,
                    event_time_ns: r.event_time_ns,
                    produced_ns: monotonic_ns(),
                    feature_published_ns: r.published_ns,
                };
                if writer.write(i, &e) {
                    stats.edges += 1;
                }
            }
        }
        ready.clear();
        if n > 0 {
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            break ServeEnd::Signal;
        }
        if last_check.elapsed() >= Duration::from_millis(50) {
            last_check = Instant::now();
            match segment.core_state() {
                CoreState::Closed => break ServeEnd::CoreClosed,
                CoreState::Gone => break ServeEnd::CoreGone,
                CoreState::Running => {}
            }
            if cfg
                .max_seconds
                .is_some_and(|s| started.elapsed().as_secs_f64() >= s)
            {
                break ServeEnd::TimeLimit;
            }
        }
        if cfg.idle.is_zero() {
            std::hint::spin_loop();
        } else {
            std::thread::sleep(cfg.idle);
        }
    };
    beating.store(false, Ordering::Relaxed);
    let _ = heartbeat.join();
    stats.core_dropped = consumer.dropped();
    Ok((stats, end))
}
