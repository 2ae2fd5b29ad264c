//! Writing an [`ImportPlan`] as a `.kcap` of MoldUDP64 packets carrying ITCH 5.0, so that
//! replay and verify exercise the real wire decoders.
//!
//! Layout: Mold session `LOBSTER`, sequence 1 = `S` (start of messages), 2 = `R` (the symbol's
//! stock directory, locate [`SYMBOL_LOCATE`]), then `plan.ops[i]` at sequence
//! [`FIRST_OP_SEQUENCE`]` + i`. Each LOBSTER event (and the initial book) starts a new packet;
//! a packet holds one event's messages unless they exceed the packet size. The packet's
//! record receive time and every message's ITCH timestamp are the LOBSTER time (nanoseconds
//! after midnight). The capture ends with a MoldUDP64 end-of-session packet.

use std::io::Write;

use kestrel_core::{
    BookEventKind, InstrumentId, MarketEvent, OrderId, Price, Qty, TickRule, Timestamp, TradeKind,
};

use super::import::ImportPlan;
use super::ops::{ImportOp, TimedOp};
use crate::itch::{
    CrossTradeMsg, EncodeError, StockDirectoryMsg, SystemEventMsg, encode_event, stock_field,
};
use crate::kcap::{KcapError, KcapHeader, KcapInstrument, KcapWriter, PayloadKind, Record};
use crate::moldudp64::{MoldError, MoldPacketBuilder, MoldSession};

/// Stock locate code the importer gives the symbol.
pub const SYMBOL_LOCATE: u16 = 1;
/// MoldUDP64 sequence number of `plan.ops[0]` (`S` is 1, `R` is 2).
pub const FIRST_OP_SEQUENCE: u64 = 3;
/// MoldUDP64 session name of imported captures.
pub const LOBSTER_SESSION: &str = "LOBSTER";
/// Record channel of imported captures.
pub const LOBSTER_CHANNEL: u16 = 0;
/// Largest ITCH message the importer writes (`R`, 39 bytes) with room to spare.
const MAX_MESSAGE: usize = 64;

