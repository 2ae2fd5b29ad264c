//! Field-level parsing of LOBSTER CSV text: integers and `seconds.nanos` times, no floats.

use super::error::LobsterErrorKind;

/// Nanoseconds in one day: LOBSTER times are seconds after midnight.
const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// Parses an optionally signed decimal integer (surrounding ASCII whitespace allowed).
pub(crate) fn parse_int(field: &str) -> Result<i64, LobsterErrorKind> {
    let bytes = field.trim().as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return Err(LobsterErrorKind::NotAnInteger);
    }
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(LobsterErrorKind::NotAnInteger);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or(LobsterErrorKind::NotAnInteger)?;
    }
    Ok(if negative { -value } else { value })
}

/// Parses `seconds[.fraction]` into nanoseconds after midnight. LOBSTER writes up to nine
/// decimals, but some of its files carry float artefacts beyond them (`43002.632812672004`):
/// any number of decimals is accepted and rounded to the nearest nanosecond (half up).
pub(crate) fn parse_time_ns(field: &str) -> Result<u64, LobsterErrorKind> {
    let text = field.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(LobsterErrorKind::BadTime);
    }
    let mut seconds: u64 = 0;
    for b in whole.bytes() {
        seconds = seconds
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(LobsterErrorKind::BadTime)?;
    }
    let digits = frac.as_bytes();
    let mut nanos: u64 = 0;
    for i in 0..9 {
        let digit = digits.get(i).map_or(0, |b| u64::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    // The tenth decimal rounds (half up); the ones after it cannot change the result.
    if digits.get(9).is_some_and(|&b| b >= b'5') {
        nanos += 1;
    }
    let total = seconds
        .checked_mul(1_000_000_000)
        .and_then(|v| v.checked_add(nanos))
        .ok_or(LobsterErrorKind::BadTime)?;
    if total >= NANOS_PER_DAY {
        return Err(LobsterErrorKind::BadTime);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_int("5853300"), Ok(5_853_300));
        assert_eq!(parse_int("-9999999999"), Ok(-9_999_999_999));
        assert_eq!(parse_int(" 18 "), Ok(18));
        assert_eq!(parse_int(""), Err(LobsterErrorKind::NotAnInteger));
        assert_eq!(parse_int("-"), Err(LobsterErrorKind::NotAnInteger));
        assert_eq!(parse_int("1.5"), Err(LobsterErrorKind::NotAnInteger));
        assert_eq!(
            parse_int("99999999999999999999"),
            Err(LobsterErrorKind::NotAnInteger)
        );
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_ns("34200.004241176"), Ok(34_200_004_241_176));
        assert_eq!(parse_time_ns("34200.00426064"), Ok(34_200_004_260_640));
        assert_eq!(parse_time_ns("34200"), Ok(34_200_000_000_000));
        // Float artefacts beyond nine decimals round to the nanosecond.
        assert_eq!(parse_time_ns("43002.632812672004"), Ok(43_002_632_812_672));
        assert_eq!(parse_time_ns("1.0000000001"), Ok(1_000_000_000));
        assert_eq!(parse_time_ns("34200.1234567895"), Ok(34_200_123_456_790));
        assert_eq!(parse_time_ns("34199.9999999999"), Ok(34_200_000_000_000));
        assert_eq!(
            parse_time_ns("86399.9999999999"),
            Err(LobsterErrorKind::BadTime)
        );
        assert_eq!(parse_time_ns("1.2e3"), Err(LobsterErrorKind::BadTime));
        assert_eq!(parse_time_ns("86400"), Err(LobsterErrorKind::BadTime));
        assert_eq!(parse_time_ns("-1"), Err(LobsterErrorKind::BadTime));
        assert_eq!(parse_time_ns(".5"), Err(LobsterErrorKind::BadTime));
    }
}
