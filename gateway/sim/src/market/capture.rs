//! Loading a capture of any supported format as a kcap.

use std::path::{Path, PathBuf};

use kestrel_core::{InstrumentTable, Timestamp};
use kestrel_feeds::handler::{header_instruments, write_itch_capture};
use kestrel_feeds::kcap::{KcapError, KcapReader, PayloadKind};
use kestrel_feeds::lobster::{
    parse_messages, parse_orderbook, plan_import, read_lobster_text, write_lobster_capture,
};

/// Why a capture could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The kcap is damaged or of another payload kind.
    #[error("{path}: {reason}")]
    Kcap {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A LOBSTER pair that does not import.
    #[error("{path}: LOBSTER import: {reason}")]
    Lobster {
        /// The message file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Not a capture of any supported format.
    #[error("{path}: not a .kcap, a LOBSTER message file or an ITCH 5.0 file ({reason})")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What was tried.
        reason: String,
    },
}

/// A capture ready to replay: its kcap and its instruments (dense ids as in the kcap header).
#[derive(Debug)]
pub struct MarketCapture {
    /// The capture (mapped file or in-memory import).
    pub reader: KcapReader,
    /// Its instruments.
    pub instruments: InstrumentTable,
    /// Where it came from and how it was read.
    pub source: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaptureError + '_ {
    move |source| CaptureError::Io {
        path: path.to_owned(),
        source,
    }
}

fn kcap_err(path: &Path, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Kcap {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn from_kcap(
    path: &Path,
    reader: KcapReader,
    source: String,
) -> Result<MarketCapture, CaptureError> {
    if reader.header().payload_kind != PayloadKind::MoldUdp64Itch50 {
        return Err(kcap_err(
            path,
            format!(
                "payload {} is not MoldUDP64 / ITCH 5.0",
                reader.header().payload_kind
            ),
        ));
    }
    let instruments = header_instruments(reader.header()).map_err(|e| kcap_err(path, e))?;
    Ok(MarketCapture {
        reader,
        instruments,
        source,
    })
}

/// The LOBSTER order-book file that goes with a message file (`..._message_N.csv` ->
/// `..._orderbook_N.csv`, `.csv.gz` -> `.csv.gz`).
pub fn lobster_orderbook_path(messages: &Path) -> Option<PathBuf> {
    let name = messages.file_name()?.to_str()?;
    name.contains("_message_")
        .then(|| messages.with_file_name(name.replacen("_message_", "_orderbook_", 1)))
}

/// The symbol of a LOBSTER file name (`AAPL_2012-06-21_...`).
fn lobster_symbol(messages: &Path) -> String {
    messages
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('_').next())
        .filter(|s| !s.is_empty() && s.len() <= 8)
        .unwrap_or("LOBSTER")
        .to_owned()
}

/// Opens `path`: a `.kcap` (by its magic), a LOBSTER message CSV (`*_message_*.csv`, with its
/// order-book file beside it; either may be gzip, e.g. `*_message_10.csv.gz`), or a raw ITCH
/// 5.0 file.
pub fn open_capture(path: &Path) -> Result<MarketCapture, CaptureError> {
    let head = {
        use std::io::Read;
        let mut head = Vec::with_capacity(4);
        std::fs::File::open(path)
            .map_err(io(path))?
            .take(4)
            .read_to_end(&mut head)
            .map_err(io(path))?;
        head
    };
    if head.starts_with(b"KCAP") {
        let reader = KcapReader::open(path).map_err(|e: KcapError| kcap_err(path, e))?;
        return from_kcap(path, reader, format!("kcap {}", path.display()));
    }
    if let Some(book) = lobster_orderbook_path(path) {
        // Plain CSV or gzip (LOBSTER's full-day samples are `.csv.gz`), by magic bytes.
        let messages = read_lobster_text(path).map_err(io(path))?;
        let orderbook = read_lobster_text(&book).map_err(io(&book))?;
        let plan = plan_import(parse_messages(&messages), parse_orderbook(&orderbook));
        if plan.events.is_empty() || plan.depth == 0 {
            return Err(CaptureError::Lobster {
                path: path.to_owned(),
                reason: "no message rows or no well-formed book rows".into(),
            });
        }
        let symbol = lobster_symbol(path);
        let bytes =
            write_lobster_capture(&plan, &symbol, Timestamp::ZERO, Vec::new()).map_err(|e| {
                CaptureError::Lobster {
                    path: path.to_owned(),
                    reason: e.to_string(),
                }
            })?;
        let reader = KcapReader::from_vec(bytes).map_err(|e| kcap_err(path, e))?;
        return from_kcap(
            path,
            reader,
            format!("LOBSTER {} ({symbol})", path.display()),
        );
    }
    let data = std::fs::read(path).map_err(io(path))?;
    match write_itch_capture(&data, Timestamp::ZERO, Vec::new()) {
        Ok((bytes, report)) if report.messages > 0 => {
            let reader = KcapReader::from_vec(bytes).map_err(|e| kcap_err(path, e))?;
            from_kcap(path, reader, format!("ITCH {}", path.display()))
        }
        Ok((_, report)) => Err(CaptureError::Unsupported {
            path: path.to_owned(),
            reason: format!(
                "no ITCH message framed, {} framing errors",
                report.framing_errors
            ),
        }),
        Err(e) => Err(CaptureError::Unsupported {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lobster_names() {
        let p = Path::new("/d/AAPL_2012-06-21_34200000_57600000_message_10.csv");
        assert_eq!(
            lobster_orderbook_path(p).unwrap(),
            Path::new("/d/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv")
        );
        assert_eq!(lobster_symbol(p), "AAPL");
        assert!(lobster_orderbook_path(Path::new("x.kcap")).is_none());
        assert_eq!(
            lobster_orderbook_path(Path::new("/d/GOOG_x_message_10.csv.gz")).unwrap(),
            Path::new("/d/GOOG_x_orderbook_10.csv.gz")
        );
    }

    /// `bytes` as a gzip member made of stored (uncompressed) deflate blocks (RFC 1951 3.2.4,
    /// RFC 1952): enough to prove the reader inflates what it is given.
    fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        let chunks: Vec<&[u8]> = bytes.chunks(65_535).collect();
        for (i, c) in chunks.iter().enumerate() {
            out.push(u8::from(i + 1 == chunks.len()));
            let len = c.len() as u16;
            out.extend(len.to_le_bytes());
            out.extend((!len).to_le_bytes());
            out.extend_from_slice(c);
        }
        out.extend(crc32fast::hash(bytes).to_le_bytes());
        out.extend((bytes.len() as u32).to_le_bytes());
        out
    }

    #[test]
    fn a_gzip_lobster_pair_opens_as_the_plain_one() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/lobster");
        let name = "AAPL_2012-06-21_34200000_57600000_message_10.csv";
        let plain = open_capture(&data.join(name)).unwrap();
        let dir = std::env::temp_dir().join(format!("ksim-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let book = name.replacen("_message_", "_orderbook_", 1);
        for n in [name, book.as_str()] {
            let raw = std::fs::read(data.join(n)).unwrap();
            std::fs::write(dir.join(format!("{n}.gz")), gzip_stored(&raw)).unwrap();
        }
        let gz = open_capture(&dir.join(format!("{name}.gz"))).unwrap();
        assert_eq!(gz.instruments.len(), plain.instruments.len());
        assert_eq!(gz.reader.bytes(), plain.reader.bytes(), "the same capture");
        std::fs::remove_dir_all(&dir).ok();
    }
}
