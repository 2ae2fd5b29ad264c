//! Framing a whole ITCH file (typically memory-mapped) into messages.
//!
//! NASDAQ's binary ITCH files put a 2-byte big-endian length before every message. Some files
//! (the bundled `ex20101224.TEST_ITCH_50` among them) carry `0x0000` in every prefix; a zero
//! prefix therefore means "frame by the message type's fixed length". A non-zero prefix must
//! equal the type's length.
//!
//! Bad input never stops the stream: each problem is returned as an [`ItchError`] with the byte
//! offset of the frame, counted in [`FramerStats`], and the framer resynchronises: it skips by
//! the declared length when that lands on a plausible header, otherwise by the type's length
//! when that does, otherwise it scans forward byte by byte to the next plausible header
//! (well-formed frames in a row, or up to the exact end of the input). While the input is
//! type-framed (the last good prefix was zero), a non-zero prefix is treated as damage and
//! never followed.
//! Every access is a checked `get`; nothing reads out of bounds.

use super::error::ItchError;
use super::msg_type::LEN_TABLE;

/// Bytes of the length prefix before each message.
pub const PREFIX_LEN: usize = 2;

/// Nanoseconds in a day: a plausible header's timestamp is below this.
const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// Well-formed frames in a row that make a resynchronisation point plausible.
const PLAUSIBLE_CHAIN: usize = 3;

/// One framed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Byte offset of the frame (its length prefix) in the input.
    pub offset: usize,
    /// The message bytes, type byte first; exactly the type's fixed length.
    pub message: &'a [u8],
}

impl Frame<'_> {
    /// Byte offset of the message's type byte in the input.
    #[inline]
    pub fn message_offset(&self) -> usize {
        self.offset + PREFIX_LEN
    }
}

/// Counters kept by an [`ItchFramer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FramerStats {
    /// Frames returned.
    pub frames: u64,
    /// Errors returned (sum of the counters below).
    pub errors: u64,
    /// Frames with an unknown type byte.
    pub unknown_type: u64,
    /// Frames whose non-zero prefix disagreed with the type's length.
    pub prefix_mismatch: u64,
    /// Frames cut off by the end of the input.
    pub truncated: u64,
    /// Input bytes skipped while resynchronising.
    pub bytes_skipped: u64,
}

/// Iterator over the frames of a whole ITCH file; see the module docs.
#[derive(Clone, Debug)]
pub struct ItchFramer<'a> {
    data: &'a [u8],
    pos: usize,
    /// Whether the last good frame had a zero prefix (the input is framed by type).
    type_framed: bool,
    stats: FramerStats,
}

impl<'a> ItchFramer<'a> {
    /// A framer over `data`, starting at its first byte.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            type_framed: false,
            stats: FramerStats::default(),
        }
    }

    /// The counters so far.
    #[inline]
    pub fn stats(&self) -> FramerStats {
        self.stats
    }

    /// Offset of the next frame to read.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next message's bytes, skipping bad frames (each one counted in
    /// [`stats`](Self::stats) and resynchronised past, as the iterator does); `None` at the
    /// end of the input. For a reader that only counts framing errors: the message comes back
    /// as a plain slice, without the iterator's `Result` around it.
    #[inline]
    pub fn next_message(&mut self) -> Option<&'a [u8]> {
        loop {
            match self.next() {
                Some(Ok(frame)) => return Some(frame.message),
                Some(Err(_)) => {}
                None => return None,
            }
        }
    }

    /// The slow path: something is wrong at `pos`. Returns the error and moves past it.
    #[cold]
    #[inline(never)]
    fn recover(&mut self, pos: usize) -> ItchError {
        let rest = self.data.get(pos..).unwrap_or_default();
        let (error, resume) = match *rest {
            [p0, p1, msg_type, ..] => {
                let prefix = u16::from_be_bytes([p0, p1]);
                let declared = usize::from(prefix);
                let len = usize::from(LEN_TABLE[usize::from(msg_type)]);
                if len == 0 {
                    self.stats.unknown_type += 1;
                    let err = ItchError::UnknownType {
                        offset: pos,
                        msg_type,
                    };
                    // A length prefix is only worth following in a length-prefixed input.
                    let by_prefix =
                        (declared != 0 && !self.type_framed).then(|| pos + PREFIX_LEN + declared);
                    (err, self.resume_point(pos, by_prefix, None))
                } else if declared != 0 && declared != len {
                    self.stats.prefix_mismatch += 1;
                    let err = ItchError::PrefixMismatch {
                        offset: pos,
                        msg_type,
                        prefix,
                        expected: len,
                    };
                    let by_prefix = Some(pos + PREFIX_LEN + declared);
                    let by_type = Some(pos + PREFIX_LEN + len);
                    // In a type-framed input a non-zero prefix is itself the damage: follow the
                    // type's length only. In a length-prefixed input, the declared length first.
                    let resume = if self.type_framed {
                        self.resume_point(pos, by_type, None)
                    } else {
                        self.resume_point(pos, by_prefix, by_type)
                    };
                    (err, resume)
                } else {
                    self.stats.truncated += 1;
                    let err = ItchError::Truncated {
                        offset: pos,
                        needed: PREFIX_LEN + len,
                        available: rest.len(),
                    };
                    (err, self.resume_point(pos, None, None))
                }
            }
            _ => {
                self.stats.truncated += 1;
                let err = ItchError::Truncated {
                    offset: pos,
                    needed: PREFIX_LEN + 1,
                    available: rest.len(),
                };
                (err, self.data.len())
            }
        };
        self.stats.errors += 1;
        self.stats.bytes_skipped += (resume - pos) as u64;
        self.pos = resume;
        error
    }

    /// Where to carry on after a bad frame at `pos`: the first of the candidates that lands
    /// exactly on the end or on a plausible header, else the next plausible header after `pos`.
    fn resume_point(&self, pos: usize, first: Option<usize>, second: Option<usize>) -> usize {
        let end = self.data.len();
        for candidate in [first, second].into_iter().flatten() {
            if candidate == end || (candidate < end && self.plausible(candidate)) {
                return candidate;
            }
        }
        ((pos + 1)..end).find(|&p| self.plausible(p)).unwrap_or(end)
    }

    /// Whether [`PLAUSIBLE_CHAIN`] well-formed frames follow each other from `p`, or fewer
    /// that end exactly at the end of the input.
    fn plausible(&self, p: usize) -> bool {
        let mut at = p;
        for _ in 0..PLAUSIBLE_CHAIN {
            match self.frame_end(at) {
                Some(next) if next == self.data.len() => return true,
                Some(next) => at = next,
                None => return false,
            }
        }
        true
    }

    /// If a well-formed frame starts at `p` (known type, prefix zero or exact, fits in the
    /// input, timestamp within a day), the offset just past it.
    fn frame_end(&self, p: usize) -> Option<usize> {
        let &[p0, p1, msg_type, _, _, _, _, t0, t1, t2, t3, t4, t5] = self.data.get(p..p + 13)?
        else {
            return None;
        };
        let len = usize::from(LEN_TABLE[usize::from(msg_type)]);
        let declared = usize::from(u16::from_be_bytes([p0, p1]));
        let ts = u64::from_be_bytes([0, 0, t0, t1, t2, t3, t4, t5]);
        let end = p + PREFIX_LEN + len;
        let ok = len != 0 && (declared == 0 || declared == len) && ts < NANOS_PER_DAY;
        (ok && end <= self.data.len()).then_some(end)
    }
}

