//! Deterministic ITCH-like order-lifecycle streams for benchmarks and tests.
//!
//! [`generate`] turns a [`FlowSpec`] into a valid `Vec<MarketEvent>`: every execute, cancel,
//! delete and replace names a live order with at most its remaining quantity, every add and
//! replace uses a fresh id, and no book ever crosses. The message mix follows a NASDAQ
//! TotalView-ITCH day: adds 48%, deletes 45%, executions 4%, off-book trades (`P`) 2%, partial
//! cancels 0.5%, replaces 0.5%. Adds turn into deletes at the live-order bound and order events
//! turn into adds when nothing is live.
//!
//! The same seed always gives the same stream (a SplitMix64 generator lives in this file), so
//! benchmark inputs, encoders built on top (an ITCH encoder can turn these events into wire
//! bytes) and regression figures are reproducible.
//!
//! Order-id layouts: a stream is `copies` repetitions of one base lifecycle (each copy drains
//! its live orders at its end), the copies differing only in their ids. [`IdLayout::Dense`]
//! numbers them 1, 2, 3, ... across copies; [`IdLayout::Sparse`] offsets copy `k` by
//! `k * offset`, so the dense and sparse streams differ in nothing but the id values.

use kestrel_core::book::BookConfig;
use kestrel_core::{
    BookEventKind, InstrumentId, MarketEvent, OrderId, Price, Qty, Side, Timestamp,
};

/// How order ids are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdLayout {
    /// 1, 2, 3, ... across the whole stream (ITCH order reference numbers).
    Dense,
    /// Copy `k` of the base stream has its ids offset by `k * offset`.
    Sparse {
        /// Distance between copies' id ranges (e.g. `100_000_000`).
        offset: u64,
    },
}

/// What stream to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowSpec {
    /// Generator seed.
    pub seed: u64,
    /// Instruments (dense ids `0..instruments`); orders spread uniformly over them.
    pub instruments: u32,
    /// Upper bound on live orders across all instruments.
    pub live_orders: usize,
    /// Order-id layout.
    pub layout: IdLayout,
    /// Events in the measured part of the stream (approximately: rounded to whole copies).
    pub events: usize,
    /// Repetitions of the base lifecycle (at least 1).
    pub copies: u32,
    /// Fill the books to `live_orders` with adds first (the warm-up part of a [`Flow`]).
    pub prefill: bool,
}

/// Id offset between copies in the sparse presets.
pub const SPARSE_OFFSET: u64 = 100_000_000;

impl FlowSpec {
    /// ITCH-like stream with dense refs: 8 instruments, at most 400 live orders, 8 copies.
    pub fn dense(events: usize) -> Self {
        Self {
            seed: 0x4B45_5354_5245_4C31,
            instruments: 8,
            live_orders: 400,
            layout: IdLayout::Dense,
            events,
            copies: 8,
            prefill: false,
        }
    }

    /// The [`FlowSpec::dense`] stream with copies offset by [`SPARSE_OFFSET`].
    pub fn sparse(events: usize) -> Self {
        Self {
            layout: IdLayout::Sparse {
                offset: SPARSE_OFFSET,
            },
            ..Self::dense(events)
        }
    }

    /// Large working set: 4096 instruments and about a million live orders (filled by the
    /// warm-up), then `events` events of the usual mix.
    pub fn large(events: usize) -> Self {
        Self {
            seed: 0x4B45_5354_5245_4C32,
            instruments: 4096,
            live_orders: 1_000_000,
            layout: IdLayout::Dense,
            events,
            copies: 1,
            prefill: true,
        }
    }

    /// A book configuration that holds this stream without growing.
    pub fn book_config(&self) -> BookConfig {
        BookConfig {
            instruments: self.instruments as usize,
            order_capacity: self.live_orders + self.live_orders / 4 + 16,
            levels_per_side: 64,
        }
    }
}

