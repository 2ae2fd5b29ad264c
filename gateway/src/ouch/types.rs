//! OUCH 4.2 field types: tokens, symbols, prices in 1/10,000, and the coded alpha fields.
//!
//! Data types (OUCH 4.2 section 2): integers are unsigned big-endian binary; alpha fields are
//! left-justified and padded on the right with spaces; prices are 4-byte integers with four
//! implied decimals (the largest limit price is $199,999.9900, `0x7FFFFFFF` marks a market
//! cross order); timestamps are nanoseconds since midnight.

use crate::wire::{put_alpha_left, trim_spaces};
use core::fmt;
use kestrel_core::{Price, Side};

/// A value on the wire that a typed field does not accept (the byte found).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidCode(pub u8);

macro_rules! alpha_field {
    ($(#[doc = $doc:literal])* $name:ident, $width:literal) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $width]);

        impl $name {
            /// All spaces.
            pub const BLANK: Self = Self([b' '; $width]);

            /// Left-justified and space padded; `None` if longer than the field or not
            /// printable ASCII.
            pub fn new(text: &str) -> Option<Self> {
                put_alpha_left(text.as_bytes()).map(Self)
            }

            /// The text without its padding.
            pub fn trimmed(&self) -> &[u8] {
                trim_spaces(&self.0)
            }

            /// The text without its padding, as a `&str` (empty if not UTF-8).
            pub fn as_str(&self) -> &str {
                core::str::from_utf8(self.trimmed()).unwrap_or("")
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), String::from_utf8_lossy(&self.0))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&String::from_utf8_lossy(self.trimmed()))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::BLANK
            }
        }
    };
}

alpha_field! {
    /// Order Token (14 alpha): the client's day-unique order identifier.
    Token, 14
}
alpha_field! {
    /// Stock (8 alpha): the symbol.
    Stock, 8
}
alpha_field! {
    /// Firm (4 alpha): the MPID, blank for the port's default.
    Firm, 4
}

/// A price as OUCH carries it: an unsigned 4-byte integer in 1/10,000 of a dollar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Price4(pub u32);

impl Price4 {
    /// The largest limit price: $199,999.9900.
    pub const MAX_LIMIT: Self = Self(1_999_999_900);
    /// The special price of a market order in a cross.
    pub const MARKET_CROSS: Self = Self(0x7FFF_FFFF);

    /// `price` exactly at four decimals, positive and at most [`Price4::MAX_LIMIT`].
    #[inline]
    pub fn from_price(price: Price) -> Option<Self> {
        let scaled = price.to_scaled(4)?;
        if scaled < 0 || scaled > i64::from(Self::MAX_LIMIT.0) {
            return None;
        }
        Some(Self(scaled as u32))
    }

    /// As a fixed-point [`Price`] (exact).
    #[inline]
    pub fn to_price(self) -> Price {
        Price::from_raw(i64::from(self.0) * 10_000)
    }
}

/// Buy/Sell Indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuySell {
    /// `B` buy.
    Buy,
    /// `S` sell.
    Sell,
    /// `T` sell short.
    SellShort,
    /// `E` sell short exempt.
    SellShortExempt,
}

impl BuySell {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            BuySell::Buy => b'B',
            BuySell::Sell => b'S',
            BuySell::SellShort => b'T',
            BuySell::SellShortExempt => b'E',
        }
    }

    /// From the wire code.
    pub const fn from_code(code: u8) -> Result<Self, InvalidCode> {
        match code {
            b'B' => Ok(BuySell::Buy),
            b'S' => Ok(BuySell::Sell),
            b'T' => Ok(BuySell::SellShort),
            b'E' => Ok(BuySell::SellShortExempt),
            other => Err(InvalidCode(other)),
        }
    }

    /// Book side: every sell variant is a sell.
    pub const fn side(self) -> Side {
        match self {
            BuySell::Buy => Side::Buy,
            _ => Side::Sell,
        }
    }

    /// `B` or `S` for a book side.
    pub const fn from_side(side: Side) -> Self {
        match side {
            Side::Buy => BuySell::Buy,
            Side::Sell => BuySell::Sell,
        }
    }
}

/// Intermarket Sweep Eligibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IsoEligibility {
    /// `Y` eligible.
    Eligible,
    /// `N` not eligible.
    NotEligible,
}

impl IsoEligibility {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            IsoEligibility::Eligible => b'Y',
            IsoEligibility::NotEligible => b'N',
        }
    }

    /// From the wire code.
    pub const fn from_code(code: u8) -> Result<Self, InvalidCode> {
        match code {
            b'Y' => Ok(IsoEligibility::Eligible),
            b'N' => Ok(IsoEligibility::NotEligible),
            other => Err(InvalidCode(other)),
        }
    }
}

/// Order State in Accepted and Replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// `L` the order is live on the book.
    Live,
    /// `D` the order was accepted and is already dead (an IOC that did not execute, ...).
    Dead,
}

