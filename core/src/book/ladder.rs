//! One side of one book: its price levels, indexed by price.
//!
//! Levels are keyed by an `i64` that grows toward the best price on both sides (the raw price
//! for bids, its bitwise complement for asks). Most keys live in a **window**: an array of
//! level slots, one per price tick from a moving base key, in chunks of 64 ticks, each chunk
//! with a bitmap word of its occupied ticks, and a [`Summary`] of the non-empty chunks: one
//! word ([`OneWord`], at most 64 chunks: 4,096 ticks, the L3 books) or a top word over up to 64
//! summary words ([`TwoLevel`], at most 4,096 chunks: 262,144 ticks, the L2 books, whose
//! venues send a REST snapshot of thousands of levels that one word's window cannot hold). A key's slot is one subtraction, one multiplication and one rotation (an exact
//! division by the tick, see [`Grid`]); the best level is cached, and the next best after the
//! best empties is two `leading_zeros`. Keys outside the window or off its tick grid (a far-away
//! order, a sub-penny price) live in a small sorted vector of **outliers** (best last), so
//! every key is correct wherever it lies.
//!
//! The window starts at the configured depth (`levels_per_side` ticks, 64 to the summary's
//! most) and grows, by powers of two up to that most, when the side's levels span more; it moves (a
//! re-base) when a new best lies above it or when it holds no level. A re-base redistributes
//! every level between the window and the outliers; it is rare (a touch that moved a quarter
//! of the window) and costs O(levels).
//!
//! Invariant (what a look-up relies on): a key that is on the window's grid and inside it is
//! never an outlier.

use core::num::NonZeroI64;

use crate::fixed::{Price, Qty};
use crate::instrument::TickRule;
use crate::side::Side;

/// The smallest window, in ticks (one chunk).
const MIN_TICKS: usize = 64;
/// The largest window of a [`OneWord`] ladder, in ticks: 64 chunks, one summary word.
#[cfg(test)]
pub(crate) const MAX_TICKS: usize = OneWord::MAX_CHUNKS * 64;
/// Keys beyond this magnitude never anchor a window, so that `key - base` computed modulo
/// 2^64 is the true difference wherever the key lies (see [`Grid::offset`]).
const BASE_LIMIT: i64 = 1 << 61;

/// The sort key of a price on a side: larger is better on both sides.
#[inline]
pub(crate) const fn side_key(side: Side, price: Price) -> i64 {
    // Branch-free: XOR with all ones (a sell) is the complement, with zero (a buy) the
    // identity; the side of an ITCH add is a coin toss the predictor cannot learn.
    price.raw() ^ -(side as i64)
}

/// The price a sort key stands for.
#[inline]
pub(crate) const fn key_price(side: Side, key: i64) -> Price {
    Price::from_raw(key ^ -(side as i64))
}

/// A level's key and its payload (a level-pool slot for L3, the quantity for L2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rung<V> {
    pub(crate) key: i64,
    pub(crate) val: V,
}

/// A payload the window can hold: `VACANT` fills the slots whose bit is clear (never returned).
pub(crate) trait RungValue: Copy {
    /// The filler of unoccupied window slots.
    const VACANT: Self;
    /// Whether `VACANT` is never a real payload, so that a slot alone says whether its tick is
    /// occupied: a look-up then reads the slot's cache line only, not the chunk's occupancy
    /// word too (which lies on another line for most ticks).
    const VACANT_IS_UNIQUE: bool;
    /// Whether this is `VACANT` (meaningful when [`Self::VACANT_IS_UNIQUE`]).
    fn is_vacant(self) -> bool;
}

impl RungValue for Qty {
    const VACANT: Self = Qty::ZERO;
    // An L2 level of zero is removed, but nothing here forbids storing one.
    const VACANT_IS_UNIQUE: bool = false;

    #[inline(always)]
    fn is_vacant(self) -> bool {
        self == Self::VACANT
    }
}

impl RungValue for () {
    const VACANT: Self = ();
    const VACANT_IS_UNIQUE: bool = false;

    #[inline(always)]
    fn is_vacant(self) -> bool {
        true
    }
}

/// Test payloads: every value but `i64::MIN`.
impl RungValue for i64 {
    const VACANT: Self = i64::MIN;
    const VACANT_IS_UNIQUE: bool = true;

    #[inline(always)]
    fn is_vacant(self) -> bool {
        self == Self::VACANT
    }
}

/// The window's tick grid: `key = base + offset * tick`.
///
/// The offset is an exact division by multiplication: with `tick = odd << shift` and `inv` the
/// inverse of `odd` modulo 2^64, `((key - base) * inv).rotate_right(shift)` is `(key - base) /
/// tick` when the tick divides the difference, and larger than `u64::MAX / tick` (so outside
/// any window) when it does not. `shift` is the tick's trailing zeros, computed where used
/// (one instruction) so that the grid takes three words of the ladder's hot line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct Grid {
    base: i64,
    inv: u64,
    /// Non-zero, so that its trailing zeros are one instruction.
    tick: NonZeroI64,
}

impl Grid {
    /// A grid that nothing real lands on usefully (tick 1 at key 0); the first insert moves it.
    const START: Self = Self {
        base: 0,
        inv: 1,
        tick: NonZeroI64::new(1).expect("one is not zero"),
    };

    /// The grid of `tick` (positive, at most 2^40) anchored at `base` (|base| <= 2^61).
    fn new(base: i64, tick: i64) -> Option<Self> {
        if !(1..=1 << 40).contains(&tick) || !(-BASE_LIMIT..=BASE_LIMIT).contains(&base) {
            return None;
        }
        let shift = tick.trailing_zeros();
        let odd = (tick as u64) >> shift;
        // Newton's iteration doubles the correct low bits each step: 5 steps from 3 bits.
        let mut inv = odd;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
        }
        debug_assert_eq!(odd.wrapping_mul(inv), 1);
        Some(Self {
            base,
            inv,
            tick: NonZeroI64::new(tick)?,
        })
    }

    /// The tick.
    #[inline(always)]
    fn tick(&self) -> i64 {
        self.tick.get()
    }

    /// `(key - base) / tick` when the tick divides it, else a value above `u64::MAX / tick`.
    /// Since `|base| <= 2^61`, the difference taken modulo 2^64 lies within a window only when
    /// the true difference does.
    #[cfg(test)]
    fn offset(&self, key: i64) -> u64 {
        self.offset_by(key, self.shift())
    }

    /// [`Self::offset`] with the tick's trailing zeros given (`shift`, cached by the ladder
    /// on its hot line so that the rotation does not wait for a count).
    #[inline(always)]
    fn offset_by(&self, key: i64, shift: u32) -> u64 {
        debug_assert_eq!(shift, self.shift());
        (key.wrapping_sub(self.base) as u64)
            .wrapping_mul(self.inv)
            .rotate_right(shift)
    }

    /// The tick's trailing zeros.
    #[inline(always)]
    fn shift(&self) -> u32 {
        self.tick.trailing_zeros()
    }

    /// The key at `offset` (inside a window, so no overflow: |base| <= 2^61, span <= 2^58,
    /// 2^18 ticks of at most 2^40).
    #[inline(always)]
    fn key(&self, offset: usize) -> i64 {
        self.base + offset as i64 * self.tick.get()
    }
}

