//! Harmonizer and whole-strategy-step cost per book update on the LOBSTER AAPL sample.
//!
//! - `harmonizer`: `Harmonizer::decide` alone, on edges and regimes precomputed by the real
//!   signal and alpha sets;
//! - `strategy_step`: `StrategyEngine::on_update` (SignalSet -> AlphaSet -> Harmonizer), with
//!   the parameter-handoff check.
//!
//! Both run with the example parameters (`examples/strategy.toml`) and simulated immediate fills,
//! so positions, P&L and risk modes evolve. The sample (1,004 updates through the feed, a few
//! seconds) is replayed in passes with event times shifted to keep increasing. Per-update
//! percentiles come from timing each call with `Instant` (printed to stderr with the timer's own
//! overhead); criterion gives the mean per pass.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use kestrel_core::{BookUpdate, Qty, Timestamp};
use kestrel_strategy::alpha::{AlphaConfig, AlphaSet, MODEL_COUNT};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::engine::{EdgeSource, SignalAlphaEdges, StrategyEngine};
use kestrel_strategy::harmonizer::{FillMode, Harmonizer};
use kestrel_strategy::params::{StrategyParams, params_handoff, parse_params};
use kestrel_strategy::signals::{SignalConfig, SignalSet};

const PASSES: u64 = 200;

fn updates() -> Vec<BookUpdate> {
    kestrel_bench::lobster_sample::aapl_updates()
}

fn params() -> StrategyParams {
    parse_params(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/strategy.toml"
    )))
    .expect("valid example")
}

fn source() -> SignalAlphaEdges {
    SignalAlphaEdges::new(
        SignalSet::new(1, &SignalConfig::default()),
        AlphaSet::new(1, &AlphaConfig::default()),
    )
}

fn harmonizer() -> Harmonizer {
    Harmonizer::new(params(), &[Qty::ONE], FillMode::SimulatedImmediateFill).expect("harmonizer")
}

fn engine() -> StrategyEngine<SignalAlphaEdges> {
    let (_publisher, receiver) = params_handoff(0);
    StrategyEngine::new(source(), harmonizer())
        .expect("engine")
        .with_params(receiver)
}

/// Update `u` of pass `pass`, with times shifted by whole sample spans.
#[inline]
fn shifted(u: &BookUpdate, pass: u64, span: u64, seq: u64) -> BookUpdate {
    let mut v = *u;
    v.exch_ts = Timestamp(u.exch_ts.nanos() + pass * span);
    v.recv_ts = v.exch_ts;
    v.seq = seq;
    v
}

fn span(ups: &[BookUpdate]) -> u64 {
    ups.last().map_or(0, |l| l.exch_ts.nanos()) - ups.first().map_or(0, |f| f.exch_ts.nanos())
        + 1_000_000
}

