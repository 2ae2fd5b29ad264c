//! Decoded ITCH messages -> normalised [`MarketEvent`]s for the order books.
//!
//! Locate codes become dense [`InstrumentId`]s through a 65,536-entry table filled by `R`
//! (Stock Directory) messages; symbols get their ids from an [`InstrumentTable`] that can be
//! preloaded, so known symbols keep their ids across sessions. Everything after warm-up is a
//! table load and a few shifts: no allocation per message (only the first message of a new
//! instrument allocates its table entry).
//!
//! Exchange semantics (NASDAQ TotalView-ITCH 5.0):
//! - `E` and `C` marked printable are prints; a `C` marked non-printable (an execution in a
//!   cross) changes the book but is not a print: the cross's `Q` prints its whole volume once.
//! - `Q` is a print that does not touch the book; `P` (a non-displayed execution) too, with
//!   the aggressor unknown: its side byte has been `B` on every `P` since 2014.
//! - `B` breaks the print with its match number; it reaches the strategy as a correction.
//! - `H` (regulatory), `h` (operational halt) and `W` (market-wide circuit breaker) all reach the
//!   book's status.
//! - New instruments follow the US equity tick rule ([`kestrel_core::TickRule::UsEquity`]).

use kestrel_core::{
    BookEventKind, InstrumentId, InstrumentTable, MARKET_WIDE, MarketEvent, OrderId, Price, Qty,
    Timestamp, TradeKind, TradingStatus,
};

use super::decode;
use super::encode::stock_field;
use super::error::ItchError;
use super::messages::{Message, StockDirectory};
use super::msg_type::{MESSAGE_TYPE_COUNT, MessageType};

/// Number of distinct stock locate codes.
pub const LOCATE_CODES: usize = 1 << 16;

/// Locate table entry: no `R` message and no placeholder yet.
const UNMAPPED: u32 = u32::MAX;
/// Locate table entry: the instrument is outside the symbol filter.
const FILTERED: u32 = u32::MAX - 1;

/// Decimals of ITCH `Price(4)` fields.
pub const PRICE_DECIMALS: u32 = 4;

/// Counters kept by an [`ItchNormalizer`]. `Copy`, so a snapshot costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormalizerStats {
    /// Messages seen.
    pub messages: u64,
    /// Messages seen per type, indexed by [`MessageType::index`].
    pub per_type: [u64; MESSAGE_TYPE_COUNT],
    /// Book events produced.
    pub events: u64,
    /// Instruments added to the table by `R` messages.
    pub instruments_registered: u64,
    /// Placeholder instruments registered for locates seen before (or without) an `R`.
    pub placeholders: u64,
    /// Messages dropped because their instrument is outside the symbol filter.
    pub filtered: u64,
    /// `R` messages whose locate was already bound to another instrument.
    pub locate_rebound: u64,
    /// Add or trade messages with a side byte other than `B`/`S`.
    pub bad_side: u64,
    /// `H` messages with an unknown trading state, `h` messages with an unknown action and `W`
    /// messages with an unknown level.
    pub bad_trading_state: u64,
    /// `C` messages marked non-printable (book executions that are not prints).
    pub non_printable: u64,
    /// `C` messages whose printable flag is neither `Y` nor `N` (taken as printable).
    pub bad_printable: u64,
    /// `R` messages whose symbol is empty or not ASCII, or that the table refused.
    pub bad_symbol: u64,
    /// Share counts too large for a [`Qty`].
    pub qty_overflow: u64,
    /// Byte strings given to [`ItchNormalizer::normalize_bytes`] that did not decode.
    pub decode_errors: u64,
}

impl NormalizerStats {
    /// Messages seen of type `t`.
    pub fn count(&self, t: MessageType) -> u64 {
        self.per_type.get(t.index()).copied().unwrap_or(0)
    }

    /// Messages that were malformed in content (sum of the anomaly counters).
    pub fn anomalies(&self) -> u64 {
        self.bad_side
            + self.bad_trading_state
            + self.bad_printable
            + self.bad_symbol
            + self.qty_overflow
            + self.decode_errors
    }
}

