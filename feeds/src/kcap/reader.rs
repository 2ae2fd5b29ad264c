//! Memory-mapped, zero-copy, damage-tolerant `.kcap` reader.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use super::error::KcapError;
use super::format::{BLOCK_HEADER_LEN, BLOCK_MAGIC, BlockHeader, BlockHeaderFault, KcapHeader};
use super::mapped::map_read_only;
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
        })
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
    /// continues after it; a truncated tail yields one error and ends.
    pub fn records(&self) -> Records<'_> {
        Records {
            data: self.bytes(),
            pos: self.header_len,
            block_index: 0,
            current: None,
            done: false,
            stats: ReadStats::default(),
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
            if let Err(e) = self.open_block() {
                return Some(Err(e));
            }
        }
    }
}
