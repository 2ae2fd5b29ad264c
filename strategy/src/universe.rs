//! The strategy's universe resolved against the feed's instruments: which feed instruments the
//! strategy trades, and the dense strategy slot (`0..n`) of each.
//!
//! The feed keeps books for every instrument of a venue; the strategy's state (signals, alpha
//! models, the harmonizer's `n x n` covariance, and the O(n) work it does per update) is sized
//! to the universe. Only universe instruments' updates need to cross the feed -> strategy ring
//! ([`Universe::mask`] is the feed's filter). Inside the strategy engine, instruments are
//! slots; the [`crate::stage::StrategyStage`] maps feed ids to slots on the way in and slots
//! back to feed ids on the intents it emits.

use kestrel_core::{InstrumentId, InstrumentTable};

use crate::params::UniverseSpec;

/// Feed instruments above which a run must name its universe: the strategy's state grows
/// with the square of the universe (8,000 instruments would need about 1 GiB of covariance).
pub const MAX_IMPLICIT_UNIVERSE: usize = 512;

/// Marks a feed instrument outside the universe.
const OUTSIDE: u32 = u32::MAX;

/// Why a universe does not fit the feed's instruments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UniverseError {
    /// A symbol the feed does not know.
    #[error("universe symbol {symbol:?} is not among the feed's {known} instruments")]
    UnknownSymbol {
        /// The symbol.
        symbol: String,
        /// Instruments the feed knows.
        known: usize,
    },
    /// The feed has too many instruments to trade them all without saying so.
    #[error(
        "the feed has {instruments} instruments; name the strategy's universe (--symbols A,B or \
         a [universe] list in the strategy parameters; \"*\" for every instrument): its state \
         grows with the square of the universe"
    )]
    Implicit {
        /// Instruments the feed knows.
        instruments: usize,
    },
    /// No instruments at all.
    #[error("the universe is empty")]
    Empty,
}

/// Feed instrument ids of the strategy's slots, and the way back.
#[derive(Clone, Debug)]
pub struct Universe {
    /// Feed id of each slot.
    members: Vec<InstrumentId>,
    /// Feed id -> slot, or [`OUTSIDE`].
    slots: Vec<u32>,
    /// Slot `i` is feed id `i` for every feed instrument.
    identity: bool,
    /// The members' rows of the feed table, in slot order (ids = slots).
    table: InstrumentTable,
}

impl Universe {
    /// Every instrument of `table`, each in the slot of its own id.
    pub fn all(table: &InstrumentTable) -> Self {
        let n = table.len();
        Self {
            members: (0..n).map(|i| InstrumentId(i as u32)).collect(),
            slots: (0..n as u32).collect(),
            identity: true,
            table: table.clone(),
        }
    }

    /// The universe `spec` names (`None`: every instrument, allowed up to
    /// [`MAX_IMPLICIT_UNIVERSE`]) resolved against the feed's `table`.
    pub fn resolve(
        table: &InstrumentTable,
        spec: Option<&UniverseSpec>,
    ) -> Result<Self, UniverseError> {
        let symbols = match spec {
            None if table.len() > MAX_IMPLICIT_UNIVERSE => {
                return Err(UniverseError::Implicit {
                    instruments: table.len(),
                });
            }
            None | Some(UniverseSpec::All) => return Ok(Self::all(table)),
            Some(UniverseSpec::Symbols(s)) => s,
        };
        if symbols.is_empty() {
            return Err(UniverseError::Empty);
        }
        let mut members = Vec::with_capacity(symbols.len());
        let mut slots = vec![OUTSIDE; table.len()];
        let mut sub = InstrumentTable::new();
        for symbol in symbols {
            let Some(id) = table.id_of(symbol) else {
                return Err(UniverseError::UnknownSymbol {
                    symbol: symbol.clone(),
                    known: table.len(),
                });
            };
            let Some(row) = table.get(id) else {
                return Err(UniverseError::UnknownSymbol {
                    symbol: symbol.clone(),
                    known: table.len(),
                });
            };
            if let Some(s) = slots.get_mut(id.index()) {
                *s = members.len() as u32;
            }
            members.push(id);
            // Symbols are distinct (UniverseSpec), so the sub-table cannot refuse one.
            let _ = sub.add(&row.symbol, row.tick_size, row.lot_size, row.price_decimals);
        }
        let identity = members.len() == table.len()
            && members.iter().enumerate().all(|(i, id)| id.index() == i);
        Ok(Self {
            members,
            slots,
            identity,
            table: sub,
        })
    }

