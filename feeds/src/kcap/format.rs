//! Header and block header layouts (see the module documentation of [`crate::kcap`]).

use std::fmt;

use kestrel_core::{Instrument, InstrumentId, Price, Qty, Timestamp};

use super::error::KcapError;

/// File magic: "KCAP", then CR LF SUB LF so that text-mode mangling is detected.
pub const FILE_MAGIC: [u8; 8] = *b"KCAP\r\n\x1a\n";
/// Format version written by this code.
pub const FORMAT_VERSION: u16 = 1;
/// Block header magic.
pub const BLOCK_MAGIC: [u8; 4] = *b"KBLK";
/// Bytes of a block header.
pub const BLOCK_HEADER_LEN: usize = 32;
/// Bytes of the header's fixed prefix (magic, version, kind, header length).
const HEADER_PREFIX_LEN: usize = 16;
/// Smallest possible header: prefix, created, venue length, instrument count, CRC.
const MIN_HEADER_LEN: usize = HEADER_PREFIX_LEN + 8 + 2 + 4 + 4;

/// What the records' payloads are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// Opaque bytes.
    Raw,
    /// MoldUDP64 packets carrying NASDAQ TotalView-ITCH 5.0.
    MoldUdp64Itch50,
    /// Binance websocket JSON messages.
    BinanceJson,
    /// Databento DBN records.
    Dbn,
    /// A kind this version does not know (kept so newer files still read).
    Other(u16),
}

impl PayloadKind {
    /// The wire code.
    pub const fn code(self) -> u16 {
        match self {
            Self::Raw => 0,
            Self::MoldUdp64Itch50 => 1,
            Self::BinanceJson => 2,
            Self::Dbn => 3,
            Self::Other(c) => c,
        }
    }

    /// The kind for a wire code.
    pub const fn from_code(code: u16) -> Self {
        match code {
            0 => Self::Raw,
            1 => Self::MoldUdp64Itch50,
            2 => Self::BinanceJson,
            3 => Self::Dbn,
            c => Self::Other(c),
        }
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Raw => f.write_str("raw"),
            Self::MoldUdp64Itch50 => f.write_str("MoldUDP64 / ITCH 5.0"),
            Self::BinanceJson => f.write_str("Binance JSON"),
            Self::Dbn => f.write_str("Databento DBN"),
            Self::Other(c) => write!(f, "unknown ({c})"),
        }
    }
}

/// One row of the header's instrument table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KcapInstrument {
    /// Dense id.
    pub id: InstrumentId,
    /// Venue symbol (at most 255 bytes).
    pub symbol: String,
    /// Tick size (stored raw, 8 decimals).
    pub tick_size: Price,
    /// Lot size (stored raw, 8 decimals).
    pub lot_size: Qty,
    /// Decimals the venue quotes prices with.
    pub price_decimals: u8,
}

impl From<&Instrument> for KcapInstrument {
    fn from(i: &Instrument) -> Self {
        Self {
            id: i.id,
            symbol: i.symbol.clone(),
            tick_size: i.tick_size,
            lot_size: i.lot_size,
            price_decimals: i.price_decimals,
        }
    }
}

/// The file header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KcapHeader {
    /// Format version (written as [`FORMAT_VERSION`]).
    pub version: u16,
    /// What the payloads are.
    pub payload_kind: PayloadKind,
    /// Venue name (at most 65,535 bytes).
    pub venue: String,
    /// When the capture was created, ns since the Unix epoch.
    pub created: Timestamp,
    /// Instruments of the capture.
    pub instruments: Vec<KcapInstrument>,
}

impl KcapHeader {
    /// A header of the current version with no instruments.
    pub fn new(payload_kind: PayloadKind, venue: &str, created: Timestamp) -> Self {
        Self {
            version: FORMAT_VERSION,
            payload_kind,
            venue: venue.to_owned(),
            created,
            instruments: Vec::new(),
        }
    }

