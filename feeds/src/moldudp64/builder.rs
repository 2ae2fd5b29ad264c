//! Filling MoldUDP64 packets from messages, up to a packet size limit.

use super::packet::{
    BLOCK_PREFIX_LEN, END_OF_SESSION_COUNT, HEADER_LEN, MoldError, MoldSession, write_header,
};

/// Default packet size limit (header included): fits a 1500-byte Ethernet MTU with IPv4 and UDP
/// headers and room to spare.
pub const DEFAULT_MAX_PACKET: usize = 1400;

/// Most messages one packet may carry (0xFFFF means end of session).
const MAX_MESSAGES: u16 = END_OF_SESSION_COUNT - 1;

/// Builds downstream packets: messages are appended to the open packet until the next one would
/// exceed the size limit; then the finished packet is copied into the caller's buffer and the
/// message starts the next packet. Sequence numbers advance by one per message.
///
/// The internal buffer is allocated once at construction; a caller buffer with capacity for
/// `max_packet` bytes is never reallocated.
#[derive(Debug, Clone)]
pub struct MoldPacketBuilder {
    session: MoldSession,
    /// Sequence of the first message of the open packet.
    first_seq: u64,
    count: u16,
    max_packet: usize,
    buf: Vec<u8>,
}

impl MoldPacketBuilder {
    /// A builder for `session` whose first message will carry `next_sequence`, with the default
    /// 1400-byte packet limit.
    pub fn new(session: MoldSession, next_sequence: u64) -> Self {
        Self::with_max_packet(session, next_sequence, DEFAULT_MAX_PACKET)
    }

    /// A builder with a custom packet size limit (header included; at least 23 bytes are needed
    /// for a one-byte message, smaller limits are raised to that).
    pub fn with_max_packet(session: MoldSession, next_sequence: u64, max_packet: usize) -> Self {
        let max_packet = max_packet.max(HEADER_LEN + BLOCK_PREFIX_LEN + 1);
        let mut buf = Vec::with_capacity(max_packet);
        buf.resize(HEADER_LEN, 0);
        Self {
            session,
            first_seq: next_sequence,
            count: 0,
            max_packet,
            buf,
        }
    }

    /// The packet size limit.
    pub const fn max_packet(&self) -> usize {
        self.max_packet
    }

    /// Sequence number the next pushed message will get.
    pub const fn next_sequence(&self) -> u64 {
        self.first_seq.saturating_add(self.count as u64)
    }

    /// Messages in the open packet.
    pub const fn pending_messages(&self) -> u16 {
        self.count
    }

    /// Appends `msg`. When it does not fit the open packet, the open packet is finished into
    /// `out` first (which is cleared) and `Ok(true)` is returned; otherwise `out` is untouched
    /// and `Ok(false)` is returned. A message that cannot fit any packet is an error and changes
    /// nothing.
    pub fn push(&mut self, msg: &[u8], out: &mut Vec<u8>) -> Result<bool, MoldError> {
        let block = BLOCK_PREFIX_LEN + msg.len();
        let len = u16::try_from(msg.len()).map_err(|_| MoldError::MessageTooLarge {
            len: msg.len(),
            max_packet: self.max_packet,
        })?;
        if HEADER_LEN + block > self.max_packet {
            return Err(MoldError::MessageTooLarge {
                len: msg.len(),
                max_packet: self.max_packet,
            });
        }
        let flushed = if self.buf.len() + block > self.max_packet || self.count >= MAX_MESSAGES {
            self.finish_into(out);
            true
        } else {
            false
        };
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(msg);
        self.count += 1;
        Ok(flushed)
    }

    /// Finishes the open packet into `out` (cleared first). Returns `false` and leaves `out`
    /// untouched when no message is pending.
    pub fn finish_into(&mut self, out: &mut Vec<u8>) -> bool {
        if self.count == 0 {
            return false;
        }
        // The buffer always starts with HEADER_LEN bytes reserved for the header.
        let _ = write_header(&mut self.buf, self.session, self.first_seq, self.count);
        out.clear();
        out.extend_from_slice(&self.buf);
        self.first_seq = self.next_sequence();
        self.count = 0;
        self.buf.truncate(HEADER_LEN);
        true
    }

    /// Writes a heartbeat (count 0, sequence = next sequence to be sent) into `out`. Pending
    /// messages stay pending.
    pub fn heartbeat_into(&self, out: &mut Vec<u8>) {
        self.header_only_into(self.first_seq, 0, out);
    }

    /// Finishes pending messages (into `out`, returning `true`, the caller then calls again) or,
    /// when nothing is pending, writes the end-of-session packet (count 0xFFFF, sequence = one
    /// past the last message) into `out` and returns `false`.
    pub fn end_of_session_into(&mut self, out: &mut Vec<u8>) -> bool {
        if self.finish_into(out) {
            return true;
        }
        self.header_only_into(self.first_seq, END_OF_SESSION_COUNT, out);
        false
    }

    fn header_only_into(&self, sequence: u64, count: u16, out: &mut Vec<u8>) {
        out.clear();
        out.resize(HEADER_LEN, 0);
        let _ = write_header(out, self.session, sequence, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moldudp64::{MoldPacket, PacketKind};

    #[test]
    fn fills_up_to_limit_and_numbers_messages() {
        let session = MoldSession::from_name("S").unwrap();
        // 20 header + 3 blocks of (2 + 10) = 56 <= 60; a fourth would need 68.
        let mut b = MoldPacketBuilder::with_max_packet(session, 100, 60);
        let mut out = Vec::with_capacity(60);
        let mut packets = Vec::new();
        for i in 0..7u8 {
            if b.push(&[i; 10], &mut out).unwrap() {
                packets.push(out.clone());
            }
        }
        assert!(b.finish_into(&mut out));
        packets.push(out.clone());
        assert!(!b.finish_into(&mut out));
        let parsed: Vec<_> = packets
            .iter()
            .map(|p| MoldPacket::parse(p).unwrap())
            .collect();
        assert_eq!(
            parsed.iter().map(|p| p.sequence()).collect::<Vec<_>>(),
            vec![100, 103, 106]
        );
        assert!(packets.iter().all(|p| p.len() <= 60));
        let all: Vec<(u64, u8)> = parsed
            .iter()
            .flat_map(|p| p.messages().map(|(s, m)| (s, m[0])))
            .collect();
        assert_eq!(all, (0..7).map(|i| (100 + i as u64, i)).collect::<Vec<_>>());
        assert_eq!(b.next_sequence(), 107);
    }

    #[test]
    fn heartbeat_end_of_session_and_oversize() {
        let session = MoldSession::from_name("S").unwrap();
        let mut b = MoldPacketBuilder::new(session, 1);
        let mut out = Vec::new();
        assert_eq!(
            b.push(&[0; 1379], &mut out),
            Err(MoldError::MessageTooLarge {
                len: 1379,
                max_packet: 1400
            })
        );
        assert!(!b.push(&[0; 1378], &mut out).unwrap());
        b.heartbeat_into(&mut out);
        let hb = MoldPacket::parse(&out).unwrap();
        assert_eq!((hb.kind(), hb.sequence()), (PacketKind::Heartbeat, 1));
        assert!(b.end_of_session_into(&mut out));
        assert_eq!(MoldPacket::parse(&out).unwrap().message_count(), 1);
        assert!(!b.end_of_session_into(&mut out));
        let eos = MoldPacket::parse(&out).unwrap();
        assert_eq!((eos.kind(), eos.sequence()), (PacketKind::EndOfSession, 2));
    }
}
