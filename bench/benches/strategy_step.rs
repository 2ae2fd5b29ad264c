//! Strategy step cost per book update on the LOBSTER AAPL sample: `SignalSet::update` alone and
//! followed by `AlphaSet::evaluate` (criterion, mean per pass over the 1,004 updates the feed
//! gives for it), then per-update percentiles of the same step timed one update at a time with
//! `Instant` (printed to stderr, with the timer's own overhead shown beside them).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use kestrel_core::{BookUpdate, InstrumentId, Qty, Timestamp};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet};
use kestrel_strategy::engine::{SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{FillMode, Harmonizer};
use kestrel_strategy::params::parse_params;
use kestrel_strategy::signals::{SignalConfig, SignalSet};

fn updates() -> Vec<BookUpdate> {
    kestrel_bench::lobster_sample::aapl_updates()
}

fn bench_step(c: &mut Criterion) {
    let ups = updates();
    let mut g = c.benchmark_group("strategy_step");
    g.throughput(Throughput::Elements(ups.len() as u64));
    g.bench_function("signals", |b| {
        let mut signals = SignalSet::new(1, &SignalConfig::default());
        b.iter(|| {
            for u in &ups {
                black_box(signals.update(black_box(u)));
            }
        })
    });
    g.bench_function("signals_and_alphas", |b| {
        let mut signals = SignalSet::new(1, &SignalConfig::default());
        let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
        b.iter(|| {
            for u in &ups {
                if let Some(v) = signals.update(black_box(u)) {
                    black_box(alphas.evaluate(u, &v));
                }
            }
        })
    });
    // The whole step: signals, alphas and the risk harmonizer (example parameters, simulated
    // fills), event times shifted each pass so they keep increasing. Per-update percentiles of
    // this and of the harmonizer alone are in `benches/harmonizer.rs`.
    g.bench_function("signals_alphas_harmonizer", |b| {
        let params = parse_params(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/strategy.toml"
        )))
        .expect("valid example");
        let source = SignalAlphaEdges::new(
            SignalSet::new(1, &SignalConfig::default()),
            AlphaSet::new(1, &AlphaConfig::default()),
        );
        let h = Harmonizer::new(params, &[Qty::ONE], FillMode::SimulatedImmediateFill)
            .expect("harmonizer");
        let mut engine = StrategyEngine::new(source, h).expect("engine");
        let first = ups.first().map_or(0, |u| u.exch_ts.nanos());
        let span = ups.last().map_or(0, |u| u.exch_ts.nanos()) - first + 1_000_000;
        let mut pass = 0;
        b.iter(|| {
            pass += 1;
            for u in &ups {
                let mut u = *u;
                u.exch_ts = Timestamp(u.exch_ts.nanos() + pass * span);
                u.recv_ts = u.exch_ts;
                black_box(engine.on_update(black_box(&u)));
            }
        })
    });
    g.finish();
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

/// Times each update of 200 passes over the sample separately and prints percentiles.
fn percentiles() {
    let ups = updates();
    let mut signals = SignalSet::new(1, &SignalConfig::default());
    let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
    let passes = 200;
    let mut step = Vec::with_capacity(ups.len() * passes);
    let mut empty = Vec::with_capacity(ups.len() * passes);
    for _ in 0..passes {
        for u in &ups {
            let t0 = Instant::now();
            if let Some(v) = signals.update(black_box(u)) {
                black_box(alphas.evaluate(u, &v));
            }
            step.push(t0.elapsed().as_nanos() as u64);
            let t0 = Instant::now();
            black_box(u);
            empty.push(t0.elapsed().as_nanos() as u64);
        }
    }
    step.sort_unstable();
    empty.sort_unstable();
    eprintln!(
        "strategy_step per update (SignalSet + AlphaSet, {} samples): p50 {} ns, p90 {} ns, p99 {} ns, p99.9 {} ns, max {} ns; timer overhead p50 {} ns, p99 {} ns",
        step.len(),
        percentile(&step, 0.5),
        percentile(&step, 0.9),
        percentile(&step, 0.99),
        percentile(&step, 0.999),
        step.last().copied().unwrap_or(0),
        percentile(&empty, 0.5),
        percentile(&empty, 0.99),
    );
}

/// The fastest of 100 passes over the sample, per update: a per-component cost that preemption
/// on a shared machine does not inflate.
fn min_pass_ns(ups: &[BookUpdate], mut step: impl FnMut(&BookUpdate)) -> f64 {
    let mut best = u128::MAX;
    for _ in 0..100 {
        let t0 = Instant::now();
        for u in ups {
            step(black_box(u));
        }
        best = best.min(t0.elapsed().as_nanos());
    }
    best as f64 / ups.len() as f64
}

/// Per-update cost of each signal and of the whole sets (fastest pass).
fn breakdown() {
    use kestrel_strategy::signals::Quote;
    let ups = updates();
    let c = SignalConfig::default();
    let set = SignalSet::new(1, &c);
    let Some(state) = set.instrument(InstrumentId(0)) else {
        return;
    };
    let mut parts = Vec::new();
    parts.push((
        "quote",
        min_pass_ns(&ups, |u| {
            black_box(Quote::of(&u.top));
        }),
    ));
    macro_rules! part {
        ($name:expr, $field:ident) => {{
            let mut s = state.$field.clone();
            parts.push((
                $name,
                min_pass_ns(&ups, |u| s.update_with(u, &Quote::of(&u.top))),
            ));
        }};
    }
    part!("top_imbalance", top_imbalance);
    part!("depth_imbalance", depth_imbalance);
    part!("microprice", microprice);
    part!("spread", spread);
    part!("ofi", ofi);
    part!("volatility", volatility);
    part!("kyle", kyle);
    part!("liquidity", liquidity);
    let mut tf = state.trade_flow.clone();
    parts.push((
        "trade_flow",
        min_pass_ns(&ups, |u| {
            tf.update(u);
            black_box(&tf);
        }),
    ));
    let mut vp = state.vpin.clone();
    parts.push((
        "vpin",
        min_pass_ns(&ups, |u| {
            vp.update(u);
            black_box(&vp);
        }),
    ));
    let mut signals = SignalSet::new(1, &c);
    parts.push((
        "SignalSet",
        min_pass_ns(&ups, |u| {
            black_box(signals.update(u));
        }),
    ));
    let mut signals = SignalSet::new(1, &c);
    let mut alphas = AlphaSet::new(1, &AlphaConfig::default());
    parts.push((
        "SignalSet+AlphaSet",
        min_pass_ns(&ups, |u| {
            if let Some(v) = signals.update(u) {
                black_box(alphas.evaluate(u, &v));
            }
        }),
    ));
    let line: Vec<String> = parts.iter().map(|(n, v)| format!("{n} {v:.1}")).collect();
    eprintln!("per-update ns (fastest of 100 passes): {}", line.join(", "));
}

criterion_group!(benches, bench_step);

fn main() {
    breakdown();
    percentiles();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
