//! The matching engine against a deliberately naive reference (a flat list of orders sorted by
//! price-time priority on every step): random mixes of participant orders (limit, IOC,
//! cancels, replaces, self-matches) and replayed market events must produce the same fills,
//! cancels and final books.

use kestrel_core::{InstrumentId, OrderId, Price, Qty, Side, Timestamp};
use kestrel_sim::matching::{
    CancelReason, EngineConfig, MatchEvent, MatchingEngine, NewOrder, OrderHandle, Owner,
    PARTICIPANT_REF_BASE, TimeInForce,
};
use proptest::prelude::*;

const I: InstrumentId = InstrumentId(0);

fn px(t: i64) -> Price {
    Price::from_scaled(t, 2).unwrap()
}
fn qty(n: i64) -> Qty {
    Qty::from_units(n).unwrap()
}

#[derive(Clone, Debug)]
enum Op {
    Enter {
        who: u32,
        buy: bool,
        tick: i64,
        n: i64,
        ioc: bool,
    },
    Cancel {
        pick: usize,
        to: i64,
    },
    Replace {
        pick: usize,
        tick: i64,
        n: i64,
    },
    Disconnect {
        who: u32,
    },
    BgAdd {
        buy: bool,
        tick: i64,
        n: i64,
    },
    BgExec {
        pick: usize,
        n: i64,
    },
    BgCancel {
        pick: usize,
        n: i64,
    },
    BgDelete {
        pick: usize,
    },
    BgTrade {
        buy: bool,
        tick: i64,
        n: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..3, any::<bool>(), 95i64..106, 1i64..20, prop::bool::weighted(0.2))
            .prop_map(|(who, buy, tick, n, ioc)| Op::Enter { who, buy, tick, n, ioc }),
        1 => (any::<usize>(), 0i64..15).prop_map(|(pick, to)| Op::Cancel { pick, to }),
        1 => (any::<usize>(), 95i64..106, 0i64..20)
            .prop_map(|(pick, tick, n)| Op::Replace { pick, tick, n }),
        1 => (0u32..3).prop_map(|who| Op::Disconnect { who }),
        4 => (any::<bool>(), 95i64..106, 1i64..20).prop_map(|(buy, tick, n)| Op::BgAdd { buy, tick, n }),
        2 => (any::<usize>(), 1i64..25).prop_map(|(pick, n)| Op::BgExec { pick, n }),
        1 => (any::<usize>(), 1i64..25).prop_map(|(pick, n)| Op::BgCancel { pick, n }),
        1 => any::<usize>().prop_map(|pick| Op::BgDelete { pick }),
        1 => (any::<bool>(), 95i64..106, 1i64..25).prop_map(|(buy, tick, n)| Op::BgTrade { buy, tick, n }),
    ]
}

/// What both implementations report, in a comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Out {
    Fill {
        resting: u64,
        aggressor: Option<u64>,
        price: i64,
        qty: i64,
        left: i64,
    },
    Reduce {
        order: u64,
        cancelled: i64,
        left: i64,
    },
    Smp {
        order: u64,
        resting: u64,
    },
}

#[derive(Clone, Debug)]
struct ROrder {
    order_ref: u64,
    participant: Option<u32>,
    buy: bool,
    price: i64,
    open: i64,
    seq: u64,
}

/// Naive reference: every order in one vector; priority by sorting.
#[derive(Default)]
struct Reference {
    orders: Vec<ROrder>,
    seq: u64,
    next_ref: u64,
    out: Vec<Out>,
}

fn better(buy: bool, a: i64, b: i64) -> bool {
    if buy { a > b } else { a < b }
}

