//! Strategy parameters: every threshold, weight and limit, loaded from TOML, validated (field
//! path and reason on rejection), and handed to the strategy thread without locks.
//!
//! - [`file`]: the serde view of the file (unknown fields rejected);
//! - [`validate`]: range checks and conversion into the `Copy` [`StrategyParams`];
//! - [`handoff`]: the single-slot lock-free handoff to the strategy thread;
//! - [`watcher`]: the ops-side file watcher (mtime, contents, SIGHUP);
//! - [`change`]: what changed between two parameter sets.

pub mod change;
pub mod error;
pub mod file;
pub mod handoff;
pub mod money;
pub mod universe;
pub mod validate;
pub mod watcher;

use kestrel_core::{Qty, Urgency};

use crate::harmonizer::risk_mode::{MODE_COUNT, RiskMode};

pub use change::{ChangeSet, ParamsChange};
pub use error::ParamsError;
pub use handoff::{ParamsPublisher, ParamsReceiver, ParamsUpdate, params_handoff};
pub use money::Money;
pub use universe::UniverseSpec;
pub use validate::{StrategyFile, load_params, parse_params, parse_strategy_file};
pub use watcher::{ParamsWatcher, WatchOutcome};

/// Most alpha models the harmonizer blends.
pub const MAX_MODELS: usize = 8;
/// Most regimes with their own blend weights (3 volatility x 3 trend regimes).
pub const MAX_REGIMES: usize = 9;
/// Longest track-record window (decisions per model).
pub const MAX_TRACK_WINDOW: usize = 1024;

/// A validated parameter set. `Copy` and fixed-size, so handing it over allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StrategyParams {
    /// Blending.
    pub blend: BlendParams,
    /// Track records and the shrinkage prior.
    pub track_record: TrackRecordParams,
    /// EWMA volatility and covariance.
    pub volatility: VolatilityParams,
    /// Fractional Kelly.
    pub kelly: KellyParams,
    /// VaR / ES budget.
    pub var: VarParams,
    /// Risk modes.
    pub risk_modes: RiskModeParams,
    /// Hard limits.
    pub limits: LimitParams,
    /// Intent pricing and rounding.
    pub order: OrderParams,
}

/// Which part of the signals' regime selects the blend weight row.
///
/// The engine passes a regime *code* `3 * volatility + trend`, with volatility low/normal/high
/// = 0/1/2 and trend down/flat/up = 0/1/2 (see [`crate::engine::regime_code`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RegimeKey {
    /// One row for every regime.
    #[default]
    Single,
    /// Three rows: low, normal, high volatility.
    Volatility,
    /// Three rows: down, flat, up trend.
    Trend,
    /// Nine rows: `3 * volatility + trend`.
    VolatilityTrend,
}

impl RegimeKey {
    /// Rows this key needs.
    pub const fn rows(self) -> usize {
        match self {
            Self::Single => 1,
            Self::Volatility | Self::Trend => 3,
            Self::VolatilityTrend => 9,
        }
    }

    /// The row of a regime code.
    #[inline]
    pub const fn row(self, code: usize) -> usize {
        match self {
            Self::Single => 0,
            Self::Volatility => code / 3,
            Self::Trend => code % 3,
            Self::VolatilityTrend => code,
        }
    }
}

/// Blend weights per regime and model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlendParams {
    /// How regime codes map to rows.
    pub regime_key: RegimeKey,
    /// Models per row (the alpha set's model count).
    pub model_count: usize,
    /// Regimes (rows).
    pub regime_count: usize,
    /// `regime_weights[regime][model]`, zero beyond the counts.
    pub regime_weights: [[f64; MAX_MODELS]; MAX_REGIMES],
    /// Edges with a lower confidence are ignored.
    pub min_confidence: f64,
}

impl BlendParams {
    /// The weights for regime code `code`; out-of-range rows use the last row.
    #[inline]
    pub fn weights(&self, code: usize) -> &[f64; MAX_MODELS] {
        let row = self
            .regime_key
            .row(code)
            .min(self.regime_count.saturating_sub(1));
        &self.regime_weights[row.min(MAX_REGIMES - 1)]
    }
}

/// Track records.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackRecordParams {
    /// Scored decisions kept per model.
    pub window: usize,
    /// Measurement horizon of a prediction, ns.
    pub horizon_ns: u64,
    /// Prior strength `k`.
    pub prior_strength: f64,
    /// Weight of the IC in record quality.
    pub ic_weight: f64,
}

/// Volatility estimation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VolatilityParams {
    /// EWMA decay per sample.
    pub ewma_lambda: f64,
    /// Variance-rate floor, bps^2 per second.
    pub variance_floor_bps2_per_s: f64,
}

/// Kelly sizing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KellyParams {
    /// Fraction of full Kelly.
    pub fraction: f64,
    /// Capital.
    pub capital: Money,
}

/// Parametric VaR / ES.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarParams {
    /// One-sided confidence.
    pub confidence: f64,
    /// VaR budget per position.
    pub var_budget: Money,
    /// ES budget per position.
    pub es_budget: Money,
}

/// Risk modes: thresholds between adjacent modes and the size scale of each.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskModeParams {
    /// Mode at start.
    pub initial: RiskMode,
    /// `up[k]`: drawdown at or above which mode `k` escalates to `k + 1`.
    pub up: [f64; MODE_COUNT - 1],
    /// `down[k]`: drawdown below which mode `k + 1` relaxes to `k` (`down[k] < up[k]`).
    pub down: [f64; MODE_COUNT - 1],
    /// Size multiplier per mode (halt is zero).
    pub scale: [f64; MODE_COUNT],
}

/// Hard limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimitParams {
    /// Largest absolute position per instrument.
    pub max_position: Qty,
    /// Largest absolute position notional per instrument.
    pub max_notional: Money,
    /// Largest single order.
    pub max_order_qty: Qty,
    /// Token refill, orders per second of event time.
    pub orders_per_second: f64,
    /// Token bucket capacity.
    pub order_burst: u32,
    /// Daily loss that stops trading.
    pub daily_loss: Money,
}

/// Intent pricing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderParams {
    /// Urgency of alpha intents (flattening is always aggressive).
    pub urgency: Urgency,
    /// Smallest change of target worth an order.
    pub min_order_qty: Qty,
    /// A blended edge at least this strong (bps, absolute) crosses the spread (an aggressive
    /// intent) whatever `urgency` says; 0: never. Weaker edges post at the touch.
    pub cross_edge_bps: f64,
}
