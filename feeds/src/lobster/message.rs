//! LOBSTER message rows: `time, type, order_id, size, price, direction`.

use kestrel_core::{Side, Timestamp};

use super::error::{LobsterError, LobsterErrorKind};
use super::fields::{parse_int, parse_time_ns};

/// Order references at or above this value are reserved for the importer's synthetic orders
/// (liquidity that predates the capture or surfaces from beyond the visible window).
pub const SYNTHETIC_REF_BASE: u64 = 1 << 62;

/// The seven LOBSTER event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LobsterEventType {
    /// 1: a new visible limit order.
    Submit,
    /// 2: part of a resting order is cancelled.
    PartialCancel,
    /// 3: a resting order is deleted.
    Delete,
    /// 4: a visible resting order executes (partly or fully).
    ExecuteVisible,
    /// 5: a hidden order executes: no change to the visible book.
    ExecuteHidden,
    /// 6: a cross trade (auction).
    Cross,
    /// 7: trading halt indicator (price -1 halt, 0 quote-only, 1 resume).
    Halt,
}

impl LobsterEventType {
    /// The type for LOBSTER's numeric code.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => Self::Submit,
            2 => Self::PartialCancel,
            3 => Self::Delete,
            4 => Self::ExecuteVisible,
            5 => Self::ExecuteHidden,
            6 => Self::Cross,
            7 => Self::Halt,
            _ => return None,
        })
    }
}

/// Which cross a type-6 row reports. LOBSTER gives a cross row a negative pseudo order id:
/// -1 the opening cross, -2 the closing cross, -3 and -4 the IPO, halt/pause, cross-network
/// and other intraday crosses (it does not tell those apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrossKind {
    /// Order id -1: the opening cross (ITCH cross type `O`).
    Opening,
    /// Order id -2: the closing cross (ITCH `C`).
    Closing,
    /// Order id -3: an IPO or halt/pause cross (ITCH `H`).
    HaltOrIpo,
    /// Order id -4, any other id: an intraday or cross-network cross (ITCH `I`).
    Intraday,
}

impl CrossKind {
    /// The cross a type-6 row's order id names.
    pub const fn from_order_id(id: i64) -> Self {
        match id {
            -1 => Self::Opening,
            -2 => Self::Closing,
            -3 => Self::HaltOrIpo,
            _ => Self::Intraday,
        }
    }

    /// The ITCH 5.0 `Q` message's cross type byte.
    pub const fn itch_cross_type(self) -> u8 {
        match self {
            Self::Opening => b'O',
            Self::Closing => b'C',
            Self::HaltOrIpo => b'H',
            Self::Intraday => b'I',
        }
    }
}

/// One parsed message row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LobsterMessage {
    /// 1-based line number in the message file (= the book row it pairs with).
    pub line: usize,
    /// Nanoseconds after midnight.
    pub time: Timestamp,
    /// Event type.
    pub event: LobsterEventType,
    /// LOBSTER order id (0 for events without one, and for cross rows: see `cross`).
    pub order_id: u64,
    /// For a cross row (type 6), which cross its negative pseudo order id names.
    pub cross: Option<CrossKind>,
    /// Shares.
    pub size: u32,
    /// Price in dollars x 10^4 (for [`LobsterEventType::Halt`]: -1, 0 or 1).
    pub price: i64,
    /// Side of the order the event concerns (`1` buy, `-1` sell).
    pub side: Side,
}

/// Number of columns in a message row.
pub const MESSAGE_COLUMNS: usize = 6;

