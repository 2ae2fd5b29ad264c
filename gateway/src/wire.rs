//! The ASCII field rules shared by SoupBinTCP and OUCH, beside the fixed-offset field access
//! every binary protocol shares ([`kestrel_core::wire`]: offsets and widths checked at compile
//! time, no bounds check, no `unsafe`).
//!
//! ASCII rules (NASDAQ's "Alpha" and SoupBinTCP's "Numeric" types):
//! - alpha fields are left-justified and padded on the right with spaces ([`put_alpha_left`]);
//! - SoupBinTCP's session and sequence-number fields are right-justified, padded on the left
//!   with spaces ([`put_alpha_right`], [`put_numeric`]).

pub(crate) use kestrel_core::wire::{get, put};

/// `text` left-justified in `W` bytes, padded on the right with spaces. `None` if it is longer
/// than `W` or holds a byte outside printable ASCII (0x20..=0x7E).
pub fn put_alpha_left<const W: usize>(text: &[u8]) -> Option<[u8; W]> {
    if text.len() > W || !text.iter().all(|b| (0x20..=0x7E).contains(b)) {
        return None;
    }
    let mut out = [b' '; W];
    out[..text.len()].copy_from_slice(text);
    Some(out)
}

/// `text` right-justified in `W` bytes, padded on the left with spaces. `None` if it is longer
/// than `W` or holds a byte outside printable ASCII.
pub fn put_alpha_right<const W: usize>(text: &[u8]) -> Option<[u8; W]> {
    if text.len() > W || !text.iter().all(|b| (0x20..=0x7E).contains(b)) {
        return None;
    }
    let mut out = [b' '; W];
    out[W - text.len()..].copy_from_slice(text);
    Some(out)
}

/// The field without its padding spaces on either side.
pub fn trim_spaces(field: &[u8]) -> &[u8] {
    let start = field.iter().position(|b| *b != b' ').unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|b| *b != b' ')
        .map_or(start, |e| e + 1);
    &field[start..end]
}

/// `value` as ASCII decimal digits, right-justified in `W` bytes and padded on the left with
/// spaces (SoupBinTCP "Numeric"). `None` if it needs more than `W` digits.
pub fn put_numeric<const W: usize>(mut value: u64) -> Option<[u8; W]> {
    let mut out = [b' '; W];
    let mut i = W;
    loop {
        if i == 0 {
            return None;
        }
        i -= 1;
        out[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return Some(out);
        }
    }
}

/// Why a numeric field could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumericError {
    /// A byte other than a digit inside the padding, at this index of the field.
    NotDigit(usize),
    /// More than `u64` can hold.
    Overflow,
}

/// Reads a SoupBinTCP "Numeric" field: decimal digits with space padding (left padding is the
/// rule; right padding is accepted too). An all-space field reads as 0.
pub fn get_numeric(field: &[u8]) -> Result<u64, NumericError> {
    let start = field.iter().position(|b| *b != b' ').unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|b| *b != b' ')
        .map_or(start, |e| e + 1);
    let mut value: u64 = 0;
    for (i, b) in field.iter().enumerate().take(end).skip(start) {
        if !b.is_ascii_digit() {
            return Err(NumericError::NotDigit(i));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(NumericError::Overflow)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_padding_follows_the_spec() {
        assert_eq!(put_alpha_left::<6>(b"ABC"), Some(*b"ABC   "));
        assert_eq!(put_alpha_right::<10>(b"SES1"), Some(*b"      SES1"));
        assert_eq!(put_alpha_left::<3>(b"ABCD"), None);
        assert_eq!(put_alpha_left::<4>(b"A\nB"), None);
        assert_eq!(trim_spaces(b"  AB C  "), b"AB C");
        assert_eq!(trim_spaces(b"    "), b"");
    }

    #[test]
    fn numeric_is_right_justified_and_reads_back() {
        assert_eq!(put_numeric::<5>(42), Some(*b"   42"));
        assert_eq!(put_numeric::<5>(0), Some(*b"    0"));
        assert_eq!(put_numeric::<2>(100), None);
        assert_eq!(
            put_numeric::<20>(u64::MAX).map(|f| get_numeric(&f)),
            Some(Ok(u64::MAX))
        );
        assert_eq!(get_numeric(b"   42"), Ok(42));
        assert_eq!(get_numeric(b"42   "), Ok(42));
        assert_eq!(get_numeric(b"     "), Ok(0));
        assert_eq!(get_numeric(b" 4 2 "), Err(NumericError::NotDigit(2)));
        assert_eq!(
            get_numeric(b"99999999999999999999"),
            Err(NumericError::Overflow)
        );
    }
}
