//! Property tests: [`L3Books`] against the naive [`ReferenceBook`] on random order-lifecycle
//! streams (valid ones, and ones with invalid events mixed in). After every event the outcome,
//! every level of both sides, the FIFO queue at the touched level, the whole-book hash (which
//! covers every queue), the crossed flag, the live orders and the counters must agree.

use kestrel_core::book::{BookConfig, L3Books, ReferenceBook};
use kestrel_core::{
    BookEventKind, InstrumentId, MARKET_WIDE, MarketEvent, OrderId, Price, Qty, Side, Timestamp,
    TradeKind, TradingStatus,
};
use proptest::prelude::*;

/// Instruments the books are configured with; events may name one more (unknown).
const INSTRUMENTS: u32 = 3;

/// One random step, turned into an event against the current live orders.
#[derive(Clone, Copy, Debug)]
struct Step {
    op: u8,
    pick: u16,
    instrument: u8,
    buy: bool,
    tick: u8,
    qty: u8,
    invalid: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u8>(),
        any::<bool>(),
        0u8..12,
        1u8..6,
        any::<u8>(),
    )
        .prop_map(|(op, pick, instrument, buy, tick, qty, invalid)| Step {
            op,
            pick,
            instrument,
            buy,
            tick,
            qty,
            invalid,
        })
}

/// Turns steps into events, keeping its own list of ids it has issued.
struct Streamer {
    next_id: u64,
    live: Vec<OrderId>,
    invalid_rate: u8,
}

impl Streamer {
    fn new(invalid_rate: u8) -> Self {
        Self {
            next_id: 1,
            live: Vec::new(),
            invalid_rate,
        }
    }

    fn event(&mut self, s: Step, book: &ReferenceBook) -> MarketEvent {
        self.live.retain(|id| book.order(*id).is_some());
        let invalid = s.invalid < self.invalid_rate;
        let side = if s.buy { Side::Buy } else { Side::Sell };
        // A small grid so that levels collide; bids and asks overlap so crosses happen too.
        let price = Price::from_units(100 + i64::from(s.tick) - 6).unwrap_or(Price::ONE);
        let qty = Qty::from_units(i64::from(s.qty)).unwrap_or(Qty::ONE);
        let mut instrument = InstrumentId(u32::from(s.instrument) % INSTRUMENTS);
        let picked =
            (!self.live.is_empty()).then(|| self.live[usize::from(s.pick) % self.live.len()]);
        let kind = match (s.op % 32, picked) {
            (0..=11, _) | (_, None) => {
                let order_id = if invalid && !self.live.is_empty() {
                    self.live[usize::from(s.pick) % self.live.len()]
                } else {
                    self.fresh()
                };
                let qty = if invalid && s.qty == 1 {
                    Qty::ZERO
                } else {
                    qty
                };
                if let Some(o) = book.order(order_id) {
                    instrument = o.instrument;
                }
                BookEventKind::Add {
                    order_id,
                    side,
                    price,
                    qty,
                }
            }
            (12..=15, Some(id)) => self.on_order(id, s, book, &mut instrument, |order_id, qty| {
                BookEventKind::Execute {
                    order_id,
                    qty,
                    match_number: 1,
                }
            }),
            (16, Some(id)) => self.on_order(id, s, book, &mut instrument, |order_id, qty| {
                BookEventKind::ExecuteNonPrintable {
                    order_id,
                    qty,
                    price: Price::from_units(7).unwrap_or(Price::ONE),
                    match_number: 2,
                }
            }),
            (17..=18, Some(id)) => self.on_order(id, s, book, &mut instrument, |order_id, qty| {
                BookEventKind::ExecuteAtPrice {
                    order_id,
                    qty,
                    price: Price::from_units(7).unwrap_or(Price::ONE),
                    match_number: 3,
                }
            }),
            (19..=21, Some(id)) => self.on_order(id, s, book, &mut instrument, |order_id, qty| {
                BookEventKind::Cancel { order_id, qty }
            }),
            (22..=25, Some(id)) => self.on_order(id, s, book, &mut instrument, |order_id, _| {
                BookEventKind::Delete { order_id }
            }),
            (26..=28, Some(id)) => {
                let new_order_id = if invalid && s.pick.is_multiple_of(2) {
                    id
                } else {
                    self.fresh()
                };
                let kind = self.on_order(id, s, book, &mut instrument, |old_order_id, _| {
                    BookEventKind::Replace {
                        old_order_id,
                        new_order_id,
                        price,
                        qty,
                    }
                });
                if let BookEventKind::Replace { old_order_id, .. } = kind {
                    BookEventKind::Replace {
                        old_order_id,
                        new_order_id,
                        price,
                        qty,
                    }
                } else {
                    kind
                }
            }
            (29, _) => BookEventKind::Trade {
                side: s.buy.then_some(side),
                kind: TradeKind::NonDisplayed,
                price,
                qty,
                match_number: 4,
            },
            (30, _) => match s.pick % 8 {
                0 => BookEventKind::Clear,
                1 if invalid => BookEventKind::Level { side, price, qty },
                2 => BookEventKind::OperationalHalt { halted: s.buy },
                3 => BookEventKind::Break {
                    match_number: u64::from(s.qty),
                },
                4 if s.qty == 1 => {
                    instrument = MARKET_WIDE;
                    BookEventKind::MarketWideHalt { level: 1 }
                }
                _ => BookEventKind::Status(if s.buy {
                    TradingStatus::Halted
                } else {
                    TradingStatus::Trading
                }),
            },
            (_, _) => {
                if invalid {
                    instrument = InstrumentId(INSTRUMENTS);
                }
                BookEventKind::Trade {
                    side: None,
                    kind: TradeKind::Cross,
                    price,
                    qty,
                    match_number: 5,
                }
            }
        };
        MarketEvent {
            instrument,
            exch_ts: Timestamp(u64::from(s.pick)),
            kind,
        }
    }

