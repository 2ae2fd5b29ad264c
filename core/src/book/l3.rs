//! Market-wide order-by-order (L3) books.
//!
//! One [`L3Books`] holds the books of every instrument of a venue. Orders of all instruments
//! share one order pool, one level pool and one id map (venue order ids are unique across
//! instruments). Each instrument's side is a price-indexed [`Ladder`] of level-pool slots.
//! Pools and the map are sized at start ([`BookConfig`]); after warm-up, applying an event
//! allocates nothing.
//!
//! Slab slots ([`OrderSlot`], [`LevelSlot`]) are types only the pools mint, never made from
//! input, so indexing with them cannot be steered by bad data; the pools read them unchecked.

use core::hint::select_unpredictable;

use crate::event::{BookEventKind, MarketEvent, TradingStatus};
use crate::fixed::{Price, Qty};
use crate::ids::{InstrumentId, OrderId};
use crate::side::Side;
use crate::top::{BookTop, LevelView};

use super::config::BookConfig;
use super::direct::{LateError, Touched};
use super::error::{BookError, BookKind};
use super::hash::l3_fingerprint;
use super::ladder::{Ladder, side_key};
use super::levels::{LevelPool, LevelSlot};
use super::order_map::{OrderMap, Probe};
use super::orders::{OrderLink, OrderPool, OrderSlot};
use super::outcome::{Applied, OrderView};
use super::stats::BookStats;
use super::status::InstrumentStatus;

/// Best level of a side as (sort key, quantity): what "top changed" compares.
type SideTop = Option<(i64, Qty)>;

/// One instrument's two sides and status.
///
/// Each side is a [`Ladder`] whose first 64 bytes hold everything applying a message reads or
/// writes on that side (best level, grid, summary, window address), so a message touches
/// those (one or two lines; the other side's too when the top changes: the cross check). Whether the book is crossed is kept in the bid side's hot line ([`Ladder::flag`]):
/// one fixed place (the prefetch's second pass reads both sides' lines for a message about a
/// resting order anyway). The status is read off the message path.
#[derive(Clone, Debug)]
pub(super) struct L3Book {
    /// `[bids, asks]`, each holding level-pool slots.
    pub(super) sides: [Ladder<LevelSlot>; 2],
    status: InstrumentStatus,
}

impl L3Book {
    fn new(levels_per_side: usize, status: InstrumentStatus) -> Self {
        Self {
            sides: [
                Ladder::new(Side::Buy, levels_per_side),
                Ladder::new(Side::Sell, levels_per_side),
            ],
            status,
        }
    }

    /// Whether the book was crossed at its last cross check.
    #[inline(always)]
    fn crossed(&self) -> bool {
        self.sides[0].flag()
    }

    /// Records whether the book is crossed (in the bid side's hot line).
    #[inline(always)]
    fn set_crossed(&mut self, crossed: bool) {
        self.sides[0].set_flag(crossed);
    }
}

/// A live order found for an event: its map position, pool slot and level.
#[derive(Clone, Copy, Debug)]
struct Found {
    pos: usize,
    slot: OrderSlot,
    level: LevelSlot,
    side: Side,
    price: Price,
}

/// Market-wide L3 (order-by-order) books: one per dense [`InstrumentId`], sharing one order
/// store. See the [module docs](self) for the layout.
#[derive(Clone, Debug)]
pub struct L3Books {
    pub(super) books: Vec<L3Book>,
    pub(super) orders: OrderPool,
    pub(super) levels: LevelPool,
    pub(super) map: OrderMap,
    levels_per_side: usize,
    /// The last market-wide circuit breaker, for books created after it.
    market_halt: Option<u8>,
    stats: BookStats,
}

impl L3Books {
    /// Books for `config.instruments` instruments with pools sized from `config`.
    pub fn new(config: BookConfig) -> Self {
        let map = OrderMap::with_capacity(config.order_capacity);
        let books = Self {
            books: (0..config.instruments)
                .map(|_| L3Book::new(config.levels_per_side, InstrumentStatus::default()))
                .collect(),
            // The window's records, then room for `order_capacity` orders outside it.
            orders: OrderPool::with_capacity(map.window_len(), config.order_capacity),
            // A level holds at least one order, so there are never more levels than orders.
            levels: LevelPool::with_capacity(config.order_capacity),
            map,
            levels_per_side: config.levels_per_side,
            market_halt: None,
            stats: BookStats::default(),
        };
        books.advise_huge_pages();
        books
    }

    /// Fixes the price grid of `id`'s book to the venue's tick (a futures exchange's
    /// `min_price_increment`), so that its ladders are on the exact grid from the first order
    /// instead of learning it; as [`L2Books::set_tick`](super::L2Books::set_tick). A price off
    /// that grid is still held (as an outlier). Ignored for an unknown instrument or a tick that
    /// is not positive. Call before the orders arrive.
    pub fn set_tick(&mut self, id: InstrumentId, tick: Price) {
        if let Some(b) = self.books.get_mut(id.index()) {
            b.sides
                .iter_mut()
                .for_each(|ladder| ladder.set_venue_tick(tick.raw()));
        }
    }

    /// Makes sure `id` has a book, adding empty books up to it (allocates; counted in
    /// [`BookStats::instrument_growths`]). Call off the hot path.
    pub fn ensure_instrument(&mut self, id: InstrumentId) {
        let wanted = id.index().saturating_add(1);
        if wanted > self.books.len() {
            let per_side = self.levels_per_side;
            let status = InstrumentStatus::after_market_halt(self.market_halt);
            self.books
                .resize_with(wanted, || L3Book::new(per_side, status));
            self.stats.instrument_growths += 1;
        }
    }