impl Reference {
    fn new() -> Self {
        Self {
            next_ref: PARTICIPANT_REF_BASE,
            ..Self::default()
        }
    }
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
    /// Indices of live orders on `buy`'s side, in priority order.
    fn queue(&self, buy: bool) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.orders.len())
            .filter(|&i| self.orders[i].buy == buy && self.orders[i].open > 0)
            .collect();
        v.sort_by(|&a, &b| {
            let (oa, ob) = (&self.orders[a], &self.orders[b]);
            let pa = if buy { -oa.price } else { oa.price };
            let pb = if buy { -ob.price } else { ob.price };
            (pa, oa.seq).cmp(&(pb, ob.seq))
        });
        v
    }
    fn fill(&mut self, i: usize, aggressor: Option<u64>, price: i64, q: i64) {
        self.orders[i].open -= q;
        let o = &self.orders[i];
        self.out.push(Out::Fill {
            resting: o.order_ref,
            aggressor,
            price,
            qty: q,
            left: o.open,
        });
    }
    fn reduce(&mut self, i: usize, to: i64) {
        let o = &mut self.orders[i];
        if to >= o.open {
            return;
        }
        let cancelled = o.open - to;
        o.open = to;
        self.out.push(Out::Reduce {
            order: o.order_ref,
            cancelled,
            left: to,
        });
    }
    /// Matches an incoming order (participant: `firm` Some; background: participants only).
    fn match_in(
        &mut self,
        me: u64,
        firm: Option<u32>,
        buy: bool,
        limit: i64,
        left: &mut i64,
    ) -> bool {
        for i in self.queue(!buy) {
            if *left == 0 {
                break;
            }
            let o = self.orders[i].clone();
            let crosses = if buy {
                o.price <= limit
            } else {
                o.price >= limit
            };
            if !crosses {
                break;
            }
            if firm.is_none() && o.participant.is_none() {
                continue;
            }
            if firm.is_some() && o.participant.map(|p| p % 2) == firm {
                self.out.push(Out::Smp {
                    order: me,
                    resting: o.order_ref,
                });
                return true;
            }
            let q = (*left).min(o.open);
            *left -= q;
            self.fill(i, Some(me), o.price, q);
        }
        false
    }
    fn work(&mut self, idx: usize, ioc: bool) {
        let o = self.orders[idx].clone();
        let mut left = o.open;
        let stopped = self.match_in(
            o.order_ref,
            o.participant.map(|p| p % 2),
            o.buy,
            o.price,
            &mut left,
        );
        self.orders[idx].open = left;
        if left > 0 && (stopped || ioc) {
            self.reduce(idx, 0);
        } else if left > 0 {
            self.orders[idx].seq = self.next_seq();
        }
    }
    fn enter(&mut self, who: u32, buy: bool, price: i64, n: i64, ioc: bool) {
        let order_ref = self.next_ref;
        self.next_ref += 1;
        self.orders.push(ROrder {
            order_ref,
            participant: Some(who),
            buy,
            price,
            open: n,
            seq: 0,
        });
        let idx = self.orders.len() - 1;
        self.work(idx, ioc);
    }
    fn find(&self, order_ref: u64) -> Option<usize> {
        self.orders
            .iter()
            .position(|o| o.order_ref == order_ref && o.open > 0)
    }
    fn replace(&mut self, order_ref: u64, price: i64, n: i64) {
        let Some(i) = self.find(order_ref) else {
            return;
        };
        if n == 0 {
            self.reduce(i, 0);
            return;
        }
        let o = self.orders[i].clone();
        if price == o.price && n <= o.open {
            self.reduce_silent(i, n);
            return;
        }
        self.orders[i].open = 0;
        let new_ref = self.next_ref;
        self.next_ref += 1;
        self.orders.push(ROrder {
            order_ref: new_ref,
            participant: o.participant,
            buy: o.buy,
            price,
            open: n,
            seq: 0,
        });
        let idx = self.orders.len() - 1;
        self.work(idx, false);
    }
    fn reduce_silent(&mut self, i: usize, to: i64) {
        self.orders[i].open = to;
    }
    fn bg_add(&mut self, r: u64, buy: bool, price: i64, n: i64) {
        self.orders.push(ROrder {
            order_ref: r,
            participant: None,
            buy,
            price,
            open: n,
            seq: 0,
        });
        let idx = self.orders.len() - 1;
        let mut left = n;
        self.match_in(r, None, buy, price, &mut left);
        self.orders[idx].open = left;
        if left > 0 {
            self.orders[idx].seq = self.next_seq();
        }
    }
    fn fill_ahead(&mut self, buy: bool, price: i64, until_seq: Option<u64>, mut budget: i64) {
        for i in self.queue(buy) {
            if budget == 0 {
                break;
            }
            let o = self.orders[i].clone();
            if better(buy, price, o.price) {
                break;
            }
            if o.price == price && until_seq.is_some_and(|s| o.seq >= s) {
                break;
            }
            if o.participant.is_none() {
                continue;
            }
            let q = budget.min(o.open);
            budget -= q;
            self.fill(i, None, o.price, q);
        }
    }
    fn bg_exec(&mut self, r: u64, n: i64) {
        let Some(i) = self.find(r) else { return };
        let x = self.orders[i].clone();
        self.fill_ahead(x.buy, x.price, Some(x.seq), n);
        let q = n.min(x.open);
        self.fill(i, None, x.price, q);
    }
    fn bg_trade(&mut self, buy: bool, price: i64, n: i64) {
        self.fill_ahead(buy, price, None, n);
    }
    fn book(&self) -> Vec<(bool, i64, u64, i64)> {
        let mut v = Vec::new();
        for buy in [true, false] {
            for i in self.queue(buy) {
                let o = &self.orders[i];
                v.push((buy, o.price, o.order_ref, o.open));
            }
        }
        v
    }
}