impl OrderState {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            OrderState::Live => b'L',
            OrderState::Dead => b'D',
        }
    }

    /// From the wire code.
    pub const fn from_code(code: u8) -> Result<Self, InvalidCode> {
        match code {
            b'L' => Ok(OrderState::Live),
            b'D' => Ok(OrderState::Dead),
            other => Err(InvalidCode(other)),
        }
    }
}

/// System Event code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventCode {
    /// `S` start of day.
    StartOfDay,
    /// `E` end of day.
    EndOfDay,
}

impl EventCode {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            EventCode::StartOfDay => b'S',
            EventCode::EndOfDay => b'E',
        }
    }

    /// From the wire code.
    pub const fn from_code(code: u8) -> Result<Self, InvalidCode> {
        match code {
            b'S' => Ok(EventCode::StartOfDay),
            b'E' => Ok(EventCode::EndOfDay),
            other => Err(InvalidCode(other)),
        }
    }
}

/// Time in Force values with a special meaning; any other value is a lifetime in seconds.
pub mod tif {
    /// Immediate or cancel.
    pub const IOC: u32 = 0;
    /// Until the end of market hours.
    pub const MARKET_HOURS: u32 = 99_998;
    /// Until the end of system hours ("day" on a NASDAQ port).
    pub const SYSTEM_HOURS: u32 = 99_999;
}

/// Display codes (Enter Order, Replace Order, Accepted, Replaced, Order Priority Update).
pub mod display {
    /// `A` attributable, price to display.
    pub const ATTRIBUTABLE: u8 = b'A';
    /// `Y` anonymous, price to comply.
    pub const ANONYMOUS: u8 = b'Y';
    /// `N` non-display.
    pub const NON_DISPLAY: u8 = b'N';
    /// `P` post-only.
    pub const POST_ONLY: u8 = b'P';
    /// `I` imbalance-only.
    pub const IMBALANCE_ONLY: u8 = b'I';
    /// `M` mid-point peg.
    pub const MIDPOINT_PEG: u8 = b'M';
    /// `W` mid-point peg post-only.
    pub const MIDPOINT_PEG_POST_ONLY: u8 = b'W';
    /// `L` post-only and attributable, price to display.
    pub const POST_ONLY_ATTRIBUTABLE: u8 = b'L';
    /// `O` retail order type 1.
    pub const RETAIL_1: u8 = b'O';
    /// `T` retail order type 2.
    pub const RETAIL_2: u8 = b'T';
    /// `Q` retail price improvement order.
    pub const RETAIL_PRICE_IMPROVEMENT: u8 = b'Q';
    /// `Z` (outbound only) entered as displayed, changed to non-displayed (priced to comply).
    pub const CHANGED_TO_NON_DISPLAY: u8 = b'Z';
}

/// Capacity codes.
pub mod capacity {
    /// `A` agency.
    pub const AGENCY: u8 = b'A';
    /// `P` principal.
    pub const PRINCIPAL: u8 = b'P';
    /// `R` riskless principal.
    pub const RISKLESS: u8 = b'R';
    /// `O` other.
    pub const OTHER: u8 = b'O';
}

/// Cross Type codes.
pub mod cross_type {
    /// `N` continuous market (no cross).
    pub const NO_CROSS: u8 = b'N';
    /// `O` opening cross.
    pub const OPENING: u8 = b'O';
    /// `C` closing cross.
    pub const CLOSING: u8 = b'C';
    /// `H` halt/IPO cross.
    pub const HALT_IPO: u8 = b'H';
    /// `S` supplemental order.
    pub const SUPPLEMENTAL: u8 = b'S';
    /// `R` retail.
    pub const RETAIL: u8 = b'R';
}

/// Customer Type codes.
pub mod customer_type {
    /// `R` retail designated order.
    pub const RETAIL: u8 = b'R';
    /// `N` not a retail designated order.
    pub const NOT_RETAIL: u8 = b'N';
    /// ` ` the port's default.
    pub const PORT_DEFAULT: u8 = b' ';
}

/// Canceled (and AIQ Canceled) reason codes.
pub mod cancel_reason {
    /// `U` user requested.
    pub const USER_REQUESTED: u8 = b'U';
    /// `I` immediate or cancel.
    pub const IMMEDIATE_OR_CANCEL: u8 = b'I';
    /// `T` timeout (time in force expired).
    pub const TIMEOUT: u8 = b'T';
    /// `S` supervisory.
    pub const SUPERVISORY: u8 = b'S';
    /// `D` regulatory restriction.
    pub const REGULATORY: u8 = b'D';
    /// `Q` self-match prevention.
    pub const SELF_MATCH_PREVENTION: u8 = b'Q';
    /// `Z` system cancel.
    pub const SYSTEM: u8 = b'Z';
    /// `C` cross cancel.
    pub const CROSS: u8 = b'C';
    /// `K` market collars.
    pub const MARKET_COLLARS: u8 = b'K';
    /// `H` halted.
    pub const HALTED: u8 = b'H';
    /// `X` open protection.
    pub const OPEN_PROTECTION: u8 = b'X';
    /// `E` closed.
    pub const CLOSED: u8 = b'E';
}

