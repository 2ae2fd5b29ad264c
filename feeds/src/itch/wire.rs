//! Fixed-offset big-endian field access over fixed-size message arrays.
//!
//! A message view holds a `&[u8; N]`; every field sits at a constant offset. The offsets and
//! widths are const generics and checked at compile time (`OFF + W <= N`), so each access
//! compiles to a load and a byte swap: no bounds check, no panic path, no `unsafe`.

/// The `W` bytes at `OFF` of a fixed-size message.
#[inline(always)]
pub(crate) fn get<const OFF: usize, const W: usize, const N: usize>(msg: &[u8; N]) -> [u8; W] {
    const { assert!(OFF + W <= N, "field outside the message") };
    let mut out = [0u8; W];
    // Always `Some`: the const assertion above proves the range, and the optimiser folds this.
    if let Some(src) = msg.get(OFF..OFF + W) {
        out.copy_from_slice(src);
    }
    out
}

/// Writes `W` bytes at `OFF` of a fixed-size message buffer.
#[inline(always)]
pub(crate) fn put<const OFF: usize, const W: usize, const N: usize>(
    msg: &mut [u8; N],
    value: [u8; W],
) {
    const { assert!(OFF + W <= N, "field outside the message") };
    if let Some(dst) = msg.get_mut(OFF..OFF + W) {
        dst.copy_from_slice(&value);
    }
}

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
    fn fixed_offsets_round_trip() {
        let mut m = [0u8; 12];
        put::<4, 4, 12>(&mut m, 0xDEAD_BEEF_u32.to_be_bytes());
        assert_eq!(m[4..8], [0xDE, 0xAD, 0xBE, 0xEF]);
        assert_eq!(u32::from_be_bytes(get::<4, 4, 12>(&m)), 0xDEAD_BEEF);
        put::<6, 6, 12>(&mut m, u48_to_be(0x0102_0304_0506));
        assert_eq!(u48_from_be(get::<6, 6, 12>(&m)), 0x0102_0304_0506);
        assert_eq!(u48_from_be(u48_to_be(MAX_TIMESTAMP)), MAX_TIMESTAMP);
    }
}
