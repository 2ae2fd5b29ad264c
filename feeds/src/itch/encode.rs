//! Writing normalised book events back out as ITCH 5.0 messages (for importers such as LOBSTER,
//! for the simulated exchange's publisher, and for round-trip tests).

use kestrel_core::{
    BookEventKind, MarketEvent, Price, Qty, Side, Timestamp, TradeKind, TradingStatus,
};

use super::error::EncodeError;
use super::messages::{
    AddOrderMsg, BrokenTradeMsg, CrossTradeMsg, MwcbStatusMsg, OperationalHaltMsg, OrderCancelMsg,
    OrderDeleteMsg, OrderExecutedMsg, OrderExecutedWithPriceMsg, OrderReplaceMsg,
    StockTradingActionMsg, TradeMsg, side_code,
};

/// Cross type written for a [`TradeKind::Cross`] trade (a `Q` message): `I`, intraday/post-close
/// cross, since a normalised event does not say which cross it was.
pub const DEFAULT_CROSS_TYPE: u8 = b'I';

/// Market code written in `h` messages: `Q`, NASDAQ.
pub const DEFAULT_MARKET_CODE: u8 = b'Q';

/// An ITCH `Price(4)` field for `price`: non-negative, exact at 4 decimals, fits `u32`.
pub fn price4(price: Price) -> Result<u32, EncodeError> {
    price
        .to_scaled(4)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(EncodeError::PriceNotRepresentable { raw: price.raw() })
}

/// A whole, non-negative number of shares that fits `T` (`u32` or `u64` share fields).
pub fn shares<T: TryFrom<i64>>(qty: Qty) -> Result<T, EncodeError> {
    qty.to_scaled(0)
        .filter(|v| *v >= 0)
        .and_then(|v| T::try_from(v).ok())
        .ok_or(EncodeError::QtyNotRepresentable { raw: qty.raw() })
}

/// A symbol as an ITCH `Alpha(8)` field: ASCII, left-justified, space padded; `None` when it
/// is longer than 8 bytes or not printable ASCII.
pub fn stock_field(symbol: &str) -> Option<[u8; 8]> {
    let bytes = symbol.as_bytes();
    if bytes.len() > 8 || !bytes.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let mut out = [b' '; 8];
    out.iter_mut().zip(bytes).for_each(|(o, b)| *o = *b);
    Some(out)
}

/// The ITCH trading-state byte of a status.
pub const fn trading_state_code(status: TradingStatus) -> u8 {
    match status {
        TradingStatus::Trading => b'T',
        TradingStatus::Halted => b'H',
        TradingStatus::Paused => b'P',
        TradingStatus::QuotationOnly => b'Q',
    }
}

