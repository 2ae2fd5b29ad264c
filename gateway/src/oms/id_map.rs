//! A fixed-capacity open-addressing map from order numbers (`u64`, never 0) to slots (`u32`):
//! Fibonacci hashing, linear probing, backward-shift deletion (no tombstones). Sized once; a
//! full map refuses inserts instead of growing.

const EMPTY: u64 = 0;

/// Order number -> slot.
#[derive(Clone, Debug)]
pub struct IdMap {
    keys: Box<[u64]>,
    values: Box<[u32]>,
    mask: usize,
    shift: u32,
    len: usize,
}

impl IdMap {
    /// A map holding up to `capacity` entries (the table is at least twice that, a power of
    /// two, so probes stay short).
    pub fn with_capacity(capacity: usize) -> Self {
        let slots = (capacity.max(4) * 2).next_power_of_two();
        Self {
            keys: vec![EMPTY; slots].into_boxed_slice(),
            values: vec![0; slots].into_boxed_slice(),
            mask: slots - 1,
            shift: 64 - slots.trailing_zeros(),
            len: 0,
        }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot of `key`.
    #[inline]
    pub fn get(&self, key: u64) -> Option<u32> {
        if key == EMPTY {
            return None;
        }
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.values[i]);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts or overwrites; `false` when the key is 0 or the map is at capacity (half the
    /// table).
    #[inline]
    pub fn insert(&mut self, key: u64, value: u32) -> bool {
        if key == EMPTY {
            return false;
        }
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == key {
                self.values[i] = value;
                return true;
            }
            if k == EMPTY {
                if self.len * 2 >= self.keys.len() {
                    return false;
                }
                self.keys[i] = key;
                self.values[i] = value;
                self.len += 1;
                return true;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes `key`; returns its slot.
    #[inline]
    pub fn remove(&mut self, key: u64) -> Option<u32> {
        if key == EMPTY {
            return None;
        }
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == EMPTY {
                return None;
            }
            if k == key {
                break;
            }
            i = (i + 1) & self.mask;
        }
        let value = self.values[i];
        // Backward shift: pull later entries of the probe run into the hole.
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        loop {
            let k = self.keys[j];
            if k == EMPTY {
                break;
            }
            let home = self.home(k);
            // Move k into the hole unless its home lies cyclically in (hole, j].
            let in_range = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !in_range {
                self.keys[hole] = k;
                self.values[hole] = self.values[j];
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.keys[hole] = EMPTY;
        self.len -= 1;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec((0u8..3, 1u64..64, any::<u32>()), 0..400)) {
            let mut m = IdMap::with_capacity(64);
            let mut r = HashMap::new();
            for (op, k, v) in ops {
                match op {
                    0 => { prop_assert!(m.insert(k, v)); r.insert(k, v); }
                    1 => { prop_assert_eq!(m.remove(k), r.remove(&k)); }
                    _ => { prop_assert_eq!(m.get(k), r.get(&k).copied()); }
                }
                prop_assert_eq!(m.len(), r.len());
            }
            for (k, v) in &r {
                prop_assert_eq!(m.get(*k), Some(*v));
            }
        }
    }

    #[test]
    fn refuses_zero_and_overflow() {
        let mut m = IdMap::with_capacity(4);
        assert!(!m.insert(0, 1));
        let cap = 4; // a table of 8 slots holds 4
        for k in 1..=cap {
            assert!(m.insert(k, k as u32));
        }
        assert!(!m.insert(100, 1));
        assert!(m.insert(3, 33), "overwrite still works when full");
        assert_eq!(m.get(3), Some(33));
    }
}