    /// The encoded header, CRC included. The version written is always [`FORMAT_VERSION`].
    pub fn encode(&self) -> Result<Vec<u8>, KcapError> {
        let mut out = Vec::with_capacity(MIN_HEADER_LEN + self.venue.len());
        out.extend_from_slice(&FILE_MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.payload_kind.code().to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // length, patched below
        out.extend_from_slice(&self.created.nanos().to_le_bytes());
        let venue_len = u16::try_from(self.venue.len()).map_err(|_| KcapError::TooLarge {
            what: "venue name",
            len: self.venue.len(),
        })?;
        out.extend_from_slice(&venue_len.to_le_bytes());
        out.extend_from_slice(self.venue.as_bytes());
        let count = u32::try_from(self.instruments.len()).map_err(|_| KcapError::TooLarge {
            what: "instrument table",
            len: self.instruments.len(),
        })?;
        out.extend_from_slice(&count.to_le_bytes());
        for i in &self.instruments {
            let sym_len = u8::try_from(i.symbol.len()).map_err(|_| KcapError::TooLarge {
                what: "symbol",
                len: i.symbol.len(),
            })?;
            out.extend_from_slice(&i.id.0.to_le_bytes());
            out.extend_from_slice(&i.tick_size.raw().to_le_bytes());
            out.extend_from_slice(&i.lot_size.raw().to_le_bytes());
            out.push(i.price_decimals);
            out.push(sym_len);
            out.extend_from_slice(i.symbol.as_bytes());
        }
        let total = out.len() + 4;
        let total32 = u32::try_from(total).map_err(|_| KcapError::TooLarge {
            what: "header",
            len: total,
        })?;
        out[12..16].copy_from_slice(&total32.to_le_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Decodes the header at the start of `file`; returns it and its length in bytes.
    pub fn decode(file: &[u8]) -> Result<(Self, usize), KcapError> {
        if file.len() < HEADER_PREFIX_LEN {
            return Err(KcapError::HeaderTooShort { len: file.len() });
        }
        let mut cur = Cursor {
            bytes: file,
            at: 0,
            end: HEADER_PREFIX_LEN,
        };
        let magic: [u8; 8] = cur.array()?;
        if magic != FILE_MAGIC {
            return Err(KcapError::BadMagic { found: magic });
        }
        let version = cur.u16()?;
        if version != FORMAT_VERSION {
            return Err(KcapError::UnsupportedVersion { version });
        }
        let kind = PayloadKind::from_code(cur.u16()?);
        let declared = cur.u32()?;
        let header_len = usize::try_from(declared)
            .ok()
            .filter(|&l| (MIN_HEADER_LEN..=file.len()).contains(&l))
            .ok_or(KcapError::HeaderLength {
                declared,
                available: file.len(),
            })?;
        let crc_at = header_len - 4;
        let stored = le_u32(file, crc_at).ok_or(KcapError::HeaderTooShort { len: file.len() })?;
        let computed = crc32fast::hash(file.get(..crc_at).unwrap_or_default());
        if stored != computed {
            return Err(KcapError::HeaderCrc { stored, computed });
        }
        cur.end = crc_at;
        let created = Timestamp(cur.u64()?);
        let venue_len = usize::from(cur.u16()?);
        let venue = cur.string(venue_len, "venue is not UTF-8")?;
        let count = cur.u32()?;
        // Each instrument takes at least 22 bytes: bound the allocation by what the header holds.
        let mut instruments = Vec::with_capacity((count as usize).min(crc_at / 22));
        for _ in 0..count {
            let id = InstrumentId(cur.u32()?);
            let tick_size = Price::from_raw(cur.i64()?);
            let lot_size = Qty::from_raw(cur.i64()?);
            let price_decimals = cur.u8()?;
            let sym_len = usize::from(cur.u8()?);
            let symbol = cur.string(sym_len, "symbol is not UTF-8")?;
            instruments.push(KcapInstrument {
                id,
                symbol,
                tick_size,
                lot_size,
                price_decimals,
            });
        }
        if cur.at != crc_at {
            return Err(KcapError::HeaderMalformed {
                offset: cur.at,
                what: "bytes left over before the header CRC",
            });
        }
        Ok((
            Self {
                version,
                payload_kind: kind,
                venue,
                created,
                instruments,
            },
            header_len,
        ))
    }
}

/// Bounds-checked little-endian reads over the header.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], KcapError> {
        let malformed = KcapError::HeaderMalformed {
            offset: self.at,
            what: "field runs past the end of the header",
        };
        let stop = self.at.checked_add(n).ok_or(malformed)?;
        if stop > self.end {
            return Err(KcapError::HeaderMalformed {
                offset: self.at,
                what: "field runs past the end of the header",
            });
        }
        let s = self
            .bytes
            .get(self.at..stop)
            .ok_or(KcapError::HeaderMalformed {
                offset: self.at,
                what: "field runs past the end of the file",
            })?;
        self.at = stop;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KcapError> {
        let at = self.at;
        self.take(N)?
            .try_into()
            .map_err(|_| KcapError::HeaderMalformed {
                offset: at,
                what: "field length",
            })
    }

    fn u8(&mut self) -> Result<u8, KcapError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, KcapError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, KcapError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, KcapError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, KcapError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn string(&mut self, len: usize, what: &'static str) -> Result<String, KcapError> {
        let at = self.at;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| KcapError::HeaderMalformed { offset: at, what })
    }
}

#[inline]
pub(crate) fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

#[inline]
pub(crate) fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// A decoded block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    /// Records in the body.
    pub records: u32,
    /// Body length in bytes.
    pub body_len: u32,
    /// CRC32 of the body.
    pub body_crc: u32,
    /// Sequence of the first record.
    pub first_seq: u64,
}