/// Writes the ITCH message for one normalised book event into the start of `buf` and returns
/// its length.
///
/// `stock` fills the symbol field of `A`, `P`, `Q` and `H` messages (see [`stock_field`]);
/// `locate`, `tracking` and `ts` (nanoseconds since midnight, < 2^48) fill the header. The
/// event's own instrument and timestamp are not used: the caller maps them.
///
/// Add -> `A`, Execute -> `E`, ExecuteAtPrice -> `C` (printable `Y`), ExecuteNonPrintable ->
/// `C` (printable `N`), Cancel -> `X`, Delete -> `D`, Replace -> `U`, a cross Trade -> `Q`
/// (cross type [`DEFAULT_CROSS_TYPE`]), any other Trade -> `P` (order reference 0; side byte
/// the resting side when known, else `B` as NASDAQ writes it), Break -> `B`, Status -> `H`,
/// OperationalHalt -> `h` (market [`DEFAULT_MARKET_CODE`]), MarketWideHalt -> `W`. Match
/// numbers are written as the event carries them. Level and Clear events have no ITCH message.
pub fn encode_event(
    event: &MarketEvent,
    stock: [u8; 8],
    locate: u16,
    tracking: u16,
    ts: Timestamp,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let (stock_locate, tracking_number, timestamp) = (locate, tracking, ts.nanos());
    match event.kind {
        BookEventKind::Add {
            order_id,
            side,
            price,
            qty,
        } => AddOrderMsg {
            stock_locate,
            tracking_number,
            timestamp,
            order_ref: order_id.0,
            side_code: side_code(side),
            shares: shares(qty)?,
            stock,
            price: price4(price)?,
        }
        .encode(buf),
        BookEventKind::Execute {
            order_id,
            qty,
            match_number,
        } => OrderExecutedMsg {
            stock_locate,
            tracking_number,
            timestamp,
            order_ref: order_id.0,
            executed_shares: shares(qty)?,
            match_number,
        }
        .encode(buf),
        BookEventKind::ExecuteAtPrice {
            order_id,
            qty,
            price,
            match_number,
        } => OrderExecutedWithPriceMsg {
            stock_locate,
            tracking_number,
            timestamp,
            order_ref: order_id.0,
            executed_shares: shares(qty)?,
            match_number,
            printable: b'Y',
            execution_price: price4(price)?,
        }
        .encode(buf),
        BookEventKind::ExecuteNonPrintable {
            order_id,
            qty,
            price,
            match_number,
        } => OrderExecutedWithPriceMsg {
            stock_locate,
            tracking_number,
            timestamp,
            order_ref: order_id.0,
            executed_shares: shares(qty)?,
            match_number,
            printable: b'N',
            execution_price: price4(price)?,
        }
        .encode(buf),
        BookEventKind::Cancel { order_id, qty } => OrderCancelMsg {
            stock_locate,
            tracking_number,
            timestamp,
            order_ref: order_id.0,
            cancelled_shares: shares(qty)?,
        }
        .encode(buf),
        BookEventKind::Delete { order_id } => OrderDeleteMsg {
            stock_locate,
            tracking_number,
            timestamp,
            order_ref: order_id.0,
        }
        .encode(buf),
        BookEventKind::Replace {
            old_order_id,
            new_order_id,
            price,
            qty,
        } => OrderReplaceMsg {
            stock_locate,
            tracking_number,
            timestamp,
            original_order_ref: old_order_id.0,
            new_order_ref: new_order_id.0,
            shares: shares(qty)?,
            price: price4(price)?,
        }
        .encode(buf),
        BookEventKind::Trade {
            kind: TradeKind::Cross,
            price,
            qty,
            match_number,
            ..
        } => CrossTradeMsg {
            stock_locate,
            tracking_number,
            timestamp,
            shares: shares(qty)?,
            stock,
            cross_price: price4(price)?,
            match_number,
            cross_type: DEFAULT_CROSS_TYPE,
        }
        .encode(buf),
        BookEventKind::Trade {
            side,
            price,
            qty,
            match_number,
            ..
        } => trade_msg(
            side.unwrap_or(Side::Buy),
            price,
            qty,
            match_number,
            stock,
            (locate, tracking, timestamp),
        )?
        .encode(buf),
        BookEventKind::Break { match_number } => BrokenTradeMsg {
            stock_locate,
            tracking_number,
            timestamp,
            match_number,
        }
        .encode(buf),
        BookEventKind::Status(status) => StockTradingActionMsg {
            stock_locate,
            tracking_number,
            timestamp,
            stock,
            trading_state: trading_state_code(status),
            reserved: b' ',
            reason: [b' '; 4],
        }
        .encode(buf),
        BookEventKind::OperationalHalt { halted } => OperationalHaltMsg {
            stock_locate,
            tracking_number,
            timestamp,
            stock,
            market_code: DEFAULT_MARKET_CODE,
            operational_halt_action: if halted { b'H' } else { b'T' },
        }
        .encode(buf),
        BookEventKind::MarketWideHalt { level } => MwcbStatusMsg {
            stock_locate: 0,
            tracking_number,
            timestamp,
            breached_level: b'0'.saturating_add(level),
        }
        .encode(buf),
        BookEventKind::Level { .. } => Err(EncodeError::Unsupported("Level")),
        BookEventKind::Clear => Err(EncodeError::Unsupported("Clear")),
    }
}

