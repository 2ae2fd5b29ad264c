//! Summary of a capture for `kestrel capture info`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use kestrel_core::Timestamp;

use super::error::KcapError;
use super::format::{KcapInstrument, PayloadKind};
use super::reader::KcapReader;

/// How many damage reports [`CaptureInfo`] keeps verbatim.
pub const MAX_DAMAGE_REPORTS: usize = 16;

/// What a capture holds, read in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureInfo {
    /// Format version.
    pub version: u16,
    /// Venue name.
    pub venue: String,
    /// Payload kind.
    pub payload_kind: PayloadKind,
    /// Creation time, ns since the epoch.
    pub created: Timestamp,
    /// Instrument table.
    pub instruments: Vec<KcapInstrument>,
    /// Intact blocks.
    pub blocks: u64,
    /// Damaged blocks (bad magic, CRC, lengths, truncation).
    pub corrupt_blocks: u64,
    /// Records read.
    pub records: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// Payload bytes of the records read.
    pub payload_bytes: u64,
    /// Receive time of the first record read.
    pub first_recv: Option<Timestamp>,
    /// Receive time of the last record read.
    pub last_recv: Option<Timestamp>,
    /// Records per channel.
    pub channels: BTreeMap<u16, u64>,
    /// Whether the file ends inside a block.
    pub truncated: bool,
    /// The first [`MAX_DAMAGE_REPORTS`] damage reports, as text.
    pub damage: Vec<String>,
}

/// Reads `path` once and summarises it. Only a missing file or a bad header is an error;
/// damaged blocks are counted and described.
pub fn capture_info(path: impl AsRef<Path>) -> Result<CaptureInfo, KcapError> {
    Ok(KcapReader::open(path)?.info())
}

impl KcapReader {
    /// Summarises this capture (one pass over every record).
    pub fn info(&self) -> CaptureInfo {
        let h = self.header();
        let mut info = CaptureInfo {
            version: h.version,
            venue: h.venue.clone(),
            payload_kind: h.payload_kind,
            created: h.created,
            instruments: h.instruments.clone(),
            blocks: 0,
            corrupt_blocks: 0,
            records: 0,
            bytes: self.bytes().len() as u64,
            payload_bytes: 0,
            first_recv: None,
            last_recv: None,
            channels: BTreeMap::new(),
            truncated: false,
            damage: Vec::new(),
        };
        let mut records = self.records();
        for item in records.by_ref() {
            match item {
                Ok(r) => {
                    info.records += 1;
                    info.payload_bytes += r.payload.len() as u64;
                    info.first_recv.get_or_insert(r.recv_ts);
                    info.last_recv = Some(r.recv_ts);
                    *info.channels.entry(r.channel).or_insert(0) += 1;
                }
                Err(e) => {
                    if info.damage.len() < MAX_DAMAGE_REPORTS {
                        info.damage.push(e.to_string());
                    }
                }
            }
        }
        let stats = records.stats();
        info.blocks = stats.blocks;
        info.corrupt_blocks = stats.damaged_blocks;
        info.truncated = stats.truncated;
        info
    }
}

impl fmt::Display for CaptureInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "format version   {}", self.version)?;
        writeln!(f, "venue            {}", self.venue)?;
        writeln!(f, "payload          {}", self.payload_kind)?;
        writeln!(f, "created (ns)     {}", self.created.nanos())?;
        writeln!(f, "size             {} bytes", self.bytes)?;
        writeln!(
            f,
            "blocks           {} intact, {} corrupt{}",
            self.blocks,
            self.corrupt_blocks,
            if self.truncated {
                " (truncated tail)"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "records          {} ({} payload bytes)",
            self.records, self.payload_bytes
        )?;
        match (self.first_recv, self.last_recv) {
            (Some(a), Some(b)) => writeln!(
                f,
                "receive time     {} .. {} ns ({:.3} s)",
                a.nanos(),
                b.nanos(),
                b.saturating_since(a) as f64 / 1e9
            )?,
            _ => writeln!(f, "receive time     -")?,
        }
        write!(f, "channels        ")?;
        if self.channels.is_empty() {
            write!(f, " -")?;
        }
        for (ch, n) in &self.channels {
            write!(f, " {ch}: {n} records;")?;
        }
        writeln!(f)?;
        writeln!(f, "instruments      {}", self.instruments.len())?;
        for i in &self.instruments {
            writeln!(
                f,
                "  {:>5} {:<12} tick {} lot {} decimals {}",
                i.id.0,
                i.symbol,
                i.tick_size.to_decimal().normalize(),
                i.lot_size.to_decimal().normalize(),
                i.price_decimals
            )?;
        }
        for d in &self.damage {
            writeln!(f, "damage: {d}")?;
        }
        Ok(())
    }
}
