//! The TOML file as written by people: serde structs that reject unknown fields. Money amounts,
//! prices and quantities are decimal strings (exact through `rust_decimal`); validation into
//! [`super::StrategyParams`] happens in [`super::validate`].

use serde::Deserialize;

/// The whole parameter file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsFile {
    /// Blending of model edges.
    pub blend: BlendFile,
    /// Online track records of the models.
    pub track_record: TrackRecordFile,
    /// EWMA volatility and covariance.
    pub volatility: VolatilityFile,
    /// Fractional Kelly sizing.
    pub kelly: KellyFile,
    /// Parametric VaR / expected-shortfall budget.
    pub var: VarFile,
    /// Drawdown-driven risk modes.
    pub risk_modes: RiskModesFile,
    /// Hard limits.
    pub limits: LimitsFile,
    /// How intents are priced and rounded.
    pub order: OrderFile,
    /// The instruments the strategy trades (optional: without it, every instrument of the
    /// feed up to a limit; see `crate::universe`).
    #[serde(default)]
    pub universe: Option<UniverseFile>,
}

/// `[universe]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniverseFile {
    /// Symbols, in strategy slot order; `["*"]` for every instrument of the feed.
    pub symbols: Vec<String>,
}

/// `[blend]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlendFile {
    /// Which signal regimes select the weight row: `single`, `volatility`, `trend` or
    /// `volatility_trend`.
    pub regime_key: String,
    /// One row per regime, one weight per model (all rows the same length).
    pub regime_weights: Vec<Vec<f64>>,
    /// Model edges with a confidence below this are ignored.
    pub min_confidence: f64,
}

/// `[track_record]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackRecordFile {
    /// Number of scored decisions kept per model.
    pub window: u32,
    /// How long after a prediction the realised mid move is measured, in milliseconds.
    pub horizon_ms: u64,
    /// `k` in the shrinkage weight `n*q / (n*q + k)`: the strength of the zero-edge prior.
    pub prior_strength: f64,
    /// Weight of the information coefficient in the record quality (the rest is hit rate).
    pub ic_weight: f64,
}

/// `[volatility]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolatilityFile {
    /// EWMA decay per sample, in `(0, 1)`.
    pub ewma_lambda: f64,
    /// Floor on the variance rate, in bps^2 per second.
    pub variance_floor_bps2_per_s: f64,
}

/// `[kelly]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KellyFile {
    /// Fraction of full Kelly, in `(0, 1]`.
    pub fraction: f64,
    /// Capital the Kelly weights apply to (money, decimal string).
    pub capital: String,
}

/// `[var]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarFile {
    /// One-sided confidence, e.g. 0.99.
    pub confidence: f64,
    /// Largest VaR one position may add over the horizon (money, decimal string).
    pub var_budget: String,
    /// Largest expected shortfall one position may add over the horizon (money, decimal string).
    pub es_budget: String,
}

/// `[risk_modes]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskModesFile {
    /// Mode at start: `aggressive`, `normal`, `conservative` or `defensive`.
    pub initial: String,
    /// Drawdown thresholds (fractions of capital).
    pub thresholds: ThresholdsFile,
    /// Size multiplier per mode (halt is always zero).
    pub scale: ScaleFile,
}

/// `[risk_modes.thresholds]`: enter and exit drawdowns of each mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsFile {
    /// Become aggressive when the drawdown falls below this.
    pub aggressive_enter: f64,
    /// Leave aggressive when the drawdown reaches this.
    pub aggressive_exit: f64,
    /// Become conservative when the drawdown reaches this.
    pub conservative_enter: f64,
    /// Leave conservative when the drawdown falls below this.
    pub conservative_exit: f64,
    /// Become defensive when the drawdown reaches this.
    pub defensive_enter: f64,
    /// Leave defensive when the drawdown falls below this.
    pub defensive_exit: f64,
    /// Halt when the drawdown reaches this.
    pub halt_enter: f64,
    /// Leave halt when the drawdown falls below this (0 keeps halt latched).
    pub halt_exit: f64,
}

/// `[risk_modes.scale]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleFile {
    /// Size multiplier in aggressive mode.
    pub aggressive: f64,
    /// Size multiplier in normal mode.
    pub normal: f64,
    /// Size multiplier in conservative mode.
    pub conservative: f64,
    /// Size multiplier in defensive mode.
    pub defensive: f64,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Largest absolute position per instrument (quantity, decimal string).
    pub max_position: String,
    /// Largest absolute position notional per instrument (money, decimal string).
    pub max_notional: String,
    /// Largest single order (quantity, decimal string).
    pub max_order_qty: String,
    /// Order-rate token bucket refill, orders per second of event time.
    pub orders_per_second: f64,
    /// Order-rate token bucket capacity (burst).
    pub order_burst: u32,
    /// Loss since the start of the day that stops trading (money, decimal string).
    pub daily_loss: String,
}

/// `[order]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFile {
    /// `passive`, `normal` or `aggressive`.
    pub urgency: String,
    /// Changes of target smaller than this are not sent (quantity, decimal string).
    pub min_order_qty: String,
    /// A blended edge at least this strong (bps, absolute) crosses the spread whatever the
    /// urgency; 0 (the default): never.
    #[serde(default)]
    pub cross_edge_bps: f64,
}
