//! The order records: a slab of order nodes addressed by [`OrderSlot`]s.
//!
//! The slab's first `W` nodes are the order map's **window** (see `order_map`): the record of
//! an order whose reference the window holds lives at the slot `reference & (W - 1)`, so a
//! look-up by reference reads one node, on one line, and finds the order itself (its id,
//! quantity, level and queue links). The nodes above `W` are the **overflow**: records of
//! orders whose references the map's hash table holds (sparse references, and a dense one
//! whose window slot was taken by an older live order), handed out from a free list. A record
//! never moves while its order lives, so queue links (`prev`/`next` [`OrderLink`]s) are slots
//! and unlinking an order anywhere in its queue is O(1).
//!
//! A window node is free when its id is [`FREE_ID`] (no window reference is that large); it
//! keeps `seen`, the highest `reference >> log2(W)` the map ever stored at its index (see
//! `order_map`), across frees.
//!
//! Slots are a type only this pool mints ([`OrderPool::alloc`] and [`OrderPool::window_slot`]:
//! below the slab's length), and the slab never shrinks (no method removes a node; `Clone`
//! copies it whole). So every slot is below the slab's length for as long as the pool lives,
//! and reading a node at a slot needs no bounds check: this module reads and writes the slab
//! unchecked, each access with a `debug_assert!` of the invariant. A slot belongs to the pool
//! that minted it; the one user, `L3Books`, owns one pool and never passes slots between
//! books.
#![allow(
    unsafe_code,
    reason = "unchecked slab access at pool-minted slots; sound because the slab never shrinks"
)]

use crate::fixed::Qty;

use super::ladder::RungValue;
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

/// One live (or free) order. Aligned to half a cache line, so that a node never straddles two
/// lines (the slab's buffer is aligned as its element).
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
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
    /// Window nodes only: the highest `reference >> log2(W)` the order map stored at this
    /// index (kept while the node is free).
    pub(crate) seen: u32,
}

/// The id of a free window node: no reference the window holds is this large.
pub(crate) const FREE_ID: u64 = u64::MAX;

/// A free window node that has seen no reference.
const FREE_NODE: OrderNode = OrderNode {
    id: FREE_ID,
    qty: Qty::ZERO,
    prev: OrderLink::NONE,
    next: OrderLink::NONE,
    level: <LevelSlot as RungValue>::VACANT,
    seen: 0,
};

/// Slab of order nodes: the window's `window` nodes, then the overflow.
#[derive(Clone, Debug)]
pub(crate) struct OrderPool {
    nodes: Vec<OrderNode>,
    /// Nodes of the window (a power of two, at most `NIL`).
    window: usize,
    /// Free overflow nodes (window nodes are never on it).
    free_head: OrderLink,
}

impl OrderPool {
    /// A pool with `window` window nodes (all free) that holds `capacity` overflow orders
    /// without growing. The slab asks for huge pages before the window is written.
    pub(crate) fn with_capacity(window: usize, capacity: usize) -> Self {
        assert!(window.is_power_of_two() && window < NIL as usize);
        let mut nodes = Vec::with_capacity(window + capacity);
        super::huge::advise_huge(nodes.as_ptr(), nodes.capacity());
        nodes.resize(window, FREE_NODE);
        Self {
            nodes,
            window,
            free_head: OrderLink::NONE,
        }
    }

    /// The window node at index `i & (W - 1)`.
    #[inline(always)]
    pub(crate) fn window_slot(&self, i: usize) -> OrderSlot {
        let i = i & (self.window - 1);
        debug_assert!(i < self.nodes.len());
        // `i < window <= len` (the window is pushed at construction and never shrinks), and
        // `window < NIL`, so the index fits a slot.
        OrderSlot(i as u32)
    }

    /// Nodes of the window.
    #[inline(always)]
    pub(crate) fn window_len(&self) -> usize {
        self.window
    }

    /// Whether `slot` is a window node.
    #[inline(always)]
    pub(crate) fn in_window(&self, slot: OrderSlot) -> bool {
        slot.index() < self.window
    }

    /// Stores a new order in the free window node `slot` (from [`OrderPool::window_slot`]),
    /// behind `prev` in `level`'s queue; `seen` becomes at least `hi`.
    #[inline(always)]
    pub(crate) fn put_window(
        &mut self,
        slot: OrderSlot,
        id: u64,
        qty: Qty,
        prev: OrderLink,
        level: LevelSlot,
        hi: u32,
    ) {
        debug_assert!(self.in_window(slot));
        let cell = self.node_mut(slot);
        debug_assert!(cell.id == FREE_ID);
        let seen = cell.seen.max(hi);
        *cell = OrderNode {
            id,
            qty,
            prev,
            next: OrderLink::NONE,
            level,
            seen,
        };
    }

    /// Raises the window node `slot`'s `seen` to at least `hi` (an id of its index stored in
    /// the table).
    #[inline(always)]
    pub(crate) fn raise_seen(&mut self, slot: OrderSlot, hi: u32) {
        debug_assert!(self.in_window(slot));
        let cell = self.node_mut(slot);
        cell.seen = cell.seen.max(hi);
    }

