//! The ceiling probe: how fast could *any* L3 book apply a day on this machine?
//!
//! [`Ceiling`] replays the same capture through the same pieces as `market_day feed` (the
//! `.kcap` reader, the MoldUDP64 sequencer, the ITCH message views the feed handler's direct
//! apply reads) into [`CeilingBooks`], a deliberately minimal book that keeps only what the
//! day's messages strictly need:
//!
//! - per order, found by its dense reference in one direct-indexed array (no hashing, no
//!   window, no free list): a 16-byte record of remaining shares, the level slot (which says
//!   the instrument's price), instrument and side, so an order is one cache line;
//! - per instrument and side, the aggregate shares at each price level, in one price-indexed
//!   array over the day's prices (from a first, untimed pass: [`DayExtent`]), and the best
//!   level.
//!
//! No FIFO queues, no order counts per level, no level records, no growth: what it costs a
//! message is the lower bound of any book that answers "what rests at each price" for every
//! instrument. `CeilingBooks<Q_FIFO>` (`market_day ceiling --fifo`) adds the classic FIFO
//! queues to it and nothing else (`prev`/`next` references in a 32-byte record, head and tail
//! per level slot), to measure what queue links cost on top; `CeilingBooks<Q_APPEND>`
//! (`--append`) keeps the same queues append-only instead (references in arrival order in
//! 64-byte chunks per level; an order that leaves marks its own entry dead, so no message
//! writes another order's record), to measure whether a book with time priority can stay near
//! the minimal one. `market_day ceiling` measures it beside `market_day feed` (docs/BENCHMARKS.md,
//! "the ceiling of any L3 book on the full day"); `bench/tests/ceiling.rs` checks its levels
//! against [`L3Books`](kestrel_core::book::L3Books) and a simple reference.
//!
//! Only dense references fit a direct-indexed array: a day whose references exceed
//! [`MAX_REFERENCE`] is refused ([`CeilingError`]). Bad input never panics: an unknown
//! reference, a duplicate, an off-grid price or an over-execution is counted
//! ([`CeilingStats`]) and skipped.

#![allow(
    unsafe_code,
    reason = "the x86_64 prefetch intrinsic needs an unsafe call (it cannot fault)"
)]

use kestrel_core::book::StableHasher;
use kestrel_core::{Price, Qty, Side, Timestamp};
use kestrel_feeds::itch::{
    AddOrder, AddOrderMpid, Message, OrderCancel, OrderDelete, OrderExecuted,
    OrderExecutedWithPrice, OrderReplace, decode, side_index,
};
use kestrel_feeds::kcap::Record;
use kestrel_feeds::moldudp64::packet::BLOCK_PREFIX_LEN;
use kestrel_feeds::moldudp64::{
    END_OF_SESSION_COUNT, HEADER_LEN, MoldStreams, SeqEvent, SequencerConfig,
};

/// The largest order reference the direct-indexed order array takes (2^31: 32 GiB of records,
/// far beyond any machine's budget; the full day needs 26 M).
pub const MAX_REFERENCE: u64 = 1 << 31;

/// Level slots the books may hold in all (`u32` slot numbers in the order records).
pub const MAX_LEVEL_SLOTS: u64 = 1 << 31;

/// Order messages prefetched together (as the feed handler's batch).
const BATCH: usize = 64;

/// Why a day cannot be replayed into [`CeilingBooks`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CeilingError {
    /// An order reference beyond [`MAX_REFERENCE`]: sparse references need a map, which is
    /// what this probe leaves out.
    #[error(
        "order reference {0} is beyond the direct-indexed array ({MAX_REFERENCE}): dense references only"
    )]
    SparseReferences(u64),
    /// The day's price ranges need more level slots than [`MAX_LEVEL_SLOTS`].
    #[error("the day's price ranges need {0} level slots, more than {MAX_LEVEL_SLOTS}")]
    TooManyLevels(u64),
}

/// One instrument's prices over the day: the lowest, the highest and the grid they lie on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct PriceRange {
    first: u32,
    min: u32,
    max: u32,
    /// The gcd of every price's distance from `first` (0 while only one price was seen).
    step: u32,
    seen: bool,
}

const fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl PriceRange {
    fn observe(&mut self, price: u32) {
        if !self.seen {
            *self = Self {
                first: price,
                min: price,
                max: price,
                step: 0,
                seen: true,
            };
            return;
        }
        self.min = self.min.min(price);
        self.max = self.max.max(price);
        self.step = gcd(self.step, price.abs_diff(self.first));
    }

    /// Price levels from `min` to `max` on the grid.
    fn levels(&self) -> u64 {
        if !self.seen {
            return 0;
        }
        u64::from((self.max - self.min) / self.step.max(1)) + 1
    }
}

/// What a day's order messages reach, from a first pass: the largest order reference and
/// each stock locate's prices. [`CeilingBooks`] sizes its arrays from it.
#[derive(Clone, Debug, Default)]
pub struct DayExtent {
    max_ref: u64,
    ranges: Vec<PriceRange>,
}