/// Parses one message row. `line` is the 1-based line number, used in errors.
pub fn parse_message_row(text: &str, line: usize) -> Result<LobsterMessage, LobsterError> {
    let err = |column: usize, kind: LobsterErrorKind| LobsterError { line, column, kind };
    let mut fields = [""; MESSAGE_COLUMNS];
    let mut found = 0usize;
    for field in text.trim_end_matches(['\r', '\n']).split(',') {
        if let Some(slot) = fields.get_mut(found) {
            *slot = field;
        }
        found += 1;
    }
    if found != MESSAGE_COLUMNS {
        return Err(err(
            0,
            LobsterErrorKind::FieldCount {
                expected: MESSAGE_COLUMNS,
                found,
            },
        ));
    }
    let [time, event, order_id, size, price, direction] = fields;
    let time = parse_time_ns(time).map_err(|k| err(1, k))?;
    let code = parse_int(event).map_err(|k| err(2, k))?;
    let event = LobsterEventType::from_code(code)
        .ok_or(err(2, LobsterErrorKind::UnknownEventType(code)))?;
    let order_id = parse_int(order_id).map_err(|k| err(3, k))?;
    // A cross is an aggregate of executions already in the file, not an order: LOBSTER gives
    // it a negative pseudo id naming the cross.
    let (order_id, cross) = if event == LobsterEventType::Cross {
        (0, Some(CrossKind::from_order_id(order_id)))
    } else {
        let id = u64::try_from(order_id)
            .ok()
            .filter(|&id| id < SYNTHETIC_REF_BASE)
            .ok_or(err(3, LobsterErrorKind::BadOrderId(order_id)))?;
        (id, None)
    };
    let size = parse_int(size).map_err(|k| err(4, k))?;
    let size = u32::try_from(size).map_err(|_| err(4, LobsterErrorKind::BadSize(size)))?;
    let price = parse_int(price).map_err(|k| err(5, k))?;
    let price_ok = match event {
        LobsterEventType::Halt => (-1..=1).contains(&price),
        _ => price > 0 && price <= i64::from(u32::MAX),
    };
    if !price_ok {
        return Err(err(5, LobsterErrorKind::BadPrice(price)));
    }
    let direction = parse_int(direction).map_err(|k| err(6, k))?;
    let side = match (direction, event) {
        (1, _) => Side::Buy,
        (-1, _) => Side::Sell,
        // A cross or a halt concerns no order: LOBSTER writes -1, a 0 is read as "no side".
        (0, LobsterEventType::Cross | LobsterEventType::Halt) => Side::Sell,
        (other, _) => return Err(err(6, LobsterErrorKind::BadDirection(other))),
    };
    Ok(LobsterMessage {
        line,
        time: Timestamp(time),
        event,
        order_id,
        cross,
        size,
        price,
        side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_row() {
        let m = parse_message_row("34200.004241176,1,16113575,18,5853300,1", 1).unwrap();
        assert_eq!(m.time, Timestamp(34_200_004_241_176));
        assert_eq!(m.event, LobsterEventType::Submit);
        assert_eq!((m.order_id, m.size, m.price), (16_113_575, 18, 5_853_300));
        assert_eq!(m.side, Side::Buy);
        let m = parse_message_row("34200.1,7,0,0,-1,-1\r\n", 2).unwrap();
        assert_eq!(
            (m.event, m.price, m.side),
            (LobsterEventType::Halt, -1, Side::Sell)
        );
    }

    #[test]
    fn cross_rows_carry_negative_pseudo_ids_and_halts_carry_no_order() {
        // LOBSTER's documented cross rows: order id -1 opening, -2 closing, -3/-4 others.
        let m = parse_message_row("34200.189,6,-1,1240787,5850000,-1", 1).unwrap();
        assert_eq!(m.event, LobsterEventType::Cross);
        assert_eq!((m.order_id, m.size, m.price), (0, 1_240_787, 5_850_000));
        assert_eq!(m.cross, Some(CrossKind::Opening));
        let kinds: Vec<u8> = ["-1", "-2", "-3", "-4"]
            .iter()
            .map(|id| {
                let row = format!("57599.9,6,{id},100,5850000,1");
                let m = parse_message_row(&row, 2).unwrap();
                m.cross.unwrap().itch_cross_type()
            })
            .collect();
        assert_eq!(kinds, b"OCHI");
        // Halt, quote-only and resume rows: order id, size 0, direction -1.
        for (price, line) in [
            (-1, "41000.5,7,0,0,-1,-1"),
            (0, "41100,7,0,0,0,-1"),
            (1, "41200,7,0,0,1,-1"),
        ] {
            let m = parse_message_row(line, 3).unwrap();
            assert_eq!(
                (m.event, m.price, m.size, m.cross),
                (LobsterEventType::Halt, price, 0, None)
            );
        }
        // A negative id on anything but a cross is still an error.
        let e = parse_message_row("34200.1,4,-1,5,100,1", 4).unwrap_err();
        assert_eq!((e.column, e.kind), (3, LobsterErrorKind::BadOrderId(-1)));
        let e = parse_message_row("34200.1,7,0,0,2,-1", 5).unwrap_err();
        assert_eq!((e.column, e.kind), (5, LobsterErrorKind::BadPrice(2)));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_message_row("34200.1,9,1,1,100,1", 7).unwrap_err();
        assert_eq!(
            e,
            LobsterError {
                line: 7,
                column: 2,
                kind: LobsterErrorKind::UnknownEventType(9)
            }
        );
        let e = parse_message_row("34200.1,1,1,x,100,1", 3).unwrap_err();
        assert_eq!((e.line, e.column), (3, 4));
        let e = parse_message_row("34200.1,1,1,1,100,0", 3).unwrap_err();
        assert_eq!(e.kind, LobsterErrorKind::BadDirection(0));
        let e = parse_message_row("34200.1,1,1,1,100", 4).unwrap_err();
        assert_eq!(
            (e.column, e.kind),
            (
                0,
                LobsterErrorKind::FieldCount {
                    expected: 6,
                    found: 5
                }
            )
        );
        let e = parse_message_row("34200.1,1,1,-5,100,1", 5).unwrap_err();
        assert_eq!(e.kind, LobsterErrorKind::BadSize(-5));
        let e = parse_message_row("34200.1,1,1,5,0,1", 5).unwrap_err();
        assert_eq!((e.column, e.kind), (5, LobsterErrorKind::BadPrice(0)));
        let big = (SYNTHETIC_REF_BASE as i64).to_string();
        let e = parse_message_row(&format!("34200.1,1,{big},5,10,1"), 6).unwrap_err();
        assert_eq!(e.column, 3);
    }
}
