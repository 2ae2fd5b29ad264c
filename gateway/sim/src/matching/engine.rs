//! The matching engine: participant orders (enter, cancel, replace, cancel on disconnect) and
//! the price-time matching loop. The replayed market's side is in `background.rs`.

use kestrel_core::{BookTop, InstrumentId, LevelView, Price, Qty, Side, TOP_LEVELS, Timestamp};
use kestrel_core::{TradingStatus, book::StableHasher};

use super::book::{Book, Level, NIL, OrderSlot, RefMap};
use super::event::{MatchEvent, MatchSink, Party};
use super::ladder::side_key;
use super::stats::MatchStats;
use super::types::{
    CancelReason, NewOrder, OrderHandle, Owner, PARTICIPANT_REF_BASE, RejectReason, ReplaceOutcome,
    SmpPolicy, TimeInForce,
};

/// Sizes and policies, fixed at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Instruments (dense ids `0..instruments`).
    pub instruments: usize,
    /// Orders the pool holds before it grows (background and participant together).
    pub order_capacity: usize,
    /// Price levels per side preallocated per instrument.
    pub levels_per_side: usize,
    /// Self-match prevention between orders of one firm.
    pub smp: SmpPolicy,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            instruments: 1,
            order_capacity: 1 << 16,
            levels_per_side: 256,
            smp: SmpPolicy::CancelNewest,
        }
    }
}

/// The incoming side of a match: a participant order or a background add that crossed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Incoming {
    pub(crate) party: Party,
    pub(crate) side: Side,
    pub(crate) limit: Price,
    /// Trades only with participant orders (a background add: the replayed market never trades
    /// with itself here, it already did in the recording).
    pub(crate) participants_only: bool,
}

/// How a match loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchEnd {
    /// Nothing more crosses (or nothing is left).
    Done,
    /// Self-match prevention cancels the rest of the incoming order.
    SelfMatchStop,
}

/// Price-time priority matching over every instrument's book. See the module docs.
#[derive(Debug)]
pub struct MatchingEngine {
    pub(crate) config: EngineConfig,
    pub(crate) books: Vec<Book>,
    pub(crate) orders: Vec<OrderSlot>,
    pub(crate) free_orders: Vec<u32>,
    pub(crate) levels: Vec<Level>,
    pub(crate) free_levels: Vec<u32>,
    pub(crate) background: RefMap,
    next_ref: u64,
    pub(crate) match_no: u64,
    pub(crate) stats: MatchStats,
}

