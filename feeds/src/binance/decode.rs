//! Binance market-data JSON -> typed messages, through `sonic-rs` (SIMD JSON) and serde
//! visitors that borrow every string from the input and write book levels straight into
//! preallocated scratch space: no allocation per message, no floats. Prices and quantities go
//! from their decimal strings to fixed point ([`Price`]/[`Qty`], 8 decimals) in one integer pass.
//!
//! Recognised shapes (bare, or wrapped in a combined-stream `{"stream":..,"data":{..}}`):
//! - `depthUpdate` (spot: `U`, `u`; USD-M / COIN-M futures: also `pu` and `T`);
//! - `bookTicker` (spot has no `e` field: recognised by `u`, `b`, `B`, `a`, `A`);
//! - `trade` and `aggTrade`;
//! - the REST depth snapshot (`lastUpdateId`, `bids`, `asks`; futures add `E`, `T`).

use std::fmt;

use kestrel_core::{FixedError, LevelView, Price, Qty};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::BinanceErrorKind;

/// Levels per side the decoder holds by default (Binance snapshots go up to 5,000).
pub const DEFAULT_MAX_LEVELS: usize = 5_000;

/// A depth diff (`depthUpdate`). Its levels are the decoder's [`bids`](BinanceDecoder::bids)
/// and [`asks`](BinanceDecoder::asks) until the next decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthDiff<'a> {
    /// Symbol (`s`).
    pub symbol: &'a str,
    /// Event time, ms since the epoch (`E`).
    pub event_time_ms: u64,
    /// Transaction time, ms (`T`; futures only).
    pub transact_time_ms: Option<u64>,
    /// First update id in the event (`U`).
    pub first_update_id: u64,
    /// Final update id in the event (`u`).
    pub final_update_id: u64,
    /// Final update id of the previous event (`pu`; futures only).
    pub prev_final_update_id: Option<u64>,
}

/// The exchange's own best bid and ask (`bookTicker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker<'a> {
    /// Symbol (`s`).
    pub symbol: &'a str,
    /// Order book update id (`u`).
    pub update_id: u64,
    /// Best bid price (`b`).
    pub bid_price: Price,
    /// Best bid quantity (`B`).
    pub bid_qty: Qty,
    /// Best ask price (`a`).
    pub ask_price: Price,
    /// Best ask quantity (`A`).
    pub ask_qty: Qty,
    /// Event time, ms (`E`; futures only).
    pub event_time_ms: Option<u64>,
}

/// A trade (`trade`) or an aggregate trade (`aggTrade`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade<'a> {
    /// Symbol (`s`).
    pub symbol: &'a str,
    /// Event time, ms (`E`).
    pub event_time_ms: u64,
    /// Trade time, ms (`T`).
    pub trade_time_ms: u64,
    /// Trade id (`t`), or the aggregate trade id (`a`).
    pub trade_id: u64,
    /// Price (`p`).
    pub price: Price,
    /// Quantity (`q`).
    pub qty: Qty,
    /// Whether the buyer was the maker (`m`): the seller was the aggressor.
    pub buyer_is_maker: bool,
    /// Whether this is an `aggTrade`.
    pub aggregate: bool,
}

/// The REST depth snapshot. Its levels are the decoder's bids and asks until the next decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthSnapshot {
    /// The update id the snapshot is as of (`lastUpdateId`).
    pub last_update_id: u64,
    /// Message output time, ms (`E`; futures only).
    pub event_time_ms: Option<u64>,
    /// Transaction time, ms (`T`; futures only).
    pub transact_time_ms: Option<u64>,
}

/// One decoded Binance message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceMessage<'a> {
    /// A depth diff.
    Depth(DepthDiff<'a>),
    /// A best bid/ask update.
    BookTicker(BookTicker<'a>),
    /// A trade or aggregate trade.
    Trade(Trade<'a>),
    /// A REST depth snapshot.
    Snapshot(DepthSnapshot),
}

/// The decoder: scratch space for one message's levels, reused for every message.
#[derive(Debug, Clone)]
pub struct BinanceDecoder {
    bids: Vec<LevelView>,
    asks: Vec<LevelView>,
    max_levels: usize,
}

impl Default for BinanceDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LEVELS)
    }
}

