//! Packet boundaries in a TCP byte stream, and the fixed receive buffer a session reads into.

use super::MAX_PACKET;
use super::error::SoupError;
use std::io::{self, Read};

/// The first whole packet at the start of `buf` (length field included), or `None` when `buf`
/// ends inside it (read more). A zero length field is an error: the stream cannot be resynced.
#[inline]
pub fn next_packet(buf: &[u8]) -> Result<Option<&[u8]>, SoupError> {
    let [hi, lo, ..] = *buf else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len == 0 {
        return Err(SoupError::ZeroLength { offset: 0 });
    }
    Ok(buf.get(..2 + len))
}

/// A fixed-capacity receive buffer: reads append at the tail, [`RecvBuffer::next_packet`] takes
/// whole packets from the head, and the unread tail moves to the front only when a read needs
/// the room. Allocated once; never grows.
#[derive(Debug)]
pub struct RecvBuffer {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Bytes consumed since the buffer was created or cleared (the stream offset of `start`).
    consumed: u64,
}

impl RecvBuffer {
    /// A buffer of `capacity` bytes (at least one maximum-size packet).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![0u8; capacity.max(MAX_PACKET)].into_boxed_slice(),
            start: 0,
            end: 0,
            consumed: 0,
        }
    }

    /// Forgets everything buffered (a new connection).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.consumed = 0;
    }

    /// Bytes buffered and not yet taken.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Stream offset of the next unread byte (for error positions).
    pub fn stream_offset(&self) -> u64 {
        self.consumed
    }

    /// One `read` call into the free tail (moving the unread bytes to the front first when the
    /// tail is shorter than a maximum packet). Returns what `read` returned: `Ok(0)` is end of
    /// stream, `WouldBlock` means nothing to read now.
    pub fn read_from<R: Read>(&mut self, reader: &mut R) -> io::Result<usize> {
        if self.buf.len() - self.end < MAX_PACKET {
            self.compact();
        }
        let n = reader.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Appends bytes (tests and in-process venues). Returns how many fitted.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> usize {
        if self.buf.len() - self.end < bytes.len() {
            self.compact();
        }
        let n = bytes.len().min(self.buf.len() - self.end);
        self.buf[self.end..self.end + n].copy_from_slice(&bytes[..n]);
        self.end += n;
        n
    }

    /// Takes the next whole packet (length field included), or `None` if it has not all
    /// arrived. An error carries the stream offset of the bad packet; the stream cannot be
    /// read past it.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Option<&[u8]>, SoupError> {
        let pending = &self.buf[self.start..self.end];
        match next_packet(pending) {
            Ok(Some(p)) => {
                let (from, len) = (self.start, p.len());
                self.start += len;
                self.consumed += len as u64;
                if self.start == self.end {
                    self.start = 0;
                    self.end = 0;
                }
                Ok(Some(&self.buf[from..from + len]))
            }
            Ok(None) => Ok(None),
            Err(SoupError::ZeroLength { .. }) => Err(SoupError::ZeroLength {
                offset: usize::try_from(self.consumed).unwrap_or(usize::MAX),
            }),
            Err(e) => Err(e),
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }
}
