//! Map from venue order id to order-pool slot: a direct-indexed window of order records for
//! recent ids in front of an open-addressing hash table for the rest.
//!
//! **The window.** Dense ITCH references are handed out in time order, so the live orders of a
//! feed cluster just below the highest reference seen. The window is the first `W` (a power of
//! two) nodes of the order pool (`orders`): the record of an id the window holds *is* the pool
//! node at index `id & (W - 1)`, so a live id found there costs one load, on one line, which
//! holds the whole order (id, quantity, level, queue links), and needs no second look-up. Each
//! window node also keeps `seen`, the highest `hi` (`id >> log2(W)`) ever stored at its index,
//! in the window or in the table, which gives the invariant every look-up relies on: at each
//! index, a live id is the node (its id equals the node's) or is in the hash table, and no
//! live id has a `hi` above `seen`. So a new id above `seen` (every new dense reference) is
//! known absent after one load, and only an id at or below `seen` that is not the node needs
//! the hash table. A record never moves while its order lives: a new id whose window node
//! holds a live (older) order goes to the table, with its record in the pool's overflow, and
//! the older order keeps its node; queue links stay valid without rewriting a neighbour. For a
//! dense stream, that is a new order meeting an order at least `W` references older that is
//! still live. Ids too large for a 32-bit `hi` always use the table. Sparse references need no
//! detection: they use the window as a direct-mapped table, and an id meeting another live
//! one at its index goes to the table.
//!
//! **The table.** Linear probing over a power-of-two table of 8-byte `{tag, slot}` entries, a
//! Fibonacci (multiplicative) hash that spreads both dense (1, 2, 3, ...) and sparse (offset by
//! 10^8) ids, and backward-shift deletion (no tombstones, so probe lengths stay short under
//! churn). The tag is the top 32 bits of the hash: its top bits are the entry's home position
//! (so moving and rehashing need no id), and an entry whose tag matches is confirmed against
//! the id stored in the order pool, so the table holds no ids and stays half the size of an
//! `{id, slot}` table. Sized at start for half load at the configured order capacity; it
//! doubles only when it would pass 7/8 load, and the caller counts that.
//!
//! This is one of the book's modules with `unsafe` code: the table is read and written at
//! `pos & mask` without a bounds check, sound for every `pos` because its length is always its
//! `mask + 1` (set together in `set_table`, the only place either changes).
#![allow(
    unsafe_code,
    reason = "unchecked table access at a masked position; sound by the length == mask + 1 invariant"
)]

/// 2^64 / golden ratio: the Fibonacci hashing multiplier.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;
/// Largest table: homes come from the 32-bit tag.
const MAX_TABLE: usize = 1 << 32;
/// Window sizes: at least this many records (512 bytes) ...
const MIN_WINDOW: usize = 1 << 4;
/// ... and at most this many (128 MiB).
const MAX_WINDOW: usize = 1 << 22;
/// A [`Probe`] position in the window (else in the table): the top bit of a `usize`.
const IN_WINDOW: usize = 1 << (usize::BITS - 1);

use super::orders::{FREE_ID, OrderLink, OrderPool, OrderSlot};

/// One table entry: the id's tag and its order-pool slot ([`OrderLink::NONE`]: empty).
#[derive(Clone, Copy, Debug)]
struct Entry {
    tag: u32,
    slot: OrderLink,
}

const VACANT: Entry = Entry {
    tag: 0,
    slot: OrderLink::NONE,
};

/// The top 32 bits of the id's Fibonacci hash.
#[inline(always)]
fn tag_of(id: u64) -> u32 {
    (id.wrapping_mul(FIB) >> 32) as u32
}

/// Where an id is, or where it would go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The id is present: its position (window or table) and its slot.
    Found { pos: usize, slot: OrderSlot },
    /// The id is absent; it would be stored at this position (window or table).
    Vacant { pos: usize },
}