    fn fresh(&mut self) -> OrderId {
        let id = OrderId(self.next_id);
        self.next_id += 1;
        self.live.push(id);
        id
    }

    /// An event on a live order: partial or full quantity, or (when invalid) an unknown id, an
    /// excess or zero quantity, or the wrong instrument.
    fn on_order(
        &mut self,
        id: OrderId,
        s: Step,
        book: &ReferenceBook,
        instrument: &mut InstrumentId,
        make: impl Fn(OrderId, Qty) -> BookEventKind,
    ) -> BookEventKind {
        let Some(order) = book.order(id) else {
            return make(id, Qty::ONE);
        };
        *instrument = order.instrument;
        let remaining = order.qty.raw();
        let partial = 1 + i64::from(s.pick) % remaining.max(1);
        let mut qty = Qty::from_raw(if s.qty.is_multiple_of(2) {
            remaining
        } else {
            partial
        });
        let mut order_id = id;
        if s.invalid < self.invalid_rate {
            match s.qty % 4 {
                0 => order_id = OrderId(1_000_000 + u64::from(s.pick)),
                1 => qty = Qty::from_raw(remaining + Qty::ONE.raw()),
                2 => qty = Qty::ZERO,
                _ => *instrument = InstrumentId((order.instrument.0 + 1) % INSTRUMENTS),
            }
        }
        make(order_id, qty)
    }
}

fn config() -> BookConfig {
    // Deliberately tiny so that every pool, the map and the level vectors grow during a run.
    BookConfig {
        instruments: INSTRUMENTS as usize,
        order_capacity: 4,
        levels_per_side: 2,
    }
}

