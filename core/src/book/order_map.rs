//! Open-addressing map from venue order id to order-pool slot.
//!
//! Linear probing over a power-of-two table of `{id, slot}` pairs, a Fibonacci (multiplicative)
//! hash that spreads both dense (1, 2, 3, ...) and sparse (offset by 10^8) ids, and
//! backward-shift deletion (no tombstones, so probe lengths stay short under churn). Sized at
//! start for half load at the configured order capacity; it doubles only when it would pass
//! 7/8 load, and the caller counts that.

/// Marks an empty table entry.
const EMPTY: u32 = u32::MAX;
/// 2^64 / golden ratio: the Fibonacci hashing multiplier.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Clone, Copy, Debug)]
struct Entry {
    id: u64,
    slot: u32,
}

const VACANT: Entry = Entry { id: 0, slot: EMPTY };

/// Where an id is, or where it would go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The id is present: table position and its slot.
    Found { pos: usize, slot: u32 },
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
        Self {
            entries: vec![VACANT; table],
            mask: table - 1,
            max_len: table / 8 * 7,
            shift: 64 - table.trailing_zeros(),
            len: 0,
        }
    }

    /// Number of ids held.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn mask(&self) -> usize {
        self.mask
    }

    #[inline]
    fn home(&self, id: u64) -> usize {
        // The shift keeps the top bits, which are at most log2(table) wide.
        (id.wrapping_mul(FIB) >> self.shift) as usize
    }

    /// Finds `id` or the position it would take.
    #[inline(always)]
    pub(crate) fn probe(&self, id: u64) -> Probe {
        let mask = self.mask();
        let mut pos = self.home(id);
        loop {
            let e = self.entries[pos];
            if e.slot == EMPTY {
                return Probe::Vacant { pos };
            }
            if e.id == id {
                return Probe::Found { pos, slot: e.slot };
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The slot of `id`.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<u32> {
        match self.probe(id) {
            Probe::Found { slot, .. } => Some(slot),
            Probe::Vacant { .. } => None,
        }
    }

    /// Whether one more id fits under 7/8 load without growing.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.len < self.max_len
    }

    /// Doubles the table (allocates) and rehashes every id.
    pub(crate) fn grow(&mut self) {
        let old = core::mem::replace(self, Self::with_table(self.entries.len() * 2));
        for e in old.entries.iter().filter(|e| e.slot != EMPTY) {
            if let Probe::Vacant { pos } = self.probe(e.id) {
                self.fill(pos, e.id, e.slot);
            }
        }
    }

    /// Stores `id -> slot` at a position [`OrderMap::probe`] returned as vacant (with no
    /// insertion or removal in between). The caller ensured [`OrderMap::has_room`].
    #[inline]
    pub(crate) fn fill(&mut self, pos: usize, id: u64, slot: u32) {
        self.entries[pos] = Entry { id, slot };
        self.len += 1;
    }

    /// Removes the entry at a position [`OrderMap::probe`] returned as found, shifting later
    /// entries of the same probe run back so that no tombstone is needed.
    #[inline(always)]
    pub(crate) fn remove_at(&mut self, pos: usize) {
        let mask = self.mask();
        let mut hole = pos;
        let mut next = (pos + 1) & mask;
        loop {
            let e = self.entries[next];
            if e.slot == EMPTY {
                break;
            }
            let home = self.home(e.id);
            // Move `e` into the hole unless its home lies cyclically in (hole, next].
            let stays = if hole <= next {
                hole < home && home <= next
            } else {
                hole < home || home <= next
            };
            if !stays {
                self.entries[hole] = e;
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.entries[hole] = VACANT;
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn insert(map: &mut OrderMap, id: u64, slot: u32) {
        if !map.has_room() {
            map.grow();
        }
        match map.probe(id) {
            Probe::Vacant { pos } => map.fill(pos, id, slot),
            Probe::Found { .. } => panic!("duplicate {id}"),
        }
    }

    fn remove(map: &mut OrderMap, id: u64) -> Option<u32> {
        match map.probe(id) {
            Probe::Found { pos, slot } => {
                map.remove_at(pos);
                Some(slot)
            }
            Probe::Vacant { .. } => None,
        }
    }

    #[test]
    fn insert_get_remove_with_growth_and_churn() {
        let mut map = OrderMap::with_capacity(4);
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
                assert_eq!(remove(&mut map, id), Some(slot));
            } else {
                insert(&mut map, id, step);
                reference.insert(id, step);
            }
            assert_eq!(map.len(), reference.len());
        }
        for (&id, &slot) in &reference {
            assert_eq!(map.get(id), Some(slot));
        }
        assert_eq!(map.get(u64::MAX), None);
        for &id in reference.keys() {
            assert!(remove(&mut map, id).is_some());
        }
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn room_and_growth() {
        let mut map = OrderMap::with_capacity(8);
        assert_eq!(map.entries.len(), 16);
        for id in 0..15 {
            insert(&mut map, id, id as u32);
        }
        assert!(map.entries.len() >= 32);
        for id in 0..15 {
            assert_eq!(map.get(id), Some(id as u32));
        }
    }
}
