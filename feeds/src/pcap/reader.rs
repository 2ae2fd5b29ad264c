//! Classic pcap and pcapng files, memory-mapped and walked with `pcap-file`'s slice parsers:
//! records borrow the mapped file (zero copy).

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use kestrel_core::Timestamp;
use memmap2::Mmap;
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::PcapNgParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::{Endianness, TsResolution};

use super::channel::ChannelMap;
use super::error::PcapError;
use super::frame::{FrameKind, LinkType, SkipReason, parse_frame};
use crate::kcap::Record;
use crate::kcap::mapped::map_read_only;

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];
const ENHANCED_PACKET_BLOCK: u32 = 0x0000_0006;
const SIMPLE_PACKET_BLOCK: u32 = 0x0000_0003;
const OBSOLETE_PACKET_BLOCK: u32 = 0x0000_0002;

/// Container format of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap (microsecond or nanosecond, either byte order).
    Pcap,
    /// pcapng.
    PcapNg,
}

#[derive(Debug)]
enum Backing {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Mapped(m) => m,
            Self::Owned(v) => v,
        }
    }
}

/// A capture file, mapped or in memory.
#[derive(Debug)]
pub struct PcapCapture {
    data: Backing,
    format: CaptureFormat,
}

impl PcapCapture {
    /// Maps `path` read-only and checks its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PcapError> {
        let path = path.as_ref();
        let file_err = |source| PcapError::File {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(file_err)?;
        if file.metadata().map_err(file_err)?.len() == 0 {
            return Err(PcapError::UnknownFormat { magic: Vec::new() });
        }
        Self::with_backing(Backing::Mapped(map_read_only(&file).map_err(file_err)?))
    }

    /// Takes a capture from memory and checks its header.
    pub fn from_bytes(data: Vec<u8>) -> Result<Self, PcapError> {
        Self::with_backing(Backing::Owned(data))
    }

    fn with_backing(backing: Backing) -> Result<Self, PcapError> {
        let data = backing.bytes();
        let magic = data.get(..4).unwrap_or(data);
        let format = if magic == PCAPNG_MAGIC {
            PcapNgParser::new(data).map_err(PcapError::Header)?;
            CaptureFormat::PcapNg
        } else if PCAP_MAGICS.iter().any(|m| m[..] == *magic) {
            PcapParser::new(data).map_err(PcapError::Header)?;
            CaptureFormat::Pcap
        } else {
            return Err(PcapError::UnknownFormat {
                magic: magic.to_vec(),
            });
        };
        Ok(Self {
            data: backing,
            format,
        })
    }

    /// The container format.
    pub const fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Iterates the UDP payloads as records: `recv_ts` from the capture timestamp, `seq` the
    /// frame index, `channel` from `channels`. Skipped frames are counted in
    /// [`PcapRecords::stats`]; undecodable frames yield an error and reading continues.
    pub fn records<'a>(&'a self, channels: &'a ChannelMap) -> PcapRecords<'a> {
        let data = self.data.bytes();
        let source = match self.format {
            CaptureFormat::Pcap => PcapParser::new(data).map(|(rest, parser)| {
                let header = parser.header();
                (
                    rest,
                    Source::Pcap {
                        link: LinkType::from_datalink(header.datalink),
                        nanos: header.ts_resolution == TsResolution::NanoSecond,
                        parser,
                    },
                )
            }),
            CaptureFormat::PcapNg => PcapNgParser::new(data)
                .map(|(rest, parser)| (rest, Source::PcapNg(Box::new(parser)))),
        };
        let (rest, source, done) = match source {
            Ok((rest, source)) => (rest, Some(source), false),
            Err(_) => (&data[..0], None, true),
        };
        PcapRecords {
            source,
            rest,
            len: data.len(),
            channels,
            frame: 0,
            done,
            stats: PcapStats::default(),
        }
    }
}

/// Counters of one pass over a capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PcapStats {
    /// Packets seen (frames).
    pub frames: u64,
    /// UDP records delivered.
    pub records: u64,
    /// Frames that are not IPv4 (ARP, IPv6, ...).
    pub not_ipv4: u64,
    /// IPv4 frames that are not UDP.
    pub not_udp: u64,
    /// IPv4 fragments (skipped: no reassembly).
    pub fragments: u64,
    /// Frames on a link type this reader does not decode.
    pub unsupported_link: u64,
    /// UDP datagrams to ports the channel map drops.
    pub unmapped_port: u64,
    /// Frames that could not be decoded (truncated, bad headers).
    pub frame_errors: u64,
    /// Whether reading stopped early at an unframeable record (truncated tail).
    pub stopped_early: bool,
}

