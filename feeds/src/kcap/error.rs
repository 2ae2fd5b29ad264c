//! Errors reading and writing `.kcap` files. Every read error says where: the byte offset in the
//! file and, past the header, the index of the block (counting damaged stretches as blocks).

use std::path::PathBuf;

/// A `.kcap` error.
#[derive(Debug, thiserror::Error)]
pub enum KcapError {
    /// Opening, mapping or creating a file failed.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing failed.
    #[error("write failed: {0}")]
    Write(#[from] std::io::Error),
    /// The file is shorter than the fixed part of the header.
    #[error("not a kcap file: {len} bytes is shorter than the header")]
    HeaderTooShort {
        /// File length.
        len: usize,
    },
    /// The file does not start with the kcap magic.
    #[error("not a kcap file: bad magic {found:02x?}")]
    BadMagic {
        /// The first bytes found.
        found: [u8; 8],
    },
    /// A format version this reader does not know.
    #[error("unsupported kcap format version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// The header length field is impossible.
    #[error("header length {declared} is invalid (file has {available} bytes)")]
    HeaderLength {
        /// Declared header length.
        declared: u32,
        /// Bytes in the file.
        available: usize,
    },
    /// The header CRC does not match: the header is corrupt.
    #[error("header CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    HeaderCrc {
        /// CRC stored in the file.
        stored: u32,
        /// CRC of the bytes read.
        computed: u32,
    },
    /// The header's fields do not fit its declared length, or a string is not UTF-8.
    #[error("malformed header at byte {offset}: {what}")]
    HeaderMalformed {
        /// Byte offset of the bad field.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// No block magic where a block should start; the reader scans for the next block.
    #[error("block {block} at byte {offset}: bad block magic; skipped {skipped} bytes")]
    BlockMagic {
        /// Block index.
        block: u64,
        /// Byte offset.
        offset: usize,
        /// Bytes skipped to the next valid block header (or the end of file).
        skipped: usize,
    },
    /// The block header CRC does not match; the reader scans for the next block.
    #[error("block {block} at byte {offset}: block header CRC mismatch; skipped {skipped} bytes")]
    BlockHeaderCrc {
        /// Block index.
        block: u64,
        /// Byte offset.
        offset: usize,
        /// Bytes skipped to the next valid block header (or the end of file).
        skipped: usize,
    },
    /// The block body CRC does not match; the block's records are skipped.
    #[error(
        "block {block} at byte {offset}: body CRC mismatch (stored {stored:#010x}, computed \
         {computed:#010x}); {records} records skipped"
    )]
    BlockBodyCrc {
        /// Block index.
        block: u64,
        /// Byte offset of the block header.
        offset: usize,
        /// CRC stored in the block header.
        stored: u32,
        /// CRC of the body read.
        computed: u32,
        /// Records the block declared.
        records: u32,
    },
    /// A block's records do not match its declared length or count; the rest of the block is
    /// skipped.
    #[error("block {block}: record at byte {offset}: {what}")]
    BlockRecords {
        /// Block index.
        block: u64,
        /// Byte offset of the record.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The file ends inside a block; records before it were delivered.
    #[error("block {block} at byte {offset}: truncated, needs {needed} bytes, {available} left")]
    Truncated {
        /// Block index.
        block: u64,
        /// Byte offset of the block header.
        offset: usize,
        /// Bytes the block needs.
        needed: usize,
        /// Bytes left in the file.
        available: usize,
    },
    /// A value does not fit the format (venue or symbol too long, payload over 4 GiB, ...).
    #[error("cannot write: {what} is too large ({len})")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its length.
        len: usize,
    },
}

impl KcapError {
    /// Whether this error damaged one block (the reader continues after it), as opposed to a
    /// file-level error.
    pub const fn is_block_damage(&self) -> bool {
        matches!(
            self,
            Self::BlockMagic { .. }
                | Self::BlockHeaderCrc { .. }
                | Self::BlockBodyCrc { .. }
                | Self::BlockRecords { .. }
                | Self::Truncated { .. }
        )
    }
}
