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
//! instrument. `CeilingBooks<true>` (`market_day ceiling --fifo`) adds the classic FIFO
//! queues to it and nothing else (`prev`/`next` references in a 32-byte record, head and tail
//! per level slot), to measure what queue links cost on top. `market_day ceiling` measures it beside `market_day feed` (docs/BENCHMARKS.md,
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

/// One order: `[remaining shares, level slot, locate | side << 16 | live << 24, 0]`, 16 bytes
/// (16-byte aligned in the array, so never across two cache lines).
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

/// No order in a FIFO link.
const NONE: u32 = u32::MAX;

/// In the prefetch's pass-2 list: an add (with `FIFO`), followed by its level slot.
const ADD_MARK: u64 = u64::MAX;

/// The minimal book: see the [module docs](self). With `FIFO`, it also keeps each level's
/// queue the classic way, to measure what that costs: the order record grows to 32 bytes
/// (still one line) with `[prev, next]` references behind the first 16, each level slot gets a
/// `[head, tail]`, an add links behind the tail and an order that leaves unlinks itself from
/// both neighbours.
#[derive(Debug)]
pub struct CeilingBooks<const FIFO: bool = false> {
    /// Without `FIFO` one entry an order; with it two (record, links) from `first`.
    orders: Vec<OrderRec>,
    first: usize,
    books: Vec<MinBook>,
    levels: Vec<u64>,
    /// `[head, tail]` per level slot (with `FIFO` only).
    queues: Vec<[u32; 2]>,
    symbols: Vec<Option<String>>,
    live: usize,
    stats: CeilingStats,
}

impl<const FIFO: bool> CeilingBooks<FIFO> {
    const STRIDE: usize = if FIFO { 2 } else { 1 };

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
        let entries = (extent.max_ref as usize + 1) * Self::STRIDE + usize::from(FIFO);
        let mut orders: Vec<OrderRec> = vec![[0; 4]; entries];
        let mut levels = vec![0u64; base as usize];
        huge_and_touch(&mut orders);
        huge_and_touch(&mut levels);
        debug_assert_eq!(orders.as_ptr() as usize % 16, 0);
        // A 32-byte record starts on a 32-byte boundary, so it never spans two lines.
        let first = usize::from(FIFO && !(orders.as_ptr() as usize).is_multiple_of(32));
        debug_assert!(!FIFO || (orders.as_ptr() as usize + 16 * first).is_multiple_of(32));
        let queues = if FIFO {
            vec![[NONE; 2]; base as usize]
        } else {
            Vec::new()
        };
        let n = books.len();
        Ok(Self {
            orders,
            first,
            books,
            levels,
            queues,
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
            + self.books.len() * 32
    }

    /// The entry of `order_ref`'s record (its links follow it with `FIFO`).
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

    /// The references queued at `locate`'s `side` level at `price`, front first (with `FIFO`;
    /// empty without).
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
        if let Some(level) = self.levels.get_mut(slot as usize) {
            *level += u64::from(shares);
        }
        if FIFO {
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
            if FIFO {
                self.unlink(i, slot);
            }
        }
        self.stats.applied += 1;
        let level = self.levels.get_mut(slot as usize)?;
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
        let start = book.base[side] as usize;
        let below = &self.levels[start..start + pos as usize];
        book.best[side] = below
            .iter()
            .rposition(|&q| q != 0)
            .map_or(0, |p| p as u32 + 1);
    }

    /// The best level of `locate`'s `side` as the book tracks it (Price(4), aggregate shares).
    pub fn best(&self, locate: u16, side: Side) -> Option<(u32, u64)> {
        let side = side.index();
        let book = self.books.get(usize::from(locate))?;
        let pos = book.best[side].checked_sub(1)?;
        let q = self.levels[(book.base[side] + pos) as usize];
        Some((book.price_at(side, pos), q))
    }

    /// The best `n` levels of `locate`'s `side`, best first: (Price(4), aggregate shares).
    pub fn top(&self, locate: u16, side: Side, n: usize) -> Vec<(u32, u64)> {
        let side = side.index();
        let Some(book) = self.books.get(usize::from(locate)) else {
            return Vec::new();
        };
        let start = book.base[side] as usize;
        (0..book.best[side])
            .rev()
            .filter_map(|pos| {
                let q = self.levels[start + pos as usize];
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
        // An add: its record and level (and with `FIFO` the level's head and tail; pass 2
        // then asks for the tail's record, which the add links behind).
        let add = |locate: u16, r: u64, code: u8, price: u32| {
            record(r);
            let (Some(side), Some(book)) = (side_of(code), self.books.get(usize::from(locate)))
            else {
                return None;
            };
            let side = side.index();
            let slot = book.position(side, price)? + book.base[side];
            if let Some(level) = self.levels.get(slot as usize) {
                prefetch(level);
            }
            if FIFO && let Some(q) = self.queues.get(slot as usize) {
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
            if FIFO && order_ref == ADD_MARK {
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
            if let Some(level) = self.levels.get(rec[1] as usize) {
                prefetch(level);
            }
            if FIFO {
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
                        .and_then(|pos| self.levels.get((b.base[side] + pos) as usize))
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
pub struct Ceiling<const FIFO: bool = false> {
    streams: MoldStreams,
    books: CeilingBooks<FIFO>,
    prefetch: CeilingPrefetch,
    messages: u64,
}

impl<const FIFO: bool> Ceiling<FIFO> {
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
    pub fn books(&self) -> &CeilingBooks<FIFO> {
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