impl DayExtent {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extent of every MoldUDP64 datagram of `records` (damaged records are skipped).
    pub fn scan<'a, E>(records: impl IntoIterator<Item = Result<Record<'a>, E>>) -> Self {
        let mut extent = Self::new();
        for r in records.into_iter().flatten() {
            for message in datagram_messages(r.payload) {
                extent.observe(message);
            }
        }
        extent
    }

    /// One ITCH message: an add or replace widens its locate's price range; every order
    /// message's references raise the largest reference.
    pub fn observe(&mut self, bytes: &[u8]) {
        let (locate, refs, price) = match bytes.first() {
            Some(&AddOrder::TYPE) => match AddOrder::new(bytes) {
                Ok(m) => (m.stock_locate(), [m.order_ref(), 0], Some(m.price())),
                Err(_) => return,
            },
            Some(&AddOrderMpid::TYPE) => match AddOrderMpid::new(bytes) {
                Ok(m) => (m.stock_locate(), [m.order_ref(), 0], Some(m.price())),
                Err(_) => return,
            },
            Some(&OrderReplace::TYPE) => match OrderReplace::new(bytes) {
                Ok(m) => (
                    m.stock_locate(),
                    [m.original_order_ref(), m.new_order_ref()],
                    Some(m.price()),
                ),
                Err(_) => return,
            },
            _ => return,
        };
        self.observe_order(locate, refs[0].max(refs[1]), price);
    }

    /// One order reference of `locate`, and the price it rests at when it is new.
    pub fn observe_order(&mut self, locate: u16, order_ref: u64, price: Option<u32>) {
        self.max_ref = self.max_ref.max(order_ref);
        if let Some(price) = price {
            let i = usize::from(locate);
            if self.ranges.len() <= i {
                self.ranges.resize(i + 1, PriceRange::default());
            }
            self.ranges[i].observe(price);
        }
    }

    /// The largest order reference seen.
    pub fn max_ref(&self) -> u64 {
        self.max_ref
    }

    /// Price levels (slots) the day's ranges need, both sides of every instrument.
    pub fn level_slots(&self) -> u64 {
        self.ranges.iter().map(|r| 2 * r.levels()).sum()
    }
}

/// The ITCH messages of one MoldUDP64 datagram, read without validating it (a block that does
/// not fit ends it; an end-of-session packet has none).
pub fn datagram_messages(datagram: &[u8]) -> impl Iterator<Item = &[u8]> {
    let count = match datagram.get(HEADER_LEN - 2..HEADER_LEN) {
        Some(&[hi, lo]) if u16::from_be_bytes([hi, lo]) != END_OF_SESSION_COUNT => {
            u16::from_be_bytes([hi, lo])
        }
        _ => 0,
    };
    let mut rest = datagram.get(HEADER_LEN..).unwrap_or(&[]);
    (0..count).map_while(move |_| {
        let &[hi, lo] = rest.get(..BLOCK_PREFIX_LEN)? else {
            return None;
        };
        let end = BLOCK_PREFIX_LEN + usize::from(u16::from_be_bytes([hi, lo]));
        let message = rest.get(BLOCK_PREFIX_LEN..end)?;
        rest = &rest[end..];
        Some(message)
    })
}

/// Prefetches the cache line holding `r` (a hint; nothing on other targets).
#[inline(always)]
fn prefetch<T>(r: &T) {
    let p = core::ptr::from_ref(r).cast::<i8>();
    debug_assert!(!p.is_null());
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: `_mm_prefetch` needs only `sse`, part of every x86_64 target; it is a hint
        // that never faults and reads no memory into the program (`p` comes from a reference
        // anyway, so it is a valid address).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// One order: `[remaining shares, level slot, locate | side << 16 | live << 24, place]`, 16
/// bytes (16-byte aligned in the array, so never across two cache lines); `place` is its
/// entry in its level's append-only list (chunk << 4 | index; with `Q_APPEND` only).
type OrderRec = [u32; 4];

const LIVE: u32 = 1 << 24;

/// One instrument: its price grid and, per side, where its levels start and the best one.
///
/// Positions count from the worst price of a side's array towards its best, so both sides
/// share one rule: the best level is the highest non-empty position. A bid at grid index `i`
/// is position `i`, an ask at grid index `i` position `len - 1 - i`. `best` holds the best
/// position + 1 (0: the side is empty).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(32))]
struct MinBook {
    min: u32,
    step: u32,
    len: u32,
    base: [u32; 2],
    best: [u32; 2],
}

impl MinBook {
    /// The position of `price` on `side` (0 bid, 1 ask), if it lies on the grid.
    #[inline(always)]
    fn position(&self, side: usize, price: u32) -> Option<u32> {
        let d = price.checked_sub(self.min)?;
        let (idx, off) = (d / self.step, d % self.step);
        if off != 0 || idx >= self.len {
            return None;
        }
        Some(if side == 0 { idx } else { self.len - 1 - idx })
    }

    /// The price at `pos` on `side`.
    fn price_at(&self, side: usize, pos: u32) -> u32 {
        let idx = if side == 0 { pos } else { self.len - 1 - pos };
        self.min + idx * self.step
    }
}

/// What [`CeilingBooks`] counted: applied order messages and the input it skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CeilingStats {
    /// Order messages applied.
    pub applied: u64,
    /// References that name no live order (or lie beyond the array).
    pub unknown_orders: u64,
    /// Adds whose reference is already live.
    pub duplicate_orders: u64,
    /// Adds for a locate without a book, or at a price off its grid.
    pub bad_prices: u64,
    /// Executions or cancels of more than the order's remaining shares (clamped).
    pub over_executions: u64,
}

impl CeilingStats {
    /// Input the books skipped or clamped.
    pub fn anomalies(&self) -> u64 {
        self.unknown_orders + self.duplicate_orders + self.bad_prices + self.over_executions
    }
}

/// No order in a FIFO link; no chunk in an append-only list.
const NONE: u32 = u32::MAX;

