//! The strategy stage's link to the ML sidecar: at each decision point it reads the
//! instrument's edge slot (one load when nothing changed, a bounded seqlock read when it did),
//! hands a fresh edge to the alpha set's external slot, and publishes the update's feature
//! vector into the ring without ever waiting (a full ring drops and counts).
//!
//! An edge is fresh when the sidecar's heartbeat is younger than `heartbeat_timeout_ns`
//! (`CLOCK_MONOTONIC`, checked every `liveness_every` updates) and the edge answers a feature
//! whose event time is at most `max_age_ns` before the current update's (the updates' own
//! clock, so a replay ages edges in replayed time). Anything else is no edge: the external slot
//! is cleared and the in-core alphas trade alone. The harmonizer blends the external edge as one
//! more model, with its own track record and shrinkage.

use kestrel_core::shm::{
    CoreSegment, EdgeRead, EdgeReader, EdgeRecord, FeatureProducer, FeatureRecord, Liveness,
    monotonic_ns,
};
use kestrel_core::{BookUpdate, Timestamp};

use super::features::{FEATURE_COUNT, FeatureBuilder};
use super::live_ic::LiveIc;
use crate::alpha::AlphaSet;
use crate::edge::ModelEdge;
use crate::signals::SignalValues;

/// How the link judges edges and the sidecar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SidecarConfig {
    /// Oldest edge used, in event time (ns between the answered feature and the update).
    pub max_age_ns: u64,
    /// Heartbeat age after which the sidecar is down (`CLOCK_MONOTONIC` ns).
    pub heartbeat_timeout_ns: u64,
    /// Updates between two liveness checks (each costs one clock read).
    pub liveness_every: u32,
}

impl Default for SidecarConfig {
    fn default() -> Self {
        Self {
            max_age_ns: 50_000_000,
            heartbeat_timeout_ns: 250_000_000,
            liveness_every: 64,
        }
    }
}

/// What the link saw and did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SidecarStats {
    /// Feature vectors published into the ring.
    pub features_published: u64,
    /// Feature vectors dropped on a full ring.
    pub features_dropped: u64,
    /// New edge versions read from the table.
    pub edges_received: u64,
    /// Decisions that blended a fresh edge.
    pub edges_used: u64,
    /// Decisions whose instrument had an edge older than the age limit (not used).
    pub stale: u64,
    /// Decisions whose instrument had an edge while the sidecar's heartbeat had stopped (not
    /// used).
    pub sidecar_down: u64,
    /// Reads that met a write in progress on every attempt (the previous edge stayed).
    pub busy_reads: u64,
    /// Liveness checks that found the sidecar down.
    pub down_checks: u64,
    /// Pairs in the live IC.
    pub ic_samples: u64,
    /// Live IC of the used edges against the realised mid move over their horizon.
    pub live_ic: Option<f64>,
    /// Live hit rate (same sign).
    pub live_hit_rate: Option<f64>,
    /// Feature publish to edge receipt by the core, mean (ns, `CLOCK_MONOTONIC`).
    pub edge_delay_mean_ns: Option<f64>,
    /// Feature publish to edge receipt, largest (ns).
    pub edge_delay_max_ns: u64,
}

/// A prediction waiting for its horizon.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    active: bool,
    edge_bps: f64,
    mid: f64,
    start: u64,
    horizon: u64,
}

/// Per-instrument link state.
#[derive(Clone, Copy, Debug, Default)]
struct InstrumentLink {
    version: u64,
    edge: Option<EdgeRecord>,
    sampled_version: u64,
    usable_updates: u64,
    pending: Pending,
}

/// The core's end of the sidecar link.
#[derive(Debug)]
pub struct SidecarLink {
    producer: FeatureProducer,
    reader: EdgeReader,
    liveness: Liveness,
    features: FeatureBuilder,
    record: FeatureRecord,
    instruments: Vec<InstrumentLink>,
    config: SidecarConfig,
    alive: bool,
    calls: u32,
    next_seq: u64,
    delay_sum_ns: f64,
    delay_count: u64,
    ic: LiveIc,
    stats: SidecarStats,
}

/// Why a link could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The segment's producer was already taken.
    #[error("the segment's feature producer is already in use")]
    ProducerTaken,
    /// The segment has fewer edge slots than instruments.
    #[error("the segment has {slots} edge slots for {instruments} instruments")]
    TooFewSlots {
        /// Slots.
        slots: usize,
        /// Instruments.
        instruments: usize,
    },
}

