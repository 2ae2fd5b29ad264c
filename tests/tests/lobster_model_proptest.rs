//! Property: for any order flow, LOBSTER's view of it (only events touching an N-level window,
//! a capture that starts with a book already there) imports into an ITCH stream whose replayed
//! book equals every LOBSTER book row.
//!
//! A plain reference book (BTreeMap of FIFO queues) plays random adds, partial cancels,
//! deletes and executions; the first part of the flow happens before the capture starts; an
//! event is written as a LOBSTER message only when its price lies within the best N levels of
//! its side before or after it (LOBSTER's rule), and each message is followed by the book's
//! best N levels.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use kestrel_feeds::lobster::verify_lobster;
use proptest::prelude::*;

const DEPTH: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Add { buy: bool, tick: u8, qty: u32 },
    Cancel { pick: u16, part: u8 },
    Execute { buy: bool, part: u8 },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (any::<bool>(), 0u8..12, 1u32..60).prop_map(|(buy, tick, qty)| Action::Add { buy, tick, qty }),
        3 => (any::<u16>(), 0u8..4).prop_map(|(pick, part)| Action::Cancel { pick, part }),
        1 => (any::<bool>(), 0u8..4).prop_map(|(buy, part)| Action::Execute { buy, part }),
    ]
}

#[derive(Default)]
struct Reference {
    /// [bids, asks]: price -> FIFO of (id, qty).
    sides: [BTreeMap<i64, Vec<(u64, u32)>>; 2],
    orders: HashMap<u64, (usize, i64)>,
    next_id: u64,
}

impl Reference {
    /// Best `DEPTH` (price, total) of a side, best first.
    fn top(&self, side: usize) -> Vec<(i64, u64)> {
        let total = |(p, q): (&i64, &Vec<(u64, u32)>)| (*p, q.iter().map(|o| u64::from(o.1)).sum());
        if side == 0 {
            self.sides[0].iter().rev().take(DEPTH).map(total).collect()
        } else {
            self.sides[1].iter().take(DEPTH).map(total).collect()
        }
    }

    fn remove_qty(&mut self, id: u64, qty: u32) {
        let Some(&(side, price)) = self.orders.get(&id) else {
            return;
        };
        let level = self.sides[side].get_mut(&price).expect("level");
        let pos = level.iter().position(|o| o.0 == id).expect("order");
        level[pos].1 -= qty;
        if level[pos].1 == 0 {
            level.remove(pos);
            self.orders.remove(&id);
        }
        if level.is_empty() {
            self.sides[side].remove(&price);
        }
    }

    /// Applies an action; returns the LOBSTER (type, id, size, price, direction, side) it
    /// would be, if it did anything.
    fn apply(&mut self, a: &Action) -> Option<(u8, u64, u32, i64, i8, usize)> {
        match *a {
            Action::Add { buy, tick, qty } => {
                // Bids 100..112, asks 113..125 (x 10,000): never crossed.
                let (side, price) = if buy {
                    (0, (100 + i64::from(tick)) * 10_000)
                } else {
                    (1, (113 + i64::from(tick)) * 10_000)
                };
                self.next_id += 1;
                let id = self.next_id;
                self.sides[side].entry(price).or_default().push((id, qty));
                self.orders.insert(id, (side, price));
                Some((1, id, qty, price, if buy { 1 } else { -1 }, side))
            }
            Action::Cancel { pick, part } => {
                if self.orders.is_empty() {
                    return None;
                }
                let mut ids: Vec<u64> = self.orders.keys().copied().collect();
                ids.sort_unstable();
                let id = ids[usize::from(pick) % ids.len()];
                let (side, price) = self.orders[&id];
                let held = self.sides[side][&price]
                    .iter()
                    .find(|o| o.0 == id)
                    .expect("order")
                    .1;
                let qty = if part == 0 || held == 1 {
                    held
                } else {
                    (held / 2).max(1)
                };
                self.remove_qty(id, qty);
                let kind = if qty == held { 3 } else { 2 };
                Some((kind, id, qty, price, if side == 0 { 1 } else { -1 }, side))
            }
            Action::Execute { buy, part } => {
                let side = if buy { 0 } else { 1 };
                let best = if side == 0 {
                    self.sides[0].keys().next_back().copied()
                } else {
                    self.sides[1].keys().next().copied()
                }?;
                let (id, held) = self.sides[side][&best][0];
                let qty = if part == 0 || held == 1 {
                    held
                } else {
                    (held / 2).max(1)
                };
                self.remove_qty(id, qty);
                Some((4, id, qty, best, if side == 0 { 1 } else { -1 }, side))
            }
        }
    }

    fn row(&self, out: &mut String) {
        let (bids, asks) = (self.top(0), self.top(1));
        for level in 0..DEPTH {
            let (ap, aq) = asks.get(level).copied().unwrap_or((9_999_999_999, 0));
            let (bp, bq) = bids.get(level).copied().unwrap_or((-9_999_999_999, 0));
            if level > 0 {
                out.push(',');
            }
            let _ = write!(out, "{ap},{aq},{bp},{bq}");
        }
        out.push('\n');
    }
}

/// LOBSTER files for a flow whose first `warmup` actions happen before the capture.
fn lobster_files(warmup: &[Action], flow: &[Action]) -> (String, String, usize) {
    let mut book = Reference::default();
    for a in warmup {
        book.apply(a);
    }
    let (mut messages, mut rows, mut n) = (String::new(), String::new(), 0usize);
    for (i, a) in flow.iter().enumerate() {
        let before = [book.top(0), book.top(1)];
        let Some((kind, id, size, price, dir, side)) = book.apply(a) else {
            continue;
        };
        let after = book.top(side);
        let touches = before[side]
            .iter()
            .chain(after.iter())
            .any(|l| l.0 == price);
        if !touches {
            continue;
        }
        let _ = writeln!(
            messages,
            "{}.{:09},{kind},{id},{size},{price},{dir}",
            34_200 + i / 1000,
            i % 1000 * 1000
        );
        book.row(&mut rows);
        n += 1;
    }
    (messages, rows, n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replayed_book_equals_every_lobster_row(
        warmup in prop::collection::vec(action(), 0..80),
        flow in prop::collection::vec(action(), 2..250),
    ) {
        let (messages, rows, n) = lobster_files(&warmup, &flow);
        prop_assume!(n >= 2);
        let (plan, _, report) = verify_lobster(&messages, &rows, "TEST").expect("verify runs");
        prop_assert!(plan.report.message_errors.is_empty() && plan.report.book_errors.is_empty());
        prop_assert_eq!(report.checks, 2 * (n as u64 - 1));
        prop_assert_eq!(&plan.report.unapplied, &Vec::new(), "{:?}", report.mismatches.first());
        prop_assert_eq!(report.mismatched, 0, "{:?}", report.mismatches.first());
        prop_assert_eq!(plan.report.mismatched, 0);
        prop_assert_eq!(report.handler.anomalies(), 0);
    }
}
