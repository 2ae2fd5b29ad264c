//! Zero-copy parsing of MoldUDP64 downstream packets.
//!
//! Layout (all integers big-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 10 | session (ASCII, space padded) |
//! | 10 | 8 | sequence number of the first message |
//! | 18 | 2 | message count (0 = heartbeat, 0xFFFF = end of session) |
//! | 20 | .. | message blocks: u16 length, then that many payload bytes |

use std::fmt;

/// Length of the session field.
pub const SESSION_LEN: usize = 10;
/// Length of the downstream packet header.
pub const HEADER_LEN: usize = 20;
/// Message count that marks an end-of-session packet.
pub const END_OF_SESSION_COUNT: u16 = 0xFFFF;
/// Length of a message block's length prefix.
pub const BLOCK_PREFIX_LEN: usize = 2;

/// A MoldUDP64 session name: 10 ASCII bytes, right-padded with spaces.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MoldSession(pub [u8; SESSION_LEN]);

impl MoldSession {
    /// A session from a name of at most 10 ASCII bytes, right-padded with spaces; `None` when the
    /// name is longer or not ASCII.
    pub fn from_name(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        if bytes.len() > SESSION_LEN || !name.is_ascii() {
            return None;
        }
        let mut out = [b' '; SESSION_LEN];
        out.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self(out))
    }

    /// The raw 10 bytes.
    pub const fn as_bytes(&self) -> &[u8; SESSION_LEN] {
        &self.0
    }
}

impl fmt::Debug for MoldSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MoldSession({:?})", self.to_string())
    }
}

impl fmt::Display for MoldSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// What a downstream packet carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// One or more sequenced messages.
    Messages,
    /// No messages; the sequence field is the next sequence the publisher will send.
    Heartbeat,
    /// The session ended; the sequence field is one past the last message of the session.
    EndOfSession,
}

/// Errors parsing or building MoldUDP64 packets. Offsets are from the start of the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoldError {
    /// The packet is shorter than the 20-byte header.
    #[error("packet of {len} bytes is shorter than the {HEADER_LEN}-byte MoldUDP64 header")]
    ShortHeader {
        /// Bytes available.
        len: usize,
    },
    /// A message block (its length prefix or its payload) runs past the end of the packet.
    #[error("message block {index} at byte {offset} needs {needed} bytes, only {available} left")]
    Truncated {
        /// Index of the block within the packet.
        index: u16,
        /// Byte offset of the block's length prefix (or payload).
        offset: usize,
        /// Bytes the block needs.
        needed: usize,
        /// Bytes left in the packet from `offset`.
        available: usize,
    },
    /// Bytes remain after the declared message blocks (or after a heartbeat / end of session).
    #[error("{extra} trailing bytes after the last message block at byte {offset}")]
    TrailingBytes {
        /// Offset of the first trailing byte.
        offset: usize,
        /// Number of trailing bytes.
        extra: usize,
    },
    /// `sequence + count` does not fit a `u64`.
    #[error("sequence {sequence} + count {count} overflows")]
    SequenceOverflow {
        /// Sequence field.
        sequence: u64,
        /// Message count field.
        count: u16,
    },
    /// A request packet is not exactly 20 bytes.
    #[error("request packet of {len} bytes, expected 20")]
    BadRequestLength {
        /// Bytes given.
        len: usize,
    },
    /// A message is longer than a block (65,535 bytes) or than the packet size allows.
    #[error("message of {len} bytes does not fit a packet of at most {max_packet} bytes")]
    MessageTooLarge {
        /// Message length.
        len: usize,
        /// Packet size limit.
        max_packet: usize,
    },
}

/// A parsed, validated downstream packet borrowing the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoldPacket<'a> {
    session: MoldSession,
    sequence: u64,
    count: u16,
    blocks: &'a [u8],
}

#[inline]
fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

#[inline]
fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