fn trade_msg(
    side: Side,
    price: Price,
    qty: Qty,
    match_number: u64,
    stock: [u8; 8],
    (stock_locate, tracking_number, timestamp): (u16, u16, u64),
) -> Result<TradeMsg, EncodeError> {
    Ok(TradeMsg {
        stock_locate,
        tracking_number,
        timestamp,
        order_ref: 0,
        side_code: side_code(side),
        shares: shares(qty)?,
        stock,
        price: price4(price)?,
        match_number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::{Message, decode};
    use kestrel_core::{InstrumentId, OrderId};

    fn event(kind: BookEventKind) -> MarketEvent {
        MarketEvent {
            instrument: InstrumentId(0),
            exch_ts: Timestamp(0),
            kind,
        }
    }

    #[test]
    fn add_becomes_an_a_message() {
        let ev = event(BookEventKind::Add {
            order_id: OrderId(42),
            side: Side::Sell,
            price: "585.33".parse().unwrap(),
            qty: Qty::from_units(18).unwrap(),
        });
        let mut buf = [0u8; 64];
        let stock = stock_field("AAPL").unwrap();
        let n = encode_event(&ev, stock, 7, 1, Timestamp(34_200_017_459_000), &mut buf).unwrap();
        assert_eq!(n, 36);
        let Ok(Message::AddOrder(a)) = decode(&buf[..n]) else {
            panic!("not an A message")
        };
        assert_eq!(a.stock_locate(), 7);
        assert_eq!(a.tracking_number(), 1);
        assert_eq!(a.timestamp(), 34_200_017_459_000);
        assert_eq!(a.order_ref(), 42);
        assert_eq!(a.side(), Some(Side::Sell));
        assert_eq!(a.shares(), 18);
        assert_eq!(&a.stock(), b"AAPL    ");
        assert_eq!(a.price(), 5_853_300);
    }

    #[test]
    fn unrepresentable_values_are_typed_errors() {
        let mut buf = [0u8; 64];
        let stock = [b' '; 8];
        let fine_price = event(BookEventKind::Add {
            order_id: OrderId(1),
            side: Side::Buy,
            price: "1.00001".parse().unwrap(),
            qty: Qty::ONE,
        });
        assert_eq!(
            encode_event(&fine_price, stock, 1, 0, Timestamp(0), &mut buf),
            Err(EncodeError::PriceNotRepresentable { raw: 100_001_000 })
        );
        let half_share = event(BookEventKind::Cancel {
            order_id: OrderId(1),
            qty: "0.5".parse().unwrap(),
        });
        assert_eq!(
            encode_event(&half_share, stock, 1, 0, Timestamp(0), &mut buf),
            Err(EncodeError::QtyNotRepresentable { raw: 50_000_000 })
        );
        let del = event(BookEventKind::Delete {
            order_id: OrderId(1),
        });
        assert_eq!(
            encode_event(&del, stock, 1, 0, Timestamp(1 << 48), &mut buf),
            Err(EncodeError::TimestampOutOfRange(1 << 48))
        );
        assert_eq!(
            encode_event(&del, stock, 1, 0, Timestamp(0), &mut buf[..18]),
            Err(EncodeError::BufferTooSmall {
                needed: 19,
                available: 18
            })
        );
        assert_eq!(
            encode_event(
                &event(BookEventKind::Clear),
                stock,
                1,
                0,
                Timestamp(0),
                &mut buf
            ),
            Err(EncodeError::Unsupported("Clear"))
        );
        assert_eq!(
            price4(Price::from_units(-1).unwrap()),
            Err(EncodeError::PriceNotRepresentable { raw: -100_000_000 })
        );
        assert!(price4(Price::from_scaled(i64::from(u32::MAX) + 1, 4).unwrap()).is_err());
    }

    #[test]
    fn stock_fields_are_space_padded_ascii() {
        assert_eq!(stock_field("BOB"), Some(*b"BOB     "));
        assert_eq!(stock_field("ABCDEFGHI"), None);
        assert_eq!(stock_field("A B"), None);
        assert_eq!(stock_field(""), Some([b' '; 8]));
    }
}
