//! The replayed market (background flow) and the L3 queue-position model: how recorded events
//! move and fill participant orders that sit in the same queues. See the module docs of
//! [`matching`](super).

use kestrel_core::{
    BookEventKind, InstrumentId, MarketEvent, OrderId, Price, Qty, Side, Timestamp, TradeKind,
    TradingStatus,
};

use super::book::{NIL, OrderSlot};
use super::engine::{Incoming, MatchingEngine};
use super::event::{MatchEvent, MatchSink};
use super::types::{CancelReason, Owner};

impl MatchingEngine {
    /// Applies one recorded market event (from a capture, through the ITCH normaliser).
    /// Level-only events (`Level`) have no order to queue behind and are ignored.
    pub fn apply_background<S: MatchSink + ?Sized>(&mut self, ev: &MarketEvent, sink: &mut S) {
        let ts = ev.exch_ts;
        match ev.kind {
            BookEventKind::Add {
                order_id,
                side,
                price,
                qty,
            } => self.bg_add(ev.instrument, order_id, side, price, qty, ts, sink),
            BookEventKind::Execute { order_id, qty, .. } => {
                self.bg_execute(order_id, qty, None, ts, sink);
            }
            // A non-printable execution (in a cross) changes the book like a printable one.
            BookEventKind::ExecuteAtPrice {
                order_id,
                qty,
                price,
                ..
            }
            | BookEventKind::ExecuteNonPrintable {
                order_id,
                qty,
                price,
                ..
            } => self.bg_execute(order_id, qty, Some(price), ts, sink),
            BookEventKind::Cancel { order_id, qty } => self.bg_cancel(order_id, qty, ts, sink),
            BookEventKind::Delete { order_id } => self.bg_delete(order_id, ts, sink),
            BookEventKind::Replace {
                old_order_id,
                new_order_id,
                price,
                qty,
            } => self.bg_replace(old_order_id, new_order_id, price, qty, ts, sink),
            BookEventKind::Trade {
                kind: TradeKind::Cross,
                price,
                qty,
                ..
            } => self.bg_cross(ev.instrument, price, qty, ts, sink),
            BookEventKind::Trade {
                side, price, qty, ..
            } => {
                self.bg_trade(ev.instrument, side, price, qty, ts, sink);
            }
            BookEventKind::Clear => self.bg_clear(ev.instrument, ts, sink),
            BookEventKind::Status(status) => self.bg_status(ev.instrument, status, ts, sink),
            BookEventKind::OperationalHalt { halted } => {
                let status = if halted {
                    TradingStatus::Halted
                } else {
                    TradingStatus::Trading
                };
                self.bg_status(ev.instrument, status, ts, sink);
            }
            // Breaks change no book; a market-wide halt names no instrument (each instrument's
            // own status message follows it).
            BookEventKind::Break { .. }
            | BookEventKind::MarketWideHalt { .. }
            | BookEventKind::Level { .. } => {}
        }
    }

    fn bg_slot(&mut self, order_id: OrderId) -> Option<u32> {
        self.stats.background_events += 1;
        let slot = self.background.get(&order_id.0).copied();
        if slot.is_none() {
            self.stats.background_unknown += 1;
        }
        slot
    }

