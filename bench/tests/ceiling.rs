//! The ceiling probe's minimal book (`kestrel_bench::market_day::ceiling`): against a simple
//! reference over random operations, and against the real books (`L3Books` through the feed
//! handler) after small generated days, one symbol and 5,000, level for level at the top.

use std::collections::{BTreeMap, HashMap};

use kestrel_bench::market_day::ceiling::{
    Ceiling, CeilingBooks, CeilingError, CeilingPrefetch, CeilingStats, DayExtent, Q_APPEND,
    Q_FIFO, Q_NONE, to_level,
};
use kestrel_bench::market_day::{KcapSink, MarketDaySpec, RefStyle, generate};
use kestrel_core::book::L3Books;
use kestrel_core::{Side, Timestamp};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;
use proptest::prelude::*;

const LOCATES: u16 = 3;
const GRID: u32 = 24;

/// Each locate's tick and lowest price (Price(4)).
fn grid(locate: u16) -> (u32, u32) {
    [(100, 1_000_000), (1, 4_000), (100, 25_000)][usize::from(locate)]
}

#[derive(Clone, Debug)]
enum Op {
    Add {
        locate: u16,
        sell: bool,
        step: u32,
        shares: u32,
        off_grid: bool,
    },
    Execute {
        pick: usize,
        shares: u32,
    },
    Delete {
        pick: usize,
    },
    Replace {
        pick: usize,
        step: u32,
        shares: u32,
        off_grid: bool,
    },
    /// A reference that names no live order.
    Unknown {
        order_ref: u64,
    },
}

/// Operations over `locates` locates and the first `steps` prices of each grid.
fn op_in(locates: u16, steps: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..locates, any::<bool>(), 0..steps, 1u32..400, prop::bool::weighted(0.05))
            .prop_map(|(locate, sell, step, shares, off_grid)| Op::Add { locate, sell, step, shares, off_grid }),
        2 => (any::<usize>(), 1u32..500).prop_map(|(pick, shares)| Op::Execute { pick, shares }),
        3 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        1 => (any::<usize>(), 0..steps, 1u32..400, prop::bool::weighted(0.1))
            .prop_map(|(pick, step, shares, off_grid)| Op::Replace { pick, step, shares, off_grid }),
        1 => (0u64..5_000).prop_map(|order_ref| Op::Unknown { order_ref }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    op_in(LOCATES, GRID)
}

/// The reference: live orders by reference, levels summed from them on demand.
#[derive(Default)]
struct Reference {
    orders: HashMap<u64, (u16, Side, u32, u32)>,
    stats: CeilingStats,
}

impl Reference {
    fn live_refs(&self) -> Vec<u64> {
        let mut r: Vec<u64> = self.orders.keys().copied().collect();
        r.sort_unstable();
        r
    }

    fn levels(&self, locate: u16, side: Side) -> Vec<(u32, u64)> {
        let mut by_price: BTreeMap<u32, u64> = BTreeMap::new();
        for &(l, s, p, q) in self.orders.values() {
            if l == locate && s == side {
                *by_price.entry(p).or_default() += u64::from(q);
            }
        }
        let mut v: Vec<(u32, u64)> = by_price.into_iter().collect();
        if side == Side::Buy {
            v.reverse();
        }
        v
    }

    fn queue(&self, locate: u16, side: Side, price: u32) -> Vec<u64> {
        let mut refs: Vec<u64> = self
            .orders
            .iter()
            .filter(|(_, o)| (o.0, o.1, o.2) == (locate, side, price))
            .map(|(&r, _)| r)
            .collect();
        refs.sort_unstable();
        refs
    }

