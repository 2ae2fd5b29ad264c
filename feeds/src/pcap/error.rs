//! Errors reading pcap / pcapng captures. Frame errors carry the frame index (0-based, packets
//! only) and the byte offset of the frame's record in the file.

use std::path::PathBuf;

use super::frame::FrameError;
use crate::kcap::KcapError;

/// A pcap input error.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// Reading the file failed.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng file: starts with {magic:02x?}")]
    UnknownFormat {
        /// The first bytes (fewer when the file is shorter).
        magic: Vec<u8>,
    },
    /// The file header (pcap global header, pcapng section header) is invalid.
    #[error("bad capture header: {0}")]
    Header(#[source] pcap_file::PcapError),
    /// A packet record or block cannot be framed (truncated tail, bad length); reading stops.
    #[error("frame {frame} at byte {offset}: {source}; reading stops")]
    Container {
        /// Index of the frame that could not be read.
        frame: u64,
        /// Byte offset in the file.
        offset: usize,
        /// The cause.
        source: pcap_file::PcapError,
    },
    /// A pcapng packet block's contents are inconsistent; the block is skipped.
    #[error("frame {frame} at byte {offset}: {what}")]
    BadBlock {
        /// Frame index.
        frame: u64,
        /// Byte offset of the block in the file.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A frame cannot be decoded down to UDP; it is skipped.
    #[error("frame {frame} at byte {offset}: {source}")]
    Frame {
        /// Frame index.
        frame: u64,
        /// Byte offset of the frame's record in the file.
        offset: usize,
        /// What is wrong.
        source: FrameError,
    },
    /// Writing the converted capture failed.
    #[error(transparent)]
    Kcap(#[from] KcapError),
}
