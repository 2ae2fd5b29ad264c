//! Memory-mapped, zero-copy, damage-tolerant `.kcap` reader.
//!
//! A replay reads a capture once, front to back. So that a capture larger than memory (a
//! full-market day is gigabytes) replays in bounded memory, [`Records`] over a mapped file
//! releases what it has read: every [`DEFAULT_RELEASE_BEHIND`] bytes it drops the pages behind
//! the block it is about to open from the process (`MADV_DONTNEED`; see
//! `mapped::release`), so the capture's share of the resident set stays near that window
//! whatever the file size. Records already handed out stay valid: their bytes fault back in
//! from the page cache if read again.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use super::error::KcapError;
use super::format::{BLOCK_HEADER_LEN, BLOCK_MAGIC, BlockHeader, BlockHeaderFault, KcapHeader};
use super::mapped::{RELEASE_ALIGN, map_read_only, release};

/// How far a mapped capture's reader runs ahead of the last release: 8 MiB.
pub const DEFAULT_RELEASE_BEHIND: usize = 8 << 20;
use super::record::{Record, RecordFault, decode_at};

#[derive(Debug)]
enum Backing {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

/// An open capture: the validated header and the file's bytes (mapped or owned).
#[derive(Debug)]
pub struct KcapReader {
    data: Backing,
    header: KcapHeader,
    header_len: usize,
    release_behind: usize,
}

impl KcapReader {
    /// Opens and maps `path`, validating the header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, KcapError> {
        let path = path.as_ref();
        let file_err = |source| KcapError::File {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(file_err)?;
        let len = file.metadata().map_err(file_err)?.len();
        if len == 0 {
            return Err(KcapError::HeaderTooShort { len: 0 });
        }
        let map = map_read_only(&file).map_err(file_err)?;
        Self::with_backing(Backing::Mapped(map))
    }

    /// Reads a capture from memory (copies `bytes`; for tests and small inputs).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KcapError> {
        Self::from_vec(bytes.to_vec())
    }

    /// Reads a capture from an owned buffer.
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self, KcapError> {
        Self::with_backing(Backing::Owned(bytes))
    }

    fn with_backing(data: Backing) -> Result<Self, KcapError> {
        let (header, header_len) = KcapHeader::decode(backing_bytes(&data))?;
        Ok(Self {
            data,
            header,
            header_len,
            release_behind: DEFAULT_RELEASE_BEHIND,
        })
    }

    /// Sets how many bytes a mapped capture's [`Records`] read between two releases of what
    /// lies behind them (rounded up to 64 KiB); 0 never releases (the whole file stays
    /// resident once read). Owned buffers are never released.
    pub fn with_release_behind(mut self, bytes: usize) -> Self {
        self.release_behind = if bytes == 0 {
            0
        } else {
            bytes.div_ceil(RELEASE_ALIGN) * RELEASE_ALIGN
        };
        self
    }

    /// The file header.
    pub const fn header(&self) -> &KcapHeader {
        &self.header
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        backing_bytes(&self.data)
    }

    /// Iterates the records in file order. A damaged block yields one error and iteration
    /// continues after it; a truncated tail yields one error and ends. Over a mapped file the
    /// iterator releases the pages behind it as it goes (see the module docs).
    pub fn records(&self) -> Records<'_> {
        let release = match &self.data {
            Backing::Mapped(map) if self.release_behind > 0 => Some(Release {
                map,
                every: self.release_behind,
                released: 0,
            }),
            _ => None,
        };
        Records {
            data: self.bytes(),
            pos: self.header_len,
            block_index: 0,
            current: None,
            done: false,
            stats: ReadStats::default(),
            release,
        }
    }
}

fn backing_bytes(data: &Backing) -> &[u8] {
    match data {
        Backing::Mapped(m) => m,
        Backing::Owned(v) => v,
    }
}

/// Counters of one pass over the records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Blocks whose header and body checked out.
    pub blocks: u64,
    /// Damaged blocks and stretches (each reported once as an error).
    pub damaged_blocks: u64,
    /// Records delivered.
    pub records: u64,
    /// Bytes not delivered as records because of damage (skipped or truncated).
    pub skipped_bytes: u64,
    /// Whether the file ended inside a block.
    pub truncated: bool,
    /// Bytes of a mapped file released behind the reader (dropped from the resident set).
    pub released_bytes: u64,
}

/// The pages of a mapped capture a [`Records`] has released so far.
#[derive(Debug)]
struct Release<'a> {
    map: &'a Mmap,
    /// Release once this many bytes lie between `released` and the next block.
    every: usize,
    /// Bytes `0..released` have been released.
    released: usize,
}

impl Release<'_> {
    /// Releases whole 64 KiB stretches before `pos` once `every` bytes have accumulated.
    #[inline]
    fn behind(&mut self, pos: usize, stats: &mut ReadStats) {
        if pos < self.released.saturating_add(self.every) {
            return;
        }
        let upto = pos / RELEASE_ALIGN * RELEASE_ALIGN;
        let len = upto - self.released;
        // A refused advice only leaves the pages resident: reading is unaffected.
        if release(self.map, self.released, len).is_ok() {
            stats.released_bytes += len as u64;
        }
        self.released = upto;
    }
}

