//! The level pool: price levels of every L3 book, addressed by `u32` index, with a free list.
//!
//! A level holds the aggregated quantity and the head and tail of its FIFO queue of orders.
//! Orders point at their level, so executions and cancels update the level in O(1) without
//! searching the side's sorted vector.

use crate::fixed::{Price, Qty};
use crate::side::Side;

use super::orders::NIL;

/// One price level of one side of one instrument.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level {
    /// Level price.
    pub(crate) price: Price,
    /// Sum of the resting orders' quantities.
    pub(crate) qty: Qty,
    /// Front of the queue (oldest order), or [`NIL`].
    pub(crate) head: u32,
    /// Back of the queue (newest order), or [`NIL`]; the next free index when free.
    pub(crate) tail: u32,
    /// Instrument index.
    pub(crate) instrument: u32,
    /// Book side.
    pub(crate) side: Side,
}

/// Slab of levels.
#[derive(Clone, Debug)]
pub(crate) struct LevelPool {
    levels: Vec<Level>,
    free_head: u32,
}

impl LevelPool {
    /// A pool holding `capacity` levels without growing.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            levels: Vec::with_capacity(capacity),
            free_head: NIL,
        }
    }

    /// A new empty level; returns its index and whether the slab grew past its capacity, or
    /// `None` when `u32` indices run out.
    #[inline]
    pub(crate) fn alloc(
        &mut self,
        price: Price,
        instrument: u32,
        side: Side,
    ) -> Option<(u32, bool)> {
        let level = Level {
            price,
            qty: Qty::ZERO,
            head: NIL,
            tail: NIL,
            instrument,
            side,
        };
        if self.free_head != NIL {
            let index = self.free_head;
            let cell = &mut self.levels[index as usize];
            self.free_head = cell.tail;
            *cell = level;
            return Some((index, false));
        }
        let index = u32::try_from(self.levels.len())
            .ok()
            .filter(|&i| i != NIL)?;
        let grew = self.levels.len() == self.levels.capacity();
        self.levels.push(level);
        Some((index, grew))
    }

    /// Returns a level to the free list.
    #[inline]
    pub(crate) fn free(&mut self, index: u32) {
        // Only the free-list link matters in a free level: `alloc` overwrites the rest.
        self.levels[index as usize].tail = self.free_head;
        self.free_head = index;
    }

    /// The level at `index`.
    #[inline]
    pub(crate) fn level(&self, index: u32) -> &Level {
        &self.levels[index as usize]
    }

    /// The level at `index`, mutably.
    #[inline]
    pub(crate) fn level_mut(&mut self, index: u32) -> &mut Level {
        &mut self.levels[index as usize]
    }

    /// The level at `index`, if there is one (for a prefetch from an unconfirmed guess).
    #[inline(always)]
    pub(crate) fn try_level(&self, index: u32) -> Option<&Level> {
        self.levels.get(index as usize)
    }

    /// Asks for the pool's buffer (its whole capacity) to be backed by huge pages (see
    /// `huge`); the bytes advised.
    pub(crate) fn advise_huge(&self) -> usize {
        super::huge::advise_huge(self.levels.as_ptr(), self.levels.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_reused() {
        let mut pool = LevelPool::with_capacity(1);
        let (a, grew) = pool.alloc(Price::ONE, 3, Side::Sell).unwrap();
        assert!(!grew);
        pool.level_mut(a).qty = Qty::ONE;
        pool.free(a);
        let (b, grew) = pool.alloc(Price::ZERO, 1, Side::Buy).unwrap();
        assert_eq!((a, grew), (b, false));
        let level = pool.level(b);
        assert_eq!((level.qty, level.head, level.tail), (Qty::ZERO, NIL, NIL));
        assert_eq!((level.instrument, level.side), (1, Side::Buy));
        assert!(pool.alloc(Price::ONE, 0, Side::Buy).unwrap().1);
    }
}
