//! The order pool: a slab of order nodes addressed by [`OrderSlot`]s, with a free list.
//!
//! Each node is linked into its level's FIFO queue (`prev`/`next` [`OrderLink`]s), so unlinking
//! an order anywhere in the queue is O(1).
//!
//! Slots are a type only this pool mints ([`OrderPool::alloc`]: the slab's length before a push,
//! or a slot from its free list, which holds only slots it minted earlier), and the slab never
//! shrinks (no method removes a node; `Clone` copies it whole). So every slot is below the
//! slab's length for as long as the pool lives, and reading a node at a slot needs no bounds
//! check: this module reads and writes the slab unchecked, each access with a `debug_assert!`
//! of the invariant. A slot belongs to the pool that minted it; the one user, `L3Books`, owns
//! one pool and never passes slots between books.
#![allow(
    unsafe_code,
    reason = "unchecked slab access at pool-minted slots; sound because the slab never shrinks"
)]

use crate::fixed::Qty;

use super::levels::LevelSlot;

/// "No slot" as a raw link: the end of a queue or of the free list.
pub(crate) const NIL: u32 = u32::MAX;

/// A slot of the [`OrderPool`]: minted only by [`OrderPool::alloc`], so always in the slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderSlot(u32);

impl OrderSlot {
    /// The slot's index in the slab.
    #[inline(always)]
    pub(crate) const fn index(self) -> usize {
        self.0 as usize
    }

    /// A made-up slot for the order map's unit tests, which hold slots but never read a pool.
    #[cfg(test)]
    pub(crate) const fn for_test(raw: u32) -> Self {
        Self(raw)
    }
}

/// A queue (or free-list) link: an [`OrderSlot`] or none. Made only from a slot or as
/// [`OrderLink::NONE`], so a link that is some slot is a pool-minted slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderLink(u32);

impl OrderLink {
    /// No order.
    pub(crate) const NONE: Self = Self(NIL);

    /// A link to `slot`.
    #[inline(always)]
    pub(crate) const fn to(slot: OrderSlot) -> Self {
        Self(slot.0)
    }

    /// The slot linked to, if any.
    #[inline(always)]
    pub(crate) const fn get(self) -> Option<OrderSlot> {
        if self.0 == NIL {
            None
        } else {
            Some(OrderSlot(self.0))
        }
    }

    /// Whether this links to no order.
    #[inline(always)]
    pub(crate) const fn is_none(self) -> bool {
        self.0 == NIL
    }

    /// The slot linked to, or `fallback` when the link is none: a select, not a branch, for
    /// the queue updates whose "is there a neighbour" is a coin toss.
    #[inline(always)]
    pub(crate) fn or(self, fallback: OrderSlot) -> OrderSlot {
        OrderSlot(core::hint::select_unpredictable(
            self.0 == NIL,
            fallback.0,
            self.0,
        ))
    }
}

/// One live (or free) order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderNode {
    /// Venue order id.
    pub(crate) id: u64,
    /// Remaining visible quantity.
    pub(crate) qty: Qty,
    /// Previous order in the level's queue (towards the front).
    pub(crate) prev: OrderLink,
    /// Next order in the level's queue (towards the back); the next free slot when the node
    /// is free.
    pub(crate) next: OrderLink,
    /// The level the order rests in.
    pub(crate) level: LevelSlot,
}

/// Slab of order nodes.
#[derive(Clone, Debug)]
pub(crate) struct OrderPool {
    nodes: Vec<OrderNode>,
    free_head: OrderLink,
}