impl BinanceDecoder {
    /// A decoder that holds up to `max_levels` levels per side (allocated now, never grown).
    pub fn new(max_levels: usize) -> Self {
        Self {
            bids: Vec::with_capacity(max_levels),
            asks: Vec::with_capacity(max_levels),
            max_levels,
        }
    }

    /// The last depth diff's or snapshot's bid levels, in message order.
    #[inline]
    pub fn bids(&self) -> &[LevelView] {
        &self.bids
    }

    /// The last depth diff's or snapshot's ask levels, in message order.
    #[inline]
    pub fn asks(&self) -> &[LevelView] {
        &self.asks
    }

    /// Decodes one message.
    pub fn decode<'a>(&mut self, json: &'a [u8]) -> Result<BinanceMessage<'a>, BinanceErrorKind> {
        self.bids.clear();
        self.asks.clear();
        let mut failure = None;
        let fields = {
            let seed = FieldsSeed {
                scratch: Scratch {
                    bids: &mut self.bids,
                    asks: &mut self.asks,
                    max: self.max_levels,
                    failure: &mut failure,
                },
            };
            let mut de = sonic_rs::Deserializer::from_slice(json);
            let parsed = seed.deserialize(&mut de).and_then(|f| de.end().map(|()| f));
            match parsed {
                Ok(f) => f,
                Err(e) => {
                    return Err(failure.unwrap_or_else(|| BinanceErrorKind::Json {
                        offset: e.offset(),
                        reason: e.to_string(),
                    }));
                }
            }
        };
        fields.into_message()
    }
}

/// Where level arrays go while a message is parsed, and the typed error of a failed parse
/// (serde errors carry text only; the typed one is kept here).
struct Scratch<'s> {
    bids: &'s mut Vec<LevelView>,
    asks: &'s mut Vec<LevelView>,
    max: usize,
    failure: &'s mut Option<BinanceErrorKind>,
}

impl Scratch<'_> {
    fn reborrow(&mut self) -> Scratch<'_> {
        Scratch {
            bids: self.bids,
            asks: self.asks,
            max: self.max,
            failure: self.failure,
        }
    }
}

/// A field whose JSON type depends on the message: `b`/`a` are level arrays in a depth diff,
/// price strings in a book ticker, and `a` is a number (aggregate trade id) in an `aggTrade`.
#[derive(Clone, Copy, Debug, Default)]
enum Flex<'a> {
    #[default]
    Absent,
    Str(&'a str),
    Num(u64),
    Levels,
}

/// Every field Kestrel reads, as found.
#[derive(Default)]
struct Fields<'a> {
    event: Option<&'a str>,
    symbol: Option<&'a str>,
    event_time: Option<u64>,
    transact_time: Option<u64>,
    first_id: Option<u64>,
    final_id: Option<u64>,
    prev_final_id: Option<u64>,
    trade_id: Option<u64>,
    last_update_id: Option<u64>,
    price: Option<&'a str>,
    qty: Option<&'a str>,
    buyer_is_maker: Option<bool>,
    b: Flex<'a>,
    a: Flex<'a>,
    big_b: Option<&'a str>,
    big_a: Option<&'a str>,
    bids: bool,
    asks: bool,
}

fn missing(message: &'static str, field: &'static str) -> BinanceErrorKind {
    BinanceErrorKind::MissingField { message, field }
}

fn number<T>(
    text: &str,
    field: &'static str,
    parse: fn(&[u8]) -> Result<T, FixedError>,
) -> Result<T, BinanceErrorKind> {
    parse(text.as_bytes()).map_err(|error| BinanceErrorKind::Number {
        field,
        level: 0,
        error,
    })
}

