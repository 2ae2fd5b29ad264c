//! Reading a journal back: every record with its offset, a torn tail (the last record cut
//! short by a crash) told apart from corruption (a bad record with good ones after it).

use super::JournalError;
use super::codec::{self, HEADER_LEN, MAX_RECORD, RecordError};
use super::entry::Entry;
use std::path::Path;

/// A record that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// Byte offset of the record's length field.
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
}

/// A whole journal read back.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// Every good record: (offset, entry).
    pub entries: Vec<(u64, Entry)>,
    /// Offset just past the last good record before a torn tail (the file's length if none).
    pub good_end: u64,
    /// The torn tail, if the file ends inside or on a bad last record.
    pub torn_tail: Option<BadRecord>,
    /// Bad records followed by good ones: corruption.
    pub corrupt: Vec<BadRecord>,
    /// File length.
    pub len: u64,
}

impl Scan {
    /// Whether the journal verifies: no corruption (a torn tail is allowed: it is what a crash
    /// leaves, and it is cut on restart).
    pub fn verifies(&self) -> bool {
        self.corrupt.is_empty()
    }
}

/// Checks the record at `pos`: `Ok(Some((end, entry)))`, `Ok(None)` if the file ends inside
/// it, `Err(reason)` if it is bad.
fn record_at(bytes: &[u8], pos: usize) -> Result<Option<(usize, Entry)>, String> {
    let rest = &bytes[pos..];
    let Some(len_bytes) = rest.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
    if len == 0 || len + 8 > MAX_RECORD {
        return Err(format!("record length {len} out of range"));
    }
    let Some(rec) = rest.get(..4 + len + 4) else {
        return Ok(None);
    };
    let stored = u32::from_le_bytes([rec[4 + len], rec[5 + len], rec[6 + len], rec[7 + len]]);
    let crc = crc32fast::hash(&rec[..4 + len]);
    if crc != stored {
        return Err(format!(
            "CRC mismatch (stored {stored:#010x}, computed {crc:#010x})"
        ));
    }
    codec::decode(&rec[4..4 + len])
        .map(|e| Some((pos + 4 + len + 4, e)))
        .map_err(|e: RecordError| e.to_string())
}

/// The next offset after `from` where a whole good record starts (a resync point).
fn resync(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|p| matches!(record_at(bytes, *p), Ok(Some(_))))
}

/// Reads a journal image.
pub fn scan_bytes(bytes: &[u8]) -> Result<Scan, JournalError> {
    if bytes.len() < HEADER_LEN || bytes[..4] != codec::MAGIC {
        return Err(JournalError::BadHeader(Default::default()));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != codec::VERSION {
        return Err(JournalError::Version(version));
    }
    let mut scan = Scan {
        len: bytes.len() as u64,
        ..Scan::default()
    };
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let bad = match record_at(bytes, pos) {
            Ok(Some((end, entry))) => {
                scan.entries.push((pos as u64, entry));
                pos = end;
                continue;
            }
            Ok(None) => "the file ends inside the record".to_owned(),
            Err(reason) => reason,
        };
        let record = BadRecord {
            offset: pos as u64,
            reason: bad,
        };
        match resync(bytes, pos + 1) {
            Some(next) => {
                scan.corrupt.push(record);
                pos = next;
            }
            None => {
                scan.torn_tail = Some(record);
                break;
            }
        }
    }
    scan.good_end = scan
        .torn_tail
        .as_ref()
        .map_or(bytes.len() as u64, |t| t.offset);
    Ok(scan)
}

/// Reads a journal file.
pub fn scan_file(path: &Path) -> Result<Scan, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    scan_bytes(&bytes).map_err(|e| match e {
        JournalError::BadHeader(_) => JournalError::BadHeader(path.to_path_buf()),
        other => other,
    })
}

/// Cuts a torn tail off the file (truncates it to the end of the last good record). Returns
/// the bytes removed.
pub fn cut_torn_tail(path: &Path, scan: &Scan) -> Result<u64, JournalError> {
    if scan.torn_tail.is_none() {
        return Ok(0);
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    f.set_len(scan.good_end)
        .and_then(|()| f.sync_all())
        .map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(scan.len - scan.good_end)
}
