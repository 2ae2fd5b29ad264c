//! Order tokens: made without allocation, unique across reconnects and restarts, and readable
//! back into the order they name.
//!
//! Layout of the 14-byte OUCH Order Token (all `[0-9A-Z]`):
//!
//! | bytes | content |
//! |---|---|
//! | 0..2 | the account's prefix (configured, two alphanumerics) |
//! | 2 | side: `B` or `S` |
//! | 3..6 | instrument id, base 36 (up to 46,655) |
//! | 6..14 | order number, base 36 (up to 36^8 - 1, about 2.8 * 10^12) |
//!
//! Uniqueness: the order number only grows. A session continues from the journal's last number
//! plus one, and never starts below a floor taken from the wall clock (microseconds since UTC
//! midnight), so a restart without its journal still cannot reuse a number unless more than a
//! million orders a second were sent before it. Reconnects keep the same generator.
//!
//! Because side and instrument are in the token, an execution for an order the OMS has no
//! record of (lost with a killed process, sent by an earlier run) still reconciles positions.

use crate::ouch::Token;
use kestrel_core::{InstrumentId, Side};

const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// The largest order number a token holds.
pub const MAX_ORDER_NUMBER: u64 = 36u64.pow(8) - 1;
/// The largest instrument id a token holds.
pub const MAX_INSTRUMENT: u32 = 36u32.pow(3) - 1;

/// What a token of ours says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenParts {
    /// Order number (the OMS's order id).
    pub number: u64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
}

/// Why a token generator could not be made or a token issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The prefix is not two characters of `[0-9A-Z]`.
    #[error("token prefix must be two characters of [0-9A-Z]")]
    BadPrefix,
    /// The instrument id does not fit three base-36 digits.
    #[error("instrument {0} does not fit a token (max {MAX_INSTRUMENT})")]
    InstrumentTooLarge(u32),
    /// Every order number is used.
    #[error("order numbers exhausted")]
    Exhausted,
}

/// Issues tokens with increasing order numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenGen {
    prefix: [u8; 2],
    next: u64,
}

fn base36<const N: usize>(mut v: u64, out: &mut [u8]) {
    for i in (0..N).rev() {
        out[i] = DIGITS[(v % 36) as usize];
        v /= 36;
    }
}

fn parse36(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'A'..=b'Z' => d - b'A' + 10,
            _ => return None,
        };
        Some(acc * 36 + u64::from(v))
    })
}

impl TokenGen {
    /// A generator for `prefix` whose first order number is `first` (at least 1).
    pub fn new(prefix: &str, first: u64) -> Result<Self, TokenError> {
        let p = prefix.as_bytes();
        if p.len() != 2
            || !p
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(TokenError::BadPrefix);
        }
        Ok(Self {
            prefix: [p[0], p[1]],
            next: first.max(1),
        })
    }

    /// The floor a live session starts from: microseconds since UTC midnight, now.
    pub fn wall_clock_floor() -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        (now % 86_400_000_000) as u64 + 1
    }

    /// The order number the next token will carry.
    pub fn peek(&self) -> u64 {
        self.next
    }

    /// Makes sure the next number is above `number` (a journal's last).
    pub fn skip_past(&mut self, number: u64) {
        self.next = self.next.max(number.saturating_add(1));
    }

    /// The next token for an order on `instrument` and `side`, and its order number.
    #[inline]
    pub fn issue(
        &mut self,
        instrument: InstrumentId,
        side: Side,
    ) -> Result<(Token, u64), TokenError> {
        if instrument.0 > MAX_INSTRUMENT {
            return Err(TokenError::InstrumentTooLarge(instrument.0));
        }
        if self.next > MAX_ORDER_NUMBER {
            return Err(TokenError::Exhausted);
        }
        let number = self.next;
        self.next += 1;
        Ok((self.make(number, instrument, side), number))
    }

    /// The token for a given number (used for replacement tokens and tests).
    #[inline]
    pub fn make(&self, number: u64, instrument: InstrumentId, side: Side) -> Token {
        let mut t = [0u8; 14];
        t[0] = self.prefix[0];
        t[1] = self.prefix[1];
        t[2] = match side {
            Side::Buy => b'B',
            Side::Sell => b'S',
        };
        base36::<3>(u64::from(instrument.0), &mut t[3..6]);
        base36::<8>(number, &mut t[6..14]);
        Token(t)
    }

    /// What `token` says, if it is one of ours (our prefix and a valid layout).
    #[inline]
    pub fn parse(&self, token: &Token) -> Option<TokenParts> {
        let t = &token.0;
        if t[0] != self.prefix[0] || t[1] != self.prefix[1] {
            return None;
        }
        let side = match t[2] {
            b'B' => Side::Buy,
            b'S' => Side::Sell,
            _ => return None,
        };
        let instrument = InstrumentId(parse36(&t[3..6])? as u32);
        let number = parse36(&t[6..14])?;
        Some(TokenParts {
            number,
            instrument,
            side,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_increase() {
        let mut g = TokenGen::new("KS", 1).unwrap();
        let (t1, n1) = g.issue(InstrumentId(7), Side::Buy).unwrap();
        let (t2, n2) = g.issue(InstrumentId(46_655), Side::Sell).unwrap();
        assert_eq!(&t1.0, b"KSB00700000001");
        assert_eq!(&t2.0, b"KSSZZZ00000002");
        assert_eq!((n1, n2), (1, 2));
        assert_eq!(
            g.parse(&t2),
            Some(TokenParts {
                number: 2,
                instrument: InstrumentId(46_655),
                side: Side::Sell
            })
        );
        assert_eq!(TokenGen::new("XX", 1).unwrap().parse(&t1), None);
        assert_eq!(g.parse(&Token::new("KSB007lower").unwrap()), None);
    }

    #[test]
    fn limits_and_restarts() {
        assert_eq!(TokenGen::new("ks", 1), Err(TokenError::BadPrefix));
        assert_eq!(TokenGen::new("K", 1), Err(TokenError::BadPrefix));
        let mut g = TokenGen::new("KS", MAX_ORDER_NUMBER).unwrap();
        assert!(g.issue(InstrumentId(0), Side::Buy).is_ok());
        assert_eq!(
            g.issue(InstrumentId(0), Side::Buy),
            Err(TokenError::Exhausted)
        );
        let mut g = TokenGen::new("KS", 10).unwrap();
        g.skip_past(5);
        assert_eq!(g.peek(), 10);
        g.skip_past(41);
        assert_eq!(g.peek(), 42);
        assert_eq!(
            g.issue(InstrumentId(MAX_INSTRUMENT + 1), Side::Buy),
            Err(TokenError::InstrumentTooLarge(MAX_INSTRUMENT + 1))
        );
        let floor = TokenGen::wall_clock_floor();
        assert!((1..=86_400_000_000).contains(&floor));
    }
}