impl<'a> Fields<'a> {
    fn into_message(self) -> Result<BinanceMessage<'a>, BinanceErrorKind> {
        if let Some(last_update_id) = self.last_update_id {
            const M: &str = "depth snapshot";
            if !self.bids {
                return Err(missing(M, "bids"));
            }
            if !self.asks {
                return Err(missing(M, "asks"));
            }
            return Ok(BinanceMessage::Snapshot(DepthSnapshot {
                last_update_id,
                event_time_ms: self.event_time,
                transact_time_ms: self.transact_time,
            }));
        }
        match self.event {
            Some("depthUpdate") => self.depth(),
            Some("bookTicker") => self.ticker(),
            Some("trade") => self.trade(false),
            Some("aggTrade") => self.trade(true),
            Some(other) => Err(BinanceErrorKind::UnknownEvent(other.to_owned())),
            None if self.final_id.is_some() && self.big_b.is_some() => self.ticker(),
            None => Err(BinanceErrorKind::UnknownShape),
        }
    }

    fn depth(self) -> Result<BinanceMessage<'a>, BinanceErrorKind> {
        const M: &str = "depthUpdate";
        if !matches!(self.b, Flex::Levels) {
            return Err(missing(M, "b"));
        }
        if !matches!(self.a, Flex::Levels) {
            return Err(missing(M, "a"));
        }
        Ok(BinanceMessage::Depth(DepthDiff {
            symbol: self.symbol.ok_or(missing(M, "s"))?,
            event_time_ms: self.event_time.ok_or(missing(M, "E"))?,
            transact_time_ms: self.transact_time,
            first_update_id: self.first_id.ok_or(missing(M, "U"))?,
            final_update_id: self.final_id.ok_or(missing(M, "u"))?,
            prev_final_update_id: self.prev_final_id,
        }))
    }

    fn ticker(self) -> Result<BinanceMessage<'a>, BinanceErrorKind> {
        const M: &str = "bookTicker";
        let Flex::Str(b) = self.b else {
            return Err(missing(M, "b"));
        };
        let Flex::Str(a) = self.a else {
            return Err(missing(M, "a"));
        };
        Ok(BinanceMessage::BookTicker(BookTicker {
            symbol: self.symbol.ok_or(missing(M, "s"))?,
            update_id: self.final_id.ok_or(missing(M, "u"))?,
            bid_price: number(b, "b", Price::parse_bytes)?,
            bid_qty: number(self.big_b.ok_or(missing(M, "B"))?, "B", Qty::parse_bytes)?,
            ask_price: number(a, "a", Price::parse_bytes)?,
            ask_qty: number(self.big_a.ok_or(missing(M, "A"))?, "A", Qty::parse_bytes)?,
            event_time_ms: self.event_time,
        }))
    }

    fn trade(self, aggregate: bool) -> Result<BinanceMessage<'a>, BinanceErrorKind> {
        let m = if aggregate { "aggTrade" } else { "trade" };
        let trade_id = if aggregate {
            match self.a {
                Flex::Num(n) => n,
                _ => return Err(missing(m, "a")),
            }
        } else {
            self.trade_id.ok_or(missing(m, "t"))?
        };
        Ok(BinanceMessage::Trade(Trade {
            symbol: self.symbol.ok_or(missing(m, "s"))?,
            event_time_ms: self.event_time.ok_or(missing(m, "E"))?,
            trade_time_ms: self.transact_time.ok_or(missing(m, "T"))?,
            trade_id,
            price: number(self.price.ok_or(missing(m, "p"))?, "p", Price::parse_bytes)?,
            qty: number(self.qty.ok_or(missing(m, "q"))?, "q", Qty::parse_bytes)?,
            buyer_is_maker: self.buyer_is_maker.ok_or(missing(m, "m"))?,
            aggregate,
        }))
    }
}

