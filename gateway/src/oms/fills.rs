//! The session's fill log: every execution applied, by match number, so a broken trade can be
//! found and positions rebuilt without it, and a repeated execution is recognised.

use super::id_map::IdMap;
use kestrel_core::{InstrumentId, Price, Side, Timestamp};

/// One execution applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fill {
    /// Venue match number.
    pub match_number: u64,
    /// OMS order id (0: an order the OMS had no record of).
    pub order: u64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Shares.
    pub shares: u32,
    /// Price.
    pub price: Price,
    /// Fee charged (1e-8 dollars; negative: rebate).
    pub fee: i128,
    /// Liquidity flag.
    pub liquidity: u8,
    /// Venue timestamp.
    pub venue_time: u64,
    /// Gateway clock when applied.
    pub at: Timestamp,
    /// Broken by the venue since.
    pub broken: bool,
}

/// Fills in arrival order, indexed by match number.
#[derive(Debug)]
pub struct FillLog {
    fills: Vec<Fill>,
    by_match: IdMap,
    growths: u64,
}

impl FillLog {
    /// A log preallocated for `capacity` fills (more are kept; growth is counted).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            fills: Vec::with_capacity(capacity),
            by_match: IdMap::with_capacity(capacity),
            growths: 0,
        }
    }

    /// Whether a fill with this match number and order was applied already.
    pub fn seen(&self, match_number: u64, order: u64) -> bool {
        self.by_match
            .get(match_number)
            .and_then(|i| self.fills.get(i as usize))
            .is_some_and(|f| f.order == order)
    }

    /// Records a fill.
    pub fn push(&mut self, fill: Fill) {
        if self.fills.len() == self.fills.capacity() {
            self.growths += 1;
        }
        let index = self.fills.len() as u32;
        self.fills.push(fill);
        // A full index only loses the broken-trade lookup for later fills, never the fill.
        self.by_match.insert(fill.match_number, index);
    }

    /// Marks the fill with `match_number` broken and returns it (once).
    pub fn break_fill(&mut self, match_number: u64) -> Option<Fill> {
        let i = self.by_match.get(match_number)? as usize;
        let f = self.fills.get_mut(i)?;
        if f.broken {
            return None;
        }
        f.broken = true;
        Some(*f)
    }

    /// Every fill, in order (broken ones flagged).
    pub fn all(&self) -> &[Fill] {
        &self.fills
    }

    /// Times the log grew past its preallocation.
    pub fn growths(&self) -> u64 {
        self.growths
    }
}