/// A generated stream split into its warm-up (prefill adds; empty unless
/// [`FlowSpec::prefill`]) and the measured part that follows it.
#[derive(Clone, Debug, Default)]
pub struct Flow {
    /// Events that bring empty books to the working set.
    pub warmup: Vec<MarketEvent>,
    /// The mix, valid after `warmup`.
    pub measured: Vec<MarketEvent>,
}

/// The whole stream (warm-up then measured part), valid from empty books.
pub fn generate(spec: &FlowSpec) -> Vec<MarketEvent> {
    let flow = generate_flow(spec);
    let mut all = flow.warmup;
    all.extend(flow.measured);
    all
}

/// The stream split into warm-up and measured parts.
pub fn generate_flow(spec: &FlowSpec) -> Flow {
    let copies = spec.copies.max(1);
    let per_copy = spec.events / copies as usize;
    let mut generator = Generator::new(spec);
    let mut warmup = Vec::new();
    if spec.prefill {
        while generator.live.len() < spec.live_orders {
            let ev = generator.add();
            warmup.push(ev);
        }
    }
    let mut base = Vec::with_capacity(per_copy + spec.live_orders);
    while base.len() < per_copy {
        let ev = generator.step();
        base.push(ev);
    }
    if copies > 1 {
        generator.drain(&mut base);
    }
    let stride = match spec.layout {
        IdLayout::Dense => generator.next_ref,
        IdLayout::Sparse { offset } => offset,
    };
    let span = generator.clock;
    let mut measured = Vec::with_capacity(base.len() * copies as usize);
    for copy in 0..u64::from(copies) {
        measured.extend(base.iter().map(|ev| MarketEvent {
            exch_ts: Timestamp(ev.exch_ts.0 + copy * span),
            kind: shift_ids(ev.kind, copy * stride),
            ..*ev
        }));
    }
    Flow { warmup, measured }
}

/// The same event with every order id moved by `by`.
fn shift_ids(kind: BookEventKind, by: u64) -> BookEventKind {
    let s = |id: OrderId| OrderId(id.0 + by);
    match kind {
        BookEventKind::Add {
            order_id,
            side,
            price,
            qty,
        } => BookEventKind::Add {
            order_id: s(order_id),
            side,
            price,
            qty,
        },
        BookEventKind::Execute {
            order_id,
            qty,
            match_number,
        } => BookEventKind::Execute {
            order_id: s(order_id),
            qty,
            match_number,
        },
        BookEventKind::ExecuteAtPrice {
            order_id,
            qty,
            price,
            match_number,
        } => BookEventKind::ExecuteAtPrice {
            order_id: s(order_id),
            qty,
            price,
            match_number,
        },
        BookEventKind::ExecuteNonPrintable {
            order_id,
            qty,
            price,
            match_number,
        } => BookEventKind::ExecuteNonPrintable {
            order_id: s(order_id),
            qty,
            price,
            match_number,
        },
        BookEventKind::Cancel { order_id, qty } => BookEventKind::Cancel {
            order_id: s(order_id),
            qty,
        },
        BookEventKind::Delete { order_id } => BookEventKind::Delete {
            order_id: s(order_id),
        },
        BookEventKind::Replace {
            old_order_id,
            new_order_id,
            price,
            qty,
        } => BookEventKind::Replace {
            old_order_id: s(old_order_id),
            new_order_id: s(new_order_id),
            price,
            qty,
        },
        other => other,
    }
}

/// SplitMix64: tiny, fast and good enough for workload generation.
#[derive(Clone, Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A live order as the generator tracks it.
#[derive(Clone, Copy, Debug)]
struct Live {
    id: u64,
    instrument: u32,
    side: Side,
    shares: i64,
}

/// One tick: $0.01 at eight decimals.
const TICK_RAW: i64 = 1_000_000;

struct Generator {
    rng: SplitMix,
    instruments: u32,
    bound: usize,
    live: Vec<Live>,
    next_ref: u64,
    clock: u64,
}

impl Generator {
    fn new(spec: &FlowSpec) -> Self {
        Self {
            rng: SplitMix(spec.seed),
            instruments: spec.instruments.max(1),
            bound: spec.live_orders.max(1),
            live: Vec::with_capacity(spec.live_orders),
            next_ref: 1,
            clock: 0,
        }
    }

