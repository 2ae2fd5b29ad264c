//! Open-addressing map from venue order id to order-pool slot.
//!
//! Linear probing over a power-of-two table of 8-byte `{tag, slot}` entries, a Fibonacci
//! (multiplicative) hash that spreads both dense (1, 2, 3, ...) and sparse (offset by 10^8) ids,
//! and backward-shift deletion (no tombstones, so probe lengths stay short under churn). The
//! tag is the top 32 bits of the hash: its top bits are the entry's home position (so moving
//! and rehashing need no id), and an entry whose tag matches is confirmed against the id stored
//! in the order pool (the caller passes `id_of`), so the table holds no ids and stays half the
//! size of an `{id, slot}` table (a million live orders: 32 MiB instead of 64). Sized at start
//! for half load at the configured order capacity; it doubles only when it would pass 7/8
//! load, and the caller counts that.
//!
//! This is the book's one module with `unsafe` code: the table is read and written at
//! `pos & mask` without a bounds check, sound for every `pos` because the table's length is
//! always `mask + 1` (set together in `with_table`, the only place either changes).
#![allow(
    unsafe_code,
    reason = "unchecked table access at a masked position; sound by the length == mask + 1 invariant"
)]

/// 2^64 / golden ratio: the Fibonacci hashing multiplier.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;
/// Largest table: homes come from the 32-bit tag.
const MAX_TABLE: usize = 1 << 32;

use super::orders::{OrderLink, OrderSlot};

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
    /// The id is present: table position and its slot.
    Found { pos: usize, slot: OrderSlot },
    /// The id is absent; it would be stored at this table position.
    Vacant { pos: usize },
}

/// Order id -> pool slot.
#[derive(Clone, Debug)]
pub(crate) struct OrderMap {
    entries: Vec<Entry>,
    /// `entries.len() - 1`.
    mask: usize,
    /// Ids held before the table must double (7/8 load).
    max_len: usize,
    /// `32 - log2(table)`: a tag shifted right by this is its home.
    shift: u32,
    len: usize,
}

impl OrderMap {
    /// A map that holds `capacity` ids at no more than half load.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let table = capacity.saturating_mul(2).max(16).next_power_of_two();
        Self::with_table(table)
    }

    fn with_table(table: usize) -> Self {
        let table = table.min(MAX_TABLE);
        Self {
            entries: vec![VACANT; table],
            mask: table - 1,
            max_len: table / 8 * 7,
            shift: 32 - table.trailing_zeros(),
            len: 0,
        }
    }

    /// Number of ids held.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The entry at `pos & mask`.
    #[inline(always)]
    fn at(&self, pos: usize) -> Entry {
        let i = pos & self.mask;
        debug_assert!(i < self.entries.len() && self.entries.len() == self.mask + 1);
        // SAFETY: `i <= mask` and the table holds exactly `mask + 1` entries (`with_table`
        // sets both; nothing else resizes `entries` or changes `mask`), so `i` is in bounds.
        unsafe { *self.entries.get_unchecked(i) }
    }

    /// Writes the entry at `pos & mask`.
    #[inline(always)]
    fn set(&mut self, pos: usize, e: Entry) {
        let i = pos & self.mask;
        debug_assert!(i < self.entries.len() && self.entries.len() == self.mask + 1);
        // SAFETY: as in `at`: `i <= mask` and the table holds exactly `mask + 1` entries.
        unsafe { *self.entries.get_unchecked_mut(i) = e }
    }

    #[inline(always)]
    fn home(&self, tag: u32) -> usize {
        // The shift keeps the top bits of the tag, which are at most log2(table) wide.
        (tag >> self.shift) as usize
    }

    /// Finds `id` or the position it would take. `id_of(slot)` is the id stored for a slot.
    #[inline(always)]
    pub(crate) fn probe(&self, id: u64, id_of: impl Fn(OrderSlot) -> u64) -> Probe {
        let tag = tag_of(id);
        let mut pos = self.home(tag);
        loop {
            let e = self.at(pos);
            let Some(slot) = e.slot.get() else {
                return Probe::Vacant { pos };
            };
            if e.tag == tag && id_of(slot) == id {
                return Probe::Found { pos, slot };
            }
            pos = (pos + 1) & self.mask;
        }
    }

    /// The slot of `id`.
    #[inline]
    pub(crate) fn get(&self, id: u64, id_of: impl Fn(OrderSlot) -> u64) -> Option<OrderSlot> {
        match self.probe(id, id_of) {
            Probe::Found { slot, .. } => Some(slot),
            Probe::Vacant { .. } => None,
        }
    }

    /// Whether one more id fits under 7/8 load without growing.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.len < self.max_len
    }

    /// Doubles the table (allocates, then advises huge pages) and rehashes every entry from its
    /// tag.
    pub(crate) fn grow(&mut self) {
        let old = core::mem::replace(self, Self::with_table(self.entries.len() * 2));
        for e in old.entries.iter().filter(|e| !e.slot.is_none()) {
            let mut pos = self.home(e.tag);
            while !self.entries[pos].slot.is_none() {
                pos = (pos + 1) & self.mask;
            }
            self.entries[pos] = *e;
            self.len += 1;
        }
        // The new table asks for huge pages, as the pools do when their slabs move.
        self.advise_huge();
    }

    /// Stores `id -> slot` at a position [`OrderMap::probe`] returned as vacant (with no
    /// insertion or removal in between). The caller ensured [`OrderMap::has_room`].
    #[inline]
    pub(crate) fn fill(&mut self, pos: usize, id: u64, slot: OrderSlot) {
        self.set(
            pos,
            Entry {
                tag: tag_of(id),
                slot: OrderLink::to(slot),
            },
        );
        self.len += 1;
    }

    /// Removes the entry at a position [`OrderMap::probe`] returned as found, shifting later
    /// entries of the same probe run back so that no tombstone is needed.
    #[inline(always)]
    pub(crate) fn remove_at(&mut self, pos: usize) {
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
        self.len -= 1;
    }

    /// Asks for the table to be backed by huge pages (see `huge`); the bytes advised.
    pub(crate) fn advise_huge(&self) -> usize {
        super::huge::advise_huge(self.entries.as_ptr(), self.entries.len())
    }

    /// The address of `id`'s home entry, for a prefetch (it is not read).
    #[inline(always)]
    pub(crate) fn home_addr(&self, id: u64) -> *const u8 {
        // `home` is at most `mask`, inside the table.
        self.entries
            .as_ptr()
            .wrapping_add(self.home(tag_of(id)))
            .cast()
    }

    /// A guess at `id`'s slot for a prefetch: the slot of the first entry of its probe run
    /// (at most [`HINT_PROBES`] entries) whose tag is `id`'s, not confirmed against the pool's
    /// id. `None` when the run ends or is longer first.
    #[inline(always)]
    pub(crate) fn slot_hint(&self, id: u64) -> Option<OrderSlot> {
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
}

