//! Binance markets and instruments: tick and lot sizes, and the check that a decoded price or
//! quantity sits on the instrument's grid (a value with more decimals than the instrument
//! allows is an error, not silently rounded).

use std::fmt;
use std::str::FromStr;

use kestrel_core::{InstrumentError, InstrumentId, InstrumentTable, LevelView, Price, Qty};

use super::error::BinanceErrorKind;

/// Which Binance market a stream comes from. They differ in depth-diff continuity: spot chains
/// diffs by `U == previous u + 1`, futures by `pu == previous u`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Market {
    /// Spot.
    Spot,
    /// USD-M (USDT/USDC-margined) futures.
    UsdM,
    /// COIN-M (coin-margined) futures.
    CoinM,
}

impl Market {
    /// Whether diffs chain by `pu` (futures) rather than `U` (spot).
    pub const fn is_futures(self) -> bool {
        !matches!(self, Self::Spot)
    }

    /// The kcap venue name of this market.
    pub const fn venue(self) -> &'static str {
        match self {
            Self::Spot => "BINANCE-SPOT",
            Self::UsdM => "BINANCE-USDM",
            Self::CoinM => "BINANCE-COINM",
        }
    }

    /// The market of a kcap venue name.
    pub fn from_venue(venue: &str) -> Option<Self> {
        [Self::Spot, Self::UsdM, Self::CoinM]
            .into_iter()
            .find(|m| m.venue() == venue)
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Spot => "spot",
            Self::UsdM => "usdm",
            Self::CoinM => "coinm",
        })
    }
}

/// A `--market` value that is not `spot`, `usdm` or `coinm`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Binance market {0:?}: expected spot, usdm or coinm")]
pub struct MarketParseError(pub String);

impl FromStr for Market {
    type Err = MarketParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "spot" => Ok(Self::Spot),
            "usdm" | "futures" => Ok(Self::UsdM),
            "coinm" => Ok(Self::CoinM),
            _ => Err(MarketParseError(s.to_owned())),
        }
    }
}

/// Tick and lot size of one symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentSpec {
    /// Venue symbol (`BTCUSDT`, `BTCUSD_PERP`).
    pub symbol: String,
    /// Price tick (`PRICE_FILTER.tickSize`).
    pub tick_size: Price,
    /// Quantity step (`LOT_SIZE.stepSize`; COIN-M: contracts).
    pub lot_size: Qty,
}

/// A `SYMBOL:TICK:LOT` instrument argument that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instrument {0:?}: expected SYMBOL:TICK:LOT with positive decimal tick and lot sizes")]
pub struct SpecParseError(pub String);

impl FromStr for InstrumentSpec {
    type Err = SpecParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SpecParseError(s.to_owned());
        let mut parts = s.split(':');
        let (Some(symbol), Some(tick), Some(lot), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let tick_size: Price = tick.parse().map_err(|_| bad())?;
        let lot_size: Qty = lot.parse().map_err(|_| bad())?;
        if symbol.is_empty() || !tick_size.is_positive() || !lot_size.is_positive() {
            return Err(bad());
        }
        Ok(Self {
            symbol: symbol.to_owned(),
            tick_size,
            lot_size,
        })
    }
}

/// Tick sizes (`PRICE_FILTER.tickSize`) and quantity steps of a few well-known symbols as
/// Binance's `exchangeInfo` published them (August 2024), so the bundled captures import without
/// arguments. The quantity step is the precision market data carries: on spot that is the base
/// asset's precision (8 decimals), since depth levels aggregate orders whose sizes need not sit
/// on the `LOT_SIZE` step (the bundled capture has levels such as `25.426189`); on futures it is
/// the contract's `quantityPrecision`. Anything else is given with `--instrument
/// SYMBOL:TICK:LOT`.
pub fn builtin_spec(market: Market, symbol: &str) -> Option<InstrumentSpec> {
    let (tick, lot) = match (market, symbol) {
        (Market::Spot, "BTCUSDT") => (1_000_000, 1),
        (Market::Spot, "ETHUSDT") => (1_000_000, 1),
        (Market::UsdM, "BTCUSDT") => (10_000_000, 100_000),
        (Market::UsdM, "ETHUSDT") => (1_000_000, 100_000),
        (Market::CoinM, "BTCUSD_PERP") => (10_000_000, 100_000_000),
        (Market::CoinM, "ETHUSD_PERP") => (1_000_000, 100_000_000),
        _ => return None,
    };
    Some(InstrumentSpec {
        symbol: symbol.to_owned(),
        tick_size: Price::from_raw(tick),
        lot_size: Qty::from_raw(lot),
    })
}

/// Decimals of a step (0.01 -> 2), for display.
pub fn step_decimals(raw: i64) -> u8 {
    let mut d = 8u8;
    let mut r = raw;
    while d > 0 && r % 10 == 0 {
        r /= 10;
        d -= 1;
    }
    d
}