#[derive(Debug)]
struct BlockCursor<'a> {
    index: u64,
    body: &'a [u8],
    body_offset: usize,
    at: usize,
    left: u32,
}

/// Iterator over a capture's records; see [`KcapReader::records`].
#[derive(Debug)]
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    block_index: u64,
    current: Option<BlockCursor<'a>>,
    done: bool,
    stats: ReadStats,
    release: Option<Release<'a>>,
}

impl<'a> Records<'a> {
    /// Counters so far.
    pub const fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Index of the next valid block header at or after `from` (magic and header CRC good).
    fn scan_for_block(&self, from: usize) -> Option<usize> {
        let mut at = from;
        while let Some(rest) = self.data.get(at..) {
            let hit = rest
                .windows(BLOCK_MAGIC.len())
                .position(|w| w == BLOCK_MAGIC)?;
            let cand = at + hit;
            if BlockHeader::decode(self.data, cand).is_ok() {
                return Some(cand);
            }
            at = cand + 1;
        }
        None
    }

    fn damaged(&mut self, skipped: usize) {
        self.stats.damaged_blocks += 1;
        self.stats.skipped_bytes += skipped as u64;
        self.block_index += 1;
    }

    /// Opens the block at `pos`: on success, sets the cursor; on damage, moves past it and
    /// returns the error.
    fn open_block(&mut self) -> Result<(), KcapError> {
        let offset = self.pos;
        let block = self.block_index;
        let available = self.data.len().saturating_sub(offset);
        match BlockHeader::decode(self.data, offset) {
            Err(BlockHeaderFault::Short) => {
                self.done = true;
                self.stats.truncated = true;
                self.damaged(available);
                Err(KcapError::Truncated {
                    block,
                    offset,
                    needed: BLOCK_HEADER_LEN,
                    available,
                })
            }
            Err(fault @ (BlockHeaderFault::Magic | BlockHeaderFault::Crc)) => {
                let next = self.scan_for_block(offset + 1).unwrap_or(self.data.len());
                let skipped = next - offset;
                self.pos = next;
                self.damaged(skipped);
                Err(if fault == BlockHeaderFault::Magic {
                    KcapError::BlockMagic {
                        block,
                        offset,
                        skipped,
                    }
                } else {
                    KcapError::BlockHeaderCrc {
                        block,
                        offset,
                        skipped,
                    }
                })
            }
            Ok(head) => {
                let body_offset = offset + BLOCK_HEADER_LEN;
                let needed = BLOCK_HEADER_LEN.saturating_add(head.body_len as usize);
                let Some(body) = self
                    .data
                    .get(body_offset..body_offset.saturating_add(head.body_len as usize))
                else {
                    self.done = true;
                    self.stats.truncated = true;
                    self.damaged(available);
                    return Err(KcapError::Truncated {
                        block,
                        offset,
                        needed,
                        available,
                    });
                };
                self.pos = body_offset + body.len();
                let computed = crc32fast::hash(body);
                if computed != head.body_crc {
                    self.damaged(needed);
                    return Err(KcapError::BlockBodyCrc {
                        block,
                        offset,
                        stored: head.body_crc,
                        computed,
                        records: head.records,
                    });
                }
                self.stats.blocks += 1;
                self.block_index += 1;
                self.current = Some(BlockCursor {
                    index: block,
                    body,
                    body_offset,
                    at: 0,
                    left: head.records,
                });
                Ok(())
            }
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, KcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(cur) = &mut self.current {
                let offset = cur.body_offset + cur.at;
                let block = cur.index;
                if cur.left == 0 {
                    let extra = cur.body.len() - cur.at.min(cur.body.len());
                    self.current = None;
                    if extra > 0 {
                        self.stats.skipped_bytes += extra as u64;
                        return Some(Err(KcapError::BlockRecords {
                            block,
                            offset,
                            what: "bytes left after the declared record count",
                        }));
                    }
                    continue;
                }
                match decode_at(cur.body, cur.at) {
                    Ok((record, next)) => {
                        cur.at = next;
                        cur.left -= 1;
                        self.stats.records += 1;
                        return Some(Ok(record));
                    }
                    Err(fault) => {
                        let rest = cur.body.len().saturating_sub(cur.at);
                        self.current = None;
                        self.stats.skipped_bytes += rest as u64;
                        return Some(Err(KcapError::BlockRecords {
                            block,
                            offset,
                            what: match fault {
                                RecordFault::ShortHeader => {
                                    "body ends before the declared record count"
                                }
                                RecordFault::ShortPayload => "record payload runs past the body",
                            },
                        }));
                    }
                }
            }
            if self.done || self.pos >= self.data.len() {
                return None;
            }
            // Every record before this block has been handed out: release what lies behind.
            if let Some(r) = &mut self.release {
                r.behind(self.pos, &mut self.stats);
            }
            if let Err(e) = self.open_block() {
                return Some(Err(e));
            }
        }
    }
}
