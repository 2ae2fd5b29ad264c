//! Parsing and validation: TOML text -> [`StrategyParams`], or the first rejected field with
//! its dotted path and the reason.

use std::path::Path;
use std::str::FromStr;

use kestrel_core::{Qty, Urgency};
use rust_decimal::Decimal;

use super::file::{
    BlendFile, KellyFile, LimitsFile, OrderFile, ParamsFile, RiskModesFile, TrackRecordFile,
    VarFile, VolatilityFile,
};
use super::{
    BlendParams, KellyParams, LimitParams, MAX_MODELS, MAX_REGIMES, MAX_TRACK_WINDOW, Money,
    OrderParams, ParamsError, RegimeKey, RiskModeParams, StrategyParams, TrackRecordParams,
    UniverseSpec, VarParams, VolatilityParams,
};
use crate::harmonizer::risk_mode::RiskMode;

/// Reads and validates a parameter file.
pub fn load_params(path: &Path) -> Result<StrategyParams, ParamsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ParamsError::Io {
        file: path.to_owned(),
        source,
    })?;
    parse_params(&text)
}

/// Parses and validates parameter text (the `[universe]` section, when present, is validated
/// too; [`parse_strategy_file`] returns it).
pub fn parse_params(text: &str) -> Result<StrategyParams, ParamsError> {
    parse_strategy_file(text).map(|f| f.params)
}

/// A whole strategy file: the hot-reloadable parameters and the universe, fixed for a run.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyFile {
    /// The parameters.
    pub params: StrategyParams,
    /// The `[universe]` section, if the file has one.
    pub universe: Option<UniverseSpec>,
}

/// Parses and validates a whole strategy file.
pub fn parse_strategy_file(text: &str) -> Result<StrategyFile, ParamsError> {
    let file: ParamsFile = toml::from_str(text).map_err(|e| locate(text, &e))?;
    let params = validate(&file)?;
    let universe = file
        .universe
        .as_ref()
        .map(|u| UniverseSpec::parse("universe.symbols", &u.symbols))
        .transpose()?;
    Ok(StrategyFile { params, universe })
}

impl StrategyParams {
    /// Checks that the blend weights have one column per model of an alpha set with
    /// `model_count` models.
    pub fn expect_models(&self, model_count: usize) -> Result<(), ParamsError> {
        if self.blend.model_count == model_count {
            Ok(())
        } else {
            Err(ParamsError::field(
                "blend.regime_weights",
                format!(
                    "rows have {} weights but the alpha set has {model_count} models",
                    self.blend.model_count
                ),
            ))
        }
    }
}

/// Turns a serde/TOML error into a field path: the enclosing `[table]` header plus the key the
/// error points at (or the field the message names, for missing and unknown fields).
fn locate(text: &str, err: &toml::de::Error) -> ParamsError {
    let reason = err.message().to_owned();
    let Some(span) = err.span() else {
        return ParamsError::Syntax { line: 0, reason };
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].bytes().filter(|&b| b == b'\n').count() + 1;
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| reason.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned);
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header_of = |l: &str| table_header(l).map(str::to_owned);
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_owned()
        } else {
            format!("{a}.{b}")
        }
    };
    let path = if span.start == 0 && span.end == 0 {
        // Top-level missing section.
        named.unwrap_or_default()
    } else if let Some(header) = header_of(line) {
        match (reason.starts_with("missing field"), named) {
            (true, Some(name)) => join(&header, &name),
            _ => header,
        }
    } else {
        let section = text[..line_start]
            .lines()
            .rev()
            .find_map(header_of)
            .unwrap_or_default();
        let key = line.split('=').next().unwrap_or("").trim();
        let key = key.trim_matches('"');
        match named {
            Some(name) if !key.is_empty() && key != name => join(&join(&section, key), &name),
            Some(name) => join(&section, &name),
            None if !key.is_empty() => join(&section, key),
            None => section,
        }
    };
    if path.is_empty() {
        return ParamsError::Syntax {
            line: line_no,
            reason,
        };
    }
    ParamsError::Field {
        path,
        line: line_no,
        reason,
    }
}