/// Greatest common divisor (Euclid).
fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Which chunks of a window hold a level: the summary over the chunks' occupancy words.
///
/// [`OneWord`] (one bit per chunk, at most 64 chunks: 4,096 ticks) is what the L3 books use;
/// [`TwoLevel`] (a top word over up to 64 summary words: 4,096 chunks, 262,144 ticks) lets an
/// L2 book's window cover a whole REST snapshot. The ladder's code is the same for both.
pub(crate) trait Summary: Clone + std::fmt::Debug {
    /// The most chunks a window may have.
    const MAX_CHUNKS: usize;
    /// A walk over the set chunks, highest first.
    type Cursor: Copy + std::fmt::Debug;
    /// An empty summary for a window of `chunks` chunks.
    fn with_chunks(chunks: usize) -> Self;
    /// Marks chunk `c` as holding a level.
    fn set(&mut self, c: usize);
    /// Marks chunk `c` as empty.
    fn unset(&mut self, c: usize);
    /// Whether no chunk holds a level.
    fn is_empty(&self) -> bool;
    /// The highest chunk holding a level (the summary is not empty).
    fn highest(&self) -> usize;
    /// The lowest chunk holding a level (the summary is not empty).
    fn lowest(&self) -> usize;
    /// A walk over the set chunks as they are now.
    fn cursor(&self) -> Self::Cursor;
    /// The walk's next chunk, highest first.
    fn next_down(&self, cursor: &mut Self::Cursor) -> Option<usize>;
    /// Calls `f` on every set chunk and empties the summary.
    fn drain(&mut self, f: impl FnMut(usize));
}

/// One summary word: bit `c` set when chunk `c` holds a level (at most 64 chunks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OneWord(u64);

impl Summary for OneWord {
    const MAX_CHUNKS: usize = 64;
    type Cursor = u64;

    #[inline(always)]
    fn with_chunks(chunks: usize) -> Self {
        debug_assert!(chunks <= Self::MAX_CHUNKS);
        Self(0)
    }

    #[inline(always)]
    fn set(&mut self, c: usize) {
        self.0 |= 1 << c;
    }

    #[inline(always)]
    fn unset(&mut self, c: usize) {
        self.0 &= !(1 << c);
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.0 == 0
    }

    #[inline(always)]
    fn highest(&self) -> usize {
        63 - self.0.leading_zeros() as usize
    }

    #[inline(always)]
    fn lowest(&self) -> usize {
        self.0.trailing_zeros() as usize
    }

    #[inline(always)]
    fn cursor(&self) -> u64 {
        self.0
    }

    #[inline(always)]
    fn next_down(&self, cursor: &mut u64) -> Option<usize> {
        if *cursor == 0 {
            return None;
        }
        let c = 63 - cursor.leading_zeros() as usize;
        *cursor &= !(1u64 << c);
        Some(c)
    }

    #[inline]
    fn drain(&mut self, mut f: impl FnMut(usize)) {
        let mut summary = self.0;
        while summary != 0 {
            let c = summary.trailing_zeros() as usize;
            summary &= summary - 1;
            f(c);
        }
        self.0 = 0;
    }
}

/// Two levels: bit `c % 64` of word `c / 64` set when chunk `c` holds a level, and bit `w` of
/// the top word set when word `w` is not zero (at most 4,096 chunks, 262,144 ticks). The words
/// are as many as the window's chunks need (one for a window of up to 64 chunks).
#[derive(Clone, Debug)]
pub(crate) struct TwoLevel {
    top: u64,
    words: Vec<u64>,
}

/// Where a [`TwoLevel`] walk is: top bits and the current word's bits not yet taken.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TwoLevelCursor {
    top: u64,
    word: usize,
    bits: u64,
}

impl Summary for TwoLevel {
    const MAX_CHUNKS: usize = 64 * 64;
    type Cursor = TwoLevelCursor;

    fn with_chunks(chunks: usize) -> Self {
        debug_assert!(chunks <= Self::MAX_CHUNKS);
        Self {
            top: 0,
            words: vec![0; chunks.div_ceil(64)],
        }
    }

    #[inline(always)]
    fn set(&mut self, c: usize) {
        self.words[c >> 6] |= 1 << (c & 63);
        self.top |= 1 << (c >> 6);
    }

    #[inline(always)]
    fn unset(&mut self, c: usize) {
        let word = &mut self.words[c >> 6];
        *word &= !(1 << (c & 63));
        // Branch-free: clear the top bit when the word emptied.
        self.top &= !(u64::from(*word == 0) << (c >> 6));
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.top == 0
    }

    #[inline(always)]
    fn highest(&self) -> usize {
        let w = 63 - self.top.leading_zeros() as usize;
        w * 64 + 63 - self.words[w].leading_zeros() as usize
    }

    #[inline(always)]
    fn lowest(&self) -> usize {
        let w = self.top.trailing_zeros() as usize;
        w * 64 + self.words[w].trailing_zeros() as usize
    }

    #[inline(always)]
    fn cursor(&self) -> TwoLevelCursor {
        TwoLevelCursor {
            top: self.top,
            word: 0,
            bits: 0,
        }
    }

    #[inline(always)]
    fn next_down(&self, cursor: &mut TwoLevelCursor) -> Option<usize> {
        while cursor.bits == 0 {
            if cursor.top == 0 {
                return None;
            }
            cursor.word = 63 - cursor.top.leading_zeros() as usize;
            cursor.top &= !(1u64 << cursor.word);
            cursor.bits = self.words[cursor.word];
        }
        let b = 63 - cursor.bits.leading_zeros() as usize;
        cursor.bits &= !(1u64 << b);
        Some(cursor.word * 64 + b)
    }

    #[inline]
    fn drain(&mut self, mut f: impl FnMut(usize)) {
        let mut top = self.top;
        while top != 0 {
            let w = top.trailing_zeros() as usize;
            top &= top - 1;
            let mut bits = std::mem::take(&mut self.words[w]);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                f(w * 64 + b);
            }
        }
        self.top = 0;
    }
}

/// 64 ticks of the window: which are occupied, and their payloads.
#[derive(Clone, Copy, Debug)]
struct Chunk<V> {
    bits: u64,
    slots: [V; 64],
}

