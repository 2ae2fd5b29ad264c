//! ITCH field helpers: the fixed-offset access every binary protocol shares
//! ([`kestrel_core::wire`]: offsets and widths checked at compile time, no bounds check, no
//! `unsafe`) and the 48-bit timestamp.

pub(crate) use kestrel_core::wire::{get, put};

/// A 48-bit big-endian integer (the ITCH timestamp).
#[inline(always)]
pub(crate) fn u48_from_be(b: [u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

/// The low 48 bits of `v`, big-endian.
#[inline(always)]
pub(crate) fn u48_to_be(v: u64) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// Largest value of the 48-bit timestamp field.
pub const MAX_TIMESTAMP: u64 = (1 << 48) - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u48_round_trip() {
        let mut m = [0u8; 12];
        put::<6, 6, 12>(&mut m, u48_to_be(0x0102_0304_0506));
        assert_eq!(m[6..12], [1, 2, 3, 4, 5, 6]);
        assert_eq!(u48_from_be(get::<6, 6, 12>(&m)), 0x0102_0304_0506);
        assert_eq!(u48_from_be(u48_to_be(MAX_TIMESTAMP)), MAX_TIMESTAMP);
    }
}
