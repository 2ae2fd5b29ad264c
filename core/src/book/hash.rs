//! A stable 64-bit hash (FNV-1a) for book fingerprints: the same on every run and machine.

use crate::fixed::{Price, Qty};
use crate::ids::OrderId;
use crate::side::Side;
use crate::top::LevelView;

/// FNV-1a over little-endian integers. Not keyed, not randomised: a book's hash is a fingerprint
/// that replays, tests and other machines can compare.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for StableHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl StableHasher {
    /// The FNV-1a offset basis: the hash of no bytes.
    pub const OFFSET: u64 = FNV_OFFSET;
    /// The 64-bit FNV prime.
    pub const PRIME: u64 = FNV_PRIME;

    /// A hasher at the FNV-1a offset basis.
    #[inline]
    pub const fn new() -> Self {
        Self(FNV_OFFSET)
    }

    /// Continues a hash that an earlier hasher [`finish`](Self::finish)ed with `hash` (a running
    /// hash kept as a plain `u64`).
    #[inline]
    pub const fn resume(hash: u64) -> Self {
        Self(hash)
    }

    /// Mixes in raw bytes.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// Mixes in an `i64` (little-endian).
    #[inline]
    pub fn write_i64(&mut self, v: i64) {
        self.write(&v.to_le_bytes());
    }

    /// Mixes in a `u64` (little-endian).
    #[inline]
    pub fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    /// The hash so far.
    #[inline]
    pub const fn finish(&self) -> u64 {
        self.0
    }
}

/// The stable fingerprint of one order-by-order book: for each side (bids, then asks) every
/// level best first, its price and quantity, then its queue front first, each order's id and
/// remaining quantity. Every L3 book ([`L3Books`](super::L3Books),
/// [`ReferenceBook`](super::ReferenceBook)) hashes through here, so equal books give equal hashes.
pub(crate) fn l3_fingerprint<L, Q>(
    levels: impl Fn(Side) -> L,
    queue: impl Fn(Side, Price) -> Q,
) -> u64
where
    L: Iterator<Item = LevelView>,
    Q: Iterator<Item = (OrderId, Qty)>,
{
    let mut h = StableHasher::new();
    for side in [Side::Buy, Side::Sell] {
        h.write_u64(side as u64);
        for level in levels(side) {
            h.write_i64(level.price.raw());
            h.write_i64(level.qty.raw());
            for (order_id, qty) in queue(side, level.price) {
                h.write_u64(order_id.0);
                h.write_i64(qty.raw());
            }
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_hash_continues_where_it_stopped() {
        // Running hashes kept as a plain u64 (the strategy's intent tally, the gateway's fill
        // hash) go through this one FNV-1a.
        let mut whole = StableHasher::new();
        whole.write(b"foobar");
        let mut first = StableHasher::new();
        first.write(b"foo");
        let mut rest = StableHasher::resume(first.finish());
        rest.write(b"bar");
        assert_eq!(rest.finish(), whole.finish());
        assert_eq!(StableHasher::OFFSET, StableHasher::new().finish());
    }

    #[test]
    fn matches_published_fnv1a_vectors() {
        let mut h = StableHasher::new();
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut h = StableHasher::new();
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn integers_are_little_endian() {
        let mut a = StableHasher::new();
        a.write_i64(0x0102);
        let mut b = StableHasher::new();
        b.write(&[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(a.finish(), b.finish());
    }
}
