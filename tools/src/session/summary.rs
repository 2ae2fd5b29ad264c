//! `summary.json`.

use kestrel_core::latency::StageSummary;
use kestrel_core::pipeline::RunMode;
use serde::{Deserialize, Serialize};

/// Where one stage thread ran (mirrors the pipeline's report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    /// Stage name.
    pub stage: String,
    /// Core requested.
    pub core: Option<usize>,
    /// Whether pinning succeeded.
    pub pinned: bool,
}

/// Everything a session's `summary.json` says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Session id (directory name).
    pub session: String,
    /// Input capture path.
    pub input: String,
    /// Inline or threaded.
    pub mode: RunMode,
    /// `max`, `recorded` or a speed factor.
    pub pace: String,
    /// Capture records read.
    pub records: u64,
    /// Book updates through the pipeline.
    pub events: u64,
    /// Wall time of the pipeline run in seconds.
    pub elapsed_s: f64,
    /// Book updates per second.
    pub throughput_eps: f64,
    /// Events published but not consumed (0 on a clean shutdown).
    pub drops: u64,
    /// Feed anomalies (capture damage, gaps, decode and book errors, ...).
    pub anomalies: u64,
    /// Times the producer waited on a full ring.
    pub backpressure_waits: u64,
    /// Nanoseconds the producer waited on full rings.
    pub backpressure_ns: u64,
    /// Per-stage latency, nanoseconds.
    pub stages: Vec<StageSummary>,
    /// Hash of every book update the consumer stage saw, in order (hex; `OutputHash` in
    /// `kestrel_core::pipeline`: a folded-multiply chain over each update's instrument,
    /// sequence, times, visible levels, trade and trading flag; since 2026-11-29 evening, so
    /// older summaries of the same capture show another value).
    pub output_hash: String,
    /// Final hash of every book (hex).
    pub book_hash: String,
    /// Thread placement.
    pub threads: Vec<ThreadSummary>,
    /// CPU placement warnings and other notes.
    pub warnings: Vec<String>,
    /// The strategy stage (absent in sessions written before it existed).
    #[serde(default)]
    pub strategy: Option<StrategySummary>,
    /// The order gateway (replays with `--gateway` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<super::gateway::GatewaySummary>,
    /// Trading figures of a backtest or a session with a gateway (absent for replays).
    #[serde(flatten)]
    pub trading: super::trading::TradingFields,
    /// The ML sidecar (runs with `--sidecar` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<super::sidecar::SidecarSummary>,
}

/// What the strategy stage did in a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategySummary {
    /// How positions learned of executions: without a gateway, replay assumes every intent
    /// filled in full at its limit price at once (`simulated_immediate_fill`); with one, fills
    /// come back from the venue (`gateway`).
    pub fill_mode: String,
    /// Parameter file given (`None`: the built-in defaults, equal to examples/strategy.toml).
    pub params_file: Option<String>,
    /// Instruments the strategy was sized for (its universe).
    pub instruments: usize,
    /// The universe's symbols, in slot order (empty in sessions written before universes).
    #[serde(default)]
    pub universe: Vec<String>,
    /// Instruments the feed kept books for.
    #[serde(default)]
    pub feed_instruments: usize,
    /// Book updates the feed did not publish because their instrument is outside the universe.
    #[serde(default)]
    pub unpublished_updates: u64,
    /// When the feed published (`every_event` or `packet`; see `kestrel replay --publish`).
    #[serde(default = "every_event")]
    pub publish: String,
    /// Book updates merged into a later update of the same packet (`packet` policy): updates
    /// + unpublished + merged = the events the books accepted.
    #[serde(default)]
    pub merged_updates: u64,
    /// Book updates the strategy received (decided on or observed).
    pub updates: u64,
    /// Of which decisions: each instrument's last update of its packet (`packet` policy; the
    /// others only move the signals), every update under `every_event`.
    #[serde(default)]
    pub decisions: u64,
    /// Hash of every book update the stage saw (hex; the same `OutputHash` as `output_hash`,
    /// which it equals).
    pub update_hash: String,
    /// Order intents emitted.
    pub intents: u64,
    /// FNV-1a hash of every intent (hex).
    pub intent_hash: String,
    /// Buy intents.
    pub buys: u64,
    /// Sell intents.
    pub sells: u64,
    /// Decisions per binding rule (rules that never bound are left out).
    pub bindings: std::collections::BTreeMap<String, u64>,
    /// Parameter sets applied at an event boundary (each is a line of params_changes.jsonl).
    pub params_changes: u64,
    /// Parameter files the watcher rejected (the old set stayed in force).
    pub params_rejected: u64,
    /// Parameter sets the engine refused at apply time.
    pub params_refused_at_apply: u64,
    /// Strategy latency (published stamp to decision), nanoseconds.
    pub latency: StageSummary,
}

/// The publish policy of sessions written before `--publish` existed.
fn every_event() -> String {
    "every_event".to_owned()
}
