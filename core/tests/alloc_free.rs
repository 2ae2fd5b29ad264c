//! Proves the hot path allocates nothing: a counting global allocator watches this thread
//! while L3 and L2 books apply long (over a million events) streams with capacities sized at
//! start. The streams are generated before counting starts.

use kestrel_core::book::{BookConfig, L2Books, L3Books};
use kestrel_core::{
    BookEventKind, InstrumentId, MarketEvent, OrderId, Price, Qty, Side, Timestamp,
};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

/// Runs `f` and returns how many allocations this thread made meanwhile.
fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = thread_allocations();
    f();
    thread_allocations() - before
}

struct XorShift(u64);

impl XorShift {
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

const INSTRUMENTS: u32 = 8;
const LIVE_BOUND: usize = 400;

/// A valid order-lifecycle stream (adds, deletes, executes, cancels, replaces, trades) with
/// ids spaced by `id_stride` (1 = dense refs; large = sparse).
fn l3_stream(len: usize, id_stride: u64, seed: u64) -> Vec<MarketEvent> {
    let mut rng = XorShift(seed);
    let mut live: Vec<(OrderId, InstrumentId, i64, Side)> = Vec::with_capacity(LIVE_BOUND);
    let mut next_ref = 1u64;
    let mut out = Vec::with_capacity(len);
    let tick = Price::from_raw(1_000_000);
    while out.len() < len {
        let roll = rng.below(1000);
        let ts = Timestamp(out.len() as u64);
        let want_add = live.is_empty() || (roll < 480 && live.len() < LIVE_BOUND);
        let (instrument, kind) = if want_add {
            let instrument = InstrumentId(rng.below(u64::from(INSTRUMENTS)) as u32);
            let side = if rng.below(2) == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let offset = 1 + rng.below(20) as i64;
            let mid = 10_000 + 100 * i64::from(instrument.0);
            let ticks = match side {
                Side::Buy => mid - offset,
                Side::Sell => mid + offset,
            };
            let price = Price::from_raw(ticks * tick.raw());
            let qty = 100 * (1 + rng.below(10) as i64);
            let order_id = OrderId(next_ref * id_stride);
            next_ref += 1;
            live.push((order_id, instrument, qty, side));
            let qty = Qty::from_units(qty).unwrap_or(Qty::ONE);
            (
                instrument,
                BookEventKind::Add {
                    order_id,
                    side,
                    price,
                    qty,
                },
            )
        } else if roll >= 980 {
            let (_, instrument, _, _) = live[rng.below(live.len() as u64) as usize];
            (
                instrument,
                BookEventKind::Trade {
                    side: None,
                    kind: kestrel_core::TradeKind::NonDisplayed,
                    price: tick,
                    qty: Qty::ONE,
                    match_number: 0,
                },
            )
        } else {
            let at = rng.below(live.len() as u64) as usize;
            let (order_id, instrument, qty, side) = live[at];
            match roll {
                930..=969 => {
                    let part = 1 + rng.below(qty as u64) as i64;
                    if part == qty {
                        live.swap_remove(at);
                    } else {
                        live[at].2 -= part;
                    }
                    (
                        instrument,
                        BookEventKind::Execute {
                            order_id,
                            qty: Qty::from_units(part).unwrap_or(Qty::ONE),
                            match_number: 0,
                        },
                    )
                }
                970..=974 if qty > 1 => {
                    live[at].2 -= 1;
                    (
                        instrument,
                        BookEventKind::Cancel {
                            order_id,
                            qty: Qty::ONE,
                        },
                    )
                }
                975..=979 => {
                    let new_order_id = OrderId(next_ref * id_stride);
                    next_ref += 1;
                    live[at].0 = new_order_id;
                    let mid = 10_000 + 100 * i64::from(instrument.0);
                    // The book keeps the side; move the order deeper into its own side.
                    let price = Price::from_raw((mid - 25 * side.sign()) * tick.raw());
                    (
                        instrument,
                        BookEventKind::Replace {
                            old_order_id: order_id,
                            new_order_id,
                            price,
                            qty: Qty::from_units(qty).unwrap_or(Qty::ONE),
                        },
                    )
                }
                _ => {
                    live.swap_remove(at);
                    (instrument, BookEventKind::Delete { order_id })
                }
            }
        };
        out.push(MarketEvent {
            instrument,
            exch_ts: ts,
            kind,
        });
    }
    out
}

fn l3_config() -> BookConfig {
    BookConfig {
        instruments: INSTRUMENTS as usize,
        order_capacity: 4 * LIVE_BOUND,
        levels_per_side: 64,
    }
}

#[test]
fn l3_apply_allocates_nothing_dense_and_sparse() {
    for (stride, seed) in [(1, 7), (100_000_000, 11)] {
        let stream = l3_stream(1_200_000, stride, seed);
        let mut books = L3Books::new(l3_config());
        let mut accepted = 0u64;
        let allocations = allocations_during(|| {
            for ev in &stream {
                accepted += u64::from(books.apply(ev).is_ok());
            }
        });
        assert_eq!(allocations, 0, "stride {stride}");
        // The stream is valid, so every event applied: the loop really exercised the book.
        assert_eq!(accepted, stream.len() as u64);
        let stats = books.stats();
        assert!(
            stats.adds > 500_000
                && stats.deletes > 400_000
                && stats.executions > 30_000
                && stats.replaces > 1_000
        );
        assert_eq!(stats.crossed_events, 0);
        assert_eq!(
            stats.order_pool_growths + stats.order_map_growths + stats.level_growths,
            0
        );
    }
}

#[test]
fn counting_allocator_sees_growth() {
    // The same machinery does report allocations when a pool must grow.
    let stream = l3_stream(10_000, 1, 3);
    let mut books = L3Books::new(BookConfig {
        instruments: INSTRUMENTS as usize,
        order_capacity: 1,
        levels_per_side: 1,
    });
    let allocations = allocations_during(|| {
        for ev in &stream {
            let _ = books.apply(ev);
        }
    });
    assert!(allocations > 0);
    assert!(books.stats().order_pool_growths > 0);
}

#[test]
fn l2_apply_allocates_nothing() {
    let mut rng = XorShift(5);
    let stream: Vec<MarketEvent> = (0..1_200_000u64)
        .map(|i| {
            let side = if rng.below(2) == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let offset = 1 + rng.below(30) as i64;
            let raw = 1_000 + if side == Side::Buy { -offset } else { offset };
            let qty = if rng.below(3) == 0 {
                0
            } else {
                1 + rng.below(100) as i64
            };
            MarketEvent {
                instrument: InstrumentId(rng.below(u64::from(INSTRUMENTS)) as u32),
                exch_ts: Timestamp(i),
                kind: BookEventKind::Level {
                    side,
                    price: Price::from_units(raw).unwrap_or(Price::ONE),
                    qty: Qty::from_units(qty).unwrap_or(Qty::ZERO),
                },
            }
        })
        .collect();
    let mut books = L2Books::new(BookConfig {
        instruments: INSTRUMENTS as usize,
        order_capacity: 0,
        levels_per_side: 64,
    });
    let mut accepted = 0u64;
    let allocations = allocations_during(|| {
        for ev in &stream {
            accepted += u64::from(books.apply(ev).is_ok());
        }
    });
    assert_eq!(allocations, 0);
    assert_eq!(accepted, stream.len() as u64);
    assert_eq!(books.stats().level_growths, 0);
}