/// Edges and regimes from the real signal and alpha sets, for the harmonizer alone.
fn precomputed(ups: &[BookUpdate]) -> Vec<([ModelEdge; MODEL_COUNT], usize)> {
    let mut s = source();
    ups.iter()
        .map(|u| {
            let mut e = [ModelEdge::NONE; MODEL_COUNT];
            let r = s.edges(u, &mut e);
            (e, r)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ups = updates();
    let sp = span(&ups);
    let edges = precomputed(&ups);
    let mut g = c.benchmark_group("strategy");
    g.throughput(Throughput::Elements(ups.len() as u64));
    g.bench_function("harmonizer", |b| {
        let mut h = harmonizer();
        let mut pass = 0;
        b.iter(|| {
            pass += 1;
            for (k, (u, (e, r))) in ups.iter().zip(&edges).enumerate() {
                let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
                black_box(h.decide(black_box(&u), e, *r));
            }
        })
    });
    g.bench_function("strategy_step", |b| {
        let mut e = engine();
        let mut pass = 0;
        b.iter(|| {
            pass += 1;
            for (k, u) in ups.iter().enumerate() {
                let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
                black_box(e.on_update(black_box(&u)));
            }
        })
    });
    g.finish();
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

fn report(name: &str, mut samples: Vec<u64>, mut empty: Vec<u64>, extra: &str) {
    samples.sort_unstable();
    empty.sort_unstable();
    eprintln!(
        "{name} per update ({} samples{extra}): p50 {} ns, p90 {} ns, p99 {} ns, p99.9 {} ns, max {} ns; timer overhead p50 {} ns, p99 {} ns",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
        samples.last().copied().unwrap_or(0),
        percentile(&empty, 0.5),
        percentile(&empty, 0.99),
    );
}

/// Times each update of `PASSES` passes separately and prints percentiles.
fn percentiles() {
    let ups = updates();
    let sp = span(&ups);
    let edges = precomputed(&ups);
    let n = ups.len() * PASSES as usize;

    let mut h = harmonizer();
    let (mut step, mut empty) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for pass in 0..PASSES {
        for (k, (u, (e, r))) in ups.iter().zip(&edges).enumerate() {
            let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
            let t0 = Instant::now();
            black_box(h.decide(black_box(&u), e, *r));
            step.push(t0.elapsed().as_nanos() as u64);
            let t0 = Instant::now();
            black_box(&u);
            empty.push(t0.elapsed().as_nanos() as u64);
        }
    }
    let s = h.stats();
    report(
        "harmonizer (decide)",
        step,
        empty,
        &format!(", {} intents", s.intents),
    );

    let mut e = engine();
    let (mut step, mut empty) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for pass in 0..PASSES {
        for (k, u) in ups.iter().enumerate() {
            let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
            let t0 = Instant::now();
            black_box(e.on_update(black_box(&u)));
            step.push(t0.elapsed().as_nanos() as u64);
            let t0 = Instant::now();
            black_box(&u);
            empty.push(t0.elapsed().as_nanos() as u64);
        }
    }
    let s = e.stats();
    report(
        "strategy_step (signals + alphas + harmonizer)",
        step,
        empty,
        &format!(", {} intents", s.intents),
    );
}

/// One whole strategy step, kept out of line so that a profiler can collect exactly this
/// (`valgrind --tool=callgrind --toggle-collect='*harmonizer::step_once*'`).
#[inline(never)]
fn step_once(e: &mut StrategyEngine<SignalAlphaEdges>, u: &BookUpdate) {
    black_box(e.on_update(black_box(u)));
}

/// Profiling mode (`KESTREL_STEP_PASSES=n`): `n` passes of the whole step over the sample, no
/// timing, no criterion; the instruction count per update is the collected total over the
/// number of [`step_once`] calls (`n` times the sample's updates).
fn profile_passes(passes: u64) {
    let ups = updates();
    let sp = span(&ups);
    let mut e = engine();
    for pass in 0..passes {
        for (k, u) in ups.iter().enumerate() {
            let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
            step_once(&mut e, &u);
        }
    }
    eprintln!(
        "{} updates, {} intents",
        e.stats().updates,
        e.stats().intents
    );
}

/// The fastest of `passes` passes over the sample, per update, for the harmonizer alone and
/// the whole step: the CPU cost with the least preemption (printed to stderr).
fn fastest_passes(passes: u64) {
    let ups = updates();
    let sp = span(&ups);
    let edges = precomputed(&ups);
    let per_update = |ns: u128| ns as f64 / ups.len() as f64;
    let mut h = harmonizer();
    let mut best = u128::MAX;
    for pass in 0..passes {
        let t0 = Instant::now();
        for (k, (u, (e, r))) in ups.iter().zip(&edges).enumerate() {
            let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
            black_box(h.decide(black_box(&u), e, *r));
        }
        best = best.min(t0.elapsed().as_nanos());
    }
    let decide = per_update(best);
    let mut e = engine();
    let mut best = u128::MAX;
    for pass in 0..passes {
        let t0 = Instant::now();
        for (k, u) in ups.iter().enumerate() {
            let u = shifted(u, pass, sp, pass * 1_000 + k as u64);
            black_box(e.on_update(black_box(&u)));
        }
        best = best.min(t0.elapsed().as_nanos());
    }
    eprintln!(
        "fastest of {passes} passes, per update: harmonizer (decide) {decide:.1} ns, strategy_step (signals + alphas + harmonizer) {:.1} ns",
        per_update(best)
    );
}

criterion_group!(benches, bench);

fn main() {
    if let Some(n) = std::env::var("KESTREL_STEP_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        profile_passes(n);
        return;
    }
    fastest_passes(100);
    if std::env::var_os("KESTREL_FASTEST_ONLY").is_some() {
        return;
    }
    percentiles();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
