//! LOBSTER sample files as a stream of [`BookUpdate`]s, for research and tests until the feeds
//! crate's capture replay is wired in.
//!
//! Row k of the order-book file is the 10-level book after message k. Book columns per level:
//! `ask_price, ask_size, bid_price, bid_size`, prices in dollars x 10^4, an empty level priced
//! `9999999999` (ask) or `-9999999999` (bid) with size 0. Message columns:
//! `time, type, order_id, size, price, direction`. Executions (types 4 and 5) become trades whose
//! aggressor is the opposite of `direction` (the resting order's side); type 7 (halt, price -1;
//! quote-only, 0; resume, 1) sets the trading flag.

use kestrel_core::{
    BookTop, BookUpdate, InstrumentId, LevelView, Price, Qty, TOP_LEVELS, Timestamp, TradeKind,
};

/// A row that could not be read, with its 1-based row number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LobsterError {
    /// A field was missing or not an integer.
    #[error("{file} row {row}: field {field} is missing or not a number")]
    BadField {
        /// `"orderbook"` or `"message"`.
        file: &'static str,
        /// 1-based row.
        row: usize,
        /// 0-based field index.
        field: usize,
    },
    /// The message time was not `seconds[.fraction]`.
    #[error("message row {row}: bad time")]
    BadTime {
        /// 1-based row.
        row: usize,
    },
    /// The files have different row counts.
    #[error("orderbook has {book} rows, message file {messages}")]
    RowCountMismatch {
        /// Book rows.
        book: usize,
        /// Message rows.
        messages: usize,
    },
}