    fn reduce(&mut self, r: u64, shares: u32) -> Option<(u16, Side)> {
        let Some(o) = self.orders.get_mut(&r) else {
            self.stats.unknown_orders += 1;
            return None;
        };
        self.stats.over_executions += u64::from(shares != u32::MAX && shares > o.3);
        o.3 -= shares.min(o.3);
        let (locate, side) = (o.0, o.1);
        if o.3 == 0 {
            self.orders.remove(&r);
        }
        self.stats.applied += 1;
        Some((locate, side))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every operation leaves the minimal book's levels (every one, best first, both sides of
    /// every locate) and counters equal to the reference's.
    #[test]
    fn minimal_book_matches_a_simple_reference(ops in prop::collection::vec(op(), 1..300)) {
        books_match_the_reference(&ops)?;
    }

    /// Few levels and many operations: long append-only lists, compacted and freed often.
    #[test]
    fn queues_on_few_levels_match_a_simple_reference(ops in prop::collection::vec(op_in(1, 2), 100..600)) {
        books_match_the_reference(&ops)?;
    }
}

/// Applies `ops` to the minimal book, its FIFO and its append-only variants and the
/// reference: after every operation the levels, best levels, live orders and (for the variants
/// with queues) every level's queue agree; the counters at the end.
fn books_match_the_reference(ops: &[Op]) -> Result<(), TestCaseError> {
    {
        let mut extent = DayExtent::new();
        for locate in 0..LOCATES {
            let (tick, low) = grid(locate);
            for step in [0, 1, GRID - 1] {
                extent.observe_order(locate, 0, Some(low + step * tick));
            }
        }
        extent.observe_order(0, 10_000, None);
        let mut book = CeilingBooks::<Q_NONE>::new(&extent).unwrap();
        // The same operations on the variants that keep queues.
        let mut fifo = CeilingBooks::<Q_FIFO>::new(&extent).unwrap();
        let mut append = CeilingBooks::<Q_APPEND>::new(&extent).unwrap();
        macro_rules! both {
            ($method:ident($($arg:expr),*)) => {{
                book.$method($($arg),*);
                fifo.$method($($arg),*);
                append.$method($($arg),*);
            }};
        }
        let mut reference = Reference::default();
        let mut next_ref = 1u64;
        for op in ops {
            let live = reference.live_refs();
            let pick = |p: usize| (!live.is_empty()).then(|| live[p % live.len()]);
            match *op {
                Op::Add {
                    locate,
                    sell,
                    step,
                    shares,
                    off_grid,
                } => {
                    let (tick, low) = grid(locate);
                    // Off the grid: between two ticks, or below the lowest price.
                    let price = match (off_grid, tick) {
                        (false, _) => low + step * tick,
                        (true, 1) => low - 1,
                        (true, _) => low + step * tick + tick / 2,
                    };
                    let side = if sell { Side::Sell } else { Side::Buy };
                    both!(add(locate, next_ref, side, price, shares));
                    if off_grid {
                        reference.stats.bad_prices += 1;
                    } else {
                        reference
                            .orders
                            .insert(next_ref, (locate, side, price, shares));
                        reference.stats.applied += 1;
                    }
                    next_ref += 1;
                }
                Op::Execute { pick: p, shares } => {
                    if let Some(r) = pick(p) {
                        both!(reduce(r, shares));
                        reference.reduce(r, shares);
                    }
                }
                Op::Delete { pick: p } => {
                    if let Some(r) = pick(p) {
                        both!(delete(r));
                        reference.reduce(r, u32::MAX);
                    }
                }
                Op::Replace {
                    pick: p,
                    step,
                    shares,
                    off_grid,
                } => {
                    if let Some(r) = pick(p) {
                        let (locate, side, _, _) = reference.orders[&r];
                        let (tick, low) = grid(locate);
                        // Off the grid: below the day's lowest price (the old order still goes).
                        let price = if off_grid { low - 1 } else { low + step * tick };
                        both!(replace(r, next_ref, price, shares));
                        reference.reduce(r, u32::MAX);
                        reference.stats.applied -= 1;
                        if off_grid {
                            reference.stats.bad_prices += 1;
                        } else {
                            reference
                                .orders
                                .insert(next_ref, (locate, side, price, shares));
                            reference.stats.applied += 1;
                        }
                        next_ref += 1;
                    }
                }
                Op::Unknown { order_ref } => {
                    let r = 1_000_000 + order_ref; // beyond the array
                    both!(delete(r));
                    reference.stats.unknown_orders += 1;
                    if !reference.orders.contains_key(&order_ref) {
                        both!(reduce(order_ref, 1));
                        reference.stats.unknown_orders += 1;
                    }
                }
            }
            prop_assert_eq!(book.live_orders(), reference.orders.len());
            prop_assert_eq!(fifo.live_orders(), reference.orders.len());
            prop_assert_eq!(append.live_orders(), reference.orders.len());
            for locate in 0..LOCATES {
                for side in [Side::Buy, Side::Sell] {
                    prop_assert_eq!(
                        book.best(locate, side),
                        reference.levels(locate, side).first().copied(),
                        "best of locate {} {:?} after {:?}",
                        locate,
                        side,
                        op
                    );
                    prop_assert_eq!(
                        book.top(locate, side, usize::MAX),
                        reference.levels(locate, side),
                        "locate {} {:?} after {:?}",
                        locate,
                        side,
                        op
                    );
                    prop_assert_eq!(
                        fifo.top(locate, side, usize::MAX),
                        reference.levels(locate, side)
                    );
                    prop_assert_eq!(fifo.best(locate, side), book.best(locate, side));
                    prop_assert_eq!(
                        append.top(locate, side, usize::MAX),
                        reference.levels(locate, side)
                    );
                    prop_assert_eq!(append.best(locate, side), book.best(locate, side));
                    // Time priority: every add and replace takes a new, larger reference, so
                    // each level's queue is its live references in increasing order.
                    for (price, _) in reference.levels(locate, side) {
                        prop_assert_eq!(
                            fifo.queue(locate, side, price),
                            reference.queue(locate, side, price),
                            "queue of locate {} {:?} at {} after {:?}",
                            locate,
                            side,
                            price,
                            op
                        );
                        prop_assert_eq!(
                            append.queue(locate, side, price),
                            reference.queue(locate, side, price),
                            "append-only queue of locate {} {:?} at {} after {:?}",
                            locate,
                            side,
                            price,
                            op
                        );
                    }
                }
            }
        }
        prop_assert_eq!(book.stats(), reference.stats);
        prop_assert_eq!(fifo.stats(), reference.stats);
        prop_assert_eq!(append.stats(), reference.stats);
    }
    Ok(())
}

/// A generated day as a `.kcap` in memory.
fn day(spec: &MarketDaySpec) -> KcapReader {
    let mut sink = KcapSink::new(Vec::new(), Timestamp(1));
    generate(spec, &mut sink).unwrap();
    KcapReader::from_vec(sink.into_inner().unwrap()).unwrap()
}

/// Replays `reader` through the feed handler and the ceiling probe; every instrument's top five
/// levels a side must agree. Returns how many instruments had a non-empty side.
fn top_levels_agree(reader: &KcapReader, prefetch: CeilingPrefetch) -> usize {
    let mut handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let mut sink = |_: &FeedEvent, _: &L3Books| {};
    handler.replay_records(reader.records(), &mut sink);
    assert_eq!(handler.stats().anomalies(), 0);

    let extent = DayExtent::scan(reader.records());
    let mut ceiling = Ceiling::<Q_NONE>::new(&extent, prefetch).unwrap();
    ceiling.replay_records(reader.records());
    let books = ceiling.books();
    assert_eq!(books.stats().anomalies(), 0, "{:?}", books.stats());
    assert_eq!(ceiling.messages(), handler.stats().itch_messages);
    assert_eq!(books.live_orders(), handler.books().live_orders());

    let mut non_empty = 0;
    for i in handler.instruments().iter() {
        let locate = books
            .locate_of(&i.symbol)
            .unwrap_or_else(|| panic!("{} has no locate", i.symbol));
        for side in [Side::Buy, Side::Sell] {
            let real: Vec<_> = handler
                .books()
                .levels(i.id, side)
                .take(5)
                .map(|l| (l.price, l.qty))
                .collect();
            let minimal: Vec<_> = books
                .top(locate, side, 5)
                .into_iter()
                .map(|(p, q)| to_level(p, q))
                .collect();
            assert_eq!(minimal, real, "{} {side:?}", i.symbol);
            let best = books.best(locate, side).map(|(p, q)| to_level(p, q));
            assert_eq!(best, real.first().copied(), "best of {} {side:?}", i.symbol);
            non_empty += usize::from(!real.is_empty());
        }
    }
    non_empty
}

/// The FIFO variant after the day: every instrument's five best levels a side hold the same
/// orders in the same queue order as `L3Books`'. Returns how many orders were compared.
fn queues_agree<const Q: u8>(reader: &KcapReader) -> usize {
    let mut handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let mut sink = |_: &FeedEvent, _: &L3Books| {};
    handler.replay_records(reader.records(), &mut sink);
    let extent = DayExtent::scan(reader.records());
    let mut ceiling = Ceiling::<Q>::new(&extent, CeilingPrefetch::Always).unwrap();
    ceiling.replay_records(reader.records());
    let books = ceiling.books();
    assert_eq!(books.stats().anomalies(), 0);
    let mut compared = 0;
    for i in handler.instruments().iter() {
        let locate = books.locate_of(&i.symbol).unwrap();
        for side in [Side::Buy, Side::Sell] {
            for (price, _) in books.top(locate, side, 5) {
                let real: Vec<u64> = handler
                    .books()
                    .level_orders(i.id, side, to_level(price, 0).0)
                    .map(|(id, _)| id.0)
                    .collect();
                assert_eq!(
                    books.queue(locate, side, price),
                    real,
                    "{} {side:?} {price}",
                    i.symbol
                );
                compared += real.len();
            }
        }
    }
    compared
}

/// [`queues_agree`] after a generated one-symbol day and a 5,000-symbol day.
fn queues_agree_after_both_days<const Q: u8>() {
    let single = day(&MarketDaySpec::single_symbol(100_000, RefStyle::Dense));
    assert!(queues_agree::<Q>(&single) > 50);
    let spec = MarketDaySpec {
        messages: 200_000,
        live_orders: 30_000,
        ..MarketDaySpec::full_market(RefStyle::Dense)
    };
    assert!(queues_agree::<Q>(&day(&spec)) > 5_000);
}

#[test]
fn fifo_variant_queues_equal_the_real_books() {
    queues_agree_after_both_days::<Q_FIFO>();
}

#[test]
fn append_only_variant_queues_equal_the_real_books() {
    queues_agree_after_both_days::<Q_APPEND>();
}

#[test]
fn single_symbol_day_tops_equal_the_real_books() {
    let reader = day(&MarketDaySpec::single_symbol(200_000, RefStyle::Dense));
    assert_eq!(top_levels_agree(&reader, CeilingPrefetch::Off), 2);
    assert_eq!(top_levels_agree(&reader, CeilingPrefetch::Always), 2);
}

#[test]
fn five_thousand_symbol_day_tops_equal_the_real_books() {
    let spec = MarketDaySpec {
        messages: 400_000,
        live_orders: 50_000,
        ..MarketDaySpec::full_market(RefStyle::Dense)
    };
    let reader = day(&spec);
    // Most of the 10,000 sides hold orders at the end of the day.
    let non_empty = top_levels_agree(&reader, CeilingPrefetch::FromLiveOrders(1_000));
    assert!(non_empty > 5_000, "{non_empty} non-empty sides");
}

#[test]
fn sparse_references_are_refused() {
    let spec = MarketDaySpec {
        messages: 5_000,
        ..MarketDaySpec::single_symbol(5_000, RefStyle::Sparse)
    };
    let reader = day(&spec);
    let extent = DayExtent::scan(reader.records());
    assert!(matches!(
        Ceiling::<Q_NONE>::new(&extent, CeilingPrefetch::Off),
        Err(CeilingError::SparseReferences(_))
    ));
}