impl<V: RungValue> Chunk<V> {
    const EMPTY: Self = Self {
        bits: 0,
        slots: [V::VACANT; 64],
    };

    /// The payload at tick `b` (below 64), if occupied: from the slot alone when `VACANT`
    /// marks the free slots (one cache line), else by the occupancy word.
    #[inline(always)]
    fn get(&self, b: usize) -> Option<V> {
        if V::VACANT_IS_UNIQUE {
            let val = self.slots[b];
            debug_assert_eq!(!val.is_vacant(), self.bits >> b & 1 != 0, "slot {b}");
            (!val.is_vacant()).then_some(val)
        } else {
            (self.bits >> b & 1 != 0).then_some(self.slots[b])
        }
    }
}

/// The levels of one side: a price-indexed window plus sorted outliers. See the
/// [module docs](self).
///
/// Laid out for the cache: what applying a message reads or writes (the best level, the grid,
/// the summary, the window's address, whether there are levels and outliers, the owner's flag)
/// comes first and, for an L3 side (`V` a level slot, one summary word), fills exactly the
/// first 64 bytes; the outliers, the tick rule and the venue's tick (read when a key falls
/// outside the window or the window moves) follow
/// (`tests::an_l3_sides_hot_fields_are_its_first_64_bytes` checks it). The ladder is not
/// over-aligned: a 64-byte aligned `L3Book` put every hot field on one line but made LLVM
/// spill registers in the inlined apply path (+15 instructions a message; BENCHMARKS, "the
/// book header and the ladder in fewer lines"), so the 64 bytes span two lines unless the
/// allocation happens to align them.
#[derive(Clone, Debug)]
#[repr(C)]
pub(crate) struct Ladder<V, S = OneWord> {
    /// The best level's key (meaningful when `nonempty`).
    best_key: i64,
    grid: Grid,
    /// Which chunks have an occupied tick.
    summary: S,
    /// The window: `chunks.len() * 64` ticks from `grid.base`, at most `S::MAX_CHUNKS` chunks.
    chunks: Box<[Chunk<V>]>,
    /// The best level's payload (meaningful when `nonempty`).
    best_val: V,
    /// Whether the side holds a level.
    nonempty: bool,
    /// Whether `outliers` holds a level (so the best's search after a removal reads them).
    has_outliers: bool,
    /// A flag the owner keeps with the side's hot fields (the L3 book: whether it is crossed).
    flag: bool,
    /// The grid tick's trailing zeros ([`Grid::offset_by`]).
    shift: u8,
    // ---- the cold line ----
    /// Keys outside the window or off its grid, sorted, best last.
    outliers: Vec<Rung<V>>,
    side: Side,
    rule: TickRule,
    /// The venue's fixed price tick, when it is known (0: the grid is learned).
    venue_tick: i64,
}

impl<V: RungValue, S: Summary> Ladder<V, S> {
    /// The largest window, in ticks.
    const MAX_TICKS: usize = S::MAX_CHUNKS * 64;

    /// An empty side whose window holds `levels` ticks (64 to the summary's most) and whose
    /// outliers hold `levels` levels without growing (a re-base passes every level through
    /// them); ticks follow the US equity rule.
    pub(crate) fn new(side: Side, levels: usize) -> Self {
        let ticks = levels.clamp(MIN_TICKS, Self::MAX_TICKS).next_power_of_two();
        Self {
            best_key: 0,
            grid: Grid::START,
            shift: 0,
            summary: S::with_chunks(ticks / 64),
            chunks: vec![Chunk::EMPTY; ticks / 64].into_boxed_slice(),
            best_val: V::VACANT,
            nonempty: false,
            has_outliers: false,
            flag: false,
            outliers: Vec::with_capacity(levels.max(4)),
            side,
            rule: TickRule::UsEquity,
            venue_tick: 0,
        }
    }

    /// Fixes the grid to the venue's price tick (a positive raw price of at most 2^40; others
    /// are ignored and the grid stays learned): every window placed from now on is on this
    /// tick from its first level, and a price off it is kept as an outlier. Levels already
    /// held stay where they are until the next re-base.
    pub(crate) fn set_venue_tick(&mut self, tick: i64) {
        if (1..=1 << 40).contains(&tick) {
            self.venue_tick = tick;
        }
    }

