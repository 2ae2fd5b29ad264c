//! Map from venue order id to order-pool slot: a direct-indexed window for recent ids in front
//! of an open-addressing hash table for the rest.
//!
//! **The window.** Dense ITCH references are handed out in time order, so the live orders of a
//! feed cluster just below the highest reference seen. The window is a power-of-two array of
//! `W` 8-byte `{hi, slot}` entries indexed by `id & (W - 1)` (`hi` = `id >> log2(W)`): a live id
//! found there costs one load on a line its neighbours in time share, with no hash multiply
//! and no look-up in the order pool to confirm the id. Each entry remembers the highest `hi`
//! ever stored at its index (a deleted entry keeps it), which gives the invariant every look-up
//! relies on: at each index, a live id with `hi` equal to the entry's is the entry (if its slot
//! is set), a live id with a lower `hi` is in the hash table, and no live id has a higher one.
//! So a new id at or above the entry's `hi` (every new dense reference) is known absent after
//! one load, and only an id older than the entry's needs the hash table. A new id above the
//! entry's `hi` takes the entry and moves its occupant (an order at least `W` references
//! older) to the hash table: for a dense stream that is the order falling out of the window
//! `(max - W, max]` as the maximum advances, one move per add at most. Ids too large for a
//! 32-bit `hi` always use the table. Sparse references need no detection: they use the window
//! as a direct-mapped table, and an older id meeting a newer one at its index goes to the
//! table.
//!
//! **The table.** Linear probing over a power-of-two table of 8-byte `{tag, slot}` entries, a
//! Fibonacci (multiplicative) hash that spreads both dense (1, 2, 3, ...) and sparse (offset by
//! 10^8) ids, and backward-shift deletion (no tombstones, so probe lengths stay short under
//! churn). The tag is the top 32 bits of the hash: its top bits are the entry's home position
//! (so moving and rehashing need no id), and an entry whose tag matches is confirmed against
//! the id stored in the order pool (the caller passes `id_of`), so the table holds no ids and
//! stays half the size of an `{id, slot}` table. Sized at start for half load at the configured
//! order capacity; it doubles only when it would pass 7/8 load, and the caller counts that.
//!
//! This is one of the book's modules with `unsafe` code: the window and the table are read and
//! written at `pos & mask` without a bounds check, sound for every `pos` because each array's
//! length is always its `mask + 1` (set together in the constructors, the only place either
//! changes).
#![allow(
    unsafe_code,
    reason = "unchecked table access at a masked position; sound by the length == mask + 1 invariant"
)]

/// 2^64 / golden ratio: the Fibonacci hashing multiplier.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;
/// Largest table: homes come from the 32-bit tag.
const MAX_TABLE: usize = 1 << 32;
/// Window sizes: at least this many entries (128 bytes) ...
const MIN_WINDOW: usize = 1 << 4;
/// ... and at most this many (32 MiB).
const MAX_WINDOW: usize = 1 << 22;
/// A [`Probe`] position in the window (else in the table): the top bit of a `usize`.
const IN_WINDOW: usize = 1 << (usize::BITS - 1);

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

/// One window entry: the highest `id >> log2(W)` ever stored at its index, and the slot of
/// the live id with that `hi` ([`OrderLink::NONE`]: none is live).
#[derive(Clone, Copy, Debug)]
struct WinEntry {
    hi: u32,
    slot: OrderLink,
}

