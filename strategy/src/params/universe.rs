//! `[universe]`: the instruments the strategy trades, named by symbol.
//!
//! The feed keeps a book for every instrument of a capture; the strategy (signals, alpha
//! models, the harmonizer's `n x n` covariance and its per-update work) is sized to its
//! universe only. A universe is fixed for a run: a hot reload that changes it is rejected.

use super::ParamsError;

/// The symbol that stands for "every instrument of the feed".
pub const ALL_SYMBOLS: &str = "*";

/// Longest symbol accepted (venue symbols are short: ITCH 8 bytes, crypto pairs ~20).
pub const MAX_SYMBOL_LEN: usize = 32;

/// A validated universe: distinct symbols in the order given, or every instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UniverseSpec {
    /// Every instrument the feed knows (`symbols = ["*"]`).
    All,
    /// These symbols, in this order (the strategy's slots `0..n`).
    Symbols(Vec<String>),
}

impl UniverseSpec {
    /// Validates a list of symbols: non-empty, each 1 to [`MAX_SYMBOL_LEN`] printable ASCII
    /// characters without spaces or commas, no repeats; `["*"]` alone means every
    /// instrument. `path` names the field in errors (`universe.symbols`, `--symbols`).
    pub fn parse<S: AsRef<str>>(path: &str, symbols: &[S]) -> Result<Self, ParamsError> {
        if symbols.is_empty() {
            return Err(ParamsError::field(path, "the universe names no symbol"));
        }
        if symbols.len() == 1 && symbols[0].as_ref().trim() == ALL_SYMBOLS {
            return Ok(Self::All);
        }
        let mut out: Vec<String> = Vec::with_capacity(symbols.len());
        for (i, s) in symbols.iter().enumerate() {
            let s = s.as_ref().trim();
            let bad =
                |why: &str| ParamsError::field(path, format!("symbol {} {s:?}: {why}", i + 1));
            if s.is_empty() {
                return Err(bad("is empty"));
            }
            if s == ALL_SYMBOLS {
                return Err(bad("\"*\" (every instrument) must be the only entry"));
            }
            if s.len() > MAX_SYMBOL_LEN {
                return Err(bad(&format!("longer than {MAX_SYMBOL_LEN} characters")));
            }
            if !s.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
                return Err(bad("only printable ASCII without spaces or commas"));
            }
            if out.iter().any(|o| o == s) {
                return Err(bad("appears twice"));
            }
            out.push(s.to_owned());
        }
        Ok(Self::Symbols(out))
    }

    /// Splits a comma-separated list (`--symbols AAPL,MSFT`) and validates it.
    pub fn parse_list(path: &str, list: &str) -> Result<Self, ParamsError> {
        let symbols: Vec<&str> = list.split(',').collect();
        Self::parse(path, &symbols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(path: &str, list: &[&str]) -> String {
        UniverseSpec::parse(path, list).unwrap_err().to_string()
    }

    #[test]
    fn symbols_keep_their_order_and_all_is_explicit() {
        assert_eq!(
            UniverseSpec::parse("u", &["MSFT", " AAPL "]).unwrap(),
            UniverseSpec::Symbols(vec!["MSFT".into(), "AAPL".into()])
        );
        assert_eq!(UniverseSpec::parse("u", &["*"]).unwrap(), UniverseSpec::All);
        assert_eq!(
            UniverseSpec::parse_list("--symbols", "A,B").unwrap(),
            UniverseSpec::Symbols(vec!["A".into(), "B".into()])
        );
    }

    #[test]
    fn bad_lists_name_the_field_and_the_symbol() {
        let none: [&str; 0] = [];
        assert!(
            UniverseSpec::parse("universe.symbols", &none)
                .unwrap_err()
                .to_string()
                .contains("universe.symbols")
        );
        assert!(err("u", &["A", "A"]).contains("appears twice"));
        assert!(err("u", &["A", ""]).contains("symbol 2"));
        assert!(err("u", &["BRK B"]).contains("printable ASCII"));
        assert!(err("u", &["A", "*"]).contains("only entry"));
        assert!(err("u", &["ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"]).contains("longer than"));
        assert!(UniverseSpec::parse_list("--symbols", "A,,B").is_err());
    }
}
