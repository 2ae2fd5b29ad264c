//! `kestrel import dbn`: a Databento DBN file (v1, v2 or v3; plain or zstd) read through the
//! `dbn` crate, upgraded to v3 records, into a `.kcap`.
//!
//! Layout of the capture: one record on [`MAP_CHANNEL`] first, the instrument map (the DBN
//! instrument id of every dense id, see [`encode_instrument_map`]); then one DBN v3 record per
//! kcap record on [`RECORD_CHANNEL`], verbatim, with the record's `ts_recv` (its `ts_event`
//! where it has none) as the receive time, so a paced replay keeps the venue's timing.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use ::dbn::decode::{DbnDecoder, DbnMetadata, DecodeRecordRef};
use ::dbn::{RecordRefEnum, VersionUpgradePolicy};
use kestrel_core::{InstrumentError, InstrumentTable, Price, Qty, TickRule, Timestamp};

use super::error::{DbnError, DbnErrorKind};
use super::framing::{Framing, frame_records};
use super::price::dbn_price;
use crate::kcap::{KcapError, KcapHeader, KcapInstrument, KcapWriter, PayloadKind, Record};

/// kcap channel of DBN records.
pub const RECORD_CHANNEL: u16 = 0;
/// kcap channel of the instrument map.
pub const MAP_CHANNEL: u16 = 1;
/// First bytes of the instrument map record.
pub const MAP_MAGIC: &[u8; 8] = b"KDBNMAP1";

/// Encodes the instrument map: magic, u32 count, then each dense id's DBN instrument id (u32),
/// little-endian.
pub fn encode_instrument_map(dbn_ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + 4 * dbn_ids.len());
    out.extend_from_slice(MAP_MAGIC);
    out.extend_from_slice(&(dbn_ids.len() as u32).to_le_bytes());
    for id in dbn_ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// Decodes an instrument map record.
