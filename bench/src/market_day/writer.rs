//! Where a generated day goes: a raw NASDAQ ITCH file, a `.kcap` of MoldUDP64 packets, or
//! memory (tests).

use std::io::Write;

use kestrel_core::{InstrumentTable, Timestamp};
use kestrel_feeds::kcap::{KcapError, KcapHeader, KcapInstrument, KcapWriter, PayloadKind, Record};
use kestrel_feeds::moldudp64::{DEFAULT_MAX_PACKET, MoldError, MoldPacketBuilder, MoldSession};

/// Why a sink failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing failed.
    #[error("writing the day: {0}")]
    Io(#[from] std::io::Error),
    /// The capture writer failed.
    #[error("kcap: {0}")]
    Kcap(#[from] KcapError),
    /// A message did not fit a MoldUDP64 packet.
    #[error("MoldUDP64: {0}")]
    Mold(#[from] MoldError),
    /// A message arrived before [`MessageSink::begin`].
    #[error("message before the instrument table")]
    NotBegun,
}

/// Receives a generated day, message by message.
pub trait MessageSink {
    /// The day's instruments (dense ids in locate order), before the first message.
    fn begin(&mut self, instruments: &InstrumentTable) -> Result<(), SinkError>;
    /// One ITCH message (no framing) with its timestamp, nanoseconds after midnight.
    fn message(&mut self, ts_ns: u64, bytes: &[u8]) -> Result<(), SinkError>;
    /// End of the day: flush everything.
    fn finish(&mut self) -> Result<(), SinkError>;
}

/// A symbol as a space-padded ITCH `Alpha(8)` field (longer symbols are cut).
pub fn stock8(symbol: &str) -> [u8; 8] {
    let mut out = [b' '; 8];
    out.iter_mut().zip(symbol.bytes()).for_each(|(o, b)| *o = b);
    out
}

/// A raw NASDAQ TotalView-ITCH 5.0 file (`BinaryFILE`): each message behind its big-endian
/// `u16` length, as NASDAQ publishes them (and as groovg/itch-book and other readers expect).
#[derive(Debug)]
pub struct ItchFileSink<W: Write> {
    out: W,
    bytes: u64,
}

impl<W: Write> ItchFileSink<W> {
    /// A sink writing into `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        Self { out, bytes: 0 }
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> MessageSink for ItchFileSink<W> {
    fn begin(&mut self, _instruments: &InstrumentTable) -> Result<(), SinkError> {
        Ok(())
    }

    #[inline]
    fn message(&mut self, _ts_ns: u64, bytes: &[u8]) -> Result<(), SinkError> {
        let len = u16::try_from(bytes.len()).unwrap_or(0);
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(bytes)?;
        self.bytes += 2 + bytes.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}

/// MoldUDP64 session of generated days.
pub const SYNTH_SESSION: &str = "SYNTHDAY";

/// A `.kcap` of MoldUDP64 packets (session [`SYNTH_SESSION`], up to
/// [`DEFAULT_MAX_PACKET`] bytes, sequences from 1, end-of-session packet last) whose header
/// declares the day's instruments. A packet's receive time is its first message's timestamp.
pub struct KcapSink<W: Write> {
    out: Option<W>,
    kcap: Option<KcapWriter<W>>,
    builder: MoldPacketBuilder,
    packet: Vec<u8>,
    packet_ts: u64,
    packets: u64,
    created: Timestamp,
}

impl<W: Write> core::fmt::Debug for KcapSink<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KcapSink")
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

impl<W: Write> KcapSink<W> {
    /// A sink writing into `out`; `created` goes in the header.
    pub fn new(out: W, created: Timestamp) -> Self {
        let session = MoldSession::from_name(SYNTH_SESSION).unwrap_or(MoldSession([b' '; 10]));
        Self {
            out: Some(out),
            kcap: None,
            builder: MoldPacketBuilder::new(session, 1),
            packet: Vec::with_capacity(DEFAULT_MAX_PACKET),
            packet_ts: 0,
            packets: 0,
            created,
        }
    }

    /// Packets (kcap records) written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    fn write_packet(&mut self) -> Result<(), SinkError> {
        let kcap = self.kcap.as_mut().ok_or(SinkError::NotBegun)?;
        kcap.write_record(&Record {
            recv_ts: Timestamp(self.packet_ts),
            seq: self.packets,
            channel: 0,
            payload: &self.packet,
        })?;
        self.packets += 1;
        Ok(())
    }

    /// The finished writer (after [`MessageSink::finish`]).
    pub fn into_inner(self) -> Option<W> {
        self.out
    }
}

impl<W: Write> MessageSink for KcapSink<W> {
    fn begin(&mut self, instruments: &InstrumentTable) -> Result<(), SinkError> {
        let out = self.out.take().ok_or(SinkError::NotBegun)?;
        let mut header =
            KcapHeader::new(PayloadKind::MoldUdp64Itch50, "NASDAQ-SYNTH", self.created);
        header.instruments = instruments.iter().map(KcapInstrument::from).collect();
        self.kcap = Some(KcapWriter::new(out, &header)?);
        Ok(())
    }

    #[inline]
    fn message(&mut self, ts_ns: u64, bytes: &[u8]) -> Result<(), SinkError> {
        let starts = self.builder.pending_messages() == 0;
        if self.builder.push(bytes, &mut self.packet)? {
            self.write_packet()?;
            self.packet_ts = ts_ns;
        } else if starts {
            self.packet_ts = ts_ns;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        while self.builder.end_of_session_into(&mut self.packet) {
            self.write_packet()?;
        }
        self.write_packet()?;
        let kcap = self.kcap.take().ok_or(SinkError::NotBegun)?;
        let mut out = kcap.finish()?;
        out.flush()?;
        self.out = Some(out);
        Ok(())
    }
}

/// Length-prefixed messages in memory (tests and small benches).
#[derive(Clone, Debug, Default)]
pub struct VecSink {
    /// The messages, each behind its big-endian `u16` length.
    pub bytes: Vec<u8>,
    /// The instruments given to `begin`.
    pub instruments: Option<InstrumentTable>,
}

impl MessageSink for VecSink {
    fn begin(&mut self, instruments: &InstrumentTable) -> Result<(), SinkError> {
        self.instruments = Some(instruments.clone());
        Ok(())
    }

    fn message(&mut self, _ts_ns: u64, bytes: &[u8]) -> Result<(), SinkError> {
        let len = u16::try_from(bytes.len()).unwrap_or(0);
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}