    fn event(&mut self, instrument: u32, kind: BookEventKind) -> MarketEvent {
        self.clock += 1 + self.rng.below(200);
        MarketEvent {
            instrument: InstrumentId(instrument),
            exch_ts: Timestamp(self.clock),
            kind,
        }
    }

    /// Mid price of an instrument, in ticks: $20.00 to about $500.
    fn mid_ticks(instrument: u32) -> i64 {
        2_000 + i64::from(instrument % 4_801) * 10
    }

    /// A price `1..` ticks away from mid on `side`'s own half: mostly near the touch, now and
    /// then deeper, so books are never crossed.
    fn price(&mut self, instrument: u32, side: Side) -> Price {
        let mut offset = 1 + self.rng.below(4) as i64;
        if self.rng.below(4) == 0 {
            offset += self.rng.below(32) as i64;
        }
        Price::from_raw((Self::mid_ticks(instrument) - side.sign() * offset) * TICK_RAW)
    }

    fn shares(&mut self) -> i64 {
        100 * (1 + self.rng.below(10) as i64)
    }

    fn qty(shares: i64) -> Qty {
        Qty::from_units(shares).unwrap_or(Qty::ONE)
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_ref;
        self.next_ref += 1;
        id
    }

    fn add(&mut self) -> MarketEvent {
        let instrument = self.rng.below(u64::from(self.instruments)) as u32;
        let side = if self.rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let price = self.price(instrument, side);
        let shares = self.shares();
        let id = self.fresh_id();
        self.live.push(Live {
            id,
            instrument,
            side,
            shares,
        });
        self.event(
            instrument,
            BookEventKind::Add {
                order_id: OrderId(id),
                side,
                price,
                qty: Self::qty(shares),
            },
        )
    }

    fn step(&mut self) -> MarketEvent {
        let roll = self.rng.below(10_000);
        if self.live.is_empty() || (roll < 4_800 && self.live.len() < self.bound) {
            return self.add();
        }
        let at = self.rng.below(self.live.len() as u64) as usize;
        let Some(order) = self.live.get(at).copied() else {
            return self.add();
        };
        match roll {
            9_300..=9_699 => {
                let part = if self.rng.below(2) == 0 {
                    order.shares
                } else {
                    1 + self.rng.below(order.shares as u64) as i64
                };
                self.take(at, part);
                self.event(
                    order.instrument,
                    BookEventKind::Execute {
                        order_id: OrderId(order.id),
                        qty: Self::qty(part),
                        match_number: 0,
                    },
                )
            }
            9_700..=9_899 => {
                let side = if self.rng.below(2) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let price = Price::from_raw(Self::mid_ticks(order.instrument) * TICK_RAW);
                let shares = self.shares();
                self.event(
                    order.instrument,
                    BookEventKind::Trade {
                        side: Some(side),
                        kind: kestrel_core::TradeKind::Execution,
                        price,
                        qty: Self::qty(shares),
                        match_number: 0,
                    },
                )
            }
            9_900..=9_949 if order.shares > 1 => {
                let part = 1 + self.rng.below(order.shares as u64 - 1) as i64;
                self.take(at, part);
                self.event(
                    order.instrument,
                    BookEventKind::Cancel {
                        order_id: OrderId(order.id),
                        qty: Self::qty(part),
                    },
                )
            }
            9_950..=9_999 => {
                let new_id = self.fresh_id();
                let price = self.price(order.instrument, order.side);
                let shares = self.shares();
                if let Some(l) = self.live.get_mut(at) {
                    l.id = new_id;
                    l.shares = shares;
                }
                self.event(
                    order.instrument,
                    BookEventKind::Replace {
                        old_order_id: OrderId(order.id),
                        new_order_id: OrderId(new_id),
                        price,
                        qty: Self::qty(shares),
                    },
                )
            }
            _ => {
                self.live.swap_remove(at);
                self.event(
                    order.instrument,
                    BookEventKind::Delete {
                        order_id: OrderId(order.id),
                    },
                )
            }
        }
    }

