//! A fixed-capacity ring buffer, allocated once at construction.

/// A FIFO of at most `capacity` values; pushing into a full ring evicts the oldest.
/// Allocates only in [`Ring::new`].
#[derive(Clone, Debug)]
pub struct Ring<T> {
    buf: Box<[T]>,
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    /// A ring holding up to `capacity` values (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![T::default(); capacity.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    /// Maximum number of values held.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the ring holds nothing.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the ring holds `capacity` values.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// `i` wrapped into `0..capacity` for `i < 2 * capacity` (no integer division).
    #[inline]
    fn wrap(&self, i: usize) -> usize {
        let cap = self.buf.len();
        if i >= cap { i - cap } else { i }
    }

    /// Appends `value`; returns the evicted oldest value when the ring was full.
    #[inline]
    pub fn push(&mut self, value: T) -> Option<T> {
        if self.len == self.buf.len() {
            // Full: the value takes the oldest slot, which becomes the newest.
            let head = self.head;
            let evicted = self
                .buf
                .get_mut(head)
                .map(|slot| core::mem::replace(slot, value));
            self.head = self.wrap(head + 1);
            evicted
        } else {
            let tail = self.wrap(self.head + self.len);
            if let Some(slot) = self.buf.get_mut(tail) {
                *slot = value;
            }
            self.len += 1;
            None
        }
    }

    /// The oldest value, if any.
    #[inline]
    pub fn oldest(&self) -> Option<T> {
        if self.len == 0 {
            None
        } else {
            self.buf.get(self.head).copied()
        }
    }

    /// Removes and returns the oldest value.
    #[inline]
    pub fn pop_oldest(&mut self) -> Option<T> {
        let v = self.oldest()?;
        self.head = self.wrap(self.head + 1);
        self.len -= 1;
        Some(v)
    }

    /// Forgets every value (no deallocation).
    #[inline]
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// The `i`-th value, oldest first (`0` is the oldest), for in-place correction.
    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let at = self.wrap(self.head + i);
        self.buf.get_mut(at)
    }

    /// The position (oldest first) of the newest value matching `pred`, searching newest first.
    #[inline]
    pub fn rposition(&self, mut pred: impl FnMut(&T) -> bool) -> Option<usize> {
        (0..self.len).rev().find(|&i| {
            self.buf
                .get(self.wrap(self.head + i))
                .is_some_and(&mut pred)
        })
    }

    /// The values, oldest first (for direct recomputation in tests and research).
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let cap = self.buf.len();
        (0..self.len).filter_map(move |i| self.buf.get((self.head + i) % cap).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_when_full() {
        let mut r = Ring::<i32>::new(3);
        assert_eq!(r.push(1), None);
        assert_eq!(r.push(2), None);
        assert_eq!(r.push(3), None);
        assert!(r.is_full());
        assert_eq!(r.push(4), Some(1));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(r.pop_oldest(), Some(2));
        assert_eq!(r.len(), 2);
        assert_eq!(r.oldest(), Some(3));
        r.push(5);
        assert_eq!(r.rposition(|v| *v == 3), Some(0));
        assert_eq!(r.rposition(|v| *v == 9), None);
        if let Some(v) = r.get_mut(1) {
            *v = 40;
        }
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![3, 40, 5]);
        assert!(r.get_mut(3).is_none());
        r.clear();
        assert!(r.is_empty());
        assert_eq!(r.pop_oldest(), None);
    }

    proptest::proptest! {
        #[test]
        fn matches_a_bounded_deque(cap in 1usize..8, ops in proptest::collection::vec(proptest::option::of(0i32..100), 0..200)) {
            let mut ring = Ring::<i32>::new(cap);
            let mut reference = std::collections::VecDeque::new();
            for op in ops {
                match op {
                    Some(v) => {
                        let evicted = if reference.len() == cap { reference.pop_front() } else { None };
                        reference.push_back(v);
                        proptest::prop_assert_eq!(ring.push(v), evicted);
                    }
                    None => proptest::prop_assert_eq!(ring.pop_oldest(), reference.pop_front()),
                }
                proptest::prop_assert_eq!(ring.iter().collect::<Vec<_>>(), reference.iter().copied().collect::<Vec<_>>());
                proptest::prop_assert_eq!(ring.oldest(), reference.front().copied());
            }
        }
    }

    #[test]
    fn zero_capacity_holds_one() {
        let mut r = Ring::<u8>::new(0);
        assert_eq!(r.capacity(), 1);
        assert_eq!(r.push(7), None);
        assert_eq!(r.push(8), Some(7));
    }
}