/// Turns decoded ITCH messages into [`MarketEvent`]s; see the module docs.
pub struct ItchNormalizer {
    instruments: InstrumentTable,
    /// Locate code -> instrument id, [`UNMAPPED`] or [`FILTERED`]: one entry per `u16`, so a
    /// look-up by locate needs no bounds check.
    locate_map: Box<[u32; LOCATE_CODES]>,
    /// Wanted symbols as space-padded `Alpha(8)` fields; `None` keeps everything.
    filter: Option<Vec<[u8; 8]>>,
    stats: NormalizerStats,
}

impl core::fmt::Debug for ItchNormalizer {
    /// A summary: the 65,536-entry locate table is left out.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let bound = self.locate_map.iter().filter(|&&e| e < FILTERED).count();
        f.debug_struct("ItchNormalizer")
            .field("instruments", &self.instruments.len())
            .field("bound_locates", &bound)
            .field("filter", &self.filter.as_ref().map(Vec::len))
            .field("stats", &self.stats())
            .finish()
    }
}

impl Default for ItchNormalizer {
    fn default() -> Self {
        Self::new()
    }
}

impl ItchNormalizer {
    /// A normaliser with an empty instrument table and no filter.
    pub fn new() -> Self {
        Self::with_instruments(InstrumentTable::new())
    }

    /// A normaliser starting from `instruments`: symbols already there keep their ids when
    /// their `R` message arrives.
    pub fn with_instruments(instruments: InstrumentTable) -> Self {
        Self {
            instruments,
            locate_map: locate_table(),
            filter: None,
            stats: NormalizerStats::default(),
        }
    }

    /// Keeps only instruments whose symbol is in `symbols`: other instruments get no id and
    /// their messages are dropped (counted in [`NormalizerStats::filtered`]); messages for
    /// locates with no `R` are dropped too instead of getting a placeholder. Symbols that are
    /// not valid ITCH symbols (longer than 8 bytes, not ASCII) can never match.
    pub fn with_symbol_filter<S: AsRef<str>>(
        mut self,
        symbols: impl IntoIterator<Item = S>,
    ) -> Self {
        let wanted = symbols
            .into_iter()
            .filter_map(|s| stock_field(s.as_ref()))
            .collect();
        self.filter = Some(wanted);
        self
    }

    /// The instrument table (grows as `R` messages and placeholders register instruments).
    pub fn instruments(&self) -> &InstrumentTable {
        &self.instruments
    }

    /// The instrument bound to a locate code, if any.
    pub fn instrument_for_locate(&self, locate: u16) -> Option<InstrumentId> {
        match self.locate_map.get(usize::from(locate)).copied() {
            Some(id) if id < FILTERED => Some(InstrumentId(id)),
            _ => None,
        }
    }

    /// The counters so far. `messages` is the sum of `per_type` (every message is counted
    /// once, by type; the total is summed here rather than kept per message).
    #[inline]
    pub fn stats(&self) -> NormalizerStats {
        NormalizerStats {
            messages: self.stats.per_type.iter().sum(),
            ..self.stats
        }
    }

    /// Decodes `bytes` (exactly one message) and normalises it. Decode errors are counted.
    pub fn normalize_bytes(&mut self, bytes: &[u8]) -> Result<Option<MarketEvent>, ItchError> {
        match decode(bytes) {
            Ok(msg) => Ok(self.normalize(&msg)),
            Err(e) => {
                self.stats.decode_errors += 1;
                Err(e)
            }
        }
    }