/// The minimal book keeps no queues ([`CeilingBooks`]' `Q`).
pub const Q_NONE: u8 = 0;
/// Classic FIFO queues: `prev`/`next` links in a 32-byte record, head and tail per level.
pub const Q_FIFO: u8 = 1;
/// Append-only queues: per level a list of 64-byte chunks of references in arrival order
/// (the level's ends beside its shares on one line); an add writes its reference into the
/// last chunk, and an order that leaves marks its entry dead (its record says where), so
/// neither touches another order; a chunk left without a live entry is unlinked.
pub const Q_APPEND: u8 = 2;

/// References per append-only chunk (three more words count and link it).
const CHUNK_REFS: u32 = 13;

/// One append-only chunk of a level's list: references in arrival order ([`NONE`]: an order
/// that left), how many are live, and the chunks before and after it ([`NONE`]: none).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct QChunk {
    refs: [u32; CHUNK_REFS as usize],
    live: u32,
    prev: u32,
    next: u32,
}

impl QChunk {
    const EMPTY: Self = Self {
        refs: [NONE; CHUNK_REFS as usize],
        live: 0,
        prev: NONE,
        next: NONE,
    };
}

impl Default for QChunk {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// In the prefetch's pass-2 list: an add (with queues), followed by its level slot.
const ADD_MARK: u64 = u64::MAX;

/// The minimal book: see the [module docs](self). `Q` says how it keeps each level's queue,
/// to measure what that costs:
/// - [`Q_NONE`]: not at all;
/// - [`Q_FIFO`], the classic way: the order record grows to 32 bytes (still one line) with
///   `[prev, next]` references behind the first 16, each level slot gets a `[head, tail]`, an
///   add links behind the tail and an order that leaves unlinks itself from both neighbours;
/// - [`Q_APPEND`], append-only: the level slot grows to 32 bytes (one line: shares, first
///   and last chunk, entries in the last), an add writes its reference into the last chunk
///   (and the chunk's place into the record's fourth word), an order that leaves marks its
///   entry dead in its chunk, and a chunk without a live entry is unlinked and freed.
#[derive(Debug)]
pub struct CeilingBooks<const Q: u8 = Q_NONE> {
    /// One entry an order; with [`Q_FIFO`] two (record, links) from `first`.
    orders: Vec<OrderRec>,
    first: usize,
    books: Vec<MinBook>,
    /// One `u64` a level slot (its shares); with [`Q_APPEND`] four from `level_first`:
    /// `[shares, first | last << 32, entries in the last chunk, 0]`.
    levels: Vec<u64>,
    level_first: usize,
    /// `[head, tail]` per level slot (with [`Q_FIFO`] only).
    queues: Vec<[u32; 2]>,
    /// The append-only lists' chunks (with [`Q_APPEND`] only): the first `chunks_used` have
    /// been handed out; `free_chunk` heads the freed ones.
    chunks: Vec<QChunk>,
    chunks_sized: usize,
    chunks_used: usize,
    free_chunk: u32,
    symbols: Vec<Option<String>>,
    live: usize,
    stats: CeilingStats,
}

impl<const Q: u8> CeilingBooks<Q> {
    const FIFO: bool = Q == Q_FIFO;
    const APPEND: bool = Q == Q_APPEND;
    const STRIDE: usize = if Self::FIFO { 2 } else { 1 };
    const LEVEL_STRIDE: usize = if Self::APPEND { 4 } else { 1 };