    /// Number of levels.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.iter_best_first().count()
    }

    /// The best level.
    #[inline(always)]
    pub(crate) fn best(&self) -> Option<Rung<V>> {
        self.nonempty.then_some(Rung {
            key: self.best_key,
            val: self.best_val,
        })
    }

    /// Whether the side holds a level, and the best key (meaningful only when it does): the
    /// pair a branch-free cross check combines with `&`.
    #[inline(always)]
    pub(crate) fn best_key_raw(&self) -> (bool, i64) {
        (self.nonempty, self.best_key)
    }

    /// The owner's flag (kept on the hot line; see [`Ladder`]).
    #[inline(always)]
    pub(crate) fn flag(&self) -> bool {
        self.flag
    }

    /// Sets the owner's flag.
    #[inline(always)]
    pub(crate) fn set_flag(&mut self, flag: bool) {
        self.flag = flag;
    }

    /// The chunk and bit of `key`, when it lies on the window's grid.
    #[inline(always)]
    fn slot_of(&self, key: i64) -> Option<(usize, usize)> {
        let offset = self.grid.offset_by(key, u32::from(self.shift));
        let chunk = (offset >> 6) as usize;
        (chunk < self.chunks.len()).then_some((chunk, (offset & 63) as usize))
    }

    /// `Ok((payload, whether it is the best))` for the level at `key`, or `Err(whether a new
    /// level there would be the best)`.
    #[inline(always)]
    pub(crate) fn find(&self, key: i64) -> Result<(V, bool), bool> {
        let at_best = !self.nonempty || key >= self.best_key;
        let found = match self.slot_of(key) {
            Some((c, b)) => self.window_get(c, b),
            None if self.has_outliers => self.outlier(key),
            None => None,
        };
        found.map(|val| (val, at_best)).ok_or(at_best)
    }

    /// The payload at tick `b` of chunk `c`, if occupied: from the slot alone when `VACANT`
    /// marks the free slots (one cache line), else by the occupancy word.
    #[inline(always)]
    fn window_get(&self, c: usize, b: usize) -> Option<V> {
        self.chunks[c].get(b)
    }

    #[inline(never)]
    fn outlier(&self, key: i64) -> Option<V> {
        self.outliers
            .binary_search_by(|r| r.key.cmp(&key))
            .ok()
            .map(|i| self.outliers[i].val)
    }

    /// The payload of the level with `key`.
    #[inline]
    pub(crate) fn get(&self, key: i64) -> Option<V> {
        self.find(key).ok().map(|(val, _)| val)
    }

    /// Sets the payload of the existing level `key`; returns whether it was there.
    #[inline]
    pub(crate) fn set(&mut self, key: i64, val: V) -> bool {
        let slot = match self.slot_of(key) {
            Some((c, b)) => {
                let chunk = &mut self.chunks[c];
                if chunk.get(b).is_none() {
                    return false;
                }
                &mut chunk.slots[b]
            }
            None => match self.outliers.binary_search_by(|r| r.key.cmp(&key)) {
                Ok(i) => &mut self.outliers[i].val,
                Err(_) => return false,
            },
        };
        debug_assert!(!(V::VACANT_IS_UNIQUE && val.is_vacant()), "VACANT stored");
        *slot = val;
        if key == self.best_key {
            // The cached best is a copy: keep it equal to the slot.
            self.best_val = val;
        }
        true
    }

    /// Inserts a level at a `key` not yet present; returns whether memory had to grow (the
    /// window or the outliers).
    #[inline(always)]
    pub(crate) fn insert(&mut self, key: i64, val: V) -> bool {
        debug_assert!(self.get(key).is_none(), "key {key} already present");
        let grew = match self.slot_of(key) {
            Some((c, b)) => {
                self.place(c, b, val);
                false
            }
            None => self.insert_outside(key, val),
        };
        if !self.nonempty || key > self.best_key {
            self.best_key = key;
            self.best_val = val;
        }
        self.nonempty = true;
        grew
    }

    #[inline(always)]
    fn place(&mut self, c: usize, b: usize, val: V) {
        debug_assert!(!(V::VACANT_IS_UNIQUE && val.is_vacant()), "VACANT stored");
        let chunk = &mut self.chunks[c];
        chunk.bits |= 1 << b;
        chunk.slots[b] = val;
        self.summary.set(c);
    }

    /// A key outside the window: move or grow the window to take it when that is worth it,
    /// else keep it as an outlier.
    #[cold]
    #[inline(never)]
    fn insert_outside(&mut self, key: i64, val: V) -> bool {
        let mut grew = false;
        if let Some((top, span, tick)) = self.plan(key) {
            grew = self.relayout(top, span, tick);
        }
        if let Some((c, b)) = self.slot_of(key) {
            self.place(c, b, val);
        } else {
            grew |= self.outliers.len() == self.outliers.capacity();
            let at = self
                .outliers
                .binary_search_by(|r| r.key.cmp(&key))
                .unwrap_or_else(|at| at);
            self.outliers.insert(at, Rung { key, val });
            self.has_outliers = true;
        }
        grew
    }

    /// The window keys (lowest, highest), if the window holds a level.
    fn window_bounds(&self) -> Option<(i64, i64)> {
        if self.summary.is_empty() {
            return None;
        }
        let lo_c = self.summary.lowest();
        let hi_c = self.summary.highest();
        let lo = lo_c * 64 + self.chunks[lo_c].bits.trailing_zeros() as usize;
        let hi = hi_c * 64 + 63 - self.chunks[hi_c].bits.leading_zeros() as usize;
        Some((self.grid.key(lo), self.grid.key(hi)))
    }

    /// Where the window should go to take `key`: `(top key, ticks the levels to keep span,
    /// tick)`, or `None` to keep `key` as an outlier. The tick is learned: an empty window
    /// starts at 100 rule ticks (a round-dollar grid for prices above $1) and refines to the
    /// greatest common divisor of its levels' distances when a level lands between its ticks,
    /// never below the US equity tick at that price (a sub-penny price above $1 stays an
    /// outlier). With the venue's tick known ([`Self::set_venue_tick`]) the grid is that tick
    /// from the first level, and a price off it stays an outlier.
    fn plan(&self, key: i64) -> Option<(i64, usize, i64)> {
        let venue = self.venue_tick;
        let Some((lo, hi)) = self.window_bounds() else {
            if venue != 0 {
                return Some((key, 1, venue));
            }
            // An empty window goes wherever the new level is, on the grid of the outliers it
            // could take in.
            let rule = self.rule_tick(key)?;
            let mut tick = u128::from(rule.unsigned_abs()) * 100;
            for o in &self.outliers {
                let distance = (i128::from(o.key) - i128::from(key)).unsigned_abs();
                if distance % u128::from(rule.unsigned_abs()) == 0
                    && distance < u128::from(rule.unsigned_abs()) * Self::MAX_TICKS as u128
                {
                    tick = gcd(tick, distance);
                }
            }
            return Some((key, 1, i64::try_from(tick).ok()?));
        };
        let distance = (i128::from(key) - i128::from(hi)).unsigned_abs();
        let mut tick = self.grid.tick();
        if distance % tick.unsigned_abs() as u128 != 0 {
            if venue != 0 {
                // The window's grid is coarser than the venue's (it was placed before the tick
                // was known): move to the venue's grid, or keep an off-grid price aside.
                if distance % venue.unsigned_abs() as u128 != 0 {
                    return None;
                }
                tick = venue;
            } else {
                let rule = self.rule_tick(key)?;
                let finer = i64::try_from(gcd(distance, tick.unsigned_abs() as u128)).ok()?;
                if finer % rule != 0 {
                    return None;
                }
                tick = finer;
            }
        }
        let (top, bottom) = (i128::from(hi.max(key)), i128::from(lo.min(key)));
        let span = usize::try_from((top - bottom) / i128::from(tick) + 1).unwrap_or(usize::MAX);
        if key > hi {
            // A new best above the window: follow the touch, keeping the deepest levels only
            // if the window can grow to hold them.
            Some((key, if span <= Self::MAX_TICKS { span } else { 1 }, tick))
        } else {
            // Deeper than the window (or between its ticks): grow downward if that stays
            // within bounds.
            (span <= Self::MAX_TICKS).then_some((hi, span, tick))
        }
    }

    /// Re-bases the window on a grid of `tick` so that `top` sits a quarter below its top end
    /// (or higher, when that leaves `span` ticks below it), growing it to hold `span` ticks if
    /// it can; redistributes every level. Returns whether memory grew.
    #[cold]
    #[inline(never)]
    fn relayout(&mut self, top: i64, span: usize, tick: i64) -> bool {
        let want = (span + span / 4 + 1)
            .next_power_of_two()
            .clamp(MIN_TICKS, Self::MAX_TICKS);
        let ticks = want.max(self.chunks.len() * 64);
        let room = (ticks / 4).min(ticks.saturating_sub(span));
        let below = (ticks - 1 - room) as i64;
        let Some(base) = (below as i128)
            .checked_mul(i128::from(tick))
            .and_then(|d| i64::try_from(i128::from(top) - d).ok())
        else {
            return false;
        };
        let Some(grid) = Grid::new(base, tick) else {
            return false;
        };
        // Everything from the window into the outliers, sorted.
        let mut in_window = 0;
        let mut set_chunks = self.summary.cursor();
        while let Some(c) = self.summary.next_down(&mut set_chunks) {
            in_window += self.chunks[c].bits.count_ones() as usize;
        }
        let mut grew = self.outliers.capacity() < self.outliers.len() + in_window;
        self.outliers.reserve(in_window);
        let (chunks, outliers, old) = (&mut self.chunks, &mut self.outliers, self.grid);
        self.summary.drain(|c| {
            let chunk = &mut chunks[c];
            let mut bits = chunk.bits;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                outliers.push(Rung {
                    key: old.key(c * 64 + b),
                    val: chunk.slots[b],
                });
                if V::VACANT_IS_UNIQUE {
                    chunk.slots[b] = V::VACANT;
                }
            }
            chunk.bits = 0;
        });
        self.outliers.sort_unstable_by_key(|r| r.key);
        if ticks > self.chunks.len() * 64 {
            self.chunks = vec![Chunk::EMPTY; ticks / 64].into_boxed_slice();
            self.summary = S::with_chunks(ticks / 64);
            grew = true;
        }
        self.grid = grid;
        self.shift = grid.shift() as u8;
        // Back into the window, whatever lies on it.
        let mut outliers = std::mem::take(&mut self.outliers);
        outliers.retain(|r| match self.slot_of(r.key) {
            Some((c, b)) => {
                self.place(c, b, r.val);
                false
            }
            None => true,
        });
        self.has_outliers = !outliers.is_empty();
        self.outliers = outliers;
        grew
    }

    /// The tick at the price of `key`, under the side's rule.
    fn rule_tick(&self, key: i64) -> Option<i64> {
        let tick = self.rule.tick_at(key_price(self.side, key)).raw();
        (tick > 0).then_some(tick)
    }

    /// Removes the level with `key`, if present.
    #[cfg(test)]
    pub(crate) fn remove_key(&mut self, key: i64) -> Option<Rung<V>> {
        self.take(key).map(|val| Rung { key, val })
    }

    /// Removes the level with `key`; returns whether it was there.
    #[inline(always)]
    pub(crate) fn remove(&mut self, key: i64) -> bool {
        self.take(key).is_some()
    }

    /// Removes the level with `key` and returns its payload.
    #[inline(always)]
    fn take(&mut self, key: i64) -> Option<V> {
        let val = match self.slot_of(key) {
            Some((c, b)) => {
                let chunk = &mut self.chunks[c];
                let val = chunk.get(b)?;
                if V::VACANT_IS_UNIQUE {
                    chunk.slots[b] = V::VACANT;
                }
                chunk.bits &= !(1 << b);
                if chunk.bits == 0 {
                    self.summary.unset(c);
                    self.nonempty = self.has_outliers || !self.summary.is_empty();
                }
                val
            }
            None if self.has_outliers => {
                let val = self.remove_outlier(key)?;
                self.nonempty = self.has_outliers || !self.summary.is_empty();
                val
            }
            None => return None,
        };
        if self.nonempty && key == self.best_key {
            let best = self.find_best();
            self.best_key = best.key;
            self.best_val = best.val;
        }
        Some(val)
    }

    #[inline(never)]
    fn remove_outlier(&mut self, key: i64) -> Option<V> {
        let at = self.outliers.binary_search_by(|r| r.key.cmp(&key)).ok()?;
        let val = self.outliers.remove(at).val;
        self.has_outliers = !self.outliers.is_empty();
        Some(val)
    }

    /// Removes the best level.
    #[cfg(test)]
    pub(crate) fn pop_best(&mut self) -> Option<Rung<V>> {
        if !self.nonempty {
            return None;
        }
        self.remove_key(self.best_key)
    }

    /// Removes the best level, if any.
    #[inline(always)]
    pub(crate) fn drop_best(&mut self) {
        if self.nonempty {
            self.take(self.best_key);
        }
    }

    /// The best level, searched (the window's highest tick against the last outlier, read
    /// only when there are outliers); the side is not empty.
    #[inline]
    fn find_best(&self) -> Rung<V> {
        let outlier = if self.has_outliers {
            self.outliers.last().copied()
        } else {
            None
        };
        if self.summary.is_empty() {
            debug_assert!(outlier.is_some());
            return outlier.unwrap_or(Rung {
                key: self.best_key,
                val: self.best_val,
            });
        }
        let c = self.summary.highest();
        let chunk = &self.chunks[c];
        let b = 63 - chunk.bits.leading_zeros() as usize;
        let top = Rung {
            key: self.grid.key(c * 64 + b),
            val: chunk.slots[b],
        };
        match outlier {
            Some(o) if o.key > top.key => o,
            _ => top,
        }
    }

    /// Levels, best first.
    #[inline]
    pub(crate) fn iter_best_first(&self) -> BestFirst<'_, V, S> {
        BestFirst {
            ladder: self,
            summary: self.summary.cursor(),
            chunk: 0,
            bits: 0,
            outliers: self.outliers.len(),
        }
    }

    /// Writes the best `dst.len()` levels, best first, through `view` into `dst` and returns
    /// how many there were: the first levels [`Self::iter_best_first`] yields, walked as two
    /// plain loops over the occupancy bits (and the outliers merged in where one is better)
    /// instead of the iterator's per-level merge. What publishing a top of book calls on every
    /// update.
    #[inline]
    pub(crate) fn fill_best<T>(&self, dst: &mut [T], mut view: impl FnMut(i64, V) -> T) -> usize {
        let max = dst.len();
        let mut n = 0;
        let mut outliers = self.outliers.len();
        let mut summary = self.summary.cursor();
        while let Some(c) = self.summary.next_down(&mut summary) {
            let Some(chunk) = self.chunks.get(c) else {
                break;
            };
            let mut bits = chunk.bits;
            while bits != 0 {
                let b = 63 - bits.leading_zeros() as usize;
                bits &= !(1u64 << b);
                let key = self.grid.key(c * 64 + b);
                while let Some(o) = outliers.checked_sub(1).map(|i| self.outliers[i]) {
                    if o.key <= key {
                        break;
                    }
                    let Some(slot) = dst.get_mut(n) else {
                        return n;
                    };
                    *slot = view(o.key, o.val);
                    n += 1;
                    outliers -= 1;
                }
                let Some(slot) = dst.get_mut(n) else {
                    return n;
                };
                *slot = view(key, chunk.slots[b]);
                n += 1;
            }
        }
        while n < max {
            let Some(o) = outliers.checked_sub(1).map(|i| self.outliers[i]) else {
                break;
            };
            dst[n] = view(o.key, o.val);
            n += 1;
            outliers -= 1;
        }
        n
    }

    /// Removes every level (keeps the memory and the window's place).
    #[inline]
    pub(crate) fn clear(&mut self) {
        let chunks = &mut self.chunks;
        self.summary.drain(|c| {
            let chunk = &mut chunks[c];
            let mut bits = std::mem::take(&mut chunk.bits);
            while bits != 0 {
                chunk.slots[bits.trailing_zeros() as usize] = V::VACANT;
                bits &= bits - 1;
            }
        });
        self.outliers.clear();
        self.nonempty = false;
        self.has_outliers = false;
    }

    /// The address of the window's slot for `key` (or of the window when `key` is outside it),
    /// for a prefetch.
    #[inline(always)]
    pub(crate) fn slot_addr(&self, key: i64) -> *const u8 {
        match self.slot_of(key) {
            Some((c, b)) => std::ptr::from_ref(&self.chunks[c].slots[b]).cast(),
            None => self.chunks.as_ptr().cast(),
        }
    }

    /// Ticks the window spans now.
    #[cfg(test)]
    pub(crate) fn window_ticks(&self) -> usize {
        self.chunks.len() * 64
    }

    /// Levels kept as outliers now.
    #[cfg(test)]
    pub(crate) fn outlier_count(&self) -> usize {
        self.outliers.len()
    }
}

