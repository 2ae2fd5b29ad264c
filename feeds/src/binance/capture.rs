//! Raw Binance captures: one message per line, `<local receive time, ns since the epoch>
//! <JSON>`, plain or gzip-compressed (as recorded by hftbacktest's collector), and their
//! import into a `.kcap` whose records keep the local receive times for paced replay.
//!
//! The websocket messages go on channel 0 verbatim; a REST depth snapshot (which names no
//! symbol) goes on channel [`SNAPSHOT_CHANNEL_BASE`] + its instrument's dense id.

use std::io::{Read, Write};
use std::path::Path;

use kestrel_core::{InstrumentError, InstrumentTable, Timestamp};

use super::decode::{BinanceDecoder, BinanceMessage};
use super::error::CaptureLineError;
use super::feed::SNAPSHOT_CHANNEL_BASE;
use super::instruments::{InstrumentSpec, Market, builtin_spec, spec_table};
use crate::kcap::{KcapError, KcapHeader, KcapInstrument, KcapWriter, PayloadKind, Record};

/// One line of a raw capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureLine<'a> {
    /// 1-based line number.
    pub line: u64,
    /// Local receive time.
    pub recv_ts: Timestamp,
    /// The JSON message.
    pub json: &'a [u8],
}

/// Reads a whole capture file, un-gzipping it when it starts with the gzip magic.
pub fn read_capture_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The lines of a capture, in order; blank lines are skipped, malformed ones are errors.
pub fn capture_lines(
    data: &[u8],
) -> impl Iterator<Item = Result<CaptureLine<'_>, CaptureLineError>> + '_ {
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, raw)| {
            let line = i as u64 + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let Some(space) = raw.iter().position(|&b| b == b' ') else {
                return Some(Err(CaptureLineError::NoSeparator { line }));
            };
            let (time, json) = (&raw[..space], &raw[space + 1..]);
            let ns = std::str::from_utf8(time)
                .ok()
                .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<u64>().ok());
            Some(match ns {
                Some(ns) => Ok(CaptureLine {
                    line,
                    recv_ts: Timestamp(ns),
                    json,
                }),
                None => Err(CaptureLineError::BadTime { line }),
            })
        })
}

/// What a first pass over a capture found: its market and symbols.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureSurvey {
    /// Symbols in order of first appearance.
    pub symbols: Vec<String>,
    /// Whether any depth diff carried `pu` (futures).
    pub futures: bool,
    /// Whether any symbol looks like a COIN-M contract (`..._PERP` or a delivery date).
    pub coin_margined: bool,
    /// Depth snapshots seen.
    pub snapshots: u64,
}

impl CaptureSurvey {
    /// The market the capture looks like.
    pub fn market(&self) -> Market {
        match (self.futures, self.coin_margined) {
            (false, _) => Market::Spot,
            (true, false) => Market::UsdM,
            (true, true) => Market::CoinM,
        }
    }
}

/// Surveys a capture: symbols, market, snapshots (undecodable lines are left for the import
/// and replay to report).
pub fn survey(data: &[u8]) -> CaptureSurvey {
    let mut s = CaptureSurvey::default();
    let mut decoder = BinanceDecoder::default();
    for line in capture_lines(data).flatten() {
        let symbol = match decoder.decode(line.json) {
            Ok(BinanceMessage::Depth(d)) => {
                s.futures |= d.prev_final_update_id.is_some();
                d.symbol
            }
            Ok(BinanceMessage::BookTicker(t)) => t.symbol,
            Ok(BinanceMessage::Trade(t)) => t.symbol,
            Ok(BinanceMessage::Snapshot(_)) => {
                s.snapshots += 1;
                continue;
            }
            Err(_) => continue,
        };
        if !s.symbols.iter().any(|k| k == symbol) {
            s.coin_margined |= symbol.contains('_');
            s.symbols.push(symbol.to_owned());
        }
    }
    s
}

/// Why a capture could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum BinanceImportError {
    /// A symbol with no tick/lot size known.
    #[error(
        "no tick and lot size for {market} symbol {symbol}: pass --instrument {symbol}:TICK:LOT"
    )]
    NoSpec {
        /// The market.
        market: Market,
        /// The symbol.
        symbol: String,
    },
    /// A snapshot in a capture of several symbols, with no way to tell whose it is.
    #[error(
        "the capture has depth snapshots and {0} symbols: a snapshot names no symbol; pass --snapshot-symbol"
    )]
    AmbiguousSnapshot(usize),
    /// The snapshot symbol given is not in the capture.
    #[error("snapshot symbol {0} is not an instrument of the capture")]
    SnapshotSymbol(String),
    /// The instrument table could not be built.
    #[error("instrument table: {0}")]
    Instruments(#[from] InstrumentError),
    /// Writing the capture failed.
    #[error("kcap: {0}")]
    Kcap(#[from] KcapError),
}

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The market (default: what the survey finds).
    pub market: Option<Market>,
    /// Tick/lot sizes for symbols without a built-in one (or to override it).
    pub instruments: Vec<InstrumentSpec>,
    /// The symbol depth snapshots belong to (needed when the capture has several).
    pub snapshot_symbol: Option<String>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The market written to the header.
    pub market: Option<Market>,
    /// Messages written.
    pub messages: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// Lines that are not `<ns> <json>` (skipped), with the first few errors.
    pub bad_lines: u64,
    /// The first bad lines.
    pub line_errors: Vec<CaptureLineError>,
    /// Instruments in the header.
    pub instruments: usize,
}

