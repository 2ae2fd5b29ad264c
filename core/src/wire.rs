//! Fixed-offset field access over fixed-size wire messages, shared by every binary protocol
//! (ITCH, OUCH, SoupBinTCP).
//!
//! A message view holds a `&[u8; N]`; every field sits at a constant offset. The offsets and
//! widths are const generics checked at compile time (`OFF + W <= N`), so each access compiles
//! to a load (and the caller's byte swap): no bounds check, no panic path, no `unsafe`.

/// The `W` bytes at `OFF` of a fixed-size message.
#[inline(always)]
pub fn get<const OFF: usize, const W: usize, const N: usize>(msg: &[u8; N]) -> [u8; W] {
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
pub fn put<const OFF: usize, const W: usize, const N: usize>(msg: &mut [u8; N], value: [u8; W]) {
    const { assert!(OFF + W <= N, "field outside the message") };
    if let Some(dst) = msg.get_mut(OFF..OFF + W) {
        dst.copy_from_slice(&value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets_round_trip() {
        let mut m = [0u8; 12];
        put::<4, 4, 12>(&mut m, 0xDEAD_BEEF_u32.to_be_bytes());
        assert_eq!(m[4..8], [0xDE, 0xAD, 0xBE, 0xEF]);
        assert_eq!(u32::from_be_bytes(get::<4, 4, 12>(&m)), 0xDEAD_BEEF);
        put::<0, 2, 12>(&mut m, [0xAB, 0xCD]);
        assert_eq!(get::<0, 2, 12>(&m), [0xAB, 0xCD]);
        assert_eq!(get::<8, 4, 12>(&m), [0; 4]);
    }
}