/// Parses one JSON object (a message or the `data` of a combined-stream wrapper).
struct FieldsSeed<'s> {
    scratch: Scratch<'s>,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = Fields<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Binance market-data object")
    }

    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut f = Fields::default();
        let mut data = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "e" => f.event = Some(map.next_value()?),
                "s" => f.symbol = Some(map.next_value()?),
                "E" => f.event_time = Some(map.next_value()?),
                "T" => f.transact_time = Some(map.next_value()?),
                "U" => f.first_id = Some(map.next_value()?),
                "u" => f.final_id = Some(map.next_value()?),
                "pu" => f.prev_final_id = Some(map.next_value()?),
                "t" => f.trade_id = Some(map.next_value()?),
                "lastUpdateId" => f.last_update_id = Some(map.next_value()?),
                "p" => f.price = Some(map.next_value()?),
                "q" => f.qty = Some(map.next_value()?),
                "m" => f.buyer_is_maker = Some(map.next_value()?),
                "B" => f.big_b = Some(map.next_value()?),
                "A" => f.big_a = Some(map.next_value()?),
                "b" | "bids" => {
                    let flex = map.next_value_seed(FlexSeed {
                        scratch: self.scratch.reborrow(),
                        bids: true,
                        field: if key == "b" { "b" } else { "bids" },
                    })?;
                    if key == "b" {
                        f.b = flex;
                    } else {
                        f.bids = matches!(flex, Flex::Levels);
                    }
                }
                "a" | "asks" => {
                    let flex = map.next_value_seed(FlexSeed {
                        scratch: self.scratch.reborrow(),
                        bids: false,
                        field: if key == "a" { "a" } else { "asks" },
                    })?;
                    if key == "a" {
                        f.a = flex;
                    } else {
                        f.asks = matches!(flex, Flex::Levels);
                    }
                }
                "data" => {
                    data = Some(map.next_value_seed(FieldsSeed {
                        scratch: self.scratch.reborrow(),
                    })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(data.unwrap_or(f))
    }
}

/// A `b`/`a`/`bids`/`asks` value: a string, a number, or an array of `[price, qty]` levels.
struct FlexSeed<'s> {
    scratch: Scratch<'s>,
    bids: bool,
    field: &'static str,
}