/// The instrument table an import (or a verify) uses: the capture's symbols in order of
/// appearance, each with its `--instrument` spec or its built-in one.
pub fn capture_instruments(
    survey: &CaptureSurvey,
    market: Market,
    given: &[InstrumentSpec],
) -> Result<InstrumentTable, BinanceImportError> {
    let mut specs = Vec::with_capacity(survey.symbols.len());
    for symbol in &survey.symbols {
        let spec = given
            .iter()
            .find(|s| &s.symbol == symbol)
            .cloned()
            .or_else(|| builtin_spec(market, symbol))
            .ok_or_else(|| BinanceImportError::NoSpec {
                market,
                symbol: symbol.clone(),
            })?;
        specs.push(spec);
    }
    Ok(spec_table(&specs)?)
}

/// The dense id depth snapshots belong to.
pub fn snapshot_instrument(
    table: &InstrumentTable,
    snapshot_symbol: Option<&str>,
    snapshots: u64,
) -> Result<u16, BinanceImportError> {
    let id = match snapshot_symbol {
        Some(sym) => table
            .id_of(sym)
            .ok_or_else(|| BinanceImportError::SnapshotSymbol(sym.to_owned()))?,
        None if table.len() <= 1 || snapshots == 0 => kestrel_core::InstrumentId(0),
        None => return Err(BinanceImportError::AmbiguousSnapshot(table.len())),
    };
    Ok(u16::try_from(id.0)
        .unwrap_or(u16::MAX - SNAPSHOT_CHANNEL_BASE)
        .saturating_add(SNAPSHOT_CHANNEL_BASE))
}

/// What reading a raw capture needs before its first line: its survey, the market (given, or
/// what the survey finds), the instrument table and the channel its REST snapshots go on. One
/// plan serves the import, `kestrel verify binance`, the tests and the benches.
#[derive(Clone, Debug)]
pub struct CapturePlan {
    /// The first pass's findings.
    pub survey: CaptureSurvey,
    /// The market.
    pub market: Market,
    /// The instruments ([`capture_instruments`]).
    pub table: InstrumentTable,
    /// The channel of the REST depth snapshots ([`snapshot_instrument`]).
    pub snapshot_channel: u16,
}

impl CapturePlan {
    /// Decides the market, instruments and snapshot channel of a surveyed capture per
    /// `options`.
    pub fn new(survey: CaptureSurvey, options: &ImportOptions) -> Result<Self, BinanceImportError> {
        let market = options.market.unwrap_or_else(|| survey.market());
        let table = capture_instruments(&survey, market, &options.instruments)?;
        let snapshot_channel =
            snapshot_instrument(&table, options.snapshot_symbol.as_deref(), survey.snapshots)?;
        Ok(Self {
            survey,
            market,
            table,
            snapshot_channel,
        })
    }

    /// The channel a capture line's message goes on: its snapshot channel for a REST depth
    /// snapshot ([`is_snapshot`]), 0 for everything else.
    #[inline]
    pub fn channel_of(&self, json: &[u8]) -> u16 {
        if is_snapshot(json) {
            self.snapshot_channel
        } else {
            0
        }
    }
}

/// Surveys a raw capture (`data`, already un-gzipped) and decides its market, instruments and
/// snapshot channel per `options` ([`CapturePlan::new`]).
pub fn plan_capture(
    data: &[u8],
    options: &ImportOptions,
) -> Result<CapturePlan, BinanceImportError> {
    CapturePlan::new(survey(data), options)
}

/// Imports a raw capture (`data`, already un-gzipped) into a `.kcap` written to `out`.
pub fn write_binance_capture<W: Write>(
    data: &[u8],
    options: &ImportOptions,
    created: Timestamp,
    out: W,
) -> Result<(W, ImportReport), BinanceImportError> {
    let plan = plan_capture(data, options)?;
    let (market, table) = (plan.market, &plan.table);
    let mut header = KcapHeader::new(PayloadKind::BinanceJson, market.venue(), created);
    header.instruments = table.iter().map(KcapInstrument::from).collect();
    let mut kcap = KcapWriter::new(out, &header)?;
    let mut report = ImportReport {
        market: Some(market),
        instruments: table.len(),
        ..ImportReport::default()
    };
    for line in capture_lines(data) {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                report.bad_lines += 1;
                if report.line_errors.len() < 10 {
                    report.line_errors.push(e);
                }
                continue;
            }
        };
        let channel = plan.channel_of(line.json);
        // Snapshot channels start at `SNAPSHOT_CHANNEL_BASE` (1): channel 0 is everything else.
        report.snapshots += u64::from(channel != 0);
        report.messages += 1;
        kcap.write_record(&Record {
            recv_ts: line.recv_ts,
            seq: line.line,
            channel,
            payload: line.json,
        })?;
    }
    Ok((kcap.finish()?, report))
}

/// Whether a message is a REST depth snapshot (it has a top-level `lastUpdateId`).
pub fn is_snapshot(json: &[u8]) -> bool {
    let trimmed = json.trim_ascii_start();
    trimmed.starts_with(b"{\"lastUpdateId\"")
        || (!trimmed.starts_with(b"{\"stream\"") && contains(trimmed, b"\"lastUpdateId\""))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_and_bad_lines_are_reported() {
        let data = b"1 {\"a\":1}\r\n\n2x {}\nnospace\n3 {}";
        let lines: Vec<_> = capture_lines(data).collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].as_ref().unwrap().json, b"{\"a\":1}");
        assert_eq!(lines[1], Err(CaptureLineError::BadTime { line: 3 }));
        assert_eq!(lines[2], Err(CaptureLineError::NoSeparator { line: 4 }));
        assert_eq!(lines[3].as_ref().unwrap().recv_ts, Timestamp(3));
        assert!(is_snapshot(b"{\"lastUpdateId\":1,\"bids\":[],\"asks\":[]}"));
        assert!(!is_snapshot(b"{\"stream\":\"x\",\"data\":{\"u\":1}}"));
    }
}
