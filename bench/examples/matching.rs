//! Matching engine throughput and per-operation latency on one instrument, beside a naive
//! baseline (BTreeMap of VecDeque levels, HashMap of orders) fed the same operations in the
//! same run. The published anchor is exchange-core's: 5 M operations/s on one order book, p50
//! about 0.5 us at 1 M ops/s on old Xeons.
//!
//! ```text
//! cargo run --release -p kestrel-bench --example matching -- [ops] [warmup]
//! ```
//!
//! Flow (seeded, identical for both books): 45% passive day limit orders within 20 ticks of
//! the mid, 10% IOC orders crossing up to 3 ticks, 30% cancels and 15% replaces (a price move,
//! losing priority) of a random live order; 1,000 participants of distinct firms, the mid
//! drifting by a tick now and then.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hint::black_box;

use hdrhistogram::Histogram;
use kestrel_core::{InstrumentId, Price, Qty, Side, Timestamp};
use kestrel_sim::matching::{
    CancelReason, EngineConfig, MatchingEngine, NewOrder, NoSink, OrderHandle, Owner,
    ReplaceOutcome, SmpPolicy, TimeInForce,
};

#[derive(Clone, Copy, Debug)]
enum Op {
    Limit {
        side: Side,
        tick: i64,
        qty: i64,
        owner: u32,
    },
    Ioc {
        side: Side,
        tick: i64,
        qty: i64,
        owner: u32,
    },
    Cancel {
        pick: usize,
    },
    Replace {
        pick: usize,
        tick: i64,
    },
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn flow(n: usize, seed: u64) -> Vec<Op> {
    let mut r = Rng(seed);
    let mut mid: i64 = 10_000;
    (0..n)
        .map(|_| {
            if r.below(100) == 0 {
                mid += if r.below(2) == 0 { 1 } else { -1 };
            }
            let side = if r.below(2) == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let owner = r.below(1000) as u32 + 1;
            let qty = 1 + r.below(500) as i64;
            match r.below(100) {
                0..45 => {
                    let off = 1 + r.below(20) as i64;
                    let tick = if side == Side::Buy {
                        mid - off
                    } else {
                        mid + off
                    };
                    Op::Limit {
                        side,
                        tick,
                        qty,
                        owner,
                    }
                }
                45..55 => {
                    let off = r.below(4) as i64;
                    let tick = if side == Side::Buy {
                        mid + off
                    } else {
                        mid - off
                    };
                    Op::Ioc {
                        side,
                        tick,
                        qty,
                        owner,
                    }
                }
                55..85 => Op::Cancel {
                    pick: r.next() as usize,
                },
                _ => Op::Replace {
                    pick: r.next() as usize,
                    tick: mid + r.below(41) as i64 - 20,
                },
            }
        })
        .collect()
}

fn px(tick: i64) -> Price {
    Price::from_raw(tick * 1_000_000)
}

/// Which op kind, for the per-operation histograms.
fn kind(op: &Op) -> usize {
    match op {
        Op::Limit { .. } => 0,
        Op::Ioc { .. } => 1,
        Op::Cancel { .. } => 2,
        Op::Replace { .. } => 3,
    }
}
const KINDS: [&str; 4] = ["limit", "ioc", "cancel", "replace"];

/// Runs the flow on the engine; returns (ns total, per-kind histograms).
fn run_engine(ops: &[Op], timed: bool) -> (u64, Vec<Histogram<u64>>) {
    let mut e = MatchingEngine::new(EngineConfig {
        instruments: 1,
        order_capacity: 1 << 20,
        levels_per_side: 4096,
        smp: SmpPolicy::CancelNewest,
    });
    let mut live: Vec<OrderHandle> = Vec::with_capacity(1 << 20);
    let mut hists: Vec<Histogram<u64>> = (0..4)
        .map(|_| Histogram::new_with_bounds(1, 10_000_000, 3).unwrap())
        .collect();
    let clock = quanta::Clock::new();
    let start = clock.raw();
    let mut sink = NoSink;
    for (i, op) in ops.iter().enumerate() {
        let t0 = if timed { clock.raw() } else { 0 };
        let ts = Timestamp(i as u64);
        match *op {
            Op::Limit {
                side,
                tick,
                qty,
                owner,
            }
            | Op::Ioc {
                side,
                tick,
                qty,
                owner,
            } => {
                let tif = if matches!(op, Op::Ioc { .. }) {
                    TimeInForce::Ioc
                } else {
                    TimeInForce::Day
                };
                let o = NewOrder {
                    instrument: InstrumentId(0),
                    side,
                    price: px(tick),
                    qty: Qty::from_raw(qty * 100_000_000),
                    tif,
                    owner: Owner::Participant {
                        id: owner,
                        firm: owner,
                    },
                    tag: i as u64,
                };
                if let Some(h) = e.enter(&o, ts, &mut sink) {
                    live.push(h);
                }
            }
            Op::Cancel { pick } => {
                if !live.is_empty() {
                    let h = live.swap_remove(pick % live.len());
                    e.cancel(h, Qty::ZERO, CancelReason::User, ts, &mut sink);
                }
            }
            Op::Replace { pick, tick } => {
                if !live.is_empty() {
                    let j = pick % live.len();
                    let (p, q) = e.order(live[j]).unwrap_or((px(tick), Qty::ZERO));
                    let _ = p;
                    match e.replace(live[j], i as u64, px(tick), q.max(Qty::ONE), ts, &mut sink) {
                        ReplaceOutcome::Replaced(Some(h)) => live[j] = h,
                        _ => {
                            live.swap_remove(j);
                        }
                    }
                }
            }
        }
        if timed {
            let dt = clock.delta_as_nanos(t0, clock.raw());
            let _ = hists[kind(op)].record(dt.max(1));
        }
    }
    black_box(e.stats());
    (clock.delta_as_nanos(start, clock.raw()), hists)
}

/// The naive baseline: the same semantics without self-match prevention or events.
#[derive(Default)]
struct Naive {
    bids: BTreeMap<i64, VecDeque<(u64, i64)>>,
    asks: BTreeMap<i64, VecDeque<(u64, i64)>>,
    orders: HashMap<u64, (Side, i64)>,
    next: u64,
}

impl Naive {
    fn enter(&mut self, side: Side, tick: i64, mut qty: i64, ioc: bool) -> Option<u64> {
        loop {
            if qty == 0 {
                return None;
            }
            let best = match side {
                Side::Buy => self
                    .asks
                    .first_key_value()
                    .map(|(p, _)| *p)
                    .filter(|p| *p <= tick),
                Side::Sell => self
                    .bids
                    .last_key_value()
                    .map(|(p, _)| *p)
                    .filter(|p| *p >= tick),
            };
            let Some(p) = best else { break };
            let book = if side == Side::Buy {
                &mut self.asks
            } else {
                &mut self.bids
            };
            let level = book.get_mut(&p).unwrap();
            while qty > 0 {
                let Some(front) = level.front_mut() else {
                    break;
                };
                let take = qty.min(front.1);
                front.1 -= take;
                qty -= take;
                if front.1 == 0 {
                    let id = front.0;
                    level.pop_front();
                    self.orders.remove(&id);
                }
            }
            if level.is_empty() {
                book.remove(&p);
            }
        }
        if ioc {
            return None;
        }
        self.next += 1;
        let id = self.next;
        let book = if side == Side::Buy {
            &mut self.bids
        } else {
            &mut self.asks
        };
        book.entry(tick).or_default().push_back((id, qty));
        self.orders.insert(id, (side, tick));
        Some(id)
    }