    /// A recorded order joins the book. If it crosses participant orders (they improved on the
    /// recorded market), it trades with them first; the rest rests.
    #[allow(clippy::too_many_arguments)]
    pub fn bg_add<S: MatchSink + ?Sized>(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        ts: Timestamp,
        sink: &mut S,
    ) {
        self.stats.background_events += 1;
        let inst = instrument.index();
        if inst >= self.books.len() || qty.raw() <= 0 {
            self.stats.background_unknown += 1;
            return;
        }
        if self.background.contains_key(&order_id.0) {
            self.stats.background_duplicates += 1;
            return;
        }
        let idx = self.alloc_order(OrderSlot {
            order_ref: order_id.0,
            owner: Owner::Background,
            instrument: instrument.0,
            side,
            live: true,
            price,
            open: qty.raw(),
            ..OrderSlot::EMPTY
        });
        self.background.insert(order_id.0, idx);
        let mut left = qty.raw();
        if self.books[inst].sides[side.opposite().index()].participants > 0 {
            let incoming = Incoming {
                party: self.party(idx),
                side,
                limit: price,
                participants_only: true,
            };
            self.match_incoming(inst, &incoming, &mut left, ts, sink);
            self.orders[idx as usize].open = left;
            if left < qty.raw() {
                self.stats.background_clamped += 1;
            }
        }
        if left == 0 {
            self.free_order(idx);
            return;
        }
        let ahead = self.link(idx);
        sink.on_event(&MatchEvent::Booked {
            order: self.party(idx),
            instrument,
            side,
            price,
            qty: Qty::from_raw(left),
            queue_ahead: Qty::from_raw(ahead),
            ts,
        });
    }

    /// A recorded execution of `qty` against background order `order_id`. Participant orders
    /// with priority over it fill first out of a budget of `qty`; then it executes as recorded
    /// (cut to what it has left).
    pub fn bg_execute<S: MatchSink + ?Sized>(
        &mut self,
        order_id: OrderId,
        qty: Qty,
        price: Option<Price>,
        ts: Timestamp,
        sink: &mut S,
    ) {
        let Some(idx) = self.bg_slot(order_id) else {
            return;
        };
        let x = self.orders[idx as usize];
        let inst = x.instrument as usize;
        if self.books[inst].sides[x.side.index()].participants > 0 {
            self.fill_ahead(inst, x.side, x.price, Some(idx), qty.raw(), ts, sink);
        }
        let q = qty.raw().min(x.open);
        if q < qty.raw() {
            self.stats.background_clamped += 1;
        }
        if q <= 0 {
            return;
        }
        self.trade(idx, None, price.unwrap_or(x.price), q, 0, ts, sink);
    }

    /// The queue model: recorded flow that traded `budget` shares on `side` at `price` (against
    /// background order `until`, or against hidden liquidity when `until` is `None`) fills
    /// participant orders with priority over it, best price first and front of queue first.
    #[allow(clippy::too_many_arguments)]
    fn fill_ahead<S: MatchSink + ?Sized>(
        &mut self,
        inst: usize,
        side: Side,
        price: Price,
        until: Option<u32>,
        mut budget: i64,
        ts: Timestamp,
        sink: &mut S,
    ) {
        let mut index = self.books[inst].sides[side.index()].ladder.len();
        while budget > 0 && index > 0 {
            index -= 1;
            let Some(rung) = self.books[inst].sides[side.index()].ladder.get(index) else {
                break;
            };
            let level = rung.level as usize;
            let level_price = self.levels[level].price;
            let at_least_as_good = match side {
                Side::Buy => level_price >= price,
                Side::Sell => level_price <= price,
            };
            if !at_least_as_good {
                break;
            }
            if self.levels[level].participants == 0 {
                continue;
            }
            let mut cur = self.levels[level].head;
            while cur != NIL && budget > 0 {
                if Some(cur) == until {
                    return;
                }
                let o = self.orders[cur as usize];
                let next = o.next;
                if o.owner.is_participant() {
                    let q = budget.min(o.open);
                    budget -= q;
                    self.stats.queue_model_fills += 1;
                    self.trade(cur, None, o.price, q, 0, ts, sink);
                }
                cur = next;
            }
        }
    }

    /// A recorded partial cancel of `qty` shares.
    pub fn bg_cancel<S: MatchSink + ?Sized>(
        &mut self,
        order_id: OrderId,
        qty: Qty,
        ts: Timestamp,
        sink: &mut S,
    ) {
        let Some(idx) = self.bg_slot(order_id) else {
            return;
        };
        let open = self.orders[idx as usize].open;
        if qty.raw() > open {
            self.stats.background_clamped += 1;
        }
        let new_open = (open - qty.raw()).max(0);
        self.cancel_slot(idx, new_open, CancelReason::Market, ts, sink);
    }