impl MatchingEngine {
    /// An engine with every pool sized from `config`.
    pub fn new(config: EngineConfig) -> Self {
        let instruments = config.instruments.max(1);
        let levels = config.levels_per_side.max(1);
        let orders = config.order_capacity.max(16);
        let mut background = RefMap::default();
        background.reserve(orders);
        Self {
            config: EngineConfig {
                instruments,
                ..config
            },
            books: (0..instruments).map(|_| Book::new(levels)).collect(),
            orders: Vec::with_capacity(orders),
            free_orders: Vec::with_capacity(orders),
            levels: Vec::with_capacity(instruments * levels * 2),
            free_levels: Vec::with_capacity(instruments * levels * 2),
            background,
            next_ref: PARTICIPANT_REF_BASE,
            match_no: 0,
            stats: MatchStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> MatchStats {
        self.stats
    }

    /// Instruments.
    pub fn instruments(&self) -> usize {
        self.books.len()
    }

    /// Trading status of an instrument.
    pub fn status(&self, instrument: InstrumentId) -> Option<TradingStatus> {
        self.books.get(instrument.index()).map(|b| b.status)
    }

    // ---- pools -------------------------------------------------------------------------------

    pub(crate) fn alloc_order(&mut self, slot: OrderSlot) -> u32 {
        if let Some(i) = self.free_orders.pop() {
            let generation = self.orders[i as usize].generation;
            self.orders[i as usize] = OrderSlot { generation, ..slot };
            return i;
        }
        if self.orders.len() == self.orders.capacity() {
            self.stats.growths += 1;
        }
        let i = u32::try_from(self.orders.len()).unwrap_or(NIL);
        self.orders.push(slot);
        i
    }

    pub(crate) fn free_order(&mut self, idx: u32) {
        let o = &mut self.orders[idx as usize];
        debug_assert!(!o.on_book, "freeing an order still on the book");
        if o.owner == Owner::Background {
            self.background.remove(&o.order_ref);
        }
        o.live = false;
        o.generation = o.generation.wrapping_add(1);
        self.free_orders.push(idx);
    }

    fn alloc_level(&mut self, price: Price) -> u32 {
        let level = Level {
            price,
            total: 0,
            participants: 0,
            head: NIL,
            tail: NIL,
        };
        if let Some(i) = self.free_levels.pop() {
            self.levels[i as usize] = level;
            return i;
        }
        if self.levels.len() == self.levels.capacity() {
            self.stats.growths += 1;
        }
        let i = u32::try_from(self.levels.len()).unwrap_or(NIL);
        self.levels.push(level);
        i
    }

    pub(crate) fn party(&self, idx: u32) -> Party {
        let o = &self.orders[idx as usize];
        Party {
            order_ref: o.order_ref,
            owner: o.owner,
            tag: o.tag,
            handle: OrderHandle {
                slot: idx,
                generation: o.generation,
            },
        }
    }

    /// The pool slot of a live participant order.
    fn resolve(&self, handle: OrderHandle) -> Option<u32> {
        let o = self.orders.get(handle.slot as usize)?;
        (o.live && o.generation == handle.generation && o.owner.is_participant())
            .then_some(handle.slot)
    }

    pub(crate) fn next_participant_ref(&mut self) -> u64 {
        let r = self.next_ref;
        self.next_ref += 1;
        r
    }

    // ---- levels ------------------------------------------------------------------------------

    /// Links order `idx` at the back of its price level; returns the visible quantity ahead.
    pub(crate) fn link(&mut self, idx: u32) -> i64 {
        let o = self.orders[idx as usize];
        let side = o.side;
        let key = side_key(side, o.price);
        let book = &mut self.books[o.instrument as usize];
        let at = book.sides[side.index()].ladder.locate(key);
        let level = match at {
            Ok(i) => book.sides[side.index()]
                .ladder
                .get(i)
                .map_or(NIL, |r| r.level),
            Err(i) => {
                let level = self.alloc_level(o.price);
                let book = &mut self.books[o.instrument as usize];
                if book.sides[side.index()].ladder.insert(i, key, level) {
                    self.stats.growths += 1;
                }
                level
            }
        };
        let participant = o.owner.is_participant();
        let l = &mut self.levels[level as usize];
        let ahead = l.total;
        let tail = l.tail;
        l.total += o.open;
        if participant {
            l.participants += 1;
        }
        if tail == NIL {
            l.head = idx;
        }
        l.tail = idx;
        if tail != NIL {
            self.orders[tail as usize].next = idx;
        }
        let s = &mut self.orders[idx as usize];
        s.prev = tail;
        s.next = NIL;
        s.level = level;
        s.on_book = true;
        s.queue_ahead = ahead;
        if participant {
            self.books[o.instrument as usize].sides[side.index()].participants += 1;
        }
        ahead
    }

    /// Takes order `idx` off its level (removing the level when it empties).
    pub(crate) fn unlink(&mut self, idx: u32) {
        let o = self.orders[idx as usize];
        if !o.on_book {
            return;
        }
        let level = o.level as usize;
        if o.prev != NIL {
            self.orders[o.prev as usize].next = o.next;
        } else {
            self.levels[level].head = o.next;
        }
        if o.next != NIL {
            self.orders[o.next as usize].prev = o.prev;
        } else {
            self.levels[level].tail = o.prev;
        }
        let l = &mut self.levels[level];
        l.total -= o.open;
        if o.owner.is_participant() {
            l.participants -= 1;
            self.books[o.instrument as usize].sides[o.side.index()].participants -= 1;
        }
        let empty = l.head == NIL;
        let price = l.price;
        if empty {
            let ladder = &mut self.books[o.instrument as usize].sides[o.side.index()].ladder;
            if let Ok(i) = ladder.locate(side_key(o.side, price)) {
                ladder.remove(i);
            }
            self.free_levels.push(o.level);
        }
        let s = &mut self.orders[idx as usize];
        s.on_book = false;
        s.level = NIL;
        s.prev = NIL;
        s.next = NIL;
    }

    /// Takes `by` shares off a resting order's open quantity (and its level's total).
    pub(crate) fn reduce_resting(&mut self, idx: u32, by: i64) {
        let o = &mut self.orders[idx as usize];
        o.open -= by;
        if o.on_book {
            self.levels[o.level as usize].total -= by;
        }
    }

    /// Ends order `idx`: off the book and back to the pool.
    pub(crate) fn retire(&mut self, idx: u32) {
        self.unlink(idx);
        self.free_order(idx);
    }

    // ---- matching ----------------------------------------------------------------------------

    /// Matches `incoming` against the other side of `instrument`'s book while prices cross and
    /// `left` (raw shares) remains.
    pub(crate) fn match_incoming<S: MatchSink + ?Sized>(
        &mut self,
        instrument: usize,
        incoming: &Incoming,
        left: &mut i64,
        ts: Timestamp,
        sink: &mut S,
    ) -> MatchEnd {
        let contra = incoming.side.opposite();
        let firm = incoming.party.owner.firm();
        let mut index = self.books[instrument].sides[contra.index()].ladder.len();
        while *left > 0 && index > 0 {
            index -= 1;
            let Some(rung) = self.books[instrument].sides[contra.index()]
                .ladder
                .get(index)
            else {
                break;
            };
            let level = rung.level as usize;
            let price = self.levels[level].price;
            let crosses = match incoming.side {
                Side::Buy => price <= incoming.limit,
                Side::Sell => price >= incoming.limit,
            };
            if !crosses {
                break;
            }
            if incoming.participants_only && self.levels[level].participants == 0 {
                continue;
            }
            let mut cur = self.levels[level].head;
            while cur != NIL && *left > 0 {
                let resting = self.orders[cur as usize];
                let next = resting.next;
                if incoming.participants_only && !resting.owner.is_participant() {
                    cur = next;
                    continue;
                }
                if self.config.smp != SmpPolicy::Off
                    && firm.is_some()
                    && firm == resting.owner.firm()
                {
                    let qty = (*left).min(resting.open);
                    self.stats.self_match_prevented += 1;
                    sink.on_event(&MatchEvent::SelfMatchPrevented {
                        instrument: InstrumentId(instrument as u32),
                        order: incoming.party,
                        resting: self.party(cur),
                        qty: Qty::from_raw(qty),
                        price,
                        ts,
                    });
                    let policy = self.config.smp;
                    if matches!(policy, SmpPolicy::CancelOldest | SmpPolicy::CancelBoth) {
                        self.cancel_slot(cur, 0, CancelReason::SelfMatch, ts, sink);
                    }
                    if matches!(policy, SmpPolicy::CancelNewest | SmpPolicy::CancelBoth) {
                        return MatchEnd::SelfMatchStop;
                    }
                    cur = next;
                    continue;
                }
                let qty = (*left).min(resting.open);
                *left -= qty;
                self.trade(cur, Some(incoming), price, qty, *left, ts, sink);
                cur = next;
            }
        }
        MatchEnd::Done
    }

    /// One execution of `qty` against resting order `idx` at `price`, with an incoming party
    /// (whose `left` is reported on its [`MatchEvent::Took`]) or `None` for recorded flow.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn trade<S: MatchSink + ?Sized>(
        &mut self,
        idx: u32,
        incoming: Option<&Incoming>,
        price: Price,
        qty: i64,
        incoming_left: i64,
        ts: Timestamp,
        sink: &mut S,
    ) {
        let resting = self.orders[idx as usize];
        self.match_no += 1;
        let match_no = self.match_no;
        self.reduce_resting(idx, qty);
        let resting_left = resting.open - qty;
        let instrument = InstrumentId(resting.instrument);
        self.stats.executions += 1;
        let participant_involved = resting.owner.is_participant()
            || incoming.is_some_and(|i| i.party.owner.is_participant());
        if participant_involved {
            self.stats.participant_executions += 1;
        }
        sink.on_event(&MatchEvent::Executed {
            instrument,
            resting: self.party(idx),
            resting_side: resting.side,
            aggressor: incoming.map(|i| i.party),
            price,
            resting_price: resting.price,
            qty: Qty::from_raw(qty),
            resting_left: Qty::from_raw(resting_left),
            match_no,
            queue_ahead: Qty::from_raw(resting.queue_ahead),
            ts,
        });
        if let Some(inc) = incoming
            && inc.party.owner.is_participant()
        {
            sink.on_event(&MatchEvent::Took {
                instrument,
                order: inc.party,
                side: inc.side,
                price,
                qty: Qty::from_raw(qty),
                left: Qty::from_raw(incoming_left),
                match_no,
                ts,
            });
        }
        if resting_left == 0 {
            self.retire(idx);
        }
    }

    /// Cuts live order `idx` to `new_open` raw shares (0 ends it), reporting why.
    pub(crate) fn cancel_slot<S: MatchSink + ?Sized>(
        &mut self,
        idx: u32,
        new_open: i64,
        reason: CancelReason,
        ts: Timestamp,
        sink: &mut S,
    ) -> bool {
        let o = self.orders[idx as usize];
        if !o.live || new_open >= o.open {
            return false;
        }
        let new_open = new_open.max(0);
        let party = self.party(idx);
        self.reduce_resting(idx, o.open - new_open);
        sink.on_event(&MatchEvent::Reduced {
            instrument: InstrumentId(o.instrument),
            order: party,
            cancelled: Qty::from_raw(o.open - new_open),
            left: Qty::from_raw(new_open),
            on_book: o.on_book,
            reason,
            ts,
        });
        if new_open == 0 {
            self.retire(idx);
        }
        true
    }

    // ---- participants ------------------------------------------------------------------------

    /// Enters a participant order: accepted, matched against the other side, and the rest
    /// either rests (day) or is cancelled (IOC). Returns the handle of the resting order, if any
    /// rests.
    pub fn enter<S: MatchSink + ?Sized>(
        &mut self,
        order: &NewOrder,
        ts: Timestamp,
        sink: &mut S,
    ) -> Option<OrderHandle> {
        let reject = |reason| MatchEvent::Rejected {
            owner: order.owner,
            tag: order.tag,
            reason,
            ts,
        };
        let reason = match self.books.get(order.instrument.index()) {
            None => Some(RejectReason::UnknownInstrument),
            Some(b) if matches!(b.status, TradingStatus::Halted | TradingStatus::Paused) => {
                Some(RejectReason::Halted)
            }
            Some(_) if order.qty.raw() <= 0 => Some(RejectReason::InvalidQty),
            Some(_) if order.price.raw() <= 0 => Some(RejectReason::InvalidPrice),
            Some(_) if !order.owner.is_participant() => Some(RejectReason::UnknownInstrument),
            Some(_) => None,
        };
        if let Some(reason) = reason {
            self.stats.orders_rejected += 1;
            sink.on_event(&reject(reason));
            return None;
        }
        let order_ref = self.next_participant_ref();
        let idx = self.alloc_order(OrderSlot {
            order_ref,
            owner: order.owner,
            tag: order.tag,
            instrument: order.instrument.0,
            side: order.side,
            live: true,
            price: order.price,
            open: order.qty.raw(),
            ..OrderSlot::EMPTY
        });
        if idx == NIL {
            self.stats.orders_rejected += 1;
            sink.on_event(&reject(RejectReason::Capacity));
            return None;
        }
        self.stats.orders_accepted += 1;
        let party = self.party(idx);
        sink.on_event(&MatchEvent::Accepted {
            order: party,
            instrument: order.instrument,
            side: order.side,
            price: order.price,
            qty: order.qty,
            ts,
        });
        self.work_incoming(idx, order.tif, ts, sink)
    }

    /// Matches a live, unbooked participant order and rests or cancels what is left.
    fn work_incoming<S: MatchSink + ?Sized>(
        &mut self,
        idx: u32,
        tif: TimeInForce,
        ts: Timestamp,
        sink: &mut S,
    ) -> Option<OrderHandle> {
        let o = self.orders[idx as usize];
        let incoming = Incoming {
            party: self.party(idx),
            side: o.side,
            limit: o.price,
            participants_only: false,
        };
        let mut left = o.open;
        let end = self.match_incoming(o.instrument as usize, &incoming, &mut left, ts, sink);
        self.orders[idx as usize].open = left;
        if left == 0 {
            self.free_order(idx);
            return None;
        }
        let reason = match (end, tif) {
            (MatchEnd::SelfMatchStop, _) => Some(CancelReason::SelfMatch),
            (MatchEnd::Done, TimeInForce::Ioc) => Some(CancelReason::Ioc),
            (MatchEnd::Done, TimeInForce::Day) => None,
        };
        if let Some(reason) = reason {
            self.cancel_slot(idx, 0, reason, ts, sink);
            return None;
        }
        let ahead = self.link(idx);
        let party = self.party(idx);
        sink.on_event(&MatchEvent::Booked {
            order: party,
            instrument: InstrumentId(o.instrument),
            side: o.side,
            price: o.price,
            qty: Qty::from_raw(left),
            queue_ahead: Qty::from_raw(ahead),
            ts,
        });
        Some(party.handle)
    }

    /// Cuts a participant order to `new_qty` open shares (OUCH cancel: the new intended size;
    /// zero cancels it). Returns whether anything was cancelled (an unknown or dead handle, or
    /// a size not below the open quantity, changes nothing).
    pub fn cancel<S: MatchSink + ?Sized>(
        &mut self,
        handle: OrderHandle,
        new_qty: Qty,
        reason: CancelReason,
        ts: Timestamp,
        sink: &mut S,
    ) -> bool {
        let Some(idx) = self.resolve(handle) else {
            return false;
        };
        self.stats.cancels += 1;
        self.cancel_slot(idx, new_qty.raw(), reason, ts, sink)
    }

    /// Cancels every live order of participant `id` (cancel on disconnect, kill switch).
    /// Returns how many orders were cancelled.
    pub fn cancel_all<S: MatchSink + ?Sized>(
        &mut self,
        id: u32,
        reason: CancelReason,
        ts: Timestamp,
        sink: &mut S,
    ) -> usize {
        let mut n = 0;
        for idx in 0..self.orders.len() {
            let o = self.orders[idx];
            if o.live && matches!(o.owner, Owner::Participant { id: p, .. } if p == id) {
                let idx = idx as u32;
                if self.cancel_slot(idx, 0, reason, ts, sink) {
                    n += 1;
                }
            }
        }
        n
    }

    /// Replaces a participant order (OUCH replace): `qty` is the new open quantity (zero
    /// cancels). The order keeps its time priority when the price is unchanged and the size does
    /// not grow; otherwise it gets a new reference number, goes to the back of its (new) level,
    /// and matches first if the new price crosses.
    #[allow(clippy::too_many_arguments)]
    pub fn replace<S: MatchSink + ?Sized>(
        &mut self,
        handle: OrderHandle,
        new_tag: u64,
        price: Price,
        qty: Qty,
        ts: Timestamp,
        sink: &mut S,
    ) -> ReplaceOutcome {
        let Some(idx) = self.resolve(handle) else {
            return ReplaceOutcome::UnknownOrder;
        };
        self.stats.replaces += 1;
        let old = self.orders[idx as usize];
        let old_party = self.party(idx);
        if qty.raw() <= 0 {
            self.cancel_slot(idx, 0, CancelReason::User, ts, sink);
            return ReplaceOutcome::Replaced(None);
        }
        let kept = price == old.price && qty.raw() <= old.open && old.on_book;
        let instrument = InstrumentId(old.instrument);
        if kept {
            self.reduce_resting(idx, old.open - qty.raw());
            self.orders[idx as usize].tag = new_tag;
            sink.on_event(&MatchEvent::Replaced {
                instrument,
                old: old_party,
                new: self.party(idx),
                side: old.side,
                price,
                qty,
                old_qty: Qty::from_raw(old.open),
                kept_priority: true,
                was_on_book: true,
                booked_whole: false,
                queue_ahead: Qty::from_raw(old.queue_ahead),
                ts,
            });
            return ReplaceOutcome::Replaced(Some(handle));
        }
        // Loses priority: a new order in the same slot (new generation, new reference).
        self.unlink(idx);
        let order_ref = self.next_participant_ref();
        let generation = old.generation.wrapping_add(1);
        let slot = &mut self.orders[idx as usize];
        slot.generation = generation;
        slot.order_ref = order_ref;
        slot.tag = new_tag;
        slot.price = price;
        slot.open = qty.raw();
        let crosses = self.crosses(old.instrument as usize, old.side, price);
        let new_party = self.party(idx);
        if crosses {
            sink.on_event(&MatchEvent::Replaced {
                instrument,
                old: old_party,
                new: new_party,
                side: old.side,
                price,
                qty,
                old_qty: Qty::from_raw(old.open),
                kept_priority: false,
                was_on_book: old.on_book,
                booked_whole: false,
                queue_ahead: Qty::ZERO,
                ts,
            });
            return ReplaceOutcome::Replaced(self.work_incoming(idx, TimeInForce::Day, ts, sink));
        }
        let ahead = self.link(idx);
        sink.on_event(&MatchEvent::Replaced {
            instrument,
            old: old_party,
            new: new_party,
            side: old.side,
            price,
            qty,
            old_qty: Qty::from_raw(old.open),
            kept_priority: false,
            was_on_book: old.on_book,
            booked_whole: true,
            queue_ahead: Qty::from_raw(ahead),
            ts,
        });
        ReplaceOutcome::Replaced(Some(new_party.handle))
    }

    /// Whether an order on `side` at `price` would trade with the best order opposite.
    fn crosses(&self, instrument: usize, side: Side, price: Price) -> bool {
        let contra = side.opposite();
        self.books[instrument].sides[contra.index()]
            .ladder
            .best()
            .is_some_and(|r| {
                let best = self.levels[r.level as usize].price;
                match side {
                    Side::Buy => best <= price,
                    Side::Sell => best >= price,
                }
            })
    }

    // ---- reading the book --------------------------------------------------------------------

    /// The best level of one side.
    pub fn best(&self, instrument: InstrumentId, side: Side) -> Option<LevelView> {
        let book = self.books.get(instrument.index())?;
        book.sides[side.index()].ladder.best().map(|r| {
            let l = &self.levels[r.level as usize];
            LevelView {
                price: l.price,
                qty: Qty::from_raw(l.total),
            }
        })
    }

    /// Levels of one side, best first.
    pub fn levels(
        &self,
        instrument: InstrumentId,
        side: Side,
    ) -> impl Iterator<Item = LevelView> + '_ {
        self.books
            .get(instrument.index())
            .into_iter()
            .flat_map(move |b| b.sides[side.index()].ladder.iter_best_first())
            .map(|r| {
                let l = &self.levels[r.level as usize];
                LevelView {
                    price: l.price,
                    qty: Qty::from_raw(l.total),
                }
            })
    }

