//! Parameter files: the example loads with the values it states; missing, unknown, mistyped and
//! out-of-range fields are rejected with the field's path.

mod harmonizer_support;

use harmonizer_support::EXAMPLE;
use kestrel_core::{Qty, Urgency};
use kestrel_strategy::harmonizer::risk_mode::RiskMode;
use kestrel_strategy::params::{ParamsError, RegimeKey, parse_params};

/// The example with the first line matching `key =` inside `[section]` replaced by `line`
/// (or removed when `line` is empty).
fn edit(section: &str, key: &str, line: &str) -> String {
    let mut out = Vec::new();
    let mut in_section = false;
    let mut done = false;
    for l in EXAMPLE.lines() {
        let t = l.trim();
        if t.starts_with('[') && !t.contains(',') {
            in_section = t == format!("[{section}]");
        }
        let is_key = t.starts_with(&format!("{key} ")) || t.starts_with(&format!("{key}="));
        if in_section && !done && is_key {
            done = true;
            if !line.is_empty() {
                out.push(line.to_owned());
            }
            continue;
        }
        out.push(l.to_owned());
    }
    assert!(done, "{section}.{key} not in the example");
    out.join("\n")
}

fn rejected_path(text: &str) -> String {
    match parse_params(text) {
        Err(ParamsError::Field { path, reason, .. }) => {
            assert!(!reason.is_empty());
            path
        }
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn example_loads_with_its_values() {
    let p = parse_params(EXAMPLE).unwrap();
    assert_eq!(p.blend.model_count, 6);
    assert_eq!(p.blend.regime_count, 3);
    assert_eq!(p.blend.regime_key, RegimeKey::Volatility);
    // Regime code 3 * volatility + trend: 0 = low volatility, 7 = high volatility, flat.
    assert_eq!(p.blend.weights(0)[2], 1.5);
    assert_eq!(p.blend.weights(7)[1], 1.5);
    assert_eq!(
        p.blend.weights(4),
        &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(p.track_record.window, 256);
    assert_eq!(p.track_record.horizon_ns, 500_000_000);
    assert_eq!(p.kelly.capital.raw(), 1_000_000 * 100_000_000);
    assert_eq!(p.var.var_budget.raw(), 2_500 * 100_000_000);
    assert_eq!(p.risk_modes.initial, RiskMode::Normal);
    assert_eq!(p.risk_modes.up, [0.002, 0.01, 0.02, 0.03]);
    assert_eq!(p.risk_modes.down, [0.0, 0.005, 0.015, 0.0]);
    assert_eq!(p.risk_modes.scale, [1.25, 1.0, 0.5, 0.25, 0.0]);
    assert_eq!(p.limits.max_position, Qty::from_units(500).unwrap());
    assert_eq!(p.limits.order_burst, 10);
    assert_eq!(p.order.urgency, Urgency::Aggressive);
    assert!(p.expect_models(6).is_ok());
    assert_eq!(
        p.expect_models(4).unwrap_err().field_path(),
        Some("blend.regime_weights")
    );
}

#[test]
fn missing_fields_are_named() {
    assert_eq!(
        rejected_path(&edit("limits", "max_position", "")),
        "limits.max_position"
    );
    assert_eq!(
        rejected_path(&edit("kelly", "fraction", "")),
        "kelly.fraction"
    );
    // After a multi-line array whose rows look like `[...]`.
    assert_eq!(
        rejected_path(&edit("blend", "min_confidence", "")),
        "blend.min_confidence"
    );
    assert_eq!(
        rejected_path(&edit("risk_modes.thresholds", "halt_enter", "")),
        "risk_modes.thresholds.halt_enter"
    );
    // A whole section.
    let no_var: String = EXAMPLE
        .replace("[var]", "[var_removed]")
        .lines()
        .filter(|l| {
            !l.starts_with("confidence")
                && !l.starts_with("var_budget")
                && !l.starts_with("es_budget")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("[var_removed]", "");
    assert_eq!(rejected_path(&no_var), "var");
}

#[test]
fn unknown_fields_are_named() {
    assert_eq!(
        rejected_path(&edit("kelly", "fraction", "fraction = 0.1\nleverage = 3.0")),
        "kelly.leverage"
    );
    assert_eq!(
        rejected_path(&format!("{EXAMPLE}\n[extra]\nx = 1\n")),
        "extra"
    );
    assert_eq!(
        rejected_path(&edit(
            "risk_modes.scale",
            "normal",
            "normal = 1.0\nturbo = 2.0"
        )),
        "risk_modes.scale.turbo"
    );
}

#[test]
fn mistyped_fields_are_named() {
    assert_eq!(
        rejected_path(&edit("track_record", "window", "window = \"many\"")),
        "track_record.window"
    );
    assert_eq!(
        rejected_path(&edit(
            "blend",
            "min_confidence",
            "min_confidence = \"high\""
        )),
        "blend.min_confidence"
    );
    assert_eq!(
        rejected_path(&edit("kelly", "capital", "capital = \"lots\"")),
        "kelly.capital"
    );
    assert_eq!(
        rejected_path(&edit(
            "limits",
            "max_position",
            "max_position = \"0.000000001\""
        )),
        "limits.max_position"
    );
}

#[test]
fn out_of_range_fields_are_named() {
    let cases = [
        ("kelly", "fraction", "fraction = 1.5", "kelly.fraction"),
        ("kelly", "fraction", "fraction = 0.0", "kelly.fraction"),
        ("kelly", "capital", "capital = \"-5\"", "kelly.capital"),
        ("var", "confidence", "confidence = 1.0", "var.confidence"),
        (
            "volatility",
            "ewma_lambda",
            "ewma_lambda = 1.0",
            "volatility.ewma_lambda",
        ),
        (
            "track_record",
            "window",
            "window = 1",
            "track_record.window",
        ),
        (
            "track_record",
            "window",
            "window = 5000",
            "track_record.window",
        ),
        (
            "track_record",
            "horizon_ms",
            "horizon_ms = 0",
            "track_record.horizon_ms",
        ),
        (
            "track_record",
            "ic_weight",
            "ic_weight = -0.1",
            "track_record.ic_weight",
        ),
        (
            "blend",
            "min_confidence",
            "min_confidence = nan",
            "blend.min_confidence",
        ),
        (
            "limits",
            "order_burst",
            "order_burst = 0",
            "limits.order_burst",
        ),
        (
            "limits",
            "orders_per_second",
            "orders_per_second = inf",
            "limits.orders_per_second",
        ),
        (
            "limits",
            "max_notional",
            "max_notional = \"0\"",
            "limits.max_notional",
        ),
        ("order", "urgency", "urgency = \"yolo\"", "order.urgency"),
        (
            "risk_modes",
            "initial",
            "initial = \"halt\"",
            "risk_modes.initial",
        ),
        (
            "risk_modes.thresholds",
            "conservative_exit",
            "conservative_exit = 0.01",
            "risk_modes.thresholds.conservative_exit",
        ),
        (
            "risk_modes.thresholds",
            "conservative_enter",
            "conservative_enter = 0.025",
            "risk_modes.thresholds.defensive_enter",
        ),
        (
            "risk_modes.scale",
            "defensive",
            "defensive = 2.0",
            "risk_modes.scale.defensive",
        ),
    ];
    for (section, key, line, path) in cases {
        assert_eq!(rejected_path(&edit(section, key, line)), path, "{line}");
    }
}

#[test]
fn blend_shape_is_checked() {
    const HIGH: &str = "[0.5, 1.5, 0.5, 1.0, 0.5, 1.0]";
    let ragged = EXAMPLE.replace(HIGH, "[0.5, 1.5, 0.5]");
    assert_eq!(rejected_path(&ragged), "blend.regime_weights[2]");
    let negative = EXAMPLE.replace(HIGH, "[0.5, -1.5, 0.5, 1.0, 0.5, 1.0]");
    assert_eq!(rejected_path(&negative), "blend.regime_weights[2][1]");
    let wrong_rows = EXAMPLE.replace("regime_key = \"volatility\"", "regime_key = \"single\"");
    assert_eq!(rejected_path(&wrong_rows), "blend.regime_weights");
    let bad_key = EXAMPLE.replace("regime_key = \"volatility\"", "regime_key = \"moon\"");
    assert_eq!(rejected_path(&bad_key), "blend.regime_key");
    let too_wide = EXAMPLE.replace(
        "regime_weights = [",
        "regime_weights = [\n  [1, 1, 1, 1, 1, 1, 1, 1, 1],",
    );
    assert_eq!(rejected_path(&too_wide), "blend.regime_weights");
}

#[test]
fn syntax_errors_give_a_line() {
    match parse_params("[blend\nx = 1") {
        Err(ParamsError::Syntax { line, .. } | ParamsError::Field { line, .. }) => {
            assert!(line >= 1)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn universe_section_is_validated_and_returned() {
    use kestrel_strategy::params::{UniverseSpec, parse_strategy_file};
    assert_eq!(parse_strategy_file(EXAMPLE).unwrap().universe, None);
    let with = |list: &str| format!("{EXAMPLE}\n[universe]\nsymbols = [{list}]\n");
    let f = parse_strategy_file(&with("\"MSFT\", \"AAPL\"")).unwrap();
    assert_eq!(
        f.universe,
        Some(UniverseSpec::Symbols(vec!["MSFT".into(), "AAPL".into()]))
    );
    assert_eq!(f.params, parse_params(EXAMPLE).unwrap());
    assert_eq!(
        parse_strategy_file(&with("\"*\"")).unwrap().universe,
        Some(UniverseSpec::All)
    );
    for bad in ["", "\"AAPL\", \"AAPL\"", "\"BRK B\"", "\"*\", \"AAPL\""] {
        assert_eq!(rejected_path(&with(bad)), "universe.symbols", "{bad}");
    }
    let unknown = format!("{EXAMPLE}\n[universe]\nsymbols = [\"A\"]\nsize = 3\n");
    assert_eq!(rejected_path(&unknown), "universe.size");
    let mistyped = format!("{EXAMPLE}\n[universe]\nsymbols = \"AAPL\"\n");
    assert_eq!(rejected_path(&mistyped), "universe.symbols");
}