    /// The book event for one message, or `None` for messages that do not concern a book
    /// (`S`, `R`, `Y`, `L`, `V`, `K`, `J`, `I`, `N`, `O`), for messages outside the symbol
    /// filter, and for malformed content (counted in the stats).
    ///
    /// `A`/`F` -> Add, `E` -> Execute, `C` -> ExecuteAtPrice (printable) or ExecuteNonPrintable,
    /// `X` -> Cancel, `D` -> Delete, `U` -> Replace, `P` -> Trade ([`TradeKind::NonDisplayed`],
    /// aggressor unknown), `Q` -> Trade ([`TradeKind::Cross`]), `B` -> Break, `H` -> Status,
    /// `h` -> OperationalHalt, `W` -> MarketWideHalt (instrument [`MARKET_WIDE`]). `R` binds its
    /// locate code to the symbol's instrument.
    #[inline]
    pub fn normalize(&mut self, msg: &Message<'_>) -> Option<MarketEvent> {
        if let Some(count) = self.stats.per_type.get_mut(msg.msg_type().index()) {
            *count += 1;
        }
        let kind = match *msg {
            Message::AddOrder(m) => {
                self.add(m.order_ref(), m.side_code(), m.shares(), m.price())?
            }
            Message::AddOrderMpid(m) => {
                self.add(m.order_ref(), m.side_code(), m.shares(), m.price())?
            }
            Message::OrderExecuted(m) => BookEventKind::Execute {
                order_id: OrderId(m.order_ref()),
                qty: qty32(m.executed_shares()),
                match_number: m.match_number(),
            },
            Message::OrderExecutedWithPrice(m) => {
                let (order_id, qty) = (OrderId(m.order_ref()), qty32(m.executed_shares()));
                let (price, match_number) = (price4(m.execution_price()), m.match_number());
                match m.printable() {
                    b'N' => {
                        self.stats.non_printable += 1;
                        BookEventKind::ExecuteNonPrintable {
                            order_id,
                            qty,
                            price,
                            match_number,
                        }
                    }
                    flag => {
                        if flag != b'Y' {
                            self.stats.bad_printable += 1;
                        }
                        BookEventKind::ExecuteAtPrice {
                            order_id,
                            qty,
                            price,
                            match_number,
                        }
                    }
                }
            }
            Message::OrderCancel(m) => BookEventKind::Cancel {
                order_id: OrderId(m.order_ref()),
                qty: qty32(m.cancelled_shares()),
            },
            Message::OrderDelete(m) => BookEventKind::Delete {
                order_id: OrderId(m.order_ref()),
            },
            Message::OrderReplace(m) => BookEventKind::Replace {
                old_order_id: OrderId(m.original_order_ref()),
                new_order_id: OrderId(m.new_order_ref()),
                price: price4(m.price()),
                qty: qty32(m.shares()),
            },
            // The side byte of `P` is always `B` since 2014 (NASDAQ no longer says which side
            // the non-displayed order was on): the aggressor is unknown.
            Message::Trade(m) => BookEventKind::Trade {
                side: None,
                kind: TradeKind::NonDisplayed,
                price: price4(m.price()),
                qty: qty32(m.shares()),
                match_number: m.match_number(),
            },
            Message::CrossTrade(m) => {
                let Some(qty) = i64::try_from(m.shares()).ok().and_then(Qty::from_units) else {
                    self.stats.qty_overflow += 1;
                    return None;
                };
                if qty.is_zero() {
                    // A cross that did not trade prints nothing.
                    return None;
                }
                BookEventKind::Trade {
                    side: None,
                    kind: TradeKind::Cross,
                    price: price4(m.cross_price()),
                    qty,
                    match_number: m.match_number(),
                }
            }
            Message::BrokenTrade(m) => BookEventKind::Break {
                match_number: m.match_number(),
            },
            Message::StockTradingAction(m) => {
                let Some(status) = trading_status(m.trading_state()) else {
                    self.stats.bad_trading_state += 1;
                    return None;
                };
                BookEventKind::Status(status)
            }
            Message::OperationalHalt(m) => {
                let halted = match m.operational_halt_action() {
                    b'H' => true,
                    b'T' => false,
                    _ => {
                        self.stats.bad_trading_state += 1;
                        return None;
                    }
                };
                BookEventKind::OperationalHalt { halted }
            }
            Message::MwcbStatus(m) => {
                let level = match m.breached_level() {
                    code @ b'1'..=b'3' => code - b'0',
                    _ => {
                        self.stats.bad_trading_state += 1;
                        return None;
                    }
                };
                self.stats.events += 1;
                return Some(MarketEvent {
                    instrument: MARKET_WIDE,
                    exch_ts: Timestamp(msg.timestamp()),
                    kind: BookEventKind::MarketWideHalt { level },
                });
            }
            Message::StockDirectory(r) => {
                self.register_directory(&r);
                return None;
            }
            _ => return None,
        };
        let instrument = self.resolve(msg.stock_locate())?;
        self.stats.events += 1;
        Some(MarketEvent {
            instrument,
            exch_ts: Timestamp(msg.timestamp()),
            kind,
        })
    }