enum Source {
    Pcap {
        parser: PcapParser,
        link: Option<LinkType>,
        nanos: bool,
    },
    PcapNg(Box<PcapNgParser>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pcap {
                parser,
                link,
                nanos,
            } => f
                .debug_struct("Pcap")
                .field("parser", parser)
                .field("link", link)
                .field("nanos", nanos)
                .finish(),
            Self::PcapNg(parser) => f
                .debug_struct("PcapNg")
                .field("interfaces", &parser.interfaces().len())
                .finish(),
        }
    }
}

/// One packet out of the container: timestamp, link, frame bytes.
type Packet<'a> = (Timestamp, Option<LinkType>, &'a [u8]);

/// Iterator over a capture's UDP records; see [`PcapCapture::records`].
#[derive(Debug)]
pub struct PcapRecords<'a> {
    source: Option<Source>,
    rest: &'a [u8],
    len: usize,
    channels: &'a ChannelMap,
    frame: u64,
    done: bool,
    stats: PcapStats,
}

impl<'a> PcapRecords<'a> {
    /// Counters so far.
    pub const fn stats(&self) -> PcapStats {
        self.stats
    }

    /// The next packet, `Ok(None)` for a non-packet block.
    fn next_packet(&mut self, offset: usize) -> Result<Option<Packet<'a>>, PcapError> {
        let frame = self.frame;
        let stop = |source| PcapError::Container {
            frame,
            offset,
            source,
        };
        match &mut self.source {
            None => Ok(None),
            Some(Source::Pcap {
                parser,
                link,
                nanos,
            }) => {
                let (rest, raw) = parser.next_raw_packet(self.rest).map_err(stop)?;
                self.rest = rest;
                let frac = u64::from(raw.ts_frac);
                let frac_ns = if *nanos {
                    frac
                } else {
                    frac.saturating_mul(1000)
                };
                let ts = u64::from(raw.ts_sec)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(frac_ns);
                let data = borrowed(raw.data).ok_or(PcapError::BadBlock {
                    frame,
                    offset,
                    what: "packet data not borrowed from the file",
                })?;
                Ok(Some((Timestamp(ts), *link, data)))
            }
            Some(Source::PcapNg(parser)) => {
                let (rest, raw) = parser.next_raw_block(self.rest).map_err(stop)?;
                self.rest = rest;
                let big = parser.section().endianness == Endianness::Big;
                let Some(body) = borrowed(raw.body) else {
                    return Err(PcapError::BadBlock {
                        frame,
                        offset,
                        what: "block data not borrowed from the file",
                    });
                };
                let bad = |what| PcapError::BadBlock {
                    frame,
                    offset,
                    what,
                };
                match raw.type_ {
                    ENHANCED_PACKET_BLOCK => {
                        let epb = EnhancedPacket::parse(body, big)
                            .ok_or(bad("enhanced packet block shorter than its lengths"))?;
                        let iface = parser
                            .interfaces()
                            .get(epb.interface as usize)
                            .ok_or(bad("packet names an undeclared interface"))?;
                        let link = LinkType::from_datalink(iface.linktype);
                        let ts = pcapng_timestamp(epb.ts_raw, &iface.options);
                        Ok(Some((ts, link, epb.data)))
                    }
                    SIMPLE_PACKET_BLOCK => {
                        let iface = parser
                            .interfaces()
                            .first()
                            .ok_or(bad("simple packet before any interface"))?;
                        let orig = read_u32(body, 0, big)
                            .ok_or(bad("simple packet block shorter than 4 bytes"))?;
                        let data = body.get(4..).unwrap_or_default();
                        let len = data.len().min(orig as usize);
                        let link = LinkType::from_datalink(iface.linktype);
                        Ok(Some((
                            Timestamp::ZERO,
                            link,
                            data.get(..len).unwrap_or_default(),
                        )))
                    }
                    OBSOLETE_PACKET_BLOCK => Ok(Some((Timestamp::ZERO, None, &[]))),
                    _ => Ok(None),
                }
            }
        }
    }
}