    /// Applies one event. See [`BookEventKind`] for what each kind does; errors are counted in
    /// [`BookStats`] and leave the book consistent. An event that changed the book before
    /// meeting its error returns `Ok` with [`Applied::error`] set.
    pub fn apply(&mut self, ev: &MarketEvent) -> Result<Applied, BookError> {
        self.stats.events += 1;
        let instrument = ev.instrument;
        let book = instrument.index();
        if let BookEventKind::MarketWideHalt { level } = ev.kind {
            return Ok(self.market_wide_halt(instrument, level));
        }
        if book >= self.books.len() {
            return Err(self.unknown_instrument(instrument));
        }
        match ev.kind {
            BookEventKind::Add {
                order_id,
                side,
                price,
                qty,
            } => self
                .add(instrument, order_id, side, price, qty)
                .map(|t| t.into_applied(instrument, &ev.kind)),
            BookEventKind::Execute { order_id, qty, .. }
            | BookEventKind::ExecuteAtPrice { order_id, qty, .. } => self
                .execute(instrument, order_id, qty, true)
                .map(|t| t.into_applied(instrument, &ev.kind)),
            BookEventKind::ExecuteNonPrintable { order_id, qty, .. } => self
                .execute(instrument, order_id, qty, false)
                .map(|t| t.into_applied(instrument, &ev.kind)),
            BookEventKind::Cancel { order_id, qty } => self
                .cancel(instrument, order_id, qty)
                .map(|t| t.into_applied(instrument, &ev.kind)),
            BookEventKind::Delete { order_id } => self
                .delete(instrument, order_id)
                .map(|t| t.into_applied(instrument, &ev.kind)),
            BookEventKind::Replace {
                old_order_id,
                new_order_id,
                price,
                qty,
            } => self
                .replace(instrument, old_order_id, new_order_id, price, qty)
                .map(|t| t.into_applied(instrument, &ev.kind)),
            BookEventKind::Trade {
                side,
                kind,
                price,
                qty,
                match_number,
            } => {
                if !qty.is_positive() {
                    return Err(self.invalid_qty(instrument, None, qty));
                }
                self.stats.trades += 1;
                Ok(Applied::off_book_trade(
                    instrument,
                    side,
                    kind,
                    price,
                    qty,
                    match_number,
                ))
            }
            BookEventKind::Break { match_number } => {
                self.stats.breaks += 1;
                Ok(Applied::trade_break(instrument, match_number))
            }
            BookEventKind::Level { .. } => {
                self.stats.wrong_book_type += 1;
                Err(BookError::WrongBookType {
                    instrument,
                    book: BookKind::L3,
                })
            }
            BookEventKind::Clear => Ok(self.clear(instrument)),
            BookEventKind::Status(status) => {
                self.books[book].status.set_regulatory(status);
                self.stats.status_changes += 1;
                Ok(Applied::quiet(instrument))
            }
            BookEventKind::OperationalHalt { halted } => {
                self.books[book].status.set_operational_halt(halted);
                self.stats.status_changes += 1;
                Ok(Applied::quiet(instrument))
            }
            // Handled before the instrument check.
            BookEventKind::MarketWideHalt { .. } => Ok(Applied::quiet(instrument)),
        }
    }

