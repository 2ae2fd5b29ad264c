//! LOBSTER book rows: per level `ask_price, ask_size, bid_price, bid_size`, best level first.

use kestrel_core::Side;

use super::error::{LobsterError, LobsterErrorKind};
use super::fields::parse_int;

/// The price LOBSTER writes for an empty ask level.
pub const EMPTY_ASK_PRICE: i64 = 9_999_999_999;
/// The price LOBSTER writes for an empty bid level.
pub const EMPTY_BID_PRICE: i64 = -9_999_999_999;

/// One visible level: price in dollars x 10^4, size in shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BookLevel {
    /// Price in dollars x 10^4.
    pub price: i64,
    /// Shares at the price.
    pub size: u64,
}

/// One parsed book row: the visible levels of each side, best first. Empty levels are dropped,
/// so a side holds between 0 and `depth` levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookRow {
    /// 1-based line number (= the message it follows).
    pub line: usize,
    /// Number of levels per side the file carries (N).
    pub depth: usize,
    /// Ask levels, lowest price first.
    pub asks: Vec<BookLevel>,
    /// Bid levels, highest price first.
    pub bids: Vec<BookLevel>,
}

impl BookRow {
    /// The visible levels of one side, best first.
    pub fn side(&self, side: Side) -> &[BookLevel] {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// Whether the side shows all `depth` levels (so liquidity may hide beyond its last one).
    pub fn is_full(&self, side: Side) -> bool {
        self.side(side).len() == self.depth
    }
}

/// Parses one book row. `expected_depth` is the file's N once known (from its first good row);
/// `None` accepts any positive multiple of 4 columns.
pub fn parse_book_row(
    text: &str,
    line: usize,
    expected_depth: Option<usize>,
) -> Result<BookRow, LobsterError> {
    let err = |column: usize, kind: LobsterErrorKind| LobsterError { line, column, kind };
    let text = text.trim_end_matches(['\r', '\n']);
    let columns = text.split(',').count();
    if columns == 0 || !columns.is_multiple_of(4) {
        return Err(err(0, LobsterErrorKind::BookShape(columns)));
    }
    let depth = columns / 4;
    if let Some(expected) = expected_depth
        && expected != depth
    {
        return Err(err(
            0,
            LobsterErrorKind::FieldCount {
                expected: expected * 4,
                found: columns,
            },
        ));
    }
    let mut row = BookRow {
        line,
        depth,
        asks: Vec::with_capacity(depth),
        bids: Vec::with_capacity(depth),
    };
    let mut fields = text.split(',');
    for level in 0..depth {
        let base = level * 4 + 1;
        for (side, offset) in [(Side::Sell, 0), (Side::Buy, 2)] {
            let price_text = fields.next().unwrap_or("");
            let size_text = fields.next().unwrap_or("");
            let price = parse_int(price_text).map_err(|k| err(base + offset, k))?;
            let size = parse_int(size_text).map_err(|k| err(base + offset + 1, k))?;
            let empty = match side {
                Side::Sell => EMPTY_ASK_PRICE,
                Side::Buy => EMPTY_BID_PRICE,
            };
            if price == empty && size == 0 {
                continue;
            }
            let size = u64::try_from(size)
                .ok()
                .filter(|&s| s > 0)
                .ok_or(err(base + offset + 1, LobsterErrorKind::BadLevel))?;
            if price <= 0 || price > i64::from(u32::MAX) {
                return Err(err(base + offset, LobsterErrorKind::BadPrice(price)));
            }
            let levels = match side {
                Side::Sell => &mut row.asks,
                Side::Buy => &mut row.bids,
            };
            // Levels must be strictly ordered best first and contiguous (no real level after
            // an empty one).
            let ordered = levels.last().is_none_or(|prev: &BookLevel| match side {
                Side::Sell => price > prev.price,
                Side::Buy => price < prev.price,
            });
            if !ordered || levels.len() != level {
                return Err(err(base + offset, LobsterErrorKind::BadLevel));
            }
            levels.push(BookLevel { price, size });
        }
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_and_empty_markers() {
        let row = parse_book_row(
            "5859400,200,5853300,18,5859800,200,-9999999999,0,9999999999,0,-9999999999,0",
            4,
            None,
        )
        .unwrap();
        assert_eq!(row.depth, 3);
        assert_eq!(
            row.asks,
            vec![
                BookLevel {
                    price: 5_859_400,
                    size: 200
                },
                BookLevel {
                    price: 5_859_800,
                    size: 200
                }
            ]
        );
        assert_eq!(
            row.bids,
            vec![BookLevel {
                price: 5_853_300,
                size: 18
            }]
        );
        assert!(!row.is_full(Side::Buy));
    }

    #[test]
    fn rejects_bad_rows_with_their_column() {
        let e = parse_book_row("1,2,3", 9, None).unwrap_err();
        assert_eq!((e.line, e.column), (9, 0));
        let e = parse_book_row("5859400,200,5853300,x", 9, None).unwrap_err();
        assert_eq!((e.column, e.kind), (4, LobsterErrorKind::NotAnInteger));
        // Asks out of order.
        let e =
            parse_book_row("5859400,200,5853300,18,5859300,200,5853200,18", 2, None).unwrap_err();
        assert_eq!((e.column, e.kind), (5, LobsterErrorKind::BadLevel));
        // Depth differs from the file's.
        let e = parse_book_row("5859400,200,5853300,18", 2, Some(2)).unwrap_err();
        assert_eq!(e.column, 0);
        // A real price with size zero is neither a level nor the empty marker.
        let e = parse_book_row("5859400,0,5853300,18", 2, None).unwrap_err();
        assert_eq!((e.column, e.kind), (2, LobsterErrorKind::BadLevel));
    }
}