/// Order id -> pool slot.
#[derive(Clone, Debug)]
pub(crate) struct OrderMap {
    /// Window records (the order pool's first nodes): `W - 1`.
    wmask: usize,
    /// `log2(W)`: an id shifted right by this is its `hi`.
    wshift: u32,
    /// `2^(32 + wshift)`: the ids whose `hi` fits 32 bits are below this.
    wlimit: u64,
    /// The hash table.
    entries: Vec<Entry>,
    /// `entries.len() - 1`.
    mask: usize,
    /// Ids the table holds before it must double (7/8 load).
    max_len: usize,
    /// `32 - log2(table)`: a tag shifted right by this is its home.
    shift: u32,
    /// Ids in the table.
    table_len: usize,
    /// Ids held (window and table).
    len: usize,
}

impl OrderMap {
    /// The window for `capacity` orders: `capacity` rounded up to a power of two, 16 to
    /// 2^22 records. The order pool is made with this many window nodes.
    pub(crate) fn window_for(capacity: usize) -> usize {
        capacity
            .max(1)
            .next_power_of_two()
            .clamp(MIN_WINDOW, MAX_WINDOW)
    }

    /// A map that holds `capacity` ids at no more than half load in its table, with the
    /// window of [`OrderMap::window_for`]`(capacity)` records.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self::with_sizes(
            Self::window_for(capacity),
            capacity.saturating_mul(2).max(16).next_power_of_two(),
        )
    }

    /// A map over a window of `window` pool nodes and a table of `table` entries.
    pub(crate) fn with_sizes(window: usize, table: usize) -> Self {
        debug_assert!(window.is_power_of_two());
        let mut map = Self {
            wmask: window - 1,
            wshift: window.trailing_zeros(),
            wlimit: 1 << (32 + window.trailing_zeros()),
            entries: Vec::new(),
            mask: 0,
            max_len: 0,
            shift: 0,
            table_len: 0,
            len: 0,
        };
        map.set_table(table);
        map
    }

    /// Window records the map expects the pool to hold.
    pub(crate) fn window_len(&self) -> usize {
        self.wmask + 1
    }

    /// Replaces the table by an empty one of `table` entries (capped); returns the old one.
    fn set_table(&mut self, table: usize) -> Vec<Entry> {
        let table = table.min(MAX_TABLE);
        self.mask = table - 1;
        self.max_len = table / 8 * 7;
        self.shift = 32 - table.trailing_zeros();
        self.table_len = 0;
        core::mem::replace(&mut self.entries, vec![VACANT; table])
    }

    /// Number of ids held.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of ids held in the hash table (the rest are in the window).
    #[inline]
    pub(crate) fn table_len(&self) -> usize {
        self.table_len
    }

    /// The table entry at `pos & mask`.
    #[inline(always)]
    fn at(&self, pos: usize) -> Entry {
        let i = pos & self.mask;
        debug_assert!(i < self.entries.len() && self.entries.len() == self.mask + 1);
        // SAFETY: `i <= mask` and the table holds exactly `mask + 1` entries (`set_table`
        // sets both; nothing else resizes `entries` or changes `mask`), so `i` is in bounds.
        unsafe { *self.entries.get_unchecked(i) }
    }

    /// Writes the table entry at `pos & mask`.
    #[inline(always)]
    fn set(&mut self, pos: usize, e: Entry) {
        let i = pos & self.mask;
        debug_assert!(i < self.entries.len() && self.entries.len() == self.mask + 1);
        // SAFETY: as in `at`: `i <= mask` and the table holds exactly `mask + 1` entries.
        unsafe { *self.entries.get_unchecked_mut(i) = e }
    }

    /// `id`'s window index and `hi`, or `None` when its `hi` does not fit 32 bits.
    #[inline(always)]
    pub(crate) fn win_key(&self, id: u64) -> Option<(usize, u32)> {
        if id >= self.wlimit {
            return None;
        }
        Some((id as usize & self.wmask, (id >> self.wshift) as u32))
    }

    #[inline(always)]
    fn home(&self, tag: u32) -> usize {
        // The shift keeps the top bits of the tag, which are at most log2(table) wide.
        (tag >> self.shift) as usize
    }

    /// Finds `id` or the position it would take (the window when its node there is free,
    /// else the table), reading the window node of `pool` (the pool made with
    /// [`OrderMap::window_len`] window nodes).
    #[inline(always)]
    pub(crate) fn probe(&self, id: u64, pool: &OrderPool) -> Probe {
        debug_assert_eq!(pool.window_len(), self.window_len());
        let Some((i, hi)) = self.win_key(id) else {
            return self.probe_table(id, pool);
        };
        let slot = pool.window_slot(i);
        let node = pool.node(slot);
        if node.id == id {
            return Probe::Found {
                pos: IN_WINDOW | i,
                slot,
            };
        }
        let free = node.id == FREE_ID;
        if hi > node.seen && free {
            // Never stored at this index: absent, and the node is free.
            return Probe::Vacant { pos: IN_WINDOW | i };
        }
        match self.probe_table(id, pool) {
            Probe::Vacant { .. } if free => Probe::Vacant { pos: IN_WINDOW | i },
            p => p,
        }
    }

    /// [`OrderMap::probe`] in the table.
    #[inline(always)]
    fn probe_table(&self, id: u64, pool: &OrderPool) -> Probe {
        let tag = tag_of(id);
        let mut pos = self.home(tag);
        loop {
            let e = self.at(pos);
            let Some(slot) = e.slot.get() else {
                return Probe::Vacant { pos };
            };
            if e.tag == tag && pool.id_of(slot) == id {
                return Probe::Found { pos, slot };
            }
            pos = (pos + 1) & self.mask;
        }
    }

    /// The slot of `id`.
    #[inline]
    pub(crate) fn get(&self, id: u64, pool: &OrderPool) -> Option<OrderSlot> {
        match self.probe(id, pool) {
            Probe::Found { slot, .. } => Some(slot),
            Probe::Vacant { .. } => None,
        }
    }

    /// Whether one more id fits in the table under 7/8 load without growing (a fill puts at
    /// most one id into the table).
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.table_len < self.max_len
    }

    /// Doubles the table (allocates, then advises huge pages) and rehashes every entry from its
    /// tag. Every window [`Probe`] position stays valid (table positions do not).
    pub(crate) fn grow(&mut self) {
        let old = self.set_table(self.entries.len() * 2);
        for e in old.iter().filter(|e| !e.slot.is_none()) {
            self.put_table(*e);
        }
        // The new table asks for huge pages, as the pools do when their slabs move.
        self.advise_huge();
    }

    /// Stores an entry whose id is not in the table at the end of its home's probe run.
    fn put_table(&mut self, e: Entry) {
        let mut pos = self.home(e.tag);
        while !self.at(pos).slot.is_none() {
            pos = (pos + 1) & self.mask;
        }
        self.set(pos, e);
        self.table_len += 1;
    }

    /// The window node a new `id` takes when [`OrderMap::probe`] returned `Vacant { pos }`
    /// in the window, with its `hi`; `None` for a table position (its record then comes from
    /// the pool's overflow).
    #[inline(always)]
    pub(crate) fn window_place(
        &self,
        pos: usize,
        id: u64,
        pool: &OrderPool,
    ) -> Option<(OrderSlot, u32)> {
        if pos & IN_WINDOW == 0 {
            return None;
        }
        let (i, hi) = self.win_key(id)?;
        debug_assert_eq!(i, pos & !IN_WINDOW);
        Some((pool.window_slot(i), hi))
    }

    /// Records `id -> slot` at a position [`OrderMap::probe`] returned as vacant (with no
    /// insertion or removal in between; for a window position the caller has stored the
    /// record at the window node with [`OrderPool::put_window`]). The caller ensured
    /// [`OrderMap::has_room`]. An id stored in the table raises its window node's `seen`.
    #[inline]
    pub(crate) fn fill(&mut self, pos: usize, id: u64, slot: OrderSlot, pool: &mut OrderPool) {
        self.len += 1;
        if pos & IN_WINDOW != 0 {
            debug_assert!(pool.node(slot).id == id);
            return;
        }
        self.set(
            pos,
            Entry {
                tag: tag_of(id),
                slot: OrderLink::to(slot),
            },
        );
        self.table_len += 1;
        if let Some((i, hi)) = self.win_key(id) {
            pool.raise_seen(pool.window_slot(i), hi);
        }
    }

    /// Removes the id at a position [`OrderMap::probe`] returned as found (the caller frees
    /// its record in the pool): in the table, later entries of the same probe run shift back
    /// so that no tombstone is needed.
    #[inline(always)]
    pub(crate) fn remove_at(&mut self, pos: usize) {
        self.len -= 1;
        if pos & IN_WINDOW != 0 {
            return;
        }
        self.table_len -= 1;
        let mask = self.mask;
        let mut hole = pos;
        let mut next = (pos + 1) & mask;
        loop {
            let e = self.at(next);
            if e.slot.is_none() {
                break;
            }
            let home = self.home(e.tag);
            // Move `e` into the hole unless its home lies cyclically in (hole, next].
            let stays = if hole <= next {
                hole < home && home <= next
            } else {
                hole < home || home <= next
            };
            if !stays {
                self.set(hole, e);
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.set(hole, VACANT);
    }

    /// Asks for the table to be backed by huge pages (see `huge`; the window is the pool's);
    /// the bytes advised.
    pub(crate) fn advise_huge(&self) -> usize {
        super::huge::advise_huge(self.entries.as_ptr(), self.entries.len())
    }

    /// The address of `id`'s window node (or its table home for an id too large for the
    /// window), for a prefetch (it is not read).
    #[inline(always)]
    pub(crate) fn home_addr(&self, id: u64, pool: &OrderPool) -> *const u8 {
        match self.win_key(id) {
            Some((i, _)) => pool.window_addr(i),
            None => self.table_home_addr(id),
        }
    }

    /// The address of `id`'s home in the table, for a prefetch (it is not read): where an id
    /// that is not its window node is looked for.
    #[inline(always)]
    pub(crate) fn table_home_addr(&self, id: u64) -> *const u8 {
        // `home` is at most `mask`, inside the table.
        self.entries
            .as_ptr()
            .wrapping_add(self.home(tag_of(id)))
            .cast()
    }

    /// A guess at `id`'s slot for a prefetch: its window node when that holds `id`, or for an
    /// id the window sends to the table, the slot of the first entry of its probe run (at most
    /// [`HINT_PROBES`] entries) whose tag is `id`'s, not confirmed against the pool's id.
    /// `None` when the id is absent or the run ends or is longer first.
    #[inline(always)]
    pub(crate) fn slot_hint(&self, id: u64, pool: &OrderPool) -> Option<OrderSlot> {
        if let Some((i, hi)) = self.win_key(id) {
            let slot = pool.window_slot(i);
            let node = pool.node(slot);
            if node.id == id {
                return Some(slot);
            }
            if hi > node.seen {
                return None;
            }
        }
        let tag = tag_of(id);
        let mut pos = self.home(tag);
        for _ in 0..HINT_PROBES {
            let e = self.at(pos);
            let slot = e.slot.get()?;
            if e.tag == tag {
                return Some(slot);
            }
            pos = (pos + 1) & self.mask;
        }
        None
    }

    /// For a prefetch: the table home a new `id` will be stored at when its window node holds
    /// a live order (see [`OrderMap::probe`]). Reads the window node (the first pass of a
    /// prefetch brought it in with [`OrderMap::home_addr`]); the returned address is not read.
    #[inline(always)]
    pub(crate) fn overflow_home_addr(&self, id: u64, pool: &OrderPool) -> Option<*const u8> {
        let (i, _) = self.win_key(id)?;
        let node = pool.node(pool.window_slot(i));
        if node.id == FREE_ID || node.id == id {
            return None;
        }
        Some(self.table_home_addr(id))
    }
}

/// Entries [`OrderMap::slot_hint`] looks at: at half load almost every run is shorter.
const HINT_PROBES: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::levels::LevelSlot;
    use crate::fixed::Qty;
    use std::collections::HashMap;

    /// A map and the pool that holds its window and the records.
    fn map_and_pool(window: usize, table: usize) -> (OrderMap, OrderPool) {
        let map = OrderMap::with_sizes(window, table);
        let pool = OrderPool::with_capacity(map.window_len(), 4);
        (map, pool)
    }

    /// Inserts a new `id` as `L3Books` does; its slot.
    fn insert(map: &mut OrderMap, pool: &mut OrderPool, id: u64) -> OrderSlot {
        if !map.has_room() {
            map.grow();
        }
        let Probe::Vacant { pos } = map.probe(id, pool) else {
            panic!("duplicate {id}")
        };
        let level = LevelSlot::for_test(0);
        let slot = if let Some((slot, hi)) = map.window_place(pos, id, pool) {
            pool.put_window(slot, id, Qty::ONE, OrderLink::NONE, level, hi);
            slot
        } else {
            pool.alloc(id, Qty::ONE, OrderLink::NONE, level).unwrap().0
        };
        map.fill(pos, id, slot, pool);
        slot
    }

    fn remove(map: &mut OrderMap, pool: &mut OrderPool, id: u64) -> Option<OrderSlot> {
        match map.probe(id, pool) {
            Probe::Found { pos, slot } => {
                map.remove_at(pos);
                pool.free(slot);
                Some(slot)
            }
            Probe::Vacant { .. } => None,
        }
    }

    #[test]
    fn insert_get_remove_with_growth_and_churn() {
        let mut map = OrderMap::with_capacity(4);
        let mut pool = OrderPool::with_capacity(map.window_len(), 4);
        let mut reference = HashMap::new();
        let mut x: u64 = 0x1234_5678;
        for _ in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A mix of dense and sparse ids so that probe runs wrap and collide.
            let id = if x.is_multiple_of(3) {
                x % 500
            } else {
                (x % 300) * 100_000_000
            };
            if let Some(slot) = reference.remove(&id) {
                assert_eq!(remove(&mut map, &mut pool, id), Some(slot));
            } else {
                let slot = insert(&mut map, &mut pool, id);
                reference.insert(id, slot);
            }
            assert_eq!(map.len(), reference.len());
        }
        for (&id, &slot) in &reference {
            assert_eq!(map.get(id, &pool), Some(slot));
            assert_eq!(pool.id_of(slot), id);
        }
        assert_eq!(map.get(u64::MAX - 1, &pool), None);
        let live: Vec<u64> = reference.keys().copied().collect();
        for id in live {
            assert!(remove(&mut map, &mut pool, id).is_some());
        }
        assert_eq!(map.len(), 0);
        assert_eq!(map.table_len(), 0);
    }

    #[test]
    fn equal_tags_are_told_apart_by_id() {
        // An entry whose pool id differs from the probed id never matches, even with an equal
        // tag (an id too large for the window, so the table holds it).
        let (mut map, mut pool) = map_and_pool(16, 16);
        let id = (1 << 50) + 42;
        let slot = insert(&mut map, &mut pool, id);
        assert_eq!(map.table_len(), 1);
        assert_eq!(map.get(id, &pool), Some(slot));
        pool.node_mut(slot).id = 7;
        assert_eq!(map.get(id, &pool), None);
    }

    #[test]
    fn entries_are_eight_bytes() {
        assert_eq!(core::mem::size_of::<Entry>(), 8);
    }

    #[test]
    fn room_and_growth() {
        // Ids too large for a 32-bit `hi` always go to the table, which doubles at 7/8 load.
        let (mut map, mut pool) = map_and_pool(16, 16);
        assert_eq!(map.entries.len(), 16);
        let big = 1u64 << 40;
        let slots: Vec<OrderSlot> = (0..15)
            .map(|n| insert(&mut map, &mut pool, big + n))
            .collect();
        assert!(map.entries.len() >= 32);
        assert_eq!(map.table_len(), 15);
        for (n, slot) in slots.into_iter().enumerate() {
            assert_eq!(map.get(big + n as u64, &pool), Some(slot));
            assert!(!pool.in_window(slot));
        }
    }

    #[test]
    fn dense_ids_are_their_window_nodes_and_a_newer_id_meeting_a_live_one_goes_to_the_table() {
        let (mut map, mut pool) = map_and_pool(16, 16);
        for id in 1..=16 {
            let slot = insert(&mut map, &mut pool, id);
            // The record is the window node at `id & 15`.
            assert_eq!(slot.index(), id as usize & 15);
        }
        assert_eq!(map.table_len(), 0);
        // 17 meets 1 (live) at index 1: 1 keeps its node, 17 goes to the table.
        let s17 = insert(&mut map, &mut pool, 17);
        assert!(!pool.in_window(s17));
        assert_eq!(map.table_len(), 1);
        assert_eq!(map.get(1, &pool).map(OrderSlot::index), Some(1));
        assert_eq!(map.get(17, &pool), Some(s17));
        // A window hit reads no table entry: with 1 removed and 1's node free, 17 (hi 1 <=
        // seen 1) is still found in the table.
        assert_eq!(
            remove(&mut map, &mut pool, 1).map(OrderSlot::index),
            Some(1)
        );
        assert_eq!(map.get(17, &pool), Some(s17));
        assert_eq!(map.get(1, &pool), None);
        // An id newer than any stored at its index is absent after one load, and takes the
        // free node.
        assert_eq!(map.probe(33, &pool), Probe::Vacant { pos: IN_WINDOW | 1 });
        let s33 = insert(&mut map, &mut pool, 33);
        assert_eq!(s33.index(), 1);
        // An older id re-added where a live newer one sits goes to the table.
        assert_eq!(
            remove(&mut map, &mut pool, 2).map(OrderSlot::index),
            Some(2)
        );
        insert(&mut map, &mut pool, 50);
        let s18 = insert(&mut map, &mut pool, 18);
        assert!(!pool.in_window(s18));
        assert_eq!(map.get(18, &pool), Some(s18));
        assert_eq!(map.get(50, &pool).map(OrderSlot::index), Some(2));
        assert_eq!(map.table_len(), 2);
        assert_eq!(map.len(), 18);
    }

    #[test]
    fn prefetch_hints_name_the_slot() {
        let (mut map, mut pool) = map_and_pool(16, 16);
        let s5 = insert(&mut map, &mut pool, 5);
        let s21 = insert(&mut map, &mut pool, 21);
        let sbig = insert(&mut map, &mut pool, 1 << 40);
        // 5 holds its node; 21 (same index) is in the table; 2^40 never fits the window.
        assert_eq!(map.slot_hint(5, &pool), Some(s5));
        assert_eq!(map.slot_hint(21, &pool), Some(s21));
        assert_eq!(map.slot_hint(1 << 40, &pool), Some(sbig));
        assert_eq!(map.slot_hint(37, &pool), None);
        assert_eq!(map.home_addr(21, &pool), pool.window_addr(5));
        let t = map.entries.as_ptr() as usize;
        let home = map.home_addr(1 << 40, &pool) as usize;
        assert!(home >= t && home < t + map.entries.len() * 8);
        // A new id meeting a live order at its node goes to its table home; at a free node or
        // for the live id itself, nothing.
        assert_eq!(
            map.overflow_home_addr(37, &pool),
            Some(map.table_home_addr(37))
        );
        assert_eq!(map.overflow_home_addr(5, &pool), None);
        assert_eq!(map.overflow_home_addr(6, &pool), None);
        assert_eq!(map.overflow_home_addr(1 << 41, &pool), None);
    }

    /// One operation of the model test.
    #[derive(Clone, Debug)]
    enum Op {
        /// Insert the id `max + gap` (a new reference, usually just above the running maximum).
        AddNext(u64),
        /// Insert an id `back` below the running maximum (an old or reused reference).
        AddOld(u64),
        /// Insert a sparse id (offset by multiples of 10^8) or one too large for the window.
        AddSparse(u64, bool),
        /// Remove the `n`-th live id (modulo the live count).
        Remove(usize),
        /// Look up an id `back` below the maximum.
        Get(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (1u64..4).prop_map(Op::AddNext),
            2 => (0u64..80).prop_map(Op::AddOld),
            1 => (0u64..40, any::<bool>()).prop_map(|(k, big)| Op::AddSparse(k, big)),
            5 => any::<usize>().prop_map(Op::Remove),
            3 => (0u64..80).prop_map(Op::Get),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The window and the table together behave as one `HashMap` from id to record over
        /// dense, old, sparse and too-large ids, with a window small enough that new ids meet
        /// live old ones and a table small enough to grow; every record holds its id, and a
        /// record never moves while its id is live.
        #[test]
        fn behaves_as_a_hash_map(window_log in 2u32..6, ops in proptest::collection::vec(op(), 1..400)) {
            let (mut map, mut pool) = map_and_pool(1 << window_log, 16);
            let mut model: HashMap<u64, OrderSlot> = HashMap::new();
            let mut max = 0u64;
            for op in ops {
                let add = match op {
                    Op::AddNext(gap) => Some(max + gap),
                    Op::AddOld(back) => Some(max.saturating_sub(back)),
                    Op::AddSparse(k, false) => Some(k * 100_000_000 + (k % 7)),
                    Op::AddSparse(k, true) => Some(u64::MAX - k),
                    Op::Remove(n) => {
                        if !model.is_empty() {
                            let mut live: Vec<u64> = model.keys().copied().collect();
                            live.sort_unstable();
                            let id = live[n % live.len()];
                            let slot = model.remove(&id);
                            prop_assert_eq!(remove(&mut map, &mut pool, id), slot);
                        }
                        None
                    }
                    Op::Get(back) => {
                        let id = max.saturating_sub(back);
                        prop_assert_eq!(map.get(id, &pool), model.get(&id).copied());
                        None
                    }
                };
                if let Some(id) = add {
                    match model.entry(id) {
                        std::collections::hash_map::Entry::Occupied(o) => {
                            prop_assert_eq!(map.probe(id, &pool), Probe::Found {
                                pos: match map.probe(id, &pool) { Probe::Found { pos, .. } => pos, Probe::Vacant { .. } => usize::MAX },
                                slot: *o.get(),
                            });
                        }
                        std::collections::hash_map::Entry::Vacant(v) => {
                            let slot = insert(&mut map, &mut pool, id);
                            v.insert(slot);
                            if id < u64::MAX / 2 {
                                max = max.max(id);
                            }
                        }
                    }
                }
                prop_assert_eq!(map.len(), model.len());
                prop_assert!(map.table_len() <= map.len());
            }
            for (&id, &slot) in &model {
                prop_assert_eq!(map.get(id, &pool), Some(slot));
                prop_assert_eq!(pool.id_of(slot), id);
            }
            let in_window = model.values().filter(|s| pool.in_window(**s)).count();
            prop_assert_eq!(in_window + map.table_len(), model.len());
        }
    }
}