/// Why an import could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureWriteError {
    /// The symbol does not fit an ITCH `Alpha(8)` field.
    #[error("symbol {0:?} is not 1 to 8 printable ASCII characters")]
    BadSymbol(String),
    /// An operation could not be encoded as ITCH.
    #[error("ITCH encoding of operation {index} failed: {source}")]
    Encode {
        /// Index into `plan.ops`.
        index: usize,
        /// Why.
        source: EncodeError,
    },
    /// An operation's price or size does not fit the fixed-point types.
    #[error("operation {index}: price or size out of range")]
    OutOfRange {
        /// Index into `plan.ops`.
        index: usize,
    },
    /// A message did not fit a MoldUDP64 packet.
    #[error("MoldUDP64: {0}")]
    Mold(#[from] MoldError),
    /// Writing the capture failed.
    #[error("kcap: {0}")]
    Kcap(#[from] KcapError),
}

/// The MoldUDP64 sequence number of `plan.ops[index]`.
pub const fn op_sequence(index: usize) -> u64 {
    FIRST_OP_SEQUENCE + index as u64
}

/// The normalised event an operation stands for (what the ITCH encoder writes and what the
/// normaliser will give back).
fn op_event(op: &TimedOp) -> Option<MarketEvent> {
    let price = |p: u32| Price::from_scaled(i64::from(p), 4);
    let qty = |s: u64| i64::try_from(s).ok().and_then(Qty::from_units);
    let kind = match op.op {
        ImportOp::Add {
            order_ref,
            side,
            price: p,
            shares,
        } => BookEventKind::Add {
            order_id: OrderId(order_ref),
            side,
            price: price(p)?,
            qty: qty(u64::from(shares))?,
        },
        ImportOp::Execute { order_ref, shares } => BookEventKind::Execute {
            order_id: OrderId(order_ref),
            qty: qty(u64::from(shares))?,
            match_number: 0,
        },
        ImportOp::ExecuteNonPrintable {
            order_ref,
            shares,
            price: p,
        } => BookEventKind::ExecuteNonPrintable {
            order_id: OrderId(order_ref),
            qty: qty(u64::from(shares))?,
            price: price(p)?,
            match_number: 0,
        },
        ImportOp::Cancel { order_ref, shares } => BookEventKind::Cancel {
            order_id: OrderId(order_ref),
            qty: qty(u64::from(shares))?,
        },
        ImportOp::Delete { order_ref } => BookEventKind::Delete {
            order_id: OrderId(order_ref),
        },
        ImportOp::HiddenTrade {
            side,
            price: p,
            shares,
        } => BookEventKind::Trade {
            // Written as the `P` side byte; the normaliser reads no aggressor from it.
            side: Some(side),
            kind: TradeKind::NonDisplayed,
            price: price(p)?,
            qty: qty(u64::from(shares))?,
            match_number: 0,
        },
        ImportOp::Cross {
            price: p, shares, ..
        } => BookEventKind::Trade {
            side: None,
            kind: TradeKind::Cross,
            price: price(p)?,
            qty: qty(shares)?,
            match_number: 0,
        },
        ImportOp::Status(status) => BookEventKind::Status(status),
    };
    Some(MarketEvent {
        instrument: InstrumentId(0),
        exch_ts: Timestamp(op.ts),
        kind,
    })
}

/// Packs messages into MoldUDP64 packets and packets into kcap records.
struct PacketWriter<W: Write> {
    kcap: KcapWriter<W>,
    builder: MoldPacketBuilder,
    packet: Vec<u8>,
    record_seq: u64,
    recv_ts: Timestamp,
}

impl<W: Write> PacketWriter<W> {
    fn write_packet(&mut self) -> Result<(), KcapError> {
        let record = Record {
            recv_ts: self.recv_ts,
            seq: self.record_seq,
            channel: LOBSTER_CHANNEL,
            payload: &self.packet,
        };
        self.kcap.write_record(&record)?;
        self.record_seq += 1;
        Ok(())
    }

    fn push(&mut self, msg: &[u8]) -> Result<(), CaptureWriteError> {
        if self.builder.push(msg, &mut self.packet)? {
            self.write_packet()?;
        }
        Ok(())
    }

    /// Closes the open packet (if any); the next message starts a new one at `recv_ts`.
    fn end_group(&mut self, next_recv_ts: Timestamp) -> Result<(), KcapError> {
        if self.builder.finish_into(&mut self.packet) {
            self.write_packet()?;
        }
        self.recv_ts = next_recv_ts;
        Ok(())
    }

    fn finish(mut self) -> Result<W, CaptureWriteError> {
        while self.builder.end_of_session_into(&mut self.packet) {
            self.write_packet()?;
        }
        self.write_packet()?;
        Ok(self.kcap.finish()?)
    }
}

/// The kcap header of an imported capture: MoldUDP64/ITCH payloads, one instrument.
pub fn lobster_header(symbol: &str, created: Timestamp) -> KcapHeader {
    let mut header = KcapHeader::new(
        PayloadKind::MoldUdp64Itch50,
        "NASDAQ (LOBSTER import)",
        created,
    );
    header.instruments.push(KcapInstrument {
        id: InstrumentId(0),
        symbol: symbol.to_owned(),
        // LOBSTER says nothing of ticks: the US equity rule, as for raw ITCH.
        tick_size: TickRule::UsEquity.tick_size(),
        lot_size: Qty::ONE,
        price_decimals: 4,
    });
    header
}

/// Writes `plan` for `symbol` as a `.kcap` into `out` (see the module docs); `created` is the
/// header's creation time (pass a fixed value for byte-identical output).
pub fn write_lobster_capture<W: Write>(
    plan: &ImportPlan,
    symbol: &str,
    created: Timestamp,
    out: W,
) -> Result<W, CaptureWriteError> {
    let stock = stock_field(symbol)
        .filter(|_| !symbol.is_empty())
        .ok_or_else(|| CaptureWriteError::BadSymbol(symbol.to_owned()))?;
    let session = MoldSession::from_name(LOBSTER_SESSION).unwrap_or(MoldSession([b' '; 10]));
    let start_ts = plan.ops.first().map_or(0, |op| op.ts);
    let mut w = PacketWriter {
        kcap: KcapWriter::new(out, &lobster_header(symbol, created))?,
        builder: MoldPacketBuilder::new(session, 1),
        packet: Vec::with_capacity(crate::moldudp64::DEFAULT_MAX_PACKET),
        record_seq: 0,
        recv_ts: Timestamp(start_ts),
    };
    let mut buf = [0u8; MAX_MESSAGE];
    let enc = |index: usize| move |source| CaptureWriteError::Encode { index, source };
    let system = SystemEventMsg {
        timestamp: start_ts,
        event_code: b'O',
        ..SystemEventMsg::default()
    };
    let n = system.encode(&mut buf).map_err(enc(0))?;
    w.push(&buf[..n])?;
    let directory = StockDirectoryMsg {
        stock_locate: SYMBOL_LOCATE,
        timestamp: start_ts,
        stock,
        market_category: b'Q',
        financial_status_indicator: b'N',
        round_lot_size: 100,
        round_lots_only: b'N',
        issue_classification: b'C',
        issue_sub_type: *b"Z ",
        authenticity: b'P',
        short_sale_threshold_indicator: b'N',
        ipo_flag: b'N',
        luld_reference_price_tier: b'1',
        etp_flag: b'N',
        etp_leverage_factor: 0,
        inverse_indicator: b'N',
        ..StockDirectoryMsg::default()
    };
    let n = directory.encode(&mut buf).map_err(enc(0))?;
    w.push(&buf[..n])?;
    // Each event's messages start a new packet (the preamble shares the S/R packet).
    let mut starts_group = vec![false; plan.ops.len()];
    for e in &plan.events {
        if let Some(flag) = starts_group.get_mut(e.first) {
            *flag = true;
        }
    }
    for (index, op) in plan.ops.iter().enumerate() {
        if starts_group.get(index).copied().unwrap_or(false) {
            w.end_group(Timestamp(op.ts))?;
        }
        let n = if let ImportOp::Cross {
            price,
            shares,
            cross_type,
        } = op.op
        {
            // Written directly: a normalised event does not say which cross it was.
            CrossTradeMsg {
                stock_locate: SYMBOL_LOCATE,
                timestamp: op.ts,
                shares,
                stock,
                cross_price: price,
                cross_type,
                ..CrossTradeMsg::default()
            }
            .encode(&mut buf)
            .map_err(enc(index))?
        } else {
            let event = op_event(op).ok_or(CaptureWriteError::OutOfRange { index })?;
            encode_event(&event, stock, SYMBOL_LOCATE, 0, Timestamp(op.ts), &mut buf)
                .map_err(enc(index))?
        };
        w.push(&buf[..n])?;
    }
    w.end_group(Timestamp(plan.ops.last().map_or(start_ts, |op| op.ts)))?;
    w.finish()
}