    /// Counts one order event and checks that `instrument` has a book (the direct entry
    /// points' common start; [`L3Books::apply`] does the same in its own order).
    #[inline(always)]
    pub(super) fn begin_order_event(&mut self, instrument: InstrumentId) -> Result<(), BookError> {
        self.stats.events += 1;
        if instrument.index() >= self.books.len() {
            return Err(self.unknown_instrument(instrument));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn unknown_instrument(&mut self, instrument: InstrumentId) -> BookError {
        self.stats.unknown_instruments += 1;
        BookError::UnknownInstrument {
            instrument,
            configured: self.books.len(),
        }
    }

    /// A market-wide circuit breaker: every book halted until its own status resumes it.
    /// O(instruments), once or twice a decade.
    #[cold]
    fn market_wide_halt(&mut self, instrument: InstrumentId, level: u8) -> Applied {
        self.market_halt = Some(level);
        for b in &mut self.books {
            b.status.set_market_halt(level);
        }
        self.stats.status_changes += 1;
        Applied::quiet(instrument)
    }

    #[cold]
    #[inline(never)]
    fn invalid_qty(
        &mut self,
        instrument: InstrumentId,
        order_id: Option<OrderId>,
        qty: Qty,
    ) -> BookError {
        self.stats.invalid_qty += 1;
        BookError::InvalidQty {
            instrument,
            order_id,
            qty,
        }
    }

    #[inline(always)]
    pub(super) fn add(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        if !qty.is_positive() {
            return Err(self.invalid_qty(instrument, Some(order_id), qty));
        }
        if !self.map.has_room() {
            self.map.grow();
            self.stats.order_map_growths += 1;
        }
        let pos = match self.map.probe(order_id.0, &self.orders) {
            Probe::Vacant { pos } => pos,
            Probe::Found { .. } => {
                self.stats.duplicate_orders += 1;
                return Err(BookError::DuplicateOrder { order_id });
            }
        };
        let top_changed = self.insert_order(instrument, pos, order_id, side, price, qty)?;
        if top_changed {
            self.note_cross(instrument.index());
        }
        self.stats.adds += 1;
        Ok(Touched::new(side, price, top_changed))
    }

    /// An execution of a resting order (`printable`: a print, else counted as a non-printable
    /// execution). One of more than the order holds removes the order (the venue says it
    /// traded; the book had less) and reports the order's remaining quantity in
    /// [`Touched::late`] ([`BookError::ExcessQty`] once converted): the book changed.
    #[inline(always)]
    pub(super) fn execute(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Qty,
        printable: bool,
    ) -> Result<Touched, BookError> {
        if !qty.is_positive() {
            return Err(self.invalid_qty(instrument, Some(order_id), qty));
        }
        let found = self.find_live(instrument, order_id)?;
        self.stats.executions += 1;
        let (side, price) = (found.side, found.price);
        let book = instrument.index();
        let top_changed = self.is_best(book, side, found.level);
        let remaining = self.orders.node(found.slot).qty;
        let late = if qty > remaining {
            self.stats.excess_executions += 1;
            Some(LateError::ExcessQty { remaining })
        } else {
            None
        };
        self.reduce_or_remove(found, qty.min(remaining), remaining, top_changed);
        self.after_reduce(book, top_changed);
        if !printable {
            self.stats.non_printable_executions += 1;
        }
        Ok(Touched {
            late,
            ..Touched::new(side, price, top_changed)
        })
    }

    #[inline(always)]
    pub(super) fn cancel(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        if !qty.is_positive() {
            return Err(self.invalid_qty(instrument, Some(order_id), qty));
        }
        let found = self.find_live(instrument, order_id)?;
        self.stats.cancels += 1;
        let (side, price) = (found.side, found.price);
        let book = instrument.index();
        let top_changed = self.is_best(book, side, found.level);
        let remaining = self.orders.node(found.slot).qty;
        if qty > remaining {
            self.stats.excess_cancels += 1;
        }
        self.reduce_or_remove(found, qty.min(remaining), remaining, top_changed);
        self.after_reduce(book, top_changed);
        Ok(Touched::new(side, price, top_changed))
    }

    #[inline(always)]
    pub(super) fn delete(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
    ) -> Result<Touched, BookError> {
        let found = self.find_live(instrument, order_id)?;
        self.stats.deletes += 1;
        let (side, price) = (found.side, found.price);
        let book = instrument.index();
        let top_changed = self.is_best(book, side, found.level);
        self.remove_order(found, top_changed);
        self.after_reduce(book, top_changed);
        Ok(Touched::new(side, price, top_changed))
    }

    #[inline(always)]
    pub(super) fn replace(
        &mut self,
        instrument: InstrumentId,
        old_order_id: OrderId,
        new_order_id: OrderId,
        price: Price,
        qty: Qty,
    ) -> Result<Touched, BookError> {
        if !qty.is_positive() {
            return Err(self.invalid_qty(instrument, Some(old_order_id), qty));
        }
        let found = self.find_live(instrument, old_order_id)?;
        self.stats.replaces += 1;
        let side = found.side;
        let book = instrument.index();
        let before = self.side_top(book, side);
        let at_best = self.is_best(book, side, found.level);
        // The venue says the old order is gone whatever happens to the new one.
        self.remove_order(found, at_best);
        // Probe after the removal, because backward-shift deletion moves entries. The old order
        // may have left the window while the new one moves an older order into the table, so
        // the table may need room even though the map holds one order fewer.
        if !self.map.has_room() {
            self.map.grow();
            self.stats.order_map_growths += 1;
        }
        let late = match self.map.probe(new_order_id.0, &self.orders) {
            Probe::Vacant { pos } => self
                .insert_order(instrument, pos, new_order_id, side, price, qty)
                .err()
                .map(LateError::of_insert),
            Probe::Found { .. } => {
                // The new id is already live (an order whose removal the capture missed):
                // that order stays, the new one is not added.
                self.stats.duplicate_orders += 1;
                Some(LateError::DuplicateNewOrder)
            }
        };
        let top_changed = self.after(book, side, before);
        Ok(Touched {
            late,
            ..Touched::new(side, price, top_changed)
        })
    }

    fn clear(&mut self, instrument: InstrumentId) -> Applied {
        let book = instrument.index();
        let before = (
            self.side_top(book, Side::Buy),
            self.side_top(book, Side::Sell),
        );
        let Self {
            books,
            orders,
            levels,
            map,
            ..
        } = self;
        if let Some(b) = books.get_mut(book) {
            for ladder in &mut b.sides {
                for rung in ladder.iter_best_first() {
                    let mut link = levels.level(rung.val).head;
                    while let Some(slot) = link.get() {
                        let node = *orders.node(slot);
                        if let Probe::Found { pos, .. } = map.probe(node.id, orders) {
                            map.remove_at(pos);
                        }
                        orders.free(slot);
                        link = node.next;
                    }
                    levels.free(rung.val);
                }
                ladder.clear();
            }
            b.set_crossed(false);
        }
        self.stats.clears += 1;
        let after = (
            self.side_top(book, Side::Buy),
            self.side_top(book, Side::Sell),
        );
        Applied {
            top_changed: before != after,
            ..Applied::quiet(instrument)
        }
    }

    /// The live order `order_id` in `instrument`'s book, or the (counted) error.
    #[inline(always)]
    fn find_live(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
    ) -> Result<Found, BookError> {
        let Probe::Found { pos, slot } = self.map.probe(order_id.0, &self.orders) else {
            return Err(self.unknown_order(order_id));
        };
        let level = self.orders.node(slot).level;
        let lvl = self.levels.level(level);
        if lvl.instrument != instrument.0 {
            let resting = InstrumentId(lvl.instrument);
            return Err(self.instrument_mismatch(order_id, instrument, resting));
        }
        Ok(Found {
            pos,
            slot,
            level,
            side: lvl.side,
            price: lvl.price,
        })
    }

    #[cold]
    #[inline(never)]
    fn qty_overflow(&mut self, instrument: InstrumentId) -> BookError {
        self.stats.qty_overflows += 1;
        BookError::QtyOverflow { instrument }
    }

    #[cold]
    #[inline(never)]
    fn capacity_exhausted(&mut self, instrument: InstrumentId) -> BookError {
        self.stats.capacity_exhausted += 1;
        BookError::CapacityExhausted { instrument }
    }

    #[cold]
    #[inline(never)]
    fn unknown_order(&mut self, order_id: OrderId) -> BookError {
        self.stats.unknown_orders += 1;
        BookError::UnknownOrder { order_id }
    }

    #[cold]
    #[inline(never)]
    fn instrument_mismatch(
        &mut self,
        order_id: OrderId,
        instrument: InstrumentId,
        resting: InstrumentId,
    ) -> BookError {
        self.stats.instrument_mismatches += 1;
        BookError::InstrumentMismatch {
            order_id,
            instrument,
            resting,
        }
    }

    /// Puts a new order at the back of its level (creating the level), and `order_id` into the
    /// map at `pos`; returns whether that level is now the side's best (so the top changed: a
    /// positive quantity joined it, or it is a new best price). On error nothing changed.
    #[inline(always)]
    fn insert_order(
        &mut self,
        instrument: InstrumentId,
        pos: usize,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<bool, BookError> {
        let book = instrument.index();
        let key = side_key(side, price);
        let (level, at_best, new) = match self.books[book].sides[side.index()].find(key) {
            Ok((level, at_best)) => {
                if self.levels.level(level).qty.checked_add(qty).is_none() {
                    return Err(self.qty_overflow(instrument));
                }
                (level, at_best, false)
            }
            Err(at_best) => {
                let Some((level, pool_grew)) = self.levels.alloc(price, instrument.0, side) else {
                    return Err(self.capacity_exhausted(instrument));
                };
                self.stats.level_growths += u64::from(pool_grew);
                (level, at_best, true)
            }
        };
        let tail = self.levels.level(level).tail;
        // The record goes to the id's window node when the map placed it there (one line,
        // found again by the id alone), else to the pool's overflow.
        let slot = if let Some((slot, hi)) = self.map.window_place(pos, order_id.0, &self.orders) {
            self.orders
                .put_window(slot, order_id.0, qty, tail, level, hi);
            slot
        } else {
            let Some((slot, pool_grew)) = self.orders.alloc(order_id.0, qty, tail, level) else {
                if new {
                    self.levels.free(level);
                }
                return Err(self.capacity_exhausted(instrument));
            };
            self.stats.order_pool_growths += u64::from(pool_grew);
            slot
        };
        if new {
            let ladder_grew = self.books[book].sides[side.index()].insert(key, level);
            self.stats.level_growths += u64::from(ladder_grew);
        }
        let lvl = self.levels.level_mut(level);
        lvl.tail = OrderLink::to(slot);
        lvl.qty = Qty::from_raw(lvl.qty.raw().wrapping_add(qty.raw()));
        // Branch-free (a new level's empty queue against a level that had orders is data the
        // predictor cannot learn): an empty queue's front becomes the new order, and the link
        // write that needs a back goes to the new node itself and is undone just after.
        lvl.head = select_unpredictable(tail.is_none(), OrderLink::to(slot), lvl.head);
        self.orders.node_mut(tail.or(slot)).next = OrderLink::to(slot);
        self.orders.node_mut(slot).next = OrderLink::NONE;
        self.map.fill(pos, order_id.0, slot, &mut self.orders);
        Ok(at_best)
    }

    /// Takes `qty` (at most `remaining`) off an order, removing it when nothing is left.
    #[inline]
    fn reduce_or_remove(&mut self, found: Found, qty: Qty, remaining: Qty, at_best: bool) {
        if qty >= remaining {
            self.remove_order(found, at_best);
        } else {
            let node = self.orders.node_mut(found.slot);
            node.qty = Qty::from_raw(remaining.raw().wrapping_sub(qty.raw()));
            let lvl = self.levels.level_mut(found.level);
            lvl.qty = Qty::from_raw(lvl.qty.raw().wrapping_sub(qty.raw()));
        }
    }

    /// Unlinks an order from its queue, the map and the pool; drops its level when empty.
    /// `at_best`: the order's level is its side's best (the last rung), so an emptied level
    /// is popped without searching the ladder.
    #[inline(always)]
    fn remove_order(&mut self, found: Found, at_best: bool) {
        self.map.remove_at(found.pos);
        let node = *self.orders.node(found.slot);
        let lvl = self.levels.level_mut(found.level);
        lvl.qty = Qty::from_raw(lvl.qty.raw().wrapping_sub(node.qty.raw()));
        // Branch-free unlink (whether the order has a neighbour on either side is a coin toss
        // the predictor cannot learn): selects instead of branches, and a missing neighbour's
        // link write goes to the removed node itself, which `free` takes back just below and
        // whose queue links nothing reads again.
        lvl.head = select_unpredictable(node.prev.is_none(), node.next, lvl.head);
        lvl.tail = select_unpredictable(node.next.is_none(), node.prev, lvl.tail);
        // The queue is empty when the order was both its front and its back.
        let (empty, instrument, side, price) =
            (lvl.head.is_none(), lvl.instrument, lvl.side, lvl.price);
        self.orders.node_mut(node.prev.or(found.slot)).next = node.next;
        self.orders.node_mut(node.next.or(found.slot)).prev = node.prev;
        self.orders.free(found.slot);
        if empty {
            if let Some(book) = self.books.get_mut(instrument as usize) {
                let ladder = &mut book.sides[side.index()];
                if at_best {
                    ladder.drop_best();
                } else {
                    ladder.remove(side_key(side, price));
                }
            }
            self.levels.free(found.level);
        }
    }

    #[inline]
    fn side_top(&self, book: usize, side: Side) -> SideTop {
        self.books
            .get(book)
            .and_then(|b| b.sides[side.index()].best())
            .map(|r| (r.key, self.levels.level(r.val).qty))
    }

    /// Whether `side`'s top differs from `before`; when it does, re-checks the cross.
    #[inline]
    fn after(&mut self, book: usize, side: Side, before: SideTop) -> bool {
        let changed = self.side_top(book, side) != before;
        if changed {
            self.note_cross(book);
        }
        changed
    }

    /// Whether `level` is the best level of its side.
    #[inline]
    fn is_best(&self, book: usize, side: Side, level: LevelSlot) -> bool {
        self.books
            .get(book)
            .and_then(|b| b.sides[side.index()].best())
            .is_some_and(|r| r.val == level)
    }

    /// After quantity left the top of a side: a reduction cannot cross a book, but it can
    /// uncross one, so only a crossed book is re-checked.
    #[inline]
    fn after_reduce(&mut self, book: usize, top_changed: bool) {
        // One branch, almost never taken (`&`, not `&&`: whether the top changed is data).
        let crossed = self.books.get(book).is_some_and(L3Book::crossed);
        if top_changed & crossed {
            self.note_cross(book);
        }
    }

    /// Re-checks whether the book is crossed; counts a change into crossed.
    #[inline]
    fn note_cross(&mut self, book: usize) {
        if let Some(b) = self.books.get_mut(book) {
            // Bid key is the bid price; ask key is the complement of the ask price. Branch-free.
            let ((has_bid, bid), (has_ask, ask)) =
                (b.sides[0].best_key_raw(), b.sides[1].best_key_raw());
            let crossed = has_bid & has_ask & (bid >= !ask);
            self.stats.crossed_events += u64::from(crossed & !b.crossed());
            b.set_crossed(crossed);
        }
    }

    #[inline]
    fn level_view(&self, level: LevelSlot) -> LevelView {
        let l = self.levels.level(level);
        LevelView {
            price: l.price,
            qty: l.qty,
        }
    }

    fn best(&self, id: InstrumentId, side: Side) -> Option<LevelView> {
        let rung = self.books.get(id.index())?.sides[side.index()].best()?;
        Some(self.level_view(rung.val))
    }

    /// Best bid level.
    pub fn best_bid(&self, id: InstrumentId) -> Option<LevelView> {
        self.best(id, Side::Buy)
    }

    /// Best ask level.
    pub fn best_ask(&self, id: InstrumentId) -> Option<LevelView> {
        self.best(id, Side::Sell)
    }

    /// All levels of one side, best first (empty for an unknown instrument).
    pub fn levels(&self, id: InstrumentId, side: Side) -> impl Iterator<Item = LevelView> + '_ {
        self.books
            .get(id.index())
            .into_iter()
            .flat_map(move |b| b.sides[side.index()].iter_best_first())
            .map(move |r| self.level_view(r.val))
    }

    /// The orders resting at one level, front of the queue first.
    pub fn level_orders(&self, id: InstrumentId, side: Side, price: Price) -> FifoIter<'_> {
        let head = self
            .books
            .get(id.index())
            .and_then(|b| b.sides[side.index()].get(side_key(side, price)))
            .map_or(OrderLink::NONE, |level| self.levels.level(level).head);
        FifoIter {
            orders: &self.orders,
            next: head,
        }
    }

    /// A live order by venue id.
    pub fn order(&self, order_id: OrderId) -> Option<OrderView> {
        let slot = self.map.get(order_id.0, &self.orders)?;
        let node = self.orders.node(slot);
        let level = self.levels.level(node.level);
        Some(OrderView {
            instrument: InstrumentId(level.instrument),
            side: level.side,
            price: level.price,
            qty: node.qty,
        })
    }

    /// Writes the best [`TOP_LEVELS`](crate::top::TOP_LEVELS) levels of each side into `out`.
    pub fn fill_top(&self, id: InstrumentId, out: &mut BookTop) {
        let Some(book) = self.books.get(id.index()) else {
            out.bid_levels = 0;
            out.ask_levels = 0;
            return;
        };
        let view = |_, level| self.level_view(level);
        out.bid_levels = book.sides[Side::Buy.index()].fill_best(&mut out.bids, view) as u8;
        out.ask_levels = book.sides[Side::Sell.index()].fill_best(&mut out.asks, view) as u8;
    }

    /// A fingerprint of one instrument's book (levels, quantities and every queue in order),
    /// stable across runs and machines. Computed on demand: O(orders in the book).
    pub fn book_hash(&self, id: InstrumentId) -> u64 {
        l3_fingerprint(
            |side| self.levels(id, side),
            |side, price| self.level_orders(id, side, price),
        )
    }

    /// The instrument's effective status: [`TradingStatus::Halted`] while an operational halt
    /// (`h`) or a market-wide circuit breaker (`W`) holds it, else its last regulatory status
    /// (`H`; [`TradingStatus::Trading`] until one arrives).
    pub fn status(&self, id: InstrumentId) -> TradingStatus {
        self.books
            .get(id.index())
            .map_or(TradingStatus::Trading, |b| b.status.effective())
    }

    /// The instrument's status in detail (regulatory, operational, market-wide).
    pub fn status_detail(&self, id: InstrumentId) -> InstrumentStatus {
        self.books
            .get(id.index())
            .map_or(InstrumentStatus::default(), |b| b.status)
    }

    /// Whether the best bid is at or above the best ask (bad or missing data).
    pub fn is_crossed(&self, id: InstrumentId) -> bool {
        match (self.best_bid(id), self.best_ask(id)) {
            (Some(bid), Some(ask)) => bid.price >= ask.price,
            _ => false,
        }
    }

    /// Number of instruments with a book.
    pub fn instruments(&self) -> usize {
        self.books.len()
    }

    /// Live orders across all instruments.
    pub fn live_orders(&self) -> usize {
        self.map.len()
    }

    /// Where the live orders' references are held: `(window, table)`, the order map's
    /// direct-indexed window of recent references and its hash table (see
    /// `core/src/book/order_map.rs`); the two add up to [`L3Books::live_orders`].
    pub fn order_map_split(&self) -> (usize, usize) {
        let table = self.map.table_len();
        (self.map.len() - table, table)
    }

    /// Counters.
    pub fn stats(&self) -> BookStats {
        self.stats
    }
}

/// The orders of one level, front of the queue first: `(order id, remaining qty)`.
#[derive(Clone, Debug)]
pub struct FifoIter<'a> {
    orders: &'a OrderPool,
    next: OrderLink,
}

