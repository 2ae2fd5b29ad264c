//! Instrument metadata and the symbol -> dense id table.

use std::collections::HashMap;

use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;

/// How an instrument's minimum price increment is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TickRule {
    /// The US equity rule (Reg NMS Rule 612): 0.01 for prices at or above $1.00, 0.0001 below.
    /// The rule for every US equity venue that does not say otherwise (ITCH, LOBSTER).
    UsEquity,
    /// One increment at every price, as the venue says (crypto, futures).
    Fixed(Price),
}

/// The US equity tick at or above [`US_EQUITY_TICK_BREAK`]: 0.01.
pub const US_EQUITY_TICK: Price = Price::from_raw(1_000_000);
/// The US equity tick below [`US_EQUITY_TICK_BREAK`]: 0.0001.
pub const US_EQUITY_SUB_DOLLAR_TICK: Price = Price::from_raw(10_000);
/// The price from which the US equity tick is 0.01: $1.00.
pub const US_EQUITY_TICK_BREAK: Price = Price::ONE;

impl TickRule {
    /// The rule a stored tick size stands for: a positive size is [`TickRule::Fixed`]; zero (or
    /// negative) means the venue gave none, [`TickRule::UsEquity`].
    #[inline]
    pub fn from_tick_size(tick_size: Price) -> Self {
        if tick_size.is_positive() {
            Self::Fixed(tick_size)
        } else {
            Self::UsEquity
        }
    }

    /// The tick size to store for this rule (zero for [`TickRule::UsEquity`]).
    #[inline]
    pub fn tick_size(self) -> Price {
        match self {
            Self::UsEquity => Price::ZERO,
            Self::Fixed(tick) => tick,
        }
    }

    /// The minimum increment for a quote at `price`.
    #[inline]
    pub fn tick_at(self, price: Price) -> Price {
        match self {
            Self::UsEquity if price >= US_EQUITY_TICK_BREAK => US_EQUITY_TICK,
            Self::UsEquity => US_EQUITY_SUB_DOLLAR_TICK,
            Self::Fixed(tick) => tick,
        }
    }

    /// The increment a quoted spread `[bid, ask]` is counted in: the tick at the bid (the finer
    /// one when the spread straddles $1.00).
    #[inline]
    pub fn spread_tick(self, bid: Price, _ask: Price) -> Price {
        self.tick_at(bid)
    }
}

/// Static description of one instrument, resolved at start (off the hot path).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Instrument {
    /// Dense id: the index of this instrument in every per-instrument vector.
    pub id: InstrumentId,
    /// Venue symbol, e.g. `AAPL` or `BTCUSDT`.
    pub symbol: String,
    /// Minimum price increment when the venue sets one; zero means the venue sets none and
    /// the US equity rule applies ([`Instrument::tick_rule`]).
    pub tick_size: Price,
    /// Minimum quantity increment.
    pub lot_size: Qty,
    /// Decimals the venue quotes prices with (ITCH: 4; display only, storage is always 8).
    pub price_decimals: u8,
}

impl Instrument {
    /// The instrument's tick rule (see [`TickRule::from_tick_size`]).
    #[inline]
    pub fn tick_rule(&self) -> TickRule {
        TickRule::from_tick_size(self.tick_size)
    }
}

/// Errors building an [`InstrumentTable`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// The same symbol was added twice.
    #[error("duplicate symbol {0:?}")]
    DuplicateSymbol(String),
    /// More instruments than a `u32` id can name.
    #[error("too many instruments")]
    TooMany,
}

/// All instruments of a session, indexed by dense id, with a symbol lookup for start-up.
#[derive(Clone, Debug, Default)]
pub struct InstrumentTable {
    instruments: Vec<Instrument>,
    by_symbol: HashMap<String, InstrumentId>,
}

impl InstrumentTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an instrument and returns its dense id.
    pub fn add(
        &mut self,
        symbol: &str,
        tick_size: Price,
        lot_size: Qty,
        price_decimals: u8,
    ) -> Result<InstrumentId, InstrumentError> {
        if self.by_symbol.contains_key(symbol) {
            return Err(InstrumentError::DuplicateSymbol(symbol.to_owned()));
        }
        let id = InstrumentId(
            u32::try_from(self.instruments.len()).map_err(|_| InstrumentError::TooMany)?,
        );
        self.instruments.push(Instrument {
            id,
            symbol: symbol.to_owned(),
            tick_size,
            lot_size,
            price_decimals,
        });
        self.by_symbol.insert(symbol.to_owned(), id);
        Ok(id)
    }

    /// The id of `symbol`, if known.
    pub fn id_of(&self, symbol: &str) -> Option<InstrumentId> {
        self.by_symbol.get(symbol).copied()
    }

    /// The instrument with this id, if any.
    pub fn get(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id.index())
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// All instruments in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_equity_tick_rule() {
        let px = |s: &str| s.parse::<Price>().unwrap();
        let rule = TickRule::from_tick_size(Price::ZERO);
        assert_eq!(rule, TickRule::UsEquity);
        assert_eq!(rule.tick_at(px("1.00")), px("0.01"));
        assert_eq!(rule.tick_at(px("585.33")), px("0.01"));
        assert_eq!(rule.tick_at(px("0.9999")), px("0.0001"));
        assert_eq!(rule.spread_tick(px("0.9999"), px("1.01")), px("0.0001"));
        assert_eq!(rule.tick_size(), Price::ZERO);
        let fixed = TickRule::from_tick_size(px("0.5"));
        assert_eq!(fixed.tick_at(px("0.01")), px("0.5"));
        assert_eq!(fixed.tick_size(), px("0.5"));
    }

    #[test]
    fn dense_ids_and_duplicates() {
        let mut t = InstrumentTable::new();
        let a = t
            .add("AAPL", Price::from_raw(1_000_000), Qty::ONE, 4)
            .unwrap();
        let b = t
            .add("MSFT", Price::from_raw(1_000_000), Qty::ONE, 4)
            .unwrap();
        assert_eq!((a, b), (InstrumentId(0), InstrumentId(1)));
        assert_eq!(t.id_of("MSFT"), Some(b));
        assert_eq!(t.get(a).unwrap().symbol, "AAPL");
        assert!(matches!(
            t.add("AAPL", Price::ONE, Qty::ONE, 4),
            Err(InstrumentError::DuplicateSymbol(_))
        ));
    }
}