pub fn decode_instrument_map(bytes: &[u8]) -> Result<Vec<u32>, DbnErrorKind> {
    let rest = bytes
        .strip_prefix(&MAP_MAGIC[..])
        .ok_or(DbnErrorKind::InstrumentMap("no magic"))?;
    let (count, ids) = rest
        .split_first_chunk::<4>()
        .ok_or(DbnErrorKind::InstrumentMap("no count"))?;
    let count = u32::from_le_bytes(*count) as usize;
    if ids.len() != count.saturating_mul(4) {
        return Err(DbnErrorKind::InstrumentMap(
            "length does not match the count",
        ));
    }
    Ok(ids
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Why a DBN file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum DbnImportError {
    /// The metadata could not be read (not DBN, corrupt, unsupported version).
    #[error("DBN metadata: {0}")]
    Metadata(String),
    /// The instrument table could not be built.
    #[error("instrument table: {0}")]
    Instruments(#[from] InstrumentError),
    /// Writing the capture failed.
    #[error("kcap: {0}")]
    Kcap(#[from] KcapError),
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbnImportReport {
    /// DBN version of the input.
    pub version: u8,
    /// Dataset.
    pub dataset: String,
    /// Schema, when the file has one.
    pub schema: Option<String>,
    /// Records written.
    pub records: u64,
    /// Records by kind: MBO, MBP-1 (and TBBO), MBP-10, trades, definitions, other.
    pub mbo: u64,
    /// MBP-1 / TBBO records.
    pub mbp1: u64,
    /// MBP-10 records.
    pub mbp10: u64,
    /// Trade records.
    pub trades: u64,
    /// Instrument definitions.
    pub definitions: u64,
    /// Other known record types (status, statistics, OHLCV, ...), kept in the capture.
    pub other: u64,
    /// Records of a type the `dbn` crate does not know (kept in the capture, skipped at replay).
    pub unknown: u64,
    /// The error that ended the stream early (truncated or corrupt), if any.
    pub stopped: Option<DbnError>,
    /// Instruments in the header.
    pub instruments: usize,
}

/// A record's receive time: `ts_recv` where the schema has one, else `ts_event`.
fn receive_time(rec: &RecordRefEnum<'_>, ts_event: u64) -> u64 {
    let ts = match rec {
        RecordRefEnum::Mbo(r) => r.ts_recv,
        RecordRefEnum::Mbp1(r) => r.ts_recv,
        RecordRefEnum::Mbp10(r) => r.ts_recv,
        RecordRefEnum::Trade(r) => r.ts_recv,
        RecordRefEnum::InstrumentDef(r) => r.ts_recv,
        RecordRefEnum::Status(r) => r.ts_recv,
        RecordRefEnum::Imbalance(r) => r.ts_recv,
        RecordRefEnum::Stat(r) => r.ts_recv,
        RecordRefEnum::Bbo(r) => r.ts_recv,
        RecordRefEnum::Cbbo(r) => r.ts_recv,
        RecordRefEnum::Cmbp1(r) => r.ts_recv,
        _ => ts_event,
    };
    if ts == ::dbn::UNDEF_TIMESTAMP {
        ts_event
    } else {
        ts
    }
}

/// The zstd frame magic.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A DBN stream in memory, un-compressed, with the damage found while reading it.
#[derive(Debug)]
pub struct DbnBytes {
    /// The (un-compressed) DBN stream: metadata then records.
    pub bytes: Vec<u8>,
    /// The zstd stream ended early or is corrupt: what was read before is kept.
    pub compression_error: Option<String>,
}

/// Reads a DBN file, un-compressing it when it starts with the zstd magic. A damaged zstd
/// stream keeps what decompressed before the damage.
pub fn read_dbn_file(path: &Path) -> std::io::Result<DbnBytes> {
    let raw = std::fs::read(path)?;
    if !raw.starts_with(&ZSTD_MAGIC) {
        return Ok(DbnBytes {
            bytes: raw,
            compression_error: None,
        });
    }
    let mut bytes = Vec::with_capacity(raw.len() * 4);
    let mut compression_error = None;
    match zstd::stream::read::Decoder::new(&raw[..]) {
        Ok(mut d) => {
            let mut chunk = [0u8; 8192];
            loop {
                match std::io::Read::read(&mut d, &mut chunk) {
                    Ok(0) => break,
                    Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                    Err(e) => {
                        compression_error = Some(e.to_string());
                        break;
                    }
                }
            }
        }
        Err(e) => compression_error = Some(e.to_string()),
    }
    Ok(DbnBytes {
        bytes,
        compression_error,
    })
}

/// A decoder over an un-compressed DBN stream, upgrading records to v3. It sees the
/// well-framed records only ([`framing`](super::framing)): a corrupt length would put the next
/// record unaligned in `dbn`'s buffer, which `dbn` does not survive.
fn open_decoder(
    bytes: &[u8],
    policy: VersionUpgradePolicy,
) -> Result<DbnDecoder<&[u8]>, DbnImportError> {
    let framed = bytes.get(..framing_of(bytes).end).unwrap_or(bytes);
    DbnDecoder::with_upgrade_policy(framed, policy)
        .map_err(|e| DbnImportError::Metadata(e.to_string()))
}

/// The record headers of a stream walked from the end of its metadata (everything, when the
/// prelude is missing: `dbn` then refuses the metadata).
fn framing_of(bytes: &[u8]) -> Framing {
    let records_start = bytes
        .get(4..8)
        .and_then(|b| usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok())
        .map_or(usize::MAX, |len| len.saturating_add(8));
    frame_records(bytes, records_start)
}

/// The corrupt record length that ends the stream at byte `end`, if that is what ends it.
fn corrupt_length_at(bytes: &[u8], end: u64) -> Option<DbnErrorKind> {
    let f = framing_of(bytes);
    (f.end as u64 == end).then_some(f.corrupt).flatten()
}

/// The bytes a version-1 or -2 record must have for `dbn`'s upgrade to v3 to read it: the old
/// struct the upgrade casts the record to (plus the `ts_out` trailer when the stream has one),
/// for the record types the upgrade rewrites; `None` for the rest, which pass through as they
/// are.
fn upgrade_needs(version: u8, ts_out: bool, rtype: u8) -> Option<usize> {
    use ::dbn::rtype;
    use std::mem::size_of;
    let old = match (version, rtype) {
        (1, rtype::INSTRUMENT_DEF) => size_of::<::dbn::v1::InstrumentDefMsg>(),
        (2, rtype::INSTRUMENT_DEF) => size_of::<::dbn::v2::InstrumentDefMsg>(),
        (1 | 2, rtype::STATISTICS) => size_of::<::dbn::v1::StatMsg>(),
        (1, rtype::SYMBOL_MAPPING) => size_of::<::dbn::v1::SymbolMappingMsg>(),
        (1, rtype::ERROR) => size_of::<::dbn::v1::ErrorMsg>(),
        (1, rtype::SYSTEM) => size_of::<::dbn::v1::SystemMsg>(),
        _ => return None,
    };
    Some(old + if ts_out { 8 } else { 0 })
}

/// What one pass over the stream as it is (no upgrade) found.
struct Extent {
    /// Bytes of the prelude and metadata.
    meta: u64,
    /// Where the last whole, upgradable record ends (a byte offset in the stream).
    end: u64,
    /// Whole, upgradable records before `end`.
    records: u64,
    /// The first record that `dbn`'s upgrade to v3 cannot read (shorter than the old struct
    /// it would be cast to: a corrupt length), which ends the usable stream.
    unupgradable: Option<DbnErrorKind>,
}

/// Where the usable records of a stream end: the metadata length plus every whole record's
/// on-disk size, up to the first record the upgrade to v3 could not read. Bytes past it are a
/// truncated or corrupt record. (`dbn` 0.73 panics on an old-version record shorter than the
/// struct it upgrades from; this pass finds it first so that no such record reaches it.)
fn records_extent(bytes: &[u8]) -> Result<Extent, DbnImportError> {
    let meta = bytes
        .get(4..8)
        .map(|b| 8 + u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .ok_or_else(|| DbnImportError::Metadata("shorter than the DBN prelude".into()))?;
    let mut d = open_decoder(bytes, VersionUpgradePolicy::AsIs)?;
    let (version, ts_out) = (d.metadata().version, d.metadata().ts_out);
    let mut x = Extent {
        meta,
        end: meta,
        records: 0,
        unupgradable: None,
    };
    while let Ok(Some(rec)) = d.decode_record_ref() {
        let len = AsRef::<[u8]>::as_ref(&rec).len();
        let rtype = rec.header().rtype;
        if let Some(need) = upgrade_needs(version, ts_out, rtype)
            && len < need
        {
            x.unupgradable = Some(DbnErrorKind::ShortRecord { rtype, len, need });
            break;
        }
        x.end += len as u64;
        x.records += 1;
    }
    Ok(x)
}

/// Imports a DBN file into a `.kcap` written to `out`.
pub fn write_dbn_capture<W: Write>(
    path: &Path,
    created: Timestamp,
    out: W,
) -> Result<(W, DbnImportReport), DbnImportError> {
    let input =
        read_dbn_file(path).map_err(|e| DbnImportError::Metadata(format!("reading: {e}")))?;
    write_dbn_bytes(&input, created, out)
}

/// Imports an un-compressed DBN stream into a `.kcap` written to `out`.
pub fn write_dbn_bytes<W: Write>(
    input: &DbnBytes,
    created: Timestamp,
    out: W,
) -> Result<(W, DbnImportReport), DbnImportError> {
    let extent = records_extent(&input.bytes)?;
    // The upgrading passes see the usable records only.
    let bytes = usize::try_from(extent.end)
        .ok()
        .and_then(|end| input.bytes.get(..end))
        .unwrap_or(&input.bytes[..]);
    // First pass: instruments (ids in order of appearance) and their definitions.
    let mut decoder = open_decoder(bytes, VersionUpgradePolicy::UpgradeToV3)?;
    let metadata = decoder.metadata().clone();
    let mut symbols: HashMap<u32, String> = HashMap::new();
    for m in &metadata.mappings {
        for interval in &m.intervals {
            if let Ok(id) = interval.symbol.parse::<u32>() {
                symbols.insert(id, m.raw_symbol.clone());
            }
        }
    }
    let mut order: Vec<u32> = Vec::new();
    let mut ticks: HashMap<u32, Price> = HashMap::new();
    while let Ok(Some(rec)) = decoder.decode_record_ref() {
        let id = rec.header().instrument_id;
        if !order.contains(&id) {
            order.push(id);
        }
        if let Ok(RecordRefEnum::InstrumentDef(def)) = super::checked::record_enum(&rec) {
            if let Ok(sym) = def.raw_symbol()
                && !sym.is_empty()
            {
                symbols.entry(id).or_insert_with(|| sym.to_owned());
            }
            if let Ok(Some(tick)) = dbn_price(def.min_price_increment)
                && tick.is_positive()
            {
                ticks.insert(id, tick);
            }
        }
    }
    let mut table = InstrumentTable::new();
    for id in &order {
        let symbol = symbols.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
        // The definition's tick, or, where the file has none, the US equity rule (stored as
        // zero; see `TickRule`).
        let tick = ticks
            .get(id)
            .copied()
            .unwrap_or_else(|| TickRule::UsEquity.tick_size());
        let symbol = if table.id_of(&symbol).is_some() {
            format!("{symbol}#{id}")
        } else {
            symbol
        };
        table.add(&symbol, tick, Qty::ONE, 9)?;
    }
    let venue = if metadata.dataset.is_empty() {
        "DATABENTO".to_owned()
    } else {
        metadata.dataset.clone()
    };
    let mut header = KcapHeader::new(PayloadKind::Dbn, &venue, created);
    header.instruments = table.iter().map(KcapInstrument::from).collect();
    let mut kcap = KcapWriter::new(out, &header)?;
    kcap.write_record(&Record {
        recv_ts: Timestamp(metadata.start),
        seq: 0,
        channel: MAP_CHANNEL,
        payload: &encode_instrument_map(&order),
    })?;
    let mut report = DbnImportReport {
        version: metadata.version,
        dataset: metadata.dataset.clone(),
        schema: metadata.schema.map(|s| s.to_string()),
        instruments: table.len(),
        ..DbnImportReport::default()
    };
    // Second pass: the records.
    let mut decoder = open_decoder(bytes, VersionUpgradePolicy::UpgradeToV3)?;
    let mut offset = 0u64;
    loop {
        let rec = match decoder.decode_record_ref() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => {
                report.stopped = Some(DbnError {
                    record: report.records,
                    offset,
                    kind: classify(&e),
                });
                break;
            }
        };
        let record: &[u8] = rec.as_ref();
        let ts_event = rec.header().ts_event;
        let recv = match super::checked::record_enum(&rec) {
            Ok(e) => {
                match e {
                    RecordRefEnum::Mbo(_) => report.mbo += 1,
                    RecordRefEnum::Mbp1(_) => report.mbp1 += 1,
                    RecordRefEnum::Mbp10(_) => report.mbp10 += 1,
                    RecordRefEnum::Trade(_) => report.trades += 1,
                    RecordRefEnum::InstrumentDef(_) => report.definitions += 1,
                    _ => report.other += 1,
                }
                receive_time(&e, ts_event)
            }
            Err(_) => {
                report.unknown += 1;
                ts_event
            }
        };
        report.records += 1;
        kcap.write_record(&Record {
            recv_ts: Timestamp(recv),
            seq: report.records,
            channel: RECORD_CHANNEL,
            payload: record,
        })?;
        offset += record.len() as u64;
    }
    if report.stopped.is_none() {
        let total = input.bytes.len() as u64;
        if extent.end < total || input.compression_error.is_some() {
            report.stopped = Some(DbnError {
                record: extent.records,
                offset: extent.end - extent.meta,
                kind: match (extent.unupgradable, &input.compression_error) {
                    (Some(kind), _) => kind,
                    (None, Some(e)) => DbnErrorKind::Decode(format!("zstd: {e}")),
                    (None, None) => corrupt_length_at(&input.bytes, extent.end)
                        .unwrap_or(DbnErrorKind::Truncated),
                },
            });
        }
    }
    Ok((kcap.finish()?, report))
}

/// The kind of a `dbn` crate error.
pub(crate) fn classify(e: &::dbn::Error) -> DbnErrorKind {
    let text = e.to_string();
    if text.contains("unexpected end") || text.contains("UnexpectedEof") || text.contains("truncat")
    {
        DbnErrorKind::Truncated
    } else {
        DbnErrorKind::Decode(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrument_map_round_trip_and_damage() {
        let bytes = encode_instrument_map(&[5482, 7, u32::MAX]);
        assert_eq!(decode_instrument_map(&bytes).unwrap(), [5482, 7, u32::MAX]);
        assert!(decode_instrument_map(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_instrument_map(b"KDBNMAP2\0\0\0\0").is_err());
        assert!(decode_instrument_map(b"KDBNMAP1").is_err());
        assert!(
            decode_instrument_map(&encode_instrument_map(&[]))
                .unwrap()
                .is_empty()
        );
    }
}