    #[inline]
    fn add(&mut self, order_ref: u64, side: u8, shares: u32, price: u32) -> Option<BookEventKind> {
        let Some(side) = super::messages::side_from_code(side) else {
            self.stats.bad_side += 1;
            return None;
        };
        Some(BookEventKind::Add {
            order_id: OrderId(order_ref),
            side,
            price: price4(price),
            qty: qty32(shares),
        })
    }

    /// Counts one message of type `t` (the direct path's share of
    /// [`normalize`](Self::normalize)'s counting).
    #[inline(always)]
    pub(super) fn count_message(&mut self, t: MessageType) {
        if let Some(count) = self.stats.per_type.get_mut(t.index()) {
            *count += 1;
        }
    }

    /// Counts an add with a side byte other than `B`/`S`.
    #[cold]
    pub(super) fn count_bad_side(&mut self) {
        self.stats.bad_side += 1;
    }

    /// Whether a `C`'s printable flag makes it a print (`N` does not; a flag other than
    /// `Y`/`N` is taken as printable and counted), counting it as `normalize` does.
    #[inline(always)]
    pub(super) fn count_printable(&mut self, flag: u8) -> bool {
        match flag {
            b'N' => {
                self.stats.non_printable += 1;
                false
            }
            b'Y' => true,
            _ => {
                self.stats.bad_printable += 1;
                true
            }
        }
    }

    /// The instrument of a book event's locate code (see `resolve`), counting the event.
    #[inline(always)]
    pub(super) fn resolve_event(&mut self, locate: u16) -> Option<InstrumentId> {
        let instrument = self.resolve(locate)?;
        self.stats.events += 1;
        Some(instrument)
    }

    /// The instrument of a locate code, registering a placeholder for an unknown one.
    #[inline]
    fn resolve(&mut self, locate: u16) -> Option<InstrumentId> {
        match self.locate_map.get(usize::from(locate)).copied() {
            Some(id) if id < FILTERED => Some(InstrumentId(id)),
            Some(FILTERED) => {
                self.stats.filtered += 1;
                None
            }
            _ => self.register_placeholder(locate),
        }
    }

    /// First message for a locate code with no `R`: a placeholder instrument named `?<locate>`
    /// (a name no ITCH symbol can have), or, under a symbol filter, a drop.
    #[cold]
    #[inline(never)]
    fn register_placeholder(&mut self, locate: u16) -> Option<InstrumentId> {
        if self.filter.is_some() {
            self.bind(locate, FILTERED);
            self.stats.filtered += 1;
            return None;
        }
        let name = format!("?{locate}");
        let id = match self.instruments.id_of(&name) {
            Some(id) => id,
            None => match self.add_instrument(&name) {
                Some(id) => id,
                None => {
                    self.stats.bad_symbol += 1;
                    return None;
                }
            },
        };
        self.stats.placeholders += 1;
        self.bind(locate, id.0);
        Some(id)
    }

    /// An `R` message: bind its locate code to the symbol's instrument (adding it if new).
    #[cold]
    fn register_directory(&mut self, r: &StockDirectory<'_>) {
        let stock = r.stock();
        let locate = r.stock_locate();
        if let Some(filter) = &self.filter
            && !filter.contains(&stock)
        {
            self.bind(locate, FILTERED);
            return;
        }
        let Some(symbol) = symbol_text(&stock) else {
            self.stats.bad_symbol += 1;
            return;
        };
        let id = match self.instruments.id_of(symbol) {
            Some(id) => id,
            None => match self.add_instrument(symbol) {
                Some(id) => {
                    self.stats.instruments_registered += 1;
                    id
                }
                None => {
                    self.stats.bad_symbol += 1;
                    return;
                }
            },
        };
        if let Some(previous) = self.locate_map.get(usize::from(locate)).copied()
            && previous < FILTERED
            && previous != id.0
        {
            self.stats.locate_rebound += 1;
        }
        self.bind(locate, id.0);
    }

    fn add_instrument(&mut self, symbol: &str) -> Option<InstrumentId> {
        // ITCH says nothing of ticks: the US equity rule (a zero tick size), as for LOBSTER.
        let tick = kestrel_core::TickRule::UsEquity.tick_size();
        let id = self
            .instruments
            .add(symbol, tick, Qty::ONE, PRICE_DECIMALS as u8)
            .ok()?;
        // Ids at or above FILTERED would collide with the table's markers.
        (id.0 < FILTERED).then_some(id)
    }