impl BlockHeader {
    /// The 32 header bytes, with their CRC.
    pub fn encode(&self) -> [u8; BLOCK_HEADER_LEN] {
        let mut out = [0u8; BLOCK_HEADER_LEN];
        out[0..4].copy_from_slice(&BLOCK_MAGIC);
        out[4..8].copy_from_slice(&self.records.to_le_bytes());
        out[8..12].copy_from_slice(&self.body_len.to_le_bytes());
        out[12..16].copy_from_slice(&self.body_crc.to_le_bytes());
        out[16..24].copy_from_slice(&self.first_seq.to_le_bytes());
        let crc = crc32fast::hash(&out[..28]);
        out[28..32].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads a block header at `bytes[at..]`.
    pub fn decode(bytes: &[u8], at: usize) -> Result<Self, BlockHeaderFault> {
        let head = bytes
            .get(at..at.saturating_add(BLOCK_HEADER_LEN))
            .ok_or(BlockHeaderFault::Short)?;
        if head.get(..4) != Some(&BLOCK_MAGIC[..]) {
            return Err(BlockHeaderFault::Magic);
        }
        let stored = le_u32(head, 28).ok_or(BlockHeaderFault::Short)?;
        if crc32fast::hash(head.get(..28).unwrap_or_default()) != stored {
            return Err(BlockHeaderFault::Crc);
        }
        Ok(Self {
            records: le_u32(head, 4).ok_or(BlockHeaderFault::Short)?,
            body_len: le_u32(head, 8).ok_or(BlockHeaderFault::Short)?,
            body_crc: le_u32(head, 12).ok_or(BlockHeaderFault::Short)?,
            first_seq: le_u64(head, 16).ok_or(BlockHeaderFault::Short)?,
        })
    }
}

/// Why a block header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockHeaderFault {
    /// Fewer than 32 bytes left.
    Short,
    /// No block magic.
    Magic,
    /// Header CRC mismatch.
    Crc,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> KcapHeader {
        let mut h = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "NASDAQ", Timestamp(42));
        h.instruments.push(KcapInstrument {
            id: InstrumentId(0),
            symbol: "AAPL".into(),
            tick_size: Price::from_raw(1_000_000),
            lot_size: Qty::ONE,
            price_decimals: 4,
        });
        h
    }

    #[test]
    fn header_round_trip() {
        let h = header();
        let bytes = h.encode().unwrap();
        assert_eq!(KcapHeader::decode(&bytes).unwrap(), (h, bytes.len()));
    }

    #[test]
    fn header_damage_is_reported() {
        let bytes = header().encode().unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(KcapHeader::decode(&b).is_err(), "flip at {i} not detected");
        }
        for n in 0..bytes.len() {
            assert!(KcapHeader::decode(&bytes[..n]).is_err());
        }
        assert!(matches!(
            KcapHeader::decode(b"GARBAGE!GARBAGE!GARBAGE!GARBAGE!"),
            Err(KcapError::BadMagic { .. })
        ));
    }

    #[test]
    fn block_header_round_trip_and_faults() {
        let h = BlockHeader {
            records: 3,
            body_len: 99,
            body_crc: 7,
            first_seq: 11,
        };
        let mut bytes = h.encode();
        assert_eq!(BlockHeader::decode(&bytes, 0), Ok(h));
        assert_eq!(
            BlockHeader::decode(&bytes[..31], 0),
            Err(BlockHeaderFault::Short)
        );
        bytes[9] ^= 1;
        assert_eq!(BlockHeader::decode(&bytes, 0), Err(BlockHeaderFault::Crc));
        bytes[0] = b'X';
        assert_eq!(BlockHeader::decode(&bytes, 0), Err(BlockHeaderFault::Magic));
    }

    #[test]
    fn payload_kind_codes() {
        for code in 0..10u16 {
            assert_eq!(PayloadKind::from_code(code).code(), code);
        }
    }
}
