//! `.kcap`: Kestrel's capture file. Little-endian throughout.
//!
//! ```text
//! file   = header block*
//! header = magic "KCAP\r\n\x1a\n", u16 version, u16 payload kind, u32 header length,
//!          u64 created (ns since epoch), u16 venue length + venue (UTF-8),
//!          u32 instrument count + instruments, u32 CRC32 of every header byte before it
//! instrument = u32 id, i64 tick size raw, i64 lot size raw, u8 price decimals,
//!              u8 symbol length + symbol (UTF-8)
//! block  = 32-byte block header, body
//! block header = "KBLK", u32 record count, u32 body length, u32 CRC32 of the body,
//!                u64 sequence of the first record, u32 reserved (0),
//!                u32 CRC32 of the 28 block-header bytes before it
//! record = u64 receive time ns, u64 sequence, u16 channel, u32 payload length, payload
//! ```
//!
//! The block header carries its own CRC so a reader can trust a block's length (and skip a
//! block whose body is damaged) or, when the header itself is damaged, scan for the next block.
//!
//! - [`format`](mod@format): the header and block header layouts.
//! - [`record`]: the record type shared with the pcap reader.
//! - [`writer`]: [`KcapWriter`], buffered, blocks of about 64 KiB.
//! - [`reader`]: [`KcapReader`], memory-mapped, zero-copy, damage-tolerant.
//! - [`info`]: [`capture_info`] for `kestrel capture info`.

pub mod error;
pub mod format;
pub mod info;
pub(crate) mod mapped;
pub mod reader;
pub mod record;
pub mod writer;

pub use error::KcapError;
pub use format::{FORMAT_VERSION, KcapHeader, KcapInstrument, PayloadKind};
pub use info::{CaptureInfo, capture_info};
pub use reader::{DEFAULT_RELEASE_BEHIND, KcapReader, ReadStats, Records};
pub use record::Record;
pub use writer::{DEFAULT_BLOCK_BYTES, KcapWriter, MAX_BLOCK_BYTES};
