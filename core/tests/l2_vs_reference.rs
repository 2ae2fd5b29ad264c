//! Property tests: [`L2Books`] against a plain `BTreeMap` model on random level streams with
//! invalid events mixed in. After every event the outcome, both sides' levels, the best
//! levels, the crossed flag and the book hash must agree.

use std::collections::BTreeMap;

use kestrel_core::book::{BookConfig, BookError, BookKind, L2Books, StableHasher};
use kestrel_core::{
    BookEventKind, InstrumentId, LevelView, MarketEvent, OrderId, Price, Qty, Side, Timestamp,
    TradingStatus,
};
use proptest::prelude::*;

const INSTRUMENTS: u32 = 2;

/// The obvious model: per instrument and side, price -> quantity.
#[derive(Default, Clone)]
struct Model {
    sides: [BTreeMap<Price, Qty>; 2],
    status: Option<TradingStatus>,
}

impl Model {
    fn levels(&self, side: Side) -> Vec<LevelView> {
        let view = |(p, q): (&Price, &Qty)| LevelView { price: *p, qty: *q };
        match side {
            Side::Buy => self.sides[0].iter().rev().map(view).collect(),
            Side::Sell => self.sides[1].iter().map(view).collect(),
        }
    }

    fn tops(&self) -> (Option<LevelView>, Option<LevelView>) {
        (
            self.levels(Side::Buy).first().copied(),
            self.levels(Side::Sell).first().copied(),
        )
    }

    fn hash(&self) -> u64 {
        let mut h = StableHasher::new();
        for side in [Side::Buy, Side::Sell] {
            h.write_u64(side as u64);
            for l in self.levels(side) {
                h.write_i64(l.price.raw());
                h.write_i64(l.qty.raw());
            }
        }
        h.finish()
    }
}

fn event() -> impl Strategy<Value = MarketEvent> {
    let price = (90i64..110).prop_map(|u| Price::from_units(u).unwrap_or(Price::ONE));
    let qty = prop_oneof![3 => Just(0i64), 6 => 1i64..50, 1 => -3i64..0]
        .prop_map(|u| Qty::from_units(u).unwrap_or(Qty::ZERO));
    let side = prop_oneof![Just(Side::Buy), Just(Side::Sell)];
    let kind = prop_oneof![
        30 => (side.clone(), price.clone(), qty.clone()).prop_map(|(side, price, qty)| BookEventKind::Level { side, price, qty }),
        1 => Just(BookEventKind::Clear),
        1 => (price.clone(), qty).prop_map(|(price, qty)| BookEventKind::Trade { side: Some(Side::Buy), kind: kestrel_core::TradeKind::Execution, price, qty, match_number: 0 }),
        1 => Just(BookEventKind::Status(TradingStatus::Halted)),
        1 => Just(BookEventKind::Delete { order_id: OrderId(1) }),
    ];
    (0..=INSTRUMENTS, kind).prop_map(|(i, kind)| MarketEvent {
        instrument: InstrumentId(i),
        exch_ts: Timestamp(0),
        kind,
    })
}

proptest! {
    #[test]
    fn l2_agrees_with_btreemap(events in prop::collection::vec(event(), 1..400)) {
        let mut book = L2Books::new(BookConfig { instruments: INSTRUMENTS as usize, order_capacity: 0, levels_per_side: 2 });
        let mut models = vec![Model::default(); INSTRUMENTS as usize];
        for (at, ev) in events.iter().enumerate() {
            let got = book.apply(ev);
            let Some(model) = models.get_mut(ev.instrument.index()) else {
                prop_assert!(matches!(got, Err(BookError::UnknownInstrument { .. })), "{:?} at {}", got, at);
                continue;
            };
            let before = model.tops();
            match ev.kind {
                BookEventKind::Level { side, price, qty } if qty.raw() >= 0 => {
                    if qty.is_zero() {
                        model.sides[side.index()].remove(&price);
                    } else {
                        model.sides[side.index()].insert(price, qty);
                    }
                    let a = got.map_err(|e| TestCaseError::fail(format!("{e} at {at}")))?;
                    prop_assert_eq!((a.side, a.price), (Some(side), Some(price)));
                    prop_assert_eq!(a.top_changed, before != model.tops(), "top_changed at {}", at);
                }
                BookEventKind::Level { .. } => prop_assert!(matches!(got, Err(BookError::InvalidQty { .. })), "{:?} at {}", got, at),
                BookEventKind::Clear => {
                    model.sides.iter_mut().for_each(BTreeMap::clear);
                    prop_assert_eq!(got.map(|a| a.top_changed).ok(), Some(before != model.tops()));
                }
                BookEventKind::Trade { price, qty, .. } if qty.is_positive() => {
                    prop_assert_eq!(got.ok().and_then(|a| a.trade).map(|t| (t.price, t.qty, t.aggressor)), Some((price, qty, -1)));
                }
                BookEventKind::Trade { .. } => prop_assert!(matches!(got, Err(BookError::InvalidQty { .. })), "{:?} at {}", got, at),
                BookEventKind::Status(s) => {
                    model.status = Some(s);
                    prop_assert!(got.is_ok());
                }
                _ => prop_assert!(matches!(got, Err(BookError::WrongBookType { book: BookKind::L2, .. })), "{:?} at {}", got, at),
            }
            let id = ev.instrument;
            for side in [Side::Buy, Side::Sell] {
                prop_assert_eq!(book.levels(id, side).collect::<Vec<_>>(), model.levels(side), "levels at {}", at);
            }
            let (bid, ask) = model.tops();
            prop_assert_eq!(book.best_bid(id), bid);
            prop_assert_eq!(book.best_ask(id), ask);
            prop_assert_eq!(book.is_crossed(id), matches!((bid, ask), (Some(b), Some(a)) if b.price >= a.price));
            prop_assert_eq!(book.book_hash(id), model.hash());
            prop_assert_eq!(book.status(id), model.status.unwrap_or(TradingStatus::Trading));
        }
        prop_assert_eq!(book.stats().events, events.len() as u64);
    }
}
