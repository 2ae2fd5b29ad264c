//! One side of one book: its price levels sorted so that the best is at the end.
//!
//! Levels are keyed by an `i64` that grows toward the best price on both sides (the raw price
//! for bids, its bitwise complement for asks), so changes near the touch insert or remove near
//! the end of the vector and move few elements. Look-ups scan linearly from the best end for a
//! few steps (most events touch the first levels) and fall back to a binary search.

use crate::fixed::Price;
use crate::side::Side;

/// Levels scanned linearly from the best end before the binary search.
const LINEAR_SCAN: usize = 8;
/// Levels moved by hand (rather than by `memmove`) when inserting or removing near the end.
const SMALL_SHIFT: usize = 8;

/// The sort key of a price on a side: larger is better on both sides.
#[inline]
pub(crate) const fn side_key(side: Side, price: Price) -> i64 {
    match side {
        Side::Buy => price.raw(),
        Side::Sell => !price.raw(),
    }
}

/// The price a sort key stands for.
#[inline]
pub(crate) const fn key_price(side: Side, key: i64) -> Price {
    match side {
        Side::Buy => Price::from_raw(key),
        Side::Sell => Price::from_raw(!key),
    }
}

/// A level's key and its payload (a level-pool index for L3, the quantity for L2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rung<V> {
    pub(crate) key: i64,
    pub(crate) val: V,
}

/// The sorted levels of one side, best last.
#[derive(Clone, Debug)]
pub(crate) struct Ladder<V> {
    rungs: Vec<Rung<V>>,
}

