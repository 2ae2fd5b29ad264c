//! Software prefetch for a batch of order messages, so that their cache misses overlap.
//!
//! With a million live orders the order map, the order pool and the levels are far larger
//! than the caches, and one order look-up is a chain of dependent misses: the map entry names
//! the order's slot (a window record is the order itself), the order names its level and its
//! queue neighbours. Applied one message
//! after another, those chains follow one another. A feed handler that has a whole packet in
//! hand (a MoldUDP64 packet carries dozens of messages) can first say what each message will
//! look up ([`OrderLookup`]) and call [`L3Books::prefetch_batch`]: it walks the batch four
//! times, one link of each chain per pass (window records or table homes, and books; then
//! resting orders, the sides' best levels, and for a new reference whose window node holds a
//! live order its table home and overflow node;
//! then their levels and queue neighbours, and the level an add joins; then
//! the back of that level's queue, and the level a replace's new order joins), so the misses
//! of one pass are in flight together and each pass reads what the pass before brought in.
//! Then the messages are applied in order, as before.
//!
//! Prefetching is a hint and reads only: it changes no book, counter or outcome. A guess that
//! turns out wrong (an order added or removed by an earlier message of the same batch, a map
//! entry whose tag matches another id) costs a wasted prefetch, nothing else. On targets other
//! than x86_64 the hint is a no-op.
#![allow(
    unsafe_code,
    reason = "the x86_64 prefetch intrinsic needs an unsafe call (it cannot fault)"
)]

use crate::fixed::Price;
use crate::ids::{InstrumentId, OrderId};
use crate::side::Side;

use super::l3::L3Books;
use super::ladder::side_key;
use super::levels::LevelSlot;
use super::orders::OrderSlot;

/// What one order message will look up in the books, read from its bytes before it is
/// applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderLookup {
    /// A message about a resting order: an execution, a cancel, a delete.
    Resting {
        /// The message's instrument.
        instrument: InstrumentId,
        /// The resting order.
        order_id: OrderId,
    },
    /// A new order.
    Add {
        /// The message's instrument.
        instrument: InstrumentId,
        /// The new order's reference.
        order_id: OrderId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
    },
    /// A replace: the resting order, and the reference and price that replace it.
    Replace {
        /// The message's instrument.
        instrument: InstrumentId,
        /// The resting order.
        old_order_id: OrderId,
        /// The new reference.
        new_order_id: OrderId,
        /// The new price (the side is the resting order's).
        price: Price,
    },
}

/// Look-ups prefetched together: the passes keep one guess per look-up on the stack.
const CHUNK: usize = 64;

/// Asks the CPU to bring the cache line at `p` into every cache level. Never faults, whatever
/// the address.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const { assert!(cfg!(target_feature = "sse")) };
        // SAFETY: `_mm_prefetch` only needs the `sse` target feature, which the `cfg` above
        // guarantees (it is part of the x86_64 baseline). The instruction is a hint: it reads
        // nothing the program observes and cannot fault, even for an address outside any
        // allocation, so any `p` is sound.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = p;
}

#[inline(always)]
fn prefetch_ref<T>(r: &T) {
    prefetch(core::ptr::from_ref(r).cast());
}

impl L3Books {
    /// Prefetches what applying `lookups` (in order) will read: see the [module docs](self).
    /// A batch of a few dozen messages suits the hardware (one MoldUDP64 packet); changes
    /// nothing.
    #[inline]
    pub fn prefetch_batch(&self, lookups: &[OrderLookup]) {
        for chunk in lookups.chunks(CHUNK) {
            // Per look-up: the resting order's slot (pass 2), then a level (pass 3).
            let mut slots: [Option<OrderSlot>; CHUNK] = [None; CHUNK];
            let mut levels: [Option<LevelSlot>; CHUNK] = [None; CHUNK];
            for l in chunk {
                self.prefetch_entries(l);
            }
            for (l, g) in chunk.iter().zip(&mut slots) {
                *g = self.prefetch_orders(l);
            }
            for ((l, s), g) in chunk.iter().zip(&slots).zip(&mut levels) {
                *g = self.prefetch_levels(l, *s);
            }
            for (l, g) in chunk.iter().zip(&levels) {
                self.prefetch_queues(l, *g);
            }
        }
    }

    /// Pass 1: the map entries of the ids the message names, and its instrument's book.
    #[inline(always)]
    fn prefetch_entries(&self, l: &OrderLookup) {
        let (instrument, id) = match *l {
            OrderLookup::Resting {
                instrument,
                order_id,
            }
            | OrderLookup::Add {
                instrument,
                order_id,
                ..
            } => (instrument, order_id),
            OrderLookup::Replace {
                instrument,
                old_order_id,
                new_order_id,
                ..
            } => {
                prefetch(self.map.home_addr(new_order_id.0, &self.orders));
                (instrument, old_order_id)
            }
        };
        prefetch(self.map.home_addr(id.0, &self.orders));
        if !matches!(l, OrderLookup::Add { .. }) {
            // A resting order may be older than its window entry: then the table holds it.
            prefetch(self.map.table_home_addr(id.0));
        }
        if let Some(book) = self.books.get(instrument.index()) {
            prefetch_ref(book);
        }
    }