/// The levels of a [`Ladder`], best first: the window's ticks from the top merged with the
/// outliers from the back.
#[derive(Clone, Debug)]
pub(crate) struct BestFirst<'a, V, S: Summary = OneWord> {
    ladder: &'a Ladder<V, S>,
    /// Chunks not yet started.
    summary: S::Cursor,
    /// The chunk being walked and its bits not yet yielded.
    chunk: usize,
    bits: u64,
    /// Outliers not yet yielded (a prefix of the vector).
    outliers: usize,
}

impl<V: RungValue, S: Summary> BestFirst<'_, V, S> {
    /// The window's next tick, best first, without taking it.
    #[inline]
    fn peek_window(&mut self) -> Option<(usize, usize)> {
        while self.bits == 0 {
            self.chunk = self.ladder.summary.next_down(&mut self.summary)?;
            self.bits = self.ladder.chunks[self.chunk].bits;
        }
        Some((self.chunk, 63 - self.bits.leading_zeros() as usize))
    }
}

impl<V: RungValue, S: Summary> Iterator for BestFirst<'_, V, S> {
    type Item = Rung<V>;

    #[inline]
    fn next(&mut self) -> Option<Rung<V>> {
        let window = self.peek_window().map(|(c, b)| Rung {
            key: self.ladder.grid.key(c * 64 + b),
            val: self.ladder.chunks[c].slots[b],
        });
        let outlier = self
            .outliers
            .checked_sub(1)
            .map(|i| self.ladder.outliers[i]);
        match (window, outlier) {
            (Some(w), Some(o)) if o.key > w.key => {
                self.outliers -= 1;
                Some(o)
            }
            (Some(w), _) => {
                self.bits &= !(1 << (63 - self.bits.leading_zeros()));
                Some(w)
            }
            (None, Some(o)) => {
                self.outliers -= 1;
                Some(o)
            }
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    const CENT: i64 = 1_000_000;

    #[test]
    fn an_l3_sides_hot_fields_are_its_first_64_bytes() {
        use crate::book::levels::LevelSlot;
        use core::mem::{align_of, offset_of, size_of};
        type L3Side = Ladder<LevelSlot, OneWord>;
        assert_eq!(align_of::<L3Side>(), 8);
        // Every field a message reads or writes ends within the first line ...
        for end in [
            offset_of!(L3Side, best_key) + 8,
            offset_of!(L3Side, grid) + size_of::<Grid>(),
            offset_of!(L3Side, summary) + size_of::<OneWord>(),
            offset_of!(L3Side, chunks) + size_of::<Box<[Chunk<LevelSlot>]>>(),
            offset_of!(L3Side, best_val) + size_of::<LevelSlot>(),
            offset_of!(L3Side, nonempty) + 1,
            offset_of!(L3Side, has_outliers) + 1,
            offset_of!(L3Side, flag) + 1,
            offset_of!(L3Side, shift) + 1,
        ] {
            assert!(end <= 64, "a hot field ends at byte {end}");
        }
        // ... and the cold ones start on the second.
        for start in [
            offset_of!(L3Side, outliers),
            offset_of!(L3Side, side),
            offset_of!(L3Side, rule),
            offset_of!(L3Side, venue_tick),
        ] {
            assert!(start >= 64, "a cold field starts at byte {start}");
        }
    }

    #[test]
    fn keys_order_best_last_on_both_sides() {
        let p = |r| Price::from_raw(r);
        assert!(side_key(Side::Buy, p(101)) > side_key(Side::Buy, p(100)));
        assert!(side_key(Side::Sell, p(100)) > side_key(Side::Sell, p(101)));
        assert!(side_key(Side::Sell, Price::MIN) > side_key(Side::Sell, Price::MAX));
        for raw in [i64::MIN, -5, 0, 7, i64::MAX] {
            for side in [Side::Buy, Side::Sell] {
                assert_eq!(key_price(side, side_key(side, p(raw))), p(raw));
            }
        }
    }

    #[test]
    fn grid_offsets_are_exact_divisions_or_out_of_range() {
        for tick in [1, 3, 100, 10_000, CENT, 7 << 20] {
            for base in [0, -5 * CENT, 123 * CENT + 7, BASE_LIMIT, -BASE_LIMIT] {
                let grid = Grid::new(base, tick).expect("grid");
                for d in [
                    0i64,
                    1,
                    2,
                    tick - 1,
                    tick,
                    tick + 1,
                    63 * tick,
                    4095 * tick,
                    -tick,
                ] {
                    let offset = grid.offset(base.wrapping_add(d));
                    if d >= 0 && d % tick == 0 && d / tick < MAX_TICKS as i64 {
                        assert_eq!(offset, (d / tick) as u64, "tick {tick} base {base} d {d}");
                    } else {
                        assert!(offset >= MAX_TICKS as u64, "tick {tick} base {base} d {d}");
                    }
                }
                for far in [i64::MIN, i64::MAX, i64::MIN + 1, -1, 0] {
                    let offset = grid.offset(far);
                    let d = i128::from(far) - i128::from(base);
                    let inside = d >= 0 && d % i128::from(tick) == 0 && d / i128::from(tick) < 4096;
                    assert_eq!(offset < MAX_TICKS as u64, inside, "far {far} base {base}");
                }
            }
        }
        assert!(Grid::new(0, 0).is_none());
        assert!(Grid::new(BASE_LIMIT + 1, 1).is_none());
    }

    #[test]
    fn a_window_learns_its_grid_follows_the_touch_and_keeps_far_levels_as_outliers() {
        let mut ladder: Ladder<i64> = Ladder::new(Side::Buy, 64);
        let at = |cents: i64| cents * CENT;
        // The first level: a window of 64 one-dollar ticks, $53 to $116.
        assert!(!ladder.insert(at(10_000), 1));
        assert_eq!(
            (ladder.window_ticks(), ladder.grid.tick()),
            (64, 100 * CENT)
        );
        // A stub quote far below the touch: an outlier, not a window of 10,000 ticks.
        assert!(!ladder.insert(at(1), 2));
        assert_eq!(ladder.outlier_count(), 1);
        // On the dollar grid: in the window.
        assert!(!ladder.insert(at(9_900), 3));
        assert_eq!(ladder.outlier_count(), 1);
        // Between its ticks: the grid refines to the cent and the window grows to hold
        // $99.00 to $100.00.
        assert!(ladder.insert(at(9_999), 4));
        assert_eq!((ladder.window_ticks(), ladder.grid.tick()), (128, CENT));
        assert_eq!(ladder.outlier_count(), 1);
        // The touch jumps far up: the window follows, the old levels become outliers.
        ladder.insert(at(20_000), 5);
        assert_eq!(
            ladder.best(),
            Some(Rung {
                key: at(20_000),
                val: 5
            })
        );
        assert_eq!(ladder.outlier_count(), 4);
        assert_eq!(ladder.pop_best().map(|r| r.val), Some(5));
        assert_eq!(
            ladder.best(),
            Some(Rung {
                key: at(10_000),
                val: 1
            })
        );
        // The empty window moves back to the next new level, on the outliers' grid, and takes
        // in those it covers (95 ticks below the new level: $99.06 and up).
        ladder.insert(at(10_001), 6);
        assert_eq!(ladder.grid.tick(), CENT);
        assert_eq!(ladder.outlier_count(), 2);
        // Sub-penny prices above $1 are off the grid: outliers, still in order.
        ladder.insert(at(10_000) + 1, 7);
        assert_eq!(ladder.outlier_count(), 3);
        let keys: Vec<i64> = ladder.iter_best_first().map(|r| r.key).collect();
        let want = [
            at(10_001),
            at(10_000) + 1,
            at(10_000),
            at(9_999),
            at(9_900),
            at(1),
        ];
        assert_eq!(keys, want);
        assert_eq!(ladder.len(), 6);
        // Below $1 the grid may be finer.
        let mut cheap: Ladder<i64> = Ladder::new(Side::Sell, 64);
        let key = |raw: i64| side_key(Side::Sell, Price::from_raw(raw));
        cheap.insert(key(50 * CENT), 1);
        cheap.insert(key(50 * CENT + 10_000), 2);
        assert_eq!(cheap.grid.tick(), 10_000);
        assert_eq!(cheap.outlier_count(), 0);
    }

    #[test]
    fn set_keeps_the_cached_best() {
        let mut ladder: Ladder<i64> = Ladder::new(Side::Sell, 8);
        let key = side_key(Side::Sell, Price::from_raw(50 * CENT));
        ladder.insert(key, 7);
        assert!(ladder.set(key, 9));
        assert_eq!(ladder.best().map(|r| r.val), Some(9));
        assert!(!ladder.set(key - CENT, 1));
        ladder.clear();
        assert_eq!(ladder.best(), None);
        assert_eq!(ladder.iter_best_first().count(), 0);
    }

    #[test]
    fn a_two_level_window_holds_a_snapshot_wider_than_one_summary_word() {
        // 2,500 levels a cent or two apart, spread over 5,000 ticks on both sides of the
        // first: past one summary word's 4,096 ticks.
        let keys: Vec<i64> = (0..2_500)
            .flat_map(|i| {
                [
                    60_000 * CENT + 2 * i * CENT,
                    60_000 * CENT - (2 * i + 1) * CENT,
                ]
            })
            .collect();
        let mut narrow: Ladder<i64> = Ladder::new(Side::Buy, 8_192);
        let mut wide: Ladder<i64, TwoLevel> = Ladder::new(Side::Buy, 8_192);
        for (n, &key) in keys.iter().enumerate() {
            narrow.insert(key, n as i64);
            wide.insert(key, n as i64);
        }
        assert_eq!(narrow.window_ticks(), MAX_TICKS);
        assert!(narrow.outlier_count() > 0);
        assert!(wide.window_ticks() > MAX_TICKS);
        assert_eq!(wide.outlier_count(), 0);
        let walk: Vec<Rung<i64>> = wide.iter_best_first().collect();
        assert_eq!(walk, narrow.iter_best_first().collect::<Vec<_>>());
        assert!(walk.windows(2).all(|w| w[0].key > w[1].key));
        assert_eq!(walk.len(), keys.len());
        // Emptying it from the top walks down through both summary levels.
        for want in &walk {
            assert_eq!(wide.pop_best(), Some(*want));
        }
        assert_eq!(wide.len(), 0);
    }

    #[test]
    fn a_venue_tick_places_the_window_on_its_grid_from_the_first_level() {
        let mut ladder: Ladder<i64, TwoLevel> = Ladder::new(Side::Buy, 64);
        ladder.set_venue_tick(10 * CENT);
        ladder.set_venue_tick(0);
        ladder.insert(60_000 * 100 * CENT, 1);
        assert_eq!(ladder.grid.tick(), 10 * CENT);
        // The next level 10 cents below: on the grid, no re-base to refine it.
        assert!(!ladder.insert(60_000 * 100 * CENT - 10 * CENT, 2));
        assert_eq!((ladder.grid.tick(), ladder.outlier_count()), (10 * CENT, 0));
        // Off the venue's grid: an outlier, in order.
        ladder.insert(60_000 * 100 * CENT - 5 * CENT, 3);
        assert_eq!((ladder.grid.tick(), ladder.outlier_count()), (10 * CENT, 1));
        let vals: Vec<i64> = ladder.iter_best_first().map(|r| r.val).collect();
        assert_eq!(vals, [1, 3, 2]);
        // A coin above $1 quoted in 0.0001 (Binance's XRPUSDT, ADAUSDT): the US equity rule
        // forbids a sub-penny grid there, so without the venue's tick the sub-penny levels
        // are all outliers; with it, none is.
        let mut learned: Ladder<i64, TwoLevel> = Ladder::new(Side::Sell, 64);
        let mut venue: Ladder<i64, TwoLevel> = Ladder::new(Side::Sell, 64);
        venue.set_venue_tick(10_000);
        for i in 0..1_000 {
            let key = side_key(Side::Sell, Price::from_raw(250 * CENT + i * 10_000));
            learned.insert(key, i);
            venue.insert(key, i);
        }
        assert!(learned.outlier_count() > 800, "{}", learned.outlier_count());
        assert_eq!(venue.outlier_count(), 0);
        assert!(learned.iter_best_first().eq(venue.iter_best_first()));
    }

    /// What a random test does to a ladder and its reference.
    #[derive(Clone, Debug)]
    enum Op {
        Insert(i64),
        Remove(i64),
        PopBest,
        Set(i64),
        Clear,
    }

    /// Keys near a moving centre (in ticks of 1c or 0.01c), far away, off the grid, and
    /// extremes; the index picks among recently used keys for removals.
    fn key_strategy() -> impl Strategy<Value = i64> {
        prop_oneof![
            8 => (0i64..200).prop_map(|t| 100 * CENT + t * CENT),
            3 => (0i64..6_000).prop_map(|t| 40 * CENT + t * CENT),
            2 => (0i64..300).prop_map(|t| 50 * CENT + t * 10_000),
            1 => any::<i64>(),
            1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0), Just(-1)],
            1 => (1i64..5_000).prop_map(|t| t * 10_000 * 7 + 3),
        ]
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            10 => key_strategy().prop_map(Op::Insert),
            6 => key_strategy().prop_map(Op::Remove),
            3 => Just(Op::PopBest),
            2 => key_strategy().prop_map(Op::Set),
            1 => Just(Op::Clear),
        ]
    }

    /// The wide ladder's keys: the same, plus cent ticks spread over 300,000 ticks (past the
    /// 4,096 of one summary word and the 262,144 of two).
    fn wide_key_strategy() -> impl Strategy<Value = i64> {
        prop_oneof![
            6 => key_strategy(),
            4 => (0i64..300_000).prop_map(|t| 40 * CENT + t * CENT),
            1 => (0i64..20_000).prop_map(|t| 100 * CENT + t * 10_000),
        ]
    }

    fn wide_op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            10 => wide_key_strategy().prop_map(Op::Insert),
            6 => wide_key_strategy().prop_map(Op::Remove),
            3 => Just(Op::PopBest),
            2 => wide_key_strategy().prop_map(Op::Set),
            1 => Just(Op::Clear),
        ]
    }

    fn check<S: Summary>(ladder: &Ladder<i64, S>, model: &BTreeMap<i64, i64>) {
        // A window slot is VACANT exactly when its occupancy bit is clear (what a look-up by
        // the slot alone relies on); the flags agree with the levels held.
        for (c, chunk) in ladder.chunks.iter().enumerate() {
            for (b, val) in chunk.slots.iter().enumerate() {
                assert_eq!(
                    !val.is_vacant(),
                    chunk.bits >> b & 1 != 0,
                    "slot {c}:{b} disagrees with its bit"
                );
            }
        }
        assert_eq!(ladder.has_outliers, !ladder.outliers.is_empty());
        assert_eq!(ladder.nonempty, !model.is_empty());
        assert_eq!(ladder.len(), model.len());
        let best = model
            .iter()
            .next_back()
            .map(|(&key, &val)| Rung { key, val });
        assert_eq!(ladder.best(), best);
        let walked: Vec<Rung<i64>> = ladder.iter_best_first().collect();
        for max in [0, 1, 3, 10, walked.len() + 2] {
            let mut top = vec![Rung { key: 0, val: 0 }; max];
            let n = ladder.fill_best(&mut top, |key, val| Rung { key, val });
            assert_eq!(n, walked.len().min(max));
            assert_eq!(top[..n], walked[..n]);
        }
        let want: Vec<Rung<i64>> = model
            .iter()
            .rev()
            .map(|(&key, &val)| Rung { key, val })
            .collect();
        assert_eq!(walked, want);
    }

    /// Runs `ops` on a ladder and on a `BTreeMap`, checking them equal after each.
    fn run<S: Summary>(
        ops: Vec<Op>,
        side: Side,
        levels: usize,
        venue_tick: i64,
    ) -> Result<(), TestCaseError> {
        let mut ladder: Ladder<i64, S> = Ladder::new(side, levels);
        ladder.set_venue_tick(venue_tick);
        let mut model = BTreeMap::new();
        let mut used: Vec<i64> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            let val = n as i64 + 1;
            match op {
                Op::Insert(key) => {
                    let want = model
                        .get(&key)
                        .map(|&v| (v, key >= *model.keys().next_back().unwrap_or(&key)));
                    let would_be_best = model.keys().next_back().is_none_or(|&b| key >= b);
                    prop_assert_eq!(ladder.find(key), want.ok_or(would_be_best));
                    if want.is_none() {
                        ladder.insert(key, val);
                        model.insert(key, val);
                        used.push(key);
                    }
                }
                Op::Remove(key) => {
                    // Half the removals hit a key in use.
                    let key = if val % 2 == 0 && !used.is_empty() {
                        used[(key as u64 % used.len() as u64) as usize]
                    } else {
                        key
                    };
                    let want = model.remove(&key).map(|val| Rung { key, val });
                    prop_assert_eq!(ladder.remove_key(key), want);
                }
                Op::PopBest => {
                    let want = model.pop_last().map(|(key, val)| Rung { key, val });
                    prop_assert_eq!(ladder.pop_best(), want);
                }
                Op::Set(key) => {
                    let key = used
                        .get((key as u64 % used.len().max(1) as u64) as usize)
                        .copied()
                        .unwrap_or(key);
                    let present = model.contains_key(&key);
                    prop_assert_eq!(ladder.set(key, -val), present);
                    if present {
                        model.insert(key, -val);
                    }
                    prop_assert_eq!(ladder.get(key), model.get(&key).copied());
                }
                Op::Clear => {
                    ladder.clear();
                    model.clear();
                }
            }
            check(&ladder, &model);
            prop_assert!(ladder.window_ticks() <= Ladder::<i64, S>::MAX_TICKS);
        }
        for (&key, &val) in &model {
            prop_assert_eq!(ladder.get(key), Some(val));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn behaves_as_a_sorted_map(
            ops in prop::collection::vec(op_strategy(), 1..400),
            side in prop_oneof![Just(Side::Buy), Just(Side::Sell)],
            levels in prop_oneof![Just(1usize), Just(64), Just(300)],
        ) {
            run::<OneWord>(ops, side, levels, 0)?;
        }

        #[test]
        fn a_two_level_window_behaves_as_a_sorted_map(
            ops in prop::collection::vec(wide_op_strategy(), 1..400),
            side in prop_oneof![Just(Side::Buy), Just(Side::Sell)],
            levels in prop_oneof![Just(1usize), Just(300), Just(8_192)],
            venue_tick in prop_oneof![Just(0i64), Just(CENT), Just(10_000)],
        ) {
            run::<TwoLevel>(ops, side, levels, venue_tick)?;
        }
    }
}