/// An instrument table of these specs, in order (dense ids 0, 1, ...).
pub fn spec_table(specs: &[InstrumentSpec]) -> Result<InstrumentTable, InstrumentError> {
    let mut table = InstrumentTable::new();
    for s in specs {
        table.add(
            &s.symbol,
            s.tick_size,
            s.lot_size,
            step_decimals(s.tick_size.raw()),
        )?;
    }
    Ok(table)
}

/// Per-instrument grids (tick, lot) by dense id: the precision check of every decoded number.
#[derive(Clone, Debug, Default)]
pub struct Grids {
    grids: Vec<(i64, i64)>,
}

impl Grids {
    /// The grids of every instrument of `table`.
    pub fn new(table: &InstrumentTable) -> Self {
        Self {
            grids: table
                .iter()
                .map(|i| (i.tick_size.raw().max(1), i.lot_size.raw().max(1)))
                .collect(),
        }
    }

    /// Checks a price against the instrument's tick size.
    #[inline]
    pub fn check_price(
        &self,
        id: InstrumentId,
        field: &'static str,
        price: Price,
    ) -> Result<(), BinanceErrorKind> {
        let tick = self.grids.get(id.index()).map_or(1, |g| g.0);
        if price.raw() < 0 {
            return Err(BinanceErrorKind::Negative {
                field,
                value: price.to_string(),
            });
        }
        if price.raw() % tick == 0 {
            Ok(())
        } else {
            Err(BinanceErrorKind::OffGrid {
                field,
                value: price.to_string(),
                what: "tick size",
                step: Price::from_raw(tick).to_string(),
            })
        }
    }

    /// Checks a quantity against the instrument's lot size.
    #[inline]
    pub fn check_qty(
        &self,
        id: InstrumentId,
        field: &'static str,
        qty: Qty,
    ) -> Result<(), BinanceErrorKind> {
        let lot = self.grids.get(id.index()).map_or(1, |g| g.1);
        if qty.raw() < 0 {
            return Err(BinanceErrorKind::Negative {
                field,
                value: qty.to_string(),
            });
        }
        if qty.raw() % lot == 0 {
            Ok(())
        } else {
            Err(BinanceErrorKind::OffGrid {
                field,
                value: qty.to_string(),
                what: "lot size",
                step: Qty::from_raw(lot).to_string(),
            })
        }
    }

    /// Checks every level of one side.
    pub fn check_levels(
        &self,
        id: InstrumentId,
        field: &'static str,
        levels: &[LevelView],
    ) -> Result<(), BinanceErrorKind> {
        let (tick, lot) = self.grids.get(id.index()).copied().unwrap_or((1, 1));
        if levels.iter().all(|l| {
            l.price.raw() >= 0
                && l.qty.raw() >= 0
                && l.price.raw() % tick == 0
                && l.qty.raw() % lot == 0
        }) {
            return Ok(());
        }
        for l in levels {
            self.check_price(id, field, l.price)?;
            self.check_qty(id, field, l.qty)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_grids_check() {
        let s: InstrumentSpec = "ETHBTC:0.00001:0.0001".parse().unwrap();
        assert_eq!((s.tick_size.raw(), s.lot_size.raw()), (1_000, 10_000));
        assert!("ETHBTC:0:1".parse::<InstrumentSpec>().is_err());
        assert!("ETHBTC:0.1".parse::<InstrumentSpec>().is_err());
        let spot = builtin_spec(Market::Spot, "BTCUSDT").unwrap();
        let table = spec_table(&[spot]).unwrap();
        assert_eq!(table.get(InstrumentId(0)).unwrap().price_decimals, 2);
        let g = Grids::new(&table);
        let id = InstrumentId(0);
        assert!(g.check_price(id, "p", "61837.63".parse().unwrap()).is_ok());
        assert!(
            g.check_price(id, "p", "61837.63000000".parse().unwrap())
                .is_ok()
        );
        let e = g
            .check_price(id, "p", "61837.631".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "p 61837.631 is not a multiple of the instrument's tick size 0.01"
        );
        assert!(g.check_qty(id, "q", "25.426189".parse().unwrap()).is_ok());
        let futures = spec_table(&[builtin_spec(Market::UsdM, "BTCUSDT").unwrap()]).unwrap();
        let g = Grids::new(&futures);
        assert!(g.check_qty(id, "q", "0.0001".parse().unwrap()).is_err());
        assert!(g.check_price(id, "p", "61800.25".parse().unwrap()).is_err());
        assert_eq!("usdm".parse::<Market>(), Ok(Market::UsdM));
        assert_eq!(
            Market::from_venue(Market::CoinM.venue()),
            Some(Market::CoinM)
        );
    }
}