impl<'a> Iterator for ItchFramer<'a> {
    type Item = Result<Frame<'a>, ItchError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.pos;
        let rest = self.data.get(pos..)?;
        if let Some(&[p0, p1, msg_type]) = rest.first_chunk::<3>() {
            // One table load gives the length (0: unknown type); the prefix must be 0 or equal.
            let len = usize::from(LEN_TABLE[usize::from(msg_type)]);
            let declared = usize::from(u16::from_be_bytes([p0, p1]));
            let zero = declared == 0;
            if (zero | (declared == len)) & (len != 0)
                && let Some(message) = rest.get(PREFIX_LEN..PREFIX_LEN + len)
            {
                self.pos = pos + PREFIX_LEN + len;
                self.type_framed = zero;
                self.stats.frames += 1;
                return Some(Ok(Frame {
                    offset: pos,
                    message,
                }));
            }
        } else if rest.is_empty() {
            return None;
        }
        Some(Err(self.recover(pos)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(prefix: u16, msg_type: u8, len: usize) -> Vec<u8> {
        let mut v = prefix.to_be_bytes().to_vec();
        v.push(msg_type);
        v.resize(PREFIX_LEN + len, 0);
        v
    }

    #[test]
    fn frames_by_type_and_by_prefix() {
        let mut data = frame(0, b'D', 19);
        data.extend(frame(19, b'D', 19));
        data.extend(frame(0, b'S', 12));
        let frames: Vec<_> = ItchFramer::new(&data).collect::<Result<_, _>>().unwrap();
        let offsets: Vec<_> = frames.iter().map(|f| f.offset).collect();
        assert_eq!(offsets, [0, 21, 42]);
        assert_eq!(frames[2].message.len(), 12);
        assert_eq!(frames[2].message_offset(), 44);
    }

    #[test]
    fn prefix_mismatch_skips_by_declared_length() {
        let mut data = frame(0, b'D', 19);
        let bad = frame(30, b'D', 30);
        data.extend(bad);
        data.extend(frame(0, b'S', 12));
        let mut framer = ItchFramer::new(&data);
        let out: Vec<_> = framer.by_ref().collect();
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[1],
            Err(ItchError::PrefixMismatch {
                offset: 21,
                msg_type: b'D',
                prefix: 30,
                expected: 19
            })
        );
        assert_eq!(out[2].unwrap().offset, 53);
        let stats = framer.stats();
        assert_eq!(
            (stats.frames, stats.errors, stats.prefix_mismatch),
            (2, 1, 1)
        );
        assert_eq!(stats.bytes_skipped, 32);
    }

    #[test]
    fn unknown_type_in_type_framed_input_scans_to_next_header() {
        let mut data = frame(0, b'D', 19);
        data.extend([0xFF, 0xEE, 0xDD, 0xCC, 0xBB]);
        data.extend(frame(0, b'D', 19));
        data.extend(frame(0, b'S', 12));
        let out: Vec<_> = ItchFramer::new(&data).collect();
        assert_eq!(out.len(), 4);
        assert!(matches!(
            out[1],
            Err(ItchError::UnknownType {
                offset: 21,
                msg_type: 0xDD
            })
        ));
        assert_eq!(out[2].unwrap().offset, 26);
        assert_eq!(out[3].unwrap().offset, 47);
    }

    #[test]
    fn truncated_tail_is_reported_once() {
        let mut data = frame(0, b'D', 19);
        data.extend(&frame(0, b'A', 36)[..20]);
        let out: Vec<_> = ItchFramer::new(&data).collect();
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1],
            Err(ItchError::Truncated {
                offset: 21,
                needed: 38,
                available: 20
            })
        );
        let tiny: Vec<_> = ItchFramer::new(&[0, 0]).collect();
        assert_eq!(
            tiny,
            [Err(ItchError::Truncated {
                offset: 0,
                needed: 3,
                available: 2
            })]
        );
        assert_eq!(ItchFramer::new(&[]).next(), None);
    }
}
