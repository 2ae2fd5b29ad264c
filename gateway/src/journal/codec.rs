//! The journal's byte format.
//!
//! ```text
//! file    = header record*
//! header  = "KJNL" version:u16 flags:u16 created_unix_ns:u64            (16 bytes)
//! record  = len:u32 kind:u8 body[len - 1] crc:u32
//! ```
//!
//! Integers are little-endian; `len` counts the kind byte and the body; `crc` is CRC-32 (IEEE)
//! over `len`, `kind` and `body`. Every body starts with `at:u64` (the gateway clock). OUCH
//! messages are stored as their exact wire bytes, so the journal shows what went on the wire
//! and decodes with the same codecs.
//!
//! | kind | record | body after `at` |
//! |---|---|---|
//! | 1 | session start | first_order_number:u64 instruments:u32 |
//! | 2 | intent | seq:u64 instrument:u32 side:u8 urgency:u8 reason:u8 price:i64 qty:i64 decided_at:u64 |
//! | 3 | risk decision | intent_seq:u64 check:u8 value:i64 limit:i64 reference:i64 |
//! | 4 | sent | order:u64 intent_seq:u64 parent:u32 arrival_mid:i64 ouch_inbound_bytes |
//! | 5 | send failed | as sent |
//! | 6 | received | seq:u64 ouch_outbound_bytes |
//! | 7 | link | up:u8 (1 up, 0 down) reason:u8 next_seq:u64 session:10 |
//! | 8 | parameter | name:32 (NUL padded) value:i64 |

use super::entry::{Entry, ParamName, SentMeta};
use crate::ouch::{ClientMessageView, MAX_MESSAGE_LEN, ServerMessageView};
use crate::soupbin::SessionId;
use crate::venue::{DownReason, LinkEvent};
use kestrel_core::{InstrumentId, IntentReason, OrderIntent, Price, Qty, Side, Timestamp, Urgency};

/// File magic.
pub const MAGIC: [u8; 4] = *b"KJNL";
/// Format version.
pub const VERSION: u16 = 1;
/// Header length.
pub const HEADER_LEN: usize = 16;
/// The largest record (length field, kind, body, CRC).
pub const MAX_RECORD: usize = 4 + 1 + 8 + 8 + 8 + 4 + 8 + MAX_MESSAGE_LEN + 4 + 32;

/// Why a record could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// An unknown kind byte.
    #[error("unknown record kind {0}")]
    UnknownKind(u8),
    /// A body shorter or longer than its kind needs.
    #[error("record kind {kind} has a {len}-byte body")]
    BadBody {
        /// Kind.
        kind: u8,
        /// Body length.
        len: usize,
    },
    /// Stored OUCH bytes that do not decode.
    #[error("record kind {kind}: stored OUCH message: {error}")]
    Ouch {
        /// Kind.
        kind: u8,
        /// The decode error.
        error: crate::ouch::OuchError,
    },
    /// A coded field out of range.
    #[error("record kind {kind}: bad {field}")]
    BadField {
        /// Kind.
        kind: u8,
        /// Field.
        field: &'static str,
    },
}

/// The file header bytes.
pub fn header(created_unix_ns: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&MAGIC);
    h[4..6].copy_from_slice(&VERSION.to_le_bytes());
    h[8..16].copy_from_slice(&created_unix_ns.to_le_bytes());
    h
}

struct Out<'a> {
    buf: &'a mut [u8; MAX_RECORD],
    at: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
    fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }
    fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.put(&v.to_le_bytes());
    }
}

fn meta(o: &mut Out<'_>, m: &SentMeta) {
    o.u64(m.order);
    o.u64(m.intent_seq);
    o.u32(m.parent);
    o.i64(m.arrival_mid.raw());
}

