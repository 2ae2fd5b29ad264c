//! One captured datagram: the unit of `.kcap` files and of the pcap reader.

use kestrel_core::Timestamp;

/// Bytes of a record's fixed part: receive time, sequence, channel, payload length.
pub const RECORD_HEADER_LEN: usize = 8 + 8 + 2 + 4;

/// A captured payload with its receive time, borrowed from the capture (zero copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Receive time, nanoseconds since the Unix epoch.
    pub recv_ts: Timestamp,
    /// Sequence assigned by the source: the live receiver and importers number records
    /// 0, 1, 2, ... in arrival order (the pcap reader uses the frame index). Message sequence
    /// numbers live inside the payload (e.g. the MoldUDP64 header).
    pub seq: u64,
    /// Channel: the UDP destination port, or a configured port -> channel mapping.
    pub channel: u16,
    /// The datagram payload (for MoldUDP64 captures, a whole MoldUDP64 packet).
    pub payload: &'a [u8],
}

impl Record<'_> {
    /// Bytes this record takes in a block body.
    pub const fn encoded_len(&self) -> usize {
        RECORD_HEADER_LEN + self.payload.len()
    }
}

/// Appends the encoded record; the caller has checked that the payload length fits a `u32`.
pub(crate) fn encode_into(record: &Record<'_>, payload_len: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&record.recv_ts.nanos().to_le_bytes());
    out.extend_from_slice(&record.seq.to_le_bytes());
    out.extend_from_slice(&record.channel.to_le_bytes());
    out.extend_from_slice(&payload_len.to_le_bytes());
    out.extend_from_slice(record.payload);
}

/// Why a record could not be decoded from a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordFault {
    /// Fewer than [`RECORD_HEADER_LEN`] bytes remain.
    ShortHeader,
    /// The payload length runs past the body.
    ShortPayload,
}

/// Decodes the record at `body[at..]`; returns it and the offset after it.
pub(crate) fn decode_at(body: &[u8], at: usize) -> Result<(Record<'_>, usize), RecordFault> {
    let head = body
        .get(at..at.saturating_add(RECORD_HEADER_LEN))
        .ok_or(RecordFault::ShortHeader)?;
    let le64 = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let recv_ts = le64(0);
    let seq = le64(8);
    let channel = u16::from_le_bytes([head[16], head[17]]);
    let len = u32::from_le_bytes([head[18], head[19], head[20], head[21]]);
    let start = at + RECORD_HEADER_LEN;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| start.checked_add(l))
        .ok_or(RecordFault::ShortPayload)?;
    let payload = body.get(start..end).ok_or(RecordFault::ShortPayload)?;
    Ok((
        Record {
            recv_ts: Timestamp(recv_ts),
            seq,
            channel,
            payload,
        },
        end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_small_and_copy() {
        assert_eq!(std::mem::size_of::<Record<'_>>(), 40);
    }

    #[test]
    fn encode_decode_round_trip_and_faults() {
        let r = Record {
            recv_ts: Timestamp(123),
            seq: 9,
            channel: 26400,
            payload: b"hello",
        };
        let mut body = Vec::new();
        encode_into(&r, 5, &mut body);
        assert_eq!(body.len(), r.encoded_len());
        assert_eq!(decode_at(&body, 0), Ok((r, body.len())));
        assert_eq!(
            decode_at(&body[..body.len() - 1], 0),
            Err(RecordFault::ShortPayload)
        );
        assert_eq!(decode_at(&body[..21], 0), Err(RecordFault::ShortHeader));
        assert_eq!(decode_at(&body, 1000), Err(RecordFault::ShortHeader));
    }
}