/// The name of a `[table]` or `[[array.of.tables]]` header line; `None` for other lines,
/// including the rows of a multi-line array such as `[1.0, 0.5],`.
fn table_header(line: &str) -> Option<&str> {
    let code = line.split('#').next().unwrap_or("").trim();
    let inner = code.strip_prefix('[')?.trim_start_matches('[');
    let name = inner.strip_suffix(']')?.trim_end_matches(']').trim();
    let first = name.chars().next()?;
    let is_key = (first.is_ascii_alphabetic() || first == '_' || first == '"')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | ' '));
    is_key.then_some(name)
}

fn validate(f: &ParamsFile) -> Result<StrategyParams, ParamsError> {
    Ok(StrategyParams {
        blend: blend(&f.blend)?,
        track_record: track_record(&f.track_record)?,
        volatility: volatility(&f.volatility)?,
        kelly: kelly(&f.kelly)?,
        var: var(&f.var)?,
        risk_modes: risk_modes(&f.risk_modes)?,
        limits: limits(&f.limits)?,
        order: order(&f.order)?,
    })
}

/// `lo <= v <= hi` (or the open/closed variant named by `open_lo`/`open_hi`), finite.
fn range(
    path: &str,
    v: f64,
    lo: f64,
    hi: f64,
    open_lo: bool,
    open_hi: bool,
) -> Result<f64, ParamsError> {
    let lo_ok = if open_lo { v > lo } else { v >= lo };
    let hi_ok = if open_hi { v < hi } else { v <= hi };
    if v.is_finite() && lo_ok && hi_ok {
        Ok(v)
    } else {
        Err(ParamsError::field(
            path,
            format!(
                "{v} is out of range {}{lo}, {hi}{}",
                if open_lo { "(" } else { "[" },
                if open_hi { ")" } else { "]" }
            ),
        ))
    }
}

fn decimal(path: &str, s: &str) -> Result<Decimal, ParamsError> {
    Decimal::from_str(s.trim())
        .map_err(|e| ParamsError::field(path, format!("{s:?} is not a decimal: {e}")))
}

/// A strictly positive (or non-negative when `allow_zero`) money amount.
fn money(path: &str, s: &str, allow_zero: bool) -> Result<Money, ParamsError> {
    let d = decimal(path, s)?;
    let m = Money::from_decimal(d).map_err(|e| ParamsError::field(path, format!("{s:?}: {e}")))?;
    if m.raw() < 0 || (!allow_zero && m.raw() == 0) {
        return Err(ParamsError::field(
            path,
            format!("{s} must be {}", if allow_zero { ">= 0" } else { "> 0" }),
        ));
    }
    Ok(m)
}

/// A strictly positive (or non-negative when `allow_zero`) quantity.
fn qty(path: &str, s: &str, allow_zero: bool) -> Result<Qty, ParamsError> {
    let d = decimal(path, s)?;
    let q = Qty::from_decimal(d).map_err(|e| ParamsError::field(path, format!("{s:?}: {e}")))?;
    if q.raw() < 0 || (!allow_zero && q.raw() == 0) {
        return Err(ParamsError::field(
            path,
            format!("{s} must be {}", if allow_zero { ">= 0" } else { "> 0" }),
        ));
    }
    Ok(q)
}

