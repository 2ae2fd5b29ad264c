//! Capture files as the handler reads them: a `.kcap` or a pcap / pcapng, told apart by their
//! first bytes, replayed through a [`FeedHandler`].

use std::io::Read;
use std::path::{Path, PathBuf};

use super::capture::ReplayError;
use super::feed::{FeedHandler, HandlerConfig};
use super::sink::EventSink;
use crate::kcap::{KcapError, KcapReader};
use crate::pcap::{PcapCapture, PcapError};

/// Why a capture file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CaptureOpenError {
    /// The file could not be read.
    #[error("reading {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The first bytes are neither a kcap nor a pcap / pcapng header.
    #[error("{path}: not a kcap or pcap capture (first bytes {head:02x?})")]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// Its first (up to 8) bytes.
        head: Vec<u8>,
    },
    /// A kcap whose header is bad.
    #[error(transparent)]
    Kcap(#[from] KcapError),
    /// A pcap whose header is bad.
    #[error(transparent)]
    Pcap(#[from] PcapError),
}

/// An open capture of MoldUDP64 datagrams.
#[derive(Debug)]
pub enum CaptureFile {
    /// Kestrel's own format (memory-mapped).
    Kcap(KcapReader),
    /// pcap or pcapng of UDP traffic.
    Pcap(PcapCapture),
}

/// The first bytes of the capture formats.
const KCAP_MAGIC: &[u8] = b"KCAP";
const PCAP_MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

impl CaptureFile {
    /// Opens `path` as a kcap or a pcap / pcapng, by its first bytes.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureOpenError> {
        let path = path.as_ref();
        let io = |source| CaptureOpenError::Io {
            path: path.to_owned(),
            source,
        };
        let mut head = Vec::with_capacity(8);
        std::fs::File::open(path)
            .map_err(io)?
            .take(8)
            .read_to_end(&mut head)
            .map_err(io)?;
        if head.starts_with(KCAP_MAGIC) {
            Ok(Self::Kcap(KcapReader::open(path)?))
        } else if PCAP_MAGICS.iter().any(|m| head.starts_with(m)) {
            Ok(Self::Pcap(PcapCapture::open(path)?))
        } else {
            Err(CaptureOpenError::NotACapture {
                path: path.to_owned(),
                head,
            })
        }
    }

    /// A handler for this capture: a kcap's instruments preloaded (its payload kind must be
    /// MoldUDP64 / ITCH); a pcap's instruments learned from its `R` messages.
    pub fn handler(&self, config: HandlerConfig) -> Result<FeedHandler, ReplayError> {
        match self {
            Self::Kcap(reader) => FeedHandler::for_capture(config, reader.header()),
            Self::Pcap(_) => Ok(FeedHandler::new(config)),
        }
    }

    /// Replays the whole capture through `handler` into `sink` (and finishes).
    pub fn replay<S: EventSink + ?Sized>(&self, handler: &mut FeedHandler, sink: &mut S) {
        match self {
            Self::Kcap(reader) => handler.replay_kcap(reader, sink),
            Self::Pcap(capture) => handler.replay_pcap(capture, sink),
        }
    }
}
