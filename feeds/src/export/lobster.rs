//! LOBSTER message and orderbook files from any feed, so that LOBSTER tools read Kestrel's
//! books. Two files per instrument, named as LOBSTER names them:
//! `<SYMBOL>_<YYYY-MM-DD>_<start ms>_<end ms>_message_<N>.csv` and `..._orderbook_<N>.csv`,
//! no header, row k of the orderbook file being the book right after message k.
//!
//! - Message columns: time (seconds after midnight UTC of the first event's day, 9 decimals),
//!   type, order id, size, price, direction (1 buy, -1 sell). The time is the venue's, made
//!   non-decreasing per instrument as LOBSTER tools expect (a message stamped earlier than the
//!   one before it, such as a Binance REST snapshot that carries only the local receive time,
//!   takes the previous message's time).
//! - Order-by-order sources (ITCH, DBN MBO): add -> 1, partial cancel -> 2, delete -> 3,
//!   execution of a visible order -> 4, trade that does not touch the book -> 5, halt -> 7
//!   (price -1 halted, 0 quotation only, 1 resumed); a replace is a delete then an add.
//! - Level sources (Binance depth, DBN MBP): a level that grows is a type 1 of the increase
//!   (order id 0), one that shrinks a type 2 of the decrease, one that empties a type 3 of what
//!   it held; trades are type 5 (the level changes arrive with the depth diff), direction the
//!   resting side.
//! - Orderbook columns per level: ask price, ask size, bid price, bid size; an empty level is
//!   `9999999999,0` (ask) or `-9999999999,0` (bid).
//! - Prices are integers at `price_decimals` decimals (LOBSTER's own: 4, dollars x 10,000);
//!   sizes are whole lots of the instrument (shares for equities; e.g. 0.00001 BTC on Binance
//!   spot). A value that is not whole at that scale stops the export with a clear error rather
//!   than being rounded.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use kestrel_core::{
    BookEventKind, BookTop, FIXED_DECIMALS, InstrumentId, InstrumentTable, Price, Qty, Side,
    Timestamp, TradeKind, TradingStatus,
};

use super::ExportError;
use crate::venue::{TopOfBook, VenueEvent, VenueSink};

const NS_PER_DAY: u64 = 86_400_000_000_000;

/// One instrument's pair of files.
struct Files {
    message: BufWriter<File>,
    orderbook: BufWriter<File>,
    message_path: PathBuf,
    orderbook_path: PathBuf,
    first_ts: u64,
    last_ts: u64,
    rows: u64,
}

/// Writes LOBSTER files; a [`VenueSink`] for any book kind.
pub struct LobsterExport {
    dir: PathBuf,
    levels: usize,
    price_div: i64,
    lots: Vec<i64>,
    symbols: Vec<String>,
    wanted: Option<Vec<bool>>,
    files: Vec<Option<Files>>,
    /// Remaining size of each live order (order-by-order sources).
    orders: HashMap<u64, Qty>,
    /// Midnight (ns since the epoch) of the first event's day; 0 for venue times that are
    /// already nanoseconds after midnight (ITCH).
    midnight: Option<u64>,
    error: Option<ExportError>,
    skipped_trades: u64,
}

impl std::fmt::Debug for LobsterExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LobsterExport")
            .field("dir", &self.dir)
            .field("levels", &self.levels)
            .finish_non_exhaustive()
    }
}