    /// Books sized for `extent`: an order record per reference up to the largest, a level
    /// slot per grid price of every locate's range, on both sides.
    pub fn new(extent: &DayExtent) -> Result<Self, CeilingError> {
        if extent.max_ref >= MAX_REFERENCE {
            return Err(CeilingError::SparseReferences(extent.max_ref));
        }
        let slots = extent.level_slots();
        if slots > MAX_LEVEL_SLOTS {
            return Err(CeilingError::TooManyLevels(slots));
        }
        let mut books = Vec::with_capacity(extent.ranges.len());
        let mut base = 0u32;
        for r in &extent.ranges {
            let len = u32::try_from(r.levels()).unwrap_or(u32::MAX);
            books.push(MinBook {
                min: r.min,
                step: r.step.max(1),
                len,
                base: [base, base + len],
                best: [0, 0],
            });
            base += 2 * len;
        }
        // Zeroed allocations (untouched pages), advised for huge pages, then touched once so
        // that the replay takes no page faults (the feed presizes its pools the same way).
        let entries = (extent.max_ref as usize + 1) * Self::STRIDE + usize::from(Self::FIFO);
        let mut orders: Vec<OrderRec> = vec![[0; 4]; entries];
        // With `Q_APPEND` a level is 32 bytes: three spare words to start it on a boundary.
        let spare = if Self::APPEND { 3 } else { 0 };
        let mut levels = vec![0u64; base as usize * Self::LEVEL_STRIDE + spare];
        huge_and_touch(&mut orders);
        huge_and_touch(&mut levels);
        debug_assert_eq!(orders.as_ptr() as usize % 16, 0);
        // A 32-byte record starts on a 32-byte boundary, so it never spans two lines.
        let first = usize::from(Self::FIFO && !(orders.as_ptr() as usize).is_multiple_of(32));
        debug_assert!(!Self::FIFO || (orders.as_ptr() as usize + 16 * first).is_multiple_of(32));
        let level_first = if Self::APPEND {
            let at = levels.as_ptr() as usize;
            (at.next_multiple_of(32) - at) / 8
        } else {
            0
        };
        if Self::APPEND {
            for slot in 0..base as usize {
                levels[level_first + slot * 4 + 1] = u64::from(NONE) | u64::from(NONE) << 32;
            }
        }
        let queues = if Self::FIFO {
            vec![[NONE; 2]; base as usize]
        } else {
            Vec::new()
        };
        // About one chunk for every eight references of the day, handed out from the front
        // and touched now; the lists' chunks beyond that grow the array (counted).
        let mut chunks = if Self::APPEND {
            vec![QChunk::EMPTY; (extent.max_ref as usize / 8).max(1024)]
        } else {
            Vec::new()
        };
        huge_and_touch(&mut chunks);
        let n = books.len();
        Ok(Self {
            orders,
            first,
            books,
            levels,
            level_first,
            queues,
            chunks_sized: chunks.len(),
            chunks,
            chunks_used: 0,
            free_chunk: NONE,
            symbols: vec![None; n],
            live: 0,
            stats: CeilingStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> CeilingStats {
        self.stats
    }

    /// Orders resting now.
    pub fn live_orders(&self) -> usize {
        self.live
    }

    /// Bytes of the order array, the level arrays and the books.
    pub fn footprint_bytes(&self) -> usize {
        self.orders.len() * 16
            + self.levels.len() * 8
            + self.queues.len() * 8
            + self.chunks.len() * 64
            + self.books.len() * 32
    }

    /// Append-only chunks handed out beyond the array sized up front (with [`Q_APPEND`]).
    pub fn chunk_growths(&self) -> usize {
        self.chunks_used.saturating_sub(self.chunks_sized)
    }

    /// Append-only chunks in use or free (with [`Q_APPEND`]).
    pub fn chunks_used(&self) -> usize {
        self.chunks_used
    }

    /// Where the level at `slot` starts in `levels` (its shares).
    #[inline(always)]
    fn lv(&self, slot: u32) -> usize {
        self.level_first + slot as usize * Self::LEVEL_STRIDE
    }

    /// The shares resting at the level at `slot` (0 for a slot beyond the array).
    #[inline(always)]
    fn level_shares(&self, slot: u32) -> u64 {
        self.levels.get(self.lv(slot)).copied().unwrap_or(0)
    }

    /// The append-only list of the level at `slot`: `(first chunk, last chunk, entries
    /// written in the last)`.
    #[inline(always)]
    fn list(&self, slot: u32) -> (u32, u32, u32) {
        let i = self.lv(slot);
        let ends = self.levels[i + 1];
        (ends as u32, (ends >> 32) as u32, self.levels[i + 2] as u32)
    }

    #[inline(always)]
    fn set_list(&mut self, slot: u32, first: u32, last: u32, fill: u32) {
        let i = self.lv(slot);
        self.levels[i + 1] = u64::from(first) | u64::from(last) << 32;
        self.levels[i + 2] = u64::from(fill);
    }

    /// A chunk for a list: a freed one, else the next never used (the array grows past its
    /// size only when the day needs more than was set aside).
    #[inline(always)]
    fn take_chunk(&mut self) -> u32 {
        if self.free_chunk != NONE {
            let c = self.free_chunk;
            self.free_chunk = self.chunks[c as usize].next;
            return c;
        }
        if self.chunks_used == self.chunks.len() {
            self.chunks.push(QChunk::EMPTY);
        }
        self.chunks_used += 1;
        (self.chunks_used - 1) as u32
    }

    /// Appends the order at entry `i` (`order_ref`) to the list of the level at `slot`, and
    /// writes where into its record (with [`Q_APPEND`]).
    #[inline(always)]
    fn append(&mut self, slot: u32, i: usize, order_ref: u64) {
        let (mut first, mut last, mut fill) = self.list(slot);
        if last == NONE || fill == CHUNK_REFS {
            let c = self.take_chunk();
            self.chunks[c as usize] = QChunk {
                prev: last,
                ..QChunk::EMPTY
            };
            if last == NONE {
                first = c;
            } else {
                self.chunks[last as usize].next = c;
            }
            (last, fill) = (c, 0);
        }
        let chunk = &mut self.chunks[last as usize];
        chunk.refs[fill as usize] = order_ref as u32;
        chunk.live += 1;
        debug_assert!(
            last < 1 << 28 && fill < 16,
            "a chunk's place fits the record's word"
        );
        self.orders[i][3] = last << 4 | fill;
        self.set_list(slot, first, last, fill + 1);
    }

    /// The order at entry `i` left the level at `slot` (with [`Q_APPEND`]): its list entry
    /// is marked dead; a chunk left without a live entry is unlinked and freed.
    #[inline(always)]
    fn left(&mut self, slot: u32, i: usize) {
        let at = self.orders[i][3];
        let (c, k) = (at >> 4, at & 15);
        let chunk = &mut self.chunks[c as usize];
        chunk.refs[k as usize] = NONE;
        chunk.live -= 1;
        if chunk.live == 0 {
            self.unlink_chunk(slot, c);
        }
    }

    /// Takes the empty chunk `c` out of the list of the level at `slot` and frees it.
    #[inline(never)]
    fn unlink_chunk(&mut self, slot: u32, c: u32) {
        let (mut first, mut last, mut fill) = self.list(slot);
        let QChunk { prev, next, .. } = self.chunks[c as usize];
        if prev == NONE {
            first = next;
        } else {
            self.chunks[prev as usize].next = next;
        }
        if next == NONE {
            // Every chunk before the last is full.
            (last, fill) = (prev, CHUNK_REFS);
        } else {
            self.chunks[next as usize].prev = prev;
        }
        if first == NONE {
            (last, fill) = (NONE, 0);
        }
        self.set_list(slot, first, last, fill);
        self.chunks[c as usize].next = self.free_chunk;
        self.free_chunk = c;
    }

    /// The entry of `order_ref`'s record (its links follow it with [`Q_FIFO`]).
    #[inline(always)]
    fn at(&self, order_ref: u64) -> Option<usize> {
        let i = usize::try_from(order_ref)
            .ok()?
            .checked_mul(Self::STRIDE)?
            .checked_add(self.first)?;
        (i + Self::STRIDE <= self.orders.len()).then_some(i)
    }

    /// Links `order_ref` (entry `i`) behind the tail of the level at `slot`.
    #[inline(always)]
    fn link(&mut self, i: usize, order_ref: u64, slot: u32) {
        let Some(q) = self.queues.get(slot as usize).copied() else {
            return;
        };
        let r = order_ref as u32;
        self.orders[i + 1] = [q[1], NONE, 0, 0];
        match self.at(u64::from(q[1])).filter(|_| q[1] != NONE) {
            Some(t) => self.orders[t + 1][1] = r,
            None => self.queues[slot as usize][0] = r,
        }
        self.queues[slot as usize][1] = r;
    }

    /// Unlinks the order at entry `i` from the level at `slot`: both neighbours (or the
    /// level's head and tail) are written.
    #[inline(always)]
    fn unlink(&mut self, i: usize, slot: u32) {
        let [prev, next, _, _] = self.orders[i + 1];
        match self.at(u64::from(prev)).filter(|_| prev != NONE) {
            Some(p) => self.orders[p + 1][1] = next,
            None => {
                if let Some(q) = self.queues.get_mut(slot as usize) {
                    q[0] = next;
                }
            }
        }
        match self.at(u64::from(next)).filter(|_| next != NONE) {
            Some(n) => self.orders[n + 1][0] = prev,
            None => {
                if let Some(q) = self.queues.get_mut(slot as usize) {
                    q[1] = prev;
                }
            }
        }
    }

    /// The references queued at `locate`'s `side` level at `price`, front first (with
    /// [`Q_FIFO`] or [`Q_APPEND`]; empty without).
    pub fn queue(&self, locate: u16, side: Side, price: u32) -> Vec<u64> {
        let s = side.index();
        let Some(slot) = self
            .books
            .get(usize::from(locate))
            .and_then(|b| b.position(s, price).map(|p| (b.base[s] + p) as usize))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if Self::APPEND {
            let mut c = self.list(slot as u32).0;
            while c != NONE && out.len() <= self.live {
                let chunk = &self.chunks[c as usize];
                out.extend(
                    chunk
                        .refs
                        .iter()
                        .filter(|&&r| r != NONE)
                        .map(|&r| u64::from(r)),
                );
                c = chunk.next;
            }
            return out;
        }
        let mut r = self.queues.get(slot).map_or(NONE, |q| q[0]);
        while let Some(i) = self.at(u64::from(r)).filter(|_| r != NONE) {
            out.push(u64::from(r));
            r = self.orders[i + 1][1];
            if out.len() > self.live {
                break; // a broken chain: the test sees more than could rest
            }
        }
        out
    }

    /// Adds `order_ref` of `locate` on `side` at `price` (Price(4)) for `shares`.
    #[inline(always)]
    pub fn add(&mut self, locate: u16, order_ref: u64, side: Side, price: u32, shares: u32) {
        let side = side.index();
        let Some(book) = self.books.get_mut(usize::from(locate)) else {
            self.stats.bad_prices += 1;
            return;
        };
        let Some(pos) = book.position(side, price) else {
            self.stats.bad_prices += 1;
            return;
        };
        let slot = book.base[side] + pos;
        let best = &mut book.best[side];
        let Some(i) = usize::try_from(order_ref)
            .ok()
            .and_then(|r| r.checked_mul(Self::STRIDE)?.checked_add(self.first))
            .filter(|&i| i + Self::STRIDE <= self.orders.len())
        else {
            self.stats.unknown_orders += 1;
            return;
        };
        let rec = &mut self.orders[i];
        if rec[2] & LIVE != 0 {
            self.stats.duplicate_orders += 1;
            return;
        }
        *best = (*best).max(pos + 1);
        *rec = [
            shares,
            slot,
            u32::from(locate) | (side as u32) << 16 | LIVE,
            0,
        ];
        let l = self.lv(slot);
        if let Some(level) = self.levels.get_mut(l) {
            *level += u64::from(shares);
            if Self::APPEND {
                self.append(slot, i, order_ref);
            }
        }
        if Self::FIFO {
            self.link(i, order_ref, slot);
        }
        self.live += 1;
        self.stats.applied += 1;
    }

    /// Takes `shares` off `order_ref` (an execution or a cancel; `u32::MAX`: a delete).
    /// Returns the order's locate and side (0 bid, 1 ask) when it was live.
    #[inline(always)]
    pub fn reduce(&mut self, order_ref: u64, shares: u32) -> Option<(u16, usize)> {
        let Some(i) = self
            .at(order_ref)
            .filter(|&i| self.orders[i][2] & LIVE != 0)
        else {
            self.stats.unknown_orders += 1;
            return None;
        };
        let rec = &mut self.orders[i];
        let take = if shares == u32::MAX {
            rec[0]
        } else {
            self.stats.over_executions += u64::from(shares > rec[0]);
            shares.min(rec[0])
        };
        rec[0] -= take;
        let (slot, tag) = (rec[1], rec[2]);
        let (locate, side) = (tag as u16, ((tag >> 16) & 1) as usize);
        if rec[0] == 0 {
            rec[2] = 0;
            self.live -= 1;
            if Self::FIFO {
                self.unlink(i, slot);
            }
            if Self::APPEND && self.lv(slot) < self.levels.len() {
                self.left(slot, i);
            }
        }
        self.stats.applied += 1;
        let l = self.lv(slot);
        let level = self.levels.get_mut(l)?;
        *level -= u64::from(take);
        if *level == 0 {
            self.level_emptied(locate, side, slot);
        }
        Some((locate, side))
    }

    /// Deletes `order_ref`.
    #[inline(always)]
    pub fn delete(&mut self, order_ref: u64) {
        self.reduce(order_ref, u32::MAX);
    }

    /// Replaces `old_ref` by `new_ref` at `price` for `shares`, on the old order's side.
    #[inline(always)]
    pub fn replace(&mut self, old_ref: u64, new_ref: u64, price: u32, shares: u32) {
        if let Some((locate, side)) = self.reduce(old_ref, u32::MAX) {
            self.stats.applied -= 1;
            let side = if side == 0 { Side::Buy } else { Side::Sell };
            self.add(locate, new_ref, side, price, shares);
        }
    }

    /// The level at `slot` emptied: when it was its side's best, the best moves to the next
    /// non-empty position below it.
    #[inline(never)]
    fn level_emptied(&mut self, locate: u16, side: usize, slot: u32) {
        let Some(book) = self.books.get_mut(usize::from(locate)) else {
            return;
        };
        let pos = slot - book.base[side];
        if pos + 1 != book.best[side] {
            return;
        }
        let start = self.level_first + book.base[side] as usize * Self::LEVEL_STRIDE;
        let below = &self.levels[start..start + pos as usize * Self::LEVEL_STRIDE];
        book.best[side] = below
            .iter()
            .step_by(Self::LEVEL_STRIDE)
            .rposition(|&q| q != 0)
            .map_or(0, |p| p as u32 + 1);
    }

    /// The best level of `locate`'s `side` as the book tracks it (Price(4), aggregate shares).
    pub fn best(&self, locate: u16, side: Side) -> Option<(u32, u64)> {
        let side = side.index();
        let book = self.books.get(usize::from(locate))?;
        let pos = book.best[side].checked_sub(1)?;
        let q = self.level_shares(book.base[side] + pos);
        Some((book.price_at(side, pos), q))
    }

    /// The best `n` levels of `locate`'s `side`, best first: (Price(4), aggregate shares).
    pub fn top(&self, locate: u16, side: Side, n: usize) -> Vec<(u32, u64)> {
        let side = side.index();
        let Some(book) = self.books.get(usize::from(locate)) else {
            return Vec::new();
        };
        let start = book.base[side];
        (0..book.best[side])
            .rev()
            .filter_map(|pos| {
                let q = self.level_shares(start + pos);
                (q != 0).then(|| (book.price_at(side, pos), q))
            })
            .take(n)
            .collect()
    }

    /// The locate of `symbol` (from the day's `R` messages).
    pub fn locate_of(&self, symbol: &str) -> Option<u16> {
        let i = self
            .symbols
            .iter()
            .position(|s| s.as_deref() == Some(symbol))?;
        u16::try_from(i).ok()
    }

    /// One ITCH message: order messages applied (the same message views and the same order of
    /// type tests as the feed handler's direct apply); every other message is decoded, and a
    /// stock directory names its locate's symbol. Out of line, as the feed handler's
    /// per-message function is (so callgrind reports each one's cost by itself).
    #[inline(never)]
    pub fn apply(&mut self, bytes: &[u8]) {
        let t = bytes.first().copied();
        if t == Some(AddOrder::TYPE)
            && let Ok(m) = AddOrder::new(bytes)
        {
            if let Some(side) = side_of(m.side_code()) {
                self.add(m.stock_locate(), m.order_ref(), side, m.price(), m.shares());
            }
            return;
        } else if t == Some(OrderDelete::TYPE)
            && let Ok(m) = OrderDelete::new(bytes)
        {
            self.delete(m.order_ref());
            return;
        }
        match core::hint::black_box(t).as_ref() {
            Some(&AddOrderMpid::TYPE) => {
                if let Ok(m) = AddOrderMpid::new(bytes) {
                    if let Some(side) = side_of(m.side_code()) {
                        self.add(m.stock_locate(), m.order_ref(), side, m.price(), m.shares());
                    }
                    return;
                }
            }
            Some(&OrderExecuted::TYPE) => {
                if let Ok(m) = OrderExecuted::new(bytes) {
                    self.reduce(m.order_ref(), m.executed_shares().min(u32::MAX - 1));
                    return;
                }
            }
            Some(&OrderExecutedWithPrice::TYPE) => {
                if let Ok(m) = OrderExecutedWithPrice::new(bytes) {
                    self.reduce(m.order_ref(), m.executed_shares().min(u32::MAX - 1));
                    return;
                }
            }
            Some(&OrderCancel::TYPE) => {
                if let Ok(m) = OrderCancel::new(bytes) {
                    self.reduce(m.order_ref(), m.cancelled_shares().min(u32::MAX - 1));
                    return;
                }
            }
            Some(&OrderReplace::TYPE) => {
                if let Ok(m) = OrderReplace::new(bytes) {
                    let (old, new) = (m.original_order_ref(), m.new_order_ref());
                    self.replace(old, new, m.price(), m.shares());
                    return;
                }
            }
            _ => {}
        }
        self.other(bytes);
    }

    /// Everything but the order messages: decoded (as the feed handler decodes them).
    #[inline(never)]
    fn other(&mut self, bytes: &[u8]) {
        match decode(bytes) {
            Ok(Message::StockDirectory(r)) => {
                let i = usize::from(r.stock_locate());
                if self.symbols.len() <= i {
                    self.symbols.resize(i + 1, None);
                }
                let stock = r.stock();
                let symbol = String::from_utf8_lossy(&stock).trim_end().to_owned();
                self.symbols[i] = Some(symbol);
            }
            other => {
                core::hint::black_box(&other);
            }
        }
    }

    /// Prefetches what the order messages of `datagram` will read, in two passes: (1) each
    /// message's order record and, for an add, its level and book; (2) for an order already
    /// resting, the level its record names (and a replace's new record and level).
    pub fn prefetch_datagram(&self, datagram: &[u8]) {
        let mut resting = [(0u64, 0u64, 0u32); BATCH];
        let mut n = 0;
        for message in datagram_messages(datagram) {
            let Some((order_ref, new_ref, price)) = self.prefetch_first(message) else {
                continue;
            };
            resting[n] = (order_ref, new_ref, price);
            n += 1;
            if n == BATCH {
                self.prefetch_second(&resting[..n]);
                n = 0;
            }
        }
        self.prefetch_second(&resting[..n]);
    }

    /// Pass 1 for one message; returns the resting order's reference (and a replace's new
    /// reference and price) for pass 2.
    #[inline(always)]
    fn prefetch_first(&self, bytes: &[u8]) -> Option<(u64, u64, u32)> {
        let record = |r: u64| {
            if let Some(i) = self.at(r) {
                prefetch(&self.orders[i]);
            }
        };
        // An add: its record and level (and with `Q_FIFO` the level's head and tail; pass 2
        // then asks for the tail's record, which the add links behind; with `Q_APPEND` pass 2
        // asks for the list's last chunk, which the add writes).
        let add = |locate: u16, r: u64, code: u8, price: u32| {
            record(r);
            let (Some(side), Some(book)) = (side_of(code), self.books.get(usize::from(locate)))
            else {
                return None;
            };
            let side = side.index();
            let slot = book.position(side, price)? + book.base[side];
            if let Some(level) = self.levels.get(self.lv(slot)) {
                prefetch(level);
                if Self::APPEND {
                    return Some((ADD_MARK, u64::from(slot), 0));
                }
            }
            if Self::FIFO
                && let Some(q) = self.queues.get(slot as usize)
            {
                prefetch(q);
                return Some((ADD_MARK, u64::from(slot), 0));
            }
            None
        };
        let r = match *bytes.first()? {
            AddOrder::TYPE => {
                let m = AddOrder::new(bytes).ok()?;
                return add(m.stock_locate(), m.order_ref(), m.side_code(), m.price());
            }
            AddOrderMpid::TYPE => {
                let m = AddOrderMpid::new(bytes).ok()?;
                return add(m.stock_locate(), m.order_ref(), m.side_code(), m.price());
            }
            OrderDelete::TYPE => OrderDelete::new(bytes).ok()?.order_ref(),
            OrderExecuted::TYPE => OrderExecuted::new(bytes).ok()?.order_ref(),
            OrderExecutedWithPrice::TYPE => OrderExecutedWithPrice::new(bytes).ok()?.order_ref(),
            OrderCancel::TYPE => OrderCancel::new(bytes).ok()?.order_ref(),
            OrderReplace::TYPE => {
                let m = OrderReplace::new(bytes).ok()?;
                record(m.original_order_ref());
                record(m.new_order_ref());
                return Some((m.original_order_ref(), m.new_order_ref(), m.price()));
            }
            _ => return None,
        };
        record(r);
        Some((r, 0, 0))
    }

    /// Pass 2: the levels the resting orders name.
    #[inline(always)]
    fn prefetch_second(&self, resting: &[(u64, u64, u32)]) {
        for &(order_ref, new_ref, price) in resting {
            if Self::APPEND && order_ref == ADD_MARK {
                // An add: the list's last chunk, which it will write.
                let (_, last, _) = self.list(new_ref as u32);
                if let Some(c) = self.chunks.get(last as usize) {
                    prefetch(c);
                }
                continue;
            }
            if Self::FIFO && order_ref == ADD_MARK {
                // An add: the record of the order it will be linked behind.
                let tail = self.queues.get(new_ref as usize).map_or(NONE, |q| q[1]);
                if let Some(t) = self.at(u64::from(tail)).filter(|_| tail != NONE) {
                    prefetch(&self.orders[t]);
                }
                continue;
            }
            let Some(i) = self.at(order_ref) else {
                continue;
            };
            let rec = self.orders[i];
            if let Some(level) = self.levels.get(self.lv(rec[1])) {
                prefetch(level);
            }
            if Self::APPEND
                && let Some(c) = self.chunks.get((rec[3] >> 4) as usize)
            {
                // The chunk whose entry it will mark dead.
                prefetch(c);
            }
            if Self::FIFO {
                // The neighbours a delete will write, and the level's head and tail.
                for r in &self.orders[i + 1][..2] {
                    if let Some(n) = self.at(u64::from(*r)).filter(|_| *r != NONE) {
                        prefetch(&self.orders[n]);
                    }
                }
                if let Some(q) = self.queues.get(rec[1] as usize) {
                    prefetch(q);
                }
            }
            if new_ref != 0 {
                let (locate, side) = (rec[2] as u16, ((rec[2] >> 16) & 1) as usize);
                if let Some(level) = self.books.get(usize::from(locate)).and_then(|b| {
                    b.position(side, price)
                        .and_then(|pos| self.levels.get(self.lv(b.base[side] + pos)))
                }) {
                    prefetch(level);
                }
            }
        }
    }

    /// One fingerprint of every named instrument's top `depth` levels (see [`top_hash`]).
    pub fn top_hash(&self, depth: usize) -> u64 {
        let rows = self.symbols.iter().enumerate().filter_map(|(locate, s)| {
            let locate = u16::try_from(locate).ok()?;
            let side = |side| {
                self.top(locate, side, depth)
                    .into_iter()
                    .map(|(p, q)| to_level(p, q))
                    .collect()
            };
            Some((s.clone()?, [side(Side::Buy), side(Side::Sell)]))
        });
        top_hash(rows)
    }
}

/// A Price(4) and a share count as the books' fixed-point level.
pub fn to_level(price4: u32, shares: u64) -> (Price, Qty) {
    (
        Price::from_scaled(i64::from(price4), 4).unwrap_or(Price::MAX),
        Qty::from_units(i64::try_from(shares).unwrap_or(i64::MAX)).unwrap_or(Qty::MAX),
    )
}

/// ITCH side byte -> side (`None`: neither `B` nor `S`).
#[inline(always)]
fn side_of(code: u8) -> Option<Side> {
    side_index(code).map(|i| if i == 0 { Side::Buy } else { Side::Sell })
}

/// A fingerprint of (symbol, [bid levels, ask levels]) rows, in symbol order: the same for two
/// books exactly when every symbol's listed levels agree.
pub fn top_hash(rows: impl Iterator<Item = (String, [Vec<(Price, Qty)>; 2])>) -> u64 {
    let mut rows: Vec<_> = rows.collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = StableHasher::new();
    for (symbol, sides) in &rows {
        for b in symbol.bytes() {
            h.write_u64(u64::from(b));
        }
        for levels in sides {
            h.write_u64(levels.len() as u64);
            for (p, q) in levels {
                h.write_u64(p.raw() as u64);
                h.write_u64(q.raw() as u64);
            }
        }
    }
    h.finish()
}

/// When [`Ceiling`] prefetches a datagram's order look-ups before applying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeilingPrefetch {
    /// Never.
    Off,
    /// For every datagram.
    Always,
    /// While at least this many orders rest (the feed handler's default rule).
    FromLiveOrders(usize),
}

/// The probe's replay: the feed handler's reader, sequencer and message views in front of
/// [`CeilingBooks`].
#[derive(Debug)]
pub struct Ceiling<const Q: u8 = Q_NONE> {
    streams: MoldStreams,
    books: CeilingBooks<Q>,
    prefetch: CeilingPrefetch,
    messages: u64,
}

impl<const Q: u8> Ceiling<Q> {
    /// A replay into books sized for `extent`.
    pub fn new(extent: &DayExtent, prefetch: CeilingPrefetch) -> Result<Self, CeilingError> {
        Ok(Self {
            streams: MoldStreams::new(SequencerConfig::default()),
            books: CeilingBooks::new(extent)?,
            prefetch,
            messages: 0,
        })
    }

    /// One MoldUDP64 datagram of `channel`: prefetched (by the rule), sequenced, and its
    /// messages applied in sequence order.
    pub fn on_datagram(&mut self, channel: u16, recv_ts: Timestamp, datagram: &[u8]) {
        let prefetch = match self.prefetch {
            CeilingPrefetch::Off => false,
            CeilingPrefetch::Always => true,
            CeilingPrefetch::FromLiveOrders(n) => self.books.live >= n,
        };
        if prefetch {
            self.books.prefetch_datagram(datagram);
        }
        let (books, messages) = (&mut self.books, &mut self.messages);
        let _ = self
            .streams
            .on_packet_at(channel, recv_ts.nanos(), datagram, |_, ev| {
                if let SeqEvent::Message { payload, .. } = ev {
                    *messages += 1;
                    books.apply(payload);
                }
            });
    }

    /// Every record (a MoldUDP64 datagram each), then the end of input (held packets
    /// delivered). Out of line: `callgrind --toggle-collect` can count just the replay.
    #[inline(never)]
    pub fn replay_records<'a, E>(
        &mut self,
        records: impl IntoIterator<Item = Result<Record<'a>, E>>,
    ) {
        for r in records.into_iter().flatten() {
            self.on_datagram(r.channel, r.recv_ts, r.payload);
        }
        let (books, messages) = (&mut self.books, &mut self.messages);
        self.streams.flush(&mut |_, ev: SeqEvent<'_>| {
            if let SeqEvent::Message { payload, .. } = ev {
                *messages += 1;
                books.apply(payload);
            }
        });
    }

    /// ITCH messages delivered so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// The books.
    pub fn books(&self) -> &CeilingBooks<Q> {
        &self.books
    }
}

/// Advises `v`'s buffer for transparent huge pages (Linux; its whole 2 MiB extents), then
/// writes each 4 KiB page once so the replay takes no page faults.
fn huge_and_touch<T: Copy + Default>(v: &mut [T]) {
    const HUGE: usize = 2 << 20;
    let bytes = core::mem::size_of_val(v);
    let start = v.as_ptr() as usize;
    let first = start.next_multiple_of(HUGE);
    let last = (start + bytes) & !(HUGE - 1);
    #[cfg(target_os = "linux")]
    if last > first {
        debug_assert!(first >= start && last <= start + bytes);
        // SAFETY: [first, last) lies inside `v`'s allocation (checked above), which this
        // function holds mutably; MADV_HUGEPAGE changes only how the kernel backs those pages,
        // never their contents or validity.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
    let _ = (first, last);
    let per_page = (4096 / core::mem::size_of::<T>().max(1)).max(1);
    for x in v.iter_mut().step_by(per_page) {
        *x = core::hint::black_box(T::default());
    }
}