    fn bind(&mut self, locate: u16, entry: u32) {
        if let Some(slot) = self.locate_map.get_mut(usize::from(locate)) {
            *slot = entry;
        }
    }
}

/// A space-padded `Alpha(8)` symbol as text: trailing spaces removed; `None` when empty or not
/// printable ASCII.
fn symbol_text(stock: &[u8; 8]) -> Option<&str> {
    let len = stock.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let text = stock.get(..len)?;
    if text.is_empty() || !text.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    core::str::from_utf8(text).ok()
}

/// ITCH trading state -> status: `T` trading, `H` halted, `P` paused, `Q` quotation only.
const fn trading_status(code: u8) -> Option<TradingStatus> {
    match code {
        b'T' => Some(TradingStatus::Trading),
        b'H' => Some(TradingStatus::Halted),
        b'P' => Some(TradingStatus::Paused),
        b'Q' => Some(TradingStatus::QuotationOnly),
        _ => None,
    }
}

/// A Price(4) field: `u32::MAX * 10^4` fits an `i64`, so this never saturates.
#[inline(always)]
pub(super) fn price4(raw: u32) -> Price {
    Price::from_scaled(i64::from(raw), PRICE_DECIMALS).unwrap_or(Price::MAX)
}

/// An all-[`UNMAPPED`] locate table, built on the heap (256 KiB: not through the stack).
fn locate_table() -> Box<[u32; LOCATE_CODES]> {
    let table: Box<[u32]> = vec![UNMAPPED; LOCATE_CODES].into_boxed_slice();
    match table.try_into() {
        Ok(table) => table,
        Err(_) => unreachable!("the vector has LOCATE_CODES entries"),
    }
}