impl<'de> DeserializeSeed<'de> for FlexSeed<'_> {
    type Value = Flex<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FlexSeed<'_> {
    type Value = Flex<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a price string, an id or an array of [price, quantity] levels")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Flex::Str(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Flex::Num(v))
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let Scratch {
            bids,
            asks,
            max,
            failure,
        } = self.scratch;
        let out = if self.bids { bids } else { asks };
        out.clear();
        while let Some([price, qty]) = seq.next_element::<[&'de str; 2]>()? {
            let level = out.len();
            if level >= max {
                *failure = Some(BinanceErrorKind::TooManyLevels(max));
                return Err(de::Error::custom("too many levels"));
            }
            let parsed = Price::parse_bytes(price.as_bytes())
                .map_err(|e| (e, self.field))
                .and_then(|p| {
                    Qty::parse_bytes(qty.as_bytes())
                        .map(|q| (p, q))
                        .map_err(|e| (e, self.field))
                });
            match parsed {
                Ok((price, qty)) => out.push(LevelView { price, qty }),
                Err((error, field)) => {
                    *failure = Some(BinanceErrorKind::Number {
                        field,
                        level,
                        error,
                    });
                    return Err(de::Error::custom("bad level number"));
                }
            }
        }
        Ok(Flex::Levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn spot_depth_in_a_combined_stream() {
        let json = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]]}}"#;
        let mut d = BinanceDecoder::default();
        let m = d.decode(json).unwrap();
        assert_eq!(
            m,
            BinanceMessage::Depth(DepthDiff {
                symbol: "BTCUSDT",
                event_time_ms: 1723161255308,
                transact_time_ms: None,
                first_update_id: 50093239203,
                final_update_id: 50093239207,
                prev_final_update_id: None,
            })
        );
        assert_eq!(
            d.bids(),
            [LevelView {
                price: px("55653.87"),
                qty: Qty::ZERO
            }]
        );
        assert_eq!(d.asks().len(), 2);
        assert_eq!(d.asks()[1].qty, "0.40163".parse().unwrap());
    }

    #[test]
    fn futures_depth_ticker_trade_and_snapshot() {
        let mut d = BinanceDecoder::default();
        let depth = br#"{"e":"depthUpdate","E":1,"T":2,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[],"a":[["61800.30","3.330"]]}"#;
        let BinanceMessage::Depth(diff) = d.decode(depth).unwrap() else {
            panic!("not a depth diff")
        };
        assert_eq!(
            (diff.prev_final_update_id, diff.transact_time_ms),
            (Some(9), Some(2))
        );
        let ticker = br#"{"e":"bookTicker","u":5,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":3,"E":4}"#;
        let BinanceMessage::BookTicker(t) = d.decode(ticker).unwrap() else {
            panic!("not a ticker")
        };
        assert_eq!(
            (t.update_id, t.bid_price, t.ask_qty),
            (5, px("61800.2"), "2.51".parse().unwrap())
        );
        let spot_ticker = br#"{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}"#;
        assert!(matches!(
            d.decode(spot_ticker),
            Ok(BinanceMessage::BookTicker(_))
        ));
        let trade = br#"{"e":"trade","E":1,"T":2,"s":"BTCUSDT","t":77,"p":"61800.30","q":"0.006","X":"MARKET","m":false}"#;
        let BinanceMessage::Trade(tr) = d.decode(trade).unwrap() else {
            panic!("not a trade")
        };
        assert_eq!(
            (tr.trade_id, tr.buyer_is_maker, tr.aggregate),
            (77, false, false)
        );
        let agg = br#"{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":2,"m":true,"M":true}"#;
        let BinanceMessage::Trade(ag) = d.decode(agg).unwrap() else {
            panic!("not an aggTrade")
        };
        assert_eq!(
            (ag.trade_id, ag.aggregate, ag.buyer_is_maker),
            (5933014, true, true)
        );
        let snap = br#"{"lastUpdateId":1027024,"E":1,"T":2,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"],["5","1"]]}"#;
        let BinanceMessage::Snapshot(s) = d.decode(snap).unwrap() else {
            panic!("not a snapshot")
        };
        assert_eq!(s.last_update_id, 1027024);
        assert_eq!((d.bids().len(), d.asks().len()), (1, 2));
    }

    #[test]
    fn bad_input_is_typed_with_position() {
        let mut d = BinanceDecoder::default();
        assert!(matches!(
            d.decode(br#"{"e":"depthUpdate","E":1,"#),
            Err(BinanceErrorKind::Json { offset, .. }) if offset > 0
        ));
        assert_eq!(
            d.decode(br#"{"e":"depthUpdate","E":1,"s":"X","u":2,"b":[],"a":[]}"#),
            Err(BinanceErrorKind::MissingField {
                message: "depthUpdate",
                field: "U"
            })
        );
        assert_eq!(
            d.decode(br#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1.0","2"],["1.000000001","1"]],"a":[]}"#),
            Err(BinanceErrorKind::Number { field: "b", level: 1, error: FixedError::TooPrecise })
        );
        assert_eq!(
            d.decode(br#"{"e":"kline","E":1}"#),
            Err(BinanceErrorKind::UnknownEvent("kline".into()))
        );
        assert_eq!(d.decode(br#"{"x":1}"#), Err(BinanceErrorKind::UnknownShape));
        assert!(matches!(
            d.decode(br#"{"e":"trade","p":12}"#),
            Err(BinanceErrorKind::Json { .. })
        ));
        let mut small = BinanceDecoder::new(1);
        assert_eq!(
            small.decode(br#"{"lastUpdateId":1,"bids":[["1","1"],["2","1"]],"asks":[]}"#),
            Err(BinanceErrorKind::TooManyLevels(1))
        );
        // The decoder is usable after errors.
        assert!(
            d.decode(br#"{"lastUpdateId":1,"bids":[],"asks":[]}"#)
                .is_ok()
        );
    }
}