/// The civil date (UTC) of a day number since 1970-01-01.
pub fn civil_date(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl LobsterExport {
    /// An export into `dir` of `levels` levels, prices at `price_decimals` decimals.
    pub fn new(
        dir: &Path,
        levels: usize,
        price_decimals: u32,
        instruments: &InstrumentTable,
        wanted: Option<Vec<bool>>,
    ) -> Result<Self, ExportError> {
        if price_decimals > FIXED_DECIMALS {
            return Err(ExportError::Options(format!(
                "LOBSTER price decimals {price_decimals} exceed Kestrel's {FIXED_DECIMALS}"
            )));
        }
        Ok(Self {
            dir: dir.to_owned(),
            levels: levels.clamp(1, kestrel_core::TOP_LEVELS),
            price_div: 10_i64.pow(FIXED_DECIMALS - price_decimals),
            lots: instruments
                .iter()
                .map(|i| i.lot_size.raw().max(1))
                .collect(),
            symbols: instruments.iter().map(|i| i.symbol.clone()).collect(),
            wanted,
            files: instruments.iter().map(|_| None).collect(),
            orders: HashMap::new(),
            midnight: None,
            error: None,
            skipped_trades: 0,
        })
    }

    fn price(&self, p: Price) -> Result<i64, ExportError> {
        if p.raw() % self.price_div == 0 {
            Ok(p.raw() / self.price_div)
        } else {
            Err(ExportError::Unrepresentable(format!(
                "price {p} needs more decimals than the LOBSTER price scale; raise --lobster-decimals"
            )))
        }
    }

    fn size(&self, id: InstrumentId, q: Qty) -> Result<i64, ExportError> {
        let lot = self.lots.get(id.index()).copied().unwrap_or(1);
        if q.raw() % lot == 0 {
            Ok(q.raw() / lot)
        } else {
            Err(ExportError::Unrepresentable(format!(
                "size {q} is not a whole number of lots ({})",
                Qty::from_raw(lot)
            )))
        }
    }

    fn files(&mut self, id: InstrumentId, ts: u64) -> Result<&mut Files, ExportError> {
        let n = self.levels;
        let symbol = self.symbols.get(id.index()).cloned().unwrap_or_default();
        let slot = self.files.get_mut(id.index()).ok_or_else(|| {
            ExportError::Options(format!("instrument {} not in the capture", id.0))
        })?;
        if slot.is_none() {
            let message_path = self.dir.join(format!(".{symbol}.message.tmp"));
            let orderbook_path = self.dir.join(format!(".{symbol}.orderbook.tmp"));
            *slot = Some(Files {
                message: BufWriter::new(File::create(&message_path)?),
                orderbook: BufWriter::new(File::create(&orderbook_path)?),
                message_path,
                orderbook_path,
                first_ts: ts,
                last_ts: ts,
                rows: 0,
            });
            let _ = n;
        }
        slot.as_mut()
            .ok_or_else(|| ExportError::Options("unreachable: files just opened".into()))
    }

    fn wanted(&self, id: InstrumentId) -> bool {
        self.wanted
            .as_ref()
            .is_none_or(|w| w.get(id.index()).copied().unwrap_or(false))
    }

    #[allow(clippy::too_many_arguments)]
    fn message<B: TopOfBook + ?Sized>(
        &mut self,
        books: &B,
        id: InstrumentId,
        ts: Timestamp,
        kind: u8,
        order_id: u64,
        size: Qty,
        price: i64,
        side: Side,
    ) -> Result<(), ExportError> {
        let midnight = *self.midnight.get_or_insert_with(|| {
            if ts.0 < NS_PER_DAY * 3 {
                0
            } else {
                ts.0 - ts.0 % NS_PER_DAY
            }
        });
        let size = self.size(id, size)?;
        let direction = if side == Side::Buy { 1 } else { -1 };
        let mut top = BookTop::default();
        books.fill_top(id, &mut top);
        let mut book_row = String::with_capacity(self.levels * 40);
        for i in 0..self.levels {
            match top.side(Side::Sell).get(i) {
                Some(l) => book_row.push_str(&format!(
                    "{},{},",
                    self.price(l.price)?,
                    self.size(id, l.qty)?
                )),
                None => book_row.push_str("9999999999,0,"),
            }
            match top.side(Side::Buy).get(i) {
                Some(l) => book_row.push_str(&format!(
                    "{},{},",
                    self.price(l.price)?,
                    self.size(id, l.qty)?
                )),
                None => book_row.push_str("-9999999999,0,"),
            }
        }
        book_row.pop();
        let f = self.files(id, ts.0)?;
        let ts = ts.0.max(f.last_ts);
        let since = ts.saturating_sub(midnight);
        f.last_ts = ts;
        f.rows += 1;
        writeln!(
            f.message,
            "{}.{:09},{kind},{order_id},{size},{price},{direction}",
            since / 1_000_000_000,
            since % 1_000_000_000
        )?;
        writeln!(f.orderbook, "{book_row}")?;
        Ok(())
    }

    fn on_event<B: TopOfBook + ?Sized>(
        &mut self,
        event: &VenueEvent,
        books: &B,
    ) -> Result<(), ExportError> {
        match *event {
            VenueEvent::Level {
                instrument,
                exch_ts,
                side,
                price,
                old_qty,
                new_qty,
            } => {
                let (kind, size) = if new_qty > old_qty {
                    (1, new_qty.checked_sub(old_qty).unwrap_or_default())
                } else if new_qty.is_positive() {
                    (2, old_qty.checked_sub(new_qty).unwrap_or_default())
                } else {
                    (3, old_qty)
                };
                let px = self.price(price)?;
                self.message(books, instrument, exch_ts, kind, 0, size, px, side)
            }
            VenueEvent::Order { event, side, price } => {
                let id = event.instrument;
                let ts = event.exch_ts;
                let px = self.price(price)?;
                match event.kind {
                    BookEventKind::Add { order_id, qty, .. } => {
                        self.orders.insert(order_id.0, qty);
                        self.message(books, id, ts, 1, order_id.0, qty, px, side)
                    }
                    BookEventKind::Cancel { order_id, qty } => {
                        let left = self.orders.entry(order_id.0).or_default();
                        *left = left.saturating_sub_floor_zero(qty);
                        self.message(books, id, ts, 2, order_id.0, qty, px, side)
                    }
                    BookEventKind::Delete { order_id } => {
                        let size = self.orders.remove(&order_id.0).unwrap_or_default();
                        self.message(books, id, ts, 3, order_id.0, size, px, side)
                    }
                    BookEventKind::Execute { order_id, qty, .. }
                    | BookEventKind::ExecuteAtPrice { order_id, qty, .. }
                    | BookEventKind::ExecuteNonPrintable { order_id, qty, .. } => {
                        if let Some(left) = self.orders.get_mut(&order_id.0) {
                            *left = left.saturating_sub_floor_zero(qty);
                            if left.is_zero() {
                                self.orders.remove(&order_id.0);
                            }
                        }
                        self.message(books, id, ts, 4, order_id.0, qty, px, side)
                    }
                    BookEventKind::Replace {
                        old_order_id,
                        new_order_id,
                        qty,
                        ..
                    } => {
                        // `price` is the new price; the old order's side and price come from the
                        // book as the adapter saw it, so report the delete at the new price's
                        // side with the old size.
                        let old = self.orders.remove(&old_order_id.0).unwrap_or_default();
                        self.message(books, id, ts, 3, old_order_id.0, old, px, side)?;
                        self.orders.insert(new_order_id.0, qty);
                        self.message(books, id, ts, 1, new_order_id.0, qty, px, side)
                    }
                    // LOBSTER: 5 a hidden (non-displayed) execution, 6 a cross.
                    BookEventKind::Trade { qty, kind, .. } => {
                        let code = if kind == TradeKind::Cross { 6 } else { 5 };
                        self.message(books, id, ts, code, 0, qty, px, side)
                    }
                    BookEventKind::Status(status) => {
                        let code = match status {
                            TradingStatus::Halted | TradingStatus::Paused => -1,
                            TradingStatus::QuotationOnly => 0,
                            TradingStatus::Trading => 1,
                        };
                        self.message(books, id, ts, 7, 0, Qty::ZERO, code, Side::Buy)
                    }
                    BookEventKind::OperationalHalt { halted } => {
                        let code = if halted { -1 } else { 1 };
                        self.message(books, id, ts, 7, 0, Qty::ZERO, code, Side::Buy)
                    }
                    BookEventKind::Level { .. }
                    | BookEventKind::Clear
                    | BookEventKind::Break { .. }
                    | BookEventKind::MarketWideHalt { .. } => Ok(()),
                }
            }
            VenueEvent::Trade {
                instrument,
                exch_ts,
                print,
                match_id,
                ..
            } => {
                // The resting side is opposite the aggressor; unknown aggressors cannot be
                // given a LOBSTER direction.
                let side = match print.aggressor {
                    1 => Side::Sell,
                    -1 => Side::Buy,
                    _ => {
                        self.skipped_trades += 1;
                        return Ok(());
                    }
                };
                let px = self.price(print.price)?;
                self.message(books, instrument, exch_ts, 5, match_id, print.qty, px, side)
            }
            VenueEvent::Book { .. } | VenueEvent::Quote { .. } => Ok(()),
        }
    }

    /// Closes and names every file; returns (instruments, message rows, trades skipped for
    /// want of an aggressor) or the first error.
    pub fn finish(self) -> Result<(usize, u64, u64), ExportError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let midnight = self.midnight.unwrap_or(0);
        let (y, m, d) = civil_date((midnight / NS_PER_DAY) as i64);
        let mut rows = 0;
        let mut count = 0;
        for (i, f) in self.files.into_iter().enumerate() {
            let Some(mut f) = f else { continue };
            f.message.flush()?;
            f.orderbook.flush()?;
            let ms = |ts: u64| ts.saturating_sub(midnight) / 1_000_000;
            let stem = format!(
                "{}_{y:04}-{m:02}-{d:02}_{}_{}",
                self.symbols.get(i).map_or("", String::as_str),
                ms(f.first_ts),
                ms(f.last_ts)
            );
            std::fs::rename(
                &f.message_path,
                self.dir.join(format!("{stem}_message_{}.csv", self.levels)),
            )?;
            std::fs::rename(
                &f.orderbook_path,
                self.dir
                    .join(format!("{stem}_orderbook_{}.csv", self.levels)),
            )?;
            rows += f.rows;
            count += 1;
        }
        Ok((count, rows, self.skipped_trades))
    }
}

impl<B: TopOfBook + ?Sized> VenueSink<B> for LobsterExport {
    fn on_venue(&mut self, event: &VenueEvent, books: &B) {
        if self.error.is_some() || !self.wanted(event.instrument()) {
            return;
        }
        if let Err(e) = self.on_event(event, books) {
            self.error = Some(e);
        }
    }

    fn want_details(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(19_943), (2024, 8, 8));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(11_017), (2000, 3, 1));
    }
}
