//! Instrument metadata and the symbol -> dense id table.

use std::collections::HashMap;

use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;

/// Static description of one instrument, resolved at start (off the hot path).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Instrument {
    /// Dense id: the index of this instrument in every per-instrument vector.
    pub id: InstrumentId,
    /// Venue symbol, e.g. `AAPL` or `BTCUSDT`.
    pub symbol: String,
    /// Minimum price increment.
    pub tick_size: Price,
    /// Minimum quantity increment.
    pub lot_size: Qty,
    /// Decimals the venue quotes prices with (ITCH: 4; display only, storage is always 8).
    pub price_decimals: u8,
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