impl<V: Copy> Ladder<V> {
    /// An empty side with room for `capacity` levels.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            rungs: Vec::with_capacity(capacity),
        }
    }

    /// Number of levels.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.rungs.len()
    }

    /// The best level.
    #[inline]
    pub(crate) fn best(&self) -> Option<Rung<V>> {
        self.rungs.last().copied()
    }

    /// Levels, best first.
    #[inline]
    pub(crate) fn iter_best_first(&self) -> impl DoubleEndedIterator<Item = &Rung<V>> + '_ {
        self.rungs.iter().rev()
    }

    /// `Ok(index)` of the level with `key`, or `Err(index)` where it would be inserted.
    #[inline(always)]
    pub(crate) fn locate(&self, key: i64) -> Result<usize, usize> {
        self.locate_val(key).map(|(index, _)| index)
    }

    /// `Ok((index, payload))` of the level with `key`, or `Err(index)` where it would be
    /// inserted.
    #[inline(always)]
    pub(crate) fn locate_val(&self, key: i64) -> Result<(usize, V), usize> {
        let len = self.rungs.len();
        for (back, rung) in self.rungs.iter().rev().take(LINEAR_SCAN).enumerate() {
            let index = len - 1 - back;
            if rung.key == key {
                return Ok((index, rung.val));
            }
            if rung.key < key {
                return Err(index + 1);
            }
        }
        let scanned = len.saturating_sub(LINEAR_SCAN);
        let head = self.rungs.get(..scanned).unwrap_or_default();
        match head.binary_search_by(|r| r.key.cmp(&key)) {
            Ok(index) => head.get(index).map(|r| (index, r.val)).ok_or(index),
            Err(index) => Err(index),
        }
    }

    /// The payload of the level with `key`.
    #[inline]
    pub(crate) fn get(&self, key: i64) -> Option<V> {
        self.locate(key)
            .ok()
            .and_then(|i| self.rungs.get(i))
            .map(|r| r.val)
    }

    /// Mutable payload at `index`.
    #[inline]
    pub(crate) fn val_mut(&mut self, index: usize) -> Option<&mut V> {
        self.rungs.get_mut(index).map(|r| &mut r.val)
    }

    /// Inserts a level at `index` (from [`Ladder::locate`]); returns whether the vector had to
    /// grow past its capacity. Near the best end (the common case) the few later levels are
    /// shifted by hand instead of through a `memmove` call.
    #[inline]
    pub(crate) fn insert(&mut self, index: usize, key: i64, val: V) -> bool {
        let grew = self.rungs.len() == self.rungs.capacity();
        let rung = Rung { key, val };
        let len = self.rungs.len();
        if index >= len {
            self.rungs.push(rung);
        } else if len - index <= SMALL_SHIFT {
            self.rungs.push(rung);
            if let Some(tail) = self.rungs.get_mut(index..) {
                tail.rotate_right(1);
            }
        } else {
            self.rungs.insert(index, rung);
        }
        grew
    }

    /// Removes the level at `index`.
    #[inline]
    pub(crate) fn remove(&mut self, index: usize) -> Option<Rung<V>> {
        let len = self.rungs.len();
        if index >= len {
            return None;
        }
        if len - index > SMALL_SHIFT {
            return Some(self.rungs.remove(index));
        }
        let tail = self.rungs.get_mut(index..)?;
        let removed = tail[0];
        for i in 1..tail.len() {
            tail[i - 1] = tail[i];
        }
        self.rungs.pop();
        Some(removed)
    }

    /// Removes the best level.
    #[inline]
    pub(crate) fn pop_best(&mut self) -> Option<Rung<V>> {
        self.rungs.pop()
    }

    /// Removes the level with `key`, if present.
    #[inline]
    pub(crate) fn remove_key(&mut self, key: i64) -> Option<Rung<V>> {
        self.locate(key).ok().and_then(|i| self.remove(i))
    }

    /// Removes every level (keeps the capacity).
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.rungs.clear();
    }

    /// The address of the best rung (or of the buffer when empty), for a prefetch.
    #[inline(always)]
    pub(crate) fn best_addr(&self) -> *const u8 {
        self.rungs
            .as_ptr()
            .wrapping_add(self.rungs.len().saturating_sub(1))
            .cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_best_last_on_both_sides() {
        let p = |r| Price::from_raw(r);
        assert!(side_key(Side::Buy, p(101)) > side_key(Side::Buy, p(100)));
        assert!(side_key(Side::Sell, p(100)) > side_key(Side::Sell, p(101)));
        assert!(side_key(Side::Sell, Price::MIN) > side_key(Side::Sell, Price::MAX));
        for raw in [i64::MIN, -5, 0, 7, i64::MAX] {
            for side in [Side::Buy, Side::Sell] {
                assert_eq!(key_price(side, side_key(side, p(raw))), p(raw));
            }
        }
    }

    #[test]
    fn locate_agrees_with_binary_search_at_every_depth() {
        let mut ladder = Ladder::with_capacity(4);
        let keys: Vec<i64> = (0..40).map(|k| k * 3).collect();
        for &k in &keys {
            let pos = ladder.locate(k).unwrap_err();
            ladder.insert(pos, k, k);
        }
        assert_eq!(ladder.len(), 40);
        for probe in -2..125 {
            assert_eq!(
                ladder.locate(probe),
                keys.binary_search(&probe),
                "probe {probe}"
            );
        }
        assert_eq!(ladder.best().map(|r| r.key), Some(117));
        assert_eq!(ladder.get(9), Some(9));
        assert_eq!(ladder.remove_key(9).map(|r| r.val), Some(9));
        assert_eq!(ladder.get(9), None);
        assert!(ladder.remove(1000).is_none());
        ladder.clear();
        assert_eq!(ladder.locate(5), Err(0));
    }

    #[test]
    fn insert_and_remove_at_every_position() {
        for len in 0..20i64 {
            for at in 0..=len {
                let mut ladder = Ladder::with_capacity(32);
                let mut model: Vec<i64> = (0..len).map(|k| k * 2).collect();
                for &k in &model {
                    ladder.insert(ladder.locate(k).unwrap_err(), k, k);
                }
                let key = at * 2 - 1;
                ladder.insert(ladder.locate(key).unwrap_err(), key, key);
                model.insert(at as usize, key);
                let keys: Vec<i64> = ladder.iter_best_first().map(|r| r.key).rev().collect();
                assert_eq!(keys, model);
                let removed = ladder.remove(at as usize).map(|r| r.key);
                assert_eq!(removed, Some(model.remove(at as usize)));
                let keys: Vec<i64> = ladder.iter_best_first().map(|r| r.key).rev().collect();
                assert_eq!(keys, model);
            }
        }
    }

    #[test]
    fn insert_reports_growth() {
        let mut ladder = Ladder::with_capacity(1);
        assert!(!ladder.insert(0, 1, ()));
        assert!(ladder.insert(1, 2, ()));
    }
}