fn blend(f: &BlendFile) -> Result<BlendParams, ParamsError> {
    let regime_key = match f.regime_key.as_str() {
        "single" => RegimeKey::Single,
        "volatility" => RegimeKey::Volatility,
        "trend" => RegimeKey::Trend,
        "volatility_trend" => RegimeKey::VolatilityTrend,
        other => {
            return Err(ParamsError::field(
                "blend.regime_key",
                format!("{other:?}: expected single, volatility, trend or volatility_trend"),
            ));
        }
    };
    let rows = f.regime_weights.len();
    if rows != regime_key.rows() || rows > MAX_REGIMES {
        return Err(ParamsError::field(
            "blend.regime_weights",
            format!(
                "{rows} regime rows; regime_key {:?} needs {}",
                f.regime_key,
                regime_key.rows()
            ),
        ));
    }
    let model_count = f.regime_weights[0].len();
    if model_count == 0 || model_count > MAX_MODELS {
        return Err(ParamsError::field(
            "blend.regime_weights",
            format!("{model_count} model weights per row; expected 1..={MAX_MODELS}"),
        ));
    }
    let mut regime_weights = [[0.0; MAX_MODELS]; MAX_REGIMES];
    for (r, row) in f.regime_weights.iter().enumerate() {
        let path = format!("blend.regime_weights[{r}]");
        if row.len() != model_count {
            return Err(ParamsError::field(
                &path,
                format!("{} weights; row 0 has {model_count}", row.len()),
            ));
        }
        for (m, &w) in row.iter().enumerate() {
            regime_weights[r][m] = range(&format!("{path}[{m}]"), w, 0.0, 1e6, false, false)?;
        }
    }
    Ok(BlendParams {
        model_count,
        regime_key,
        regime_count: rows,
        regime_weights,
        min_confidence: range(
            "blend.min_confidence",
            f.min_confidence,
            0.0,
            1.0,
            false,
            true,
        )?,
    })
}

fn track_record(f: &TrackRecordFile) -> Result<TrackRecordParams, ParamsError> {
    let window = f.window as usize;
    if !(2..=MAX_TRACK_WINDOW).contains(&window) {
        return Err(ParamsError::field(
            "track_record.window",
            format!("{window} is out of range [2, {MAX_TRACK_WINDOW}]"),
        ));
    }
    if f.horizon_ms == 0 || f.horizon_ms > 86_400_000 {
        return Err(ParamsError::field(
            "track_record.horizon_ms",
            format!("{} is out of range [1, 86400000]", f.horizon_ms),
        ));
    }
    Ok(TrackRecordParams {
        window,
        horizon_ns: f.horizon_ms * 1_000_000,
        prior_strength: range(
            "track_record.prior_strength",
            f.prior_strength,
            0.0,
            1e9,
            true,
            false,
        )?,
        ic_weight: range(
            "track_record.ic_weight",
            f.ic_weight,
            0.0,
            1.0,
            false,
            false,
        )?,
    })
}

fn volatility(f: &VolatilityFile) -> Result<VolatilityParams, ParamsError> {
    Ok(VolatilityParams {
        ewma_lambda: range(
            "volatility.ewma_lambda",
            f.ewma_lambda,
            0.0,
            1.0,
            true,
            true,
        )?,
        variance_floor_bps2_per_s: range(
            "volatility.variance_floor_bps2_per_s",
            f.variance_floor_bps2_per_s,
            0.0,
            1e12,
            true,
            false,
        )?,
    })
}

fn kelly(f: &KellyFile) -> Result<KellyParams, ParamsError> {
    Ok(KellyParams {
        fraction: range("kelly.fraction", f.fraction, 0.0, 1.0, true, false)?,
        capital: money("kelly.capital", &f.capital, false)?,
    })
}

fn var(f: &VarFile) -> Result<VarParams, ParamsError> {
    Ok(VarParams {
        confidence: range("var.confidence", f.confidence, 0.5, 0.99999, true, false)?,
        var_budget: money("var.var_budget", &f.var_budget, false)?,
        es_budget: money("var.es_budget", &f.es_budget, false)?,
    })
}