fn assert_same(
    fast: &L3Books,
    slow: &ReferenceBook,
    ev: &MarketEvent,
    at: usize,
) -> Result<(), TestCaseError> {
    for i in 0..=INSTRUMENTS {
        let id = InstrumentId(i);
        for side in [Side::Buy, Side::Sell] {
            let a: Vec<_> = fast.levels(id, side).collect();
            let b: Vec<_> = slow.levels(id, side).collect();
            prop_assert_eq!(a, b, "levels {:?} {:?} after event {}", id, side, at);
        }
        prop_assert_eq!(fast.best_bid(id), slow.best_bid(id));
        prop_assert_eq!(fast.best_ask(id), slow.best_ask(id));
        prop_assert_eq!(fast.is_crossed(id), slow.is_crossed(id));
        prop_assert_eq!(fast.status(id), slow.status(id));
        prop_assert_eq!(
            fast.book_hash(id),
            slow.book_hash(id),
            "hash {:?} after event {}",
            id,
            at
        );
        let (mut ta, mut tb) = Default::default();
        fast.fill_top(id, &mut ta);
        slow.fill_top(id, &mut tb);
        prop_assert_eq!(ta, tb);
    }
    prop_assert_eq!(fast.live_orders(), slow.live_orders());
    prop_assert_eq!(fast.stats().without_growth(), slow.stats().without_growth());
    let ids = match ev.kind {
        BookEventKind::Add { order_id, .. }
        | BookEventKind::Execute { order_id, .. }
        | BookEventKind::ExecuteAtPrice { order_id, .. }
        | BookEventKind::Cancel { order_id, .. }
        | BookEventKind::Delete { order_id } => [order_id, order_id],
        BookEventKind::Replace {
            old_order_id,
            new_order_id,
            ..
        } => [old_order_id, new_order_id],
        _ => [OrderId(0), OrderId(0)],
    };
    for id in ids {
        prop_assert_eq!(fast.order(id), slow.order(id));
        if let Some(o) = slow.order(id) {
            let a: Vec<_> = fast.level_orders(o.instrument, o.side, o.price).collect();
            let b: Vec<_> = slow.level_orders(o.instrument, o.side, o.price).collect();
            prop_assert_eq!(a, b, "queue after event {}", at);
        }
    }
    Ok(())
}

fn run(steps: &[Step], invalid_rate: u8) -> Result<(), TestCaseError> {
    let mut fast = L3Books::new(config());
    let mut slow = ReferenceBook::new(config());
    let mut streamer = Streamer::new(invalid_rate);
    for (at, s) in steps.iter().enumerate() {
        let ev = streamer.event(*s, &slow);
        let a = fast.apply(&ev);
        let b = slow.apply(&ev);
        prop_assert_eq!(a, b, "outcome of event {} {:?}", at, ev);
        if let Ok(applied) = a
            && let (Some(side), Some(price)) = (applied.side, applied.price)
        {
            let qa: Vec<_> = fast.level_orders(ev.instrument, side, price).collect();
            let qb: Vec<_> = slow.level_orders(ev.instrument, side, price).collect();
            prop_assert_eq!(qa, qb, "touched queue after event {}", at);
        }
        assert_same(&fast, &slow, &ev, at)?;
    }
    Ok(())
}

proptest! {
    #[test]
    fn valid_streams_agree(steps in prop::collection::vec(step(), 1..400)) {
        run(&steps, 0)?;
    }

    #[test]
    fn streams_with_invalid_events_agree(steps in prop::collection::vec(step(), 1..400)) {
        run(&steps, 40)?;
    }
}

#[test]
fn long_churn_agrees_and_pools_grew() {
    // A fixed long run through the same comparison, to reach deep queues and heavy reuse.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let steps: Vec<Step> = (0..5_000)
        .map(|_| {
            let r = next();
            Step {
                op: (r & 0xff) as u8,
                pick: ((r >> 8) & 0xffff) as u16,
                instrument: ((r >> 24) & 0xff) as u8,
                buy: (r >> 32) & 1 == 1,
                tick: ((r >> 33) % 12) as u8,
                qty: 1 + ((r >> 40) % 5) as u8,
                invalid: ((r >> 48) & 0xff) as u8,
            }
        })
        .collect();
    let mut fast = L3Books::new(config());
    let mut slow = ReferenceBook::new(config());
    let mut streamer = Streamer::new(20);
    for (at, s) in steps.iter().enumerate() {
        let ev = streamer.event(*s, &slow);
        assert_eq!(fast.apply(&ev), slow.apply(&ev), "event {at}");
    }
    for i in 0..INSTRUMENTS {
        assert_eq!(
            fast.book_hash(InstrumentId(i)),
            slow.book_hash(InstrumentId(i))
        );
    }
    let stats = fast.stats();
    assert_eq!(stats.without_growth(), slow.stats().without_growth());
    assert!(stats.order_pool_growths > 0 && stats.order_map_growths > 0 && stats.level_growths > 0);
    assert!(stats.unknown_orders > 0 && stats.duplicate_orders > 0 && stats.excess_executions > 0);
    assert!(stats.crossed_events > 0 && stats.instrument_mismatches > 0);
}
