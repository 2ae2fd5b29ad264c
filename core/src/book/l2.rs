//! Price-level (L2) books for venues that publish levels only (Binance depth, MBP feeds).
//!
//! Each side is a price-indexed [`Ladder`] of total quantities (a window of per-tick slots and
//! sorted outliers, see its module) on a two-level summary ([`TwoLevel`]: up to 262,144 ticks,
//! so a venue's REST snapshot of thousands of levels has no outlier); a level update sets a
//! level's quantity (zero removes it).
//! Sized at start; no allocation per event unless a side's window or outliers must grow past
//! what `levels_per_side` sized (counted).

use crate::event::{BookEventKind, MarketEvent, TradingStatus};
use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::side::Side;
use crate::top::{BookTop, LevelView};

use super::config::BookConfig;
use super::error::{BookError, BookKind};
use super::hash::StableHasher;
use super::ladder::{Ladder, TwoLevel, key_price, side_key};
use super::outcome::Applied;
use super::stats::BookStats;
use super::status::InstrumentStatus;

/// One instrument's two sides and status.
#[derive(Clone, Debug)]
struct L2Book {
    /// `[bids, asks]`, each holding the level quantities, on a window of up to 262,144 ticks
    /// (a venue's whole REST snapshot: no level of it is an outlier).
    sides: [Ladder<Qty, TwoLevel>; 2],
    status: InstrumentStatus,
    crossed: bool,
}

impl L2Book {
    fn new(levels_per_side: usize, status: InstrumentStatus) -> Self {
        Self {
            sides: [
                Ladder::new(Side::Buy, levels_per_side),
                Ladder::new(Side::Sell, levels_per_side),
            ],
            status,
            crossed: false,
        }
    }

    /// Whether the best bid is at or above the best ask.
    #[inline]
    fn is_crossed(&self) -> bool {
        let [bids, asks] = &self.sides;
        match (bids.best(), asks.best()) {
            (Some(bid), Some(ask)) => {
                key_price(Side::Buy, bid.key) >= key_price(Side::Sell, ask.key)
            }
            _ => false,
        }
    }
}

/// Price-level books, one per dense [`InstrumentId`].
#[derive(Clone, Debug)]
pub struct L2Books {
    books: Vec<L2Book>,
    levels_per_side: usize,
    /// The last market-wide circuit breaker, for books created after it.
    market_halt: Option<u8>,
    stats: BookStats,
}

impl L2Books {
    /// Books for `config.instruments` instruments (`order_capacity` is not used).
    pub fn new(config: BookConfig) -> Self {
        Self {
            books: (0..config.instruments)
                .map(|_| L2Book::new(config.levels_per_side, InstrumentStatus::default()))
                .collect(),
            levels_per_side: config.levels_per_side,
            market_halt: None,
            stats: BookStats::default(),
        }
    }

    /// Makes sure `id` has a book (allocates; counted). Call off the hot path.
    pub fn ensure_instrument(&mut self, id: InstrumentId) {
        let wanted = id.index().saturating_add(1);
        if wanted > self.books.len() {
            let per_side = self.levels_per_side;
            let status = InstrumentStatus::after_market_halt(self.market_halt);
            self.books
                .resize_with(wanted, || L2Book::new(per_side, status));
            self.stats.instrument_growths += 1;
        }
    }

    /// Fixes the price grid of `id`'s book to the venue's tick (e.g. Binance's `tickSize`), so
    /// that its ladders are on the exact grid from the first level instead of learning it. A
    /// price off that grid is still held (as an outlier). Ignored for an unknown instrument or
    /// a tick that is not positive (the grid stays learned). Call before the levels arrive.
    pub fn set_tick(&mut self, id: InstrumentId, tick: Price) {
        if let Some(b) = self.books.get_mut(id.index()) {
            b.sides
                .iter_mut()
                .for_each(|ladder| ladder.set_venue_tick(tick.raw()));
        }
    }