impl<'a> MoldPacket<'a> {
    /// Parses and validates a downstream packet: the header, and that every declared message block
    /// lies inside the datagram with nothing left over. Copies nothing.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, MoldError> {
        let short = MoldError::ShortHeader {
            len: datagram.len(),
        };
        let session: [u8; SESSION_LEN] = datagram
            .get(..SESSION_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(short)?;
        let sequence = be_u64(datagram, SESSION_LEN).ok_or(short)?;
        let count = be_u16(datagram, SESSION_LEN + 8).ok_or(short)?;
        let blocks = datagram.get(HEADER_LEN..).ok_or(short)?;
        let packet = Self {
            session: MoldSession(session),
            sequence,
            count,
            blocks,
        };
        let messages = packet.message_count();
        if sequence.checked_add(u64::from(messages)).is_none() {
            return Err(MoldError::SequenceOverflow { sequence, count });
        }
        let mut at = 0usize;
        for index in 0..messages {
            let available = blocks.len().saturating_sub(at);
            let len = be_u16(blocks, at).ok_or(MoldError::Truncated {
                index,
                offset: HEADER_LEN + at,
                needed: BLOCK_PREFIX_LEN,
                available,
            })?;
            let needed = BLOCK_PREFIX_LEN + usize::from(len);
            if needed > available {
                return Err(MoldError::Truncated {
                    index,
                    offset: HEADER_LEN + at,
                    needed,
                    available,
                });
            }
            at += needed;
        }
        if at != blocks.len() {
            return Err(MoldError::TrailingBytes {
                offset: HEADER_LEN + at,
                extra: blocks.len() - at,
            });
        }
        Ok(packet)
    }

    /// The session.
    #[inline]
    pub const fn session(&self) -> MoldSession {
        self.session
    }

    /// Sequence number of the first message (heartbeat / end of session: the next sequence).
    #[inline]
    pub const fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The raw count field (0 heartbeat, 0xFFFF end of session).
    #[inline]
    pub const fn count_field(&self) -> u16 {
        self.count
    }

    /// What this packet carries.
    #[inline]
    pub const fn kind(&self) -> PacketKind {
        match self.count {
            0 => PacketKind::Heartbeat,
            END_OF_SESSION_COUNT => PacketKind::EndOfSession,
            _ => PacketKind::Messages,
        }
    }

    /// Number of messages (0 for heartbeats and end of session).
    #[inline]
    pub const fn message_count(&self) -> u16 {
        match self.kind() {
            PacketKind::Messages => self.count,
            _ => 0,
        }
    }

    /// One past the last message's sequence (`sequence` for heartbeats and end of session).
    #[inline]
    pub const fn next_sequence(&self) -> u64 {
        // Cannot overflow: checked in `parse`.
        self.sequence.saturating_add(self.message_count() as u64)
    }

    /// The message blocks, length prefixes included.
    #[inline]
    pub const fn block_bytes(&self) -> &'a [u8] {
        self.blocks
    }

    /// The messages with their sequence numbers, in order.
    #[inline]
    pub fn messages(&self) -> MoldMessages<'a> {
        MoldMessages {
            rest: self.blocks,
            next_seq: self.sequence,
            left: self.message_count(),
        }
    }
}

/// Iterator over `(sequence, payload)` of a validated packet.
#[derive(Clone, Debug)]
pub struct MoldMessages<'a> {
    rest: &'a [u8],
    next_seq: u64,
    left: u16,
}

impl<'a> Iterator for MoldMessages<'a> {
    type Item = (u64, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let len = usize::from(be_u16(self.rest, 0)?);
        let end = BLOCK_PREFIX_LEN.checked_add(len)?;
        let payload = self.rest.get(BLOCK_PREFIX_LEN..end)?;
        self.rest = self.rest.get(end..)?;
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        self.left -= 1;
        Some((seq, payload))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::from(self.left), Some(usize::from(self.left)))
    }
}

impl ExactSizeIterator for MoldMessages<'_> {}