fn engine_out(ev: &MatchEvent, out: &mut Vec<Out>) {
    match *ev {
        MatchEvent::Executed {
            resting,
            aggressor,
            price,
            qty,
            resting_left,
            ..
        } => out.push(Out::Fill {
            resting: resting.order_ref,
            aggressor: aggressor.map(|a| a.order_ref),
            price: price.raw(),
            qty: qty.raw(),
            left: resting_left.raw(),
        }),
        MatchEvent::Reduced {
            order,
            cancelled,
            left,
            ..
        } => out.push(Out::Reduce {
            order: order.order_ref,
            cancelled: cancelled.raw(),
            left: left.raw(),
        }),
        MatchEvent::SelfMatchPrevented { order, resting, .. } => {
            out.push(Out::Smp {
                order: order.order_ref,
                resting: resting.order_ref,
            });
        }
        _ => {}
    }
}

fn engine_book(e: &MatchingEngine) -> Vec<(bool, i64, u64, i64)> {
    let mut v = Vec::new();
    for (buy, side) in [(true, Side::Buy), (false, Side::Sell)] {
        let levels: Vec<_> = e.levels(I, side).collect();
        for l in levels {
            let orders = e.level_orders(I, side, l.price);
            assert_eq!(
                orders.iter().map(|o| o.2.raw()).sum::<i64>(),
                l.qty.raw(),
                "level total"
            );
            for (r, _, q) in orders {
                v.push((buy, l.price.raw(), r, q.raw()));
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_the_reference(ops in prop::collection::vec(op(), 1..120)) {
        let mut e = MatchingEngine::new(EngineConfig { order_capacity: 16, levels_per_side: 2, ..EngineConfig::default() });
        let mut r = Reference::new();
        let mut got = Vec::new();
        // Live participant orders: (handle, ref); live background refs.
        let mut mine: Vec<(OrderHandle, u64)> = Vec::new();
        let mut bg: Vec<u64> = Vec::new();
        let mut next_bg = 1u64;
        for (step, op) in ops.iter().enumerate() {
            let ts = Timestamp(step as u64);
            let mut evs: Vec<MatchEvent> = Vec::new();
            match *op {
                Op::Enter { who, buy, tick, n, ioc } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let o = NewOrder {
                        instrument: I, side, price: px(tick), qty: qty(n),
                        tif: if ioc { TimeInForce::Ioc } else { TimeInForce::Day },
                        owner: Owner::Participant { id: who, firm: who % 2 }, tag: step as u64,
                    };
                    e.enter(&o, ts, &mut evs);
                    r.enter(who, buy, px(tick).raw(), qty(n).raw(), ioc);
                }
                Op::Cancel { pick, to } if !mine.is_empty() => {
                    let (h, rf) = mine[pick % mine.len()];
                    e.cancel(h, qty(to), CancelReason::User, ts, &mut evs);
                    if let Some(i) = r.find(rf) { r.reduce(i, qty(to).raw()); }
                }
                Op::Replace { pick, tick, n } if !mine.is_empty() => {
                    let (h, rf) = mine[pick % mine.len()];
                    e.replace(h, 7, px(tick), qty(n), ts, &mut evs);
                    r.replace(rf, px(tick).raw(), qty(n).raw());
                }
                Op::Disconnect { who } => {
                    e.cancel_all(who, CancelReason::Disconnect, ts, &mut evs);
                    let live: Vec<usize> = (0..r.orders.len()).filter(|&i| r.orders[i].participant == Some(who) && r.orders[i].open > 0).collect();
                    // The engine walks its pool in slot order; compare as sets below.
                    for i in live { r.reduce(i, 0); }
                }
                Op::BgAdd { buy, tick, n } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    e.bg_add(I, OrderId(next_bg), side, px(tick), qty(n), ts, &mut evs);
                    r.bg_add(next_bg, buy, px(tick).raw(), qty(n).raw());
                    next_bg += 1;
                }
                Op::BgExec { pick, n } if !bg.is_empty() => {
                    let rf = bg[pick % bg.len()];
                    e.bg_execute(OrderId(rf), qty(n), None, ts, &mut evs);
                    r.bg_exec(rf, qty(n).raw());
                }
                Op::BgCancel { pick, n } if !bg.is_empty() => {
                    let rf = bg[pick % bg.len()];
                    e.bg_cancel(OrderId(rf), qty(n), ts, &mut evs);
                    if let Some(i) = r.find(rf) { let open = r.orders[i].open; r.reduce(i, (open - qty(n).raw()).max(0)); }
                }
                Op::BgDelete { pick } if !bg.is_empty() => {
                    let rf = bg[pick % bg.len()];
                    e.bg_delete(OrderId(rf), ts, &mut evs);
                    if let Some(i) = r.find(rf) { r.reduce(i, 0); }
                }
                Op::BgTrade { buy, tick, n } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    e.bg_trade(I, Some(side), px(tick), qty(n), ts, &mut evs);
                    r.bg_trade(buy, px(tick).raw(), qty(n).raw());
                }
                _ => {}
            }
            let mut step_out = Vec::new();
            for ev in &evs {
                engine_out(ev, &mut step_out);
                match *ev {
                    MatchEvent::Booked { order, .. } if order.owner.is_participant() => mine.push((order.handle, order.order_ref)),
                    MatchEvent::Replaced { old, new, booked_whole, kept_priority, .. } => {
                        mine.retain(|m| m.1 != old.order_ref);
                        if booked_whole || kept_priority { mine.push((new.handle, new.order_ref)); }
                    }
                    _ => {}
                }
            }
            mine.retain(|m| e.order(m.0).is_some());
            bg = r.orders.iter().filter(|o| o.participant.is_none() && o.open > 0).map(|o| o.order_ref).collect();
            let want: Vec<Out> = std::mem::take(&mut r.out);
            if matches!(op, Op::Disconnect { .. }) {
                let mut a = step_out.clone(); a.sort_by_key(|o| format!("{o:?}"));
                let mut b = want.clone(); b.sort_by_key(|o| format!("{o:?}"));
                prop_assert_eq!(a, b, "step {} {:?}", step, op);
            } else {
                prop_assert_eq!(&step_out, &want, "step {} {:?}", step, op);
            }
            got.extend(step_out);
            prop_assert_eq!(engine_book(&e), r.book(), "book after step {} {:?}", step, op);
        }
        // Every participant order's Accepted/Booked/fill accounting closes: no negative opens.
        let non_negative = got.iter().all(|o| match o {
            Out::Fill { left, .. } | Out::Reduce { left, .. } => *left >= 0,
            Out::Smp { .. } => true,
        });
        prop_assert!(non_negative);
    }
}
