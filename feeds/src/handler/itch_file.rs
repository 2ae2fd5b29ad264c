//! Packing a raw NASDAQ ITCH 5.0 file (either framing) into MoldUDP64 packets inside a
//! `.kcap`, so that it replays through the same path as a live capture.

use std::io::Write;

use kestrel_core::{InstrumentError, InstrumentTable, Price, Qty, Timestamp};

use super::feed::itch_timestamp;
use crate::itch::{ItchFramer, Message, decode};
use crate::kcap::{KcapError, KcapHeader, KcapInstrument, KcapWriter, PayloadKind, Record};
use crate::moldudp64::{DEFAULT_MAX_PACKET, MoldError, MoldPacketBuilder, MoldSession};

/// MoldUDP64 session name of captures packed from ITCH files.
pub const ITCH_FILE_SESSION: &str = "ITCHFILE";

/// Why an ITCH file could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum ItchPackError {
    /// A message did not fit a MoldUDP64 packet.
    #[error("MoldUDP64: {0}")]
    Mold(#[from] MoldError),
    /// Writing the capture failed.
    #[error("kcap: {0}")]
    Kcap(#[from] KcapError),
    /// The file's stock directory could not become an instrument table.
    #[error("instrument table: {0}")]
    Instruments(#[from] InstrumentError),
}

/// What packing an ITCH file did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItchPackReport {
    /// Messages packed.
    pub messages: u64,
    /// Framing errors (bad bytes skipped by the framer; not packed).
    pub framing_errors: u64,
    /// MoldUDP64 packets (= kcap records) written, end-of-session packet included.
    pub packets: u64,
    /// Instruments declared by `R` messages (the capture header's table).
    pub instruments: usize,
}

/// The symbols of the file's `R` messages, in order of first appearance, with the
/// normaliser's defaults (tick 0.0001, lot 1, 4 decimals).
fn directory(data: &[u8]) -> Result<InstrumentTable, InstrumentError> {
    let mut table = InstrumentTable::new();
    for frame in ItchFramer::new(data).flatten() {
        if let Ok(Message::StockDirectory(r)) = decode(frame.message) {
            let stock = r.stock();
            let len = stock.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
            if let Some(symbol) = stock.get(..len).and_then(|s| core::str::from_utf8(s).ok())
                && !symbol.is_empty()
                && table.id_of(symbol).is_none()
            {
                table.add(symbol, Price::from_raw(10_000), Qty::ONE, 4)?;
            }
        }
    }
    Ok(table)
}

/// Packs every framed message of `data` into MoldUDP64 packets (session
/// [`ITCH_FILE_SESSION`], sequences from 1, up to [`DEFAULT_MAX_PACKET`] bytes each) written
/// as kcap records whose receive time is the ITCH timestamp of the packet's first message.
/// `created` is the header's creation time.
pub fn write_itch_capture<W: Write>(
    data: &[u8],
    created: Timestamp,
    out: W,
) -> Result<(W, ItchPackReport), ItchPackError> {
    let table = directory(data)?;
    let mut header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "NASDAQ", created);
    header.instruments = table.iter().map(KcapInstrument::from).collect();
    let mut kcap = KcapWriter::new(out, &header)?;
    let session = MoldSession::from_name(ITCH_FILE_SESSION).unwrap_or(MoldSession([b' '; 10]));
    let mut builder = MoldPacketBuilder::new(session, 1);
    let mut packet = Vec::with_capacity(DEFAULT_MAX_PACKET);
    let mut report = ItchPackReport {
        instruments: table.len(),
        ..ItchPackReport::default()
    };
    let mut packet_ts = Timestamp::ZERO;
    let mut write = |packet: &[u8], ts: Timestamp, report: &mut ItchPackReport| {
        let record = Record {
            recv_ts: ts,
            seq: report.packets,
            channel: 0,
            payload: packet,
        };
        report.packets += 1;
        kcap.write_record(&record)
    };
    let mut framer = ItchFramer::new(data);
    for frame in framer.by_ref() {
        let Ok(frame) = frame else {
            report.framing_errors += 1;
            continue;
        };
        let ts = itch_timestamp(frame.message).unwrap_or(packet_ts);
        let starts_packet = builder.pending_messages() == 0;
        if builder.push(frame.message, &mut packet)? {
            write(&packet, packet_ts, &mut report)?;
            packet_ts = ts;
        } else if starts_packet {
            packet_ts = ts;
        }
        report.messages += 1;
    }
    while builder.end_of_session_into(&mut packet) {
        write(&packet, packet_ts, &mut report)?;
    }
    write(&packet, packet_ts, &mut report)?;
    Ok((kcap.finish()?, report))
}