/// Writes a downstream header into `out[..20]`; `None` when `out` is shorter.
pub(crate) fn write_header(
    out: &mut [u8],
    session: MoldSession,
    sequence: u64,
    count: u16,
) -> Option<()> {
    out.get_mut(..SESSION_LEN)?.copy_from_slice(&session.0);
    out.get_mut(SESSION_LEN..SESSION_LEN + 8)?
        .copy_from_slice(&sequence.to_be_bytes());
    out.get_mut(SESSION_LEN + 8..HEADER_LEN)?
        .copy_from_slice(&count.to_be_bytes());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u64, msgs: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_LEN];
        write_header(
            &mut out,
            MoldSession::from_name("SESS1").unwrap(),
            seq,
            msgs.len() as u16,
        )
        .unwrap();
        for m in msgs {
            out.extend_from_slice(&(m.len() as u16).to_be_bytes());
            out.extend_from_slice(m);
        }
        out
    }

    #[test]
    fn parses_messages_with_sequences() {
        let bytes = packet(41, &[b"abc", b"", b"hello"]);
        let p = MoldPacket::parse(&bytes).unwrap();
        assert_eq!(p.kind(), PacketKind::Messages);
        assert_eq!(p.session().to_string(), "SESS1     ");
        assert_eq!(p.sequence(), 41);
        assert_eq!(p.next_sequence(), 44);
        let got: Vec<_> = p.messages().collect();
        assert_eq!(
            got,
            vec![(41, &b"abc"[..]), (42, &b""[..]), (43, &b"hello"[..])]
        );
    }

    #[test]
    fn heartbeat_and_end_of_session() {
        let mut hb = vec![0u8; HEADER_LEN];
        write_header(&mut hb, MoldSession::default(), 7, 0).unwrap();
        let p = MoldPacket::parse(&hb).unwrap();
        assert_eq!(p.kind(), PacketKind::Heartbeat);
        assert_eq!(p.messages().count(), 0);
        assert_eq!(p.next_sequence(), 7);
        write_header(&mut hb, MoldSession::default(), 9, END_OF_SESSION_COUNT).unwrap();
        let p = MoldPacket::parse(&hb).unwrap();
        assert_eq!(p.kind(), PacketKind::EndOfSession);
        assert_eq!(p.next_sequence(), 9);
    }

    #[test]
    fn truncation_reports_offset() {
        let bytes = packet(1, &[b"abc", b"hello"]);
        // Cut inside the second payload: block 1 starts at 20 + 5 = 25.
        let err = MoldPacket::parse(&bytes[..bytes.len() - 1]).unwrap_err();
        assert_eq!(
            err,
            MoldError::Truncated {
                index: 1,
                offset: 25,
                needed: 7,
                available: 6
            }
        );
        // Cut inside the second length prefix.
        let err = MoldPacket::parse(&bytes[..26]).unwrap_err();
        assert_eq!(
            err,
            MoldError::Truncated {
                index: 1,
                offset: 25,
                needed: 2,
                available: 1
            }
        );
        assert_eq!(
            MoldPacket::parse(&bytes[..19]).unwrap_err(),
            MoldError::ShortHeader { len: 19 }
        );
    }

    #[test]
    fn trailing_bytes_and_overflow_rejected() {
        let mut bytes = packet(1, &[b"abc"]);
        bytes.push(0);
        assert_eq!(
            MoldPacket::parse(&bytes).unwrap_err(),
            MoldError::TrailingBytes {
                offset: 25,
                extra: 1
            }
        );
        let bytes = packet(u64::MAX, &[b"a", b"b"]);
        assert!(matches!(
            MoldPacket::parse(&bytes),
            Err(MoldError::SequenceOverflow { .. })
        ));
    }

    #[test]
    fn packet_view_is_small() {
        assert_eq!(std::mem::size_of::<MoldPacket<'_>>(), 40);
    }

    #[test]
    fn session_names() {
        assert!(MoldSession::from_name("ELEVENCHARS").is_none());
        assert_eq!(
            MoldSession::from_name("ABCDEFGHIJ").unwrap().as_bytes(),
            b"ABCDEFGHIJ"
        );
    }
}