    /// Pass 2: the resting order (from its window record or table entry, now cached), the
    /// best levels of the book's sides (every order message compares its side's top before
    /// and after), and for a new reference whose window node holds a live order, the table
    /// home and overflow node it will take. Returns the resting order's slot guess.
    #[inline(always)]
    fn prefetch_orders(&self, l: &OrderLookup) -> Option<OrderSlot> {
        let (instrument, resting) = match *l {
            OrderLookup::Resting {
                instrument,
                order_id,
            }
            | OrderLookup::Replace {
                instrument,
                old_order_id: order_id,
                ..
            } => (instrument, order_id),
            OrderLookup::Add {
                instrument,
                order_id,
                side,
                price,
            } => {
                // When its window node holds a live order, the new one goes to the table and
                // the pool's overflow: its table home and the overflow node it will take.
                self.prefetch_overflow(order_id);
                if let Some(book) = self.books.get(instrument.index()) {
                    prefetch(book.sides[side.index()].slot_addr(side_key(side, price)));
                }
                return None;
            }
        };
        if let OrderLookup::Replace { new_order_id, .. } = *l {
            self.prefetch_overflow(new_order_id);
        }
        // A slot from the map is a pool slot (only its id is unconfirmed).
        let slot = self.map.slot_hint(resting.0, &self.orders);
        if let Some(slot) = slot {
            prefetch_ref(self.orders.node(slot));
        }
        if let Some(book) = self.books.get(instrument.index()) {
            for side in &book.sides {
                if let Some(best) = side.best() {
                    prefetch_ref(self.levels.level(best.val));
                }
            }
        }
        slot
    }

    /// For a new reference whose window node holds a live order: its table home and the
    /// overflow node it will take (see `OrderMap::probe`).
    #[inline(always)]
    fn prefetch_overflow(&self, id: OrderId) {
        if let Some(home) = self.map.overflow_home_addr(id.0, &self.orders) {
            prefetch(home);
            if let Some(node) = self.orders.free_head_addr() {
                prefetch(node);
            }
        }
    }

    /// Pass 3: the resting order's level and queue neighbours (from the order, now cached);
    /// for an add, the level at its price. Returns that level's guess.
    #[inline(always)]
    fn prefetch_levels(&self, l: &OrderLookup, slot: Option<OrderSlot>) -> Option<LevelSlot> {
        match *l {
            OrderLookup::Resting { .. } | OrderLookup::Replace { .. } => {
                let node = self.orders.node(slot?);
                if let Some(prev) = node.prev.get() {
                    prefetch_ref(self.orders.node(prev));
                }
                if let Some(next) = node.next.get() {
                    prefetch_ref(self.orders.node(next));
                }
                prefetch_ref(self.levels.level(node.level));
                Some(node.level)
            }
            OrderLookup::Add {
                instrument,
                side,
                price,
                ..
            } => self.prefetch_level_at(instrument, side, price),
        }
    }

    /// Pass 4: for an add, the back of its level's queue (the order it will be linked
    /// behind); for a replace, the level the new order will join.
    #[inline(always)]
    fn prefetch_queues(&self, l: &OrderLookup, level: Option<LevelSlot>) {
        let Some(level) = level else {
            return;
        };
        let lvl = self.levels.level(level);
        match *l {
            OrderLookup::Add { .. } => {
                if let Some(tail) = lvl.tail.get() {
                    prefetch_ref(self.orders.node(tail));
                }
            }
            OrderLookup::Replace {
                instrument, price, ..
            } => {
                self.prefetch_level_at(instrument, lvl.side, price);
            }
            OrderLookup::Resting { .. } => {}
        }
    }

    /// Prefetches the level of `price` on `instrument`'s `side`, if there is one; its slot.
    #[inline(always)]
    fn prefetch_level_at(
        &self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
    ) -> Option<LevelSlot> {
        let level = self
            .books
            .get(instrument.index())
            .and_then(|b| b.sides[side.index()].get(side_key(side, price)))?;
        prefetch_ref(self.levels.level(level));
        Some(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::BookConfig;
    use crate::fixed::{Price, Qty};

    /// Prefetching reads only: the books answer the same afterwards, for ids live, removed,
    /// never seen, and for instruments without a book.
    #[test]
    fn prefetching_changes_nothing() {
        let mut books = L3Books::new(BookConfig {
            instruments: 2,
            order_capacity: 64,
            levels_per_side: 8,
        });
        let i = InstrumentId(1);
        let px = |c| Price::from_scaled(c, 2).unwrap();
        for id in 1..=20u64 {
            let side = if id % 2 == 0 { Side::Buy } else { Side::Sell };
            let price = if side == Side::Buy {
                px(10_000 - id as i64)
            } else {
                px(10_100 + id as i64)
            };
            books
                .add_order(i, OrderId(id), side, price, Qty::from_units(5).unwrap())
                .unwrap();
        }
        books.delete_order(i, OrderId(3)).unwrap();
        let before = (books.book_hash(i), books.stats(), books.live_orders());
        let lookups = [
            OrderLookup::Resting {
                instrument: i,
                order_id: OrderId(4),
            },
            OrderLookup::Resting {
                instrument: i,
                order_id: OrderId(3),
            },
            OrderLookup::Resting {
                instrument: InstrumentId(99),
                order_id: OrderId(999),
            },
            OrderLookup::Add {
                instrument: i,
                order_id: OrderId(21),
                side: Side::Buy,
                price: px(9_990),
            },
            OrderLookup::Add {
                instrument: i,
                order_id: OrderId(24),
                side: Side::Sell,
                price: px(1),
            },
            OrderLookup::Add {
                instrument: InstrumentId(0),
                order_id: OrderId(22),
                side: Side::Sell,
                price: px(10_101),
            },
            OrderLookup::Replace {
                instrument: i,
                old_order_id: OrderId(5),
                new_order_id: OrderId(23),
                price: px(10_110),
            },
        ];
        books.prefetch_batch(&lookups);
        books.prefetch_batch(&[]);
        // More than one chunk.
        books.prefetch_batch(&[lookups[0]; 3 * CHUNK + 1]);
        assert_eq!(
            (books.book_hash(i), books.stats(), books.live_orders()),
            before
        );
    }
}