    fn cancel(&mut self, id: u64) -> Option<(Side, i64, i64)> {
        let (side, tick) = self.orders.remove(&id)?;
        let book = if side == Side::Buy {
            &mut self.bids
        } else {
            &mut self.asks
        };
        let level = book.get_mut(&tick)?;
        let pos = level.iter().position(|o| o.0 == id)?;
        let (_, q) = level.remove(pos)?;
        if level.is_empty() {
            book.remove(&tick);
        }
        Some((side, tick, q))
    }
}

fn run_naive(ops: &[Op]) -> u64 {
    let mut b = Naive::default();
    let mut live: Vec<u64> = Vec::new();
    let clock = quanta::Clock::new();
    let start = clock.raw();
    for op in ops {
        match *op {
            Op::Limit {
                side, tick, qty, ..
            } => {
                if let Some(id) = b.enter(side, tick, qty, false) {
                    live.push(id);
                }
            }
            Op::Ioc {
                side, tick, qty, ..
            } => {
                b.enter(side, tick, qty, true);
            }
            Op::Cancel { pick } => {
                if !live.is_empty() {
                    let id = live.swap_remove(pick % live.len());
                    b.cancel(id);
                }
            }
            Op::Replace { pick, tick } => {
                if !live.is_empty() {
                    let j = pick % live.len();
                    match b.cancel(live[j]) {
                        Some((side, _, q)) => match b.enter(side, tick, q.max(1), false) {
                            Some(id) => live[j] = id,
                            None => {
                                live.swap_remove(j);
                            }
                        },
                        None => {
                            live.swap_remove(j);
                        }
                    }
                }
            }
        }
    }
    black_box(b.orders.len());
    clock.delta_as_nanos(start, clock.raw())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000_000);
    let warm: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let ops = flow(warm + n, 42);
    // Warm-up runs (page in, train the branch predictors), then the measured ones.
    run_engine(&ops[..warm], false);
    let (ns, _) = run_engine(&ops, false);
    let (_, hists) = run_engine(&ops, true);
    let naive_ns = run_naive(&ops);
    let total = ops.len() as f64;
    println!("ops={} (warm-up {warm} included in the flow)", ops.len());
    println!(
        "kestrel-sim matching: {:.2} M ops/s ({:.1} ns/op)",
        total / ns as f64 * 1e3,
        ns as f64 / total
    );
    println!(
        "naive BTreeMap book:  {:.2} M ops/s ({:.1} ns/op)  ratio {:.2}x",
        total / naive_ns as f64 * 1e3,
        naive_ns as f64 / total,
        naive_ns as f64 / ns as f64
    );
    println!("per-operation latency, timed run (includes ~20 ns of clock reads), ns:");
    println!(
        "{:<8} {:>10} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "op", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    for (name, h) in KINDS.iter().zip(&hists) {
        println!(
            "{name:<8} {:>10} {:>7} {:>7} {:>7} {:>8} {:>8}",
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    }
}
