//! One side's price levels, sorted so the best is at the end of a vector.
//!
//! Keys grow toward the best price on both sides (the raw price for bids, its complement for
//! asks), so activity near the touch inserts and removes near the end and moves few elements.
//! Look-ups scan a few levels from the best end and fall back to a binary search.

use kestrel_core::{Price, Side};

/// Levels scanned linearly from the best end before the binary search.
const LINEAR_SCAN: usize = 8;

/// The sort key of `price` on `side`: larger is better on both sides.
#[inline]
pub(crate) const fn side_key(side: Side, price: Price) -> i64 {
    match side {
        Side::Buy => price.raw(),
        Side::Sell => !price.raw(),
    }
}

/// A level's key and its index in the level pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rung {
    pub(crate) key: i64,
    pub(crate) level: u32,
}

/// The sorted levels of one side, best last.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ladder {
    rungs: Vec<Rung>,
}

impl Ladder {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            rungs: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.rungs.len()
    }

    /// The rung at `index` (0 = worst).
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<Rung> {
        self.rungs.get(index).copied()
    }

    /// The best rung.
    #[inline]
    pub(crate) fn best(&self) -> Option<Rung> {
        self.rungs.last().copied()
    }

    /// Rungs best first.
    #[inline]
    pub(crate) fn iter_best_first(&self) -> impl Iterator<Item = &Rung> + '_ {
        self.rungs.iter().rev()
    }

    /// `Ok(index)` of the level with `key`, or `Err(index)` where it would go.
    #[inline]
    pub(crate) fn locate(&self, key: i64) -> Result<usize, usize> {
        let len = self.rungs.len();
        for (back, rung) in self.rungs.iter().rev().take(LINEAR_SCAN).enumerate() {
            let index = len - 1 - back;
            if rung.key == key {
                return Ok(index);
            }
            if rung.key < key {
                return Err(index + 1);
            }
        }
        let scanned = len.saturating_sub(LINEAR_SCAN);
        self.rungs
            .get(..scanned)
            .map_or(Err(0), |head| head.binary_search_by(|r| r.key.cmp(&key)))
    }

    /// Inserts at `index` (from [`Ladder::locate`]); returns whether the vector grew.
    #[inline]
    pub(crate) fn insert(&mut self, index: usize, key: i64, level: u32) -> bool {
        let grew = self.rungs.len() == self.rungs.capacity();
        self.rungs
            .insert(index.min(self.rungs.len()), Rung { key, level });
        grew
    }

    /// Removes the rung at `index`.
    #[inline]
    pub(crate) fn remove(&mut self, index: usize) -> Option<Rung> {
        (index < self.rungs.len()).then(|| self.rungs.remove(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_matches_binary_search_and_best_is_last() {
        let mut ladder = Ladder::with_capacity(4);
        let keys: Vec<i64> = (0..30).map(|k| k * 2).collect();
        for &k in keys.iter().rev() {
            let at = ladder.locate(k).unwrap_err();
            ladder.insert(at, k, k as u32);
        }
        for probe in -1..62 {
            assert_eq!(ladder.locate(probe), keys.binary_search(&probe), "{probe}");
        }
        assert_eq!(ladder.best().map(|r| r.key), Some(58));
        assert!(
            side_key(Side::Sell, Price::from_raw(1)) > side_key(Side::Sell, Price::from_raw(2))
        );
        assert_eq!(ladder.remove(0).map(|r| r.key), Some(0));
        assert!(ladder.remove(100).is_none());
    }
}