const WIN_VACANT: WinEntry = WinEntry {
    hi: 0,
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

/// What the window says about an id.
enum Window {
    /// Live in the window at this index.
    Live(usize, OrderSlot),
    /// Absent; a new entry goes to the window at this index.
    Absent(usize),
    /// Not the window's (older than its entry, or too large): ask the table.
    Table,
}

/// Order id -> pool slot.
#[derive(Clone, Debug)]
pub(crate) struct OrderMap {
    /// The direct-indexed window.
    window: Vec<WinEntry>,
    /// `window.len() - 1`.
    wmask: usize,
    /// `log2(window.len())`: an id shifted right by this is its `hi`.
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
    /// A map that holds `capacity` ids at no more than half load in its table, with a window
    /// of `capacity` rounded up to a power of two (128 bytes to 32 MiB).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let window = capacity
            .max(1)
            .next_power_of_two()
            .clamp(MIN_WINDOW, MAX_WINDOW);
        Self::with_sizes(
            window,
            capacity.saturating_mul(2).max(16).next_power_of_two(),
        )
    }

    fn with_sizes(window: usize, table: usize) -> Self {
        debug_assert!(window.is_power_of_two());
        let mut map = Self {
            window: vec![WIN_VACANT; window],
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

    /// The window entry at `i & wmask`.
    #[inline(always)]
    fn win_at(&self, i: usize) -> WinEntry {
        let i = i & self.wmask;
        debug_assert!(i < self.window.len() && self.window.len() == self.wmask + 1);
        // SAFETY: `i <= wmask` and the window holds exactly `wmask + 1` entries (`with_sizes`
        // sets both; nothing else resizes `window` or changes `wmask`), so `i` is in bounds.
        unsafe { *self.window.get_unchecked(i) }
    }

    /// The window entry at `i & wmask`, mutably.
    #[inline(always)]
    fn win_mut(&mut self, i: usize) -> &mut WinEntry {
        let i = i & self.wmask;
        debug_assert!(i < self.window.len() && self.window.len() == self.wmask + 1);
        // SAFETY: as in `win_at`: `i <= wmask` and the window holds `wmask + 1` entries.
        unsafe { self.window.get_unchecked_mut(i) }
    }

    /// `id`'s window index and `hi`, or `None` when its `hi` does not fit 32 bits.
    #[inline(always)]
    fn win_key(&self, id: u64) -> Option<(usize, u32)> {
        if id >= self.wlimit {
            return None;
        }
        Some((id as usize & self.wmask, (id >> self.wshift) as u32))
    }

    /// What the window knows of `id` (one load).
    #[inline(always)]
    fn in_window(&self, id: u64) -> Window {
        let Some((i, hi)) = self.win_key(id) else {
            return Window::Table;
        };
        let e = self.win_at(i);
        if hi == e.hi {
            match e.slot.get() {
                Some(slot) => Window::Live(i, slot),
                None => Window::Absent(i),
            }
        } else if hi > e.hi {
            Window::Absent(i)
        } else {
            Window::Table
        }
    }

    #[inline(always)]
    fn home(&self, tag: u32) -> usize {
        // The shift keeps the top bits of the tag, which are at most log2(table) wide.
        (tag >> self.shift) as usize
    }

    /// Finds `id` or the position it would take. `id_of(slot)` is the id stored for a slot
    /// (read only for an id the window sends to the table).
    #[inline(always)]
    pub(crate) fn probe(&self, id: u64, id_of: impl Fn(OrderSlot) -> u64) -> Probe {
        match self.in_window(id) {
            Window::Live(i, slot) => Probe::Found {
                pos: IN_WINDOW | i,
                slot,
            },
            Window::Absent(i) => Probe::Vacant { pos: IN_WINDOW | i },
            Window::Table => self.probe_table(id, id_of),
        }
    }

    /// [`OrderMap::probe`] in the table.
    #[inline(always)]
    fn probe_table(&self, id: u64, id_of: impl Fn(OrderSlot) -> u64) -> Probe {
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

    /// Whether one more id fits in the table under 7/8 load without growing (a fill puts at
    /// most one id into the table).
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.table_len < self.max_len
    }

    /// Doubles the table (allocates, then advises huge pages) and rehashes every entry from its
    /// tag. The window and every [`Probe`] position in it stay valid.
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

    /// Stores `id -> slot` at a position [`OrderMap::probe`] returned as vacant (with no
    /// insertion or removal in between). The caller ensured [`OrderMap::has_room`]. A window
    /// entry's previous occupant (an older id) moves to the table.
    #[inline]
    pub(crate) fn fill(&mut self, pos: usize, id: u64, slot: OrderSlot) {
        self.len += 1;
        if pos & IN_WINDOW == 0 {
            self.set(
                pos,
                Entry {
                    tag: tag_of(id),
                    slot: OrderLink::to(slot),
                },
            );
            self.table_len += 1;
            return;
        }
        let i = pos & !IN_WINDOW;
        let hi = (id >> self.wshift) as u32;
        debug_assert!(self.win_key(id) == Some((i, hi)) && hi >= self.win_at(i).hi);
        let old = core::mem::replace(
            self.win_mut(i),
            WinEntry {
                hi,
                slot: OrderLink::to(slot),
            },
        );
        if let Some(occupant) = old.slot.get() {
            debug_assert!(old.hi < hi);
            self.evict(old.hi, i, occupant);
        }
    }

    /// Moves the window's occupant at index `i` (with `hi`) to the table.
    #[cold]
    #[inline(never)]
    fn evict(&mut self, hi: u32, i: usize, slot: OrderSlot) {
        let id = (u64::from(hi) << self.wshift) | i as u64;
        self.put_table(Entry {
            tag: tag_of(id),
            slot: OrderLink::to(slot),
        });
    }

    /// Removes the id at a position [`OrderMap::probe`] returned as found: a window entry
    /// keeps its `hi`; in the table, later entries of the same probe run shift back so that no
    /// tombstone is needed.
    #[inline(always)]
    pub(crate) fn remove_at(&mut self, pos: usize) {
        self.len -= 1;
        if pos & IN_WINDOW != 0 {
            self.win_mut(pos & !IN_WINDOW).slot = OrderLink::NONE;
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

    /// Asks for the window and the table to be backed by huge pages (see `huge`); the bytes
    /// advised.
    pub(crate) fn advise_huge(&self) -> usize {
        super::huge::advise_huge(self.window.as_ptr(), self.window.len())
            + super::huge::advise_huge(self.entries.as_ptr(), self.entries.len())
    }

    /// The address of `id`'s window entry (or its table home for an id too large for the
    /// window), for a prefetch (it is not read).
    #[inline(always)]
    pub(crate) fn home_addr(&self, id: u64) -> *const u8 {
        match self.win_key(id) {
            // `i` is at most `wmask`, inside the window.
            Some((i, _)) => self.window.as_ptr().wrapping_add(i).cast(),
            // `home` is at most `mask`, inside the table.
            None => self
                .entries
                .as_ptr()
                .wrapping_add(self.home(tag_of(id)))
                .cast(),
        }
    }

    /// The address of `id`'s home in the table, for a prefetch (it is not read): where an id
    /// older than its window entry is looked for.
    #[inline(always)]
    pub(crate) fn table_home_addr(&self, id: u64) -> *const u8 {
        // `home` is at most `mask`, inside the table.
        self.entries
            .as_ptr()
            .wrapping_add(self.home(tag_of(id)))
            .cast()
    }

    /// A guess at `id`'s slot for a prefetch: its window entry's slot, or for an id the window
    /// sends to the table, the slot of the first entry of its probe run (at most
    /// [`HINT_PROBES`] entries) whose tag is `id`'s, not confirmed against the pool's id.
    /// `None` when the id is absent or the run ends or is longer first.
    #[inline(always)]
    pub(crate) fn slot_hint(&self, id: u64) -> Option<OrderSlot> {
        match self.in_window(id) {
            Window::Live(_, slot) => return Some(slot),
            Window::Absent(_) => return None,
            Window::Table => {}
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

    /// For a prefetch: the table home of the occupant that storing the new `id` in its window
    /// entry would move to the table (see [`OrderMap::fill`]), when there is one. Reads the
    /// window entry (the first pass of a prefetch brought it in with
    /// [`OrderMap::home_addr`]); the returned address is not read.
    #[inline(always)]
    pub(crate) fn evict_home_addr(&self, id: u64) -> Option<*const u8> {
        let (i, hi) = self.win_key(id)?;
        let e = self.win_at(i);
        e.slot.get()?;
        if hi <= e.hi {
            return None;
        }
        let occupant = (u64::from(e.hi) << self.wshift) | i as u64;
        Some(self.table_home_addr(occupant))
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
        // Slots whose pool ids differ from the probed id never match, even with equal tags (an
        // id too large for the window, so the table holds it).
        let mut map = OrderMap::with_capacity(8);
        let mut ids = Ids::new();
        let id = (1 << 50) + 42;
        insert(&mut map, &mut ids, id, 0);
        assert_eq!(map.table_len(), 1);
        assert_eq!(map.get(id, id_of(&ids)), Some(OrderSlot::for_test(0)));
        assert_eq!(map.get(id, |_| 7), None);
        assert_eq!(map.get(id, |_| u64::MAX), None);
    }

    #[test]
    fn entries_are_eight_bytes() {
        assert_eq!(core::mem::size_of::<Entry>(), 8);
        assert_eq!(core::mem::size_of::<WinEntry>(), 8);
    }

    #[test]
    fn room_and_growth() {
        // Ids too large for a 32-bit `hi` always go to the table, which doubles at 7/8 load.
        let mut map = OrderMap::with_sizes(16, 16);
        let mut ids = Ids::new();
        assert_eq!(map.entries.len(), 16);
        let big = 1u64 << 40;
        for n in 0..15 {
            insert(&mut map, &mut ids, big + n, n as u32);
        }
        assert!(map.entries.len() >= 32);
        assert_eq!(map.table_len(), 15);
        for n in 0..15 {
            assert_eq!(
                map.get(big + n, id_of(&ids)),
                Some(OrderSlot::for_test(n as u32))
            );
        }
    }

    #[test]
    fn dense_ids_stay_in_the_window_and_old_ones_move_to_the_table() {
        let mut map = OrderMap::with_sizes(16, 16);
        let mut ids = Ids::new();
        for id in 1..=16 {
            insert(&mut map, &mut ids, id, id as u32);
        }
        // 1..=15 and 16 (index 0) all fit the 16-entry window.
        assert_eq!(map.table_len(), 0);
        // 17 takes 1's entry (index 1): 1 moves to the table and is still found there.
        insert(&mut map, &mut ids, 17, 17);
        assert_eq!(map.table_len(), 1);
        assert_eq!(map.get(1, id_of(&ids)), Some(OrderSlot::for_test(1)));
        assert_eq!(map.get(17, id_of(&ids)), Some(OrderSlot::for_test(17)));
        // A window hit reads no id from the pool; a table hit does.
        assert_eq!(map.get(17, |_| u64::MAX), Some(OrderSlot::for_test(17)));
        assert_eq!(map.get(1, |_| u64::MAX), None);
        // Deleting 17 keeps its entry's `hi`, so 1 (older, same index) is still the table's.
        assert_eq!(remove(&mut map, &ids, 17), Some(17));
        assert_eq!(map.get(1, id_of(&ids)), Some(OrderSlot::for_test(1)));
        // An id newer than any at its index is absent after one window load.
        assert_eq!(map.get(33, |_| panic!("the table was asked")), None);
        // An older id re-added after a newer one at its index goes to the table.
        insert(&mut map, &mut ids, 49, 49);
        insert(&mut map, &mut ids, 33, 33);
        assert_eq!(map.table_len(), 2);
        assert_eq!(map.get(33, id_of(&ids)), Some(OrderSlot::for_test(33)));
        assert_eq!(map.len(), 18);
    }

    #[test]
    fn prefetch_hints_name_the_slot() {
        let mut map = OrderMap::with_sizes(16, 16);
        let mut ids = Ids::new();
        for id in [5, 21, 1 << 40] {
            insert(&mut map, &mut ids, id, id as u32 & 0xff);
        }
        // 21 took 5's window entry; 5 is in the table; 2^40 never fits the window.
        assert_eq!(map.slot_hint(21), Some(OrderSlot::for_test(21)));
        assert_eq!(map.slot_hint(5), Some(OrderSlot::for_test(5)));
        assert_eq!(map.slot_hint(1 << 40), Some(OrderSlot::for_test(0)));
        assert_eq!(map.slot_hint(37), None);
        let w = map.window.as_ptr() as usize;
        assert_eq!(map.home_addr(21) as usize, w + 5 * 8);
        let t = map.entries.as_ptr() as usize;
        let home = map.home_addr(1 << 40) as usize;
        assert!(home >= t && home < t + map.entries.len() * 8);
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

        /// The window and the table together behave as one `HashMap` from id to slot over
        /// dense, old, sparse and too-large ids, with a window small enough that entries move
        /// to the table and a table small enough to grow.
        #[test]
        fn behaves_as_a_hash_map(window_log in 2u32..6, ops in proptest::collection::vec(op(), 1..400)) {
            let mut map = OrderMap::with_sizes(1 << window_log, 16);
            let mut ids = Ids::new();
            let mut model: HashMap<u64, u32> = HashMap::new();
            let mut max = 0u64;
            let mut next_slot = 0u32;
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
                            prop_assert_eq!(remove(&mut map, &ids, id), slot);
                        }
                        None
                    }
                    Op::Get(back) => {
                        let id = max.saturating_sub(back);
                        prop_assert_eq!(
                            map.get(id, id_of(&ids)),
                            model.get(&id).map(|&s| OrderSlot::for_test(s))
                        );
                        None
                    }
                };
                if let Some(id) = add {
                    match model.entry(id) {
                        std::collections::hash_map::Entry::Occupied(_) => {
                            let found = matches!(map.probe(id, id_of(&ids)), Probe::Found { .. });
                            prop_assert!(found, "live id {} not found", id);
                        }
                        std::collections::hash_map::Entry::Vacant(v) => {
                            insert(&mut map, &mut ids, id, next_slot);
                            v.insert(next_slot);
                            next_slot += 1;
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
                prop_assert_eq!(map.get(id, id_of(&ids)), Some(OrderSlot::for_test(slot)));
            }
            let live = model.len();
            prop_assert_eq!(map.window.iter().filter(|e| !e.slot.is_none()).count() + map.table_len(), live);
        }
    }
}