impl Iterator for FifoIter<'_> {
    type Item = (OrderId, Qty);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let node = self.orders.node(self.next.get()?);
        self.next = node.next;
        Some((OrderId(node.id), node.qty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::top::{TradeKind, TradePrint};

    const I0: InstrumentId = InstrumentId(0);
    const I1: InstrumentId = InstrumentId(1);

    fn px(units: i64) -> Price {
        Price::from_units(units).unwrap()
    }
    fn q(units: i64) -> Qty {
        Qty::from_units(units).unwrap()
    }
    fn ev(instrument: InstrumentId, kind: BookEventKind) -> MarketEvent {
        MarketEvent {
            instrument,
            exch_ts: Timestamp(1),
            kind,
        }
    }
    fn add(id: u64, side: Side, price: i64, qty: i64) -> BookEventKind {
        BookEventKind::Add {
            order_id: OrderId(id),
            side,
            price: px(price),
            qty: q(qty),
        }
    }
    fn books() -> L3Books {
        L3Books::new(BookConfig {
            instruments: 2,
            order_capacity: 8,
            levels_per_side: 4,
        })
    }
    fn queue(b: &L3Books, side: Side, price: i64) -> Vec<(u64, i64)> {
        b.level_orders(I0, side, px(price))
            .map(|(id, qty)| (id.0, qty.raw() / Qty::ONE.raw()))
            .collect()
    }
    fn lv(price: i64, qty: i64) -> LevelView {
        LevelView {
            price: px(price),
            qty: q(qty),
        }
    }

    #[test]
    fn add_builds_levels_and_fifo() {
        let mut b = books();
        let a = b.apply(&ev(I0, add(1, Side::Buy, 100, 5))).unwrap();
        assert_eq!(
            (a.side, a.price, a.top_changed),
            (Some(Side::Buy), Some(px(100)), true)
        );
        assert!(
            b.apply(&ev(I0, add(2, Side::Buy, 100, 3)))
                .unwrap()
                .top_changed
        );
        assert!(
            !b.apply(&ev(I0, add(3, Side::Buy, 99, 1)))
                .unwrap()
                .top_changed
        );
        b.apply(&ev(I0, add(4, Side::Sell, 102, 2))).unwrap();
        b.apply(&ev(I0, add(5, Side::Sell, 101, 7))).unwrap();
        assert_eq!(b.best_bid(I0), Some(lv(100, 8)));
        assert_eq!(b.best_ask(I0), Some(lv(101, 7)));
        assert_eq!(
            b.levels(I0, Side::Buy).collect::<Vec<_>>(),
            [lv(100, 8), lv(99, 1)]
        );
        assert_eq!(
            b.levels(I0, Side::Sell).collect::<Vec<_>>(),
            [lv(101, 7), lv(102, 2)]
        );
        assert_eq!(queue(&b, Side::Buy, 100), [(1, 5), (2, 3)]);
        assert_eq!(b.live_orders(), 5);
        assert_eq!(
            b.order(OrderId(4)),
            Some(OrderView {
                instrument: I0,
                side: Side::Sell,
                price: px(102),
                qty: q(2)
            })
        );
        let mut top = BookTop::default();
        b.fill_top(I0, &mut top);
        assert_eq!((top.bid_levels, top.ask_levels), (2, 2));
        assert_eq!(top.best_bid(), Some(lv(100, 8)));
        assert_eq!(top.side(Side::Sell), [lv(101, 7), lv(102, 2)]);
        assert!(!b.is_crossed(I0));
        assert_eq!(b.stats().adds, 5);
    }

    #[test]
    fn add_errors_leave_the_book_unchanged() {
        let mut b = books();
        b.apply(&ev(I0, add(1, Side::Buy, 100, 5))).unwrap();
        let hash = b.book_hash(I0);
        assert_eq!(
            b.apply(&ev(I0, add(1, Side::Sell, 101, 5))),
            Err(BookError::DuplicateOrder {
                order_id: OrderId(1)
            })
        );
        assert_eq!(
            b.apply(&ev(I0, add(2, Side::Buy, 100, 0))),
            Err(BookError::InvalidQty {
                instrument: I0,
                order_id: Some(OrderId(2)),
                qty: Qty::ZERO
            })
        );
        assert!(matches!(
            b.apply(&ev(InstrumentId(7), add(3, Side::Buy, 100, 1))),
            Err(BookError::UnknownInstrument { configured: 2, .. })
        ));
        assert_eq!(b.book_hash(I0), hash);
        let s = b.stats();
        assert_eq!(
            (
                s.duplicate_orders,
                s.invalid_qty,
                s.unknown_instruments,
                s.events
            ),
            (1, 1, 1, 4)
        );
    }

    #[test]
    fn execute_partial_full_and_excess() {
        let mut b = books();
        b.apply(&ev(I0, add(1, Side::Sell, 101, 5))).unwrap();
        b.apply(&ev(I0, add(2, Side::Sell, 101, 4))).unwrap();
        let a = b
            .apply(&ev(
                I0,
                BookEventKind::Execute {
                    order_id: OrderId(1),
                    qty: q(2),
                    match_number: 11,
                },
            ))
            .unwrap();
        assert_eq!(
            a.trade,
            Some(TradePrint {
                price: px(101),
                qty: q(2),
                match_number: 11,
                aggressor: 1,
                kind: TradeKind::Execution,
            })
        );
        assert!(a.top_changed);
        assert_eq!(queue(&b, Side::Sell, 101), [(1, 3), (2, 4)]);
        let a = b
            .apply(&ev(
                I0,
                BookEventKind::ExecuteAtPrice {
                    order_id: OrderId(1),
                    qty: q(3),
                    price: px(100),
                    match_number: 12,
                },
            ))
            .unwrap();
        assert_eq!(
            a.trade.map(|t| (t.price, t.match_number)),
            Some((px(100), 12))
        );
        assert_eq!(a.price, Some(px(101)));
        assert_eq!(queue(&b, Side::Sell, 101), [(2, 4)]);
        assert_eq!(b.order(OrderId(1)), None);
        // More than the order holds: the order goes, the book update stands with the error
        // and the venue's whole quantity printed.
        let a = b
            .apply(&ev(
                I0,
                BookEventKind::Execute {
                    order_id: OrderId(2),
                    qty: q(9),
                    match_number: 13,
                },
            ))
            .unwrap();
        assert_eq!(
            a.error,
            Some(BookError::ExcessQty {
                order_id: OrderId(2),
                requested: q(9),
                remaining: q(4)
            })
        );
        assert!(a.top_changed);
        assert_eq!(a.trade.map(|t| t.qty), Some(q(9)));
        assert_eq!(b.best_ask(I0), None);
        assert_eq!(b.live_orders(), 0);
        assert_eq!(
            b.apply(&ev(
                I0,
                BookEventKind::Execute {
                    order_id: OrderId(2),
                    qty: q(1),
                    match_number: 14,
                }
            )),
            Err(BookError::UnknownOrder {
                order_id: OrderId(2)
            })
        );
        b.apply(&ev(I0, add(3, Side::Buy, 99, 1))).unwrap();
        let a = b
            .apply(&ev(
                I0,
                BookEventKind::Execute {
                    order_id: OrderId(3),
                    qty: q(1),
                    match_number: 15,
                },
            ))
            .unwrap();
        assert_eq!(a.trade.map(|t| t.aggressor), Some(-1));
        let s = b.stats();
        assert_eq!(
            (s.executions, s.excess_executions, s.unknown_orders),
            (4, 1, 1)
        );
    }

    #[test]
    fn non_printable_execution_changes_the_book_without_a_print() {
        let mut b = books();
        b.apply(&ev(I0, add(1, Side::Sell, 101, 5))).unwrap();
        let a = b
            .apply(&ev(
                I0,
                BookEventKind::ExecuteNonPrintable {
                    order_id: OrderId(1),
                    qty: q(2),
                    price: px(100),
                    match_number: 7,
                },
            ))
            .unwrap();
        assert_eq!(a.trade, None);
        assert!(a.top_changed);
        assert_eq!(b.best_ask(I0), Some(lv(101, 3)));
        let s = b.stats();
        assert_eq!((s.executions, s.non_printable_executions), (1, 1));
    }

    #[test]
    fn cancel_keeps_queue_position_and_counts_excess() {
        let mut b = books();
        b.apply(&ev(I0, add(1, Side::Buy, 100, 5))).unwrap();
        b.apply(&ev(I0, add(2, Side::Buy, 100, 4))).unwrap();
        b.apply(&ev(
            I0,
            BookEventKind::Cancel {
                order_id: OrderId(1),
                qty: q(2),
            },
        ))
        .unwrap();
        assert_eq!(queue(&b, Side::Buy, 100), [(1, 3), (2, 4)]);
        assert_eq!(b.best_bid(I0), Some(lv(100, 7)));
        b.apply(&ev(
            I0,
            BookEventKind::Cancel {
                order_id: OrderId(2),
                qty: q(4),
            },
        ))
        .unwrap();
        b.apply(&ev(
            I0,
            BookEventKind::Cancel {
                order_id: OrderId(1),
                qty: q(10),
            },
        ))
        .unwrap();
        assert_eq!(b.best_bid(I0), None);
        assert!(matches!(
            b.apply(&ev(
                I0,
                BookEventKind::Cancel {
                    order_id: OrderId(1),
                    qty: q(1)
                }
            )),
            Err(BookError::UnknownOrder { .. })
        ));
        assert!(matches!(
            b.apply(&ev(
                I0,
                BookEventKind::Cancel {
                    order_id: OrderId(1),
                    qty: q(-1)
                }
            )),
            Err(BookError::InvalidQty { .. })
        ));
        let s = b.stats();
        assert_eq!(
            (s.cancels, s.excess_cancels, s.unknown_orders, s.invalid_qty),
            (3, 1, 1, 1)
        );
    }

    #[test]
    fn delete_from_middle_front_and_back() {
        let mut b = books();
        for id in 1..=4 {
            b.apply(&ev(I0, add(id, Side::Sell, 101, id as i64)))
                .unwrap();
        }
        for (id, left) in [
            (2, vec![(1, 1), (3, 3), (4, 4)]),
            (1, vec![(3, 3), (4, 4)]),
            (4, vec![(3, 3)]),
        ] {
            b.apply(&ev(
                I0,
                BookEventKind::Delete {
                    order_id: OrderId(id),
                },
            ))
            .unwrap();
            assert_eq!(queue(&b, Side::Sell, 101), left);
        }
        b.apply(&ev(I0, add(5, Side::Sell, 101, 5))).unwrap();
        assert_eq!(queue(&b, Side::Sell, 101), [(3, 3), (5, 5)]);
        assert_eq!(b.best_ask(I0), Some(lv(101, 8)));
        assert!(
            b.apply(&ev(
                I0,
                BookEventKind::Delete {
                    order_id: OrderId(9)
                }
            ))
            .is_err()
        );
        assert_eq!(b.stats().deletes, 3);
    }

    #[test]
    fn replace_moves_to_back_with_old_side() {
        let mut b = books();
        b.apply(&ev(I0, add(1, Side::Buy, 100, 5))).unwrap();
        b.apply(&ev(I0, add(2, Side::Buy, 100, 4))).unwrap();
        let replace = |old, new, price, qty| BookEventKind::Replace {
            old_order_id: OrderId(old),
            new_order_id: OrderId(new),
            price: px(price),
            qty: q(qty),
        };
        let a = b.apply(&ev(I0, replace(1, 3, 100, 6))).unwrap();
        assert_eq!(
            (a.side, a.price, a.top_changed),
            (Some(Side::Buy), Some(px(100)), true)
        );
        assert_eq!(queue(&b, Side::Buy, 100), [(2, 4), (3, 6)]);
        b.apply(&ev(I0, replace(2, 4, 98, 1))).unwrap();
        assert_eq!(
            b.levels(I0, Side::Buy).collect::<Vec<_>>(),
            [lv(100, 6), lv(98, 1)]
        );
        let hash = b.book_hash(I0);
        assert_eq!(
            b.apply(&ev(I0, replace(9, 10, 97, 1))),
            Err(BookError::UnknownOrder {
                order_id: OrderId(9)
            })
        );
        assert!(matches!(
            b.apply(&ev(I0, replace(3, 11, 97, 0))),
            Err(BookError::InvalidQty { .. })
        ));
        assert_eq!(b.book_hash(I0), hash, "rejected whole: nothing changed");
        // The new id is already live: the old order is gone (the venue replaced it), the live
        // order 4 stays, the update stands with the error.
        let a = b.apply(&ev(I0, replace(3, 4, 97, 1))).unwrap();
        assert_eq!(
            a.error,
            Some(BookError::DuplicateOrder {
                order_id: OrderId(4)
            })
        );
        assert!(a.top_changed);
        assert_eq!(b.order(OrderId(3)), None);
        assert_eq!(b.order(OrderId(4)).map(|o| o.price), Some(px(98)));
        assert_eq!(b.levels(I0, Side::Buy).collect::<Vec<_>>(), [lv(98, 1)]);
        let s = b.stats();
        assert_eq!((s.replaces, s.duplicate_orders), (3, 1));
    }

    #[test]
    fn trade_status_level_and_clear() {
        let mut b = books();
        let a = b
            .apply(&ev(
                I0,
                BookEventKind::Trade {
                    side: None,
                    kind: TradeKind::Cross,
                    price: px(5),
                    qty: q(1),
                    match_number: 3,
                },
            ))
            .unwrap();
        assert_eq!(
            a.trade,
            Some(TradePrint {
                price: px(5),
                qty: q(1),
                match_number: 3,
                aggressor: 0,
                kind: TradeKind::Cross,
            })
        );
        assert!(!a.top_changed);
        let a = b
            .apply(&ev(I0, BookEventKind::Break { match_number: 3 }))
            .unwrap();
        assert_eq!(
            a.trade.map(|t| (t.kind, t.match_number, t.qty)),
            Some((TradeKind::Break, 3, Qty::ZERO))
        );
        b.apply(&ev(I1, BookEventKind::Status(TradingStatus::Halted)))
            .unwrap();
        assert_eq!(b.status(I1), TradingStatus::Halted);
        assert_eq!(b.status(I0), TradingStatus::Trading);
        assert_eq!(
            b.apply(&ev(
                I0,
                BookEventKind::Level {
                    side: Side::Buy,
                    price: px(1),
                    qty: q(1)
                }
            )),
            Err(BookError::WrongBookType {
                instrument: I0,
                book: BookKind::L3
            })
        );
        b.apply(&ev(I0, add(1, Side::Buy, 100, 5))).unwrap();
        b.apply(&ev(I0, add(2, Side::Sell, 101, 5))).unwrap();
        b.apply(&ev(I1, add(3, Side::Sell, 101, 5))).unwrap();
        assert!(b.apply(&ev(I0, BookEventKind::Clear)).unwrap().top_changed);
        assert_eq!(b.best_bid(I0), None);
        assert_eq!(b.live_orders(), 1);
        assert_eq!(b.order(OrderId(3)).map(|o| o.instrument), Some(I1));
        // Ids freed by the clear can be reused.
        b.apply(&ev(I0, add(1, Side::Buy, 100, 5))).unwrap();
        let s = b.stats();
        assert_eq!(
            (s.trades, s.status_changes, s.wrong_book_type, s.clears),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn operational_and_market_wide_halts_reach_the_status() {
        let mut b = books();
        b.apply(&ev(I0, BookEventKind::OperationalHalt { halted: true }))
            .unwrap();
        assert_eq!(b.status(I0), TradingStatus::Halted);
        assert_eq!(b.status(I1), TradingStatus::Trading);
        // A regulatory resumption does not lift the operational halt.
        b.apply(&ev(I0, BookEventKind::Status(TradingStatus::Trading)))
            .unwrap();
        assert_eq!(b.status(I0), TradingStatus::Halted);
        b.apply(&ev(I0, BookEventKind::OperationalHalt { halted: false }))
            .unwrap();
        assert_eq!(b.status(I0), TradingStatus::Trading);
        // A circuit breaker halts every book, books created after it too, until each one's
        // own status message.
        let a = b
            .apply(&ev(
                crate::event::MARKET_WIDE,
                BookEventKind::MarketWideHalt { level: 1 },
            ))
            .unwrap();
        assert_eq!(a.instrument, crate::event::MARKET_WIDE);
        b.ensure_instrument(InstrumentId(2));
        for id in [I0, I1, InstrumentId(2)] {
            assert_eq!(b.status(id), TradingStatus::Halted);
            assert_eq!(b.status_detail(id).market_halt, Some(1));
        }
        b.apply(&ev(I1, BookEventKind::Status(TradingStatus::Trading)))
            .unwrap();
        assert_eq!(b.status(I1), TradingStatus::Trading);
        assert_eq!(b.status(I0), TradingStatus::Halted);
        assert_eq!(b.stats().status_changes, 5);
    }

    #[test]
    fn instrument_mismatch_and_growth() {
        let mut b = books();
        b.apply(&ev(I1, add(1, Side::Buy, 100, 5))).unwrap();
        assert_eq!(
            b.apply(&ev(
                I0,
                BookEventKind::Delete {
                    order_id: OrderId(1)
                }
            )),
            Err(BookError::InstrumentMismatch {
                order_id: OrderId(1),
                instrument: I0,
                resting: I1
            })
        );
        assert_eq!(b.live_orders(), 1);
        b.ensure_instrument(InstrumentId(5));
        b.ensure_instrument(InstrumentId(3));
        assert_eq!(b.instruments(), 6);
        b.apply(&ev(InstrumentId(5), add(2, Side::Buy, 1, 1)))
            .unwrap();
        let s = b.stats();
        assert_eq!((s.instrument_mismatches, s.instrument_growths), (1, 1));
    }

    #[test]
    fn crossed_books_are_counted_not_fatal() {
        let mut b = books();
        b.apply(&ev(I0, add(1, Side::Sell, 100, 1))).unwrap();
        b.apply(&ev(I0, add(2, Side::Buy, 101, 1))).unwrap();
        assert!(b.is_crossed(I0));
        b.apply(&ev(I0, add(3, Side::Buy, 102, 1))).unwrap();
        assert_eq!(b.stats().crossed_events, 1);
        b.apply(&ev(
            I0,
            BookEventKind::Delete {
                order_id: OrderId(1),
            },
        ))
        .unwrap();
        assert!(!b.is_crossed(I0));
        b.apply(&ev(I0, add(4, Side::Sell, 90, 1))).unwrap();
        assert_eq!(b.stats().crossed_events, 2);
    }

    #[test]
    fn pools_grow_and_count_when_undersized() {
        let mut b = L3Books::new(BookConfig {
            instruments: 1,
            order_capacity: 2,
            levels_per_side: 1,
        });
        // References too large for the order map's window, so that its table fills and grows.
        let big = |id: u64| u64::MAX - id;
        for id in 0..100u64 {
            b.apply(&ev(I0, add(big(id), Side::Buy, id as i64 + 1, 1)))
                .unwrap();
        }
        assert_eq!(b.live_orders(), 100);
        assert_eq!(b.levels(I0, Side::Buy).count(), 100);
        let s = b.stats();
        assert!(s.order_pool_growths > 0 && s.order_map_growths > 0 && s.level_growths > 0);
        for id in 0..100u64 {
            assert_eq!(
                b.order(OrderId(big(id))).map(|o| o.price),
                Some(px(id as i64 + 1))
            );
        }
    }

    #[test]
    fn qty_overflow_is_rejected() {
        let mut b = books();
        b.apply(&ev(
            I0,
            BookEventKind::Add {
                order_id: OrderId(1),
                side: Side::Buy,
                price: px(1),
                qty: Qty::MAX,
            },
        ))
        .unwrap();
        assert_eq!(
            b.apply(&ev(I0, add(2, Side::Buy, 1, 1))),
            Err(BookError::QtyOverflow { instrument: I0 })
        );
        assert_eq!(b.live_orders(), 1);
        assert_eq!(b.stats().qty_overflows, 1);
    }

    #[test]
    fn views_of_unknown_instruments_are_empty() {
        let b = books();
        let none = InstrumentId(99);
        assert_eq!(b.best_bid(none), None);
        assert_eq!(b.levels(none, Side::Buy).count(), 0);
        assert_eq!(b.level_orders(none, Side::Buy, px(1)).count(), 0);
        assert!(!b.is_crossed(none));
        assert_eq!(b.book_hash(none), b.book_hash(I0));
    }

    #[test]
    fn a_freed_nodes_reuse_leaves_the_old_neighbours_alone() {
        // References 16 apart share window index 0: A takes the window node, B and C the
        // overflow. A leaves the front, D takes A's freed node at another level with E
        // behind it; B leaving the front must not write D.
        let mut b = books();
        for id in [16, 32, 48] {
            b.apply(&ev(I0, add(id, Side::Sell, 100, 1))).unwrap();
        }
        let del = |id| BookEventKind::Delete {
            order_id: OrderId(id),
        };
        b.apply(&ev(I0, del(16))).unwrap();
        b.apply(&ev(I0, add(64, Side::Sell, 101, 2))).unwrap();
        b.apply(&ev(I0, add(80, Side::Sell, 101, 3))).unwrap();
        b.apply(&ev(I0, del(32))).unwrap();
        assert_eq!(queue(&b, Side::Sell, 100), [(48, 1)]);
        assert_eq!(queue(&b, Side::Sell, 101), [(64, 2), (80, 3)]);
        // And the back: C leaves it, then the middle of 101.
        b.apply(&ev(I0, add(96, Side::Sell, 101, 4))).unwrap();
        b.apply(&ev(I0, del(48))).unwrap();
        b.apply(&ev(I0, del(80))).unwrap();
        assert_eq!(queue(&b, Side::Sell, 101), [(64, 2), (96, 4)]);
        assert_eq!(queue(&b, Side::Sell, 100), []);
    }

    /// One step of the queue model test, on three ask levels (100, 101, 102).
    #[derive(Clone, Debug)]
    enum QueueOp {
        /// A new order at level `.0` with `.1` shares.
        Add(usize, i64),
        /// Delete the order `pick` selects at level `.0`.
        Delete(usize, u8),
        /// Execute `.2` shares of the order `pick` selects at level `.0`.
        Execute(usize, u8, i64),
        /// Replace the order `pick` selects at level `.0` by a new one at level `.2`.
        Replace(usize, u8, usize),
    }

    /// An order of a queue of `len`: the front, the back, or one in between, a third each.
    fn pick(len: usize, w: u8) -> usize {
        match w {
            0..=84 => 0,
            85..=169 => len - 1,
            _ => usize::from(w) % len,
        }
    }

    fn queue_op() -> impl proptest::strategy::Strategy<Value = QueueOp> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0..3usize, 1..5i64).prop_map(|(p, n)| QueueOp::Add(p, n)),
            2 => (0..3usize, any::<u8>()).prop_map(|(p, w)| QueueOp::Delete(p, w)),
            2 => (0..3usize, any::<u8>(), 1..5i64).prop_map(|(p, w, n)| QueueOp::Execute(p, w, n)),
            1 => (0..3usize, any::<u8>(), 0..3usize).prop_map(|(p, w, to)| QueueOp::Replace(p, w, to)),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Every queue equals a `VecDeque` model after every step, over orders leaving the
        /// front, the back and the middle, executions,
        /// replaces to the back of another level, and order slots reused at once (`spread`
        /// 16: every reference has the same window index, so all but one order live in the
        /// pool's overflow, whose free list hands the last freed slot out first; 1: dense
        /// references in a 16-record window).
        #[test]
        fn queues_equal_a_deque_model(
            spread in proptest::sample::select(vec![1u64, 16]),
            ops in proptest::collection::vec(queue_op(), 1..300),
        ) {
            use std::collections::VecDeque;
            let mut b = books();
            let mut model: [VecDeque<(u64, i64)>; 3] = Default::default();
            let mut next_id = spread;
            for op in ops {
                match op {
                    QueueOp::Add(p, n) => {
                        b.apply(&ev(I0, add(next_id, Side::Sell, 100 + p as i64, n))).unwrap();
                        model[p].push_back((next_id, n));
                        next_id += spread;
                    }
                    QueueOp::Delete(p, w) if !model[p].is_empty() => {
                        let (id, _) = model[p].remove(pick(model[p].len(), w)).unwrap();
                        b.apply(&ev(I0, BookEventKind::Delete { order_id: OrderId(id) })).unwrap();
                    }
                    QueueOp::Execute(p, w, n) if !model[p].is_empty() => {
                        let k = pick(model[p].len(), w);
                        let (id, left) = model[p][k];
                        b.apply(&ev(I0, BookEventKind::Execute {
                            order_id: OrderId(id),
                            qty: q(n.min(left)),
                            match_number: 1,
                        }))
                        .unwrap();
                        if n >= left {
                            model[p].remove(k);
                        } else {
                            model[p][k].1 = left - n;
                        }
                    }
                    QueueOp::Replace(p, w, to) if !model[p].is_empty() => {
                        let (id, n) = model[p].remove(pick(model[p].len(), w)).unwrap();
                        b.apply(&ev(I0, BookEventKind::Replace {
                            old_order_id: OrderId(id),
                            new_order_id: OrderId(next_id),
                            price: px(100 + to as i64),
                            qty: q(n),
                        }))
                        .unwrap();
                        model[to].push_back((next_id, n));
                        next_id += spread;
                    }
                    _ => {}
                }
                for (p, m) in model.iter().enumerate() {
                    let want: Vec<(u64, i64)> = m.iter().copied().collect();
                    // Bounded: a broken queue may cycle.
                    let got: Vec<(u64, i64)> = b
                        .level_orders(I0, Side::Sell, px(100 + p as i64))
                        .take(want.len() + 1)
                        .map(|(id, qty)| (id.0, qty.raw() / Qty::ONE.raw()))
                        .collect();
                    proptest::prop_assert_eq!(got, want);
                }
            }
        }
    }
}
