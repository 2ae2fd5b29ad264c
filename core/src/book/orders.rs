//! The order pool: a slab of order nodes addressed by `u32` slots, with a free list.
//!
//! Each node is linked into its level's FIFO queue (`prev`/`next` slots), so unlinking an order
//! anywhere in the queue is O(1).

use crate::fixed::Qty;

/// "No slot": the end of a queue or of the free list.
pub(crate) const NIL: u32 = u32::MAX;

/// One live (or free) order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderNode {
    /// Venue order id.
    pub(crate) id: u64,
    /// Remaining visible quantity.
    pub(crate) qty: Qty,
    /// Previous order in the level's queue (towards the front), or [`NIL`].
    pub(crate) prev: u32,
    /// Next order in the level's queue (towards the back), or [`NIL`]; the next free slot when
    /// the node is free.
    pub(crate) next: u32,
    /// The level (index in the level pool) the order rests in.
    pub(crate) level: u32,
}

/// Slab of order nodes.
#[derive(Clone, Debug)]
pub(crate) struct OrderPool {
    nodes: Vec<OrderNode>,
    free_head: u32,
}

impl OrderPool {
    /// A pool that holds `capacity` orders without growing.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            nodes: Vec::with_capacity(capacity),
            free_head: NIL,
        }
    }

    /// Takes a free slot for a new order that will join `level`'s queue behind `prev` (the
    /// caller links `prev.next`). Returns the slot and whether the slab had to grow past its
    /// capacity, or `None` when `u32` slots run out.
    #[inline]
    pub(crate) fn alloc(
        &mut self,
        id: u64,
        qty: Qty,
        prev: u32,
        level: u32,
    ) -> Option<(u32, bool)> {
        let node = OrderNode {
            id,
            qty,
            prev,
            next: NIL,
            level,
        };
        if self.free_head != NIL {
            let slot = self.free_head;
            let cell = &mut self.nodes[slot as usize];
            self.free_head = cell.next;
            *cell = node;
            return Some((slot, false));
        }
        let slot = u32::try_from(self.nodes.len()).ok().filter(|&s| s != NIL)?;
        let grew = self.nodes.len() == self.nodes.capacity();
        self.nodes.push(node);
        Some((slot, grew))
    }

    /// Returns a slot to the free list.
    #[inline]
    pub(crate) fn free(&mut self, slot: u32) {
        // Only the free-list link matters in a free node: nothing reads the rest until `alloc`
        // overwrites it.
        self.nodes[slot as usize].next = self.free_head;
        self.free_head = slot;
    }

    /// The node at `slot`.
    #[inline]
    pub(crate) fn node(&self, slot: u32) -> &OrderNode {
        &self.nodes[slot as usize]
    }

    /// The node at `slot`, mutably.
    #[inline]
    pub(crate) fn node_mut(&mut self, slot: u32) -> &mut OrderNode {
        &mut self.nodes[slot as usize]
    }

    /// The venue id stored in `slot`, if the slot exists.
    #[inline(always)]
    pub(crate) fn id_of(&self, slot: u32) -> Option<u64> {
        self.nodes.get(slot as usize).map(|n| n.id)
    }

    /// The node at `slot`, if the slot exists.
    #[inline]
    pub(crate) fn try_node(&self, slot: u32) -> Option<&OrderNode> {
        self.nodes.get(slot as usize)
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
        let mut pool = OrderPool::with_capacity(2);
        let (a, grew_a) = pool.alloc(1, Qty::ONE, NIL, 0).unwrap();
        let (b, grew_b) = pool.alloc(2, Qty::ONE, NIL, 0).unwrap();
        assert!(!grew_a && !grew_b);
        let (_, grew_c) = pool.alloc(3, Qty::ONE, NIL, 0).unwrap();
        assert!(grew_c);
        pool.free(a);
        pool.free(b);
        assert_eq!(pool.alloc(4, Qty::ONE, NIL, 7).unwrap(), (b, false));
        assert_eq!(pool.alloc(5, Qty::ONE, b, 7).unwrap(), (a, false));
        assert_eq!(pool.node(a).id, 5);
        assert_eq!(pool.node(a).level, 7);
        assert_eq!(pool.node(a).prev, b);
    }
}