/// Encodes `entry` as a whole record (length, kind, body, CRC) into `buf`; returns its length.
pub fn encode(entry: &Entry, buf: &mut [u8; MAX_RECORD]) -> usize {
    let mut o = Out { buf, at: 4 };
    o.u8(entry.kind());
    o.u64(entry.at().nanos());
    match entry {
        Entry::SessionStart {
            first_order_number,
            instruments,
            ..
        } => {
            o.u64(*first_order_number);
            o.u32(*instruments);
        }
        Entry::Intent { intent: i, .. } => {
            o.u64(i.seq);
            o.u32(i.instrument.0);
            o.u8(i.side as u8);
            o.u8(i.urgency as u8);
            o.u8(i.reason as u8);
            o.i64(i.price.raw());
            o.i64(i.qty.raw());
            o.u64(i.decided_at.nanos());
        }
        Entry::Risk {
            intent_seq,
            check,
            value,
            limit,
            reference,
            ..
        } => {
            o.u64(*intent_seq);
            o.u8(*check);
            o.i64(*value);
            o.i64(*limit);
            o.i64(*reference);
        }
        Entry::Sent { meta: m, msg, .. } | Entry::SendFailed { meta: m, msg, .. } => {
            meta(&mut o, m);
            let mut b = [0u8; MAX_MESSAGE_LEN];
            let n = msg.encode(&mut b).unwrap_or(0);
            o.put(&b[..n]);
        }
        Entry::Received { seq, msg, .. } => {
            o.u64(*seq);
            let mut b = [0u8; MAX_MESSAGE_LEN];
            let n = msg.encode(&mut b).unwrap_or(0);
            o.put(&b[..n]);
        }
        Entry::Link { event, .. } => match event {
            LinkEvent::Up { session, next_seq } => {
                o.u8(1);
                o.u8(0);
                o.u64(*next_seq);
                o.put(&session.field());
            }
            LinkEvent::Down { reason } => {
                o.u8(0);
                o.u8(down_code(*reason));
                o.u64(0);
                o.put(&[b' '; 10]);
            }
        },
        Entry::Param { name, value, .. } => {
            o.put(&name.0);
            o.i64(*value);
        }
    }
    let len = (o.at - 4) as u32;
    o.buf[..4].copy_from_slice(&len.to_le_bytes());
    let crc = crc32fast::hash(&o.buf[..o.at]);
    let end = o.at;
    o.buf[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    end + 4
}

const fn down_code(r: DownReason) -> u8 {
    match r {
        DownReason::Disconnected => 1,
        DownReason::HeartbeatTimeout => 2,
        DownReason::ProtocolError => 3,
        DownReason::LoginRejected => 4,
        DownReason::EndOfSession => 5,
        DownReason::LoggedOut => 6,
    }
}

const fn down_reason(code: u8) -> Option<DownReason> {
    Some(match code {
        1 => DownReason::Disconnected,
        2 => DownReason::HeartbeatTimeout,
        3 => DownReason::ProtocolError,
        4 => DownReason::LoginRejected,
        5 => DownReason::EndOfSession,
        6 => DownReason::LoggedOut,
        _ => return None,
    })
}

struct In<'a> {
    b: &'a [u8],
    kind: u8,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.b.len() < n {
            return Err(RecordError::BadBody {
                kind: self.kind,
                len: self.b.len(),
            });
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.arr::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, RecordError> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, RecordError> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> Result<i64, RecordError> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn end(&self) -> Result<(), RecordError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(RecordError::BadBody {
                kind: self.kind,
                len: self.b.len(),
            })
        }
    }
    fn meta(&mut self) -> Result<SentMeta, RecordError> {
        Ok(SentMeta {
            order: self.u64()?,
            intent_seq: self.u64()?,
            parent: self.u32()?,
            arrival_mid: Price::from_raw(self.i64()?),
        })
    }
}

/// Decodes a record's kind and body (what `len` covers, CRC already checked).
pub fn decode(kind_and_body: &[u8]) -> Result<Entry, RecordError> {
    let Some((&kind, body)) = kind_and_body.split_first() else {
        return Err(RecordError::BadBody { kind: 0, len: 0 });
    };
    let mut i = In { b: body, kind };
    let at = Timestamp(i.u64()?);
    let bad = |field| RecordError::BadField { kind, field };
    let e = match kind {
        1 => Entry::SessionStart {
            at,
            first_order_number: i.u64()?,
            instruments: i.u32()?,
        },
        2 => {
            let seq = i.u64()?;
            let instrument = InstrumentId(i.u32()?);
            let side = match i.u8()? {
                0 => Side::Buy,
                1 => Side::Sell,
                _ => return Err(bad("side")),
            };
            let urgency = match i.u8()? {
                0 => Urgency::Passive,
                1 => Urgency::Normal,
                2 => Urgency::Aggressive,
                _ => return Err(bad("urgency")),
            };
            let reason = match i.u8()? {
                0 => IntentReason::Alpha,
                1 => IntentReason::RiskReduce,
                2 => IntentReason::Flatten,
                _ => return Err(bad("reason")),
            };
            Entry::Intent {
                at,
                intent: OrderIntent {
                    seq,
                    instrument,
                    side,
                    urgency,
                    reason,
                    price: Price::from_raw(i.i64()?),
                    qty: Qty::from_raw(i.i64()?),
                    decided_at: Timestamp(i.u64()?),
                },
            }
        }
        3 => Entry::Risk {
            at,
            intent_seq: i.u64()?,
            check: i.u8()?,
            value: i.i64()?,
            limit: i.i64()?,
            reference: i.i64()?,
        },
        4 | 5 => {
            let meta = i.meta()?;
            let bytes = core::mem::take(&mut i.b);
            let msg = ClientMessageView::decode(bytes)
                .map_err(|error| RecordError::Ouch { kind, error })?
                .to_msg();
            if kind == 4 {
                Entry::Sent { at, meta, msg }
            } else {
                Entry::SendFailed { at, meta, msg }
            }
        }
        6 => {
            let seq = i.u64()?;
            let bytes = core::mem::take(&mut i.b);
            let msg = ServerMessageView::decode(bytes)
                .map_err(|error| RecordError::Ouch { kind, error })?
                .to_msg();
            Entry::Received { at, seq, msg }
        }
        7 => {
            let up = i.u8()?;
            let reason = i.u8()?;
            let next_seq = i.u64()?;
            let session = SessionId::from_field(i.arr()?).map_err(|_| bad("session"))?;
            let event = if up == 1 {
                LinkEvent::Up { session, next_seq }
            } else {
                LinkEvent::Down {
                    reason: down_reason(reason).ok_or_else(|| bad("down reason"))?,
                }
            };
            Entry::Link { at, event }
        }
        8 => Entry::Param {
            at,
            name: ParamName(i.arr()?),
            value: i.i64()?,
        },
        other => return Err(RecordError::UnknownKind(other)),
    };
    i.end()?;
    Ok(e)
}