/// Rejected reason codes.
pub mod reject_reason {
    /// `T` test mode.
    pub const TEST_MODE: u8 = b'T';
    /// `H` halted.
    pub const HALTED: u8 = b'H';
    /// `Z` shares exceed the configured safety threshold.
    pub const SHARES_EXCEED_THRESHOLD: u8 = b'Z';
    /// `S` invalid stock.
    pub const INVALID_STOCK: u8 = b'S';
    /// `D` invalid display type.
    pub const INVALID_DISPLAY: u8 = b'D';
    /// `C` NASDAQ is closed.
    pub const CLOSED: u8 = b'C';
    /// `L` firm not authorized for the clearing type.
    pub const FIRM_NOT_AUTHORIZED: u8 = b'L';
    /// `M` outside permitted times for the clearing type.
    pub const OUTSIDE_PERMITTED_TIMES: u8 = b'M';
    /// `R` not allowed in this type of cross.
    pub const NOT_ALLOWED_IN_CROSS: u8 = b'R';
    /// `X` invalid price.
    pub const INVALID_PRICE: u8 = b'X';
    /// `N` invalid minimum quantity.
    pub const INVALID_MIN_QTY: u8 = b'N';
    /// `O` other.
    pub const OTHER: u8 = b'O';
    /// `W` invalid mid-point post-only price.
    pub const INVALID_MIDPOINT_POST_ONLY_PRICE: u8 = b'W';
    /// `a` reject all enabled (risk management).
    pub const REJECT_ALL: u8 = b'a';
    /// `m` exceeded shares limit (risk management).
    pub const EXCEEDED_SHARES_LIMIT: u8 = b'm';
    /// `n` exceeded dollar value limit (risk management).
    pub const EXCEEDED_DOLLAR_LIMIT: u8 = b'n';
}

/// Broken Trade reason codes.
pub mod broken_reason {
    /// `E` erroneous.
    pub const ERRONEOUS: u8 = b'E';
    /// `C` consent.
    pub const CONSENT: u8 = b'C';
    /// `S` supervisory.
    pub const SUPERVISORY: u8 = b'S';
    /// `X` external.
    pub const EXTERNAL: u8 = b'X';
}

/// A few Liquidity Flag codes (the venue publishes many more; the field is kept raw).
pub mod liquidity {
    /// `A` added.
    pub const ADDED: u8 = b'A';
    /// `R` removed.
    pub const REMOVED: u8 = b'R';
    /// `J` non-displayed, adding liquidity.
    pub const ADDED_NON_DISPLAYED: u8 = b'J';
}

/// BBO Weight Indicator codes.
pub mod bbo_weight {
    /// ` ` unspecified.
    pub const UNSPECIFIED: u8 = b' ';
    /// `0` 0-0.2%.
    pub const ZERO_TO_POINT_TWO: u8 = b'0';
    /// `1` 0.2-1%.
    pub const POINT_TWO_TO_ONE: u8 = b'1';
    /// `2` 1-2%.
    pub const ONE_TO_TWO: u8 = b'2';
    /// `3` greater than 2%.
    pub const ABOVE_TWO: u8 = b'3';
    /// `S` sets the QBBO while joining the NBBO.
    pub const SETS_QBBO: u8 = b'S';
    /// `N` improves the NBBO upon entry.
    pub const IMPROVES_NBBO: u8 = b'N';
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price4_converts_exactly() {
        let p: Price = "12.3456".parse().unwrap();
        assert_eq!(Price4::from_price(p), Some(Price4(123_456)));
        assert_eq!(Price4(123_456).to_price(), p);
        assert_eq!(Price4::from_price("1.00001".parse().unwrap()), None);
        assert_eq!(Price4::from_price("-1".parse().unwrap()), None);
        assert_eq!(
            Price4::from_price("199999.99".parse().unwrap()),
            Some(Price4::MAX_LIMIT)
        );
        assert_eq!(Price4::from_price("200000".parse().unwrap()), None);
    }

    #[test]
    fn codes_round_trip() {
        for b in [
            BuySell::Buy,
            BuySell::Sell,
            BuySell::SellShort,
            BuySell::SellShortExempt,
        ] {
            assert_eq!(BuySell::from_code(b.code()), Ok(b));
        }
        assert_eq!(BuySell::from_code(b'X'), Err(InvalidCode(b'X')));
        assert_eq!(BuySell::SellShort.side(), Side::Sell);
        assert_eq!(OrderState::from_code(b'D'), Ok(OrderState::Dead));
        assert_eq!(EventCode::from_code(b'Q'), Err(InvalidCode(b'Q')));
        assert_eq!(IsoEligibility::from_code(b'y'), Err(InvalidCode(b'y')));
    }

    #[test]
    fn alpha_fields_pad_right() {
        assert_eq!(Stock::new("AAPL").unwrap().0, *b"AAPL    ");
        assert_eq!(Token::new("ABC").unwrap().as_str(), "ABC");
        assert!(Stock::new("TOOLONGSYM").is_none());
    }
}
