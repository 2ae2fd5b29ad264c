//! What a run did: accounting for every event, backpressure, and where threads ran.

use super::RunMode;
use crate::latency::LatencyCollector;

/// Counters from one pipeline run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunReport {
    /// Inline or threaded.
    pub mode: RunMode,
    /// Events the source emitted onto the first ring (or handed on inline).
    pub published: u64,
    /// Events the consumer stage handled.
    pub consumed: u64,
    /// Events the ops consumer saw (threaded; equals `consumed` inline).
    pub ops_seen: u64,
    /// Times the producer found the ring full and waited.
    pub backpressure_waits: u64,
    /// Total nanoseconds the producer waited on a full ring.
    pub backpressure_ns: u64,
    /// Latency hand-offs that found the snapshot ring full (folded into the next interval).
    pub snapshots_deferred: u64,
    /// Wall time of the run in nanoseconds.
    pub elapsed_ns: u64,
    /// Per stage thread: name, requested core, and whether pinning succeeded.
    pub threads: Vec<ThreadPlacement>,
}

/// Where one stage thread ran.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ThreadPlacement {
    /// Stage (and thread) name.
    pub stage: String,
    /// Core requested by the config.
    pub core: Option<usize>,
    /// Whether the thread was pinned there.
    pub pinned: bool,
}

impl RunReport {
    /// Every published event was consumed by every consumer: nothing lost, nothing invented.
    pub fn balanced(&self) -> bool {
        self.published == self.consumed && self.ops_seen == self.published
    }

    /// Events per second over the run.
    pub fn throughput(&self) -> f64 {
        if self.elapsed_ns == 0 {
            0.0
        } else {
            self.consumed as f64 * 1e9 / self.elapsed_ns as f64
        }
    }
}

/// The stages and sink handed back after a run, with its report and latencies.
#[derive(Debug)]
pub struct RunOutput<S, C, K> {
    /// The source, as the run left it.
    pub source: S,
    /// The consumer stage, as the run left it.
    pub stage: C,
    /// The sink that received the consumer stage's output.
    pub sink: K,
    /// Accounting.
    pub report: RunReport,
    /// Every latency recorded, per interval and in total.
    pub latency: LatencyCollector,
}
