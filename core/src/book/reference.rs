//! A deliberately naive L3 book with the same semantics as [`L3Books`](super::L3Books):
//! `BTreeMap` price levels, a `HashMap` of orders and a `VecDeque` FIFO per level. Written for
//! clarity, not speed: the property tests compare the fast book against it after every event,
//! and the benchmarks use it as the baseline.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::event::{BookEventKind, MarketEvent, TradingStatus};
use crate::fixed::{Price, Qty};
use crate::ids::{InstrumentId, OrderId};
use crate::side::Side;
use crate::top::{BookTop, LevelView, TOP_LEVELS, TradeKind, TradePrint};

use super::config::BookConfig;
use super::error::{BookError, BookKind};
use super::hash::l3_fingerprint;
use super::outcome::{Applied, OrderView};
use super::stats::BookStats;
use super::status::InstrumentStatus;

#[derive(Clone, Debug, Default)]
struct RefLevel {
    qty: Qty,
    queue: VecDeque<OrderId>,
}

#[derive(Clone, Debug)]
struct RefBook {
    bids: BTreeMap<Price, RefLevel>,
    asks: BTreeMap<Price, RefLevel>,
    status: InstrumentStatus,
    crossed: bool,
}

impl RefBook {
    fn new(market_halt: Option<u8>) -> Self {
        Self {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            status: InstrumentStatus::after_market_halt(market_halt),
            crossed: false,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<Price, RefLevel> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn best(&self, side: Side) -> Option<(Price, Qty)> {
        match side {
            Side::Buy => self.bids.iter().next_back(),
            Side::Sell => self.asks.iter().next(),
        }
        .map(|(p, l)| (*p, l.qty))
    }

    fn tops(&self) -> [Option<(Price, Qty)>; 2] {
        [self.best(Side::Buy), self.best(Side::Sell)]
    }

    fn crossed_now(&self) -> bool {
        matches!((self.best(Side::Buy), self.best(Side::Sell)), (Some(b), Some(a)) if b.0 >= a.0)
    }
}

#[derive(Clone, Copy, Debug)]
struct RefOrder {
    instrument: InstrumentId,
    side: Side,
    price: Price,
    qty: Qty,
}

/// The naive reference L3 book. Same `apply` outcomes, views and counters (apart from the
/// capacity-growth counters) as [`L3Books`](super::L3Books).
#[derive(Clone, Debug)]
pub struct ReferenceBook {
    books: Vec<RefBook>,
    orders: HashMap<OrderId, RefOrder>,
    market_halt: Option<u8>,
    stats: BookStats,
}

impl ReferenceBook {
    /// Books for `config.instruments` instruments.
    pub fn new(config: BookConfig) -> Self {
        Self {
            books: (0..config.instruments)
                .map(|_| RefBook::new(None))
                .collect(),
            orders: HashMap::with_capacity(config.order_capacity),
            market_halt: None,
            stats: BookStats::default(),
        }
    }

    /// Makes sure `id` has a book.
    pub fn ensure_instrument(&mut self, id: InstrumentId) {
        while self.books.len() <= id.index() {
            self.books.push(RefBook::new(self.market_halt));
        }
    }

    /// Applies one event with the same semantics as [`L3Books::apply`](super::L3Books::apply).
    pub fn apply(&mut self, ev: &MarketEvent) -> Result<Applied, BookError> {
        self.stats.events += 1;
        let instrument = ev.instrument;
        if let BookEventKind::MarketWideHalt { level } = ev.kind {
            self.market_halt = Some(level);
            for b in &mut self.books {
                b.status.set_market_halt(level);
            }
            self.stats.status_changes += 1;
            return Ok(Applied {
                instrument,
                side: None,
                price: None,
                top_changed: false,
                trade: None,
                error: None,
            });
        }
        let Some(book) = self.books.get(instrument.index()) else {
            self.stats.unknown_instruments += 1;
            return Err(BookError::UnknownInstrument {
                instrument,
                configured: self.books.len(),
            });
        };
        let before = book.tops();
        let result = self.apply_kind(instrument, ev.kind);
        let book = &mut self.books[instrument.index()];
        let crossed = book.crossed_now();
        if crossed && !book.crossed {
            self.stats.crossed_events += 1;
        }
        book.crossed = crossed;
        let top_changed = before != book.tops();
        result.map(|applied| Applied {
            top_changed,
            ..applied
        })
    }

    fn apply_kind(
        &mut self,
        instrument: InstrumentId,
        kind: BookEventKind,
    ) -> Result<Applied, BookError> {
        let quiet = Applied {
            instrument,
            side: None,
            price: None,
            top_changed: false,
            trade: None,
            error: None,
        };
        match kind {
            BookEventKind::Add {
                order_id,
                side,
                price,
                qty,
            } => {
                self.check_qty(instrument, Some(order_id), qty)?;
                if self.orders.contains_key(&order_id) {
                    self.stats.duplicate_orders += 1;
                    return Err(BookError::DuplicateOrder { order_id });
                }
                self.insert(instrument, order_id, side, price, qty)?;
                self.stats.adds += 1;
                Ok(Applied {
                    side: Some(side),
                    price: Some(price),
                    ..quiet
                })
            }
            BookEventKind::Execute {
                order_id,
                qty,
                match_number,
            } => self.execute(instrument, order_id, qty, Some((None, match_number))),
            BookEventKind::ExecuteAtPrice {
                order_id,
                qty,
                price,
                match_number,
            } => self.execute(instrument, order_id, qty, Some((Some(price), match_number))),
            BookEventKind::ExecuteNonPrintable { order_id, qty, .. } => {
                self.execute(instrument, order_id, qty, None)
            }
            BookEventKind::Cancel { order_id, qty } => {
                self.check_qty(instrument, Some(order_id), qty)?;
                let order = self.lookup(instrument, order_id)?;
                self.stats.cancels += 1;
                if qty > order.qty {
                    self.stats.excess_cancels += 1;
                }
                self.take(order_id, qty.min(order.qty));
                Ok(Applied {
                    side: Some(order.side),
                    price: Some(order.price),
                    ..quiet
                })
            }
            BookEventKind::Delete { order_id } => {
                let order = self.lookup(instrument, order_id)?;
                self.stats.deletes += 1;
                self.take(order_id, order.qty);
                Ok(Applied {
                    side: Some(order.side),
                    price: Some(order.price),
                    ..quiet
                })
            }
            BookEventKind::Replace {
                old_order_id,
                new_order_id,
                price,
                qty,
            } => {
                self.check_qty(instrument, Some(old_order_id), qty)?;
                let old = self.lookup(instrument, old_order_id)?;
                self.stats.replaces += 1;
                // The old order goes whatever happens to the new one.
                self.take(old_order_id, old.qty);
                let error = if self.orders.contains_key(&new_order_id) {
                    self.stats.duplicate_orders += 1;
                    Some(BookError::DuplicateOrder {
                        order_id: new_order_id,
                    })
                } else {
                    self.insert(instrument, new_order_id, old.side, price, qty)
                        .err()
                };
                Ok(Applied {
                    side: Some(old.side),
                    price: Some(price),
                    error,
                    ..quiet
                })
            }
            BookEventKind::Trade {
                side,
                kind,
                price,
                qty,
                match_number,
            } => {
                self.check_qty(instrument, None, qty)?;
                self.stats.trades += 1;
                Ok(Applied {
                    side,
                    price: Some(price),
                    trade: Some(TradePrint {
                        price,
                        qty,
                        match_number,
                        aggressor: match side {
                            Some(Side::Sell) => 1,
                            Some(Side::Buy) => -1,
                            None => 0,
                        },
                        kind,
                    }),
                    ..quiet
                })
            }
            BookEventKind::Break { match_number } => {
                self.stats.breaks += 1;
                Ok(Applied {
                    trade: Some(TradePrint {
                        match_number,
                        kind: TradeKind::Break,
                        ..TradePrint::default()
                    }),
                    ..quiet
                })
            }
            BookEventKind::Level { .. } => {
                self.stats.wrong_book_type += 1;
                Err(BookError::WrongBookType {
                    instrument,
                    book: BookKind::L3,
                })
            }
            BookEventKind::Clear => {
                self.orders.retain(|_, o| o.instrument != instrument);
                let book = &mut self.books[instrument.index()];
                book.bids.clear();
                book.asks.clear();
                self.stats.clears += 1;
                Ok(quiet)
            }
            BookEventKind::Status(status) => {
                self.books[instrument.index()].status.set_regulatory(status);
                self.stats.status_changes += 1;
                Ok(quiet)
            }
            BookEventKind::OperationalHalt { halted } => {
                self.books[instrument.index()]
                    .status
                    .set_operational_halt(halted);
                self.stats.status_changes += 1;
                Ok(quiet)
            }
            BookEventKind::MarketWideHalt { .. } => Ok(quiet),
        }
    }

    fn check_qty(
        &mut self,
        instrument: InstrumentId,
        order_id: Option<OrderId>,
        qty: Qty,
    ) -> Result<(), BookError> {
        if qty > Qty::ZERO {
            return Ok(());
        }
        self.stats.invalid_qty += 1;
        Err(BookError::InvalidQty {
            instrument,
            order_id,
            qty,
        })
    }

    fn lookup(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
    ) -> Result<RefOrder, BookError> {
        let Some(order) = self.orders.get(&order_id).copied() else {
            self.stats.unknown_orders += 1;
            return Err(BookError::UnknownOrder { order_id });
        };
        if order.instrument != instrument {
            self.stats.instrument_mismatches += 1;
            return Err(BookError::InstrumentMismatch {
                order_id,
                instrument,
                resting: order.instrument,
            });
        }
        Ok(order)
    }

    fn insert(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<(), BookError> {
        let level = self.books[instrument.index()]
            .side_mut(side)
            .entry(price)
            .or_default();
        let Some(total) = level.qty.checked_add(qty) else {
            if level.queue.is_empty() {
                self.books[instrument.index()].side_mut(side).remove(&price);
            }
            self.stats.qty_overflows += 1;
            return Err(BookError::QtyOverflow { instrument });
        };
        level.qty = total;
        level.queue.push_back(order_id);
        self.orders.insert(
            order_id,
            RefOrder {
                instrument,
                side,
                price,
                qty,
            },
        );
        Ok(())
    }

    /// Removes `qty` from a live order; removes the order when nothing is left.
    fn take(&mut self, order_id: OrderId, qty: Qty) {
        let Some(order) = self.orders.get_mut(&order_id) else {
            return;
        };
        let left = order.qty.checked_sub(qty).unwrap_or(Qty::ZERO);
        order.qty = left;
        let order = *order;
        let side = self.books[order.instrument.index()].side_mut(order.side);
        if let Some(level) = side.get_mut(&order.price) {
            level.qty = level.qty.checked_sub(qty).unwrap_or(Qty::ZERO);
            if left <= Qty::ZERO {
                level.queue.retain(|id| *id != order_id);
                if level.queue.is_empty() {
                    side.remove(&order.price);
                }
            }
        }
        if left <= Qty::ZERO {
            self.orders.remove(&order_id);
        }
    }

    fn execute(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Qty,
        print: Option<(Option<Price>, u64)>,
    ) -> Result<Applied, BookError> {
        self.check_qty(instrument, Some(order_id), qty)?;
        let order = self.lookup(instrument, order_id)?;
        self.stats.executions += 1;
        let mut error = None;
        if qty > order.qty {
            self.take(order_id, order.qty);
            self.stats.excess_executions += 1;
            error = Some(BookError::ExcessQty {
                order_id,
                requested: qty,
                remaining: order.qty,
            });
        } else {
            self.take(order_id, qty);
        }
        if print.is_none() {
            self.stats.non_printable_executions += 1;
        }
        Ok(Applied {
            instrument,
            side: Some(order.side),
            price: Some(order.price),
            top_changed: false,
            trade: print.map(|(price, match_number)| TradePrint {
                price: price.unwrap_or(order.price),
                qty,
                match_number,
                aggressor: if order.side == Side::Sell { 1 } else { -1 },
                kind: TradeKind::Execution,
            }),
            error,
        })
    }

    /// Best bid level.
    pub fn best_bid(&self, id: InstrumentId) -> Option<LevelView> {
        let (price, qty) = self.books.get(id.index())?.best(Side::Buy)?;
        Some(LevelView { price, qty })
    }

    /// Best ask level.
    pub fn best_ask(&self, id: InstrumentId) -> Option<LevelView> {
        let (price, qty) = self.books.get(id.index())?.best(Side::Sell)?;
        Some(LevelView { price, qty })
    }

    /// All levels of one side, best first.
    pub fn levels(&self, id: InstrumentId, side: Side) -> Box<dyn Iterator<Item = LevelView> + '_> {
        let Some(book) = self.books.get(id.index()) else {
            return Box::new(core::iter::empty());
        };
        let view = |(price, level): (&Price, &RefLevel)| LevelView {
            price: *price,
            qty: level.qty,
        };
        match side {
            Side::Buy => Box::new(book.bids.iter().rev().map(view)),
            Side::Sell => Box::new(book.asks.iter().map(view)),
        }
    }

    /// The orders resting at one level, front of the queue first.
    pub fn level_orders(
        &self,
        id: InstrumentId,
        side: Side,
        price: Price,
    ) -> impl Iterator<Item = (OrderId, Qty)> + '_ {
        self.books
            .get(id.index())
            .and_then(|b| match side {
                Side::Buy => b.bids.get(&price),
                Side::Sell => b.asks.get(&price),
            })
            .into_iter()
            .flat_map(|level| level.queue.iter())
            .map(|order_id| {
                let qty = self.orders.get(order_id).map_or(Qty::ZERO, |o| o.qty);
                (*order_id, qty)
            })
    }

    /// A live order by venue id.
    pub fn order(&self, order_id: OrderId) -> Option<OrderView> {
        self.orders.get(&order_id).map(|o| OrderView {
            instrument: o.instrument,
            side: o.side,
            price: o.price,
            qty: o.qty,
        })
    }

    /// Writes the best levels of each side into `out`.
    pub fn fill_top(&self, id: InstrumentId, out: &mut BookTop) {
        *out = BookTop::default();
        for (i, level) in self.levels(id, Side::Buy).take(TOP_LEVELS).enumerate() {
            out.bids[i] = level;
            out.bid_levels += 1;
        }
        for (i, level) in self.levels(id, Side::Sell).take(TOP_LEVELS).enumerate() {
            out.asks[i] = level;
            out.ask_levels += 1;
        }
    }

    /// The same fingerprint as [`L3Books::book_hash`](super::L3Books::book_hash).
    pub fn book_hash(&self, id: InstrumentId) -> u64 {
        l3_fingerprint(
            |side| self.levels(id, side),
            |side, price| self.level_orders(id, side, price),
        )
    }

    /// The instrument's effective status.
    pub fn status(&self, id: InstrumentId) -> TradingStatus {
        self.books
            .get(id.index())
            .map_or(TradingStatus::Trading, |b| b.status.effective())
    }

    /// Whether the best bid is at or above the best ask.
    pub fn is_crossed(&self, id: InstrumentId) -> bool {
        self.books.get(id.index()).is_some_and(RefBook::crossed_now)
    }

    /// Number of instruments with a book.
    pub fn instruments(&self) -> usize {
        self.books.len()
    }

    /// Live orders across all instruments.
    pub fn live_orders(&self) -> usize {
        self.orders.len()
    }

    /// Counters (the capacity-growth counters stay zero).
    pub fn stats(&self) -> BookStats {
        self.stats
    }
}