fn risk_modes(f: &RiskModesFile) -> Result<RiskModeParams, ParamsError> {
    let initial = match f.initial.as_str() {
        "aggressive" => RiskMode::Aggressive,
        "normal" => RiskMode::Normal,
        "conservative" => RiskMode::Conservative,
        "defensive" => RiskMode::Defensive,
        other => {
            return Err(ParamsError::field(
                "risk_modes.initial",
                format!("{other:?}: expected aggressive, normal, conservative or defensive"),
            ));
        }
    };
    let t = &f.thresholds;
    let p = "risk_modes.thresholds.";
    let dd = |name: &str, v: f64| range(&format!("{p}{name}"), v, 0.0, 1.0, false, false);
    // Boundary k separates mode k and k + 1: escalate at up[k], relax below down[k].
    let up = [
        dd("aggressive_exit", t.aggressive_exit)?,
        dd("conservative_enter", t.conservative_enter)?,
        dd("defensive_enter", t.defensive_enter)?,
        dd("halt_enter", t.halt_enter)?,
    ];
    let down = [
        dd("aggressive_enter", t.aggressive_enter)?,
        dd("conservative_exit", t.conservative_exit)?,
        dd("defensive_exit", t.defensive_exit)?,
        dd("halt_exit", t.halt_exit)?,
    ];
    let up_names = [
        "aggressive_exit",
        "conservative_enter",
        "defensive_enter",
        "halt_enter",
    ];
    let down_names = [
        "aggressive_enter",
        "conservative_exit",
        "defensive_exit",
        "halt_exit",
    ];
    for k in 0..up.len() {
        if down[k] >= up[k] {
            return Err(ParamsError::field(
                &format!("{p}{}", down_names[k]),
                format!(
                    "{} must be below {} = {} (hysteresis)",
                    down[k], up_names[k], up[k]
                ),
            ));
        }
        if k > 0 && up[k] <= up[k - 1] {
            return Err(ParamsError::field(
                &format!("{p}{}", up_names[k]),
                format!(
                    "{} must be above {} = {}",
                    up[k],
                    up_names[k - 1],
                    up[k - 1]
                ),
            ));
        }
    }
    let s = &f.scale;
    let sc = |name: &str, v: f64| {
        range(
            &format!("risk_modes.scale.{name}"),
            v,
            0.0,
            10.0,
            false,
            false,
        )
    };
    let scale = [
        sc("aggressive", s.aggressive)?,
        sc("normal", s.normal)?,
        sc("conservative", s.conservative)?,
        sc("defensive", s.defensive)?,
        0.0,
    ];
    for k in 1..4 {
        if scale[k] > scale[k - 1] {
            return Err(ParamsError::field(
                &format!(
                    "risk_modes.scale.{}",
                    ["aggressive", "normal", "conservative", "defensive"][k]
                ),
                "a more severe mode cannot scale size up".to_owned(),
            ));
        }
    }
    Ok(RiskModeParams {
        initial,
        up,
        down,
        scale,
    })
}

fn limits(f: &LimitsFile) -> Result<LimitParams, ParamsError> {
    if f.order_burst == 0 || f.order_burst > 1_000_000 {
        return Err(ParamsError::field(
            "limits.order_burst",
            format!("{} is out of range [1, 1000000]", f.order_burst),
        ));
    }
    Ok(LimitParams {
        max_position: qty("limits.max_position", &f.max_position, false)?,
        max_notional: money("limits.max_notional", &f.max_notional, false)?,
        max_order_qty: qty("limits.max_order_qty", &f.max_order_qty, false)?,
        orders_per_second: range(
            "limits.orders_per_second",
            f.orders_per_second,
            0.0,
            1e6,
            true,
            false,
        )?,
        order_burst: f.order_burst,
        daily_loss: money("limits.daily_loss", &f.daily_loss, false)?,
    })
}

fn order(f: &OrderFile) -> Result<OrderParams, ParamsError> {
    let urgency = match f.urgency.as_str() {
        "passive" => Urgency::Passive,
        "normal" => Urgency::Normal,
        "aggressive" => Urgency::Aggressive,
        other => {
            return Err(ParamsError::field(
                "order.urgency",
                format!("{other:?}: expected passive, normal or aggressive"),
            ));
        }
    };
    if !f.cross_edge_bps.is_finite() || f.cross_edge_bps < 0.0 {
        return Err(ParamsError::field(
            "order.cross_edge_bps",
            format!("{}: expected a finite number >= 0", f.cross_edge_bps),
        ));
    }
    Ok(OrderParams {
        urgency,
        min_order_qty: qty("order.min_order_qty", &f.min_order_qty, false)?,
        cross_edge_bps: f.cross_edge_bps,
    })
}