    /// Takes `shares` off the live order at `at`, forgetting it when nothing is left.
    fn take(&mut self, at: usize, shares: i64) {
        if let Some(l) = self.live.get_mut(at) {
            l.shares -= shares;
            if l.shares <= 0 {
                self.live.swap_remove(at);
            }
        }
    }

    /// Deletes every live order (end of a copy).
    fn drain(&mut self, out: &mut Vec<MarketEvent>) {
        while let Some(order) = self.live.pop() {
            let ev = self.event(
                order.instrument,
                BookEventKind::Delete {
                    order_id: OrderId(order.id),
                },
            );
            out.push(ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::book::{L3Books, ReferenceBook};

    fn mix(events: &[MarketEvent]) -> [f64; 6] {
        let mut n = [0usize; 6];
        for ev in events {
            let k = match ev.kind {
                BookEventKind::Add { .. } => 0,
                BookEventKind::Delete { .. } => 1,
                BookEventKind::Execute { .. } => 2,
                BookEventKind::Trade { .. } => 3,
                BookEventKind::Cancel { .. } => 4,
                _ => 5,
            };
            n[k] += 1;
        }
        n.map(|c| c as f64 / events.len() as f64)
    }

    #[test]
    fn streams_are_deterministic_valid_and_uncrossed() {
        let spec = FlowSpec::dense(200_000);
        let events = generate(&spec);
        assert_eq!(events, generate(&spec));
        let mut books = L3Books::new(spec.book_config());
        let mut max_live = 0;
        for ev in &events {
            assert!(books.apply(ev).is_ok(), "{ev:?}");
            max_live = max_live.max(books.live_orders());
        }
        assert!(max_live <= spec.live_orders);
        assert_eq!(books.live_orders(), 0, "each copy drains its orders");
        let stats = books.stats();
        assert_eq!(stats.crossed_events, 0);
        assert_eq!(
            stats.order_pool_growths + stats.order_map_growths + stats.level_growths,
            0
        );
        let m = mix(&events);
        let want = [0.48, 0.45, 0.04, 0.02, 0.005, 0.005];
        for (got, want) in m.iter().zip(want) {
            assert!((got - want).abs() < 0.01 + want * 0.2, "mix {m:?}");
        }
    }

    #[test]
    fn sparse_differs_from_dense_only_in_ids() {
        let dense = generate(&FlowSpec::dense(40_000));
        let sparse = generate(&FlowSpec::sparse(40_000));
        assert_eq!(dense.len(), sparse.len());
        let mut differing = 0;
        for (d, s) in dense.iter().zip(&sparse) {
            assert_eq!((d.instrument, d.exch_ts), (s.instrument, s.exch_ts));
            differing += usize::from(d.kind != s.kind);
        }
        assert!(differing > dense.len() / 2);
        let max_id = sparse
            .iter()
            .filter_map(|e| match e.kind {
                BookEventKind::Add { order_id, .. } => Some(order_id.0),
                _ => None,
            })
            .max();
        assert!(max_id > Some(7 * SPARSE_OFFSET));
        let mut fast = L3Books::new(FlowSpec::sparse(0).book_config());
        let mut slow = ReferenceBook::new(FlowSpec::sparse(0).book_config());
        for ev in &sparse {
            assert_eq!(fast.apply(ev), slow.apply(ev));
        }
    }

    #[test]
    fn large_preset_fills_the_working_set() {
        let spec = FlowSpec {
            live_orders: 20_000,
            instruments: 512,
            ..FlowSpec::large(50_000)
        };
        let flow = generate_flow(&spec);
        assert_eq!(flow.warmup.len(), 20_000);
        let mut books = L3Books::new(spec.book_config());
        for ev in flow.warmup.iter().chain(&flow.measured) {
            assert!(books.apply(ev).is_ok());
        }
        assert!(books.live_orders() > 19_000);
        assert_eq!(books.stats().level_growths, 0);
    }
}