    /// Instruments in the universe.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the universe is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether slots are feed ids (every feed instrument, in id order): no mapping needed.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// The slot of a feed instrument, `None` outside the universe.
    #[inline]
    pub fn slot(&self, id: InstrumentId) -> Option<InstrumentId> {
        match self.slots.get(id.index()) {
            Some(&s) if s != OUTSIDE => Some(InstrumentId(s)),
            _ => None,
        }
    }

    /// The feed instrument of a slot.
    #[inline]
    pub fn member(&self, slot: InstrumentId) -> Option<InstrumentId> {
        self.members.get(slot.index()).copied()
    }

    /// Feed ids in slot order.
    pub fn members(&self) -> &[InstrumentId] {
        &self.members
    }

    /// The universe's rows of the feed's table, in slot order (ids are slots): what the
    /// strategy's state is sized from.
    pub fn table(&self) -> &InstrumentTable {
        &self.table
    }

    /// Per feed instrument: whether its updates go to the strategy (the feed's filter). Feed
    /// instruments learned later (beyond the mask) are outside.
    pub fn mask(&self) -> Vec<bool> {
        self.slots.iter().map(|&s| s != OUTSIDE).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{Price, Qty};

    fn table(n: usize) -> InstrumentTable {
        let mut t = InstrumentTable::new();
        for i in 0..n {
            t.add(&format!("S{i}"), Price::from_raw(1_000_000), Qty::ONE, 4)
                .unwrap();
        }
        t
    }

    #[test]
    fn symbols_map_to_slots_both_ways() {
        let t = table(5);
        let spec = UniverseSpec::Symbols(vec!["S3".into(), "S1".into()]);
        let u = Universe::resolve(&t, Some(&spec)).unwrap();
        assert_eq!(u.len(), 2);
        assert!(!u.is_identity());
        assert_eq!(u.slot(InstrumentId(3)), Some(InstrumentId(0)));
        assert_eq!(u.slot(InstrumentId(1)), Some(InstrumentId(1)));
        assert_eq!(u.slot(InstrumentId(0)), None);
        assert_eq!(u.slot(InstrumentId(99)), None);
        assert_eq!(u.member(InstrumentId(0)), Some(InstrumentId(3)));
        assert_eq!(u.mask(), vec![false, true, false, true, false]);
        assert_eq!(u.table().len(), 2);
        assert_eq!(u.table().id_of("S3"), Some(InstrumentId(0)));
    }

    #[test]
    fn implicit_universes_are_bounded_and_all_is_identity() {
        let small = table(3);
        assert!(Universe::resolve(&small, None).unwrap().is_identity());
        let big = table(MAX_IMPLICIT_UNIVERSE + 1);
        assert!(matches!(
            Universe::resolve(&big, None),
            Err(UniverseError::Implicit { .. })
        ));
        let all = Universe::resolve(&big, Some(&UniverseSpec::All)).unwrap();
        assert_eq!(all.len(), MAX_IMPLICIT_UNIVERSE + 1);
        assert!(all.is_identity());
        let in_order = UniverseSpec::Symbols(vec!["S0".into(), "S1".into(), "S2".into()]);
        assert!(
            Universe::resolve(&small, Some(&in_order))
                .unwrap()
                .is_identity()
        );
    }

    #[test]
    fn unknown_symbols_are_errors() {
        let spec = UniverseSpec::Symbols(vec!["NOPE".into()]);
        assert_eq!(
            Universe::resolve(&table(2), Some(&spec)).unwrap_err(),
            UniverseError::UnknownSymbol {
                symbol: "NOPE".into(),
                known: 2
            }
        );
    }
}