    /// Takes a free overflow slot for a new order that will join `level`'s queue behind `prev`
    /// (the caller links `prev.next`). Returns the slot and whether the slab had to grow past
    /// its capacity, or `None` when `u32` slots run out. A slot from the free list is taken
    /// inline; a new one is pushed out of line.
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
            seen: 0,
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

    /// Frees a slot: a window node is marked free (keeping `seen`), an overflow node returns
    /// to the free list.
    #[inline]
    pub(crate) fn free(&mut self, slot: OrderSlot) {
        if self.in_window(slot) {
            self.node_mut(slot).id = FREE_ID;
            return;
        }
        // Only the free-list link matters in a free overflow node: nothing reads the rest
        // until `alloc` overwrites it.
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

    /// The address of the window node at `i & (W - 1)`, for a prefetch (it is not read).
    #[inline(always)]
    pub(crate) fn window_addr(&self, i: usize) -> *const u8 {
        // Inside the window, which is inside the slab.
        self.nodes
            .as_ptr()
            .wrapping_add(i & (self.window - 1))
            .cast()
    }

    /// The address of the overflow node the next [`OrderPool::alloc`] takes from the free
    /// list, if any, for a prefetch.
    #[inline(always)]
    pub(crate) fn free_head_addr(&self) -> Option<*const u8> {
        let slot = self.free_head.get()?;
        Some(core::ptr::from_ref(self.node(slot)).cast())
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
    fn overflow_slots_are_reused_lifo_and_growth_is_reported() {
        let level = LevelSlot::for_test(7);
        let mut pool = OrderPool::with_capacity(16, 2);
        let (a, grew_a) = pool.alloc(1, Qty::ONE, OrderLink::NONE, level).unwrap();
        let (b, grew_b) = pool.alloc(2, Qty::ONE, OrderLink::NONE, level).unwrap();
        assert!(!grew_a && !grew_b);
        assert!(!pool.in_window(a) && !pool.in_window(b));
        assert_eq!((a.index(), b.index()), (16, 17));
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
    fn window_nodes_are_free_until_put_and_keep_seen_when_freed() {
        let level = LevelSlot::for_test(1);
        let mut pool = OrderPool::with_capacity(16, 4);
        let w = pool.window_slot(16 + 5);
        assert_eq!(w.index(), 5);
        assert!(pool.in_window(w));
        assert_eq!(pool.id_of(w), FREE_ID);
        assert_eq!(pool.node(w).seen, 0);
        pool.put_window(w, 21, Qty::ONE, OrderLink::NONE, level, 1);
        assert_eq!((pool.id_of(w), pool.node(w).seen), (21, 1));
        pool.raise_seen(w, 3);
        pool.raise_seen(w, 2);
        assert_eq!(pool.node(w).seen, 3);
        pool.free(w);
        assert_eq!((pool.id_of(w), pool.node(w).seen), (FREE_ID, 3));
        // A freed window node never joins the overflow free list.
        let (o, _) = pool.alloc(9, Qty::ONE, OrderLink::NONE, level).unwrap();
        assert_eq!(o.index(), 16);
        assert_eq!(pool.free_head_addr(), None);
        pool.put_window(w, 5, Qty::ONE, OrderLink::NONE, level, 0);
        assert_eq!((pool.id_of(w), pool.node(w).seen), (5, 3));
        assert_eq!(
            pool.window_addr(5),
            core::ptr::from_ref(pool.node(w)).cast()
        );
    }

    #[test]
    fn links_round_trip() {
        let mut pool = OrderPool::with_capacity(16, 1);
        let (s, _) = pool
            .alloc(9, Qty::ONE, OrderLink::NONE, LevelSlot::for_test(0))
            .unwrap();
        assert_eq!(OrderLink::to(s).get(), Some(s));
        assert!(OrderLink::NONE.is_none() && OrderLink::NONE.get().is_none());
        assert!(!OrderLink::to(s).is_none());
    }

    #[test]
    fn or_falls_back_only_for_no_link() {
        let mut pool = OrderPool::with_capacity(16, 2);
        let level = LevelSlot::for_test(0);
        let (a, _) = pool.alloc(1, Qty::ONE, OrderLink::NONE, level).unwrap();
        let (b, _) = pool.alloc(2, Qty::ONE, OrderLink::to(a), level).unwrap();
        assert_eq!(OrderLink::to(a).or(b), a);
        assert_eq!(OrderLink::to(b).or(a), b);
        assert_eq!(OrderLink::NONE.or(a), a);
        assert_eq!(OrderLink::NONE.or(b), b);
    }

    #[test]
    fn a_node_is_half_a_line() {
        assert_eq!(core::mem::size_of::<OrderNode>(), 32);
        assert_eq!(core::mem::align_of::<OrderNode>(), 32);
        let pool = OrderPool::with_capacity(16, 4);
        assert_eq!(pool.window_addr(0) as usize % 32, 0);
    }
}