/// Reads the book and message files' contents into updates for `instrument`. Bad rows are skipped
/// and returned as errors; the rest keeps flowing.
pub fn read_lobster(
    book_csv: &str,
    message_csv: &str,
    instrument: InstrumentId,
) -> (Vec<BookUpdate>, Vec<LobsterError>) {
    let books: Vec<&str> = book_csv.lines().filter(|l| !l.trim().is_empty()).collect();
    let msgs: Vec<&str> = message_csv
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut errors = Vec::new();
    if books.len() != msgs.len() {
        errors.push(LobsterError::RowCountMismatch {
            book: books.len(),
            messages: msgs.len(),
        });
    }
    let mut out = Vec::with_capacity(books.len().min(msgs.len()));
    let mut trading = true;
    for (i, (b, m)) in books.iter().zip(&msgs).enumerate() {
        let row = i + 1;
        let parsed = parse_book_row(b, row).and_then(|top| {
            let msg = parse_message_row(m, row)?;
            Ok((top, msg))
        });
        match parsed {
            Ok((top, msg)) => {
                if msg.kind == 7 {
                    trading = msg.price == 1;
                }
                // Type 4 executes a visible order (aggressor opposite its side); types 5
                // (hidden) and 6 (cross) print with the aggressor unknown.
                let kind = match msg.kind {
                    4 => TradeKind::Execution,
                    5 => TradeKind::NonDisplayed,
                    6 => TradeKind::Cross,
                    _ => TradeKind::None,
                };
                let trade = if kind != TradeKind::None && msg.size > 0 {
                    kestrel_core::TradePrint {
                        price: Price::from_scaled(msg.price, 4).unwrap_or_default(),
                        qty: Qty::from_units(msg.size).unwrap_or_default(),
                        match_number: 0,
                        aggressor: match (kind, msg.direction) {
                            (TradeKind::Execution, 1) => -1,
                            (TradeKind::Execution, -1) => 1,
                            _ => 0,
                        },
                        kind,
                    }
                } else {
                    kestrel_core::TradePrint::default()
                };
                out.push(BookUpdate {
                    instrument,
                    seq: row as u64,
                    exch_ts: Timestamp(msg.time_ns),
                    recv_ts: Timestamp(msg.time_ns),
                    top,
                    trade,
                    trading,
                    stamps: Default::default(),
                });
            }
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

struct Message {
    time_ns: u64,
    kind: i64,
    size: i64,
    price: i64,
    direction: i64,
}

fn int_field(
    s: Option<&str>,
    file: &'static str,
    row: usize,
    field: usize,
) -> Result<i64, LobsterError> {
    s.and_then(|x| x.trim().parse::<i64>().ok())
        .ok_or(LobsterError::BadField { file, row, field })
}

fn parse_book_row(line: &str, row: usize) -> Result<BookTop, LobsterError> {
    let mut top = BookTop::default();
    let mut fields = line.split(',');
    let mut bids = 0usize;
    let mut asks = 0usize;
    for level in 0..TOP_LEVELS {
        let base = level * 4;
        let ap = int_field(fields.next(), "orderbook", row, base)?;
        let aq = int_field(fields.next(), "orderbook", row, base + 1)?;
        let bp = int_field(fields.next(), "orderbook", row, base + 2)?;
        let bq = int_field(fields.next(), "orderbook", row, base + 3)?;
        if aq > 0
            && ap != 9_999_999_999
            && asks == level
            && let (Some(price), Some(qty), Some(slot)) = (
                Price::from_scaled(ap, 4),
                Qty::from_units(aq),
                top.asks.get_mut(asks),
            )
        {
            *slot = LevelView { price, qty };
            asks += 1;
        }
        if bq > 0
            && bp != -9_999_999_999
            && bids == level
            && let (Some(price), Some(qty), Some(slot)) = (
                Price::from_scaled(bp, 4),
                Qty::from_units(bq),
                top.bids.get_mut(bids),
            )
        {
            *slot = LevelView { price, qty };
            bids += 1;
        }
    }
    top.ask_levels = asks as u8;
    top.bid_levels = bids as u8;
    Ok(top)
}

fn parse_message_row(line: &str, row: usize) -> Result<Message, LobsterError> {
    let mut f = line.split(',');
    let time_ns = parse_time_ns(f.next().unwrap_or("")).ok_or(LobsterError::BadTime { row })?;
    let kind = int_field(f.next(), "message", row, 1)?;
    let _order_id = int_field(f.next(), "message", row, 2)?;
    let size = int_field(f.next(), "message", row, 3)?;
    let price = int_field(f.next(), "message", row, 4)?;
    let direction = int_field(f.next(), "message", row, 5)?;
    Ok(Message {
        time_ns,
        kind,
        size,
        price,
        direction,
    })
}

/// `seconds[.fraction]` (at most 9 fractional digits used) to nanoseconds.
fn parse_time_ns(s: &str) -> Option<u64> {
    let s = s.trim();
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: u64 = secs.parse().ok()?;
    let mut ns: u64 = 0;
    let mut digits = 0;
    for c in frac.chars() {
        let d = c.to_digit(10)?;
        if digits < 9 {
            ns = ns * 10 + u64::from(d);
            digits += 1;
        }
    }
    for _ in digits..9 {
        ns *= 10;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_reports_bad_ones() {
        let mut book = String::from("5859400,200,5853300,18");
        for _ in 1..TOP_LEVELS {
            book.push_str(",9999999999,0,-9999999999,0");
        }
        let bad = "1,2,3\n";
        let books = format!("{book}\n{bad}{book}\n");
        let msgs = "34200.004241176,1,16113575,18,5853300,1\n34200.1,4,1,5,5853300,1\n34200.5,5,2,7,5859400,-1\n";
        let (ups, errs) = read_lobster(&books, msgs, InstrumentId(3));
        assert_eq!(ups.len(), 2);
        assert_eq!(errs.len(), 1);
        assert!(matches!(errs[0], LobsterError::BadField { row: 2, .. }));
        let u = ups[0];
        assert_eq!(u.exch_ts, Timestamp(34_200_004_241_176));
        assert_eq!(u.top.bid_levels, 1);
        assert_eq!(u.top.ask_levels, 1);
        assert_eq!(
            u.top.asks[0].price,
            Price::from_scaled(5_859_400, 4).unwrap_or_default()
        );
        assert!(u.trade.qty.is_zero());
        // Type 5 (a hidden execution): printed, the aggressor unknown whatever the direction.
        assert_eq!(ups[1].trade.aggressor, 0);
        assert_eq!(ups[1].trade.kind, TradeKind::NonDisplayed);
        assert_eq!(ups[1].trade.qty, Qty::from_units(7).unwrap_or_default());
        assert_eq!(ups[1].seq, 3);
    }

    #[test]
    fn time_parsing() {
        assert_eq!(parse_time_ns("1.5"), Some(1_500_000_000));
        assert_eq!(parse_time_ns("2"), Some(2_000_000_000));
        assert_eq!(parse_time_ns("x"), None);
    }
}
