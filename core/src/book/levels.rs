//! The level pool: price levels of every L3 book, addressed by [`LevelSlot`]s, with a free
//! list.
//!
//! A level holds the aggregated quantity and the head and tail of its FIFO queue of orders.
//! Orders point at their level, so executions and cancels update the level in O(1) without
//! searching the side's ladder.
//!
//! As in the order pool, slots are a type only this pool mints ([`LevelPool::alloc`]) and the
//! slab never shrinks, so every slot indexes the slab without a bounds check (unchecked access
//! here, each with a `debug_assert!` of the invariant).
#![allow(
    unsafe_code,
    reason = "unchecked slab access at pool-minted slots; sound because the slab never shrinks"
)]

use crate::fixed::{Price, Qty};
use crate::side::Side;

use super::orders::{NIL, OrderLink};

/// A slot of the [`LevelPool`]: minted only by [`LevelPool::alloc`], so always in the slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LevelSlot(u32);

impl LevelSlot {
    /// The slot's index in the slab.
    #[inline(always)]
    pub(crate) const fn index(self) -> usize {
        self.0 as usize
    }

    /// A made-up slot for unit tests that never read a level pool with it.
    #[cfg(test)]
    pub(crate) const fn for_test(raw: u32) -> Self {
        Self(raw)
    }
}

impl super::ladder::RungValue for LevelSlot {
    /// The filler of a ladder's unoccupied window slots: never returned by the ladder (its
    /// occupancy bit is clear), so never used to index the pool.
    const VACANT: Self = Self(u32::MAX);
    /// `alloc` never mints `u32::MAX` ([`NIL`]), so a slot holding it is unoccupied.
    const VACANT_IS_UNIQUE: bool = true;

    #[inline(always)]
    fn is_vacant(self) -> bool {
        self.0 == NIL
    }
}

/// One price level of one side of one instrument. Aligned to half a cache line, so that a
/// level never straddles two lines (the slab's buffer is aligned as its element).
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
pub(crate) struct Level {
    /// Level price.
    pub(crate) price: Price,
    /// Sum of the resting orders' quantities.
    pub(crate) qty: Qty,
    /// Front of the queue (oldest order).
    pub(crate) head: OrderLink,
    /// Back of the queue (newest order).
    pub(crate) tail: OrderLink,
    /// Instrument index; the next free slot ([`NIL`]: none) while the level is free.
    pub(crate) instrument: u32,
    /// Book side.
    pub(crate) side: Side,
}

/// Slab of levels.
#[derive(Clone, Debug)]
pub(crate) struct LevelPool {
    levels: Vec<Level>,
    /// First free slot, or [`NIL`].
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

    /// A new empty level; returns its slot and whether the slab grew past its capacity, or
    /// `None` when `u32` indices run out.
    #[inline]
    pub(crate) fn alloc(
        &mut self,
        price: Price,
        instrument: u32,
        side: Side,
    ) -> Option<(LevelSlot, bool)> {
        let level = Level {
            price,
            qty: Qty::ZERO,
            head: OrderLink::NONE,
            tail: OrderLink::NONE,
            instrument,
            side,
        };
        if self.free_head != NIL {
            // The free list holds only slots this pool minted and `free` took back.
            let slot = LevelSlot(self.free_head);
            let cell = self.level_mut(slot);
            let next_free = cell.instrument;
            *cell = level;
            self.free_head = next_free;
            return Some((slot, false));
        }
        let raw = u32::try_from(self.levels.len())
            .ok()
            .filter(|&i| i != NIL)?;
        let grew = self.levels.len() == self.levels.capacity();
        self.levels.push(level);
        if grew {
            // The slab moved to a larger buffer: ask for huge pages again (see `huge`).
            self.advise_huge();
        }
        Some((LevelSlot(raw), grew))
    }

    /// Returns a level to the free list.
    #[inline]
    pub(crate) fn free(&mut self, slot: LevelSlot) {
        // Only the free-list link matters in a free level: `alloc` overwrites the rest.
        let head = self.free_head;
        self.level_mut(slot).instrument = head;
        self.free_head = slot.0;
    }

    /// The level at `slot`.
    #[inline(always)]
    pub(crate) fn level(&self, slot: LevelSlot) -> &Level {
        debug_assert!(slot.index() < self.levels.len());
        // SAFETY: `slot` was minted by this pool's `alloc`, so it is below the slab's length
        // at that time, and the slab never shrinks.
        unsafe { self.levels.get_unchecked(slot.index()) }
    }

    /// The level at `slot`, mutably.
    #[inline(always)]
    pub(crate) fn level_mut(&mut self, slot: LevelSlot) -> &mut Level {
        debug_assert!(slot.index() < self.levels.len());
        // SAFETY: as in `level`: a minted slot is below the length, which never shrinks.
        unsafe { self.levels.get_unchecked_mut(slot.index()) }
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
    fn a_level_is_half_a_line_and_never_straddles_two() {
        assert_eq!(core::mem::size_of::<Level>(), 32);
        assert_eq!(core::mem::align_of::<Level>(), 32);
        let mut pool = LevelPool::with_capacity(4);
        for k in 0..4 {
            let (slot, _) = pool.alloc(Price::ONE, k, Side::Buy).unwrap();
            assert_eq!(core::ptr::from_ref(pool.level(slot)) as usize % 32, 0);
        }
    }

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
        assert_eq!(
            (level.qty, level.head, level.tail),
            (Qty::ZERO, OrderLink::NONE, OrderLink::NONE)
        );
        assert_eq!((level.instrument, level.side), (1, Side::Buy));
        let (c, grew) = pool.alloc(Price::ONE, 0, Side::Buy).unwrap();
        assert!(grew);
        pool.free(b);
        pool.free(c);
        // Last freed, first reused; the free link does not leak into a reused level.
        assert_eq!(pool.alloc(Price::ONE, 5, Side::Sell).unwrap(), (c, false));
        assert_eq!(pool.alloc(Price::ONE, 6, Side::Sell).unwrap(), (b, false));
        assert_eq!(pool.level(b).instrument, 6);
    }
}