impl OrderPool {
    /// A pool that holds `capacity` orders without growing.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            nodes: Vec::with_capacity(capacity),
            free_head: OrderLink::NONE,
        }
    }

    /// Takes a free slot for a new order that will join `level`'s queue behind `prev` (the
    /// caller links `prev.next`). Returns the slot and whether the slab had to grow past its
    /// capacity, or `None` when `u32` slots run out. A slot from the free list is taken inline;
    /// a new one is pushed out of line.
    #[inline(always)]
    pub(crate) fn alloc(
        &mut self,
        id: u64,
        qty: Qty,
        prev: OrderLink,
        level: LevelSlot,
    ) -> Option<(OrderSlot, bool)> {
        let node = OrderNode {
            id,
            qty,
            prev,
            next: OrderLink::NONE,
            level,
        };
        if let Some(slot) = self.free_head.get() {
            let cell = self.node_mut(slot);
            let next_free = cell.next;
            *cell = node;
            self.free_head = next_free;
            return Some((slot, false));
        }
        self.push(node)
    }

    /// Appends `node` to the slab (the free list is empty): its slot and whether the slab grew.
    #[cold]
    #[inline(never)]
    fn push(&mut self, node: OrderNode) -> Option<(OrderSlot, bool)> {
        let raw = u32::try_from(self.nodes.len()).ok().filter(|&s| s != NIL)?;
        let grew = self.nodes.len() == self.nodes.capacity();
        self.nodes.push(node);
        if grew {
            // The slab moved to a larger buffer: ask for huge pages again (see `huge`).
            self.advise_huge();
        }
        Some((OrderSlot(raw), grew))
    }

    /// Returns a slot to the free list.
    #[inline]
    pub(crate) fn free(&mut self, slot: OrderSlot) {
        // Only the free-list link matters in a free node: nothing reads the rest until `alloc`
        // overwrites it.
        let head = self.free_head;
        self.node_mut(slot).next = head;
        self.free_head = OrderLink::to(slot);
    }

    /// The node at `slot`.
    #[inline(always)]
    pub(crate) fn node(&self, slot: OrderSlot) -> &OrderNode {
        debug_assert!(slot.index() < self.nodes.len());
        // SAFETY: `slot` was minted by this pool's `alloc`, so it is below the slab's length
        // at that time, and the slab never shrinks.
        unsafe { self.nodes.get_unchecked(slot.index()) }
    }

    /// The node at `slot`, mutably.
    #[inline(always)]
    pub(crate) fn node_mut(&mut self, slot: OrderSlot) -> &mut OrderNode {
        debug_assert!(slot.index() < self.nodes.len());
        // SAFETY: as in `node`: a minted slot is below the length, which never shrinks.
        unsafe { self.nodes.get_unchecked_mut(slot.index()) }
    }

    /// The venue id stored in `slot`.
    #[inline(always)]
    pub(crate) fn id_of(&self, slot: OrderSlot) -> u64 {
        self.node(slot).id
    }

    /// Asks for the pool's buffer (its whole capacity) to be backed by huge pages (see
    /// `huge`); the bytes advised.
    pub(crate) fn advise_huge(&self) -> usize {
        super::huge::advise_huge(self.nodes.as_ptr(), self.nodes.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_lifo_and_growth_is_reported() {
        let level = LevelSlot::for_test(7);
        let mut pool = OrderPool::with_capacity(2);
        let (a, grew_a) = pool.alloc(1, Qty::ONE, OrderLink::NONE, level).unwrap();
        let (b, grew_b) = pool.alloc(2, Qty::ONE, OrderLink::NONE, level).unwrap();
        assert!(!grew_a && !grew_b);
        let (_, grew_c) = pool.alloc(3, Qty::ONE, OrderLink::NONE, level).unwrap();
        assert!(grew_c);
        pool.free(a);
        pool.free(b);
        assert_eq!(
            pool.alloc(4, Qty::ONE, OrderLink::NONE, level).unwrap(),
            (b, false)
        );
        assert_eq!(
            pool.alloc(5, Qty::ONE, OrderLink::to(b), level).unwrap(),
            (a, false)
        );
        assert_eq!(pool.node(a).id, 5);
        assert_eq!(pool.node(a).level, level);
        assert_eq!(pool.node(a).prev, OrderLink::to(b));
        assert_eq!(pool.id_of(b), 4);
    }

    #[test]
    fn links_round_trip() {
        let mut pool = OrderPool::with_capacity(1);
        let (s, _) = pool
            .alloc(9, Qty::ONE, OrderLink::NONE, LevelSlot::for_test(0))
            .unwrap();
        assert_eq!(OrderLink::to(s).get(), Some(s));
        assert!(OrderLink::NONE.is_none() && OrderLink::NONE.get().is_none());
        assert!(!OrderLink::to(s).is_none());
    }

    #[test]
    fn or_falls_back_only_for_no_link() {
        let mut pool = OrderPool::with_capacity(2);
        let level = LevelSlot::for_test(0);
        let (a, _) = pool.alloc(1, Qty::ONE, OrderLink::NONE, level).unwrap();
        let (b, _) = pool.alloc(2, Qty::ONE, OrderLink::to(a), level).unwrap();
        assert_eq!(OrderLink::to(a).or(b), a);
        assert_eq!(OrderLink::to(b).or(a), b);
        assert_eq!(OrderLink::NONE.or(a), a);
        assert_eq!(OrderLink::NONE.or(b), b);
    }
}