    /// The top [`TOP_LEVELS`] levels of each side into `out` (no allocation).
    pub fn fill_top(&self, instrument: InstrumentId, out: &mut BookTop) {
        out.bid_levels = 0;
        out.ask_levels = 0;
        let Some(book) = self.books.get(instrument.index()) else {
            return;
        };
        for side in [Side::Buy, Side::Sell] {
            let (slots, count) = match side {
                Side::Buy => (&mut out.bids, &mut out.bid_levels),
                Side::Sell => (&mut out.asks, &mut out.ask_levels),
            };
            for (slot, r) in slots
                .iter_mut()
                .zip(book.sides[side.index()].ladder.iter_best_first())
                .take(TOP_LEVELS)
            {
                let l = &self.levels[r.level as usize];
                *slot = LevelView {
                    price: l.price,
                    qty: Qty::from_raw(l.total),
                };
                *count += 1;
            }
        }
    }

    /// Orders at one level, front first: `(order_ref, owner, open)`.
    pub fn level_orders(
        &self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
    ) -> Vec<(u64, Owner, Qty)> {
        let mut out = Vec::new();
        let Some(book) = self.books.get(instrument.index()) else {
            return out;
        };
        let ladder = &book.sides[side.index()].ladder;
        let Ok(i) = ladder.locate(side_key(side, price)) else {
            return out;
        };
        let Some(r) = ladder.get(i) else {
            return out;
        };
        let mut cur = self.levels[r.level as usize].head;
        while cur != NIL {
            let o = &self.orders[cur as usize];
            out.push((o.order_ref, o.owner, Qty::from_raw(o.open)));
            cur = o.next;
        }
        out
    }

