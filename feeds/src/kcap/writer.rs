//! Buffered `.kcap` writer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::error::KcapError;
use super::format::{BLOCK_HEADER_LEN, BlockHeader, KcapHeader};
use super::record::{Record, encode_into};

/// Target body size of a block.
pub const DEFAULT_BLOCK_BYTES: usize = 64 * 1024;
/// Largest block target accepted (bigger requests are lowered to it).
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;

/// Writes a header, then records grouped into checksummed blocks of about
/// [`DEFAULT_BLOCK_BYTES`] (a record larger than that gets a block of its own).
/// Call [`KcapWriter::finish`] to write the last block and see any error; a writer dropped
/// without it still writes its open block, ignoring errors.
#[derive(Debug)]
pub struct KcapWriter<W: Write> {
    /// `None` only after `finish` took it.
    out: Option<W>,
    body: Vec<u8>,
    block_records: u32,
    block_first_seq: u64,
    block_bytes: usize,
    blocks: u64,
    records: u64,
    bytes: u64,
}

impl KcapWriter<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: impl AsRef<Path>, header: &KcapHeader) -> Result<Self, KcapError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|source| KcapError::File {
            path: path.to_owned(),
            source,
        })?;
        Self::new(BufWriter::with_capacity(256 * 1024, file), header)
    }
}

impl<W: Write> KcapWriter<W> {
    /// Writes the header to `out`; blocks of [`DEFAULT_BLOCK_BYTES`].
    pub fn new(out: W, header: &KcapHeader) -> Result<Self, KcapError> {
        Self::with_block_bytes(out, header, DEFAULT_BLOCK_BYTES)
    }

    /// Writes the header to `out`; blocks close once their body reaches about `block_bytes`
    /// (clamped to 1 ..= [`MAX_BLOCK_BYTES`]).
    pub fn with_block_bytes(
        mut out: W,
        header: &KcapHeader,
        block_bytes: usize,
    ) -> Result<Self, KcapError> {
        let head = header.encode()?;
        out.write_all(&head)?;
        let block_bytes = block_bytes.clamp(1, MAX_BLOCK_BYTES);
        Ok(Self {
            out: Some(out),
            body: Vec::with_capacity(block_bytes.saturating_add(4096)),
            block_records: 0,
            block_first_seq: 0,
            block_bytes,
            blocks: 0,
            records: 0,
            bytes: head.len() as u64,
        })
    }

    /// Appends a record.
    pub fn write_record(&mut self, record: &Record<'_>) -> Result<(), KcapError> {
        let len = record.encoded_len();
        let payload_len = u32::try_from(record.payload.len())
            .ok()
            .filter(|_| u32::try_from(len).is_ok())
            .ok_or(KcapError::TooLarge {
                what: "record payload",
                len: record.payload.len(),
            })?;
        let body_full = self.body.len().saturating_add(len) > self.block_bytes
            || u32::try_from(self.body.len().saturating_add(len)).is_err()
            || self.block_records == u32::MAX;
        if self.block_records > 0 && body_full {
            self.flush_block()?;
        }
        if self.block_records == 0 {
            self.block_first_seq = record.seq;
        }
        encode_into(record, payload_len, &mut self.body);
        self.block_records += 1;
        self.records += 1;
        if self.body.len() >= self.block_bytes {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Records written so far.
    pub const fn records(&self) -> u64 {
        self.records
    }

    /// Blocks completed so far.
    pub const fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Writes the open block, flushes, and returns the inner writer.
    pub fn finish(mut self) -> Result<W, KcapError> {
        self.flush_block()?;
        let mut out = self.out.take().ok_or_else(|| {
            KcapError::Write(std::io::Error::other("kcap writer already finished"))
        })?;
        out.flush()?;
        Ok(out)
    }

    /// Bytes written to the inner writer so far (header and completed blocks).
    pub const fn bytes_written(&self) -> u64 {
        self.bytes
    }

    fn flush_block(&mut self) -> Result<(), KcapError> {
        if self.block_records == 0 {
            return Ok(());
        }
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        let body_len = u32::try_from(self.body.len()).map_err(|_| KcapError::TooLarge {
            what: "block body",
            len: self.body.len(),
        })?;
        let header = BlockHeader {
            records: self.block_records,
            body_len,
            body_crc: crc32fast::hash(&self.body),
            first_seq: self.block_first_seq,
        };
        out.write_all(&header.encode())?;
        out.write_all(&self.body)?;
        self.bytes += (BLOCK_HEADER_LEN + self.body.len()) as u64;
        self.blocks += 1;
        self.body.clear();
        self.block_records = 0;
        Ok(())
    }
}

impl<W: Write> Drop for KcapWriter<W> {
    /// Best effort for writers not finished (early return, panic): the open block is written so
    /// its records are not lost.
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = self.flush_block();
            if let Some(out) = self.out.as_mut() {
                let _ = out.flush();
            }
        }
    }
}