/// Entries [`OrderMap::slot_hint`] looks at: at half load almost every run is shorter.
const HINT_PROBES: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The ids behind the slots (slot = index), as the order pool would hold them.
    type Ids = HashMap<u32, u64>;

    /// `id_of` over `ids` (an unknown slot has no id any probe asks for).
    fn id_of(ids: &Ids) -> impl Fn(OrderSlot) -> u64 + '_ {
        |s| {
            ids.get(&u32::try_from(s.index()).unwrap())
                .copied()
                .unwrap_or(u64::MAX)
        }
    }

    fn insert(map: &mut OrderMap, ids: &mut Ids, id: u64, slot: u32) {
        if !map.has_room() {
            map.grow();
        }
        match map.probe(id, id_of(ids)) {
            Probe::Vacant { pos } => {
                map.fill(pos, id, OrderSlot::for_test(slot));
                ids.insert(slot, id);
            }
            Probe::Found { .. } => panic!("duplicate {id}"),
        }
    }

    fn remove(map: &mut OrderMap, ids: &Ids, id: u64) -> Option<u32> {
        match map.probe(id, id_of(ids)) {
            Probe::Found { pos, slot } => {
                map.remove_at(pos);
                Some(u32::try_from(slot.index()).unwrap())
            }
            Probe::Vacant { .. } => None,
        }
    }

    #[test]
    fn insert_get_remove_with_growth_and_churn() {
        let mut map = OrderMap::with_capacity(4);
        let mut ids = Ids::new();
        let mut reference = HashMap::new();
        let mut x: u64 = 0x1234_5678;
        for step in 0..20_000u32 {
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
                assert_eq!(remove(&mut map, &ids, id), Some(slot));
            } else {
                insert(&mut map, &mut ids, id, step);
                reference.insert(id, step);
            }
            assert_eq!(map.len(), reference.len());
        }
        for (&id, &slot) in &reference {
            assert_eq!(map.get(id, id_of(&ids)), Some(OrderSlot::for_test(slot)));
        }
        assert_eq!(map.get(u64::MAX - 1, id_of(&ids)), None);
        for &id in reference.keys() {
            assert!(remove(&mut map, &ids, id).is_some());
        }
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn equal_tags_are_told_apart_by_id() {
        // Slots whose pool ids differ from the probed id never match, even with equal tags.
        let mut map = OrderMap::with_capacity(8);
        let mut ids = Ids::new();
        insert(&mut map, &mut ids, 42, 0);
        assert_eq!(map.get(42, id_of(&ids)), Some(OrderSlot::for_test(0)));
        assert_eq!(map.get(42, |_| 7), None);
        assert_eq!(map.get(42, |_| u64::MAX), None);
    }

    #[test]
    fn entries_are_eight_bytes() {
        assert_eq!(core::mem::size_of::<Entry>(), 8);
    }

    #[test]
    fn room_and_growth() {
        let mut map = OrderMap::with_capacity(8);
        let mut ids = Ids::new();
        assert_eq!(map.entries.len(), 16);
        for id in 0..15 {
            insert(&mut map, &mut ids, id, id as u32);
        }
        assert!(map.entries.len() >= 32);
        for id in 0..15 {
            assert_eq!(
                map.get(id, id_of(&ids)),
                Some(OrderSlot::for_test(id as u32))
            );
        }
    }
}