/// A 4-byte share count: `u32::MAX * 10^8` fits an `i64`, so this never saturates.
#[inline(always)]
pub(super) fn qty32(shares: u32) -> Qty {
    Qty::from_units(i64::from(shares)).unwrap_or(Qty::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::messages::{
        AddOrderMsg, BrokenTradeMsg, CrossTradeMsg, MwcbStatusMsg, OperationalHaltMsg,
        OrderExecutedWithPriceMsg, StockDirectoryMsg, StockTradingActionMsg, SystemEventMsg,
        TradeMsg,
    };
    use kestrel_core::Side;

    fn run(n: &mut ItchNormalizer, bytes: &[u8]) -> Option<MarketEvent> {
        n.normalize_bytes(bytes).unwrap()
    }

    fn directory(locate: u16, symbol: &str) -> [u8; 39] {
        StockDirectoryMsg {
            stock_locate: locate,
            stock: stock_field(symbol).unwrap(),
            ..Default::default()
        }
        .to_bytes()
        .unwrap()
    }

    fn add(locate: u16, side: u8) -> [u8; 36] {
        AddOrderMsg {
            stock_locate: locate,
            timestamp: 99,
            order_ref: 5,
            side_code: side,
            shares: 100,
            stock: *b"ZZZ     ",
            price: 1_234_500,
            ..Default::default()
        }
        .to_bytes()
        .unwrap()
    }

    #[test]
    fn preloaded_symbols_keep_their_ids() {
        let mut table = InstrumentTable::new();
        table.add("AAA", Price::ONE, Qty::ONE, 4).unwrap();
        table.add("BOB", Price::ONE, Qty::ONE, 4).unwrap();
        let mut n = ItchNormalizer::with_instruments(table);
        assert_eq!(run(&mut n, &directory(9, "BOB")), None);
        assert_eq!(run(&mut n, &directory(3, "NEW")), None);
        assert_eq!(n.instrument_for_locate(9), Some(InstrumentId(1)));
        assert_eq!(n.instrument_for_locate(3), Some(InstrumentId(2)));
        let ev = run(&mut n, &add(9, b'B')).unwrap();
        assert_eq!(ev.instrument, InstrumentId(1));
        assert_eq!(ev.exch_ts, Timestamp(99));
        assert_eq!(
            ev.kind,
            BookEventKind::Add {
                order_id: OrderId(5),
                side: Side::Buy,
                price: "123.45".parse().unwrap(),
                qty: Qty::from_units(100).unwrap(),
            }
        );
        assert_eq!(n.stats().instruments_registered, 1);
        assert_eq!(n.stats().count(MessageType::StockDirectory), 2);
    }

    #[test]
    fn unknown_locates_get_a_counted_placeholder() {
        let mut n = ItchNormalizer::new();
        let first = run(&mut n, &add(77, b'S')).unwrap();
        let second = run(&mut n, &add(77, b'S')).unwrap();
        assert_eq!(first.instrument, second.instrument);
        assert_eq!(n.stats().placeholders, 1);
        assert_eq!(n.instruments().get(first.instrument).unwrap().symbol, "?77");
        // A later directory message rebinds the locate to the real symbol.
        run(&mut n, &directory(77, "REAL"));
        assert_eq!(n.stats().locate_rebound, 1);
        assert_ne!(n.instrument_for_locate(77), Some(first.instrument));
    }

    #[test]
    fn symbol_filter_drops_other_instruments() {
        let mut n = ItchNormalizer::new().with_symbol_filter(["BOB"]);
        run(&mut n, &directory(1, "ALC"));
        run(&mut n, &directory(2, "BOB"));
        assert_eq!(run(&mut n, &add(1, b'B')), None);
        assert!(run(&mut n, &add(2, b'B')).is_some());
        assert_eq!(run(&mut n, &add(3, b'B')), None);
        let s = n.stats();
        assert_eq!((s.filtered, s.placeholders, s.events), (2, 0, 1));
    }

    #[test]
    fn anomalies_are_counted_not_emitted() {
        let mut n = ItchNormalizer::new();
        assert_eq!(run(&mut n, &add(1, b'?')), None);
        let halt = StockTradingActionMsg {
            stock_locate: 1,
            trading_state: b'Z',
            ..Default::default()
        };
        assert_eq!(run(&mut n, &halt.to_bytes().unwrap()), None);
        let cross = CrossTradeMsg {
            stock_locate: 1,
            shares: u64::MAX,
            ..Default::default()
        };
        assert_eq!(run(&mut n, &cross.to_bytes().unwrap()), None);
        assert!(n.normalize_bytes(&[b'Z', 0, 0]).is_err());
        let bad_dir = StockDirectoryMsg::default().to_bytes().unwrap();
        run(&mut n, &bad_dir);
        let s = n.stats();
        assert_eq!(
            (
                s.bad_side,
                s.bad_trading_state,
                s.qty_overflow,
                s.decode_errors,
                s.bad_symbol
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(s.anomalies(), 5);
        assert_eq!(s.events, 0);
    }

    #[test]
    fn executions_prints_crosses_and_breaks() {
        let mut n = ItchNormalizer::new();
        run(&mut n, &directory(4, "AAPL"));
        let id = n.instrument_for_locate(4).unwrap();
        let c = |printable| OrderExecutedWithPriceMsg {
            stock_locate: 4,
            order_ref: 9,
            executed_shares: 100,
            match_number: 77,
            printable,
            execution_price: 5_853_300,
            ..Default::default()
        };
        let px: Price = "585.33".parse().unwrap();
        let hundred = Qty::from_units(100).unwrap();
        // Printable C: a print at the execution price.
        assert_eq!(
            run(&mut n, &c(b'Y').to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::ExecuteAtPrice {
                order_id: OrderId(9),
                qty: hundred,
                price: px,
                match_number: 77,
            })
        );
        // Non-printable C (an execution in a cross): the book changes, no print.
        assert_eq!(
            run(&mut n, &c(b'N').to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::ExecuteNonPrintable {
                order_id: OrderId(9),
                qty: hundred,
                price: px,
                match_number: 77,
            })
        );
        // P: a print with the aggressor unknown, whatever its side byte says.
        for side_code in [b'B', b'S'] {
            let p = TradeMsg {
                stock_locate: 4,
                side_code,
                shares: 100,
                price: 5_853_300,
                match_number: 78,
                ..Default::default()
            };
            let ev = run(&mut n, &p.to_bytes().unwrap()).unwrap();
            assert_eq!(ev.instrument, id);
            assert_eq!(
                ev.kind,
                BookEventKind::Trade {
                    side: None,
                    kind: TradeKind::NonDisplayed,
                    price: px,
                    qty: hundred,
                    match_number: 78,
                }
            );
        }
        // Q: the cross's print; a cross of nothing prints nothing.
        let q = |shares| CrossTradeMsg {
            stock_locate: 4,
            shares,
            cross_price: 5_853_300,
            match_number: 79,
            cross_type: b'O',
            ..Default::default()
        };
        assert_eq!(
            run(&mut n, &q(5_000).to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::Trade {
                side: None,
                kind: TradeKind::Cross,
                price: px,
                qty: Qty::from_units(5_000).unwrap(),
                match_number: 79,
            })
        );
        assert_eq!(run(&mut n, &q(0).to_bytes().unwrap()), None);
        // B: the break of a print by match number.
        let b = BrokenTradeMsg {
            stock_locate: 4,
            match_number: 78,
            ..Default::default()
        };
        assert_eq!(
            run(&mut n, &b.to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::Break { match_number: 78 })
        );
        let s = n.stats();
        assert_eq!((s.non_printable, s.bad_side, s.anomalies()), (1, 0, 0));
    }

    #[test]
    fn halts_of_every_kind_become_status_events() {
        let mut n = ItchNormalizer::new();
        run(&mut n, &directory(4, "AAPL"));
        let h = |action| OperationalHaltMsg {
            stock_locate: 4,
            stock: stock_field("AAPL").unwrap(),
            market_code: b'Q',
            operational_halt_action: action,
            ..Default::default()
        };
        assert_eq!(
            run(&mut n, &h(b'H').to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::OperationalHalt { halted: true })
        );
        assert_eq!(
            run(&mut n, &h(b'T').to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::OperationalHalt { halted: false })
        );
        assert_eq!(run(&mut n, &h(b'?').to_bytes().unwrap()), None);
        let w = |level| MwcbStatusMsg {
            timestamp: 5,
            breached_level: level,
            ..Default::default()
        };
        assert_eq!(
            run(&mut n, &w(b'2').to_bytes().unwrap()),
            Some(MarketEvent {
                instrument: MARKET_WIDE,
                exch_ts: Timestamp(5),
                kind: BookEventKind::MarketWideHalt { level: 2 },
            })
        );
        assert_eq!(run(&mut n, &w(b'9').to_bytes().unwrap()), None);
        let halt = StockTradingActionMsg {
            stock_locate: 4,
            trading_state: b'H',
            ..Default::default()
        };
        assert_eq!(
            run(&mut n, &halt.to_bytes().unwrap()).map(|e| e.kind),
            Some(BookEventKind::Status(TradingStatus::Halted))
        );
        // No placeholder for locate 0 from the market-wide message.
        assert_eq!(n.stats().placeholders, 0);
        assert_eq!(n.stats().bad_trading_state, 2);
    }

    #[test]
    fn longer_messages_decode_with_the_extra_bytes_ignored_and_shorter_are_errors() {
        let mut n = ItchNormalizer::new();
        let exact = add(1, b'B');
        let mut longer = exact.to_vec();
        longer.extend_from_slice(&[0xAB; 7]);
        let a = n.normalize_bytes(&exact).unwrap();
        let b = n.normalize_bytes(&longer).unwrap();
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(matches!(
            n.normalize_bytes(&exact[..35]),
            Err(ItchError::BadLength {
                expected: 36,
                actual: 35,
                ..
            })
        ));
        assert_eq!(n.stats().decode_errors, 1);
    }

    #[test]
    fn instruments_get_the_us_equity_tick_rule() {
        let mut n = ItchNormalizer::new();
        run(&mut n, &directory(4, "AAPL"));
        let id = n.instrument_for_locate(4).unwrap();
        let rule = n.instruments().get(id).unwrap().tick_rule();
        assert_eq!(rule, kestrel_core::TickRule::UsEquity);
        assert_eq!(
            rule.tick_at("585.33".parse().unwrap()),
            "0.01".parse().unwrap()
        );
    }

    #[test]
    fn non_book_messages_are_counted_only() {
        let mut n = ItchNormalizer::new();
        let s = SystemEventMsg {
            event_code: b'O',
            ..Default::default()
        };
        assert_eq!(run(&mut n, &s.to_bytes().unwrap()), None);
        assert_eq!(n.stats().count(MessageType::SystemEvent), 1);
        assert_eq!(n.stats().events, 0);
    }
}