impl<'a> Iterator for PcapRecords<'a> {
    type Item = Result<Record<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done || self.rest.is_empty() {
                return None;
            }
            let offset = self.len - self.rest.len();
            let frame = self.frame;
            let packet = match self.next_packet(offset) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(e) => {
                    if matches!(e, PcapError::Container { .. }) {
                        self.done = true;
                        self.stats.stopped_early = true;
                    } else {
                        self.frame += 1;
                        self.stats.frames += 1;
                        self.stats.frame_errors += 1;
                    }
                    return Some(Err(e));
                }
            };
            self.frame += 1;
            self.stats.frames += 1;
            let (recv_ts, link, data) = packet;
            let Some(link) = link else {
                self.stats.unsupported_link += 1;
                continue;
            };
            match parse_frame(link, data) {
                Ok(FrameKind::Udp(d)) => match self.channels.channel(d.dst_port) {
                    Some(channel) => {
                        self.stats.records += 1;
                        return Some(Ok(Record {
                            recv_ts,
                            seq: frame,
                            channel,
                            payload: d.payload,
                        }));
                    }
                    None => self.stats.unmapped_port += 1,
                },
                Ok(FrameKind::Skipped(reason)) => match reason {
                    SkipReason::NotIpv4 { .. } => self.stats.not_ipv4 += 1,
                    SkipReason::NotUdp { .. } => self.stats.not_udp += 1,
                    SkipReason::Fragment => self.stats.fragments += 1,
                },
                Err(source) => {
                    self.stats.frame_errors += 1;
                    return Some(Err(PcapError::Frame {
                        frame,
                        offset,
                        source,
                    }));
                }
            }
        }
    }
}

fn borrowed(data: Cow<'_, [u8]>) -> Option<&[u8]> {
    match data {
        Cow::Borrowed(b) => Some(b),
        Cow::Owned(_) => None,
    }
}

fn read_u32(bytes: &[u8], at: usize, big: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// The fields of an enhanced packet block this reader needs.
struct EnhancedPacket<'a> {
    interface: u32,
    ts_raw: u64,
    data: &'a [u8],
}

impl<'a> EnhancedPacket<'a> {
    fn parse(body: &'a [u8], big: bool) -> Option<Self> {
        let interface = read_u32(body, 0, big)?;
        let high = u64::from(read_u32(body, 4, big)?);
        let low = u64::from(read_u32(body, 8, big)?);
        let captured = read_u32(body, 12, big)? as usize;
        let data = body.get(20..20usize.checked_add(captured)?)?;
        Some(Self {
            interface,
            ts_raw: (high << 32) | low,
            data,
        })
    }
}

/// Converts a pcapng timestamp in interface units (`if_tsresol`, default microseconds;
/// `if_tsoffset` seconds) to nanoseconds since the epoch, saturating.
fn pcapng_timestamp(raw: u64, options: &[InterfaceDescriptionOption<'_>]) -> Timestamp {
    let mut resol = 6u8;
    let mut offset_s = 0u64;
    for o in options {
        match o {
            InterfaceDescriptionOption::IfTsResol(r) => resol = *r,
            InterfaceDescriptionOption::IfTsOffset(s) => offset_s = *s,
            _ => {}
        }
    }
    let raw = u128::from(raw);
    let ns = if resol & 0x80 == 0 {
        let exp = u32::from(resol);
        if exp <= 9 {
            raw.saturating_mul(10u128.pow(9 - exp))
        } else {
            10u128.checked_pow(exp - 9).map_or(0, |d| raw / d)
        }
    } else {
        let exp = u32::from(resol & 0x7f);
        let scaled = raw.saturating_mul(1_000_000_000);
        1u128.checked_shl(exp).map_or(0, |d| scaled / d)
    };
    let ns = ns.saturating_add(u128::from(offset_s).saturating_mul(1_000_000_000));
    Timestamp(u64::try_from(ns).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcapng_timestamp_resolutions() {
        assert_eq!(pcapng_timestamp(1_500_000, &[]), Timestamp(1_500_000_000));
        let ns = [InterfaceDescriptionOption::IfTsResol(9)];
        assert_eq!(pcapng_timestamp(42, &ns), Timestamp(42));
        let binary = [InterfaceDescriptionOption::IfTsResol(0x80 | 10)];
        assert_eq!(pcapng_timestamp(1024, &binary), Timestamp(1_000_000_000));
        let offset = [
            InterfaceDescriptionOption::IfTsResol(9),
            InterfaceDescriptionOption::IfTsOffset(2),
        ];
        assert_eq!(pcapng_timestamp(5, &offset), Timestamp(2_000_000_005));
        let coarse = [InterfaceDescriptionOption::IfTsResol(12)];
        assert_eq!(pcapng_timestamp(5_000, &coarse), Timestamp(5));
    }
}