    /// Applies one event: `Level` (quantity zero removes the level), `Clear`, `Trade` and
    /// `Status`. Order events are rejected with [`BookError::WrongBookType`].
    pub fn apply(&mut self, ev: &MarketEvent) -> Result<Applied, BookError> {
        self.stats.events += 1;
        let instrument = ev.instrument;
        let book = instrument.index();
        if let BookEventKind::MarketWideHalt { level } = ev.kind {
            self.market_halt = Some(level);
            for b in &mut self.books {
                b.status.set_market_halt(level);
            }
            self.stats.status_changes += 1;
            return Ok(Applied::quiet(instrument));
        }
        if book >= self.books.len() {
            self.stats.unknown_instruments += 1;
            return Err(BookError::UnknownInstrument {
                instrument,
                configured: self.books.len(),
            });
        }
        match ev.kind {
            BookEventKind::Level { side, price, qty } => {
                let top_changed = self.checked_set_level(instrument, side, price, qty)?;
                Ok(Applied {
                    instrument,
                    side: Some(side),
                    price: Some(price),
                    top_changed,
                    trade: None,
                    error: None,
                })
            }
            BookEventKind::Trade {
                side,
                kind,
                price,
                qty,
                match_number,
            } => {
                if !qty.is_positive() {
                    self.stats.invalid_qty += 1;
                    return Err(BookError::InvalidQty {
                        instrument,
                        order_id: None,
                        qty,
                    });
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
            BookEventKind::Clear => {
                let before = self.tops(book);
                if let Some(b) = self.books.get_mut(book) {
                    b.sides.iter_mut().for_each(Ladder::clear);
                    b.crossed = false;
                }
                self.stats.clears += 1;
                Ok(Applied {
                    top_changed: before != self.tops(book),
                    ..Applied::quiet(instrument)
                })
            }
            BookEventKind::Status(status) => {
                if let Some(b) = self.books.get_mut(book) {
                    b.status.set_regulatory(status);
                }
                self.stats.status_changes += 1;
                Ok(Applied::quiet(instrument))
            }
            BookEventKind::OperationalHalt { halted } => {
                if let Some(b) = self.books.get_mut(book) {
                    b.status.set_operational_halt(halted);
                }
                self.stats.status_changes += 1;
                Ok(Applied::quiet(instrument))
            }
            // Handled before the instrument check.
            BookEventKind::MarketWideHalt { .. } => Ok(Applied::quiet(instrument)),
            BookEventKind::Add { .. }
            | BookEventKind::Execute { .. }
            | BookEventKind::ExecuteAtPrice { .. }
            | BookEventKind::ExecuteNonPrintable { .. }
            | BookEventKind::Cancel { .. }
            | BookEventKind::Delete { .. }
            | BookEventKind::Replace { .. } => {
                self.stats.wrong_book_type += 1;
                Err(BookError::WrongBookType {
                    instrument,
                    book: BookKind::L2,
                })
            }
        }
    }

    /// One level update (quantity zero removes the level): what [`Self::apply`] does with a
    /// `Level` event (the same counters, errors and book), without building the event and the
    /// outcome; returns whether the top of book changed. The entry point for a feed that
    /// decodes levels itself (Binance).
    #[inline]
    pub fn apply_level(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<bool, BookError> {
        self.stats.events += 1;
        if instrument.index() >= self.books.len() {
            self.stats.unknown_instruments += 1;
            return Err(BookError::UnknownInstrument {
                instrument,
                configured: self.books.len(),
            });
        }
        self.checked_set_level(instrument, side, price, qty)
    }

    /// A level update of a known instrument: a negative quantity is counted and rejected,
    /// anything else set. Returns whether the top of book changed.
    #[inline]
    fn checked_set_level(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<bool, BookError> {
        if qty.raw() < 0 {
            self.stats.invalid_qty += 1;
            return Err(BookError::InvalidQty {
                instrument,
                order_id: None,
                qty,
            });
        }
        Ok(self.set_level(instrument, side, price, qty))
    }

    /// Sets one level of a known instrument's book; returns whether its top changed.
    #[inline(always)]
    fn set_level(&mut self, instrument: InstrumentId, side: Side, price: Price, qty: Qty) -> bool {
        self.stats.level_updates += 1;
        let Some(b) = self.books.get_mut(instrument.index()) else {
            return false;
        };
        let ladder = &mut b.sides[side.index()];
        // Only this side changes: its best before and after says whether the top changed.
        let before = ladder.best();
        let key = side_key(side, price);
        if qty.is_zero() {
            if !ladder.remove(key) {
                self.stats.absent_level_removals += 1;
            }
        } else if !ladder.set(key, qty) && ladder.insert(key, qty) {
            self.stats.level_growths += 1;
        }
        let top_changed = before != ladder.best();
        if top_changed {
            let crossed = b.is_crossed();
            if crossed && !b.crossed {
                self.stats.crossed_events += 1;
            }
            b.crossed = crossed;
        }
        top_changed
    }

    fn tops(&self, book: usize) -> [Option<(i64, Qty)>; 2] {
        let top = |side: Side| {
            self.books
                .get(book)
                .and_then(|b| b.sides[side.index()].best())
                .map(|r| (r.key, r.val))
        };
        [top(Side::Buy), top(Side::Sell)]
    }

    fn best(&self, id: InstrumentId, side: Side) -> Option<LevelView> {
        let rung = self.books.get(id.index())?.sides[side.index()].best()?;
        Some(LevelView {
            price: key_price(side, rung.key),
            qty: rung.val,
        })
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
            .map(move |r| LevelView {
                price: key_price(side, r.key),
                qty: r.val,
            })
    }

    /// The quantity at one level.
    pub fn level_qty(&self, id: InstrumentId, side: Side, price: Price) -> Option<Qty> {
        self.books.get(id.index())?.sides[side.index()].get(side_key(side, price))
    }

    /// Writes the best levels of each side into `out`.
    pub fn fill_top(&self, id: InstrumentId, out: &mut BookTop) {
        let Some(book) = self.books.get(id.index()) else {
            out.bid_levels = 0;
            out.ask_levels = 0;
            return;
        };
        let view = |side: Side| {
            move |key, qty| LevelView {
                price: key_price(side, key),
                qty,
            }
        };
        out.bid_levels =
            book.sides[Side::Buy.index()].fill_best(&mut out.bids, view(Side::Buy)) as u8;
        out.ask_levels =
            book.sides[Side::Sell.index()].fill_best(&mut out.asks, view(Side::Sell)) as u8;
    }

    /// A fingerprint of one instrument's levels, stable across runs and machines.
    pub fn book_hash(&self, id: InstrumentId) -> u64 {
        let mut h = StableHasher::new();
        for side in [Side::Buy, Side::Sell] {
            h.write_u64(side as u64);
            for level in self.levels(id, side) {
                h.write_i64(level.price.raw());
                h.write_i64(level.qty.raw());
            }
        }
        h.finish()
    }

    /// The instrument's effective status (see [`InstrumentStatus::effective`];
    /// [`TradingStatus::Trading`] until a status arrives).
    pub fn status(&self, id: InstrumentId) -> TradingStatus {
        self.books
            .get(id.index())
            .map_or(TradingStatus::Trading, |b| b.status.effective())
    }

    /// Whether the best bid is at or above the best ask.
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

    /// Counters.
    pub fn stats(&self) -> BookStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrderId;
    use crate::time::Timestamp;

    const I0: InstrumentId = InstrumentId(0);

    fn px(units: i64) -> Price {
        Price::from_units(units).unwrap()
    }
    fn q(units: i64) -> Qty {
        Qty::from_units(units).unwrap()
    }
    fn ev(kind: BookEventKind) -> MarketEvent {
        MarketEvent {
            instrument: I0,
            exch_ts: Timestamp(1),
            kind,
        }
    }
    fn level(side: Side, price: i64, qty: i64) -> MarketEvent {
        ev(BookEventKind::Level {
            side,
            price: px(price),
            qty: q(qty),
        })
    }
    fn lv(price: i64, qty: i64) -> LevelView {
        LevelView {
            price: px(price),
            qty: q(qty),
        }
    }

    #[test]
    fn levels_set_replace_and_remove() {
        let mut b = L2Books::new(BookConfig::default());
        assert!(b.apply(&level(Side::Buy, 100, 5)).unwrap().top_changed);
        assert!(!b.apply(&level(Side::Buy, 99, 5)).unwrap().top_changed);
        b.apply(&level(Side::Sell, 102, 1)).unwrap();
        b.apply(&level(Side::Sell, 101, 2)).unwrap();
        assert!(b.apply(&level(Side::Buy, 100, 7)).unwrap().top_changed);
        assert_eq!(
            b.levels(I0, Side::Buy).collect::<Vec<_>>(),
            [lv(100, 7), lv(99, 5)]
        );
        assert_eq!(
            b.levels(I0, Side::Sell).collect::<Vec<_>>(),
            [lv(101, 2), lv(102, 1)]
        );
        assert_eq!(b.level_qty(I0, Side::Sell, px(102)), Some(q(1)));
        assert!(b.apply(&level(Side::Buy, 100, 0)).unwrap().top_changed);
        assert_eq!(b.best_bid(I0), Some(lv(99, 5)));
        b.apply(&level(Side::Buy, 50, 0)).unwrap();
        let mut top = BookTop::default();
        b.fill_top(I0, &mut top);
        assert_eq!(top.side(Side::Sell), [lv(101, 2), lv(102, 1)]);
        let s = b.stats();
        assert_eq!((s.level_updates, s.absent_level_removals), (7, 1));
    }

    #[test]
    fn rejects_order_events_and_negative_qty() {
        let mut b = L2Books::new(BookConfig::default());
        assert_eq!(
            b.apply(&ev(BookEventKind::Delete {
                order_id: OrderId(1)
            })),
            Err(BookError::WrongBookType {
                instrument: I0,
                book: BookKind::L2
            })
        );
        assert!(matches!(
            b.apply(&level(Side::Buy, 1, -1)),
            Err(BookError::InvalidQty { .. })
        ));
        assert!(matches!(
            b.apply(&MarketEvent {
                instrument: InstrumentId(3),
                ..level(Side::Buy, 1, 1)
            }),
            Err(BookError::UnknownInstrument { .. })
        ));
        b.ensure_instrument(InstrumentId(3));
        assert!(
            b.apply(&MarketEvent {
                instrument: InstrumentId(3),
                ..level(Side::Buy, 1, 1)
            })
            .is_ok()
        );
        let s = b.stats();
        assert_eq!(
            (s.wrong_book_type, s.invalid_qty, s.unknown_instruments),
            (1, 1, 1)
        );
    }

    #[test]
    fn apply_level_is_the_level_event() {
        let mut by_event = L2Books::new(BookConfig::default());
        let mut direct = L2Books::new(BookConfig::default());
        let mut top_changes = 0;
        for i in 0..4_000i64 {
            let side = if i % 3 == 0 { Side::Sell } else { Side::Buy };
            // Prices around 100 on both sides (so the book crosses at times), some quantities
            // zero (removals, some of absent levels), negative, or for an unknown instrument.
            let price = Price::from_raw(100 * 100_000_000 + (i * 37 % 200 - 100) * 1_000_000);
            let qty = Qty::from_raw((i * 13 % 7 - 1) * 100_000_000);
            let instrument = InstrumentId(u32::from(i % 97 == 0));
            let e = MarketEvent {
                instrument,
                ..ev(BookEventKind::Level { side, price, qty })
            };
            let want = by_event.apply(&e).map(|a| a.top_changed);
            assert_eq!(direct.apply_level(instrument, side, price, qty), want);
            top_changes += usize::from(want == Ok(true));
            assert_eq!(direct.is_crossed(I0), by_event.is_crossed(I0));
        }
        assert!(top_changes > 20, "{top_changes}");
        assert_eq!(direct.stats(), by_event.stats());
        let s = direct.stats();
        assert!(s.crossed_events > 0 && s.invalid_qty > 0 && s.unknown_instruments > 0);
        assert!(s.absent_level_removals > 0);
        assert_eq!(direct.book_hash(I0), by_event.book_hash(I0));
    }

    #[test]
    fn a_venue_tick_keeps_the_same_levels() {
        let tick = Price::from_raw(1_000_000);
        let mut learned = L2Books::new(BookConfig::default());
        let mut fixed = L2Books::new(BookConfig::default());
        fixed.set_tick(I0, tick);
        fixed.set_tick(InstrumentId(9), tick);
        fixed.set_tick(I0, Price::from_raw(-1));
        let mut events = Vec::new();
        for i in 0..3_000i64 {
            let (side, base) = if i % 2 == 0 {
                (Side::Buy, 60_000)
            } else {
                (Side::Sell, 60_001)
            };
            let cents = if side == Side::Buy {
                -(i * 7 % 5_000)
            } else {
                i * 7 % 5_000
            };
            let price = Price::from_raw(base * 100_000_000 + cents * 1_000_000);
            events.push(ev(BookEventKind::Level {
                side,
                price,
                qty: q(i % 4),
            }));
        }
        // An off-grid price (half a cent) is still held.
        events.push(ev(BookEventKind::Level {
            side: Side::Buy,
            price: Price::from_raw(59_990 * 100_000_000 + 500_000),
            qty: q(3),
        }));
        for e in &events {
            assert_eq!(learned.apply(e), fixed.apply(e));
        }
        for side in [Side::Buy, Side::Sell] {
            let a: Vec<_> = learned.levels(I0, side).collect();
            assert_eq!(a, fixed.levels(I0, side).collect::<Vec<_>>());
            assert!(a.len() > 500);
        }
        assert_eq!(learned.book_hash(I0), fixed.book_hash(I0));
        assert_eq!(
            fixed.level_qty(
                I0,
                Side::Buy,
                Price::from_raw(59_990 * 100_000_000 + 500_000)
            ),
            Some(q(3))
        );
    }

    #[test]
    fn trade_status_clear_cross_and_hash() {
        let mut b = L2Books::new(BookConfig::default());
        let empty = b.book_hash(I0);
        b.apply(&level(Side::Buy, 100, 5)).unwrap();
        let one = b.book_hash(I0);
        assert_ne!(one, empty);
        b.apply(&level(Side::Sell, 100, 5)).unwrap();
        assert!(b.is_crossed(I0));
        assert_eq!(b.stats().crossed_events, 1);
        let t = b
            .apply(&ev(BookEventKind::Trade {
                kind: crate::top::TradeKind::Execution,
                match_number: 0,
                side: Some(Side::Buy),
                price: px(100),
                qty: q(1),
            }))
            .unwrap();
        assert_eq!(t.trade.map(|t| t.aggressor), Some(-1));
        b.apply(&ev(BookEventKind::Status(TradingStatus::Paused)))
            .unwrap();
        assert_eq!(b.status(I0), TradingStatus::Paused);
        assert!(b.apply(&ev(BookEventKind::Clear)).unwrap().top_changed);
        assert_eq!(b.book_hash(I0), empty);
        b.apply(&level(Side::Buy, 100, 5)).unwrap();
        assert_eq!(b.book_hash(I0), one);
    }
}
