//! Shared helpers for the harmonizer and parameter integration tests.
#![allow(dead_code)]

use kestrel_core::{BookTop, BookUpdate, InstrumentId, LevelView, Price, Qty, Timestamp};
use kestrel_strategy::edge::ModelEdge;
use kestrel_strategy::engine::EdgeSource;
use kestrel_strategy::params::{StrategyParams, parse_params};

/// The commented example parameter file.
pub const EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/strategy.toml"
));

/// The example parameters.
pub fn example_params() -> StrategyParams {
    parse_params(EXAMPLE).expect("the example file is valid")
}

/// Example parameters reshaped to `models` models with weight 1 in every regime.
pub fn params_with_models(models: usize) -> StrategyParams {
    let mut p = example_params();
    p.blend.model_count = models;
    for row in p.blend.regime_weights.iter_mut() {
        for (m, w) in row.iter_mut().enumerate() {
            *w = if m < models { 1.0 } else { 0.0 };
        }
    }
    p
}

/// Price from integer cents.
pub fn cents(c: i64) -> Price {
    Price::from_scaled(c, 2).expect("in range")
}

/// A trading update with a one-level book `bid`/`ask` (cents) at `ts_ns`.
pub fn update(instrument: u32, seq: u64, ts_ns: u64, bid_cents: i64, ask_cents: i64) -> BookUpdate {
    let mut top = BookTop::default();
    top.bids[0] = LevelView {
        price: cents(bid_cents),
        qty: Qty::from_units(100).expect("in range"),
    };
    top.asks[0] = LevelView {
        price: cents(ask_cents),
        qty: Qty::from_units(100).expect("in range"),
    };
    top.bid_levels = 1;
    top.ask_levels = 1;
    BookUpdate {
        instrument: InstrumentId(instrument),
        seq,
        exch_ts: Timestamp(ts_ns),
        recv_ts: Timestamp(ts_ns),
        top,
        trading: true,
        ..BookUpdate::default()
    }
}

/// An edge source that replays a script of per-update edges (cycling) with regime 0.
#[derive(Debug, Clone)]
pub struct ScriptedEdges {
    pub models: usize,
    pub script: Vec<[ModelEdge; 8]>,
    pub next: usize,
}

impl ScriptedEdges {
    pub fn new(models: usize, script: Vec<[ModelEdge; 8]>) -> Self {
        Self {
            models,
            script,
            next: 0,
        }
    }
}

impl EdgeSource for ScriptedEdges {
    fn model_count(&self) -> usize {
        self.models
    }

    fn edges(&mut self, _update: &BookUpdate, edges: &mut [ModelEdge]) -> usize {
        if self.script.is_empty() {
            return 0;
        }
        let row = &self.script[self.next % self.script.len()];
        self.next += 1;
        for (e, s) in edges.iter_mut().zip(row.iter()) {
            *e = *s;
        }
        0
    }
}

/// A deterministic pseudo-random walk of updates over `instruments` instruments, 1 ms apart,
/// with mids around 100.00 (xorshift; no external randomness).
pub fn random_walk(instruments: u32, n: usize, seed: u64) -> Vec<BookUpdate> {
    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut mids: Vec<i64> = vec![10_000; instruments as usize];
    (0..n)
        .map(|k| {
            let r = next();
            let i = (r % u64::from(instruments)) as usize;
            let step = ((r >> 8) % 5) as i64 - 2;
            mids[i] = (mids[i] + step).clamp(9_000, 11_000);
            update(
                i as u32,
                k as u64 + 1,
                (k as u64 + 1) * 1_000_000,
                mids[i] - 1,
                mids[i] + 1,
            )
        })
        .collect()
}