    /// A recorded delete.
    pub fn bg_delete<S: MatchSink + ?Sized>(
        &mut self,
        order_id: OrderId,
        ts: Timestamp,
        sink: &mut S,
    ) {
        if let Some(idx) = self.bg_slot(order_id) {
            self.cancel_slot(idx, 0, CancelReason::Market, ts, sink);
        }
    }

    /// A recorded replace: the old order leaves, the new one joins the back of its level (and
    /// may cross participant orders).
    #[allow(clippy::too_many_arguments)]
    pub fn bg_replace<S: MatchSink + ?Sized>(
        &mut self,
        old: OrderId,
        new: OrderId,
        price: Price,
        qty: Qty,
        ts: Timestamp,
        sink: &mut S,
    ) {
        let Some(idx) = self.bg_slot(old) else {
            return;
        };
        let o = self.orders[idx as usize];
        self.cancel_slot(idx, 0, CancelReason::Market, ts, sink);
        self.bg_add(
            InstrumentId(o.instrument),
            new,
            o.side,
            price,
            qty,
            ts,
            sink,
        );
        // bg_add counted the event again.
        self.stats.background_events -= 1;
    }

    /// A recorded trade against hidden liquidity. With its side known, participant orders on
    /// that side priced at least as well would have been hit first.
    pub fn bg_trade<S: MatchSink + ?Sized>(
        &mut self,
        instrument: InstrumentId,
        side: Option<Side>,
        price: Price,
        qty: Qty,
        ts: Timestamp,
        sink: &mut S,
    ) {
        self.stats.background_events += 1;
        let inst = instrument.index();
        if inst >= self.books.len() {
            self.stats.background_unknown += 1;
            return;
        }
        if let Some(side) = side
            && self.books[inst].sides[side.index()].participants > 0
        {
            self.fill_ahead(inst, side, price, None, qty.raw(), ts, sink);
        }
        sink.on_event(&MatchEvent::MarketTrade {
            instrument,
            side,
            cross: false,
            price,
            qty,
            ts,
        });
    }

    /// An auction cross of the recorded market: printed as such, the book untouched (its
    /// executions came as non-printable executions).
    pub fn bg_cross<S: MatchSink + ?Sized>(
        &mut self,
        instrument: InstrumentId,
        price: Price,
        qty: Qty,
        ts: Timestamp,
        sink: &mut S,
    ) {
        self.stats.background_events += 1;
        if instrument.index() >= self.books.len() {
            self.stats.background_unknown += 1;
            return;
        }
        sink.on_event(&MatchEvent::MarketTrade {
            instrument,
            side: None,
            cross: true,
            price,
            qty,
            ts,
        });
    }

    /// The recorded market cleared the book: every background order of the instrument leaves.
    pub fn bg_clear<S: MatchSink + ?Sized>(
        &mut self,
        instrument: InstrumentId,
        ts: Timestamp,
        sink: &mut S,
    ) {
        self.stats.background_events += 1;
        for idx in 0..self.orders.len() {
            let o = self.orders[idx];
            if o.live && o.owner == Owner::Background && o.instrument == instrument.0 {
                self.cancel_slot(idx as u32, 0, CancelReason::Market, ts, sink);
            }
        }
    }

    /// The instrument's trading status changed. Participant orders stay; new ones are refused
    /// while halted or paused.
    pub fn bg_status<S: MatchSink + ?Sized>(
        &mut self,
        instrument: InstrumentId,
        status: TradingStatus,
        ts: Timestamp,
        sink: &mut S,
    ) {
        self.stats.background_events += 1;
        let Some(book) = self.books.get_mut(instrument.index()) else {
            self.stats.background_unknown += 1;
            return;
        };
        book.status = status;
        sink.on_event(&MatchEvent::Status {
            instrument,
            status,
            ts,
        });
    }
}
