//! One journal record and its bytes.

use kestrel_core::Timestamp;
use kestrel_gateway::ouch::{ClientMessage, ClientMessageView, MAX_MESSAGE_LEN};

/// Largest record body: kind, participant, time, an OUCH message.
pub const MAX_BODY: usize = 1 + 4 + 8 + MAX_MESSAGE_LEN;

/// What the venue did, in the order it did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// The day started at `ts` (system event, stock directory published).
    Start {
        /// Venue time.
        ts: Timestamp,
    },
    /// The venue clock moved to `now` (replayed events, orders, responses and market data due
    /// by then were handled).
    Advance {
        /// Venue time.
        now: Timestamp,
    },
    /// Responses and market data due by `now` were released (the clock did not move the
    /// replayed market).
    Release {
        /// Venue time.
        now: Timestamp,
    },
    /// A participant's OUCH message arrived at `now`.
    Submit {
        /// Participant (login index).
        participant: u32,
        /// Arrival time.
        now: Timestamp,
        /// The message.
        msg: ClientMessage,
    },
    /// A participant's session went away at `now`.
    Disconnect {
        /// Participant.
        participant: u32,
        /// Venue time.
        now: Timestamp,
    },
    /// The day ended at `ts`.
    EndOfDay {
        /// Venue time.
        ts: Timestamp,
    },
}

/// Why a record's bytes do not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The body is shorter than its kind needs.
    #[error("record body of {0} bytes is too short")]
    Short(usize),
    /// Unknown kind byte.
    #[error("unknown record kind {0}")]
    Kind(u8),
    /// The OUCH message inside does not decode.
    #[error("the OUCH message inside does not decode")]
    Ouch,
}

const START: u8 = 1;
const ADVANCE: u8 = 2;
const RELEASE: u8 = 3;
const SUBMIT: u8 = 4;
const DISCONNECT: u8 = 5;
const END_OF_DAY: u8 = 6;

fn u64_at(b: &[u8], at: usize) -> Result<u64, RecordError> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or(RecordError::Short(b.len()))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, RecordError> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(RecordError::Short(b.len()))
}

impl Record {
    /// Writes the body into `out`; returns its length.
    pub fn encode(&self, out: &mut [u8; MAX_BODY]) -> usize {
        let time = |out: &mut [u8; MAX_BODY], kind: u8, ts: Timestamp| {
            out[0] = kind;
            out[1..9].copy_from_slice(&ts.nanos().to_le_bytes());
            9
        };
        match *self {
            Record::Start { ts } => time(out, START, ts),
            Record::Advance { now } => time(out, ADVANCE, now),
            Record::Release { now } => time(out, RELEASE, now),
            Record::EndOfDay { ts } => time(out, END_OF_DAY, ts),
            Record::Disconnect { participant, now } => {
                out[0] = DISCONNECT;
                out[1..5].copy_from_slice(&participant.to_le_bytes());
                out[5..13].copy_from_slice(&now.nanos().to_le_bytes());
                13
            }
            Record::Submit {
                participant,
                now,
                msg,
            } => {
                out[0] = SUBMIT;
                out[1..5].copy_from_slice(&participant.to_le_bytes());
                out[5..13].copy_from_slice(&now.nanos().to_le_bytes());
                // A well-formed message always encodes (at most MAX_MESSAGE_LEN bytes).
                13 + msg.encode(&mut out[13..]).unwrap_or(0)
            }
        }
    }

    /// Reads a body.
    pub fn decode(b: &[u8]) -> Result<Self, RecordError> {
        let kind = *b.first().ok_or(RecordError::Short(0))?;
        Ok(match kind {
            START => Record::Start {
                ts: Timestamp(u64_at(b, 1)?),
            },
            ADVANCE => Record::Advance {
                now: Timestamp(u64_at(b, 1)?),
            },
            RELEASE => Record::Release {
                now: Timestamp(u64_at(b, 1)?),
            },
            END_OF_DAY => Record::EndOfDay {
                ts: Timestamp(u64_at(b, 1)?),
            },
            DISCONNECT => Record::Disconnect {
                participant: u32_at(b, 1)?,
                now: Timestamp(u64_at(b, 5)?),
            },
            SUBMIT => {
                let participant = u32_at(b, 1)?;
                let now = Timestamp(u64_at(b, 5)?);
                let msg = ClientMessageView::decode(b.get(13..).unwrap_or(&[]))
                    .map_err(|_| RecordError::Ouch)?
                    .to_msg();
                Record::Submit {
                    participant,
                    now,
                    msg,
                }
            }
            other => return Err(RecordError::Kind(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_gateway::ouch::{
        BuySell, CancelOrder, EnterOrder, Firm, IsoEligibility, Price4, Stock, Token,
    };

    #[test]
    fn every_kind_round_trips() {
        let enter = ClientMessage::EnterOrder(EnterOrder {
            token: Token::new("KS1").unwrap(),
            side: BuySell::Buy,
            shares: 100,
            stock: Stock::new("AAPL").unwrap(),
            price: Price4(5_853_300),
            time_in_force: 99_999,
            firm: Firm::BLANK,
            display: b'Y',
            capacity: b'P',
            iso: IsoEligibility::NotEligible,
            min_qty: 0,
            cross_type: b'N',
            customer_type: b' ',
        });
        let cancel = ClientMessage::CancelOrder(CancelOrder {
            token: Token::new("KS1").unwrap(),
            shares: 0,
        });
        let all = [
            Record::Start { ts: Timestamp(1) },
            Record::Advance { now: Timestamp(2) },
            Record::Release { now: Timestamp(3) },
            Record::Submit {
                participant: 7,
                now: Timestamp(4),
                msg: enter,
            },
            Record::Submit {
                participant: 0,
                now: Timestamp(5),
                msg: cancel,
            },
            Record::Disconnect {
                participant: 2,
                now: Timestamp(u64::MAX),
            },
            Record::EndOfDay { ts: Timestamp(9) },
        ];
        let mut buf = [0u8; MAX_BODY];
        for r in all {
            let n = r.encode(&mut buf);
            assert_eq!(Record::decode(&buf[..n]), Ok(r));
            assert!(Record::decode(&buf[..n - 1]).is_err(), "{r:?} cut short");
        }
        assert_eq!(Record::decode(&[99, 0]), Err(RecordError::Kind(99)));
        assert_eq!(Record::decode(&[]), Err(RecordError::Short(0)));
    }
}