impl SidecarLink {
    /// A link over `segment` for instruments `0..instruments` (state allocated now).
    pub fn new(
        segment: &CoreSegment,
        instruments: usize,
        config: SidecarConfig,
    ) -> Result<Self, LinkError> {
        let reader = segment.edge_reader();
        if reader.slots() < instruments {
            return Err(LinkError::TooFewSlots {
                slots: reader.slots(),
                instruments,
            });
        }
        let producer = segment.take_producer().ok_or(LinkError::ProducerTaken)?;
        Ok(Self {
            producer,
            reader,
            liveness: segment.liveness(),
            features: FeatureBuilder::new(instruments),
            record: FeatureRecord::default(),
            instruments: vec![InstrumentLink::default(); instruments],
            config,
            alive: false,
            calls: 0,
            next_seq: 1,
            delay_sum_ns: 0.0,
            delay_count: 0,
            ic: LiveIc::default(),
            stats: SidecarStats::default(),
        })
    }

    /// One decision point: reads the instrument's edge into `alphas` (or clears it), then
    /// publishes the update's features. Called after the signals, before the alpha models. No
    /// allocation, no waiting.
    #[inline]
    pub fn on_update(&mut self, u: &BookUpdate, values: &SignalValues, alphas: &mut AlphaSet) {
        if self.calls == 0 {
            self.check_liveness();
        }
        self.calls += 1;
        if self.calls >= self.config.liveness_every {
            self.calls = 0;
        }
        let i = u.instrument.index();
        self.take_edge(i, u, values, alphas);
        self.publish(u, values);
    }

    #[inline]
    fn check_liveness(&mut self) {
        let now = monotonic_ns();
        self.alive = self
            .liveness
            .sidecar_alive(now, self.config.heartbeat_timeout_ns);
        self.stats.down_checks += u64::from(!self.alive);
        self.liveness.beat(now);
    }

    #[inline]
    fn take_edge(
        &mut self,
        i: usize,
        u: &BookUpdate,
        values: &SignalValues,
        alphas: &mut AlphaSet,
    ) {
        let Some(st) = self.instruments.get_mut(i) else {
            return;
        };
        let v = self.reader.version(i);
        if v != st.version && v != 0 {
            match self.reader.read(i) {
                EdgeRead::Edge { record, version } => {
                    st.version = version;
                    st.edge = Some(record);
                    self.stats.edges_received += 1;
                    let delay = monotonic_ns().saturating_sub(record.feature_published_ns);
                    self.delay_sum_ns += delay as f64;
                    self.delay_count += 1;
                    self.stats.edge_delay_max_ns = self.stats.edge_delay_max_ns.max(delay);
                }
                EdgeRead::Busy => self.stats.busy_reads += 1,
                EdgeRead::Empty | EdgeRead::OutOfRange => {}
            }
        }
        let usable = values.is_usable() && values.mid > 0.0;
        if usable {
            st.usable_updates += 1;
            let p = &mut st.pending;
            if p.active && st.usable_updates >= p.start + p.horizon {
                self.ic.add(p.edge_bps, (values.mid - p.mid) / p.mid * 1e4);
                p.active = false;
            }
        }
        let Some(edge) = st.edge else {
            return;
        };
        let age = u.recv_ts.nanos().saturating_sub(edge.event_time_ns);
        if !self.alive {
            self.stats.sidecar_down += 1;
            alphas.clear_external(u.instrument);
        } else if age > self.config.max_age_ns {
            self.stats.stale += 1;
            alphas.clear_external(u.instrument);
        } else {
            self.stats.edges_used += 1;
            let me = ModelEdge::new(edge.edge_bps, f64::from(edge.confidence));
            alphas.set_external(u.instrument, me, Timestamp(edge.event_time_ns));
            if usable && !st.pending.active && st.sampled_version != st.version {
                st.sampled_version = st.version;
                st.pending = Pending {
                    active: true,
                    edge_bps: me.edge_bps,
                    mid: values.mid,
                    start: st.usable_updates,
                    horizon: u64::from(edge.horizon_events.max(1)),
                };
            }
        }
    }

    #[inline]
    fn publish(&mut self, u: &BookUpdate, values: &SignalValues) {
        if !self.features.build(u, values, &mut self.record.features) {
            return;
        }
        let r = &mut self.record;
        r.instrument = u.instrument.0;
        r.count = FEATURE_COUNT as u32;
        r.feature_seq = self.next_seq;
        r.event_time_ns = u.recv_ts.nanos();
        r.published_ns = monotonic_ns();
        r.mid = values.mid;
        if self.producer.try_publish(r) {
            self.next_seq += 1;
            self.stats.features_published += 1;
        } else {
            self.stats.features_dropped += 1;
        }
    }

    /// The counters, with the live IC and delay computed now.
    pub fn stats(&self) -> SidecarStats {
        let mut s = self.stats;
        s.ic_samples = self.ic.samples();
        s.live_ic = self.ic.ic();
        s.live_hit_rate = self.ic.hit_rate();
        s.edge_delay_mean_ns =
            (self.delay_count > 0).then(|| self.delay_sum_ns / self.delay_count as f64);
        s
    }

    /// The configuration.
    pub fn config(&self) -> SidecarConfig {
        self.config
    }
}