    /// Open quantity and price of a live participant order.
    pub fn order(&self, handle: OrderHandle) -> Option<(Price, Qty)> {
        self.resolve(handle).map(|i| {
            let o = &self.orders[i as usize];
            (o.price, Qty::from_raw(o.open))
        })
    }

    /// Orders resting on every book.
    pub fn resting_orders(&self) -> usize {
        self.orders.iter().filter(|o| o.on_book).count()
    }

    /// A stable fingerprint of one book: every level best first per side, and each level's
    /// orders front first (reference number, owner kind, open quantity).
    pub fn book_hash(&self, instrument: InstrumentId) -> u64 {
        let mut h = StableHasher::new();
        let Some(book) = self.books.get(instrument.index()) else {
            return h.finish();
        };
        for side in [Side::Buy, Side::Sell] {
            for r in book.sides[side.index()].ladder.iter_best_first() {
                let l = &self.levels[r.level as usize];
                h.write_i64(l.price.raw());
                h.write_i64(l.total);
                let mut cur = l.head;
                while cur != NIL {
                    let o = &self.orders[cur as usize];
                    h.write_u64(o.order_ref);
                    h.write_u64(u64::from(o.owner.is_participant()));
                    h.write_i64(o.open);
                    cur = o.next;
                }
            }
            h.write_u64(u64::MAX);
        }
        h.finish()
    }
}
